/*
 * zone: zone names, the per-process cache of parsed zone files, and the offsets and local dates
 * read from it. A name is checked before it becomes a path; a file is read whole (bounded) and
 * parsed by zone_file.c outside the cache's lock, and only the lookup in a parsed zone happens
 * under it.
 */
#include "zone.h"

#include "zone_file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZONEINFO_DIR "/usr/share/zoneinfo/"
#define ZONE_UTC "UTC" /* the default zone, answered without a file */

static int fail(const char **why, const char *sentence)
{
	if (why != NULL)
		*why = sentence;
	return -1;
}

/* ---- names ---- */

static int tz_char_ok(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '+' || c == '-' || c == '/';
}

/* The rules of zone_check that need no file. */
static int tz_name_ok(const char *tz, const char **why)
{
	size_t len = tz == NULL ? 0 : strnlen(tz, ZONE_NAME_MAX + 1);

	if (len == 0)
		return fail(why, "timezone is empty.");
	if (len > ZONE_NAME_MAX)
		return fail(why, "timezone is longer than 47 bytes.");
	for (size_t i = 0; i < len; i++)
		if (!tz_char_ok((unsigned char)tz[i]))
			return fail(why, "timezone may contain only letters, digits, '_', '+', '-' and "
			                 "'/'.");
	/* '.' is already refused, so no part can be ".."; these keep the name a plain relative path. */
	if (tz[0] == '/' || tz[len - 1] == '/' || strstr(tz, "//") != NULL)
		return fail(why, "timezone must not start or end with '/' or contain \"//\".");
	/* Every IANA name starts with a capital; zoneinfo's lowercase entries are not zones to pick:
	 * "localtime" follows whatever the host is set to, "right/" counts leap seconds (local time
	 * 27 s off), "posixrules" and "posix/" are aliases kept for old software. */
	if (!(tz[0] >= 'A' && tz[0] <= 'Z'))
		return fail(why, "timezone is not a known IANA time zone, such as Europe/Berlin or UTC.");
	return 0;
}

/* ---- reading a zone's file ---- */

/* The zone file of a valid name, parsed; NULL when it is missing, odd or no zone. */
static struct zone_file *zone_read(const char *tz)
{
	char path[sizeof(ZONEINFO_DIR) + ZONE_NAME_MAX];
	struct zone_file *z = NULL;
	unsigned char *buf = NULL;
	size_t len = 0;
	struct stat st;
	int fd, n;

	n = snprintf(path, sizeof(path), "%s%s", ZONEINFO_DIR, tz);
	if (n < 0 || (size_t)n >= sizeof(path))
		return NULL;
	/* O_NONBLOCK: nothing odd in the directory (a FIFO) may hang a worker. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > ZONE_FILE_MAX ||
	    (buf = malloc(ZONE_FILE_MAX + 1)) == NULL)
		goto out;
	/* One byte more than allowed, so that a file grown since fstat is refused, not cut. */
	while (len <= ZONE_FILE_MAX) {
		ssize_t got = read(fd, buf + len, ZONE_FILE_MAX + 1 - len);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	if (len <= ZONE_FILE_MAX)
		zone_file_parse(buf, len, &z);
out:
	free(buf);
	close(fd);
	return z;
}

/* ---- the cache ---- */

/*
 * The zones asked about, each read once per process. A worker's threads share them; zone_lock
 * covers the table and every use of a zone in it (a binary search, a few additions), so a zone can
 * be dropped to make room without anyone holding it. Files are read outside the lock. A zone
 * stays until room is needed, so an updated tzdata reaches a worker when the worker is replaced
 * (max_requests, a reload). ZONE_SLOTS is more zones than one store's prefixes are expected to
 * use; beyond it, the zone asked about least recently is dropped (and read again when asked).
 */
#define ZONE_SLOTS 16

static struct {
	char name[ZONE_NAME_MAX + 1];
	struct zone_file *zone; /* NULL: a free slot */
	uint64_t used;          /* zone_uses at the last use: the smallest goes first */
} zone_slots[ZONE_SLOTS];
static uint64_t zone_uses;
static pthread_mutex_t zone_lock = PTHREAD_MUTEX_INITIALIZER;

/* Under zone_lock: the zone named tz, or NULL. */
static struct zone_file *cache_find(const char *tz)
{
	for (int i = 0; i < ZONE_SLOTS; i++)
		if (zone_slots[i].zone != NULL && strcmp(zone_slots[i].name, tz) == 0) {
			zone_slots[i].used = ++zone_uses;
			return zone_slots[i].zone;
		}
	return NULL;
}

/* Under zone_lock: keep z as tz (a valid name), in a free slot or the least recently used one. */
static void cache_add(const char *tz, struct zone_file *z)
{
	int victim = 0;

	for (int i = 0; i < ZONE_SLOTS; i++) {
		if (zone_slots[i].zone == NULL) {
			victim = i;
			break;
		}
		if (zone_slots[i].used < zone_slots[victim].used)
			victim = i;
	}
	zone_file_free(zone_slots[victim].zone);
	memcpy(zone_slots[victim].name, tz, strlen(tz) + 1);
	zone_slots[victim].zone = z;
	zone_slots[victim].used = ++zone_uses;
}

/* The offset at t in the zone of a valid name other than UTC, reading its file when not cached. */
static int cached_offset(const char *tz, int64_t t, int32_t *utoff)
{
	struct zone_file *z, *fresh;
	int rc;

	pthread_mutex_lock(&zone_lock);
	z = cache_find(tz);
	rc = z == NULL ? -1 : zone_file_offset(z, t, utoff);
	pthread_mutex_unlock(&zone_lock);
	if (z != NULL)
		return rc;
	if ((fresh = zone_read(tz)) == NULL)
		return -1;
	pthread_mutex_lock(&zone_lock);
	if ((z = cache_find(tz)) == NULL) { /* else another thread was quicker: keep its copy */
		cache_add(tz, fresh);
		z = fresh;
		fresh = NULL;
	}
	rc = zone_file_offset(z, t, utoff);
	pthread_mutex_unlock(&zone_lock);
	zone_file_free(fresh);
	return rc;
}

int zone_offset(int64_t t, const char *tz, int32_t *utoff)
{
	if (tz_name_ok(tz, NULL) != 0 || t < ZONE_FILE_TIME_MIN || t > ZONE_FILE_TIME_MAX)
		return -1;
	if (strcmp(tz, ZONE_UTC) == 0) {
		*utoff = 0;
		return 0;
	}
	return cached_offset(tz, t, utoff);
}

int zone_check(const char *tz, const char **why)
{
	int32_t ignored;

	if (tz_name_ok(tz, why) != 0)
		return -1;
	/* Read (and kept) through the same path as every later use, so a name accepted here is a
	 * zone that answers. */
	if (zone_offset(0, tz, &ignored) != 0)
		return fail(why, "timezone is not a known IANA time zone, such as Europe/Berlin or UTC.");
	return 0;
}

int zone_local_date(int64_t t, const char *tz, struct calendar_date *out)
{
	int32_t off;

	if (zone_offset(t, tz, &off) != 0)
		return -1;
	return calendar_date_of(calendar_day_of(t + off), out);
}
