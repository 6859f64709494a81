/* Resampler quality and speed: passband edges, image and alias rejection,
 * the error against the analytic sine, and realtime factor, for every engine
 * and quality through the library, or for WAV files that other tools made
 * from the same test signal. Run by hand (it takes its own arguments and
 * measures more than time), and by scripts/bench-peers.sh for its quality
 * table.
 *
 *   resample_quality [--seconds S] [--repeats N]
 *       every engine x quality, 44.1 -> 48 kHz and 48 -> 16 kHz, mono
 *       float; speed on S seconds of noise (default 60), median of N runs
 *       (default 3)
 *   resample_quality --probe IN_RATE OUT_RATE FILE
 *       write the test signal for IN_RATE -> OUT_RATE, a mono float WAV
 *   resample_quality --analyse IN_RATE LABEL=FILE...
 *       measure each FILE: the probe converted by some tool to FILE's rate
 *
 * The probe, at IN_RATE, in segments starting on quarter seconds (whole
 * frames at every rate divisible by 4):
 *   0-6 s        a 997 Hz sine at -6 dBFS
 *   6-7.5 s      1, 9 and 20 kHz at -12 dBFS each
 *   then         a stepped sweep, 1.5 s a step at -6 dBFS, of integer-Hz
 *                tones at 2 %..78 % of the lower rate's Nyquist in steps of
 *                2 %, then 80 %..99.75 % in steps of 0.25 %
 * Every tone is measured in one whole second of the output, from 0.25 s
 * into its segment, by an FFT of out_rate points: a 1 Hz bin a tone, no
 * window, no leakage, and the segments' edges (filter transients) outside.
 *
 * What is measured (levels in dB):
 *   -0.1 dB, -3 dB  where the sweep's response first falls below that, by
 *                   linear interpolation between steps, as a fraction of
 *                   the lower Nyquist and in Hz; ">" when it never does
 *   image/alias     the worst of the output bins where the three tones'
 *                   images and aliases land (k * in_rate +- f folded into
 *                   the output band, k = 0..3, but the tones themselves),
 *                   against the 1 kHz tone, and the bin's frequency
 *   floor           the median of the other bins where an error can land
 *                   (multiples of the tones' and the rates' common divisor:
 *                   the tones are periodic), against the 1 kHz tone: what
 *                   an image level near it is limited by
 *   SNR             of the sine from 1 s to 5 s against the analytic sine,
 *                   output frame k taken as the signal at k / out_rate
 *   gain, lag       of the sine's fundamental: gain error and delay in
 *                   output frames (from its phase: within half a period)
 *   len             output frames minus round(input frames * ratio)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>
#include <sndfile.h>

#include "harness.h"
#include "rustyaudio/resample.h"

#define SINE_HZ 997
#define SINE_AMP 0.5 /* -6 dBFS */
#define SINE_SECONDS 6
#define SNR_FROM 1 /* s: the SNR window, whole periods of the sine */
#define SNR_TO 5
#define TONE_AMP 0.25 /* -12 dBFS each, three: peak 0.75 */
#define NTONES 3
#define SWEEP_AMP 0.5
#define SEGMENT_QUARTERS 6 /* 1.5 s a tone segment */
#define WINDOW_QUARTER 1   /* the measured second starts 0.25 s in */
#define COARSE_STEPS 39	   /* 2 %..78 % of the lower Nyquist */
#define FINE_STEPS 80	   /* 80 %..99.75 % */
#define SWEEP_STEPS (COARSE_STEPS + FINE_STEPS)
#define MAX_IMAGE_K 3
#define BLOCK 4096

static const int tones_hz[NTONES] = { 1000, 9000, 20000 };

/* What one conversion measured; NAN where there is nothing to show. */
typedef struct quality {
	double edge01, edge3; /* Hz; INFINITY when the sweep never falls so far */
	double image_db, image_hz, floor_db;
	double snr_db, gain_db, lag;
	long long len_diff;
} quality;

/* A mono signal in memory. */
typedef struct sound {
	float *x;
	size_t frames;
	int rate;
} sound;

/* The plan for one-second spectra at one rate. */
typedef struct analyser {
	int n;
	double *in;
	fftw_complex *out;
	double *amp; /* n / 2 + 1 bin amplitudes */
	fftw_plan plan;
} analyser;

static int lower_nyquist(int in_rate, int out_rate)
{
	return (in_rate < out_rate ? in_rate : out_rate) / 2;
}

