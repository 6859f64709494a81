/* End-to-end tests of the rusty-audio binary: exactness, errors and exit
 * statuses, atomic output, batches, resampling, metadata, memory, corpus. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <sndfile.h>

#include "rustyaudio/audio_file.h"
#include "testutil.h"

/* Exactly representable B-bit values, as float. */
static float *pcm_noise(size_t n, unsigned seed, int bits)
{
	float *x = ra_test_noise(n, seed, 1.0f);
	float scale = ldexpf(1.0f, bits - 1);

	for (size_t i = 0; i < n; i++)
		x[i] = floorf(x[i] * (scale - 1.0f)) / scale;
	return x;
}

static ra_run run_args(const char *const *argv)
{
	return ra_test_run(argv, NULL);
}

/* Exactly one line on stderr, starting with the program's name. */
static void assert_one_error_line(const ra_run *r)
{
	ck_assert_msg(strncmp(r->err, "rusty-audio: ", 13) == 0, "stderr: %s", r->err);
	ck_assert_msg(ra_test_count(r->err, "\n") == 1, "expected one line, got: %s", r->err);
}

static long file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* ---------------------------------------------------------------- exactness */

static const struct {
	int format;
	const char *name;
} exact_formats[] = {
	{ SF_FORMAT_WAV | SF_FORMAT_PCM_U8, "u8.wav" },
	{ SF_FORMAT_WAV | SF_FORMAT_PCM_16, "s16.wav" },
	{ SF_FORMAT_WAV | SF_FORMAT_PCM_24, "s24.wav" },
	{ SF_FORMAT_WAV | SF_FORMAT_PCM_32, "s32.wav" },
	{ SF_FORMAT_WAV | SF_FORMAT_FLOAT, "f32.wav" },
	{ SF_FORMAT_WAV | SF_FORMAT_DOUBLE, "f64.wav" },
	{ SF_FORMAT_AIFF | SF_FORMAT_PCM_16, "s16.aiff" },
	{ SF_FORMAT_FLAC | SF_FORMAT_PCM_16, "s16.flac" },
	{ SF_FORMAT_FLAC | SF_FORMAT_PCM_24, "s24.flac" },
	{ SF_FORMAT_CAF | SF_FORMAT_PCM_24, "s24.caf" },
	{ SF_FORMAT_W64 | SF_FORMAT_FLOAT, "f32.w64" },
};

/* No processing: the same samples come out. PCM is compared as integers,
 * float as doubles, so no conversion of the test's own hides a difference. */
START_TEST(test_passthrough_is_bit_exact)
{
	const size_t frames = 20011;
	const int i = _i;
	char *in = ra_test_scratch(exact_formats[i].name);
	char *out;
	int pcm = (exact_formats[i].format & SF_FORMAT_SUBMASK) <= SF_FORMAT_PCM_U8;
	int sub = exact_formats[i].format & SF_FORMAT_SUBMASK;
	int bits = sub == SF_FORMAT_PCM_U8 ? 8 : sub == SF_FORMAT_PCM_16 ? 16 : 24;
	float *x;
	SF_INFO a, b;
	ra_run r;

	/* Exact values for narrow PCM, full-precision noise for the rest. */
	x = sub == SF_FORMAT_PCM_U8 || sub == SF_FORMAT_PCM_16 || sub == SF_FORMAT_PCM_24
		    ? pcm_noise(frames * 2, 7u + (unsigned)i, bits)
		    : ra_test_noise(frames * 2, 7u + (unsigned)i, 0.99f);
	ra_test_write_float(in, exact_formats[i].format, 44100, 2, x, frames);
	ck_assert_int_ne(asprintf(&out, "%s/out-%s", ra_test_scratch_dir(), exact_formats[i].name),
			 -1);
	r = run_args((const char *const[]){ in, "-o", out, NULL });
	ck_assert_msg(r.status == 0, "%s: %s", exact_formats[i].name, r.err);
	ck_assert_str_eq(r.err, "");
	if (pcm) {
		int *ia = ra_test_read_int(in, &a), *ib = ra_test_read_int(out, &b);

		ck_assert_int_eq(a.frames, b.frames);
		ck_assert_int_eq(a.format, b.format);
		ck_assert_msg(memcmp(ia, ib, (size_t)a.frames * 2 * sizeof(int)) == 0,
			      "%s not bit-exact", exact_formats[i].name);
		free(ia);
		free(ib);
	} else {
		double *da = ra_test_read_double(in, &a), *db = ra_test_read_double(out, &b);

		ck_assert_int_eq(a.frames, b.frames);
		ck_assert_int_eq(a.format, b.format);
		ck_assert_msg(memcmp(da, db, (size_t)a.frames * 2 * sizeof(double)) == 0,
			      "%s not bit-exact", exact_formats[i].name);
		free(da);
		free(db);
	}
	ra_run_release(&r);
	free(x);
	free(in);
	free(out);
}
END_TEST

/* Widening PCM is exact too, and any block size gives the same file. */
START_TEST(test_widening_and_block_sizes)
{
	const size_t frames = 5003;
	float *x = pcm_noise(frames, 3, 16);
	char *in = ra_test_scratch("in.wav");
	char *wide = ra_test_scratch("wide.wav");
	SF_INFO a, b;
	int *ia, *ib;
	ra_run r;

	ra_test_write_float(in, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 48000, 1, x, frames);
	r = run_args((const char *const[]){ in, "--subtype", "pcm24", "-o", wide, NULL });
	ck_assert_int_eq(r.status, 0);
	ra_run_release(&r);
	ia = ra_test_read_int(in, &a);
	ib = ra_test_read_int(wide, &b);
	ck_assert_int_eq(b.format, SF_FORMAT_WAV | SF_FORMAT_PCM_24);
	ck_assert_int_eq(memcmp(ia, ib, frames * sizeof(int)), 0);
	free(ib);

	/* Through the float chain with gain and resampling: the block size
	 * must not change a single byte. */
	for (size_t k = 0; k < 4; k++) {
		static const char *sizes[] = { "1", "7", "1024", "65536" };
		char *out = ra_test_scratch("g.wav");
		char *ref = ra_test_scratch("g-ref.wav");

		ra_test_run_ok((const char *const[]){ in, "--gain", "-3", "--rate", "44100",
						      "--block-size", sizes[k], "-f", "-o",
						      k == 0 ? ref : out, NULL });
		if (k > 0)
			ck_assert_msg(ra_test_same_bytes(ref, out),
				      "block size %s changes the output", sizes[k]);
		free(out);
		free(ref);
	}
	free(ia);
	free(x);
	free(in);
	free(wide);
}
END_TEST

