/*
 * getseq-load: a small load generator for nextid-sequencer, for make bench (tests/bench/run). It
 * opens N connections to 127.0.0.1:PORT, keeps P commands in flight on each (P = 1: one command,
 * then its reply, then the next), runs for D seconds and prints one line:
 *   values=V seconds=S values_per_s=R errors=E p50_us=A p99_us=B
 * where V counts ':' replies received before the deadline (one value each; GETSEQ_BATCH's are
 * not multiplied), E the '-ERR' ones, and the latencies run from a command's send to its reply.
 * One thread and epoll, as the server: a load client in Python measures Python, not the server.
 */
#include "clock.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LATENCY_SLOTS 1000000 /* one per microsecond up to 1 s; slower replies count as 1 s */
#define IN_MAX 65536

struct client {
	int fd;
	uint64_t *sent_us; /* ring of send times of the commands in flight */
	unsigned head, inflight;
	char in[IN_MAX];
	size_t in_len;
};

struct load {
	const char *command;
	size_t command_len;
	unsigned pipeline;
	uint64_t values, errors;
	uint32_t *latency; /* count per microsecond */
	uint64_t latency_n;
};

/* The monotonic clock in µs, unsigned as the send times are. */
static uint64_t now_us(void)
{
	return (uint64_t)clock_monotonic_us();
}

static int usage(void)
{
	fputs("usage: getseq-load --port N [--connections N] [--pipeline N] [--seconds N]\n"
	      "                   [--command TEXT]   (default 64 connections, pipeline 1, 5 s, "
	      "GETSEQ)\n", stderr);
	return 2;
}

/* A positive number argument (this is a test tool: plain digits, no more checking needed). */
static int positive(const char *s, unsigned *out)
{
	unsigned long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 100000000UL)
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v == 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int connect_one(unsigned port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("getseq-load: connect");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Send n commands (blocking: they are small, and the server reads them promptly). */
static int send_commands(struct load *l, struct client *c, unsigned n)
{
	char buf[8192];
	size_t per = l->command_len, len = 0;
	uint64_t t = now_us();

	for (unsigned i = 0; i < n; i++) {
		if (len + per > sizeof(buf)) {
			if (send(c->fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
				return -1;
			len = 0;
		}
		memcpy(buf + len, l->command, per);
		len += per;
		c->sent_us[(c->head + c->inflight) % l->pipeline] = t;
		c->inflight++;
	}
	return len == 0 || send(c->fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* Count the whole reply lines in c->in; returns how many, or -1 when the server closed. */
static int take_replies(struct load *l, struct client *c)
{
	ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
	size_t start = 0;
	uint64_t t = now_us();
	int lines = 0;

	if (n <= 0)
		return n < 0 && errno == EAGAIN ? 0 : -1;
	c->in_len += (size_t)n;
	for (size_t i = 0; i < c->in_len; i++) {
		uint64_t us;

		if (c->in[i] != '\n')
			continue;
		if (c->in[start] == ':')
			l->values++;
		else
			l->errors++;
		us = c->inflight ? t - c->sent_us[c->head] : 0;
		l->latency[us < LATENCY_SLOTS ? us : LATENCY_SLOTS - 1]++;
		l->latency_n++;
		c->head = (c->head + 1) % l->pipeline;
		if (c->inflight)
			c->inflight--;
		start = i + 1;
		lines++;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	return lines;
}

static uint64_t percentile(const struct load *l, double p)
{
	uint64_t want = (uint64_t)(p * (double)l->latency_n), seen = 0;

	for (uint64_t us = 0; us < LATENCY_SLOTS; us++) {
		seen += l->latency[us];
		if (seen > want)
			return us;
	}
	return LATENCY_SLOTS;
}

int main(int argc, char **argv)
{
	unsigned port = 0, conns = 64, seconds = 5;
	struct load l = { .command = "GETSEQ\r\n", .pipeline = 1 };
	char command[256];
	struct client *clients;
	struct epoll_event ev, events[256];
	uint64_t start, end;
	int ep;

	for (int i = 1; i + 1 < argc; i += 2) {
		const char *v = argv[i + 1];
		int bad = 0;

		if (strcmp(argv[i], "--port") == 0)
			bad = positive(v, &port) || port > 65535;
		else if (strcmp(argv[i], "--connections") == 0)
			bad = positive(v, &conns);
		else if (strcmp(argv[i], "--pipeline") == 0)
			bad = positive(v, &l.pipeline);
		else if (strcmp(argv[i], "--seconds") == 0)
			bad = positive(v, &seconds);
		else if (strcmp(argv[i], "--command") == 0 && strlen(v) + 3 <= sizeof(command))
			l.command = strcat(strcpy(command, v), "\r\n");
		else
			bad = 1;
		if (bad)
			return usage();
	}
	if (port == 0 || argc % 2 == 0)
		return usage();
	l.command_len = strlen(l.command);
	l.latency = calloc(LATENCY_SLOTS, sizeof(*l.latency));
	clients = calloc(conns, sizeof(*clients));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!l.latency || !clients || ep < 0) {
		perror("getseq-load");
		return 1;
	}
	for (unsigned i = 0; i < conns; i++) {
		struct client *c = &clients[i];

		c->fd = connect_one(port);
		c->sent_us = calloc(l.pipeline, sizeof(*c->sent_us));
		if (c->fd < 0 || !c->sent_us)
			return 1;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	}
	start = now_us();
	end = start + (uint64_t)seconds * 1000000u;
	for (unsigned i = 0; i < conns; i++)
		if (send_commands(&l, &clients[i], l.pipeline) != 0) {
			perror("getseq-load: send");
			return 1;
		}
	for (uint64_t t = start; t < end; t = now_us()) {
		int n = epoll_wait(ep, events, 256, (int)((end - t) / 1000) + 1);

		for (int i = 0; i < n && now_us() < end; i++) {
			struct client *c = events[i].data.ptr;
			int got = take_replies(&l, c);

			if (got < 0) {
				fprintf(stderr, "getseq-load: the server closed a connection\n");
				return 1;
			}
			if (got > 0 && send_commands(&l, c, (unsigned)got) != 0) {
				perror("getseq-load: send");
				return 1;
			}
		}
	}
	printf("values=%llu seconds=%.3f values_per_s=%.0f errors=%llu p50_us=%llu p99_us=%llu\n",
	       (unsigned long long)l.values, (double)(now_us() - start) / 1e6,
	       (double)l.values * 1e6 / (double)(now_us() - start), (unsigned long long)l.errors,
	       (unsigned long long)percentile(&l, 0.50), (unsigned long long)percentile(&l, 0.99));
	for (unsigned i = 0; i < conns; i++) {
		close(clients[i].fd);
		free(clients[i].sent_us);
	}
	free(clients);
	free(l.latency);
	close(ep);
	return 0;
}
