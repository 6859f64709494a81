/* End-to-end tests of the EQ through the binary: the output against an
 * independent float64 implementation of the RBJ cookbook cascade, the same
 * bytes for every thread count, block size and pipeline, band errors,
 * --dry-run and --normalize. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <sndfile.h>

#include "testutil.h"

/* ------------------------------------------- the cookbook, written again */

typedef struct band {
	const char *type;
	double f0, gain, q; /* q < 0: shelf slope -q */
} band;

/* RBJ Audio EQ Cookbook, un-normalised, then divided by a0. */
static void cookbook(const band *b, double fs, double c[5])
{
	double w0 = 2.0 * M_PI * b->f0 / fs, cw = cos(w0), sw = sin(w0);
	double A = pow(10.0, b->gain / 40.0), alpha, B0, B1, B2, A0, A1, A2;

	if (b->q < 0.0)
		alpha = sw / 2.0 * sqrt((A + 1.0 / A) * (1.0 / -b->q - 1.0) + 2.0);
	else
		alpha = sw / (2.0 * b->q);
	if (!strcmp(b->type, "peak")) {
		B0 = 1.0 + alpha * A;
		B1 = -2.0 * cw;
		B2 = 1.0 - alpha * A;
		A0 = 1.0 + alpha / A;
		A1 = -2.0 * cw;
		A2 = 1.0 - alpha / A;
	} else if (!strcmp(b->type, "lowshelf")) {
		double r = 2.0 * sqrt(A) * alpha;

		B0 = A * ((A + 1.0) - (A - 1.0) * cw + r);
		B1 = 2.0 * A * ((A - 1.0) - (A + 1.0) * cw);
		B2 = A * ((A + 1.0) - (A - 1.0) * cw - r);
		A0 = (A + 1.0) + (A - 1.0) * cw + r;
		A1 = -2.0 * ((A - 1.0) + (A + 1.0) * cw);
		A2 = (A + 1.0) + (A - 1.0) * cw - r;
	} else if (!strcmp(b->type, "highshelf")) {
		double r = 2.0 * sqrt(A) * alpha;

		B0 = A * ((A + 1.0) + (A - 1.0) * cw + r);
		B1 = -2.0 * A * ((A - 1.0) + (A + 1.0) * cw);
		B2 = A * ((A + 1.0) + (A - 1.0) * cw - r);
		A0 = (A + 1.0) - (A - 1.0) * cw + r;
		A1 = 2.0 * ((A - 1.0) - (A + 1.0) * cw);
		A2 = (A + 1.0) - (A - 1.0) * cw - r;
	} else if (!strcmp(b->type, "highpass")) {
		B0 = (1.0 + cw) / 2.0;
		B1 = -(1.0 + cw);
		B2 = (1.0 + cw) / 2.0;
		A0 = 1.0 + alpha;
		A1 = -2.0 * cw;
		A2 = 1.0 - alpha;
	} else { /* lowpass */
		B0 = (1.0 - cw) / 2.0;
		B1 = 1.0 - cw;
		B2 = (1.0 - cw) / 2.0;
		A0 = 1.0 + alpha;
		A1 = -2.0 * cw;
		A2 = 1.0 - alpha;
	}
	c[0] = B0 / A0;
	c[1] = B1 / A0;
	c[2] = B2 / A0;
	c[3] = A1 / A0;
	c[4] = A2 / A0;
}

/* Direct form I in double, band after band, on float input. */
static double *cascade(const band *bands, int count, double fs, const float *x, size_t frames,
		       int channels)
{
	double *y = malloc(frames * (size_t)channels * sizeof(*y));

	ck_assert_ptr_nonnull(y);
	for (size_t i = 0; i < frames * (size_t)channels; i++)
		y[i] = x[i];
	for (int k = 0; k < count; k++) {
		double c[5];

		cookbook(&bands[k], fs, c);
		for (int ch = 0; ch < channels; ch++) {
			double x1 = 0, x2 = 0, y1 = 0, y2 = 0;

			for (size_t n = 0; n < frames; n++) {
				double *v = &y[n * (size_t)channels + (size_t)ch];
				double in = *v;
				double out =
					c[0] * in + c[1] * x1 + c[2] * x2 - c[3] * y1 - c[4] * y2;

				x2 = x1;
				x1 = in;
				y2 = y1;
				y1 = out;
				*v = out;
			}
		}
	}
	return y;
}