START_TEST(test_gain_and_clipping)
{
	const size_t frames = 1000;
	float *x = calloc(frames * 2, sizeof(*x));
	char *in = ra_test_scratch("in.wav");
	char *out = ra_test_scratch("out.wav");
	char *half = ra_test_scratch("half.wav");
	double *y;
	SF_INFO info;
	ra_run r;

	/* Channel 2 goes past full scale on 300 frames; channel 1 stays at 0.5. */
	for (size_t i = 0; i < frames; i++) {
		x[2 * i] = 0.5f;
		x[2 * i + 1] = i < 300 ? 1.5f : -0.25f;
	}
	ra_test_write_float(in, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 2, x, frames);
	r = run_args((const char *const[]){ in, "--subtype", "pcm16", "-o", out, NULL });
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(strstr(r.err, "warning: ") && strstr(r.err, "in.wav: 300 samples clipped"),
		      "%s", r.err);
	ck_assert_msg(strstr(r.err, "ch1 0, ch2 300"), "%s", r.err);
	ra_run_release(&r);
	y = ra_test_read_double(out, &info);
	ck_assert_int_eq(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
	ck_assert_double_eq_tol(y[1], 32767.0 / 32768.0, 1e-9); /* clipped, not wrapped */
	ck_assert_double_eq_tol(y[0], 0.5, 1.5 / 32768.0);	/* dithered */
	free(y);

	r = run_args((const char *const[]){ in, "--gain", "-6.020599913", "-o", half, NULL });
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_str_eq(r.err, ""); /* float output: nothing clips */
	ra_run_release(&r);
	y = ra_test_read_double(half, &info);
	for (size_t i = 0; i < frames * 2; i++)
		ck_assert_double_eq_tol(y[i], x[i] * 0.5, 1e-7);
	free(y);
	free(x);
	free(in);
	free(out);
	free(half);
}
END_TEST

START_TEST(test_dither)
{
	const size_t frames = 48000;
	float *x = ra_test_noise(frames, 11, 0.5f);
	char *in = ra_test_scratch("in.wav");
	char *d1 = ra_test_scratch("d1.wav"), *d2 = ra_test_scratch("d2.wav");
	char *nd = ra_test_scratch("nd.wav");
	int *a, *c;
	SF_INFO info;
	size_t differ = 0;
	double err2 = 0.0;
	ra_run r;

	ra_test_write_float(in, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 1, x, frames);
	r = run_args((const char *const[]){ in, "--subtype", "pcm16", "-o", d1, NULL });
	ck_assert_int_eq(r.status, 0);
	ra_run_release(&r);
	r = run_args((const char *const[]){ in, "--subtype", "pcm16", "-o", d2, NULL });
	ck_assert_int_eq(r.status, 0);
	ra_run_release(&r);
	r = run_args((const char *const[]){ in, "--subtype", "pcm16", "--dither", "none", "-o", nd,
					    NULL });
	ck_assert_int_eq(r.status, 0);
	ra_run_release(&r);
	ck_assert_msg(ra_test_same_bytes(d1, d2), "dither is not reproducible");
	a = ra_test_read_int(d1, &info);
	c = ra_test_read_int(nd, &info);
	for (size_t i = 0; i < frames; i++) {
		double want = (double)x[i] * 32768.0;
		double e = (double)(a[i] >> 16) - want;

		/* Undithered: nearest value exactly. */
		ck_assert_int_eq(c[i] >> 16, (int)lrint(want));
		differ += a[i] != c[i];
		ck_assert(fabs(e) < 1.5);
		err2 += e * e;
	}
	/* TPDF (variance 1/6) plus rounding (1/12): 1/4 LSB^2. */
	ck_assert_double_eq_tol(err2 / frames, 0.25, 0.02);
	ck_assert_uint_gt(differ, frames / 4);
	free(a);
	free(c);
	free(x);
	free(in);
	free(d1);
	free(d2);
	free(nd);
}
END_TEST

/* ------------------------------------------------------------------ errors */

/* The option table writes these messages: their exact words. */
START_TEST(test_usage_messages)
{
	static const struct {
		const char *const argv[4];
		const char *err;
	} cases[] = {
		{ { "in.wav", "-o", "x.wav", "--gain" },
		  "rusty-audio: option '--gain' needs a value (see rusty-audio --help)\n" },
		{ { "--window", "foo", "in.wav" },
		  "rusty-audio: unknown --window 'foo' (see rusty-audio --help)\n" },
		{ { "--bogus", "in.wav" },
		  "rusty-audio: unknown option '--bogus' (see rusty-audio --help)\n" },
		{ { "-Z", "in.wav" },
		  "rusty-audio: unknown option '-Z' (see rusty-audio --help)\n" },
		{ { "--rate", "0", "in.wav" },
		  "rusty-audio: invalid --rate '0': expected a whole number of Hz, e.g. 48000 or "
		  "44.1k (see rusty-audio --help)\n" },
		{ { "--threads=abc", "in.wav" },
		  "rusty-audio: invalid --threads 'abc': expected 1 to 64 (see rusty-audio "
		  "--help)\n" },
		/* One number grammar: decimal, no hex, inf or nan. */
		{ { "--gain", "0x10", "in.wav" },
		  "rusty-audio: invalid --gain '0x10': expected decibels from -200 to 200 (see "
		  "rusty-audio --help)\n" },
		{ { "--gain", "inf", "in.wav" },
		  "rusty-audio: invalid --gain 'inf': expected decibels from -200 to 200 (see "
		  "rusty-audio --help)\n" },
		/* Refused before any work. */
		{ { "in.wav", "-o", "" },
		  "rusty-audio: --output '': an empty PATH names nothing (see rusty-audio "
		  "--help)\n" },
		/* Options that would do nothing, and the one they need. */
		{ { "--window", "hann", "in.wav" },
		  "rusty-audio: --window only applies with --spectrum, --plot, --spectrogram or "
		  "--analyze (see rusty-audio --help)\n" },
		{ { "--spectrum-of", "both", "in.wav" },
		  "rusty-audio: --spectrum-of only applies with --spectrum or --plot (see "
		  "rusty-audio --help)\n" },
		{ { "--spectrogram-bins", "8", "in.wav" },
		  "rusty-audio: --spectrogram-bins only applies with --spectrogram (see "
		  "rusty-audio --help)\n" },
		/* Standard input is read once, and has no name of its own. */
		{ { "-", "--normalize", "-o", "x.wav" },
		  "rusty-audio: -: --normalize reads its input twice, and a pipe can be read "
		  "once: give --spool, or save it to a file first\n" },
		{ { "-", "-", "-o", "." },
		  "rusty-audio: standard input can be read once; '-' names it twice\n" },
		{ { "-", "-o", ".", NULL },
		  "rusty-audio: -: standard input has no name to give its output; give -o "
		  "FILE\n" },
		{ { "--analyze", "--spectrum", "x.csv", "in.wav" },
		  "rusty-audio: --analyze prints its summary and writes no report; drop "
		  "--spectrum (see rusty-audio --help)\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[5] = { 0 };
		ra_run r;

		for (size_t k = 0; k < 4 && cases[i].argv[k]; k++)
			argv[k] = cases[i].argv[k];
		r = ra_test_run(argv, NULL);
		ck_assert_msg(r.status == 2, "case %zu: status %d", i, r.status);
		ck_assert_str_eq(r.err, cases[i].err);
		ra_run_release(&r);
	}
}
END_TEST

START_TEST(test_usage_errors)
{
	char *in = ra_test_scratch("in.wav");
	char *out = ra_test_scratch("out.wav");
	float x[64] = { 0 };
	const char *const *cases[] = {
		(const char *const[]){ "--bogus", in, "-o", out, NULL },
		(const char *const[]){ "--block-size", "0", in, "-o", out, NULL },
		(const char *const[]){ "--block-size=abc", in, "-o", out, NULL },
		(const char *const[]){ "--rate", "-5", in, "-o", out, NULL },
		(const char *const[]){ "--rate=0", in, "-o", out, NULL },
		(const char *const[]){ "--gain", "abc", in, "-o", out, NULL },
		(const char *const[]){ "--gain", "1e999", in, "-o", out, NULL },
		(const char *const[]){ "--gain", "0x10", in, "-o", out, NULL },
		(const char *const[]){ "--gain", "nan", in, "-o", out, NULL },
		(const char *const[]){ "--fft-size", "4096", in, "-o", out, NULL },
		(const char *const[]){ "--spectrum-of", "both", in, "-o", out, NULL },
		(const char *const[]){ "--format", "xyz", in, "-o", out, NULL },
		(const char *const[]){ "--subtype", "pcm7", in, "-o", out, NULL },
		(const char *const[]){ "--dither", "maybe", in, "-o", out, NULL },
		(const char *const[]){ "--resample-quality", "great", in, "-o", out, NULL },
		(const char *const[]){ in, NULL },
		(const char *const[]){ "-o", out, NULL },
		(const char *const[]){ in, "-o", NULL },
		(const char *const[]){ "--generate", "sine:30k", "--sample-rate", "48000", "-o",
				       out, NULL },
		(const char *const[]){ "--generate", "triangle", "-o", out, NULL },
		(const char *const[]){ "--generate", "white", in, "-o", out, NULL },
		(const char *const[]){ "--channels", "0", "--generate", "white", "-o", out, NULL },
		(const char *const[]){ in, "--channels", "2", "-o", out, NULL },
	};

	ra_test_write_float(in, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, x, 64);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ra_run r = run_args(cases[i]);

		ck_assert_msg(r.status == 2, "case %zu: status %d", i, r.status);
		assert_one_error_line(&r);
		ck_assert_str_eq(r.out, "");
		ra_run_release(&r);
		ck_assert_int_eq(access(out, F_OK), -1);
	}
	free(in);
	free(out);
}
END_TEST

START_TEST(test_help_and_version)
{
	ra_run r = run_args((const char *const[]){ "--help", NULL });

	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "usage: rusty-audio"));
	ck_assert_ptr_nonnull(strstr(r.out, "--files-from"));
	/* Every name --format takes, each once, as a word of the list. */
	for (size_t i = 0; ra_format_parse_name(i); i++) {
		char comma[32], last[32];

		snprintf(comma, sizeof(comma), " %s,", ra_format_parse_name(i));
		snprintf(last, sizeof(last), " %s\n", ra_format_parse_name(i));
		ck_assert_msg(ra_test_count(r.out, comma) + ra_test_count(r.out, last) == 1,
			      "--help lists --format %s %d times", ra_format_parse_name(i),
			      ra_test_count(r.out, comma) + ra_test_count(r.out, last));
	}
	ra_run_release(&r);
	r = run_args((const char *const[]){ "--version", NULL });
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "rusty-audio "));
	ra_run_release(&r);
}
END_TEST

