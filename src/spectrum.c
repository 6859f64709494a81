/* Welch spectra: scipy's periodic cosine-sum windows, then a streaming
 * analyser that cuts the input into overlapping segments and averages their
 * one-sided periodograms, as scipy.signal.welch(detrend=False) does. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fftw3.h>

#include "cpu.h"
#include "rustyaudio/atomic_file.h"
#include "rustyaudio/phases.h"
#include "rustyaudio/spectrum.h"

#define RA_WELCH_MAX_FFT ((size_t)1 << 24)
/* The most an analyser may take: stereo at the largest fft size fits. */
#define RA_WELCH_MAX_BYTES ((uint64_t)1 << 30)
/* The periodograms are summed in phases (phases.h) by where their
 * segments start: segment s of group s * step / RA_PHASE_FRAMES. Parts can
 * then share a channel's stream in time. RA_PHASES sums up to
 * RA_WELCH_PHASED_FFT points; one above, where the sums would take more
 * memory than the rest and no share's segments could end before its
 * next group. */
#define RA_WELCH_PHASED_FFT ((size_t)1 << 16)

/*
 * FFTW's planner keeps global state and is not thread-safe: every plan is
 * made and destroyed under this lock (the house style's one writable global).
 * Executing a plan needs no lock.
 */
static pthread_mutex_t ra_fftw_planner = PTHREAD_MUTEX_INITIALIZER;

/* ---- windows ---- */

/*
 * Cosine-sum windows, w[n] = sum_k (-1)^k a_k cos(2 pi k n / N), with the
 * coefficients of scipy.signal.windows (general_cosine, general_hamming):
 * hann and hamming are general_hamming(0.5) and (0.54), blackman is the
 * classic 0.42/0.50/0.08, blackmanharris the minimum 4-term one, flattop
 * D'Antona and Ferrero's. Periodic (fftbins=True): scipy builds the
 * symmetric window of N + 1 points and drops the last, which is the formula
 * above with period N.
 */
#define RA_WINDOW_TERMS 5

static const struct {
	const char *name;
	int terms;
	double a[RA_WINDOW_TERMS];
} ra_windows[] = {
	[RA_WINDOW_HANN] = { "hann", 2, { 0.5, 0.5 } },
	[RA_WINDOW_HAMMING] = { "hamming", 2, { 0.54, 0.46 } },
	[RA_WINDOW_BLACKMAN] = { "blackman", 3, { 0.42, 0.50, 0.08 } },
	[RA_WINDOW_BLACKMAN_HARRIS] = { "blackman-harris",
					4,
					{ 0.35875, 0.48829, 0.14128, 0.01168 } },
	[RA_WINDOW_FLATTOP] = { "flattop",
				5,
				{ 0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368 } },
	[RA_WINDOW_RECT] = { "rect", 1, { 1.0 } },
};

#define RA_NWINDOWS (sizeof(ra_windows) / sizeof(ra_windows[0]))

static const char *const ra_scale_names[] = {
	[RA_SCALE_PSD] = "psd",
	[RA_SCALE_DBFS] = "dbfs",
};

#define RA_NSCALES (sizeof(ra_scale_names) / sizeof(ra_scale_names[0]))

ra_status ra_window_parse(const char *name, ra_window *window)
{
	size_t i;

	if (!window || ra_name_lookup(name, ra_windows, RA_NWINDOWS, sizeof(ra_windows[0]),
				      RA_NAME_EXACT, &i) != RA_OK)
		return RA_ERR_INVALID;
	*window = (ra_window)i;
	return RA_OK;
}

const char *ra_window_name(ra_window window)
{
	if ((unsigned)window >= RA_NWINDOWS)
		return "?";
	return ra_windows[window].name;
}

const char *ra_spectrum_scale_name(ra_spectrum_scale scale)
{
	if ((unsigned)scale >= RA_NSCALES)
		return "?";
	return ra_scale_names[scale];
}

ra_status ra_spectrum_scale_parse(const char *name, ra_spectrum_scale *scale)
{
	size_t i;

	if (!scale || ra_name_lookup(name, ra_scale_names, RA_NSCALES, sizeof(ra_scale_names[0]),
				     RA_NAME_EXACT, &i) != RA_OK)
		return RA_ERR_INVALID;
	*scale = (ra_spectrum_scale)i;
	return RA_OK;
}

/*
 * cos(2 pi m / n). The angle is folded into [0, pi/4] with integers first
 * (cos(2 pi - x) = cos x, cos(pi - x) = -cos x, cos x = sin(pi/2 - x)), so
 * only one rounding of a small argument reaches libm and every point is
 * within a few 1e-17 of the exact value, wherever it sits in the period.
 */
