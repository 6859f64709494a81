/* End-to-end tests of the spectrum reports through the binary: levels a
 * user can check by hand, the CSV layout, the EQ check columns, the SVG,
 * determinism, batches and errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <sndfile.h>

#include "testutil.h"

/* The line after the one LINE is in. */
static const char *next_line(const char *line)
{
	const char *nl = strchr(line, '\n');

	ck_assert_ptr_nonnull(nl);
	return nl ? nl + 1 : line;
}

/* The data rows of a CSV: *ROWS rows of *COLS numbers, row-major. */
static double *parse_csv(const char *text, int *rows, int *cols, char *header, size_t size)
{
	double *v = NULL;
	size_t n = 0, cap = 0;
	const char *line = text;

	*rows = *cols = 0;
	while (*line == '#')
		line = next_line(line);
	snprintf(header, size, "%.*s", (int)strcspn(line, "\n"), line);
	*cols = ra_test_count(header, ",") + 1;
	line = next_line(line);
	while (*line) {
		char *end;

		if (n + (size_t)*cols > cap) {
			double *grown;

			cap = 2 * cap + (size_t)*cols;
			grown = realloc(v, cap * sizeof(*v));
			ck_assert_ptr_nonnull(grown);
			v = grown;
		}
		for (int c = 0; c < *cols; c++) {
			v[n++] = strtod(line, &end);
			ck_assert_msg(end != line, "bad number in row %d", *rows);
			line = end + (*end == ',');
		}
		ck_assert_int_eq(*line, '\n');
		line++;
		(*rows)++;
	}
	return v;
}

/* A full-scale sine centred on a bin reads 0 dB on the dbfs scale. */
START_TEST(test_full_scale_sine)
{
	char *sine = ra_test_scratch("sine.wav"), *out = ra_test_scratch("out.wav");
	char *csv = ra_test_scratch("s.csv"), header[256], *text;
	int rows, cols;
	double *v;

	/* Bin 100 of 2048 at 48 kHz: 2343.75 Hz. */
	ra_test_run_ok((const char *const[]){ "--generate", "sine:2343.75", "--level", "0",
					      "--duration", "2", "-o", sine, NULL });
	ra_test_run_ok((const char *const[]){ sine, "--spectrum", csv, "--spectrum-scale", "dbfs",
					      "--window", "flattop", "-o", out, NULL });
	text = ra_test_slurp(csv, NULL);
	ck_assert_ptr_nonnull(strstr(text, "# fft_size: 2048\n"));
	ck_assert_ptr_nonnull(strstr(text, "# window: flattop\n"));
	ck_assert_ptr_nonnull(strstr(text, "# segments: 92\n")); /* (96000 - 2048) / 1024 + 1 */
	v = parse_csv(text, &rows, &cols, header, sizeof(header));
	ck_assert_str_eq(header, "frequency_hz,ch1_db");
	ck_assert_int_eq(rows, 1025);
	ck_assert_double_eq_tol(v[100 * 2], 2343.75, 1e-9);
	ck_assert_double_eq_tol(v[100 * 2 + 1], 0.0, 0.05);
	free(v);
	free(text);
	free(sine);
	free(out);
	free(csv);
}
END_TEST

