/*
 * server: the epoll loop, connections and the group commit. Each turn of the loop reads what
 * arrived, answers the commands in rounds (a round takes every pending GETSEQ in one
 * counter_take), writes the replies, closes idle connections, and accepts new ones last. What a
 * line means and how a reply reads is proto.c's business; where the values come from is
 * counter.c's.
 *
 * Epoll is level-triggered and a connection's memory is freed only at the end of a turn, after
 * the events of that turn can no longer point at it.
 */
#include "server.h"
#include "clock.h"
#include "counter.h"
#include "log.h"
#include "proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LISTEN_BACKLOG 1024
#define IN_INITIAL 4096            /* a connection's input buffer grows to PROTO_BUFFER_MIN */
#define OUT_HIGH (256 * 1024)      /* unsent reply bytes above which a connection is not read */
#define GROUP_MAX 4096             /* take commands in one group commit */
#define ROUNDS_PER_TURN 16         /* group commits before the loop looks at epoll again */
#define ACCEPT_PER_TURN 64
#define MAX_EVENTS 256
#define TICK_MS 200                /* how often idle connections and the store are checked */
#define LINGER_MS 2000             /* reading what a refused client still sends, see conn_flush */
#define REJECT_LOG_MS 10000        /* "refused N connections" at most this often */
#define FDS_BESIDES_CONNECTIONS 64 /* listener, epoll, signals, spare, store files, logs */

enum conn_state {
	CONN_OPEN,    /* reading and answering */
	CONN_CLOSING, /* a last reply is queued (line too long): flush it, then linger */
	CONN_LINGER,  /* write side shut: discard input until EOF or LINGER_MS */
	CONN_DEAD,    /* closed; freed at the end of the turn */
};

struct conn {
	int fd;
	int state;        /* enum conn_state */
	int eof;          /* no more input: the peer shut its side, or the server is stopping */
	unsigned pending; /* take commands of this connection in the group being collected */
	int in_ready, in_dirty;
	uint32_t events;  /* the epoll interest registered */
	int64_t active_ms, linger_until_ms;
	char *in;         /* in[in_off..in_len): received, not yet answered */
	size_t in_len, in_off, in_cap;
	char *out;        /* out[out_off..out_len): replies not yet sent */
	size_t out_len, out_off, out_cap;
	struct conn *prev, *next, *ready_next, *dirty_next;
	char peer[INET6_ADDRSTRLEN + 8];
};

struct group_item {
	struct conn *c;
	uint64_t count;
};

struct server {
	struct server_options opt;
	struct counter *counter;
	int listen_fd, epoll_fd, signal_fd, spare_fd;
	struct conn *conns, *dead;
	unsigned nconns;
	struct conn *ready_head, *ready_tail; /* connections with lines to answer, in order */
	struct conn *dirty;                   /* connections with replies to send or to settle */
	struct group_item group[GROUP_MAX];
	size_t group_n;
	uint64_t group_total;
	int stopping;
	int64_t stop_deadline_ms, next_tick_ms, reject_logged_ms;
	unsigned long long rejected;
};

static void signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

