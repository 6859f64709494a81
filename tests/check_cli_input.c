/* End-to-end tests of hostile input through the binary: NaN and infinite
 * samples (--nonfinite error, zero, pass), band files that never end, and
 * spectra whose analyser would not fit in memory. Expectations come from
 * the test's own inputs: a file with non-finite samples at known places
 * against its twin with zeros there. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <sndfile.h>

#include "testutil.h"

#define RATE 48000
#define FRAMES 12000
#define FLOAT_WAV (SF_FORMAT_WAV | SF_FORMAT_FLOAT)
#define DOUBLE_WAV (SF_FORMAT_WAV | SF_FORMAT_DOUBLE)

/* The non-finite samples planted in an input: frame, channel (modulo the
 * channel count) and value. The first is at frame 1000. */
static const struct {
	size_t frame;
	int ch;
	double value;
} planted[] = { { 1000, 0, NAN }, { 5000, 1, INFINITY }, { 9000, 0, -INFINITY } };

#define PLANTED (sizeof(planted) / sizeof(planted[0]))

/* Which planted sample, if any, sits at sample I of a CHANNELS-channel
 * stream; -1 for none. */
static int planted_at(size_t i, int channels)
{
	for (size_t p = 0; p < PLANTED; p++)
		if (planted[p].frame * (size_t)channels + (size_t)(planted[p].ch % channels) == i)
			return (int)p;
	return -1;
}

/* A tone and an overtone on each channel, with the planted samples
 * (BAD) or zeros in their place (the twin). */
static double *make_signal(int channels, int bad)
{
	size_t n = (size_t)FRAMES * (size_t)channels;
	double *x = malloc(n * sizeof(*x));

	ck_assert_ptr_nonnull(x);
	for (size_t i = 0; i < n; i++) {
		double t = (double)(i / (size_t)channels) / RATE;
		int p = planted_at(i, channels);

		x[i] = 0.4 * sin(2 * M_PI * 440.0 * t) + 0.1 * sin(2 * M_PI * 3000.0 * t);
		if (p >= 0)
			x[i] = bad ? planted[p].value : 0.0;
	}
	return x;
}

/* NAME in the scratch folder: make_signal() as FORMAT (float or double
 * WAV). */
static char *write_input(const char *name, int format, int channels, int bad)
{
	SF_INFO info = { .samplerate = RATE, .channels = channels, .format = format };
	char *path = ra_test_scratch(name);
	double *x = make_signal(channels, bad);
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);

	ck_assert_msg(sf != NULL, "cannot write %s: %s", path, sf_strerror(NULL));
	ck_assert_int_eq(sf_writef_double(sf, x, FRAMES), FRAMES);
	ck_assert_int_eq(sf_close(sf), 0);
	free(x);
	return path;
}

/* The whole file at PATH as doubles; its sample count in *N. */
static double *read_all(const char *path, size_t *n)
{
	SF_INFO info;
	double *x = ra_test_read_double(path, &info);

	ck_assert_msg(x != NULL, "cannot read %s", path);
	*n = (size_t)info.frames * (size_t)info.channels;
	return x;
}

/* Both are NaN, or equal (infinities of the same sign included). */
static int same_value(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

/* Whether a CSV table's numbers, past its '#' lines and column names, are
 * all finite. */
static int finite_table(const char *text)
{
	const char *data = text;

	while (*data == '#')
		data = strchr(data, '\n') + 1;
	data = strchr(data, '\n') + 1;
	return !strstr(data, "nan") && !strstr(data, "inf");
}

/* The binary with ARGV; the exit status and stderr must be STATUS and
 * WANT_ERR (NULL: anything). */
static ra_run run_expect(const char *const *argv, int status, const char *want_err)
{
	ra_run r = ra_test_run(argv, NULL);

	ck_assert_msg(r.status == status, "exit %d, not %d: %s", r.status, status, r.err);
	if (want_err)
		ck_assert_str_eq(r.err, want_err);
	return r;
}

/* --------------------------------------------------------- --nonfinite */

/* By default a file with non-finite samples fails as a whole, with all of
 * them counted, whatever the chain, and leaves nothing behind. Blocks of
 * 256 frames: the first one comes after output has begun. */
START_TEST(test_error_by_default)
{
	char *in = write_input("bad.wav", FLOAT_WAV, 2, 1);
	char *out = ra_test_scratch("out.wav");
	char *csv = ra_test_scratch("out.csv");
	const char *extra[][2] = { { "--eq", "peak:1k:6" },
				   { "--normalize", "--gain=3" },
				   { "--rate", "44100" },
				   { "--spectrum", csv },
				   { "--nonfinite", "error" } };
	char want[1024];
	ra_run r;

	snprintf(want, sizeof(want), "rusty-audio: %s: 3 non-finite samples, first at frame 1000\n",
		 in);
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		r = run_expect((const char *const[]){ in, "--block-size", "256", extra[i][0],
						      extra[i][1], "-o", out, NULL },
			       1, want);

		ra_run_release(&r);
		ck_assert_msg(ra_test_dir_entries(ra_test_scratch_dir()) == 1,
			      "case %zu left a file", i);
	}
	r = run_expect((const char *const[]){ in, "--analyze", NULL }, 1, want);
	ck_assert_str_eq(r.out, "");
	ra_run_release(&r);
	free(csv);
	free(out);
	free(in);
}
END_TEST

