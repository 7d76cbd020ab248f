/*
 * store_owner: whether this process runs as the owner of a data directory, the check nextid-fcgi,
 * nextidctl, nextid-sequencer and nextid-grpc all make before they touch the store (store.h says
 * why), and the refusal the two programs that only open a store share.
 */
#include "store.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
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

int store_owner_refusal(const char *data_dir, const char *program, char *why, size_t len)
{
	struct store_owner o;
	int rc = store_owner_check(data_dir, &o);

	if (rc == STORE_OWNER_SELF)
		return 0;
	if (rc == STORE_OWNER_NONE)
		snprintf(why, len, "no store at %s: %s; nextid-fcgi creates it, start it first",
		         data_dir, strerror(o.err));
	else
		snprintf(why, len, "the store in %s belongs to %s (uid %u); run %s as that user",
		         data_dir, o.name[0] ? o.name : "another user", o.uid, program);
	return -1;
}
