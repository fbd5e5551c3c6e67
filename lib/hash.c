/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hash.c - the key of the library's keyed hash (internal.h: SipHash-1-3 of
 * names and record texts). The hash tables it serves are keyed by what a
 * sender chooses, so the key must be one an attacker cannot know: it is
 * drawn once per process, on first use, from the kernel's random
 * generator. That is the one place the library asks the system for
 * anything but memory and DNS: getrandom(2) (without blocking), else
 * /dev/urandom, else, on a system with neither, a mix of addresses that
 * differ per process (ASLR) - weaker, but never a fixed key.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/random.h>
#include <unistd.h>

#include "internal.h"

uint64_t spfkit__hash_key_words[2];
atomic_bool spfkit__hash_key_ready;

static pthread_once_t key_once = PTHREAD_ONCE_INIT;

/* Fills buf with n random octets; false when no source gave them. */
static bool random_octets(void *buf, size_t n)
{
	ssize_t k;
	do
		k = getrandom(buf, n, GRND_NONBLOCK);
	while (k < 0 && errno == EINTR);
	if (k == (ssize_t)n)
		return true;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	size_t got = 0;
	while (got < n) {
		k = read(fd, (char *)buf + got, n - got);
		if (k > 0)
			got += (size_t)k;
		else if (k < 0 && errno == EINTR)
			continue;
		else
			break;
	}
	close(fd);
	return got == n;
}

static void draw_key(void)
{
	uint64_t k[2];
	if (!random_octets(k, sizeof k)) {
		/* The addresses of the stack, the code and the data differ
		 * per process under ASLR. */
		uint64_t here = (uint64_t)(uintptr_t)&k;
		k[0] =
		    here * 0x9e3779b97f4a7c15u ^ (uint64_t)(uintptr_t)&draw_key;
		k[1] = (uint64_t)(uintptr_t)&spfkit__hash_key_words *
			   0xc2b2ae3d27d4eb4fu ^
		       (uint64_t)getpid();
	}
	spfkit__hash_key_words[0] = k[0];
	spfkit__hash_key_words[1] = k[1];
	atomic_store_explicit(&spfkit__hash_key_ready, true,
			      memory_order_release);
}

void spfkit__hash_key_init(void)
{
	pthread_once(&key_once, draw_key);
}