static double ra_cos_turns(size_t m, size_t n)
{
	size_t num = m % n, den = n;
	double sign = 1.0;

	if (2 * num > den)
		num = den - num;
	if (4 * num > den) {
		num = den - 2 * num;
		den *= 2;
		sign = -1.0;
	}
	if (8 * num > den)
		return sign * sin(2.0 * M_PI * (double)(den - 4 * num) / (double)(4 * den));
	return sign * cos(2.0 * M_PI * (double)num / (double)den);
}

void ra_window_fill(ra_window window, double *out, size_t n)
{
	size_t i;
	int k;

	if (!out || (unsigned)window >= RA_NWINDOWS)
		return;
	/* scipy returns ones for lengths of 0 and 1. */
	if (n == 1) {
		out[0] = 1.0;
		return;
	}
	for (i = 0; i < n; i++) {
		double w = ra_windows[window].a[0];

		for (k = 1; k < ra_windows[window].terms; k++) {
			double t = ra_windows[window].a[k] * ra_cos_turns((size_t)k * i, n);

			w += (k & 1) ? -t : t;
		}
		out[i] = w;
	}
}

/* ---- the analyser ---- */

/* Spectrogram rows: each a time and channels * bins values in dB. */
typedef struct ra_rows {
	double *time; /* cap */
	double *db;   /* cap rows of channels * bins, row r at db + r * len */
	size_t count, cap;
} ra_rows;

/* Room in R for NEED rows of LEN values, the capacity doubled as far as
 * needed; 0 (R as it was) when out of memory. */
static int ra_rows_reserve(ra_rows *r, size_t need, size_t len)
{
	size_t cap = r->cap ? r->cap : 1;
	double *grown;

	if (need <= r->cap)
		return 1;
	while (cap < need)
		cap *= 2;
	if (cap > SIZE_MAX / sizeof(double) / len)
		return 0;
	grown = realloc(r->time, cap * sizeof(*r->time));
	if (!grown)
		return 0;
	r->time = grown;
	grown = realloc(r->db, cap * len * sizeof(*r->db));
	if (!grown)
		return 0;
	r->db = grown;
	r->cap = cap;
	return 1;
}

static void ra_rows_release(ra_rows *r)
{
	free(r->time);
	free(r->db);
}

/*
 * Segment s covers frames [s * step, s * step + N). Each analysed channel
 * keeps the last N frames in a ring (double, so that a mix is kept exactly
 * as computed); when a segment's last frame arrives the ring holds exactly
 * that segment, oldest frame at its part's POS. Periodograms |X_k|^2 are
 * summed unscaled in double, in time order into the segment's phase sum
 * (see phases.h), so the sums do not depend on how the stream was
 * cut into feeds, nor on the parts.
 *
 * The channels are split into parts, runs of channels [first, last), and
 * each run into SPLIT shares of the stream in time: share j computes the
 * segments of the groups g with g % split == j into their phase sums, and
 * passes over the frames no segment of its groups holds. Each part is fed
 * by one thread at a time beside the others: it has its own place in the
 * stream (every part is fed the same frames), its own rings and transform
 * buffers, and touches only its channels' sums of its own phases.
 *
 * The transform is double precision: single precision errs by up to 0.04 dB
 * in bins 90 to 100 dB below a segment's peak, beyond the 0.01 dB against
 * the exact definition that check_spectrum holds this file to.
 */
typedef struct welch_part {
	int first, last;
	int share;	   /* of the run's SPLIT shares in time */
	uint64_t at;	   /* frames fed */
	size_t pos;	   /* next ring slot written: the oldest frame once full */
	uint64_t next;	   /* the stream's index of its next segment */
	double *in;	   /* n windowed points, fftw_malloc'd */
	fftw_complex *out; /* bins, fftw_malloc'd */
} welch_part;

typedef void feed_fn(ra_welch *w, welch_part *p, const float *frames, size_t n);

struct ra_welch {
	int in_channels; /* interleaved channels fed */
	int channels;	 /* analysed: 1 when mixing */
	int mix;
	double sample_rate;
	size_t n;    /* fft_size */
	size_t bins; /* n / 2 + 1 */
	size_t step; /* n - noverlap */
	double *window;
	double sum_w;  /* sum of w[i] */
	double sum_w2; /* sum of w[i]^2 */

	double *ring; /* split * channels * n: see ring_of() */
	double *acc;  /* channels * phases * bins sums of |X_k|^2: see sum_of() */
	int phases;
	welch_part part[RA_WELCH_MAX_PARTS];
	int parts;
	int split; /* shares of the stream in time of each run of channels */

	/* Rows, when kept: FRESH belongs to the feeding thread (the rows
	 * completed since the last publish), READY to the owner (published
	 * rows, the first TAKEN of them handed out). */
	int keep_rows;
	ra_spectrum_scale row_scale;
	ra_rows fresh, ready;
	size_t taken;
	int rows_lost; /* a row found no room: the rows are incomplete */

