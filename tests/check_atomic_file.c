/* Tests of atomic outputs: nothing at the target until commit, nothing
 * left behind on abort, no replacing without force. */
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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
	ck_assert_int_eq(f.tmp_name[0], '.');
	/* Recognisable as this tool's after a crash. */
	ck_assert_int_eq(fnmatch(RA_ATOMIC_TEMP_GLOB, f.tmp_name, FNM_PERIOD), 0);
	ck_assert_ptr_nonnull(strstr(f.tmp_name, ".out.txt.rusty-audio-"));
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
	ck_assert_ptr_nonnull(strstr(diag.text, " exists"));
	ck_assert_ptr_null(strstr(diag.text, "--")); /* no option: the CLI advises */
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
	ck_assert_int_eq(ra_atomic_commit(&f, &diag), RA_ERR_REPLACED);
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
	ck_assert_int_eq(ra_atomic_commit(&f, &diag), RA_ERR_REPLACED);
	ck_assert_ptr_nonnull(strstr(diag.text, "appeared"));
	ck_assert_str_eq(read_text(path), "other");
	unlink(path);
	ck_assert_int_eq(ra_atomic_open(&f, path, 1, &diag), RA_OK);
	existing = fopen(path, "w");
	fputs("newer", existing);
	fclose(existing);
	ck_assert_int_eq(ra_atomic_commit(&f, &diag), RA_ERR_REPLACED);
	ck_assert_str_eq(read_text(path), "newer");
	ck_assert_int_eq(ra_test_dir_entries(dir), 1);
	free(path);
	free(missing);
	free(side);
	ra_test_rmtree(dir);
}
END_TEST

/* The temporary file lives by its folder, not by its path: a folder
 * renamed during the run loses it on abort and gets the file on commit. */
/* Aborting a zeroed file closes nothing: its descriptors read 0, which
 * is standard input. */
START_TEST(test_abort_zeroed)
{
	ra_atomic_file f = { 0 };
	int null = open("/dev/null", O_RDONLY);

	ck_assert_int_ge(null, 0);
	ck_assert_int_eq(dup2(null, 0), 0);
	ra_atomic_abort(&f);
	ra_atomic_abort(&f);
	ck_assert_int_ne(fcntl(0, F_GETFD), -1);
	close(null);
}
END_TEST

/* NULL: abort does nothing, the others refuse it with a reason. */
START_TEST(test_null_file)
{
	ra_diag diag = { "" };

	ra_atomic_abort(NULL);
	ck_assert_int_eq(ra_atomic_commit(NULL, &diag), RA_ERR_INVALID);
	ck_assert_str_eq(diag.text, "no file to commit");
	ck_assert_int_eq(ra_atomic_finish(NULL, NULL), RA_ERR_INVALID);
	ck_assert_int_eq(ra_atomic_publish(NULL, NULL), RA_ERR_INVALID);
	ck_assert_int_eq(ra_atomic_commit_stream(NULL, NULL, 0, NULL, NULL), RA_ERR_INVALID);
}
END_TEST

START_TEST(test_folder_renamed)
{
	char *dir = ra_test_mkdtemp(), *a = ra_test_path(dir, "a"), *b = ra_test_path(dir, "b");
	char *in_a = ra_test_path(a, "out.txt"), *in_b = ra_test_path(b, "out.txt");
	ra_atomic_file f;
	ra_diag diag;

	ck_assert_int_eq(mkdir(a, 0777), 0);
	ck_assert_int_eq(ra_atomic_open(&f, in_a, 0, &diag), RA_OK);
	ck_assert_int_eq(write(f.fd, "lost", 4), 4);
	ck_assert_int_eq(rename(a, b), 0);
	ra_atomic_abort(&f);
	ck_assert_int_eq(ra_test_dir_entries(b), 0);

	ck_assert_int_eq(ra_atomic_open(&f, in_b, 0, &diag), RA_OK);
	ck_assert_int_eq(write(f.fd, "kept", 4), 4);
	ck_assert_int_eq(rename(b, a), 0);
	ck_assert_int_eq(ra_atomic_commit(&f, &diag), RA_OK);
	ck_assert_str_eq(read_text(in_a), "kept");
	ck_assert_int_eq(ra_test_dir_entries(a), 1);
	free(in_a);
	free(in_b);
	free(a);
	free(b);
	ra_test_rmtree(dir);
}
END_TEST