int server_block_signals(void)
{
	sigset_t set;

	signal_set(&set);
	/* A client that goes away while we write must cost an EPIPE, not the process. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || sigprocmask(SIG_BLOCK, &set, NULL) != 0) {
		LOG_ERROR("cannot set up signals: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- connections ---- */

static size_t out_pending(const struct conn *c)
{
	return c->out_len - c->out_off;
}

static void ready_add(struct server *s, struct conn *c)
{
	if (c->in_ready || c->state == CONN_DEAD)
		return;
	c->in_ready = 1;
	c->ready_next = NULL;
	if (s->ready_tail)
		s->ready_tail->ready_next = c;
	else
		s->ready_head = c;
	s->ready_tail = c;
}

static void dirty_add(struct server *s, struct conn *c)
{
	if (c->in_dirty || c->state == CONN_DEAD)
		return;
	c->in_dirty = 1;
	c->dirty_next = s->dirty;
	s->dirty = c;
}

/* Register the epoll interest the connection's state calls for. */
static void conn_interest(struct server *s, struct conn *c)
{
	uint32_t want = 0;
	struct epoll_event ev;

	if ((c->state == CONN_OPEN && !c->eof && out_pending(c) < OUT_HIGH) ||
	    c->state == CONN_LINGER)
		want |= EPOLLIN;
	if (out_pending(c) > 0)
		want |= EPOLLOUT;
	if (want == c->events)
		return;
	ev.events = want;
	ev.data.ptr = c;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = want;
	else
		LOG_ERROR("epoll_ctl(%s): %s", c->peer, strerror(errno));
}

/* Close now; the memory goes at the end of the turn (events of this turn may still name it). */
static void conn_close(struct server *s, struct conn *c, const char *why)
{
	if (c->state == CONN_DEAD)
		return;
	LOG_DEBUG("connection from %s closed: %s", c->peer, why);
	epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->state = CONN_DEAD;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = s->dead;
	c->prev = NULL;
	s->dead = c;
	s->nconns--;
}

/* Queue a reply. Memory runs out only under attack or a bug: the connection pays, not the rest. */
static void conn_reply(struct server *s, struct conn *c, const char *bytes, size_t len)
{
	if (c->state == CONN_DEAD)
		return;
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 256;
		char *out;

		if (c->out_off > 0) { /* sent bytes first make room */
			memmove(c->out, c->out + c->out_off, out_pending(c));
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		while (cap < c->out_len + len)
			cap *= 2;
		out = cap == c->out_cap ? c->out : realloc(c->out, cap);
		if (!out) {
			LOG_ERROR("out of memory for replies to %s", c->peer);
			conn_close(s, c, "out of memory");
			return;
		}
		c->out = out;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, bytes, len);
	c->out_len += len;
	dirty_add(s, c);
}

static void describe_peer(const struct sockaddr_storage *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	} else if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	}
	snprintf(buf, len, "%s:%u", host, port);
}

static void conn_new(struct server *s, int fd, const struct sockaddr_storage *sa)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct epoll_event ev = { .events = EPOLLIN };
	int one = 1;

	if (!c) {
		LOG_ERROR("out of memory for a connection");
		close(fd);
		return;
	}
	c->fd = fd;
	c->active_ms = clock_monotonic_ms();
	describe_peer(sa, c->peer, sizeof(c->peer));
	/* Replies are small and answer a request: Nagle would only hold them back. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ev.data.ptr = c;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		LOG_ERROR("epoll_ctl(%s): %s", c->peer, strerror(errno));
		close(fd);
		free(c);
		return;
	}
	c->events = EPOLLIN;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	LOG_DEBUG("connection from %s (%u open)", c->peer, s->nconns);
}

/* Over the limit: say why, then close. Shutting our side first sends the reply and a FIN ahead
 * of the close, so the client reads the reason rather than a reset. */
static void reject(struct server *s, int fd)
{
	int64_t now = clock_monotonic_ms();

	(void)!send(fd, PROTO_TOO_MANY, sizeof(PROTO_TOO_MANY) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(fd, SHUT_WR);
	close(fd);
	s->rejected++;
	if (now - s->reject_logged_ms >= REJECT_LOG_MS || s->reject_logged_ms == 0) {
		LOG_WARN("refused %llu connection(s) so far: %u are open, --max-connections=%u",
		         s->rejected, s->nconns, s->opt.max_connections);
		s->reject_logged_ms = now;
	}
}

static void on_accept(struct server *s)
{
	for (int i = 0; i < ACCEPT_PER_TURN && s->listen_fd >= 0; i++) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);
		int fd = accept4(s->listen_fd, (struct sockaddr *)&sa, &len,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0 && (errno == EMFILE || errno == ENFILE) && s->spare_fd >= 0) {
			/* Out of descriptors: the spare one lets us tell the client, not leave it hanging
			 * in the backlog (and the loop spinning on a listener that stays readable). */
			close(s->spare_fd);
			fd = accept4(s->listen_fd, (struct sockaddr *)&sa, &len, SOCK_CLOEXEC);
			if (fd >= 0)
				reject(s, fd);
			s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			LOG_WARN("out of file descriptors with %u connections open", s->nconns);
			continue;
		}
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				LOG_ERROR("accept: %s", strerror(errno));
			return;
		}
		if (s->nconns >= s->opt.max_connections)
			reject(s, fd);
		else
			conn_new(s, fd, &sa);
	}
}