/* zero: the output is that of the twin with zeros in their place, into
 * float, into 16-bit (same dither) and through a rate change. */
START_TEST(test_zero_is_the_twin)
{
	char *bad = write_input("bad.wav", FLOAT_WAV, 2, 1);
	char *twin = write_input("twin.wav", FLOAT_WAV, 2, 0);
	char *a = ra_test_scratch("a.wav"), *b = ra_test_scratch("b.wav");
	const char *extra[][2] = { { "--subtype", "float" },
				   { "--subtype", "pcm16" },
				   { "--rate", "44100" } };
	char want[1024];

	snprintf(want, sizeof(want),
		 "rusty-audio: warning: %s: 3 non-finite samples replaced by zero\n", bad);
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		const char *common[] = { "--block-size", "256",	 "--eq",
					 "peak:1k:6",	 "--eq", "highpass:80" };
		ra_run r = run_expect(
			(const char *const[]){ bad, "-f", "--nonfinite", "zero", common[0],
					       common[1], common[2], common[3], common[4],
					       common[5], extra[i][0], extra[i][1], "-o", a, NULL },
			0, want);
		size_t na, nb;
		double *xa, *xb;

		ra_run_release(&r);
		r = run_expect((const char *const[]){ twin, "-f", common[0], common[1], common[2],
						      common[3], common[4], common[5], extra[i][0],
						      extra[i][1], "-o", b, NULL },
			       0, "");
		ra_run_release(&r);
		xa = read_all(a, &na);
		xb = read_all(b, &nb);
		ck_assert_uint_eq(na, nb);
		for (size_t k = 0; k < na; k++) {
			ck_assert_msg(isfinite(xa[k]), "case %zu: sample %zu is %g", i, k, xa[k]);
			ck_assert_msg(xa[k] == xb[k], "case %zu: sample %zu: %g, twin %g", i, k,
				      xa[k], xb[k]);
		}
		free(xa);
		free(xb);
	}
	/* The analysis says so too, and its summary is the twin's. */
	{
		ra_run r = run_expect(
			(const char *const[]){ bad, "--analyze", "--nonfinite", "zero", NULL }, 0,
			want);
		ra_run t = run_expect((const char *const[]){ twin, "--analyze", NULL }, 0, "");

		ck_assert_str_eq(strchr(r.out, '\n'), strchr(t.out, '\n'));
		ra_run_release(&r);
		ra_run_release(&t);
	}
	free(a);
	free(b);
	free(twin);
	free(bad);
}
END_TEST

/* pass: the output holds the planted values where they were and, everywhere
 * else, exactly the twin's output (the filters saw zeros, and nothing after
 * them is poisoned); the spectra see zeros too. Mono and stereo, small
 * blocks and two threads, so that many blocks are in flight. */