/* --spectrum-of both: the EQ's effect and its design agree. */
START_TEST(test_both_sides_check_the_eq)
{
	char *in = ra_test_scratch("pink.wav"), *out = ra_test_scratch("out.wav");
	char *csv = ra_test_scratch("b.csv"), *svg = ra_test_scratch("b.svg"), header[512];
	char *text;
	int rows, cols;
	double *v, worst = 0.0;

	ra_test_run_ok((const char *const[]){ "--generate", "pink", "--duration", "10",
					      "--channels", "2", "-o", in, NULL });
	ra_test_run_ok((const char *const[]){ in, "--eq", "peak:1k:6:1", "--eq", "lowshelf:100:-6",
					      "--gain", "-2", "--spectrum", csv, "--plot", svg,
					      "--spectrum-of", "both", "-o", out, NULL });
	text = ra_test_slurp(csv, NULL);
	v = parse_csv(text, &rows, &cols, header, sizeof(header));
	ck_assert_str_eq(header, "frequency_hz,in_ch1_db,in_ch2_db,out_ch1_db,out_ch2_db,"
				 "delta_ch1_db,delta_ch2_db,target_db,error_ch1_db,error_ch2_db");
	ck_assert_int_eq(cols, 10);
	for (int k = 0; k < rows; k++) {
		const double *row = v + (size_t)k * 10;

		/* delta = out - in; error = delta - target (each printed to 6 digits). */
		ck_assert_double_eq_tol(row[5], row[3] - row[1], 3e-4);
		ck_assert_double_eq_tol(row[8], row[5] - row[7], 3e-4);
		if (row[0] >= 250.0 && row[0] <= 10000.0) /* away from the shelf's slope */
			worst = fmax(worst, fmax(fabs(row[8]), fabs(row[9])));
		/* The design: -2 dB, +6 dB at 1 kHz. */
		if (fabs(row[0] - 1007.8125) < 1e-6)
			ck_assert_double_eq_tol(row[7], 4.0, 0.05);
	}
	ck_assert_msg(worst < 0.1, "EQ off its design by %g dB", worst);
	free(v);
	free(text);
	/* The plot: well formed enough, one line per channel and side. */
	text = ra_test_slurp(svg, NULL);
	ck_assert(strncmp(text, "<?xml", 5) == 0);
	ck_assert_ptr_nonnull(strstr(text, "</svg>\n"));
	ck_assert_int_eq(ra_test_count(text, "<polyline"), 4);
	ck_assert_ptr_nonnull(strstr(text, "pink.wav"));
	free(text);
	free(in);
	free(out);
	free(csv);
	free(svg);
}
END_TEST

/* IN through five bands with both spectra into CSV, on THREADS threads in
 * blocks of BLOCK frames. */
static void eq_spectrum(const char *in, const char *csv, const char *threads, const char *block,
			const char *out)
{
	ra_run r = ra_test_run((const char *const[]){ in,
						      "--eq",
						      "peak:2k:3",
						      "--eq",
						      "lowshelf:90:4",
						      "--eq",
						      "highpass:25",
						      "--eq",
						      "peak:8k:-2",
						      "--eq",
						      "notch:50:0:20",
						      "--spectrum",
						      csv,
						      "--spectrum-of",
						      "both",
						      "--threads",
						      threads,
						      "--block-size",
						      block,
						      "-f",
						      "-o",
						      out,
						      NULL },
			       NULL);

	ck_assert_msg(r.status == 0, "%s", r.err);
	ra_run_release(&r);
}

/* The same CSV for every thread count and block size, mono (band groups
 * in a wavefront) and stereo (channel pairs), both sides. */