/* Step I's frequency, integer Hz, for a lower Nyquist NYQ. */
static int sweep_hz(int nyq, int i)
{
	double r = i < COARSE_STEPS ? 0.02 * (i + 1) : 0.8 + 0.0025 * (i - COARSE_STEPS);

	return (int)lround(r * nyq);
}

/* Frames from the probe's start to segment S's (s = 0 is the tones, 1.. the
 * sweep) at RATE. */
static size_t segment_start(int s, int rate)
{
	return (size_t)rate * SINE_SECONDS + (size_t)rate / 4 * SEGMENT_QUARTERS * (size_t)s;
}

static size_t probe_frames(int rate)
{
	return segment_start(1 + SWEEP_STEPS, rate);
}

/* sin(2 pi HZ k / RATE), the phase reduced exactly in integers first. */
static double tone_at(int hz, size_t k, int rate)
{
	return sin(2 * M_PI * (double)(((uint64_t)hz * k) % (uint64_t)rate) / rate);
}

/* The probe for IN_RATE -> OUT_RATE (see the top of the file). */
static sound probe_make(int in_rate, int out_rate)
{
	sound p = { NULL, probe_frames(in_rate), in_rate };
	size_t seg = (size_t)in_rate / 4 * SEGMENT_QUARTERS, k, s;
	int nyq = lower_nyquist(in_rate, out_rate), t;

	p.x = bench_alloc(64, sizeof(float) * p.frames);
	for (k = 0; k < segment_start(0, in_rate); k++)
		p.x[k] = (float)(SINE_AMP * tone_at(SINE_HZ, k, in_rate));
	for (k = 0; k < seg; k++) {
		double v = 0;

		for (t = 0; t < NTONES; t++)
			v += TONE_AMP * tone_at(tones_hz[t], k, in_rate);
		p.x[segment_start(0, in_rate) + k] = (float)v;
	}
	for (s = 0; s < SWEEP_STEPS; s++)
		for (k = 0; k < seg; k++)
			p.x[segment_start(1 + (int)s, in_rate) + k] =
				(float)(SWEEP_AMP * tone_at(sweep_hz(nyq, (int)s), k, in_rate));
	return p;
}

static void analyser_init(analyser *a, int rate)
{
	a->n = rate;
	a->in = fftw_malloc(sizeof(double) * (size_t)rate);
	a->out = fftw_malloc(sizeof(fftw_complex) * (size_t)(rate / 2 + 1));
	a->amp = bench_alloc(64, sizeof(double) * (size_t)(rate / 2 + 1));
	if (!a->in || !a->out) {
		fprintf(stderr, "resample_quality: out of memory\n");
		exit(1);
	}
	a->plan = fftw_plan_dft_r2c_1d(rate, a->in, a->out, FFTW_ESTIMATE);
}

static void analyser_release(analyser *a)
{
	fftw_destroy_plan(a->plan);
	fftw_free(a->in);
	fftw_free(a->out);
	free(a->amp);
}

/* The amplitude of every 1 Hz bin in the measured second of segment S of
 * Y (zero past its end), into a->amp. */
static void analyser_run(analyser *a, const sound *y, int s)
{
	size_t from = segment_start(s, y->rate) + (size_t)y->rate / 4 * WINDOW_QUARTER, k;
	int f;

	for (k = 0; k < (size_t)a->n; k++)
		a->in[k] = from + k < y->frames ? y->x[from + k] : 0.0;
	fftw_execute(a->plan);
	for (f = 0; f <= a->n / 2; f++)
		a->amp[f] = hypot(a->out[f][0], a->out[f][1]) * (f == 0 || 2 * f == a->n ? 1 : 2) /
			    a->n;
}

static double db(double ratio)
{
	return 20 * log10(ratio > 1e-30 ? ratio : 1e-30);
}

/* Where the sweep's LEVEL (dB, per step) first falls below THRESHOLD, in Hz:
 * interpolated from the step before (0 Hz, 0 dB before the first). */
static double sweep_edge(const double *level, int nyq, double threshold)
{
	double f0 = 0, l0 = 0;
	int i;

	for (i = 0; i < SWEEP_STEPS; i++) {
		double f1 = sweep_hz(nyq, i);

		if (level[i] < threshold)
			return f0 + (f1 - f0) * (l0 - threshold) / (l0 - level[i]);
		f0 = f1;
		l0 = level[i];
	}
	return INFINITY;
}

static void measure_sweep(analyser *a, const sound *y, int in_rate, quality *q)
{
	int nyq = lower_nyquist(in_rate, y->rate), i;
	double level[SWEEP_STEPS];

	for (i = 0; i < SWEEP_STEPS; i++) {
		analyser_run(a, y, 1 + i);
		level[i] = db(a->amp[sweep_hz(nyq, i)] / SWEEP_AMP);
	}
	q->edge01 = sweep_edge(level, nyq, -0.1);
	q->edge3 = sweep_edge(level, nyq, -3.0);
}