START_TEST(test_pass_keeps_them_in_place)
{
	const char *eq[] = { "--eq", "peak:100:4", "--eq", "peak:400:-3",   "--eq", "peak:1k:6",
			     "--eq", "peak:3k:-2", "--eq", "lowshelf:100:3" };

	for (int channels = 1; channels <= 2; channels++) {
		char *bad = write_input("bad.wav", FLOAT_WAV, channels, 1);
		char *twin = write_input("twin.wav", FLOAT_WAV, channels, 0);
		char *a = ra_test_scratch("a.wav"), *b = ra_test_scratch("b.wav");
		char *csv = ra_test_scratch("a.csv"), *text, want[1024];
		ra_run r;
		size_t na, nb;
		double *xa, *xb, *x = make_signal(channels, 1);

		snprintf(want, sizeof(want),
			 "rusty-audio: warning: %s: 3 non-finite samples passed through\n", bad);
		r = run_expect((const char *const[]){ bad,
						      "-f",
						      "--nonfinite",
						      "pass",
						      "--threads",
						      "2",
						      "--block-size",
						      "128",
						      eq[0],
						      eq[1],
						      eq[2],
						      eq[3],
						      eq[4],
						      eq[5],
						      eq[6],
						      eq[7],
						      eq[8],
						      eq[9],
						      "--spectrum",
						      csv,
						      "--spectrum-of",
						      "both",
						      "-o",
						      a,
						      NULL },
			       0, want);
		ra_run_release(&r);
		r = run_expect((const char *const[]){ twin, "-f", "--threads", "2", "--block-size",
						      "128", eq[0], eq[1], eq[2], eq[3], eq[4],
						      eq[5], eq[6], eq[7], eq[8], eq[9], "-o", b,
						      NULL },
			       0, "");
		ra_run_release(&r);
		xa = read_all(a, &na);
		xb = read_all(b, &nb);
		ck_assert_uint_eq(na, nb);
		ck_assert_uint_eq(na, (size_t)FRAMES * (size_t)channels);
		for (size_t k = 0; k < na; k++) {
			int p = planted_at(k, channels);

			if (p >= 0)
				ck_assert_msg(same_value(xa[k], x[k]), "sample %zu: %g, not %g", k,
					      xa[k], x[k]);
			else
				ck_assert_msg(xa[k] == xb[k], "%d ch: sample %zu: %g, twin %g",
					      channels, k, xa[k], xb[k]);
		}
		text = ra_test_slurp(csv, NULL);
		ck_assert_msg(finite_table(text), "the spectrum has a non-finite value");
		free(text);
		free(x);
		free(xa);
		free(xb);
		free(csv);
		free(a);
		free(b);
		free(twin);
		free(bad);
	}
}
END_TEST

/* A rate change has no "same place" to pass them to. */
START_TEST(test_pass_refuses_a_rate_change)
{
	char *in = write_input("bad.wav", FLOAT_WAV, 2, 1);
	char *out = ra_test_scratch("out.wav");
	char want[1024];
	ra_run r;

	snprintf(want, sizeof(want),
		 "rusty-audio: %s: 3 non-finite samples, first at frame 1000, which cannot pass "
		 "through a rate change\n",
		 in);
	r = run_expect((const char *const[]){ in, "--nonfinite", "pass", "--rate", "44100", "-o",
					      out, NULL },
		       1, want);
	ra_run_release(&r);
	ck_assert_int_eq(ra_test_dir_entries(ra_test_scratch_dir()), 1);
	free(out);
	free(in);
}
END_TEST

/* A double file copied exactly (no processing): the same three modes. */
START_TEST(test_double_copy)
{
	char *bad = write_input("bad.wav", DOUBLE_WAV, 2, 1);
	char *out = ra_test_scratch("out.wav");
	double *x = make_signal(2, 1), *twin = make_signal(2, 0), *y;
	char want[1024];
	size_t n;
	ra_run r;

	snprintf(want, sizeof(want), "rusty-audio: %s: 3 non-finite samples, first at frame 1000\n",
		 bad);
	r = run_expect((const char *const[]){ bad, "-o", out, NULL }, 1, want);
	ra_run_release(&r);
	ck_assert_int_eq(ra_test_dir_entries(ra_test_scratch_dir()), 1);

	r = run_expect((const char *const[]){ bad, "--nonfinite", "zero", "-o", out, NULL }, 0,
		       NULL);
	ra_run_release(&r);
	y = read_all(out, &n);
	ck_assert_uint_eq(n, 2 * FRAMES);
	for (size_t k = 0; k < n; k++)
		ck_assert_msg(y[k] == twin[k], "sample %zu: %g, not %g", k, y[k], twin[k]);
	free(y);

	r = run_expect((const char *const[]){ bad, "-f", "--nonfinite", "pass", "-o", out, NULL },
		       0, NULL);
	ra_run_release(&r);
	y = read_all(out, &n);
	ck_assert_uint_eq(n, 2 * FRAMES);
	for (size_t k = 0; k < n; k++)
		ck_assert_msg(same_value(y[k], x[k]), "sample %zu: %g, not %g", k, y[k], x[k]);
	free(y);
	free(x);
	free(twin);
	free(out);
	free(bad);
}
END_TEST