/* Make room for at least one more byte of input; 0 when the buffer is full. */
static size_t in_room(struct server *s, struct conn *c)
{
	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (c->in_len == c->in_cap && c->in_cap < PROTO_BUFFER_MIN) {
		size_t cap = c->in_cap ? c->in_cap * 2 : IN_INITIAL;
		char *in;

		if (cap > PROTO_BUFFER_MIN)
			cap = PROTO_BUFFER_MIN;
		in = realloc(c->in, cap);
		if (!in) {
			LOG_ERROR("out of memory for input from %s", c->peer);
			conn_close(s, c, "out of memory");
			return 0;
		}
		c->in = in;
		c->in_cap = cap;
	}
	return c->in_cap - c->in_len;
}

/* One read: a full buffer is answered (or refused as too long) before more is read. Returns
 * the bytes read: 0 at the end of input, with no room, or when nothing was there. */
static size_t conn_read(struct server *s, struct conn *c)
{
	size_t room = in_room(s, c);
	ssize_t n;

	if (room == 0)
		return 0;
	n = recv(c->fd, c->in + c->in_len, room, 0);
	if (n > 0) {
		c->in_len += (size_t)n;
		c->active_ms = clock_monotonic_ms();
		ready_add(s, c);
	} else if (n == 0) {
		/* The client sent all it will (echo GETSEQ | nc): answer it, then close. */
		c->eof = 1;
		ready_add(s, c);
		dirty_add(s, c);
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		conn_close(s, c, strerror(errno));
	}
	return n > 0 ? (size_t)n : 0;
}

static void conn_discard(struct server *s, struct conn *c)
{
	char sink[4096];

	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(c->fd, sink, sizeof(sink), 0);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			conn_close(s, c, "closed after the last reply");
			return;
		}
		if (n < 0)
			return;
	}
}

static void on_conn_event(struct server *s, struct conn *c, uint32_t events)
{
	if (c->state == CONN_DEAD)
		return;
	if (events & EPOLLERR) {
		conn_close(s, c, "socket error");
		return;
	}
	if (c->state == CONN_LINGER && (events & (EPOLLIN | EPOLLHUP))) {
		conn_discard(s, c);
		return;
	}
	if ((events & (EPOLLIN | EPOLLHUP)) && c->state == CONN_OPEN && !c->eof)
		conn_read(s, c);
	else if (events & EPOLLHUP)
		conn_close(s, c, "hung up");
	if (c->state != CONN_DEAD && (events & EPOLLOUT))
		dirty_add(s, c);
}

/* ---- answering: rounds of group commits ---- */

static void reply_value(struct server *s, struct conn *c, int64_t value)
{
	char buf[PROTO_REPLY_MAX];

	conn_reply(s, c, buf, proto_format_value(value, buf));
}

static void reply_store_error(struct server *s, struct conn *c, int rc, uint64_t count)
{
	char buf[PROTO_REPLY_MAX];
	size_t len;
	const char *name = counter_name(s->counter, &len);

	conn_reply(s, c, buf, proto_format_store_error(rc, name, len, count, buf));
}

static void answer_current(struct server *s, struct conn *c)
{
	int64_t next;
	int rc = counter_peek(s->counter, &next);

	if (rc == STORE_OK)
		reply_value(s, c, next);
	else
		reply_store_error(s, c, rc, 1);
}

/*
 * Answer c's lines in order until one needs the group's result: takes join the group; any other
 * command waits while c has takes in the group, so that replies keep the order of the commands
 * (CURRENT after GETSEQ sees that GETSEQ's value gone). Returns 1 when c has more to answer after
 * this round, 0 when it waits for input (or for its replies to drain, see OUT_HIGH).
 */