/* Whether bin F of the tones' spectrum holds a tone that passes. */
static int is_tone_bin(int f, int nyq)
{
	int t;

	for (t = 0; t < NTONES; t++)
		if (tones_hz[t] == f && f < nyq)
			return 1;
	return 0;
}

/* G Hz as it appears at RATE: folded into 0..RATE / 2. */
static int fold(long g, int rate)
{
	long h = g % rate;

	return (int)(h <= rate / 2 ? h : rate - h);
}

/* Whether bin F is one of the tones' images or aliases at OUT_RATE. */
static int is_image_bin(int f, int in_rate, int out_rate)
{
	int nyq = lower_nyquist(in_rate, out_rate), t, k, sign;

	for (t = 0; t < NTONES; t++)
		for (k = 0; k <= MAX_IMAGE_K; k++)
			for (sign = -1; sign <= 1; sign += 2) {
				long g = labs((long)k * in_rate + sign * tones_hz[t]);

				if (!(k == 0 && tones_hz[t] < nyq) && fold(g, out_rate) == f)
					return 1;
			}
	return 0;
}

/* Images and aliases of the three tones, and the floor between them. The
 * tones repeat with a period, so every error does: it lands on multiples
 * of the period's frequency, the rest of the bins are exact zeros; the
 * floor is the median of those multiples that are neither a tone nor an
 * image. */
static void measure_images(analyser *a, const sound *y, int in_rate, quality *q)
{
	int nyq = lower_nyquist(in_rate, y->rate), step = y->rate, t, f, n = 0;
	double ref, *rest = bench_alloc(64, sizeof(double) * (size_t)(a->n / 2 + 1));

	for (t = 0; t < NTONES; t++)
		step = ra_rate_gcd(step, ra_rate_gcd(tones_hz[t], in_rate));
	analyser_run(a, y, 0);
	ref = a->amp[tones_hz[0]];
	q->image_db = -INFINITY;
	for (f = step; f <= a->n / 2; f += step) {
		double l = db(a->amp[f] / ref);

		if (is_tone_bin(f, nyq))
			continue;
		if (!is_image_bin(f, in_rate, y->rate))
			rest[n++] = l;
		else if (l > q->image_db) {
			q->image_db = l;
			q->image_hz = f;
		}
	}
	qsort(rest, (size_t)n, sizeof(*rest), bench_cmp_double);
	q->floor_db = n ? rest[n / 2] : NAN;
	free(rest);
}

/* The sine against the analytic one, and its fundamental's gain and phase. */
static void measure_sine(const sound *y, quality *q)
{
	size_t from = (size_t)y->rate * SNR_FROM, to = (size_t)y->rate * SNR_TO, k;
	double sig = 0, err = 0, s = 0, c = 0, phase;

	for (k = from; k < to && k < y->frames; k++) {
		double ref = SINE_AMP * tone_at(SINE_HZ, k, y->rate);
		double w =
			2 * M_PI * (double)(((uint64_t)SINE_HZ * k) % (uint64_t)y->rate) / y->rate;

		sig += ref * ref;
		err += (y->x[k] - ref) * (y->x[k] - ref);
		s += y->x[k] * sin(w);
		c += y->x[k] * cos(w);
	}
	q->snr_db = db(sqrt(sig)) - db(sqrt(err));
	q->gain_db = db(2 * hypot(s, c) / (double)(to - from) / SINE_AMP);
	phase = atan2(c, s); /* y ~ A sin(w + phase) */
	q->lag = -phase / (2 * M_PI * SINE_HZ) * y->rate;
}

static void measure(const sound *y, int in_rate, quality *q)
{
	analyser a;

	analyser_init(&a, y->rate);
	measure_sweep(&a, y, in_rate, q);
	measure_images(&a, y, in_rate, q);
	measure_sine(y, q);
	q->len_diff =
		(long long)y->frames -
		(long long)ra_resample_length((int64_t)probe_frames(in_rate), in_rate, y->rate);
	analyser_release(&a);
}

static void print_header(int in_rate, int out_rate)
{
	printf("\n%d -> %d Hz, mono float; fractions of the lower Nyquist, %d Hz\n", in_rate,
	       out_rate, lower_nyquist(in_rate, out_rate));
	printf("%-26s %-15s %-15s %-16s %7s %6s %8s %6s %4s %9s %8s\n", "converter", "-0.1 dB",
	       "-3 dB", "image/alias dB", "floor", "SNR", "gain dB", "lag", "len", "x realtm",
	       "s/10 min");
}

