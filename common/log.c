/*
 * log: JSON-lines logging through yajl. A message that is not valid UTF-8 (it may quote hostile
 * input) is replaced rather than dropped, so a failure is never silent.
 */
#include "log.h"
#include "clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

/* Set once per process by log_setup(), before it serves anything; read-only afterwards. */
static int log_min_level = LOG_INFO;
static const char *log_role = "master";

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_setup(int min_level, const char *role)
{
	log_min_level = min_level;
	log_role = role;
}

void log_format_time(int64_t unix_ms, char *buf, size_t len)
{
	/* Floor, not truncation: a time before 1970 stays in its own second. */
	time_t s = (time_t)(unix_ms / 1000 - (unix_ms % 1000 < 0));
	int ms = (int)(unix_ms - (int64_t)s * 1000);
	struct tm tm;

	if (!gmtime_r(&s, &tm)) {
		snprintf(buf, len, "(a time out of range)");
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

static int gen_string(yajl_gen g, const char *s)
{
	return yajl_gen_string(g, (const unsigned char *)s, strlen(s)) == yajl_gen_status_ok;
}

static int gen_pair(yajl_gen g, const char *key, const char *value)
{
	return gen_string(g, key) && gen_string(g, value);
}

/* Build the line; 0 on success. The message alone may fail (invalid UTF-8): say so instead. */
static int build_line(yajl_gen g, int level, const char *file, int line, const char *msg)
{
	char when[LOG_TIME_MAX], where[128];
	int ok;

	log_format_time(clock_wall_ms(), when, sizeof(when));
	snprintf(where, sizeof(where), "%s:%d", file, line);
	ok = yajl_gen_map_open(g) == yajl_gen_status_ok && gen_pair(g, "level", level_names[level]) &&
	     gen_pair(g, "time", when) && gen_string(g, "pid") &&
	     yajl_gen_integer(g, getpid()) == yajl_gen_status_ok && gen_pair(g, "role", log_role) &&
	     gen_string(g, "msg");
	if (ok && !gen_string(g, msg))
		ok = gen_string(g, "(message withheld: not valid UTF-8)");
	ok = ok && gen_pair(g, "src", where) && yajl_gen_map_close(g) == yajl_gen_status_ok;
	return ok ? 0 : -1;
}

static void write_all(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, buf, len);

		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void emit(int level, const char *file, int line, const char *msg)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;

	if (!g)
		return;
	yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	if (build_line(g, level, file, line, msg) == 0 &&
	    yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
		char out[4096];

		if (len > sizeof(out) - 1)
			len = sizeof(out) - 1; /* one write stays atomic; a cut line still says enough */
		memcpy(out, buf, len);
		out[len] = '\n';
		write_all(out, len + 1);
	}
	yajl_gen_free(g);
}

void log_msg(int level, const char *file, int line, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (level < log_min_level || level < LOG_DEBUG || level > LOG_ERROR)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(level, file, line, msg);
}

void log_sink(void *ctx, int level, const char *file, int line, const char *msg)
{
	(void)ctx;
	if (level >= log_min_level && level >= LOG_DEBUG && level <= LOG_ERROR)
		emit(level, file, line, msg);
}
