/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * socketmap.c - netstrings of Postfix's socketmap protocol
 * (socketmap.h). Everything arriving is hostile: the length is read
 * digit by digit with a cap before any arithmetic, and the data is only
 * looked at once the whole netstring, its ',' included, is in the buffer.
 */
#include <string.h>

#include "socketmap.h"

spfkitd_sm_status spfkitd_sm_frame(const char *buf, size_t len,
				   spfkitd_view *data, size_t *total)
{
	size_t n = 0, i = 0;
	while (i < len && i <= SPFKITD_SOCKETMAP_DIGITS) {
		unsigned char c = (unsigned char)buf[i];
		if (c == ':')
			break;
		if (c < '0' || c > '9')
			return SPFKITD_SM_BAD;
		/* A netstring's length has no leading zero ("0:," is the
		 * empty one). */
		if (i == 1 && buf[0] == '0')
			return SPFKITD_SM_BAD;
		n = n * 10 + (size_t)(c - '0');
		i++;
	}
	if (i > SPFKITD_SOCKETMAP_DIGITS)
		return SPFKITD_SM_BAD;
	if (i == len)
		return SPFKITD_SM_MORE;
	if (i == 0 || buf[i] != ':' || n > SPFKITD_SOCKETMAP_MAX)
		return SPFKITD_SM_BAD;
	size_t start = i + 1; /* past the ':' */
	if (len - start <= n)
		return SPFKITD_SM_MORE; /* the data and its ',' */
	if (buf[start + n] != ',')
		return SPFKITD_SM_BAD;
	*data = (spfkitd_view){buf + start, n};
	*total = start + n + 1;
	return SPFKITD_SM_REQUEST;
}

bool spfkitd_sm_split(spfkitd_view data, spfkitd_view *name, spfkitd_view *key)
{
	const char *sp = data.len ? memchr(data.ptr, ' ', data.len) : NULL;
	if (!sp)
		return false;
	size_t nn = (size_t)(sp - data.ptr);
	if (nn == 0 || nn + 1 == data.len)
		return false;
	*name = (spfkitd_view){data.ptr, nn};
	*key = (spfkitd_view){sp + 1, data.len - nn - 1};
	return true;
}

size_t spfkitd_sm_reply(char *out, size_t cap, const char *status,
			spfkitd_view value)
{
	size_t sn = strlen(status);
	size_t dn = sn + 1 + value.len; /* "STATUS VALUE" */
	char digits[24];
	size_t nd = 0;
	size_t v = dn;
	do {
		digits[nd++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && nd < sizeof digits);
	size_t total = nd + 1 + dn + 1;
	if (total > cap)
		return total;
	size_t o = 0;
	while (nd)
		out[o++] = digits[--nd];
	out[o++] = ':';
	memcpy(out + o, status, sn);
	o += sn;
	out[o++] = ' ';
	if (value.len)
		memcpy(out + o, value.ptr, value.len);
	o += value.len;
	out[o++] = ',';
	return o;
}