START_TEST(test_bad_inputs)
{
	char *missing = ra_test_scratch("missing.wav");
	char *text = ra_test_scratch("notes.wav");
	char *out = ra_test_scratch("out.wav");
	FILE *f = fopen(text, "w");
	struct {
		const char *path;
		const char *why;
	} cases[] = {
		{ missing, "cannot open: No such file or directory" },
		{ ra_test_scratch_dir(), "cannot open: Is a directory" },
		{ text, "not a readable audio file" },
	};

	ck_assert_ptr_nonnull(f);
	fputs("this is not audio, just some words in a file\n", f);
	fclose(f);
	for (size_t i = 0; i < 3; i++) {
		ra_run r = run_args((const char *const[]){ cases[i].path, "-o", out, NULL });

		ck_assert_int_eq(r.status, 1);
		assert_one_error_line(&r);
		ck_assert_msg(strstr(r.err, cases[i].path) && strstr(r.err, cases[i].why), "%s",
			      r.err);
		ck_assert_int_eq(access(out, F_OK), -1);
		ra_run_release(&r);
	}
	ck_assert_int_eq(ra_test_dir_entries(ra_test_scratch_dir()), 1); /* only notes.wav */
	free(missing);
	free(text);
	free(out);
}
END_TEST

START_TEST(test_overwrite_refused)
{
	float x[100] = { 0.25f };
	char *in = ra_test_scratch("in.wav");
	char *out = ra_test_scratch("out.wav");
	FILE *f = fopen(out, "w");
	char *want;
	ra_run r;

	ck_assert_ptr_nonnull(f);
	fputs("precious", f);
	fclose(f);
	ra_test_write_float(in, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, x, 100);
	r = run_args((const char *const[]){ in, "-o", out, NULL });
	ck_assert_int_eq(r.status, 1);
	ck_assert_int_ne(asprintf(&want, "rusty-audio: %s: %s exists (use --force to replace it)\n",
				  in, out),
			 -1);
	ck_assert_str_eq(r.err, want);
	ra_run_release(&r);
	free(want);
	/* A generated signal's job is named by its output, whatever the
	 * message says after that. */
	r = run_args((const char *const[]){ "--generate", "sine:1k", "-o", out, NULL });
	ck_assert_int_eq(r.status, 1);
	ck_assert_int_ne(asprintf(&want, "rusty-audio: %s: %s exists (use --force to replace it)\n",
				  out, out),
			 -1);
	ck_assert_str_eq(r.err, want);
	ra_run_release(&r);
	free(want);
	ck_assert_int_eq(file_size(out), 8);
	ck_assert_int_eq(ra_test_dir_entries(ra_test_scratch_dir()), 2);

	r = run_args((const char *const[]){ "--force", in, "-o", out, NULL });
	ck_assert_int_eq(r.status, 0);
	ra_run_release(&r);
	ck_assert(ra_test_same_bytes(in, out));
	free(in);
	free(out);
}
END_TEST

