/*
 * log: one JSON object per line on stderr (the web server's error log or the journal), with
 * level, time, pid, the process's role and the source line. Each line leaves in one write(2), so
 * lines from concurrent processes never interleave. Never log a secret.
 *
 * log_setup() runs once at the start of each process (master, and again in each child for its
 * role); the level and role are read-only after that.
 */
#ifndef NEXTID_LOG_H
#define NEXTID_LOG_H

#include <stddef.h>
#include <stdint.h>

/* The one set of levels: config's log_level and the store's messages use it too. */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_setup(int min_level, const char *role);

void log_msg(int level, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* One finished message from a library that logs through a callback (the store's
 * store_options.log has this shape); ctx is unused. */
void log_sink(void *ctx, int level, const char *file, int line, const char *msg);

/* unix_ms as RFC 3339 in UTC with milliseconds, 2026-11-22T01:23:45.678Z: the time of a log
 * line, and of every time the HTTP API answers with. buf of LOG_TIME_MAX bytes. */
#define LOG_TIME_MAX 32
void log_format_time(int64_t unix_ms, char *buf, size_t len);

#define LOG_DEBUG(...) log_msg(LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)
#define LOG_INFO(...) log_msg(LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define LOG_WARN(...) log_msg(LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define LOG_ERROR(...) log_msg(LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)

#endif
