/*
 * unit: what the Check files in tests/unit share. Each file is one module's table of hostile
 * inputs; a table runs as a Check loop test (one forked iteration per row), so one bad row never
 * hides the next, and every assertion names the row's source line and description.
 */
#ifndef NEXTID_UNIT_H
#define NEXTID_UNIT_H

#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNIT_ROWS(table) ((int)(sizeof(table) / sizeof((table)[0])))

/* Add a table-driven test: fn runs once per row, with _i the row's index. */
#define UNIT_TABLE(tc, fn, table) tcase_add_loop_test((tc), (fn), 0, UNIT_ROWS(table))

/*
 * Show len bytes as a C string literal body in buf (always NUL-terminated, shortened with "..."
 * when it does not fit), so that control bytes and UTF-8 in a failure message stay readable.
 */
static inline const char *unit_show(const void *bytes, size_t len, char *buf, size_t cap)
{
	const unsigned char *p = bytes;
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char tmp[8];
		int n;

		if (p[i] >= 0x20 && p[i] < 0x7F && p[i] != '\\' && p[i] != '"')
			n = snprintf(tmp, sizeof(tmp), "%c", p[i]);
		else
			n = snprintf(tmp, sizeof(tmp), "\\x%02x", p[i]);
		if (o + (size_t)n + 4 >= cap) {
			memcpy(buf + o, "...", 4);
			return buf;
		}
		memcpy(buf + o, tmp, (size_t)n);
		o += (size_t)n;
	}
	buf[o] = '\0';
	return buf;
}

/*
 * ck_assert reports every check that passes to the parent process (a write, in fork mode): loops
 * of a hundred thousand checks and more use this instead, which speaks only on failure.
 */
#define UNIT_REQUIRE(expr, ...)                    \
	do {                                       \
		if (!(expr))                       \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

/*
 * A table whose rows are cheap runs in one test rather than as a loop test, since a fork per row
 * costs more than the row under ASan: the test goes through every row, reports each one that
 * fails with unit_failed, and ends with UNIT_FAILURES_NONE, which fails with the first.
 */
struct unit_failures {
	int count;
	char first[512];
};

__attribute__((format(printf, 2, 3))) static inline void unit_failed(struct unit_failures *f,
                                                                     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (f->count++ == 0)
		vsnprintf(f->first, sizeof(f->first), fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

#define UNIT_FAILURES_NONE(f) \
	ck_assert_msg((f)->count == 0, "%d rows failed, the first: %s", (f)->count, (f)->first)

/* A small deterministic generator (xorshift64), so a failure is reproducible from its seed. */
static inline uint64_t unit_random(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/* Run every test of the suite (fork mode follows CK_FORK); the exit status of main. */
static inline int unit_run(Suite *suite)
{
	SRunner *runner = srunner_create(suite);
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