/* A stream's file is committed whole, by name (its descriptor went with
 * the stream). */
static int write_hello(const void *ctx, FILE *f)
{
	(void)ctx;
	return fputs("hello", f) < 0;
}

START_TEST(test_stream)
{
	char *dir = ra_test_mkdtemp(), *path = ra_test_path(dir, "out.txt");
	ra_diag diag;

	ck_assert_int_eq(ra_atomic_write(path, 0, write_hello, NULL, NULL, &diag), RA_OK);
	ck_assert_str_eq(read_text(path), "hello");
	ck_assert_int_eq(ra_test_dir_entries(dir), 1);
	free(path);
	ra_test_rmtree(dir);
}
END_TEST

/* Nothing that is not a regular file is replaced, even with force; the
 * null device is written to as it is. */
START_TEST(test_not_regular)
{
	char *dir = ra_test_mkdtemp(), *fifo = ra_test_path(dir, "fifo");
	char *null = ra_test_path(dir, "null"), *zero = ra_test_path(dir, "zero");
	ra_atomic_file f;
	ra_diag diag;
	struct stat sb;

	ck_assert_int_eq(mkfifo(fifo, 0666), 0);
	ck_assert_int_eq(ra_atomic_open(&f, fifo, 1, &diag), RA_ERR_OPEN);
	ck_assert_ptr_nonnull(strstr(diag.text, "not a regular file"));
	ck_assert_int_eq(stat(fifo, &sb), 0);
	ck_assert(S_ISFIFO(sb.st_mode));
	ck_assert_int_eq(ra_test_dir_entries(dir), 1);
	if (geteuid() != 0) {
		fputs("check_atomic_file: not root: device nodes not tested\n", stderr);
		goto out;
	}
	ck_assert_int_eq(mknod(null, S_IFCHR | 0666, makedev(1, 3)), 0);
	ck_assert_int_eq(mknod(zero, S_IFCHR | 0666, makedev(1, 5)), 0);
	ck_assert_int_eq(ra_atomic_open(&f, zero, 1, &diag), RA_ERR_OPEN);
	ck_assert_ptr_nonnull(strstr(diag.text, "not a regular file"));
	/* No force needed for the sink, and no temporary file beside it. */
	ck_assert_int_eq(ra_atomic_open(&f, null, 0, &diag), RA_OK);
	ck_assert_int_eq(write(f.fd, "gone", 4), 4);
	ck_assert_int_eq(ra_test_dir_entries(dir), 3);
	ck_assert_int_eq(ra_atomic_commit(&f, &diag), RA_OK);
	ck_assert_int_eq(stat(null, &sb), 0);
	ck_assert(S_ISCHR(sb.st_mode) && sb.st_rdev == makedev(1, 3));
	ck_assert_int_eq(stat(zero, &sb), 0);
	ck_assert(S_ISCHR(sb.st_mode) && sb.st_rdev == makedev(1, 5));
	ck_assert_int_eq(ra_test_dir_entries(dir), 3);
out:
	free(fifo);
	free(null);
	free(zero);
	ra_test_rmtree(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("atomic_file");
	TCase *tc = tcase_create("behaviour");

	tcase_add_test(tc, test_commit_and_abort);
	tcase_add_test(tc, test_abort_zeroed);
	tcase_add_test(tc, test_null_file);
	tcase_add_test(tc, test_folder_renamed);
	tcase_add_test(tc, test_stream);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_not_regular);
	suite_add_tcase(s, tc);
	return ra_test_main(s);
}