static int conn_collect(struct server *s, struct conn *c)
{
	for (;;) {
		size_t avail = c->in_len - c->in_off, line_len = 0, used = 0;
		const char *line = c->in + c->in_off;
		struct proto_cmd cmd;
		int split;

		if (c->state != CONN_OPEN || out_pending(c) >= OUT_HIGH)
			return 0;
		split = proto_split(line, avail, &line_len, &used);
		if (split == PROTO_PARTIAL) {
			if (c->eof) {
				c->in_off = c->in_len; /* half a line and no more to come: dropped */
				dirty_add(s, c);       /* to be closed once its replies are sent */
			}
			return 0;
		}
		if (split == PROTO_TOO_LONG) {
			if (c->pending)
				return 1;
			LOG_INFO("a line of more than %d bytes from %s: answered and closed",
			         PROTO_LINE_MAX, c->peer);
			conn_reply(s, c, PROTO_LINE_TOO_LONG, sizeof(PROTO_LINE_TOO_LONG) - 1);
			c->in_off = c->in_len;
			c->state = CONN_CLOSING;
			dirty_add(s, c);
			return 0;
		}
		proto_parse(line, line_len, &cmd);
		if (cmd.kind == PROTO_GETSEQ || cmd.kind == PROTO_BATCH) {
			if (s->group_n == GROUP_MAX)
				return 1;
			s->group[s->group_n++] = (struct group_item){ c, cmd.count };
			s->group_total += cmd.count;
			c->pending++;
			c->in_off += used;
			continue;
		}
		if (c->pending)
			return 1;
		c->in_off += used;
		if (cmd.kind == PROTO_CURRENT)
			answer_current(s, c);
		else
			conn_reply(s, c, cmd.reply, cmd.reply_len);
	}
}

/* One pass over the ready connections; those with more to answer stay ready, in order. */
static void collect(struct server *s)
{
	struct conn *c = s->ready_head;

	s->ready_head = s->ready_tail = NULL;
	while (c) {
		struct conn *next = c->ready_next;

		c->in_ready = 0;
		c->ready_next = NULL;
		if (c->state != CONN_DEAD && conn_collect(s, c))
			ready_add(s, c);
		c = next;
	}
}

/*
 * Take the group's values in one transaction and deal them out in the order the commands were
 * collected. A group that would run past the sequence's end is taken again one command at a
 * time, so that near the maximum each command gets exactly what it would have got alone.
 */
static void deal(struct server *s)
{
	struct store_grant grant;
	uint64_t offset = 0;
	int rc = counter_take(s->counter, s->group_total, &grant);

	for (size_t i = 0; i < s->group_n; i++) {
		struct group_item *g = &s->group[i];

		if (rc == STORE_EXHAUSTED && s->group_n > 1) {
			struct store_grant one;
			int one_rc = counter_take(s->counter, g->count, &one);

			if (one_rc == STORE_OK)
				reply_value(s, g->c, one.first);
			else
				reply_store_error(s, g->c, one_rc, g->count);
		} else if (rc == STORE_OK) {
			/* Every value lies between first and last, so this cannot overflow. */
			reply_value(s, g->c, grant.first + (int64_t)offset * grant.increment);
			offset += g->count;
		} else {
			reply_store_error(s, g->c, rc, g->count);
		}
		g->c->pending = 0;
	}
	s->group_n = 0;
	s->group_total = 0;
}

static void serve(struct server *s)
{
	for (int round = 0; round < ROUNDS_PER_TURN && s->ready_head; round++) {
		collect(s);
		if (s->group_n == 0)
			break; /* nothing waits for the store, so nothing is left ready either */
		deal(s);
	}
}

/* ---- writing, closing, time ---- */

/*
 * Send what is queued and move the connection on: a closing one shuts its side once its last
 * reply left, then lingers reading until the client closes too (closing with unread input would
 * send a reset, which can destroy the reply before the client reads it); one whose input ended
 * is closed once everything is answered; one that was too far behind is read again.
 */
