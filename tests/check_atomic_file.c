/* Tests of atomic outputs: nothing at the target until commit, nothing
 * left behind on abort, no replacing without force. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "rustyaudio/atomic_file.h"
#include "testutil.h"

static char *read_text(const char *path)
{
	static char buf[64];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

START_TEST(test_commit_and_abort)
{
	char *dir = ra_test_mkdtemp(), *path = ra_test_path(dir, "out.txt");
	ra_atomic_file f;
	ra_diag diag;

	ck_assert_int_eq(ra_atomic_open(&f, path, 0, &diag), RA_OK);
	ck_assert_int_eq(write(f.fd, "hello", 5), 5);
	/* Only the temporary file exists, hidden, beside the target. */
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(ra_test_dir_entries(dir), 1);
	ck_assert_int_eq(f.tmp_path[strlen(dir) + 1], '.');
	ck_assert_int_eq(ra_atomic_commit(&f, &diag), RA_OK);
	ck_assert_str_eq(read_text(path), "hello");
	ck_assert_int_eq(ra_test_dir_entries(dir), 1);

	/* Abort leaves the old file as it was and no temporary file. */
	ck_assert_int_eq(ra_atomic_open(&f, path, 1, &diag), RA_OK);
	ck_assert_int_eq(write(f.fd, "other", 5), 5);
	ra_atomic_abort(&f);
	ck_assert_str_eq(read_text(path), "hello");
	ck_assert_int_eq(ra_test_dir_entries(dir), 1);

	/* With force, commit replaces it. */
	ck_assert_int_eq(ra_atomic_open(&f, path, 1, &diag), RA_OK);
	ck_assert_int_eq(write(f.fd, "new", 3), 3);
	ck_assert_int_eq(ra_atomic_commit(&f, &diag), RA_OK);
	ck_assert_str_eq(read_text(path), "new");
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

START_TEST(test_refusals)
{
	char *dir = ra_test_mkdtemp(), *path = ra_test_path(dir, "out.txt");
	char *missing = ra_test_path(dir, "no/such/folder.txt");
	char *side = ra_test_path(dir, "side.txt");
	ra_atomic_file f;
	ra_diag diag = { { 0 } };
	FILE *existing = fopen(path, "w");

	fputs("keep", existing);
	fclose(existing);
	ck_assert_int_eq(ra_atomic_open(&f, path, 0, &diag), RA_ERR_EXISTS);
	ck_assert_ptr_nonnull(strstr(diag.text, "--force"));
	ck_assert_int_eq(ra_atomic_open(&f, dir, 1, &diag), RA_ERR_OPEN);
	ck_assert_ptr_nonnull(strstr(diag.text, "Is a directory"));
	ck_assert_int_eq(ra_atomic_open(&f, missing, 0, &diag), RA_ERR_OPEN);
	ck_assert_ptr_nonnull(strstr(diag.text, "No such file"));

	/* A file that appears at the target while writing is not replaced. */
	unlink(path);
	ck_assert_int_eq(ra_atomic_open(&f, path, 0, &diag), RA_OK);
	existing = fopen(path, "w");
	fputs("raced", existing);
	fclose(existing);
	ck_assert_int_eq(ra_atomic_commit(&f, &diag), RA_ERR_EXISTS);
	ck_assert_str_eq(read_text(path), "raced");
	ck_assert_int_eq(ra_test_dir_entries(dir), 1);

	/* Even with force: only the file that was there at open is replaced,
	 * never one that took its place (another output of the same run), nor
	 * one that appeared where there was none. */
	ck_assert_int_eq(ra_atomic_open(&f, path, 1, &diag), RA_OK);
	existing = fopen(side, "w");
	fputs("other", existing);
	fclose(existing);
	ck_assert_int_eq(rename(side, path), 0);
	ck_assert_int_eq(ra_atomic_commit(&f, &diag), RA_ERR_EXISTS);
	ck_assert_ptr_nonnull(strstr(diag.text, "appeared"));
	ck_assert_str_eq(read_text(path), "other");
	unlink(path);
	ck_assert_int_eq(ra_atomic_open(&f, path, 1, &diag), RA_OK);
	existing = fopen(path, "w");
	fputs("newer", existing);
	fclose(existing);
	ck_assert_int_eq(ra_atomic_commit(&f, &diag), RA_ERR_EXISTS);
	ck_assert_str_eq(read_text(path), "newer");
	ck_assert_int_eq(ra_test_dir_entries(dir), 1);
	free(path);
	free(missing);
	free(side);
	ra_test_rmtree(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("atomic_file");
	TCase *tc = tcase_create("behaviour");

	tcase_add_test(tc, test_commit_and_abort);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, test_refusals);
	suite_add_tcase(s, tc);
	return ra_test_main(s);
}