START_TEST(test_deterministic)
{
	static const char *const channels[] = { "1", "2" };
	char *in = ra_test_scratch("w.wav"), *out = ra_test_scratch("out.wav");
	char *a = ra_test_scratch("a.csv"), *b = ra_test_scratch("b.csv");
	char *ta, *tb;
	ra_run r;

	for (int k = 0; k < 2; k++) {
		/* Long enough for every slot of the wavefront to be in flight. */
		r = ra_test_run((const char *const[]){ "--generate", "white", "--duration", "10",
						       "--channels", channels[k], "-f", "-o", in,
						       NULL },
				NULL);
		ra_run_release(&r);
		eq_spectrum(in, a, "1", "1024", out);
		eq_spectrum(in, b, "8", "777", out);
		ta = ra_test_slurp(a, NULL);
		tb = ra_test_slurp(b, NULL);
		ck_assert_msg(strcmp(ta, tb) == 0, "%s channel(s): CSVs differ", channels[k]);
		free(ta);
		free(tb);
	}
	free(in);
	free(out);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_batch_and_errors)
{
	char *a = ra_test_scratch("a.wav"), *b = ra_test_scratch("b.wav");
	char *outdir = ra_test_scratch("out"), *reports = ra_test_scratch("reports");
	char *ra = ra_test_path(reports, "a.spectrum.csv"),
	     *rb = ra_test_path(reports, "b.spectrum.svg");
	char *tiny = ra_test_scratch("tiny.wav"), *o = ra_test_scratch("o.wav");
	char *csv = ra_test_scratch("t.csv");
	float x[4096 * 2];
	ra_run r;

	for (int i = 0; i < 4096 * 2; i++)
		x[i] = 0.25f * sinf(0.01f * (float)i);
	ra_test_write_float(a, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 2, x, 4096);
	ra_test_write_float(b, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 2, x, 4096);
	ra_test_write_float(tiny, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 1, x, 1000);
	ck_assert_int_eq(mkdir(outdir, 0777), 0);
	ck_assert_int_eq(mkdir(reports, 0777), 0);
	ra_test_run_ok((const char *const[]){ a, b, "--spectrum", reports, "--plot", reports, "-o",
					      outdir, NULL });
	ck_assert_int_eq(ra_test_dir_entries(reports), 4);
	ck_assert_int_eq(access(ra, F_OK), 0);
	ck_assert_int_eq(access(rb, F_OK), 0);

	/* A report never replaces its input, even with --force. */
	{
		size_t len_before, len_after;
		char *before = ra_test_slurp(a, &len_before), *after;

		r = ra_test_run((const char *const[]){ a, "--spectrum", a, "-f", "-o", o, NULL },
				NULL);
		ck_assert_int_eq(r.status, 2);
		ck_assert_ptr_nonnull(strstr(r.err, "would overwrite the input"));
		ck_assert_int_eq(ra_test_count(r.err, "\n"), 1);
		ck_assert_int_ne(access(o, F_OK), 0);
		ra_run_release(&r);
		after = ra_test_slurp(a, &len_after);
		ck_assert_uint_eq(len_after, len_before);
		ck_assert_mem_eq(after, before, len_before);
		free(before);
		free(after);
	}

	/* Several inputs need a folder for the reports. */
	r = ra_test_run((const char *const[]){ a, b, "--spectrum", csv, "-f", "-o", outdir, NULL },
			NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_int_eq(ra_test_count(r.err, "\n"), 1);
	ra_run_release(&r);

	/* Shorter than one segment: a clean failure, nothing written. */
	r = ra_test_run((const char *const[]){ tiny, "--spectrum", csv, "-o", o, NULL }, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "tiny.wav") && ra_test_count(r.err, "\n") == 1, "%s", r.err);
	ck_assert_int_eq(access(csv, F_OK), -1);
	ck_assert_int_eq(access(o, F_OK), -1);
	ra_run_release(&r);

	/* Bad settings are usage errors. */
	{
		const char *const *bad[] = {
			(const char *const[]){ a, "--window", "kaiser", "-o", o, NULL },
			(const char *const[]){ a, "--overlap", "1", "-o", o, NULL },
			(const char *const[]){ a, "--fft-size", "1", "-o", o, NULL },
			(const char *const[]){ a, "--spectrum-of", "neither", "-o", o, NULL },
			(const char *const[]){ a, "--spectrum-scale", "db", "-o", o, NULL },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			r = ra_test_run(bad[i], NULL);
			ck_assert_msg(r.status == 2, "case %zu: %d", i, r.status);
			ra_run_release(&r);
		}
	}
	free(a);
	free(b);
	free(outdir);
	free(reports);
	free(ra);
	free(rb);
	free(tiny);
	free(o);
	free(csv);
}
END_TEST

/* --spectrogram: a row a segment at its centre time, streamed; bands
 * average power; the long form lists every bin; the same bytes for any
 * thread count. */