/* No gain follows from a peak that is not finite: a 1e30 sample times
 * +200 dB overflows float, and pass leaves the planted ones in; both
 * fail instead of writing silence. */
START_TEST(test_normalize_needs_a_finite_peak)
{
	char *in = ra_test_scratch("loud.wav");
	char *bad = write_input("bad.wav", FLOAT_WAV, 2, 1);
	char *out = ra_test_scratch("out.wav");
	float x[4800] = { 0 };
	char want[1024];
	ra_run r;

	for (size_t i = 0; i < 4800; i++)
		x[i] = (float)(0.5 * sin(2 * M_PI * 1000.0 * (double)i / RATE));
	x[1000] = 1e30f;
	ra_test_write_float(in, FLOAT_WAV, RATE, 1, x, 4800);
	snprintf(want, sizeof(want),
		 "rusty-audio: %s: cannot normalize: 1 samples are not finite\n", in);
	r = run_expect((const char *const[]){ in, "--gain", "200", "--normalize", "-o", out, NULL },
		       1, want);
	ra_run_release(&r);
	snprintf(want, sizeof(want),
		 "rusty-audio: %s: cannot normalize: 3 samples are not finite\n", bad);
	r = run_expect(
		(const char *const[]){ bad, "--nonfinite", "pass", "--normalize", "-o", out, NULL },
		1, want);
	ra_run_release(&r);
	ck_assert_int_eq(ra_test_dir_entries(ra_test_scratch_dir()), 2);
	free(out);
	free(bad);
	free(in);
}
END_TEST

/* Without --normalize the same overflow is not written either, with or
 * without an EQ, whatever the output can hold. */
START_TEST(test_overflow_is_not_written)
{
	char *in = ra_test_scratch("loud.wav");
	char *wav = ra_test_scratch("out.wav"), *flac = ra_test_scratch("out.flac");
	const char *const runs[][8] = {
		{ in, "--gain", "200", "-o", wav, NULL },
		{ in, "--gain", "200", "-o", flac, NULL },
		{ in, "--gain", "200", "--eq", "peak:1k:3", "-o", wav, NULL },
		{ in, "--gain", "200", "--eq", "peak:1k:3", "-o", flac, NULL },
	};
	float x[4800] = { 0 };
	char want[1024];

	x[1001] = 1e30f;
	ra_test_write_float(in, FLOAT_WAV, RATE, 1, x, 4800);
	snprintf(want, sizeof(want),
		 "rusty-audio: %s: processing overflows at output frame 1001; lower the gain\n",
		 in);
	for (size_t k = 0; k < sizeof(runs) / sizeof(runs[0]); k++) {
		ra_run r = run_expect(runs[k], 1, want);

		ra_run_release(&r);
		ck_assert_int_eq(ra_test_dir_entries(ra_test_scratch_dir()), 1);
	}
	free(flac);
	free(wav);
	free(in);
}
END_TEST

START_TEST(test_nonfinite_usage)
{
	ra_run r = run_expect(
		(const char *const[]){ "in.wav", "--nonfinite", "maybe", "-o", "out.wav", NULL }, 2,
		"rusty-audio: invalid --nonfinite 'maybe': expected error, zero or pass (see "
		"rusty-audio --help)\n");

	ra_run_release(&r);
}
END_TEST

/* ---------------------------------------------------------- band files */

/* /dev/zero never ends: read up to the size limit, then refused. */
START_TEST(test_eq_file_that_never_ends)
{
	char *in = write_input("twin.wav", FLOAT_WAV, 1, 0);
	char *out = ra_test_scratch("out.wav");
	ra_run r = run_expect(
		(const char *const[]){ in, "--eq-file", "/dev/zero", "-o", out, NULL }, 2,
		"rusty-audio: /dev/zero: not a band file: larger than 1048576 bytes "
		"(see rusty-audio --help)\n");

	ra_run_release(&r);
	ck_assert_int_eq(ra_test_dir_entries(ra_test_scratch_dir()), 1);
	free(out);
	free(in);
}
END_TEST

/* ------------------------------------------------------------- spectra */

/* Peak memory of a run that should allocate nothing large. */
#define SMALL_RSS_KB (200 * 1024)

/* 0.1 s of 64 channels against a 2^24-point segment: refused from the
 * header's length, at the output rate, before any analyser exists (one
 * used to take 21 GB); --analyze leaves the spectrum out instead. */