static void conn_flush(struct server *s, struct conn *c)
{
	while (out_pending(c) > 0) {
		ssize_t n = send(c->fd, c->out + c->out_off, out_pending(c), MSG_NOSIGNAL);

		if (n > 0) {
			c->out_off += (size_t)n;
			c->active_ms = clock_monotonic_ms();
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else {
			conn_close(s, c, n < 0 ? strerror(errno) : "send returned 0");
			return;
		}
	}
	if (out_pending(c) == 0)
		c->out_off = c->out_len = 0;
	if (c->state == CONN_CLOSING && out_pending(c) == 0) {
		shutdown(c->fd, SHUT_WR);
		c->state = CONN_LINGER;
		c->linger_until_ms = clock_monotonic_ms() + LINGER_MS;
	}
	/* Lines left unanswered while too far behind are answered now (a partial line left at the
	 * end of input was dropped by conn_collect, so it does not count). */
	if (c->state == CONN_OPEN && out_pending(c) < OUT_HIGH && c->in_len > c->in_off)
		ready_add(s, c);
	if (c->state == CONN_OPEN && c->eof && out_pending(c) == 0 && !c->in_ready &&
	    c->pending == 0) {
		conn_close(s, c, "the client finished");
		return;
	}
	conn_interest(s, c);
}

static void flush_all(struct server *s)
{
	struct conn *c = s->dirty;

	s->dirty = NULL;
	while (c) {
		struct conn *next = c->dirty_next;

		c->in_dirty = 0;
		c->dirty_next = NULL;
		if (c->state != CONN_DEAD)
			conn_flush(s, c);
		c = next;
	}
}

static void tick(struct server *s, int64_t now)
{
	int64_t idle_ms = (int64_t)s->opt.idle_timeout_s * 1000;
	struct conn *c = s->conns;

	while (c) {
		struct conn *next = c->next;

		if (c->state == CONN_LINGER && now >= c->linger_until_ms)
			conn_close(s, c, "lingered long enough");
		else if (c->state != CONN_LINGER && idle_ms > 0 && now - c->active_ms >= idle_ms)
			conn_close(s, c, "idle timeout");
		c = next;
	}
	counter_check(s->counter);
	s->next_tick_ms = now + TICK_MS;
}

/* Free the connections closed during this turn, once no list names them any more. */
static void bury(struct server *s)
{
	struct conn **link = &s->ready_head;

	s->ready_tail = NULL;
	while (*link) {
		if ((*link)->state == CONN_DEAD) {
			*link = (*link)->ready_next;
		} else {
			s->ready_tail = *link;
			link = &(*link)->ready_next;
		}
	}
	while (s->dead) {
		struct conn *c = s->dead;

		s->dead = c->next;
		free(c->in);
		free(c->out);
		free(c);
	}
}

/* ---- signals and stopping ---- */

/* Stop accepting; answer what each connection has sent so far (as much as its buffer holds),
 * nothing more. */
static void begin_stop(struct server *s, int sig)
{
	int64_t now = clock_monotonic_ms();

	if (s->stopping) {
		LOG_WARN("%s again: closing every connection now", strsignal(sig));
		s->stop_deadline_ms = now;
		return;
	}
	LOG_INFO("%s: stopping; answering what %u connection(s) sent, for up to %u s",
	         strsignal(sig), s->nconns, s->opt.shutdown_timeout_s);
	s->stopping = 1;
	s->stop_deadline_ms = now + (int64_t)s->opt.shutdown_timeout_s * 1000;
	epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, s->listen_fd, NULL);
	close(s->listen_fd);
	s->listen_fd = -1;
	for (struct conn *c = s->conns, *next; c; c = next) {
		next = c->next; /* conn_read may close c, which moves it to the dead list */
		while (c->state == CONN_OPEN && !c->eof && conn_read(s, c) > 0)
			continue;
		if (c->state == CONN_OPEN)
			c->eof = 1;
		ready_add(s, c);
		dirty_add(s, c);
	}
}