START_TEST(test_spectrogram)
{
	char *in = ra_test_scratch("w.wav"), *out = ra_test_scratch("out.wav");
	char *wide = ra_test_scratch("wide.csv"), *wide8 = ra_test_scratch("wide8.csv");
	char *lng = ra_test_scratch("long.csv"), *text, *again;
	static char header[32768];
	int rows, cols;
	double *v;
	ra_run r;

	/* 1 s of stereo noise: (48000 - 1024) / 512 + 1 = 92 segments of 1024. */
	r = ra_test_run((const char *const[]){ "--generate", "white", "--duration", "1",
					       "--channels", "2", "-o", in, NULL },
			NULL);
	ra_run_release(&r);
	ra_test_run_ok((const char *const[]){ in, "--fft-size", "1024", "--spectrogram", wide,
					      "--threads", "1", "-o", out, NULL });
	text = ra_test_slurp(wide, NULL);
	v = parse_csv(text, &rows, &cols, header, sizeof(header));
	ck_assert_int_eq(rows, 92);
	ck_assert_int_eq(cols, 1 + 2 * 513);
	ck_assert(strncmp(header, "time_s,ch1_0,ch1_46.875,", 24) == 0);
	ck_assert_double_eq_tol(v[0], 512.0 / 48000.0, 1e-6);		  /* centre of the first */
	ck_assert_double_eq_tol(v[(size_t)cols], 1024.0 / 48000.0, 1e-6); /* one hop later */
	free(v);

	/* Any thread count, same bytes. */
	ra_test_run_ok((const char *const[]){ in, "--fft-size", "1024", "--spectrogram", wide,
					      "--threads", "8", "-f", "-o", out, NULL });
	again = ra_test_slurp(wide, NULL);
	ck_assert_str_eq(text, again);
	free(text);
	free(again);

	/* Eight bands a channel: each the mean power of its bins in the full
	 * table (bins j * 513 / 8 up to (j + 1) * 513 / 8). */
	{
		int full_rows, full_cols;
		double *full;

		text = ra_test_slurp(wide, NULL);
		full = parse_csv(text, &full_rows, &full_cols, header, sizeof(header));
		free(text);
		ra_test_run_ok((const char *const[]){ in, "--fft-size", "1024", "--spectrogram",
						      wide8, "--spectrogram-bins", "8", "-f", "-o",
						      out, NULL });
		text = ra_test_slurp(wide8, NULL);
		v = parse_csv(text, &rows, &cols, header, sizeof(header));
		ck_assert_int_eq(rows, 92);
		ck_assert_int_eq(cols, 1 + 2 * 8);
		for (int k = 0; k < rows; k++) {
			for (int c = 0; c < 2; c++) {
				for (int j = 0; j < 8; j++) {
					double p = 0.0;
					int first = j * 513 / 8, last = (j + 1) * 513 / 8;

					for (int b = first; b < last; b++)
						p += pow(10.0, full[(size_t)k * full_cols + 1 +
								    (size_t)c * 513 + (size_t)b] /
								       10.0);
					ck_assert_double_eq_tol(
						v[(size_t)k * 17 + 1 + (size_t)c * 8 + (size_t)j],
						10.0 * log10(p / (last - first)), 1e-3);
				}
			}
		}
		free(full);
		free(v);
		free(text);
	}

	/* Long form: time, frequency, channel, dB; a line a bin and channel. */
	ra_test_run_ok((const char *const[]){ in, "--fft-size", "256", "--overlap", "0",
					      "--spectrogram", lng, "--spectrogram-format", "long",
					      "-f", "-o", out, NULL });
	text = ra_test_slurp(lng, NULL);
	v = parse_csv(text, &rows, &cols, header, sizeof(header));
	ck_assert_str_eq(header, "time_s,frequency_hz,ch,db");
	ck_assert_int_eq(rows, 187 * 129 * 2);		    /* 48000 / 256 whole segments */
	ck_assert_double_eq_tol(v[4 * 3 + 1], 187.5, 1e-9); /* row 3: bin 1, channel 2 */
	ck_assert_double_eq(v[4 * 3 + 2], 2.0);
	free(v);
	free(text);
	free(in);
	free(out);
	free(wide);
	free(wide8);
	free(lng);
}
END_TEST

/* --spectrogram-bins averages wide columns; the long layout has none to
 * average, so asking for both is a usage error, not a silent no-op. */
START_TEST(test_spectrogram_bins_need_wide)
{
	char *out = ra_test_scratch("out.wav"), *sg = ra_test_scratch("sg.csv");
	ra_run r = ra_test_run((const char *const[]){ "--generate", "sine:1k", "--spectrogram", sg,
						      "--spectrogram-format", "long",
						      "--spectrogram-bins", "8", "-o", out, NULL },
			       NULL);

	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.err, "rusty-audio: --spectrogram-bins only applies to "
				"--spectrogram-format wide (see rusty-audio --help)\n");
	ra_run_release(&r);
	ck_assert_int_eq(ra_test_dir_entries(ra_test_scratch_dir()), 0);
	free(out);
	free(sg);
}
END_TEST

/* --fftw-wisdom: saved after a run, reused by the next (same plans, so the
 * same CSV), refused when it is not wisdom. */