	fftw_plan plan; /* made on part 0's buffers, run on every part's */
	feed_fn *feed;	/* the build of feed_loop() this CPU runs */
};

static feed_fn *feed_choose(const char **name);

/* Checks the configuration; the reason, lowercase, goes to DIAG. */
static int ra_welch_config_ok(const ra_welch_config *cfg, size_t *step, ra_diag *diag)
{
	long long noverlap;

	if (!cfg) {
		ra_diag_set(diag, "no configuration");
		return 0;
	}
	if (cfg->channels < 1 || cfg->channels > RA_MAX_CHANNELS) {
		ra_diag_set(diag, "channels must be 1 to %d, not %d", RA_MAX_CHANNELS,
			    cfg->channels);
		return 0;
	}
	if (!(cfg->sample_rate > 0.0) || !isfinite(cfg->sample_rate)) {
		ra_diag_set(diag, "sample rate must be a positive number of hz, not %g",
			    cfg->sample_rate);
		return 0;
	}
	if (cfg->fft_size < 2 || cfg->fft_size > RA_WELCH_MAX_FFT) {
		ra_diag_set(diag, "fft size must be 2 to %zu frames, not %zu", RA_WELCH_MAX_FFT,
			    cfg->fft_size);
		return 0;
	}
	if ((unsigned)cfg->window >= RA_NWINDOWS) {
		ra_diag_set(diag, "unknown window %d", (int)cfg->window);
		return 0;
	}
	if (!(cfg->overlap >= 0.0 && cfg->overlap < 1.0)) {
		ra_diag_set(diag, "overlap must be at least 0 and below 1, not %g", cfg->overlap);
		return 0;
	}
	/*
	 * scipy takes noverlap as an integer; ours is overlap * N rounded to
	 * nearest with halves away from zero (llround), where Python's round()
	 * would take the even neighbour.
	 */
	noverlap = llround(cfg->overlap * (double)cfg->fft_size);
	if ((size_t)noverlap >= cfg->fft_size) {
		ra_diag_set(diag, "overlap %g of %zu frames leaves no step between segments",
			    cfg->overlap, cfg->fft_size);
		return 0;
	}
	*step = cfg->fft_size - (size_t)noverlap;
	return 1;
}

/* The phase sums a channel of an N-point analyser has. */
static int ra_welch_phases(size_t n)
{
	return n <= RA_WELCH_PHASED_FFT ? RA_PHASES : 1;
}

/* What an analyser's buffers take with RUNS runs of channels in SPLIT
 * shares each: per analysed channel a ring of n doubles a share, its phase
 * sums and a row of bins doubles; the window (n doubles); per part the
 * transform's input (n doubles) and output (bins complex). */
static uint64_t ra_welch_bytes(const ra_welch_config *cfg, int runs, int split)
{
	uint64_t n = cfg->fft_size, bins = n / 2 + 1,
		 channels = cfg->mix ? 1 : (uint64_t)cfg->channels,
		 sums = (uint64_t)ra_welch_phases(cfg->fft_size) + 1;

	return (channels * ((uint64_t)split * n + sums * bins) + n +
		(uint64_t)runs * (uint64_t)split * (n + 2 * bins)) *
	       sizeof(double);
}

/* The parts CFG asks for (at least one): runs of channels as far as there
 * are channels (one in time only), then shares of their stream in time as
 * far as there are phases and every group holds a segment's start (STEP
 * no longer than a group, else a share could have none); fewer shares,
 * then fewer runs, while beyond the memory bound. */
static void ra_welch_part_count(const ra_welch_config *cfg, size_t step, int *runs, int *split)
{
	const int asked = cfg->parts < RA_WELCH_MAX_PARTS ? cfg->parts : RA_WELCH_MAX_PARTS;
	const int channels = cfg->mix ? 1 : cfg->channels;

	*runs = cfg->in_time || asked < 1 ? 1 : asked < channels ? asked : channels;
	*split = 1;
	while (2 * *split <= ra_welch_phases(cfg->fft_size) && *runs * 2 * *split <= asked &&
	       step <= RA_PHASE_FRAMES)
		*split *= 2;
	while (*runs * *split > 1 && ra_welch_bytes(cfg, *runs, *split) > RA_WELCH_MAX_BYTES) {
		if (*split > 1)
			*split /= 2;
		else
			--*runs;
	}
}

/* The configuration is valid and within the memory bound: RA_OK with the
 * step between segments, or RA_ERR_INVALID / RA_ERR_LIMITS with DIAG. */