/* The batch summary is a message like any other: prefixed, one line, last. */
START_TEST(test_summary_line)
{
	float x[100] = { 0.25f };
	char *a = ra_test_scratch("a.wav"), *b = ra_test_scratch("b.wav");
	char *outdir = ra_test_scratch("out");
	ra_run r;

	ck_assert_int_eq(mkdir(outdir, 0777), 0);
	ra_test_write_float(a, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, x, 100);
	ra_test_write_float(b, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, x, 100);
	r = run_args((const char *const[]){ a, b, "-o", outdir, NULL });
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_str_eq(r.err, "rusty-audio: 2 processed, 0 failed\n");
	ra_run_release(&r);
	free(a);
	free(b);
	free(outdir);
}
END_TEST

/* Any channel count converts at any quality with either engine (each
 * channel has an engine of its own; libsamplerate's sinc filters alone
 * take 128 at most). */
START_TEST(test_resample_many_channels)
{
	static const char *engines[] = { "soxr", "libsamplerate" };
	char *out = ra_test_scratch("out.wav");

	for (int e = 0; e < 2; e++) {
		SF_INFO info;
		double *x;

		ra_test_run_ok((const char *const[]){ "-q", "-f", "--generate", "white",
						      "--channels", "129", "--duration", "0.01",
						      "--sample-rate", "8000", "--rate", "16000",
						      "--resampler", engines[e], "-o", out, NULL });
		x = ra_test_read_double(out, &info);
		ck_assert_int_eq(info.channels, 129);
		ck_assert_int_eq(info.samplerate, 16000);
		ck_assert_int_eq(info.frames, 160);
		free(x);
	}
	free(out);
}
END_TEST

START_TEST(test_never_overwrites_input)
{
	float x[100] = { 0.25f, -0.5f };
	char *in = ra_test_scratch("in.wav");
	char *sym = ra_test_scratch("sym.wav");
	char *hard = ra_test_scratch("hard.wav");
	char *copy = ra_test_scratch("copy.wav");
	const char *targets[] = { in, sym, hard };
	ra_run r;

	ra_test_write_float(in, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, x, 100);
	ck_assert_int_eq(symlink(in, sym), 0);
	ck_assert_int_eq(link(in, hard), 0);
	r = run_args((const char *const[]){ in, "-o", copy, NULL });
	ck_assert_int_eq(r.status, 0);
	ra_run_release(&r);
	for (size_t i = 0; i < 3; i++) {
		r = run_args((const char *const[]){ "--force", "--gain", "3", in, "-o", targets[i],
						    NULL });
		ck_assert_msg(r.status == 2, "target %zu: %d", i, r.status);
		assert_one_error_line(&r);
		ck_assert_ptr_nonnull(strstr(r.err, "overwrite the input"));
		ra_run_release(&r);
		ck_assert(ra_test_same_bytes(in, copy));
	}
	ck_assert_int_eq(ra_test_dir_entries(ra_test_scratch_dir()), 4);
	free(in);
	free(sym);
	free(hard);
	free(copy);
}
END_TEST

/* A header that libsndfile accepts but no sane tool should: 50 MHz. */
START_TEST(test_absurd_rate)
{
	char *in = ra_test_scratch("fast.wav"), *out = ra_test_scratch("out.wav");
	float x[16] = { 0 };
	unsigned char rate[4] = { 0x80, 0xf0, 0xfa, 0x02 };  /* 50,000,000 */
	unsigned char bytes[8] = { 0x00, 0xe1, 0xf5, 0x05 }; /* rate * 2 */
	FILE *f;
	ra_run r;

	ra_test_write_float(in, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, x, 16);
	f = fopen(in, "r+b");
	ck_assert_ptr_nonnull(f);
	fseek(f, 24, SEEK_SET); /* fmt: sample rate, then bytes per second */
	fwrite(rate, 1, 4, f);
	fwrite(bytes, 1, 4, f);
	fclose(f);
	r = run_args((const char *const[]){ in, "-o", out, NULL });
	ck_assert_int_eq(r.status, 1);
	assert_one_error_line(&r);
	ck_assert_msg(strstr(r.err, "unsupported sample rate 50000000 Hz"), "%s", r.err);
	ck_assert_int_eq(access(out, F_OK), -1);
	ra_run_release(&r);
	free(in);
	free(out);
}
END_TEST

/* Run the binary with stderr on a terminal; returns what the terminal saw. */
static char *run_on_tty(const char *const *argv, int *status)
{
	char *seen = calloc(1, 1);
	size_t len = 0;
	int master, wstatus;
	pid_t pid = forkpty(&master, NULL, NULL, NULL);

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execv(RA_TEST_PROGRAM, (char *const *)argv);
		_exit(127);
	}
	for (;;) {
		char chunk[4096];
		ssize_t n = read(master, chunk, sizeof(chunk));

		if (n <= 0)
			break; /* EIO once the child has gone */
		char *grown = realloc(seen, len + (size_t)n + 1);

		ck_assert_ptr_nonnull(grown);
		seen = grown;
		memcpy(seen + len, chunk, (size_t)n);
		len += (size_t)n;
		seen[len] = '\0';
	}
	close(master);
	ck_assert_int_eq(waitpid(pid, &wstatus, 0), pid);
	*status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
	return seen;
}

START_TEST(test_progress_on_terminal)
{
	char *a = ra_test_scratch("a.wav"), *b = ra_test_scratch("b.wav");
	char *outdir = ra_test_scratch("out");
	float *x = ra_test_noise(48000, 1, 0.5f);
	char *seen;
	int status;

	ra_test_write_float(a, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 1, x, 48000);
	ra_test_write_float(b, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 1, x, 48000);
	ck_assert_int_eq(mkdir(outdir, 0777), 0);
	seen = run_on_tty((const char *const[]){ RA_TEST_PROGRAM, a, b, "-o", outdir, NULL },
			  &status);
	ck_assert_int_eq(status, 0);
	ck_assert_msg(strstr(seen, "\rrusty-audio: 1/2 files, 0 failed, ") &&
			      strstr(seen, "\rrusty-audio: 2/2 files, 0 failed, 0.00 h of audio, "),
		      "%s", seen);
	ck_assert_ptr_nonnull(strstr(seen, "x real time, "));
	ck_assert_ptr_nonnull(strstr(seen, "2 processed, 0 failed"));
	free(seen);
	/* -q: nothing at all on the terminal. */
	seen = run_on_tty(
		(const char *const[]){ RA_TEST_PROGRAM, "-q", "-f", a, b, "-o", outdir, NULL },
		&status);
	ck_assert_int_eq(status, 0);
	ck_assert_str_eq(seen, "");
	free(seen);
	/* One file: its own percentage as it goes. */
	seen = run_on_tty((const char *const[]){ RA_TEST_PROGRAM, "-f", a, "-o", outdir, NULL },
			  &status);
	ck_assert_int_eq(status, 0);
	ck_assert_msg(strstr(seen, "\rrusty-audio: ") && strstr(seen, "a.wav: ") &&
			      strstr(seen, "%"),
		      "%s", seen);
	free(seen);
	free(x);
	free(a);
	free(b);
	free(outdir);
}
END_TEST