static void on_signal(struct server *s)
{
	struct signalfd_siginfo si;

	while (read(s->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			LOG_INFO("SIGHUP ignored: nextid-sequencer has nothing to reload; restart it to "
			         "change its options");
		else
			begin_stop(s, (int)si.ssi_signo);
	}
}

/* ---- the loop ---- */

static int loop_timeout(const struct server *s, int64_t now)
{
	int64_t wait;

	if (s->ready_head)
		return 0;
	wait = s->next_tick_ms - now; /* even with no connection: counter_check's turn */
	if (s->stopping && s->stop_deadline_ms - now < wait)
		wait = s->stop_deadline_ms - now;
	return wait < 0 ? 0 : (int)wait;
}

int server_run(struct server *s)
{
	struct epoll_event events[MAX_EVENTS];

	for (;;) {
		int64_t now = clock_monotonic_ms();
		int n, acceptable = 0;

		if (s->stopping && (s->nconns == 0 || now >= s->stop_deadline_ms))
			break;
		n = epoll_wait(s->epoll_fd, events, MAX_EVENTS, loop_timeout(s, now));
		if (n < 0 && errno != EINTR) {
			LOG_ERROR("epoll_wait: %s", strerror(errno));
			return -1;
		}
		for (int i = 0; i < n; i++) {
			void *p = events[i].data.ptr;

			if (p == &s->listen_fd)
				acceptable = 1;
			else if (p == &s->signal_fd)
				on_signal(s);
			else
				on_conn_event(s, p, events[i].events);
		}
		serve(s);
		flush_all(s);
		now = clock_monotonic_ms();
		if (now >= s->next_tick_ms)
			tick(s, now);
		bury(s);
		/* Accept only once this turn's closes are counted: a client that closes and connects
		 * again at once has its end of input and its new connection in the same turn, and its
		 * old connection is closed only when flush_all finds everything answered. Accepted
		 * first, the new one met the old one's place still taken under --max-connections
		 * (measured: about every other such reconnect refused with --max-connections=1). */
		if (acceptable)
			on_accept(s);
	}
	if (s->nconns > 0)
		LOG_WARN("closing %u connection(s) that were not done after %u s", s->nconns,
		         s->opt.shutdown_timeout_s);
	while (s->conns)
		conn_close(s, s->conns, "stopping");
	bury(s);
	return 0;
}

/* ---- setting up ---- */

/* Enough descriptors for max_connections, or a clear refusal to start. */
static int fd_limit(unsigned max_connections)
{
	rlim_t need = (rlim_t)max_connections + FDS_BESIDES_CONNECTIONS;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		LOG_ERROR("getrlimit: %s", strerror(errno));
		return -1;
	}
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		LOG_ERROR("--max-connections=%u needs %llu open files, the hard limit is %llu: lower "
		          "it, or raise the limit (LimitNOFILE= in the unit, ulimit -Hn)",
		          max_connections, (unsigned long long)need,
		          (unsigned long long)rl.rlim_max);
		return -1;
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		LOG_ERROR("setrlimit(%llu open files): %s", (unsigned long long)need, strerror(errno));
		return -1;
	}
	return 0;
}

static int listen_on(const struct server_options *opt)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		                  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	struct sockaddr_storage bound;
	socklen_t len = sizeof(bound);
	char port[16], where[INET6_ADDRSTRLEN + 8];
	int fd = -1, one = 1, err;

	snprintf(port, sizeof(port), "%u", opt->port);
	err = getaddrinfo(opt->host, port, &hints, &res);
	if (err != 0) {
		LOG_ERROR("--host '%s': %s", opt->host, gai_strerror(err));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	            res->ai_protocol);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0 ||
	    getsockname(fd, (struct sockaddr *)&bound, &len) != 0) {
		LOG_ERROR("cannot listen on %s port %s: %s", opt->host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	describe_peer(&bound, where, sizeof(where));
	LOG_INFO("listening on %s", where);
	return fd;
}

static int add_to_epoll(int epoll_fd, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0)
		return 0;
	LOG_ERROR("epoll_ctl: %s", strerror(errno));
	return -1;
}

int server_open(const struct server_options *opt, struct counter *counter, struct server **out)
{
	struct server *s = calloc(1, sizeof(*s));
	sigset_t set;

	*out = NULL;
	if (!s) {
		LOG_ERROR("out of memory");
		return -1;
	}
	s->opt = *opt;
	s->counter = counter;
	s->listen_fd = s->epoll_fd = s->signal_fd = s->spare_fd = -1;
	signal_set(&set);
	if (fd_limit(opt->max_connections) != 0)
		goto fail;
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	s->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (s->epoll_fd < 0 || s->signal_fd < 0 || s->spare_fd < 0) {
		LOG_ERROR("cannot set up the event loop: %s", strerror(errno));
		goto fail;
	}
	s->listen_fd = listen_on(opt);
	if (s->listen_fd < 0 || add_to_epoll(s->epoll_fd, s->listen_fd, &s->listen_fd) != 0 ||
	    add_to_epoll(s->epoll_fd, s->signal_fd, &s->signal_fd) != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	server_close(s);
	return -1;
}

void server_close(struct server *s)
{
	if (!s)
		return;
	while (s->conns)
		conn_close(s, s->conns, "closing");
	bury(s);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->signal_fd >= 0)
		close(s->signal_fd);
	if (s->spare_fd >= 0)
		close(s->spare_fd);
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
	free(s);
}