START_TEST(test_wisdom)
{
	char *in = ra_test_scratch("w.wav"), *out = ra_test_scratch("o.wav");
	char *wis = ra_test_scratch("fft.wisdom"), *a = ra_test_scratch("a.csv");
	char *b = ra_test_scratch("b.csv"), *ta, *tb;
	FILE *f;
	ra_run r;

	r = ra_test_run(
		(const char *const[]){ "--generate", "pink", "--duration", "1", "-o", in, NULL },
		NULL);
	ra_run_release(&r);
	ra_test_run_ok((const char *const[]){ in, "--spectrum", a, "--fftw-wisdom", wis, "-o", out,
					      NULL });
	ta = ra_test_slurp(wis, NULL);
	ck_assert(strncmp(ta, "(fftw-", 6) == 0);
	free(ta);
	ra_test_run_ok((const char *const[]){ in, "--spectrum", b, "--fftw-wisdom", wis, "-f", "-o",
					      out, NULL });
	ta = ra_test_slurp(a, NULL);
	tb = ra_test_slurp(b, NULL);
	ck_assert_str_eq(ta, tb);
	free(ta);
	free(tb);
	f = fopen(wis, "w");
	fputs("not wisdom\n", f);
	fclose(f);
	r = ra_test_run((const char *const[]){ in, "--spectrum", b, "--fftw-wisdom", wis, "-f",
					       "-o", out, NULL },
			NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "not FFTW wisdom"));
	ra_run_release(&r);
	free(in);
	free(out);
	free(wis);
	free(a);
	free(b);
}
END_TEST

/* --analyze: levels and frequencies a user can check by hand; no file. */
START_TEST(test_analyze)
{
	char *in = ra_test_scratch("sine.wav");
	double peak, rms, dc, crest, hz, centroid;
	unsigned long long clipped;
	int ch, n;
	const char *row;
	ra_run r;

	ra_test_run_ok((const char *const[]){ "--generate", "sine:1000", "--level", "-6.0206",
					      "--duration", "2", "--channels", "2", "-o", in,
					      NULL });
	r = ra_test_run((const char *const[]){ "--analyze", in, "--gain", "6.0206", NULL }, NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "sine.wav: 2 channels, 2.000 s\n"));
	row = strstr(r.out, "true_peak_dbtp\n");
	ck_assert_ptr_nonnull(row);
	n = sscanf(row + strlen("true_peak_dbtp\n"), "%d %lf %lf %lf %lf %llu %lf %lf", &ch, &peak,
		   &rms, &dc, &crest, &clipped, &hz, &centroid);
	ck_assert_int_eq(n, 8);
	ck_assert_int_eq(ch, 1);
	/* Full scale after the gain: a sine's RMS is 3.01 dB below its peak. */
	ck_assert_double_eq_tol(peak, 0.0, 0.01);
	ck_assert_double_eq_tol(rms, -3.01, 0.01);
	ck_assert_double_eq_tol(crest, 3.01, 0.02);
	ck_assert_double_eq_tol(dc, 0.0, 1e-4);
	ck_assert_double_eq_tol(hz, 1000.0, 48000.0 / 2048.0);
	ck_assert_double_eq_tol(centroid, 1000.0, 1.0);
	ra_run_release(&r);
	ck_assert_int_eq(ra_test_dir_entries(ra_test_scratch_dir()), 1); /* nothing written */
	free(in);
}
END_TEST

/* The "analysis" array of the stats document at PATH, as text. */
static char *analysis_text(const char *path)
{
	char *doc = ra_test_slurp(path, NULL), *at = strstr(doc, "\"analysis\": ["), *copy;

	ck_assert_ptr_nonnull(at);
	copy = strndup(at, strcspn(at, "]") + 1);
	ck_assert_ptr_nonnull(copy);
	free(doc);
	return copy;
}

/* What a run printed and measured, to compare runs by. */
typedef struct outcome {
	int status;
	char *out, *err, *analysis;
} outcome;

/* --analyze --no-loudness of IN on THREADS threads in blocks of BLOCK
 * frames, with its stats in JSON: *LEVELS is the level stage's count. */
static outcome analyze_once(const char *in, const char *threads, const char *block,
			    const char *extra, long *levels)
{
	char *json = ra_test_scratch("shares.json");
	ra_run r = ra_test_run((const char *const[]){ in, "--analyze", "--no-loudness", "--threads",
						      threads, "--block-size", block,
						      "--stats-json", json, "-f", extra, NULL },
			       NULL);
	outcome o = { r.status, strdup(r.out), strdup(r.err), NULL };
	char *doc = ra_test_slurp(json, NULL), *at = strstr(doc, "\"level\": {");

	ck_assert_ptr_nonnull(at);
	at = strstr(at, "\"blocks\": ");
	ck_assert_ptr_nonnull(at);
	*levels = strtol(at + strlen("\"blocks\": "), NULL, 10);
	if (r.status == 0)
		o.analysis = analysis_text(json);
	free(doc);
	ra_run_release(&r);
	unlink(json);
	free(json);
	return o;
}