static void format_edge(char *buf, size_t size, double hz, int nyq)
{
	if (isinf(hz))
		snprintf(buf, size, "> %.4f", sweep_hz(nyq, SWEEP_STEPS - 1) / (double)nyq);
	else
		snprintf(buf, size, "%.4f %5.0f", hz / nyq, hz);
}

/* One row; REALTIME <= 0 when not timed. */
static void print_row(const char *label, const quality *q, int nyq, double realtime)
{
	char e01[32], e3[32], image[32], floor[32] = "< -200", speed[32] = "-", tenmin[32] = "-";

	format_edge(e01, sizeof(e01), q->edge01, nyq);
	format_edge(e3, sizeof(e3), q->edge3, nyq);
	snprintf(image, sizeof(image), "%6.1f @ %5.0f", q->image_db, q->image_hz);
	if (!(q->floor_db < -200)) /* exact zeros: no error on the grid */
		snprintf(floor, sizeof(floor), "%.1f", q->floor_db);
	if (realtime > 0) {
		snprintf(speed, sizeof(speed), "%.0f", realtime);
		snprintf(tenmin, sizeof(tenmin), "%.2f", 600 / realtime);
	}
	printf("%-26s %-15s %-15s %-16s %7s %6.1f %8.4f %6.2f %4lld %9s %8s\n", label, e01, e3,
	       image, floor, q->snr_db, q->gain_db, q->lag, q->len_diff, speed, tenmin);
}

/* IN through a converter as CFG says, in BLOCK-frame pieces, into OUT
 * (room for CAP frames); the frames written, or exits 1 on a failure. */
static size_t convert(const ra_resample_config *cfg, const float *in, size_t frames, float *out,
		      size_t cap)
{
	ra_status st;
	ra_diag diag = { "" };
	ra_resampler *rs = ra_resampler_create(cfg, &st, &diag);
	size_t done = 0, n = 0, piece;

	if (!rs) {
		fprintf(stderr, "resample_quality: %s\n", diag.text);
		exit(1);
	}
	for (; done < frames; done += piece) {
		piece = frames - done < BLOCK ? frames - done : BLOCK;
		if (ra_resampler_process(rs, in + done, piece) != RA_OK) {
			fprintf(stderr, "resample_quality: conversion failed\n");
			exit(1);
		}
		n += ra_resampler_read(rs, out + n, cap - n);
	}
	ra_resampler_flush(rs);
	n += ra_resampler_read(rs, out + n, cap - n);
	ra_resampler_destroy(rs);
	return n;
}

/* Room for FRAMES at IN_RATE converted to OUT_RATE, with a block to spare
 * so that a converter making too much shows in the length. */
static size_t out_room(size_t frames, int in_rate, int out_rate)
{
	return (size_t)ra_resample_length((int64_t)frames, in_rate, out_rate) + BLOCK;
}

/* Median realtime factor of CFG on SECONDS of noise, REPEATS runs. */
static double time_engine(const ra_resample_config *cfg, double seconds, int repeats)
{
	size_t frames = (size_t)(seconds * cfg->in_rate);
	float *in = bench_alloc(64, sizeof(float) * frames);
	size_t room = out_room(frames, cfg->in_rate, cfg->out_rate);
	float *out = bench_alloc(64, sizeof(float) * room);
	double t[16] = { 0 };
	int r;

	bench_noise(in, frames, 1);
	for (r = 0; r < repeats; r++) {
		double start = bench_now();

		bench_keep((double)convert(cfg, in, frames, out, room));
		t[r] = bench_now() - start;
	}
	qsort(t, (size_t)repeats, sizeof(*t), bench_cmp_double);
	free(in);
	free(out);
	return seconds / t[repeats / 2];
}

static void library_pair(int in_rate, int out_rate, double seconds, int repeats)
{
	static const ra_resample_engine engines[] = { RA_RESAMPLER_SOXR,
						      RA_RESAMPLER_LIBSAMPLERATE };
	sound p = probe_make(in_rate, out_rate);
	sound y = { NULL, 0, out_rate };
	size_t room = out_room(p.frames, in_rate, out_rate), e;
	int q;

	y.x = bench_alloc(64, sizeof(float) * room);
	print_header(in_rate, out_rate);
	for (e = 0; e < sizeof(engines) / sizeof(engines[0]); e++)
		for (q = RA_RESAMPLE_BEST; q <= RA_RESAMPLE_LINEAR; q++) {
			ra_resample_config cfg = { 1, in_rate, out_rate, engines[e],
						   q, BLOCK,   NULL,	 0 };
			char label[64];
			quality m;

			y.frames = convert(&cfg, p.x, p.frames, y.x, room);
			measure(&y, in_rate, &m);
			snprintf(label, sizeof(label), "%s %s", ra_resample_engine_name(engines[e]),
				 ra_resample_quality_name(q));
			print_row(label, &m, lower_nyquist(in_rate, out_rate),
				  time_engine(&cfg, seconds, repeats));
			fflush(stdout);
		}
	free(p.x);
	free(y.x);
}