/* ------------------------------------------------------------------- batch */

START_TEST(test_batch_with_a_bad_file)
{
	float x[480];
	char *a = ra_test_scratch("a.wav"), *b = ra_test_scratch("b.aiff");
	char *bad = ra_test_scratch("bad.wav"), *outdir = ra_test_scratch("out");
	char *oa = ra_test_path(outdir, "a.flac"), *ob = ra_test_path(outdir, "b.flac");
	SF_INFO info;
	ra_run r;
	FILE *f;

	for (int i = 0; i < 480; i++)
		x[i] = 0.5f * sinf((float)i * 0.1f);
	ra_test_write_float(a, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 48000, 1, x, 480);
	ra_test_write_float(b, SF_FORMAT_AIFF | SF_FORMAT_PCM_24, 48000, 2, x, 240);
	f = fopen(bad, "w");
	fputs("RIFF....WAVEgarbage", f);
	fclose(f);
	ck_assert_int_eq(mkdir(outdir, 0777), 0);
	r = run_args((const char *const[]){ a, bad, b, "--format", "flac", "-o", outdir, NULL });
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(ra_test_count(r.err, "\n") == 2, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.err, "bad.wav: not a readable audio file"));
	ck_assert_ptr_nonnull(strstr(r.err, "2 processed, 1 failed\n"));
	ra_run_release(&r);
	ck_assert_int_eq(ra_test_dir_entries(outdir), 2);
	free(ra_test_read_double(oa, &info));
	ck_assert_int_eq(info.frames, 480);
	ck_assert_int_eq(info.format, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
	free(ra_test_read_double(ob, &info));
	ck_assert_int_eq(info.frames, 240);
	ck_assert_int_eq(info.channels, 2);
	ck_assert_int_eq(info.format, SF_FORMAT_FLAC | SF_FORMAT_PCM_24);

	/* All good: exit 0; -q drops the summary. */
	r = run_args((const char *const[]){ "-q", "-f", a, b, "-o", outdir, NULL });
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.err, "");
	ra_run_release(&r);
	ck_assert_int_eq(ra_test_dir_entries(outdir), 4);

	/* Several inputs need a folder. */
	r = run_args((const char *const[]){ a, b, "-o", oa, NULL });
	ck_assert_int_eq(r.status, 2);
	assert_one_error_line(&r);
	ra_run_release(&r);
	free(a);
	free(b);
	free(bad);
	free(oa);
	free(ob);
	free(outdir);
}
END_TEST

START_TEST(test_files_from)
{
	float x[100] = { 0.1f };
	char *sub1 = ra_test_scratch("one"), *sub2 = ra_test_scratch("two");
	char *a = ra_test_path(sub1, "same.wav"), *b = ra_test_path(sub2, "same.wav");
	char *c = ra_test_scratch("c.wav"), *outdir = ra_test_scratch("out");
	char *list = ra_test_scratch("list.txt"), *text;
	ra_run r;
	FILE *f;

	ck_assert_int_eq(mkdir(sub1, 0777), 0);
	ck_assert_int_eq(mkdir(sub2, 0777), 0);
	ck_assert_int_eq(mkdir(outdir, 0777), 0);
	ra_test_write_float(a, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, x, 100);
	ra_test_write_float(b, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, x, 50);
	ra_test_write_float(c, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, x, 10);

	/* From stdin, with a blank line and CRLF; two inputs share a name. */
	ck_assert_int_ne(asprintf(&text, "%s\n\n%s\r\n%s\n", a, c, b), -1);
	r = ra_test_run((const char *const[]){ "--files-from", "-", "-o", outdir, NULL }, text);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "is also that of an earlier input"), "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.err, "2 processed, 1 failed"));
	ra_run_release(&r);
	ck_assert_int_eq(ra_test_dir_entries(outdir), 2);
	free(text);

	/* From a file, plus one on the command line. */
	f = fopen(list, "w");
	fprintf(f, "%s\n", c);
	fclose(f);
	r = run_args((const char *const[]){ "-f", "--files-from", list, a, "-o", outdir, NULL });
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.err, "2 processed, 0 failed"));
	ra_run_release(&r);

	r = run_args(
		(const char *const[]){ "--files-from", "/nonexistent/list", "-o", outdir, NULL });
	ck_assert_int_eq(r.status, 2);
	assert_one_error_line(&r);
	ra_run_release(&r);
	free(sub1);
	free(sub2);
	free(a);
	free(b);
	free(c);
	free(outdir);
	free(list);
}
END_TEST

/* -------------------------------------------------------------- resampling */

/* The engines, for --resampler: each resampling test runs with both. */
static const char *const resamplers[] = { "soxr", "libsamplerate" };