static void outcome_release(outcome *o)
{
	free(o->out);
	free(o->err);
	free(o->analysis);
}

/* The frames of the float WAV at PATH, cut to hold FRAMES of CHANNELS
 * channels and a few bytes of the next: its header then says more than it
 * holds. */
static void cut_float_wav(const char *path, size_t had, size_t frames, int channels)
{
	struct stat sb;
	const off_t data = (off_t)(had * (size_t)channels * sizeof(float));

	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(truncate(path, sb.st_size - data +
						(off_t)(frames * (size_t)channels * sizeof(float)) +
						3),
			 0);
}

/* Files long enough to be measured in shares of their stream on several
 * threads (groups of 16384 frames): float, 16-bit, and float cut short of
 * what its header says. Their figures to the last digit JSON keeps, their
 * tables and messages, the same with any --threads and --block-size; with
 * two threads or more the levels were measured a group at a time. A file
 * with a non-finite sample late in it is measured whole instead: the same
 * error and messages as on one thread. */
START_TEST(test_analyze_in_shares)
{
	static const char *const ways[][2] = {
		{ "1", "1024" }, { "2", "4096" }, { "2", "333" }, { "4", "65536" }
	};
	const size_t frames = 20 * 16384 + 101, nan_at = 17 * 16384 + 5;
	const struct {
		const char *name, *extra;
		int format, status;
		long groups;
	} cases[] = { { "f.wav", "--fft-size=4096", SF_FORMAT_FLOAT, 0, 21 },
		      { "s.wav", "--window=blackman", SF_FORMAT_PCM_16, 0, 21 },
		      { "cut.wav", "--overlap=0.75", SF_FORMAT_FLOAT, 0, 18 },
		      { "nan.wav", "--nonfinite=error", SF_FORMAT_FLOAT, 1, 0 } };
	float *x = ra_test_noise(2 * frames, 77, 0.9f);
	char want[200];

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char *path = ra_test_scratch(cases[k].name);
		outcome first = { 0 };

		if (cases[k].status)
			x[2 * nan_at + 1] = NAN;
		ra_test_write_float(path, SF_FORMAT_WAV | cases[k].format, 48000, 2, x, frames);
		if (cases[k].groups == 18)
			cut_float_wav(path, frames, 17 * 16384 + 50, 2);
		for (size_t i = 0; i < sizeof(ways) / sizeof(ways[0]); i++) {
			long levels;
			outcome o =
				analyze_once(path, ways[i][0], ways[i][1], cases[k].extra, &levels);

			ck_assert_int_eq(o.status, cases[k].status);
			if (cases[k].groups && i > 0)
				ck_assert_int_eq(levels, cases[k].groups);
			if (i == 0) {
				first = o;
				continue;
			}
			ck_assert_str_eq(o.out, first.out);
			ck_assert_str_eq(o.err, first.err);
			if (!cases[k].status)
				ck_assert_str_eq(o.analysis, first.analysis);
			outcome_release(&o);
		}
		snprintf(want, sizeof(want), "%s: 1 non-finite sample, first at frame %zu\n", path,
			 nan_at);
		ck_assert_msg(cases[k].status ? strstr(first.err, want) != NULL
					      : strstr(first.out, "true_peak_dbtp") != NULL,
			      "%s: %s%s", path, first.out, first.err);
		outcome_release(&first);
		free(path);
	}
	free(x);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli_spectrum");
	TCase *tc = ra_test_tcase(s, "behaviour", 240);

	tcase_add_test(tc, test_full_scale_sine);
	tcase_add_test(tc, test_both_sides_check_the_eq);
	tcase_add_test(tc, test_deterministic);
	tcase_add_test(tc, test_analyze);
	tcase_add_test(tc, test_analyze_in_shares);
	tcase_add_test(tc, test_spectrogram);
	tcase_add_test(tc, test_wisdom);
	tc = ra_test_tcase(s, "errors", 60);
	tcase_add_test(tc, test_batch_and_errors);
	tcase_add_test(tc, test_spectrogram_bins_need_wide);
	return ra_test_main(s);
}