static int write_probe(int in_rate, int out_rate, const char *path)
{
	SF_INFO info = { .samplerate = in_rate,
			 .channels = 1,
			 .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
	SNDFILE *f = sf_open(path, SFM_WRITE, &info);
	sound p = probe_make(in_rate, out_rate);
	int bad;

	if (!f) {
		fprintf(stderr, "resample_quality: %s: %s\n", path, sf_strerror(NULL));
		free(p.x);
		return 1;
	}
	bad = sf_writef_float(f, p.x, (sf_count_t)p.frames) != (sf_count_t)p.frames;
	bad |= sf_close(f) != 0;
	free(p.x);
	return bad;
}

/* The first channel of PATH into Y; 0, or 1 with a message. */
static int read_first_channel(const char *path, sound *y)
{
	SF_INFO info = { 0 };
	SNDFILE *f = sf_open(path, SFM_READ, &info);
	float *all;
	sf_count_t k;

	if (!f) {
		fprintf(stderr, "resample_quality: %s: %s\n", path, sf_strerror(NULL));
		return 1;
	}
	all = bench_alloc(64, sizeof(float) * (size_t)(info.frames * info.channels + 1));
	y->frames = (size_t)sf_readf_float(f, all, info.frames);
	y->rate = info.samplerate;
	y->x = bench_alloc(64, sizeof(float) * (y->frames + 1));
	for (k = 0; k < (sf_count_t)y->frames; k++)
		y->x[k] = all[k * info.channels];
	free(all);
	sf_close(f);
	return 0;
}

/* --analyse IN_RATE LABEL=FILE...: a table a rate found among the files. */
static int analyse_files(int in_rate, int count, char **args)
{
	int i, rate = 0;

	for (i = 0; i < count; i++) {
		const char *eq = strchr(args[i], '=');
		char label[64];
		sound y;
		quality q;

		if (!eq || read_first_channel(eq + 1, &y))
			return eq ? 1 : 2;
		if (y.rate != rate)
			print_header(in_rate, y.rate);
		rate = y.rate;
		snprintf(label, sizeof(label), "%.*s", (int)(eq - args[i]), args[i]);
		measure(&y, in_rate, &q);
		print_row(label, &q, lower_nyquist(in_rate, y.rate), 0);
		free(y.x);
	}
	return 0;
}

/* A rate the probe's quarter-second segments fit, divisible by 4, and for
 * an input (IS_INPUT) above twice the highest tone; 0 otherwise. */
static int parse_rate(const char *s, int is_input)
{
	char *end;
	long r = strtol(s, &end, 10);
	long least = is_input ? 2L * tones_hz[NTONES - 1] + 4 : 4;

	return *end == '\0' && r % 4 == 0 && r >= least && r <= 768000 ? (int)r : 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: resample_quality [--seconds S] [--repeats N]\n"
			"       resample_quality --probe IN_RATE OUT_RATE FILE\n"
			"       resample_quality --analyse IN_RATE LABEL=FILE...\n");
	return 2;
}

int main(int argc, char **argv)
{
	double seconds = 60;
	int repeats = 3, i;

	if (argc == 5 && !strcmp(argv[1], "--probe")) {
		int in = parse_rate(argv[2], 1), out = parse_rate(argv[3], 0);

		return in && out ? write_probe(in, out, argv[4]) : usage();
	}
	if (argc >= 4 && !strcmp(argv[1], "--analyse")) {
		int in = parse_rate(argv[2], 1), st;

		st = in ? analyse_files(in, argc - 3, argv + 3) : 2;
		return st == 2 ? usage() : st;
	}
	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--seconds"))
			seconds = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--repeats"))
			repeats = atoi(argv[i + 1]);
		else
			return usage();
	}
	if (i != argc || seconds <= 0 || repeats < 1 || repeats > 16)
		return usage();
	bench_print_load("before");
	library_pair(44100, 48000, seconds, repeats);
	library_pair(48000, 16000, seconds, repeats);
	bench_print_load("after");
	return 0;
}
