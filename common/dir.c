/*
 * dir: one readdir loop, stopping at the first entry that answers the question.
 */
#include "dir.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>

enum dir_find dir_find(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	size_t len = strlen(prefix);
	struct dirent *e;
	enum dir_find found = DIR_NONE;

	if (!d)
		return errno == ENOENT ? DIR_ABSENT : DIR_UNREADABLE;
	while (found == DIR_NONE && (e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, len) == 0 && strcmp(e->d_name, ".") != 0 &&
		    strcmp(e->d_name, "..") != 0)
			found = DIR_FOUND;
	closedir(d);
	return found;
}
