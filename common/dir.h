/*
 * dir: what a directory holds, for the checks that look before they write: the store's start
 * (does data_dir hold logs?) and a backup's target (is it new or empty?), which the store and
 * nextidctl both make. Any process may use it.
 */
#ifndef NEXTID_DIR_H
#define NEXTID_DIR_H

enum dir_find {
	DIR_FOUND,      /* an entry whose name starts with the prefix */
	DIR_NONE,       /* no such entry */
	DIR_ABSENT,     /* no such directory */
	DIR_UNREADABLE, /* it cannot be opened for another reason (not a directory, no access) */
};

/* Does directory dir hold an entry whose name starts with prefix ("": any entry but "." and "..")? */
enum dir_find dir_find(const char *dir, const char *prefix);

#endif
