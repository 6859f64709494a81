/* End-to-end tests of a failing disk: tests/faultinject.c, preloaded into
 * the binary, makes one write, fsync, rename or close on an output fail
 * with EIO or ENOSPC. The run must leave no output (neither the audio nor
 * its reports) and no temporary file, keep its input byte for byte, exit 75
 * and say why in one line. A direct write refused with EINVAL is not a
 * failure: the writer goes on through the page cache. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <sndfile.h>

#include "testutil.h"

static char *in, *out, *csv, *svg, *sgram;

/* In the scratch folder, the input: 4 s of stereo float at 44.1 kHz,
 * 1.4 MB, more than the writer's 1 MiB buffer, so the audio goes out in
 * more than one write; and the names of the outputs. */
static void setup(void)
{
	const size_t frames = 4 * 44100;
	float *x = malloc(frames * 2 * sizeof(*x));

	ck_assert_ptr_nonnull(x);
	for (size_t i = 0; i < frames * 2; i++)
		x[i] = 0.5f * (float)sin(2.0 * M_PI * 997.0 * (double)(i / 2) / 44100.0);
	in = ra_test_scratch("in.wav");
	out = ra_test_scratch("out.wav");
	csv = ra_test_scratch("s.csv");
	svg = ra_test_scratch("s.svg");
	sgram = ra_test_scratch("g.csv");
	ra_test_write_float(in, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 2, x, frames);
	free(x);
}

static void teardown(void)
{
	free(in);
	free(out);
	free(csv);
	free(svg);
	free(sgram);
	in = out = csv = svg = sgram = NULL;
}

/* Process IN into OUT (through the gain and EQ) with its spectrum, plot
 * and spectrogram, with FAULT as RA_FAULT. */
static ra_run run_with_fault(const char *fault)
{
	const char *argv[] = {
		"-q",	      in,  "-o",     out, "--gain",	   "-1",  "--eq", "peak:1k:3",
		"--spectrum", csv, "--plot", svg, "--spectrogram", sgram, NULL
	};

	return ra_test_run_fault(argv, fault);
}

typedef struct fault_case {
	const char *fault; /* RA_FAULT */
	int err;	   /* its errno */
} fault_case;

/* The reports are synced first (fsync 1 to 3), then the audio (4), which
 * goes into place first (rename 1): a failing audio output takes its
 * finished reports with it. */
static const fault_case faults[] = {
	{ "write:EIO", EIO },	     { "write:ENOSPC", ENOSPC }, { "write:ENOSPC:2", ENOSPC },
	{ "close:EIO", EIO },	     { "close:ENOSPC", ENOSPC }, { "rename:EIO", EIO },
	{ "rename:ENOSPC", ENOSPC }, { "fsync:EIO", EIO },	 { "fsync:ENOSPC", ENOSPC },
	{ "fsync:EIO:4", EIO },
};
enum { FAULT_COUNT = sizeof(faults) / sizeof(faults[0]) };

START_TEST(fault_leaves_no_trace)
{
	const fault_case *fc = &faults[_i];
	size_t in_len;
	char *before = ra_test_slurp(in, &in_len);
	char *after;
	size_t after_len;
	ra_run r = run_with_fault(fc->fault);

	/* A failing disk may recover: EX_TEMPFAIL, for a retry. */
	ck_assert_msg(r.status == 75, "%s: exit %d: %s", fc->fault, r.status, r.err);
	ck_assert_msg(ra_test_count(r.err, "\n") == 1 && r.err[strlen(r.err) - 1] == '\n',
		      "%s: not one line: %s", fc->fault, r.err);
	ck_assert_msg(!strncmp(r.err, "rusty-audio: ", 13) && strstr(r.err, in) &&
			      strstr(r.err, strerror(fc->err)),
		      "%s: the line does not name the file and the reason: %s", fc->fault, r.err);
	/* Nothing but the input: neither the output nor a temporary file. */
	ck_assert_msg(ra_test_dir_entries(ra_test_scratch_dir()) == 1, "%s: %d entries left",
		      fc->fault, ra_test_dir_entries(ra_test_scratch_dir()));
	after = ra_test_slurp(in, &after_len);
	ck_assert(after_len == in_len && !memcmp(before, after, in_len));
	free(before);
	free(after);
	ra_run_release(&r);
}
END_TEST

/* The control: preloaded, with a fault that never comes, the same run
 * succeeds, so the failures above are the injected ones. */
START_TEST(no_fault_no_failure)
{
	ra_run r = run_with_fault("write:EIO:1000000");

	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	ck_assert_str_eq(r.err, "");
	ck_assert_int_eq(ra_test_dir_entries(ra_test_scratch_dir()), 5);
	ra_run_release(&r);
}
END_TEST

/* The first direct write to the output (its first full 1 MiB buffer, on
 * ext4, XFS or btrfs) refused with EINVAL, as by a file system that takes
 * O_DIRECT but not the alignment: the file goes through the page cache,
 * and the run succeeds with the bytes of a run without the fault. Failing
 * with EIO, it is the disk's failure: exit 75 and no output. Where the
 * writer writes nothing directly, neither fault comes. */
START_TEST(direct_write_faults)
{
	char *ref = ra_test_scratch("ref.wav");
	const char *ref_argv[] = { "-q", in, "-o", ref, "--gain", "-1", NULL };
	const char *argv[] = { "-q", in, "-o", out, "--gain", "-1", NULL };
	int direct = ra_test_direct_fs(ra_test_scratch_dir());
	ra_run r;

	ra_test_run_ok(ref_argv);
	r = ra_test_run_fault(argv, "direct:EINVAL");
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	ck_assert(ra_test_same_bytes(out, ref));
	ra_run_release(&r);
	ck_assert_int_eq(unlink(out), 0);
	r = ra_test_run_fault(argv, "direct:EIO");
	ck_assert_msg(r.status == (direct ? 75 : 0), "exit %d: %s", r.status, r.err);
	ck_assert_int_eq(access(out, F_OK), direct ? -1 : 0);
	ra_run_release(&r);
	free(ref);
}
END_TEST

static Suite *faults_suite(void)
{
	Suite *s = suite_create("cli_faults");
	TCase *tc = ra_test_tcase(s, "output faults", 60);
	TCase *ctl = ra_test_tcase(s, "controls", 60);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, fault_leaves_no_trace, 0, FAULT_COUNT);
	tcase_add_checked_fixture(ctl, setup, teardown);
	tcase_add_test(ctl, no_fault_no_failure);
	tcase_add_test(ctl, direct_write_faults);
	return s;
}

int main(void)
{
	return ra_test_main(faults_suite());
}