static ra_status ra_welch_admit(const ra_welch_config *cfg, size_t *step, ra_diag *diag)
{
	if (!ra_welch_config_ok(cfg, step, diag))
		return RA_ERR_INVALID;
	if (ra_welch_bytes(cfg, 1, 1) > RA_WELCH_MAX_BYTES) {
		ra_diag_set(diag,
			    "a %zu-point analyser of %d channels needs %.1f GiB, more than the "
			    "%.0f GiB allowed",
			    cfg->fft_size, cfg->mix ? 1 : cfg->channels,
			    (double)ra_welch_bytes(cfg, 1, 1) / (1 << 30),
			    (double)RA_WELCH_MAX_BYTES / (1 << 30));
		return RA_ERR_LIMITS;
	}
	return RA_OK;
}

/* The stream's layout and the segments' size and step. */
static void ra_welch_shape(ra_welch *w, const ra_welch_config *cfg, size_t step)
{
	int runs;

	w->in_channels = cfg->channels;
	w->channels = cfg->mix ? 1 : cfg->channels;
	w->mix = !!cfg->mix;
	w->sample_rate = cfg->sample_rate;
	w->n = cfg->fft_size;
	w->bins = cfg->fft_size / 2 + 1;
	w->step = step;
	w->phases = ra_welch_phases(w->n);
	w->feed = feed_choose(NULL);
	ra_welch_part_count(cfg, step, &runs, &w->split);
	w->parts = runs * w->split;
	for (int i = 0; i < w->parts; i++) {
		const int run = i / w->split;

		w->part[i].first = w->channels * run / runs;
		w->part[i].last = w->channels * (run + 1) / runs;
		w->part[i].share = i % w->split;
	}
}

/* The window, the rings, the sums and the transform's buffers. The
 * admitted size keeps every product below SIZE_MAX. */
static ra_status ra_welch_alloc(ra_welch *w)
{
	w->window = malloc(w->n * sizeof(*w->window));
	w->ring = calloc((size_t)w->split * (size_t)w->channels * w->n, sizeof(*w->ring));
	w->acc = calloc((size_t)w->channels * (size_t)w->phases * w->bins, sizeof(*w->acc));
	if (!w->window || !w->ring || !w->acc)
		return RA_ERR_NOMEM;
	for (int i = 0; i < w->parts; i++) {
		welch_part *p = &w->part[i];

		p->in = fftw_malloc(w->n * sizeof(*p->in));
		p->out = fftw_malloc(w->bins * sizeof(*p->out));
		if (!p->in || !p->out)
			return RA_ERR_NOMEM;
	}
	return RA_OK;
}

/* The window and its sums, for the scalings. */
static void ra_welch_set_window(ra_welch *w, ra_window window)
{
	ra_window_fill(window, w->window, w->n);
	for (size_t i = 0; i < w->n; i++) {
		w->sum_w += w->window[i];
		w->sum_w2 += w->window[i] * w->window[i];
	}
}

/* The transform's plan, under the planner lock. Planning may scribble on
 * both arrays; nothing is in them yet. The other parts' buffers come from
 * fftw_malloc() too, aligned as these, so the plan runs on them as well.
 * The planner fails only for want of memory. */
static ra_status ra_welch_plan(ra_welch *w, int measure)
{
	unsigned flags = (measure ? FFTW_MEASURE : FFTW_ESTIMATE) | FFTW_DESTROY_INPUT;

	pthread_mutex_lock(&ra_fftw_planner);
	w->plan = fftw_plan_dft_r2c_1d((int)w->n, w->part[0].in, w->part[0].out, flags);
	pthread_mutex_unlock(&ra_fftw_planner);
	return w->plan ? RA_OK : RA_ERR_NOMEM;
}

/* The group (phases.h) segment S starts in. */
static inline uint64_t group_of(const ra_welch *w, uint64_t s)
{
	return s * w->step / RA_PHASE_FRAMES;
}

/* The first segment that starts in group G or after. */
static uint64_t group_first(const ra_welch *w, uint64_t g)
{
	return (g * RA_PHASE_FRAMES + w->step - 1) / w->step;
}

/* The first segment from S on that part P's share computes: of a group g
 * with g % split == its share. Where there are shares every group holds a
 * segment's start (ra_welch_part_count()). */
static uint64_t share_next(const ra_welch *w, const welch_part *p, uint64_t s)
{
	const uint64_t split = (uint64_t)w->split, g = group_of(w, s),
		       to = ((uint64_t)p->share + split - g % split) % split;

	return to ? group_first(w, g + to) : s;
}

/* Back to the stream's start, the sums as they are (zero when new). The
 * rings need no clearing: a segment is taken only once its every frame
 * has been stored. */
static void ra_welch_restart(ra_welch *w)
{
	for (int i = 0; i < w->parts; i++) {
		welch_part *p = &w->part[i];

		p->at = 0;
		p->pos = 0;
		p->next = share_next(w, p, 0);
	}
	w->fresh.count = 0;
	w->ready.count = 0;
	w->taken = 0;
	w->rows_lost = 0;
}

