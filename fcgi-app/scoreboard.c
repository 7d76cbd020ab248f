/*
 * scoreboard: an anonymous shared mapping. MAP_SHARED|MAP_ANONYMOUS survives fork() as the same
 * memory in every child, and vanishes with the last process: nothing to clean up after a crash.
 */
#include "scoreboard.h"

#include <sys/mman.h>
#include <time.h>

struct scoreboard *scoreboard_open(void)
{
	struct scoreboard *sb = mmap(NULL, sizeof(*sb), PROT_READ | PROT_WRITE,
	                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (sb == MAP_FAILED)
		return NULL;
	atomic_store(&sb->started_at, (uint64_t)time(NULL));
	return sb;
}

void scoreboard_close(struct scoreboard *sb)
{
	if (sb)
		munmap(sb, sizeof(*sb));
}

uint64_t scoreboard_uptime(const struct scoreboard *sb)
{
	uint64_t now = (uint64_t)time(NULL);
	uint64_t start = atomic_load_explicit(&sb->started_at, memory_order_relaxed);

	return now > start ? now - start : 0;
}