START_TEST(test_short_input_many_channels)
{
	char *in = ra_test_scratch("short.wav");
	char *out = ra_test_scratch("out.wav"), *csv = ra_test_scratch("out.csv");
	float *x = calloc(4800 * 64, sizeof(*x));
	char want[1024];
	ra_run r;

	ck_assert_ptr_nonnull(x);
	for (size_t i = 0; i < 4800 * 64; i++)
		x[i] = (float)(0.25 * sin((double)i));
	ra_test_write_float(in, FLOAT_WAV, RATE, 64, x, 4800);
	free(x);

	snprintf(want, sizeof(want),
		 "rusty-audio: %s: 4800 frames is shorter than one fft segment (16777216 "
		 "frames)\n",
		 in);
	r = run_expect((const char *const[]){ in, "--fft-size", "16777216", "--spectrum", csv, "-o",
					      out, NULL },
		       1, want);
	ck_assert_int_lt(r.maxrss_kb, SMALL_RSS_KB);
	ra_run_release(&r);

	/* 4800 frames at 48 kHz are 4410 at 44.1 kHz. */
	snprintf(want, sizeof(want),
		 "rusty-audio: %s: 4410 frames is shorter than one fft segment (8192 frames)\n",
		 in);
	r = run_expect((const char *const[]){ in, "--rate", "44100", "--fft-size", "8192",
					      "--spectrum", csv, "-o", out, NULL },
		       1, want);
	ra_run_release(&r);
	ck_assert_int_eq(ra_test_dir_entries(ra_test_scratch_dir()), 1);

	r = run_expect((const char *const[]){ in, "--fft-size", "16777216", "--analyze", NULL }, 0,
		       "");
	ck_assert_int_lt(r.maxrss_kb, SMALL_RSS_KB);
	ck_assert_int_eq(ra_test_count(r.out, "\n"), 2 + 64 + 1); /* the loudness line */
	ck_assert_ptr_nonnull(strstr(r.out, "no loudness: loudness is measured for 1 to 24 "
					    "channels (BS.1770's 22.2) at 16 to 2822400 Hz, not 64 "
					    "at 48000 Hz\n"));
	ck_assert_int_eq(ra_test_count(r.out, " nan "), 2 * 64); /* peak_hz, centroid_hz */
	ra_run_release(&r);
	free(csv);
	free(out);
	free(in);
}
END_TEST

/* Long enough for one segment, but 16 channels of 2^22 points need more
 * than the analyser's 1 GiB: refused before the signal is made. */
START_TEST(test_analyser_memory_bound)
{
	char *out = ra_test_scratch("out.wav"), *csv = ra_test_scratch("out.csv");
	char want[1024];
	ra_run r;

	snprintf(want, sizeof(want),
		 "rusty-audio: %s: a 4194304-point analyser of 16 channels needs 1.1 GiB, more "
		 "than the 1 GiB allowed\n",
		 out);
	r = run_expect((const char *const[]){ "--generate", "white", "--channels", "16",
					      "--duration", "90", "--fft-size", "4194304",
					      "--spectrum", csv, "-o", out, NULL },
		       1, want);
	ck_assert_int_lt(r.maxrss_kb, SMALL_RSS_KB);
	ra_run_release(&r);
	ck_assert_int_eq(ra_test_dir_entries(ra_test_scratch_dir()), 0);
	free(csv);
	free(out);
}
END_TEST

static Suite *cli_input_suite(void)
{
	Suite *s = suite_create("cli_input");
	TCase *tc = ra_test_tcase(s, "nonfinite", 120);

	tcase_add_test(tc, test_error_by_default);
	tcase_add_test(tc, test_zero_is_the_twin);
	tcase_add_test(tc, test_pass_keeps_them_in_place);
	tcase_add_test(tc, test_pass_refuses_a_rate_change);
	tcase_add_test(tc, test_double_copy);
	tcase_add_test(tc, test_normalize_needs_a_finite_peak);
	tcase_add_test(tc, test_overflow_is_not_written);
	tcase_add_test(tc, test_nonfinite_usage);

	tc = ra_test_tcase(s, "limits", 60);
	tcase_add_test(tc, test_eq_file_that_never_ends);
	tcase_add_test(tc, test_short_input_many_channels);
	tcase_add_test(tc, test_analyser_memory_bound);
	return s;
}

int main(void)
{
	return ra_test_main(cli_input_suite());
}