ra_welch *ra_welch_create(const ra_welch_config *cfg, ra_status *status, ra_diag *diag)
{
	size_t step = 0;
	ra_status st = ra_welch_admit(cfg, &step, diag);
	ra_welch *w = NULL;

	if (st != RA_OK)
		goto done;
	w = calloc(1, sizeof(*w));
	st = RA_ERR_NOMEM;
	if (!w)
		goto out_nomem;
	ra_welch_shape(w, cfg, step);
	st = ra_welch_alloc(w);
	if (st == RA_OK) {
		ra_welch_set_window(w, cfg->window);
		st = ra_welch_plan(w, cfg->measure);
	}
	if (st != RA_OK)
		goto out_destroy;
	ra_welch_restart(w);
	goto done;

out_destroy:
	ra_welch_destroy(w);
	w = NULL;
out_nomem:
	ra_diag_set(diag, "cannot allocate a %zu-point analyser of %d channels", cfg->fft_size,
		    cfg->channels);
done:
	if (status)
		*status = st;
	return w;
}

void ra_welch_destroy(ra_welch *w)
{
	if (!w)
		return;
	if (w->plan) {
		pthread_mutex_lock(&ra_fftw_planner);
		fftw_destroy_plan(w->plan);
		pthread_mutex_unlock(&ra_fftw_planner);
	}
	for (int i = 0; i < w->parts; i++) {
		fftw_free(w->part[i].out);
		fftw_free(w->part[i].in);
	}
	free(w->acc);
	free(w->ring);
	free(w->window);
	ra_rows_release(&w->fresh);
	ra_rows_release(&w->ready);
	free(w);
}

void ra_welch_reset(ra_welch *w)
{
	if (!w)
		return;
	memset(w->acc, 0, (size_t)w->channels * (size_t)w->phases * w->bins * sizeof(*w->acc));
	ra_welch_restart(w);
}

int ra_welch_channels(const ra_welch *w)
{
	return w ? w->channels : 0;
}

size_t ra_welch_bins(const ra_welch *w)
{
	return w ? w->bins : 0;
}

/* The segments the frames fed so far complete. */
uint64_t ra_welch_segments(const ra_welch *w)
{
	if (!w || w->part[0].at < w->n)
		return 0;
	return (w->part[0].at - w->n) / w->step + 1;
}

int ra_welch_parts(const ra_welch *w)
{
	return w ? w->parts : 0;
}

/*
 * N sum(w^2) / sum(w)^2 bins of fs / N Hz each: 1.5 bins for hann, one
 * for rect. (The header's "fs * N * sum(w^2) / sum(w)^2" is N times this,
 * which is not a bandwidth in Hz; the Hz the header promises win.)
 */
double ra_welch_enbw_hz(const ra_welch *w)
{
	if (!w)
		return 0.0;
	return w->sample_rate * w->sum_w2 / (w->sum_w * w->sum_w);
}

/* ---- the kernel ---- */

/* Channel C's ring of part P's share. */
static inline double *ring_of(const ra_welch *w, const welch_part *p, int c)
{
	return w->ring + ((size_t)p->share * (size_t)w->channels + (size_t)c) * w->n;
}

/* Channel C's sum of phase PHASE. */
static inline double *sum_of(const ra_welch *w, int c, int phase)
{
	return w->acc + ((size_t)c * (size_t)w->phases + (size_t)phase) * w->bins;
}

/* The phase whose sum segment S goes into. */
static inline int phase_of(const ra_welch *w, uint64_t s)
{
	return (int)(group_of(w, s) % (uint64_t)w->phases);
}

/* Channel samples STRIDE floats apart in IN to N doubles in OUT. Inlined
 * with the common strides as constants, so that the loop vectorizes. */
static inline void ra_take(const float *restrict in, size_t stride, double *restrict out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = in[i * stride];
}

/* Copy FRAMES interleaved frames into part P's rings at its POS (no wrap
 * inside), averaging the channels first when mixing. */
static inline __attribute__((always_inline)) void ra_welch_store(ra_welch *w, const welch_part *p,
								 const float *in, size_t frames)
{
	const size_t ch = (size_t)w->in_channels;
	size_t i, c;

	if (w->mix) {
		double *ring = ring_of(w, p, 0) + p->pos;

		for (i = 0; i < frames; i++) {
			const float *f = in + i * ch;
			double sum = 0.0;

			for (c = 0; c < ch; c++)
				sum += f[c];
			ring[i] = sum / (double)ch;
		}
		return;
	}
	for (c = (size_t)p->first; c < (size_t)p->last; c++) {
		double *ring = ring_of(w, p, (int)c) + p->pos;

		if (ch == 1)
			ra_take(in, 1, ring, frames);
		else if (ch == 2)
			ra_take(in + c, 2, ring, frames);
		else
			ra_take(in + c, ch, ring, frames);
	}
}

