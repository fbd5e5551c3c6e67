/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conn.c - spfkitd's connections (server_int.h): their input and output
 * buffers, the idle order (the server's conns, least recently active
 * first, so the idle timeout looks at the head only) and the work list
 * of connections whose input is to be looked at this loop turn. Output
 * is written straight away when the socket takes it, without waiting
 * for poll() to say it is writable.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "server_int.h"

conn *conn_new(spfkitd_server *s, conn_kind kind, int rfd, int wfd, int li)
{
	conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->kind = kind;
	c->rfd = rfd;
	c->wfd = wfd;
	c->li = li;
	c->last_active = now_ms();
	spfkit_list_push(&s->conns, &c->lru);
	if (kind != CONN_HTTP)
		s->nclients++;
	if (li >= 0) {
		s->ls[li].n++;
		c->counted = true;
	}
	return c;
}

void conn_done(spfkitd_server *s, conn *c)
{
	if (c->li >= 0)
		s->ls[c->li].stalled = false;
}

/* Takes c out of its listener's count, once. */
static void uncount(spfkitd_server *s, conn *c)
{
	if (c->counted) {
		s->ls[c->li].n--;
		c->counted = false;
		conn_done(s, c);
	}
}

void conn_close_now(spfkitd_server *s, conn *c)
{
	uncount(s, c);
	if (!c->stdio && c->rfd >= 0)
		close(c->rfd);
	c->rfd = c->wfd = -1;
	c->dead = true;
}

void conn_free(spfkitd_server *s, conn *c)
{
	session_drop_checks(c);
	if (c->busy)
		gen_unref(c->g);
	c->g = NULL;
	spfkit_list_remove(&s->conns, &c->lru);
	if (c->kind != CONN_HTTP)
		s->nclients--;
	uncount(s, c);
	if (c->stdio) {
		/* The loop ends with the one connection of stdio mode. */
		s->stop = true;
	} else if (c->rfd >= 0) {
		close(c->rfd);
	}
	free(c->in);
	free(c->out);
	free(c->inst_reply);
	milter_state_free(c->ms);
	free(c);
}

bool buf_resize(char **buf, size_t *cap, size_t ncap)
{
	char *b = realloc(*buf, ncap);
	if (!b)
		return false;
	*buf = b;
	*cap = ncap;
	return true;
}

bool out_add(conn *c, const char *p, size_t n)
{
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_cap - c->out_len < n) {
		if (c->out_off) {
			memmove(c->out, c->out + c->out_off,
				c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		if (c->out_cap - c->out_len < n) {
			size_t ncap = c->out_cap ? c->out_cap : 1024;
			while (ncap - c->out_len < n)
				ncap *= 2;
			if (!buf_resize(&c->out, &c->out_cap, ncap)) {
				c->dead = true;
				return false;
			}
		}
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	return true;
}

void flush_out(conn *c)
{
	while (c->out_off < c->out_len && !c->dead) {
		ssize_t w =
		    write(c->wfd, c->out + c->out_off, c->out_len - c->out_off);
		if (w > 0) {
			c->out_off += (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		} else {
			c->dead = true;
		}
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		if (c->closing)
			c->dead = true;
	}
}

void close_when_sent(conn *c)
{
	c->closing = true;
	if (c->out_off == c->out_len)
		c->dead = true;
}

void conn_input_ended(conn *c, const char *who, const char *unit, bool partial)
{
	if (partial && c->in_len > c->in_off)
		spfkitd_log(LOG_WARNING,
			    "%sconnection closed in the middle of %s (%zu "
			    "bytes dropped)",
			    who, unit, c->in_len - c->in_off);
	c->in_off = c->in_len = 0;
	close_when_sent(c);
}

void work_push(spfkitd_server *s, conn *c)
{
	if (c->queued || c->dead)
		return;
	c->queued = true;
	c->work_next = s->work;
	s->work = c;
}

/* Marks activity: the connection moves to the end of the idle order. */
static void touch(spfkitd_server *s, conn *c, uint64_t now)
{
	c->last_active = now;
	spfkit_list_touch(&s->conns, &c->lru);
}

void read_conn(spfkitd_server *s, conn *c, uint64_t now)
{
	size_t cap = c->kind == CONN_HTTP ? HTTP_MAX : IN_CAP;
	if (c->in_off && c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	if (c->in_off && c->in_len == c->in_cap) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (c->in_len == c->in_cap && c->in_cap < cap) {
		size_t ncap = c->in_cap ? c->in_cap * 4 : 4096;
		if (ncap > cap)
			ncap = cap;
		if (!buf_resize(&c->in, &c->in_cap, ncap)) {
			c->dead = true;
			return;
		}
	}
	if (c->in_len == c->in_cap) {
		/* Full: the framer drops oversized requests, so only an
		 * HTTP request can get here. */
		c->eof = true;
		work_push(s, c);
		return;
	}
	ssize_t r = read(c->rfd, c->in + c->in_len, c->in_cap - c->in_len);
	if (r > 0) {
		c->in_len += (size_t)r;
		touch(s, c, now);
	} else if (r == 0) {
		c->eof = true;
	} else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
		c->eof = true;
		c->dead = true;
	}
	work_push(s, c);
}