static const char *band_text(const band *b, char *buf, size_t size)
{
	if (b->q < 0.0)
		snprintf(buf, size, "%s:%.17g:%.17g:s=%.17g", b->type, b->f0, b->gain, -b->q);
	else
		snprintf(buf, size, "%s:%.17g:%.17g:%.17g", b->type, b->f0, b->gain, b->q);
	return buf;
}

/* Run the binary with BANDS as --eq options plus EXTRA; returns status. */
static int run_eq(const band *bands, int count, const char *in, const char *out,
		  const char *const *extra, char **err)
{
	const char *argv[200];
	char text[64][96];
	int n = 0;
	ra_run r;

	argv[n++] = "-f";
	argv[n++] = in;
	for (int k = 0; k < count; k++) {
		argv[n++] = "--eq";
		argv[n++] = band_text(&bands[k], text[k], sizeof(text[k]));
	}
	for (; extra && *extra; extra++)
		argv[n++] = *extra;
	argv[n++] = "-o";
	argv[n++] = out;
	argv[n] = NULL;
	r = ra_test_run(argv, NULL);
	if (err)
		*err = strdup(r.err);
	ra_run_release(&r);
	return r.status;
}

/* ------------------------------------------------------------- accuracy */

static const band octave_peaks[] = {
	{ "peak", 31.25, 3, 1.41 },  { "peak", 62.5, -3, 1.41 }, { "peak", 125, 3, 1.41 },
	{ "peak", 250, -3, 1.41 },   { "peak", 500, 3, 1.41 },	 { "peak", 1000, -3, 1.41 },
	{ "peak", 2000, 3, 1.41 },   { "peak", 4000, -3, 1.41 }, { "peak", 8000, 3, 1.41 },
	{ "peak", 16000, -3, 1.41 },
};

static const band hard_shelf[] = { { "lowshelf", 20, 6, -1.0 } };
static const band hard_q10[] = { { "peak", 30, 6, 10 },
				 { "peak", 30, -6, 10 },
				 { "highpass", 20, 0, 0.7071 } };
static band third_octaves[31];

static const struct {
	const char *name;
	const band *bands;
	int count;
	int rate, channels;
} cases[] = {
	{ "10 octave peaks", octave_peaks, 10, 48000, 2 },
	{ "20 Hz low shelf at 192 kHz", hard_shelf, 1, 192000, 1 },
	{ "Q 10 peaks at 30 Hz", hard_q10, 3, 48000, 1 },
	{ "31 third-octave peaks", third_octaves, 31, 48000, 1 },
};

/* The float output is the float64 cookbook cascade within 1e-6. */
START_TEST(test_matches_cookbook)
{
	const size_t frames = cases[_i].rate; /* one second */
	const int ch = cases[_i].channels;
	char *in = ra_test_scratch("in.wav"), *out = ra_test_scratch("out.wav");
	float *x = ra_test_noise(frames * (size_t)ch, 99, 0.25f);
	double *want, *got, worst = 0.0;
	SF_INFO info;
	char *err;

	for (int k = 0; k < 31; k++) {
		third_octaves[k].type = "peak";
		third_octaves[k].f0 = 1000.0 * pow(2.0, (k - 17) / 3.0);
		third_octaves[k].gain = (k % 7) - 3.0;
		third_octaves[k].q = pow(2.0, 1.0 / 6.0) / (pow(2.0, 1.0 / 3.0) - 1.0);
	}
	ra_test_write_float(in, SF_FORMAT_WAV | SF_FORMAT_FLOAT, cases[_i].rate, ch, x, frames);
	ck_assert_msg(run_eq(cases[_i].bands, cases[_i].count, in, out, NULL, &err) == 0, "%s: %s",
		      cases[_i].name, err);
	free(err);
	want = cascade(cases[_i].bands, cases[_i].count, cases[_i].rate, x, frames, ch);
	got = ra_test_read_double(out, &info);
	ck_assert_int_eq(info.frames, (sf_count_t)frames);
	for (size_t i = 0; i < frames * (size_t)ch; i++)
		worst = fmax(worst, fabs(got[i] - want[i]));
	ck_assert_msg(worst < 1e-6, "%s: worst error %g", cases[_i].name, worst);
	/* The EQ did something: the output is far from the input. */
	{
		double moved = 0.0;

		for (size_t i = 0; i < frames * (size_t)ch; i++)
			moved = fmax(moved, fabs(got[i] - x[i]));
		ck_assert_msg(moved > 1e-3, "%s: output equals input", cases[_i].name);
	}
	free(want);
	free(got);
	free(x);
	free(in);
	free(out);
}
END_TEST