static void ra_welch_to_db(const ra_welch *w, ra_spectrum_scale scale, uint64_t segments,
			   const double *acc, double *out);

/* Where the next fresh row goes, or NULL when rows are not kept or none
 * fits (then rows are lost, for publish to report). */
static double *ra_welch_new_row(ra_welch *w)
{
	const size_t len = (size_t)w->channels * w->bins;

	if (!w->keep_rows || w->rows_lost)
		return NULL;
	if (!ra_rows_reserve(&w->fresh, w->fresh.count + 1, len)) {
		w->rows_lost = 1;
		return NULL;
	}
	return w->fresh.db + w->fresh.count * len;
}

/* Part P's rings hold one whole segment, oldest frame at its POS: window
 * it, transform it and add each channel's |X_k|^2; with rows kept (one
 * part, all channels), the segment's own |X_k|^2 in dB becomes a fresh
 * row. */
static inline __attribute__((always_inline)) void ra_welch_segment(ra_welch *w, welch_part *p)
{
	const size_t n = w->n, bins = w->bins, head = n - p->pos;
	const double *restrict win = w->window;
	double *restrict in = p->in;
	fftw_complex *restrict out = p->out;
	double *row = ra_welch_new_row(w);
	size_t i, k;
	int c;

	for (c = p->first; c < p->last; c++) {
		const double *restrict ring = ring_of(w, p, c);
		double *restrict acc = sum_of(w, c, phase_of(w, p->next));

		for (i = 0; i < head; i++)
			in[i] = ring[p->pos + i] * win[i];
		for (; i < n; i++)
			in[i] = ring[i - head] * win[i];
		fftw_execute_dft_r2c(w->plan, in, out);
		for (k = 0; k < bins; k++)
			acc[k] += out[k][0] * out[k][0] + out[k][1] * out[k][1];
		for (k = 0; row && k < bins; k++)
			row[(size_t)c * bins + k] = out[k][0] * out[k][0] + out[k][1] * out[k][1];
	}
	if (row) {
		/* Segment s covers frames s * step .. s * step + n - 1. */
		double start = (double)p->next * (double)w->step;

		ra_welch_to_db(w, w->row_scale, 1, row, row);
		w->fresh.time[w->fresh.count++] = (start + (double)n / 2.0) / w->sample_rate;
	}
}

/* The feeding loop of every feed_fn build: frames passed over, stored,
 * and the segments of part P's share of the stream as they end. */
static inline __attribute__((always_inline)) void feed_loop(ra_welch *w, welch_part *p,
							    const float *frames, size_t n)
{
	while (n > 0) {
		/* Frames before the next segment's start are passed over; from
		 * there on they are stored until it ends. */
		const uint64_t start = p->next * w->step, end = start + w->n;
		size_t run;

		if (p->at < start) {
			run = start - p->at < n ? (size_t)(start - p->at) : n;
		} else {
			run = w->n - p->pos;
			if (run > end - p->at)
				run = (size_t)(end - p->at);
			if (run > n)
				run = n;
			ra_welch_store(w, p, frames, run);
			p->pos += run;
			if (p->pos == w->n)
				p->pos = 0;
		}
		frames += run * (size_t)w->in_channels;
		n -= run;
		p->at += run;
		if (p->at == end) {
			ra_welch_segment(w, p);
			/* The next segment of its group, or the first of the next
			 * group of its share. */
			p->next = share_next(w, p, p->next + 1);
		}
	}
}

/* Builds of the loop for each instruction set, as the converter's: the
 * same exact or correctly rounded operations in the same order, so every
 * build gives the same bits. */
#define FEED_BUILD(name, attr)                                                                     \
	attr static void name(ra_welch *w, welch_part *p, const float *frames, size_t n)           \
	{                                                                                          \
		feed_loop(w, p, frames, n);                                                        \
	}

FEED_BUILD(feed_generic, )
#ifdef RA_HAVE_X86
FEED_BUILD(feed_avx2, __attribute__((target("avx2"))))
FEED_BUILD(feed_avx512, __attribute__((target("avx512f"))))
#endif

/* The fastest build this CPU runs, and its name in *NAME when NAME is not
 * NULL. */
static feed_fn *feed_choose(const char **name)
{
	const enum ra_isa isa = ra_cpu_isa();

	if (name)
		*name = ra_isa_name(isa);
	return RA_CPU_PICK(isa, feed_generic, feed_avx2, feed_avx512);
}

const char *ra_welch_kernel(void)
{
	const char *name;

	(void)feed_choose(&name);
	return name;
}

void ra_welch_feed_part(ra_welch *w, int part, const float *frames, size_t n)
{
	if (!w || !frames || part < 0 || part >= w->parts)
		return;
	w->feed(w, &w->part[part], frames, n);
}

