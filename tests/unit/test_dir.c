/*
 * dir: a temporary directory, filled step by step, asked about every prefix the store and
 * nextidctl ask about; a path that is no directory, and one that does not exist.
 */
#include "dir.h"
#include "unit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[] = "/tmp/nextid-test-dir-XXXXXX";

static void touch(const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void remove_file(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", root, name);
	ck_assert_int_eq(unlink(path), 0);
}

START_TEST(test_find)
{
	char file[128], absent[128];

	ck_assert_ptr_nonnull(mkdtemp(root));
	ck_assert_int_eq(dir_find(root, ""), DIR_NONE);
	ck_assert_int_eq(dir_find(root, "log."), DIR_NONE);

	touch("sequences.db");
	ck_assert_int_eq(dir_find(root, ""), DIR_FOUND);
	ck_assert_int_eq(dir_find(root, "log."), DIR_NONE);
	touch("log"); /* not "log." */
	ck_assert_int_eq(dir_find(root, "log."), DIR_NONE);
	touch("log.0000000001");
	ck_assert_int_eq(dir_find(root, "log."), DIR_FOUND);
	ck_assert_int_eq(dir_find(root, "log.0000000002"), DIR_NONE);

	snprintf(file, sizeof(file), "%s/sequences.db", root);
	ck_assert_int_eq(dir_find(file, ""), DIR_UNREADABLE);
	snprintf(absent, sizeof(absent), "%s/nothing", root);
	ck_assert_int_eq(dir_find(absent, ""), DIR_ABSENT);

	remove_file("sequences.db");
	remove_file("log");
	remove_file("log.0000000001");
	ck_assert_int_eq(dir_find(root, ""), DIR_NONE);
	ck_assert_int_eq(rmdir(root), 0);
	ck_assert_int_eq(dir_find(root, ""), DIR_ABSENT);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("dir");
	TCase *tc = tcase_create("dir");

	tcase_add_test(tc, test_find);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