/* ---------------------------------------------------------- determinism */

/* Every thread count, block size and the reference give the same bytes.
 * Three channels: a short mono or stereo file would run inline whatever
 * the thread count (processor.h, stream_frames); two channel pairs go to
 * the pool. */
START_TEST(test_same_bytes_everywhere)
{
	static const char *threads[] = { "1", "2", "3", "8" };
	static const char *blocks[] = { "1", "7", "1024", "65536" };
	char *in = ra_test_scratch("in.wav"), *ref = ra_test_scratch("ref.wav");
	char *out = ra_test_scratch("out.wav");
	float *x = ra_test_noise(24000 * 3, 5, 0.25f);
	const char *reference[] = { "--pipeline", "reference", NULL };

	ra_test_write_float(in, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 3, x, 24000);
	ck_assert_int_eq(run_eq(octave_peaks, 10, in, ref, reference, NULL), 0);
	for (int t = 0; t < 4; t++) {
		for (int b = 0; b < 4; b++) {
			const char *extra[] = { "--threads", threads[t], "--block-size", blocks[b],
						NULL };

			ck_assert_int_eq(run_eq(octave_peaks, 10, in, out, extra, NULL), 0);
			ck_assert_msg(ra_test_same_bytes(ref, out), "threads %s, block %s differ",
				      threads[t], blocks[b]);
		}
	}
	free(x);
	free(in);
	free(ref);
	free(out);
}
END_TEST

/* --------------------------------------------------------------- errors */

START_TEST(test_band_errors)
{
	char *in = ra_test_scratch("in.wav"), *out = ra_test_scratch("out.wav");
	float x[480] = { 0.1f };
	static const char *bad[] = { "peek:1k",	     "peak",
				     "peak:0",	     "peak:-5",
				     "peak:abc",     "peak:1k:3:0",
				     "peak:1k:3:-1", "lowshelf:80:3:bw=1",
				     "peak:1k:3:1:7" };

	ra_test_write_float(in, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 1, x, 480);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ra_run r = ra_test_run((const char *const[]){ in, "--eq", bad[i], "-o", out, NULL },
				       NULL);

		ck_assert_msg(r.status == 2, "%s: status %d", bad[i], r.status);
		ck_assert_msg(strstr(r.err, bad[i]) && ra_test_count(r.err, "\n") == 1, "%s: %s",
			      bad[i], r.err);
		ra_run_release(&r);
	}
	/* Beyond Nyquist is a property of the file's rate: that file fails. */
	{
		ra_run r = ra_test_run(
			(const char *const[]){ in, "--eq", "peak:30k:3", "-o", out, NULL }, NULL);

		ck_assert_int_eq(r.status, 1);
		ck_assert_msg(strstr(r.err, "band 1 'peak:30k:3'") && strstr(r.err, "24000"), "%s",
			      r.err);
		ra_run_release(&r);
	}
	/* 65 bands are too many. */
	{
		const char *argv[140];
		int n = 0;
		ra_run r;

		argv[n++] = in;
		for (int k = 0; k < 65; k++) {
			argv[n++] = "--eq";
			argv[n++] = "peak:1k:1";
		}
		argv[n++] = "-o";
		argv[n++] = out;
		argv[n] = NULL;
		r = ra_test_run(argv, NULL);
		ck_assert_int_eq(r.status, 2);
		ck_assert_ptr_nonnull(strstr(r.err, "too many bands"));
		ra_run_release(&r);
	}
	ck_assert_int_eq(access(out, F_OK), -1);
	free(in);
	free(out);
}
END_TEST