void ra_welch_feed(ra_welch *w, const float *frames, size_t n)
{
	for (int i = 0; w && i < w->parts; i++)
		ra_welch_feed_part(w, i, frames, n);
}

int ra_welch_shares(const ra_welch *w)
{
	/* A share passes over the groups between its own: a segment of one
	 * must end before the share's next group starts. */
	if (!w || w->n > (size_t)(w->split - 1) * RA_PHASE_FRAMES)
		return 1;
	return w->split;
}

size_t ra_welch_group_frames(const ra_welch *w, uint64_t group)
{
	uint64_t first, last;

	if (!w)
		return 0;
	first = group_first(w, group);
	last = group_first(w, group + 1);
	if (last == first)
		return 0;
	return (size_t)((last - 1) * w->step + w->n - group * RA_PHASE_FRAMES);
}

void ra_welch_feed_group(ra_welch *w, uint64_t group, const float *frames, size_t n)
{
	const uint64_t from = group * RA_PHASE_FRAMES;

	for (int i = 0; w && frames && i < w->parts; i++) {
		welch_part *p = &w->part[i];

		if ((uint64_t)p->share != group % (uint64_t)w->split || p->at > from)
			continue;
		p->at = from;
		w->feed(w, p, frames, n);
	}
}

void ra_welch_pass_to(ra_welch *w, uint64_t frames)
{
	for (int i = 0; w && i < w->parts; i++)
		if (w->part[i].at < frames)
			w->part[i].at = frames;
}

/* ---- results ---- */

/*
 * scipy's scalings: 'density' divides |X_k|^2 by fs * sum(w^2) (units^2/Hz),
 * 'spectrum' by sum(w)^2 (units^2, a sine of amplitude A on a bin reading
 * A^2/2 once one-sided). One-sided doubles every bin whose mirror image was
 * dropped: all but DC, and but Nyquist when N is even. dBFS is twice the
 * spectrum, so a full-scale sine reads 0 dB.
 */
/* Sums of |X_k|^2 over SEGMENTS segments, ACC[c * bins + k], to dB on
 * SCALE in OUT (which may be ACC). */
static void ra_welch_to_db(const ra_welch *w, ra_spectrum_scale scale, uint64_t segments,
			   const double *acc, double *out)
{
	double norm;
	size_t k, last;
	int c;

	if (scale == RA_SCALE_PSD)
		norm = 1.0 / (w->sample_rate * w->sum_w2);
	else
		norm = 2.0 / (w->sum_w * w->sum_w);
	norm /= (double)segments;
	/* The last doubled bin: N/2 - 1 for even N, (N - 1)/2 for odd. */
	last = (w->n % 2 == 0) ? w->n / 2 - 1 : w->n / 2;

	for (c = 0; c < w->channels; c++) {
		const double *a = acc + (size_t)c * w->bins;
		double *db = out + (size_t)c * w->bins;

		for (k = 0; k < w->bins; k++) {
			double p = a[k] * norm;

			if (k >= 1 && k <= last)
				p *= 2.0;
			db[k] = p > 0.0 ? 10.0 * log10(p) : -INFINITY;
		}
	}
}

ra_status ra_welch_result(const ra_welch *w, ra_spectrum_scale scale, double *out, ra_diag *diag)
{
	if (!w || !out) {
		ra_diag_set(diag, "no analyser or no room for the result");
		return RA_ERR_INVALID;
	}
	if ((unsigned)scale >= RA_NSCALES) {
		ra_diag_set(diag, "unknown spectrum scale %d", (int)scale);
		return RA_ERR_INVALID;
	}
	for (int i = 1; i < w->parts; i++) {
		if (w->part[i].at != w->part[0].at) {
			ra_diag_set(diag, "the analyser's parts were fed unequally");
			return RA_ERR_INVALID;
		}
	}
	if (ra_welch_segments(w) == 0) {
		ra_diag_set(diag, "shorter than one fft segment (%zu frames)", w->n);
		return RA_ERR_INVALID;
	}
	/* Each channel's phase sums, added in order. */
	for (int c = 0; c < w->channels; c++) {
		double *sum = out + (size_t)c * w->bins;

		memcpy(sum, sum_of(w, c, 0), w->bins * sizeof(*sum));
		for (int ph = 1; ph < w->phases; ph++) {
			const double *a = sum_of(w, c, ph);

			for (size_t k = 0; k < w->bins; k++)
				sum[k] += a[k];
		}
	}
	ra_welch_to_db(w, scale, ra_welch_segments(w), out, out);
	return RA_OK;
}

/* ---- rows ---- */

