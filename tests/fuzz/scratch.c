/*
 * scratch: mkdtemp under TMPDIR, and a depth-first nftw that removes without following links.
 */
#include "scratch.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

int scratch_make(char *dir, size_t cap, const char *label)
{
	const char *tmp = getenv("TMPDIR");
	int n = snprintf(dir, cap, "%s/nextid-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", label);

	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void scratch_remove(const char *path)
{
	if (path && path[0])
		nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
