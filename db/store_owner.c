/*
 * store_owner: whether this process runs as the owner of a data directory, the check nextid-fcgi,
 * nextidctl and nextid-sequencer all make before they touch the store (store.h says why). Each
 * words its own refusal; this file only looks.
 */
#include "store.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int store_owner_check(const char *data_dir, struct store_owner *out)
{
	struct stat sb;
	struct passwd *pw;

	*out = (struct store_owner){ 0 };
	if (stat(data_dir, &sb) != 0) {
		out->err = errno;
		return STORE_OWNER_NONE;
	}
	out->uid = (unsigned)sb.st_uid;
	if (sb.st_uid == geteuid())
		return STORE_OWNER_SELF;
	pw = getpwuid(sb.st_uid);
	if (pw)
		snprintf(out->name, sizeof(out->name), "%s", pw->pw_name);
	return STORE_OWNER_OTHER;
}