ra_status ra_welch_keep_rows(ra_welch *w, ra_spectrum_scale scale)
{
	/* A share holds only its own groups' frames: shares fold into one
	 * part only before anything is fed. */
	if (!w || (unsigned)scale >= RA_NSCALES || (w->split > 1 && w->part[0].at > 0))
		return RA_ERR_INVALID;
	if (!ra_rows_reserve(&w->fresh, 1, (size_t)w->channels * w->bins))
		return RA_ERR_NOMEM;
	/* A row holds every channel of a segment: one part makes every row.
	 * The runs agree on the stream's place, so part 0 (run 0, share 0)
	 * takes over the other runs' channels where they are, and the other
	 * shares (nothing fed yet) from the start; their transform buffers
	 * and rings go. */
	for (int i = 1; i < w->parts; i++) {
		fftw_free(w->part[i].out);
		fftw_free(w->part[i].in);
		w->part[i].out = NULL;
		w->part[i].in = NULL;
	}
	w->parts = 1;
	w->part[0].last = w->channels;
	if (w->split > 1) {
		double *ring = realloc(w->ring, (size_t)w->channels * w->n * sizeof(*w->ring));

		w->ring = ring ? ring : w->ring; /* shrinking: the old block stands if refused */
		w->split = 1;
	}
	w->keep_rows = 1;
	w->row_scale = scale;
	return RA_OK;
}

size_t ra_welch_batch_frames(const ra_welch *w)
{
	size_t rows;

	if (!w || !w->keep_rows)
		return SIZE_MAX;
	rows = RA_WELCH_ROW_BUDGET / (((size_t)w->channels * w->bins + 1) * sizeof(double));
	if (rows == 0)
		rows = 1;
	return rows > SIZE_MAX / w->step ? SIZE_MAX : rows * w->step;
}

ra_status ra_welch_publish_rows(ra_welch *w)
{
	ra_rows *ready;
	size_t len, left;

	if (!w || !w->keep_rows)
		return RA_OK;
	if (w->rows_lost)
		return RA_ERR_NOMEM;
	if (w->fresh.count == 0)
		return RA_OK;
	/* The rows not yet taken to the front, the fresh ones after them. */
	ready = &w->ready;
	len = (size_t)w->channels * w->bins;
	left = ready->count - w->taken;
	if (left > 0 && w->taken > 0) {
		memmove(ready->time, ready->time + w->taken, left * sizeof(*ready->time));
		memmove(ready->db, ready->db + w->taken * len, left * len * sizeof(*ready->db));
	}
	ready->count = left;
	w->taken = 0;
	if (!ra_rows_reserve(ready, left + w->fresh.count, len)) {
		w->rows_lost = 1;
		return RA_ERR_NOMEM;
	}
	memcpy(ready->time + left, w->fresh.time, w->fresh.count * sizeof(*ready->time));
	memcpy(ready->db + left * len, w->fresh.db, w->fresh.count * len * sizeof(*ready->db));
	ready->count += w->fresh.count;
	w->fresh.count = 0;
	return RA_OK;
}

int ra_welch_take_row(ra_welch *w, double *time_s, const double **db)
{
	if (!w || w->taken == w->ready.count)
		return 0;
	*time_s = w->ready.time[w->taken];
	*db = w->ready.db + w->taken * (size_t)w->channels * w->bins;
	w->taken++;
	return 1;
}

/* ---- wisdom ---- */

ra_status ra_spectrum_wisdom_load(const char *path, int *loaded, ra_diag *diag)
{
	/* Not blocking on a FIFO: only a regular file is wisdom. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat sb;
	FILE *f;
	int ok;

	*loaded = 0;
	if (fd < 0) {
		if (errno == ENOENT)
			return RA_OK;
		ra_diag_set(diag, "%s: cannot open: %s", path, strerror(errno));
		return RA_ERR_OPEN;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || !(f = fdopen(fd, "r"))) {
		ra_diag_set(diag, "%s: not FFTW wisdom (not a regular file)", path);
		close(fd);
		return RA_ERR_FORMAT;
	}
	pthread_mutex_lock(&ra_fftw_planner);
	ok = fftw_import_wisdom_from_file(f);
	pthread_mutex_unlock(&ra_fftw_planner);
	fclose(f);
	if (!ok) {
		ra_diag_set(diag, "%s: not FFTW wisdom", path);
		return RA_ERR_FORMAT;
	}
	*loaded = 1;
	return RA_OK;
}

static int export_wisdom(const void *ctx, FILE *f)
{
	(void)ctx;
	pthread_mutex_lock(&ra_fftw_planner);
	fftw_export_wisdom_to_file(f);
	pthread_mutex_unlock(&ra_fftw_planner);
	return 0; /* write errors are the stream's */
}

ra_status ra_spectrum_wisdom_save(const char *path, int replace, ra_diag *diag)
{
	return ra_atomic_write(path, replace, export_wisdom, NULL, NULL, diag);
}
