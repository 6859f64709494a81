/* Every input the fuzz targets ever tripped on (tests/fuzz/regressions/NAME/)
 * and their seeds, replayed through plain builds of the targets: with gcc
 * here, under the sanitizers in their builds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "testutil.h"

static const char *const targets[] = { "codec", "parse" };

/* tests/fuzz/KIND/TARGET into ARGV[*ARGC] if it is there; its entries. */
static int add_folder(const char *kind, const char *target, const char **argv, int *argc)
{
	char *folder;
	int n;

	ck_assert_int_ge(asprintf(&folder, "%s/fuzz/%s/%s", RA_TESTS_DIR, kind, target), 0);
	n = access(folder, F_OK) == 0 ? ra_test_dir_entries(folder) : 0;
	if (n > 0)
		argv[(*argc)++] = folder;
	else
		free(folder);
	return n > 0 ? n : 0;
}

START_TEST(replay_inputs)
{
	const char *argv[3] = { NULL };
	int argc = 0, expect = 0;
	char *program, *said;
	ra_run r;

	expect += add_folder("regressions", targets[_i], argv, &argc);
	expect += add_folder("seeds", targets[_i], argv, &argc);
	ck_assert_int_gt(expect, 0);
	ck_assert_int_ge(asprintf(&program, "%s/replay_%s", RA_FUZZ_REPLAY_DIR, targets[_i]), 0);
	r = ra_test_exec(program, argv, NULL);
	ck_assert_msg(r.status == 0, "%s: exit %d: %s", program, r.status, r.err);
	/* Every input ran: none was skipped. */
	ck_assert_int_ge(asprintf(&said, "replayed %d inputs\n", expect), 0);
	ck_assert_str_eq(r.out, said);
	free(said);
	ra_run_release(&r);
	free(program);
	for (int i = 0; i < argc; i++)
		free((char *)argv[i]);
}
END_TEST

static Suite *fuzz_regressions_suite(void)
{
	Suite *s = suite_create("fuzz_regressions");
	TCase *tc = tcase_create("replay");

	tcase_add_loop_test(tc, replay_inputs, 0, sizeof(targets) / sizeof(targets[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ra_test_main(fuzz_regressions_suite());
}