START_TEST(test_resampled_length)
{
	static const struct {
		int from, to;
		long frames;
	} cases[] = {
		{ 44100, 48000, 44100 }, { 44100, 48000, 12345 }, { 48000, 44100, 1 },
		{ 48000, 44100, 99991 }, { 8000, 96000, 777 },	  { 96000, 22050, 30001 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char rate[16];
		char *in = ra_test_scratch("in.wav"), *out = ra_test_scratch("out.wav");
		float *x = ra_test_noise((size_t)cases[i].frames, 5, 0.25f);
		long want = (long)llround((double)cases[i].frames * cases[i].to / cases[i].from);
		SF_INFO info;

		ra_test_write_float(in, SF_FORMAT_WAV | SF_FORMAT_FLOAT, cases[i].from, 1, x,
				    (size_t)cases[i].frames);
		snprintf(rate, sizeof(rate), "%d", cases[i].to);
		ra_test_run_ok((const char *const[]){ "-f", in, "--rate", rate, "--resampler",
						      resamplers[_i], "-o", out, NULL });
		free(ra_test_read_double(out, &info));
		ck_assert_int_eq(info.samplerate, cases[i].to);
		ck_assert_msg(info.frames == want, "%d->%d %ld frames: got %ld, want %ld",
			      cases[i].from, cases[i].to, cases[i].frames, (long)info.frames, want);
		free(x);
		free(in);
		free(out);
	}
}
END_TEST

/* A 1 kHz sine keeps its frequency, level and timing through 48k -> 44.1k. */
START_TEST(test_resampled_sine)
{
	char *in = ra_test_scratch("sine.wav"), *out = ra_test_scratch("out.wav");
	double *y, worst = 0.0;
	SF_INFO info;

	ra_test_run_ok((const char *const[]){ "--generate", "sine:1000", "--level", "-6.020599913",
					      "--duration", "1", "--sample-rate", "48000", "-o", in,
					      NULL });
	ra_test_run_ok((const char *const[]){ in, "--rate", "44.1k", "--resampler", resamplers[_i],
					      "-o", out, NULL });
	y = ra_test_read_double(out, &info);
	ck_assert_int_eq(info.frames, 44100);
	for (long n = 2000; n < 42000; n++) {
		double want = 0.5 * sin(2.0 * M_PI * 1000.0 * (double)n / 44100.0);

		worst = fmax(worst, fabs(y[n] - want));
	}
	ck_assert_msg(worst < 1e-4, "worst error %g", worst);
	free(y);
	free(in);
	free(out);
}
END_TEST

/* ---------------------------------------------------------------- metadata */

/* A 0.1 s mono WAV at PATH with strings, a bext chunk and two cues. */
static void write_tagged_wav(const char *path)
{
	float x[4800] = { 0 };
	SF_INFO info = { .samplerate = 48000,
			 .channels = 1,
			 .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
	SF_BROADCAST_INFO bext = { 0 };
	SF_CUES cues = { 0 };
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);

	ck_assert_ptr_nonnull(sf);
	sf_set_string(sf, SF_STR_TITLE, "Test Tone");
	sf_set_string(sf, SF_STR_ARTIST, "rusty-audio tests");
	sf_set_string(sf, SF_STR_COMMENT, "carried across");
	strcpy(bext.description, "a broadcast wave");
	strcpy(bext.originator, "check_cli");
	bext.time_reference_low = 96000;
	ck_assert_int_eq(sf_command(sf, SFC_SET_BROADCAST_INFO, &bext, sizeof(bext)), SF_TRUE);
	cues.cue_count = 2;
	cues.cue_points[0].indx = 1;
	cues.cue_points[0].position = 1000;
	cues.cue_points[0].fcc_chunk = 0x61746164; /* "data" */
	cues.cue_points[0].sample_offset = 1000;
	cues.cue_points[1].indx = 2;
	cues.cue_points[1].position = 4000;
	cues.cue_points[1].fcc_chunk = 0x61746164;
	cues.cue_points[1].sample_offset = 4000;
	ck_assert_int_eq(sf_command(sf, SFC_SET_CUE, &cues, sizeof(cues)), SF_TRUE);
	ck_assert_int_eq(sf_writef_float(sf, x, 4800), 4800);
	ck_assert_int_eq(sf_close(sf), 0);
}

START_TEST(test_metadata_carried)
{
	char *in = ra_test_scratch("tagged.wav"), *out = ra_test_scratch("out.wav");
	char *half = ra_test_scratch("half.wav");
	SF_BROADCAST_INFO got_bext = { 0 };
	SF_CUES got_cues = { 0 };
	SF_INFO info;
	SNDFILE *sf;

	write_tagged_wav(in);
	ra_test_run_ok((const char *const[]){ "-f", in, "-o", out, NULL });
	ra_test_run_ok((const char *const[]){ "-f", in, "--rate", "24000", "--resampler",
					      resamplers[_i], "-o", half, NULL });

	for (int k = 0; k < 2; k++) {
		const double ratio = k ? 0.5 : 1.0;

		memset(&info, 0, sizeof(info));
		sf = sf_open(k ? half : out, SFM_READ, &info);
		ck_assert_ptr_nonnull(sf);
		ck_assert_str_eq(sf_get_string(sf, SF_STR_TITLE), "Test Tone");
		ck_assert_str_eq(sf_get_string(sf, SF_STR_ARTIST), "rusty-audio tests");
		ck_assert_str_eq(sf_get_string(sf, SF_STR_COMMENT), "carried across");
		ck_assert_int_eq(
			sf_command(sf, SFC_GET_BROADCAST_INFO, &got_bext, sizeof(got_bext)),
			SF_TRUE);
		ck_assert_str_eq(got_bext.description, "a broadcast wave");
		ck_assert_str_eq(got_bext.originator, "check_cli");
		ck_assert_uint_eq(got_bext.time_reference_low, (unsigned)(96000 * ratio));
		ck_assert_int_eq(sf_command(sf, SFC_GET_CUE, &got_cues, sizeof(got_cues)), SF_TRUE);
		ck_assert_uint_eq(got_cues.cue_count, 2);
		ck_assert_uint_eq(got_cues.cue_points[0].position, (unsigned)(1000 * ratio));
		ck_assert_uint_eq(got_cues.cue_points[1].position, (unsigned)(4000 * ratio));
		sf_close(sf);
	}
	free(in);
	free(out);
	free(half);
}
END_TEST

/* Real files' bext and cue chunks survive (corpus files from DAWs). */
START_TEST(test_corpus_metadata)
{
	static const char *files[] = { "valid/hound__pro_tools_bext.wav",
				       "valid/wavefile__test-cue-reaper.wav" };

	for (int k = 0; k < 2; k++) {
		char *in = ra_test_corpus_path(files[k]);
		char *out = ra_test_scratch(k ? "cue.wav" : "bext.wav");
		SF_BROADCAST_INFO a = { 0 }, b = { 0 };
		uint32_t ca = 0, cb = 0;
		SF_INFO ia = { 0 }, ib = { 0 };
		SNDFILE *sa, *sb;
		ra_run r = run_args((const char *const[]){ in, "-o", out, NULL });

		ck_assert_msg(r.status == 0, "%s", r.err);
		ra_run_release(&r);
		sa = sf_open(in, SFM_READ, &ia);
		sb = sf_open(out, SFM_READ, &ib);
		ck_assert_ptr_nonnull(sa);
		ck_assert_ptr_nonnull(sb);
		if (k == 0) {
			ck_assert_int_eq(sf_command(sa, SFC_GET_BROADCAST_INFO, &a, sizeof(a)),
					 SF_TRUE);
			ck_assert_int_eq(sf_command(sb, SFC_GET_BROADCAST_INFO, &b, sizeof(b)),
					 SF_TRUE);
			ck_assert_int_eq(
				memcmp(a.description, b.description, sizeof(a.description)), 0);
			ck_assert_int_eq(memcmp(a.origination_date, b.origination_date,
						sizeof(a.origination_date)),
					 0);
			ck_assert_uint_eq(a.time_reference_low, b.time_reference_low);
		} else {
			sf_command(sa, SFC_GET_CUE_COUNT, &ca, sizeof(ca));
			sf_command(sb, SFC_GET_CUE_COUNT, &cb, sizeof(cb));
			ck_assert_uint_gt(ca, 0);
			ck_assert_uint_eq(ca, cb);
		}
		sf_close(sa);
		sf_close(sb);
		free(in);
		free(out);
	}
}
END_TEST

/* ------------------------------------------------------ generator, formats */

START_TEST(test_generate)
{
	static const char *signals[] = { "sine:1k", "sweep:20:20000", "white",
					 "pink",    "impulse",	      "silence" };

	for (size_t i = 0; i < 6; i++) {
		char *out = ra_test_scratch("gen.wav");
		double *y, peak = 0.0;
		SF_INFO info;
		ra_run r = run_args((const char *const[]){
			"-f", "--generate", signals[i], "--duration", "0.5", "--sample-rate",
			"44100", "--channels", "2", "-o", out, NULL });

		ck_assert_msg(r.status == 0, "%s: %s", signals[i], r.err);
		ck_assert_str_eq(r.err, "");
		ra_run_release(&r);
		y = ra_test_read_double(out, &info);
		ck_assert_int_eq(info.frames, 22050);
		ck_assert_int_eq(info.channels, 2);
		ck_assert_int_eq(info.samplerate, 44100);
		ck_assert_int_eq(info.format, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
		for (long n = 0; n < info.frames * 2; n++)
			peak = fmax(peak, fabs(y[n]));
		/* Default level -3 dBFS peak. */
		if (i == 5)
			ck_assert_double_eq(peak, 0.0);
		else
			ck_assert_double_le(peak, pow(10.0, -3.0 / 20.0) + 1e-6);
		if (i == 0 || i == 4)
			ck_assert_double_eq_tol(peak, pow(10.0, -3.0 / 20.0), 1e-3);
		free(y);
		free(out);
	}
}
END_TEST

/* A valid file without frames gives a valid empty output and a warning. */
START_TEST(test_empty_input)
{
	static const char *outs[] = { "out.wav", "out.flac", "out.ogg", "out.aiff" };
	char *in = ra_test_scratch("empty.wav");

	ra_test_write_float(in, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, NULL, 0);
	for (int k = 0; k < 4; k++) {
		char *out = ra_test_scratch(outs[k]);
		SF_INFO info = { 0 };
		SNDFILE *sf;
		double frame[2];
		ra_run r = run_args((const char *const[]){ in, "-o", out, NULL });

		ck_assert_int_eq(r.status, 0);
		ck_assert_msg(strstr(r.err, "warning: ") && strstr(r.err, "no audio frames"), "%s",
			      r.err);
		ra_run_release(&r);
		/* FLAC cannot say "0 frames" (0 means unknown): it must decode none. */
		sf = sf_open(out, SFM_READ, &info);
		ck_assert_msg(sf != NULL, "%s: %s", outs[k], sf_strerror(NULL));
		ck_assert_int_eq(info.channels, 2);
		ck_assert_int_eq(info.samplerate, 44100);
		ck_assert_int_eq(sf_readf_double(sf, frame, 1), 0);
		sf_close(sf);
		free(out);
	}
	free(in);
}
END_TEST

START_TEST(test_fallback_subtype_noted_once)
{
	float x[256];
	char *a = ra_test_scratch("a.wav"), *b = ra_test_scratch("b.wav");
	char *outdir = ra_test_scratch("o"), *oa = ra_test_path(outdir, "a.flac");
	SF_INFO info;
	ra_run r;

	for (int i = 0; i < 256; i++)
		x[i] = 0.25f * sinf((float)i);
	ra_test_write_float(a, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 1, x, 256);
	ra_test_write_float(b, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 1, x, 256);
	ck_assert_int_eq(mkdir(outdir, 0777), 0);
	r = run_args((const char *const[]){ "--format", "flac", a, b, "-o", outdir, NULL });
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_int_eq(ra_test_count(r.err, "flac cannot hold float; writing pcm24"), 1);
	ra_run_release(&r);
	free(ra_test_read_double(oa, &info));
	ck_assert_int_eq(info.format, SF_FORMAT_FLAC | SF_FORMAT_PCM_24);

	/* An explicit subtype the format cannot hold is an error, not a fallback. */
	r = run_args((const char *const[]){ a, "--subtype", "float", "-o", oa, "-f", NULL });
	ck_assert_int_eq(r.status, 1);
	assert_one_error_line(&r);
	ra_run_release(&r);
	free(a);
	free(b);
	free(outdir);
	free(oa);
}
END_TEST

/* SECONDS of stereo 44.1 kHz 16-bit SIGNAL at PATH. */
static void generate(const char *path, const char *signal, const char *seconds)
{
	ra_run r = run_args((const char *const[]){ "--generate", signal, "--duration", seconds,
						   "--sample-rate", "44100", "--channels", "2",
						   "--subtype", "pcm16", "-o", path, NULL });

	ck_assert_msg(r.status == 0, "%s", r.err);
	ra_run_release(&r);
}

/* Peak RSS of a run of ARGS with INPUT and OUTPUT appended; it must
 * succeed. */
static long run_rss(const char *const *args, const char *input, const char *output)
{
	const char *argv[16];
	size_t n = 0;
	ra_run r;
	long rss;

	while (n < 12 && args[n]) {
		argv[n] = args[n];
		n++;
	}
	argv[n++] = input;
	argv[n++] = "-o";
	argv[n++] = output;
	argv[n] = NULL;
	r = run_args(argv);
	ck_assert_msg(r.status == 0, "%s", r.err);
	rss = r.maxrss_kb;
	ra_run_release(&r);
	return rss;
}

/*
 * Peak memory does not grow with the file: 453 s of FLAC against 10 s,
 * copied, and resampled by each engine (libsamplerate at its fast quality,
 * which streams the same way and takes a fraction of the time).
 */
START_TEST(test_bounded_memory)
{
	static const char *const copy[] = { "-f", NULL };
	static const char *const soxr[] = { "-f", "--rate", "48000", NULL };
	static const char *const src[] = {
		"-f",	"--rate", "48000", "--resampler", "libsamplerate", "--resample-quality",
		"fast", NULL
	};
	const char *const *jobs[] = { copy, soxr, src };
	char *long_in = ra_test_scratch("long.flac"), *short_in = ra_test_scratch("short.flac");
	char *out1 = ra_test_scratch("o1.wav"), *out2 = ra_test_scratch("o2.wav");
	SF_INFO info;

	generate(short_in, "pink", "10");
	/* Silence: as long to decode, but a small file to write. */
	generate(long_in, "silence", "453");
	for (size_t j = 0; j < 3; j++) {
		long rss_short = run_rss(jobs[j], short_in, out1);
		long rss_long = run_rss(jobs[j], long_in, out2);

		ck_assert_int_eq(sf_close(sf_open(out2, SFM_READ, &info)), 0);
		ck_assert_int_eq(info.frames, 453 * (j ? 48000 : 44100));
		ck_assert_msg(labs(rss_long - rss_short) < 5 * 1024,
			      "job %zu: peak RSS %ld KiB vs %ld KiB", j, rss_long, rss_short);
	}
	free(long_in);
	free(short_in);
	free(out1);
	free(out2);
}
END_TEST

/* ------------------------------------------------------------------ corpus */

/* Every corpus file: processed as libsndfile reads it, or a one-line error;
 * never a crash, a hang or a partial output. */
START_TEST(test_corpus)
{
	char *manifest = ra_test_corpus_path("MANIFEST.tsv");
	FILE *f = fopen(manifest, "r");
	char *line = NULL;
	size_t cap = 0;
	int files = 0, processed = 0, refused = 0;

	ck_assert_msg(f != NULL, "cannot read %s", manifest);
	ck_assert_int_ge(getline(&line, &cap, f), 0); /* header */
	while (getline(&line, &cap, f) > 0) {
		char *fields[9] = { 0 }, *p = line, *in, *out;
		long decoded = -1;
		SF_INFO info;
		ra_run r;
		int n = 0;

		line[strcspn(line, "\n")] = '\0';
		while (n < 9 && (fields[n++] = strsep(&p, "\t")) != NULL)
			;
		ck_assert_ptr_nonnull(fields[7]);
		in = ra_test_corpus_path(fields[0]);
		out = ra_test_scratch("out.wav");
		if (strcmp(fields[7], "open fails") != 0)
			decoded = strtol(fields[7], NULL, 10);
		/* First with the defaults: the input's own format and subtype. */
		{
			const char *ext = strrchr(fields[0], '.');
			char *same;

			ck_assert_int_ne(
				asprintf(&same, "%s/same%s", ra_test_scratch_dir(), ext ? ext : ""),
				-1);
			r = run_args((const char *const[]){ in, "-o", same, NULL });
			ck_assert_msg(r.status == 0 || r.status == 1, "%s: status %d", fields[0],
				      r.status);
			if (r.status == 1) {
				assert_one_error_line(&r);
				ck_assert_int_eq(access(same, F_OK), -1);
			}
			ck_assert_int_le(ra_test_dir_entries(ra_test_scratch_dir()), 1);
			unlink(same);
			free(same);
			ra_run_release(&r);
		}
		/* Then to float WAV, where every decoded frame can be counted
		 * (block codecs such as MS ADPCM pad their last block). */
		r = run_args((const char *const[]){ "-f", in, "--format", "wav", "--subtype",
						    "float", "-o", out, NULL });
		ck_assert_msg(r.status == 0 || r.status == 1, "%s: status %d", fields[0], r.status);
		files++;
		if (decoded > 0) {
			/* libsndfile decodes frames: they must come out, all of them. */
			ck_assert_msg(r.status == 0, "%s: %s", fields[0], r.err);
			free(ra_test_read_double(out, &info));
			ck_assert_msg(info.frames == decoded,
				      "%s: %ld frames, libsndfile reads %ld", fields[0],
				      (long)info.frames, decoded);
			processed++;
		} else if (decoded < 0 || strstr(fields[7], "then error")) {
			ck_assert_msg(r.status == 1, "%s: expected a clean error", fields[0]);
			assert_one_error_line(&r);
			ck_assert_ptr_nonnull(strstr(r.err, fields[0]));
			ck_assert_int_eq(access(out, F_OK), -1);
			refused++;
		} else {
			/* Opens, decodes nothing, no error: an empty output. */
			ck_assert_msg(r.status == 0, "%s: %s", fields[0], r.err);
			ck_assert_ptr_nonnull(strstr(r.err, "warning: "));
			free(ra_test_read_double(out, &info));
			ck_assert_int_eq(info.frames, 0);
			processed++;
		}
		/* Nothing but the output: no temporary file left behind. */
		ck_assert_int_le(ra_test_dir_entries(ra_test_scratch_dir()), 1);
		unlink(out);
		ra_run_release(&r);
		free(in);
		free(out);
	}
	ck_assert_int_gt(files, 100);
	ck_assert_int_gt(processed, 50);
	ck_assert_int_gt(refused, 20);
	free(line);
	fclose(f);
	free(manifest);
}
END_TEST

/* Inputs are never modified, whatever the run does to them. */
START_TEST(test_input_untouched)
{
	char *in = ra_test_scratch("in.wav"), *copy = ra_test_scratch("copy.wav");
	char *out = ra_test_scratch("out.ogg");
	size_t len;
	char *bytes;
	struct stat before, after;
	FILE *f;

	write_tagged_wav(in);
	bytes = ra_test_slurp(in, &len);
	f = fopen(copy, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(stat(in, &before), 0);
	ra_test_run_ok(
		(const char *const[]){ in, "--gain", "12", "--rate", "8000", "-o", out, NULL });
	ck_assert_int_eq(stat(in, &after), 0);
	ck_assert(ra_test_same_bytes(in, copy));
	ck_assert_int_eq(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
	ck_assert_int_eq(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
	free(bytes);
	free(in);
	free(copy);
	free(out);
}
END_TEST

static Suite *cli_suite(void)
{
	/* Real files from ../shared/corpus (or $RA_CORPUS). */
	const TTest *const corpus_tests[] = { test_corpus_metadata, test_corpus };
	Suite *s = suite_create("cli");
	/* Each test runs the binary several times: a watchdog for hangs only,
	 * far above what a slow or busy machine needs. */
	TCase *exact = ra_test_tcase(s, "exactness", 60);
	TCase *errors = ra_test_tcase(s, "errors", 60);
	TCase *batch = ra_test_tcase(s, "batch", 60);
	TCase *dsp = ra_test_tcase(s, "resample", 60);
	TCase *meta = ra_test_tcase(s, "metadata", 60);
	TCase *misc = ra_test_tcase(s, "formats", 120);
	TCase *corpus = ra_test_tcase(s, "corpus", 300);

	tcase_add_loop_test(exact, test_passthrough_is_bit_exact, 0,
			    (int)(sizeof(exact_formats) / sizeof(exact_formats[0])));
	tcase_add_test(exact, test_widening_and_block_sizes);
	tcase_add_test(exact, test_gain_and_clipping);
	tcase_add_test(exact, test_dither);

	tcase_add_test(errors, test_usage_errors);
	tcase_add_test(errors, test_usage_messages);
	tcase_add_test(errors, test_help_and_version);
	tcase_add_test(errors, test_bad_inputs);
	tcase_add_test(errors, test_overwrite_refused);
	tcase_add_test(errors, test_never_overwrites_input);
	tcase_add_test(errors, test_input_untouched);
	tcase_add_test(errors, test_absurd_rate);

	tcase_add_test(batch, test_batch_with_a_bad_file);
	tcase_add_test(batch, test_files_from);
	tcase_add_test(batch, test_summary_line);
	tcase_add_test(batch, test_progress_on_terminal);

	tcase_add_loop_test(dsp, test_resampled_length, 0, 2);
	tcase_add_loop_test(dsp, test_resampled_sine, 0, 2);
	tcase_add_test(dsp, test_resample_many_channels);

	tcase_add_loop_test(meta, test_metadata_carried, 0, 2);

	tcase_add_test(misc, test_generate);
	tcase_add_test(misc, test_empty_input);
	tcase_add_test(misc, test_fallback_subtype_noted_once);
	tcase_add_test(misc, test_bounded_memory);

	ra_test_add_corpus_tests(corpus, "check_cli", corpus_tests,
				 sizeof(corpus_tests) / sizeof(corpus_tests[0]));
	return s;
}

int main(void)
{
	return ra_test_main(cli_suite());
}