/* ----------------------------------------------- dry run, normalize, etc */

START_TEST(test_dry_run)
{
	char *in = ra_test_scratch("in.wav");
	float x[480 * 2] = { 0.1f };
	double c[5];
	char expect[64];
	ra_run r;

	ra_test_write_float(in, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 2, x, 480);
	r = ra_test_run((const char *const[]){ "--dry-run", in, "--rate", "44100", "--eq",
					       "peak:1k:6:2", "--eq", "highpass:30", NULL },
			NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "48000 Hz -> 44100 Hz, 2 channels, 2 bands"));
	/* Coefficients at the output rate, as the cookbook gives them. */
	cookbook(&(band){ "peak", 1000, 6, 2 }, 44100, c);
	snprintf(expect, sizeof(expect), "b0=%.12g b1=%.12g", c[0], c[1]);
	ck_assert_msg(strstr(r.out, expect), "want %s in:\n%s", expect, r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "max gain +6.00 dB at 1000."));
	ck_assert_ptr_nonnull(strstr(r.out, "pre-gain -6.00 dB"));
	ra_run_release(&r);
	ck_assert_int_eq(ra_test_dir_entries(ra_test_scratch_dir()), 1); /* nothing written */
	free(in);
}
END_TEST

START_TEST(test_normalize)
{
	char *in = ra_test_scratch("in.wav"), *out = ra_test_scratch("out.wav");
	char *out16 = ra_test_scratch("out16.wav");
	float *x = ra_test_noise(48000, 17, 0.2f);
	double *y, peak = 0.0;
	SF_INFO info;
	ra_run r;

	ra_test_write_float(in, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 1, x, 48000);
	ra_test_run_ok((const char *const[]){ in, "--eq", "lowshelf:200:12", "--normalize", "-o",
					      out, NULL });
	y = ra_test_read_double(out, &info);
	for (long i = 0; i < info.frames; i++)
		peak = fmax(peak, fabs(y[i]));
	ck_assert_double_gt(peak, 0.0);
	ck_assert_double_eq_tol(20.0 * log10(peak), -1.0, 0.01);
	free(y);

	/* To 16 bits at -0.1 dBFS: a +12 dB shelf without clipping. */
	r = ra_test_run((const char *const[]){ in, "--eq", "lowshelf:200:12", "--normalize=-0.1",
					       "--subtype", "pcm16", "-o", out16, NULL },
			NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(!strstr(r.err, "clipped"), "%s", r.err);
	ra_run_release(&r);
	peak = 0.0;
	y = ra_test_read_double(out16, &info);
	for (long i = 0; i < info.frames; i++)
		peak = fmax(peak, fabs(y[i]));
	ck_assert_double_gt(peak, 0.0);
	ck_assert_double_eq_tol(20.0 * log10(peak), -0.1, 0.01);
	free(y);
	free(x);
	free(in);
	free(out);
	free(out16);
}
END_TEST

/* --normalize with resampling: both passes go through the resampler, with
 * either engine. */
START_TEST(test_normalize_resampled)
{
	static const char *const engines[] = { "soxr", "libsamplerate" };
	char *in = ra_test_scratch("in.wav"), *out = ra_test_scratch("out.wav");
	float *x = ra_test_noise(48000, 23, 0.2f);
	double *y, peak = 0.0;
	SF_INFO info;
	ra_run r;

	ra_test_write_float(in, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 1, x, 48000);
	r = ra_test_run((const char *const[]){ in, "--normalize=-3", "--rate", "44100",
					       "--resampler", engines[_i], "-o", out, NULL },
			NULL);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	ra_run_release(&r);
	y = ra_test_read_double(out, &info);
	ck_assert_int_eq(info.frames, 44100);
	for (long i = 0; i < info.frames; i++)
		peak = fmax(peak, fabs(y[i]));
	ck_assert_double_gt(peak, 0.0);
	ck_assert_double_eq_tol(20.0 * log10(peak), -3.0, 0.01);
	free(y);
	free(x);
	free(in);
	free(out);
}
END_TEST

START_TEST(test_presets_and_files)
{
	char *in = ra_test_scratch("in.wav"), *a = ra_test_scratch("a.wav");
	char *b = ra_test_scratch("b.wav"), *list = ra_test_scratch("bands.txt");
	float *x = ra_test_noise(4800, 3, 0.25f);
	FILE *f;
	ra_run r;

	r = ra_test_run((const char *const[]){ "--preset", "list", NULL }, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "bass-boost"));
	ra_run_release(&r);
	/* The library says what is wrong; the command line, where to look. */
	r = ra_test_run((const char *const[]){ "--preset", "nope", "-o", a, in, NULL }, NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.err, "rusty-audio: unknown preset 'nope' (--preset list names them) "
				"(see rusty-audio --help)\n");
	ra_run_release(&r);
	/* A known preset that does not fit gets no such pointer. */
	f = fopen(list, "w");
	for (int i = 0; i < 64; i++)
		fputs("peak:1k:1\n", f);
	fclose(f);
	r = ra_test_run((const char *const[]){ "--eq-file", list, "--preset", "loudness", "-o", a,
					       in, NULL },
			NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "too many bands") && !strstr(r.err, "--preset list"), "%s",
		      r.err);
	ra_run_release(&r);

	/* A preset and the same bands from a file give the same output. */
	ra_test_write_float(in, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 1, x, 4800);
	ra_test_run_ok((const char *const[]){ in, "--preset", "loudness", "-o", a, NULL });
	r = ra_test_run((const char *const[]){ "--preset", "list", NULL }, NULL);
	{
		const char *line = strstr(r.out, "loudness");
		char bands[256];
		size_t n;

		ck_assert_ptr_nonnull(line);
		line += strlen("loudness");
		line += strspn(line, " ");
		n = strcspn(line, "\n");
		ck_assert_uint_lt(n, sizeof(bands));
		memcpy(bands, line, n);
		bands[n] = '\0';
		f = fopen(list, "w");
		fputs("# the loudness preset, one band a line\n\n", f);
		for (char *tok = strtok(bands, " "); tok; tok = strtok(NULL, " "))
			fprintf(f, "%s\r\n", tok);
		fclose(f);
	}
	ra_run_release(&r);
	ra_test_run_ok((const char *const[]){ in, "--eq-file", list, "-o", b, NULL });
	ck_assert(ra_test_same_bytes(a, b));
	ck_assert(!ra_test_same_bytes(a, in));
	free(x);
	free(in);
	free(a);
	free(b);
	free(list);
}
END_TEST

static Suite *cli_eq_suite(void)
{
	Suite *s = suite_create("cli_eq");
	TCase *acc = ra_test_tcase(s, "accuracy", 60);
	TCase *det = ra_test_tcase(s, "determinism", 120);
	TCase *err = ra_test_tcase(s, "errors", 0);
	TCase *misc = ra_test_tcase(s, "options", 0);

	tcase_add_loop_test(acc, test_matches_cookbook, 0, 4);
	tcase_add_test(det, test_same_bytes_everywhere);
	tcase_add_test(err, test_band_errors);
	tcase_add_test(misc, test_dry_run);
	tcase_add_test(misc, test_normalize);
	tcase_add_loop_test(misc, test_normalize_resampled, 0, 2);
	tcase_add_test(misc, test_presets_and_files);
	return s;
}

int main(void)
{
	return ra_test_main(cli_eq_suite());
}
