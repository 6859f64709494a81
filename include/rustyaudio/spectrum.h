/* Welch spectra with FFTW: the stream is cut into windowed, overlapping
 * segments of fft_size frames, each transformed (real to complex) and its
 * periodogram averaged, exactly as scipy.signal.welch(x, fs, window,
 * nperseg=N, noverlap=round(overlap * N), detrend=False) defines it
 * (one-sided; a partial last segment is left out).
 *
 * Scales: RA_SCALE_PSD is 10 log10 of the power spectral density
 * (scaling='density', units^2/Hz); RA_SCALE_DBFS is 10 log10 of twice
 * scaling='spectrum', so a full-scale sine centred on a bin reads 0 dB. */
#ifndef RUSTYAUDIO_SPECTRUM_H
#define RUSTYAUDIO_SPECTRUM_H

#include <stddef.h>
#include <stdint.h>

#include "rustyaudio/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ra_window {
	RA_WINDOW_HANN,
	RA_WINDOW_HAMMING,
	RA_WINDOW_BLACKMAN,
	RA_WINDOW_BLACKMAN_HARRIS,
	RA_WINDOW_FLATTOP,
	RA_WINDOW_RECT
} ra_window;

/* "hann", "hamming", "blackman", "blackman-harris", "flattop", "rect". */
ra_status ra_window_parse(const char *name, ra_window *window);
const char *ra_window_name(ra_window window);

/* The periodic window of N points, as scipy.signal.get_window(name, N)
 * gives it (fftbins=True): w[n] = sum_k (-1)^k a_k cos(2 pi k n / N). */
void ra_window_fill(ra_window window, double *out, size_t n);

/* FFTW wisdom, so that measured plans are measured once, not per process:
 * load merges PATH's wisdom (a missing file is not an error: returns RA_OK
 * with *LOADED 0; anything but a regular file of wisdom is RA_ERR_FORMAT);
 * save writes what this process knows to PATH atomically, replacing a file
 * there only when REPLACE (the file it loaded: RA_ERR_EXISTS otherwise,
 * RA_ERR_REPLACED when another file took its place meanwhile).
 * Both under the planner lock. RA_ERR_OPEN / RA_ERR_FORMAT / RA_ERR_WRITE
 * with DIAG. */
ra_status ra_spectrum_wisdom_load(const char *path, int *loaded, ra_diag *diag);
ra_status ra_spectrum_wisdom_save(const char *path, int replace, ra_diag *diag);

typedef enum ra_spectrum_scale { RA_SCALE_PSD, RA_SCALE_DBFS } ra_spectrum_scale;

/* "psd" or "dbfs". */
ra_status ra_spectrum_scale_parse(const char *name, ra_spectrum_scale *scale);

/* The name ra_spectrum_scale_parse() takes for SCALE; "?" if none. */
const char *ra_spectrum_scale_name(ra_spectrum_scale scale);

/* The most parts an analyser's work is split into (see ra_welch_parts()). */
#define RA_WELCH_MAX_PARTS 8

typedef struct ra_welch_config {
	int channels;	    /* interleaved channels fed */
	double sample_rate; /* Hz */
	size_t fft_size;    /* N >= 2: any size FFTW plans, powers of two fastest */
	ra_window window;
	double overlap; /* 0 <= overlap < 1 */
	int mix;	/* average the channels into one before the analysis */
	int measure;	/* plan with FFTW_MEASURE instead of FFTW_ESTIMATE */
	int parts;	/* split the work into up to this many parts, fed at
			 * once by ra_welch_feed_part() (0 or 1: one part) */
	int in_time;	/* the parts share the stream in time only, each
			 * taking every channel (see ra_welch_shares()) */
} ra_welch_config;

typedef struct ra_welch ra_welch;

/* An analyser for one stream. Plans are made under a process-wide lock
 * (FFTW's planner is not thread-safe). NULL with STATUS and DIAG on bad
 * parameters (RA_ERR_INVALID) or failure. Its buffers take, per analysed
 * channel, 8 bytes a point for a ring (one for each share in time, see
 * ra_welch_parts()) and 8 bytes a bin for each of its sums (four up to
 * 65536 points, one above) and for one spectrogram row; 8 bytes a point
 * for the window, and 16 a point for each part's transform. More than
 * 1 GiB in all with one part is RA_ERR_LIMITS, checked before anything is
 * allocated; parts that would take it past 1 GiB are not made (fewer
 * shares first, then fewer runs). */
ra_welch *ra_welch_create(const ra_welch_config *cfg, ra_status *status, ra_diag *diag);

/* Feed FRAMES interleaved float frames; every segment they complete is
 * windowed, transformed and accumulated, and kept as a row if rows are
 * kept. No allocation, but for a row store that must grow (see below). */
void ra_welch_feed(ra_welch *w, const float *frames, size_t n);

/* The build of the feeding loops (windowing, power sums) this CPU runs:
 * "avx512f", "avx2" or "scalar" (the x86-64 baseline); every build gives
 * the same bits. */
const char *ra_welch_kernel(void);

/* The parts the work is split into (ra_welch_config's parts as far as
 * made; 1 once rows are kept): nearly equal runs of the analysed channels
 * in order, as many as asked and as there are channels, and each run in
 * 1, 2 or 4 shares of the stream in time, as far as the parts asked go.
 * The periodograms are summed in four sums a channel by stream position
 * (segment s into sum (s / 16) % 4, one sum above 65536 points), added in
 * order for the result; share j of S computes the segments of the groups
 * of 16 whose index is j modulo S. The sums, and so the result, are the
 * same to the bit for any parts. */
int ra_welch_parts(const ra_welch *w);

/* ra_welch_feed() of part PART's channels and share alone (0 <= PART <
 * ra_welch_parts(); else nothing). Different parts may be fed at the same
 * time from different threads, each by one thread at a time, and no
 * other call on W meanwhile. The result is ra_welch_feed()'s, to the bit,
 * once every part has been fed the same frames; ra_welch_result() refuses
 * parts fed unequally. */
void ra_welch_feed_part(ra_welch *w, int part, const float *frames, size_t n);

/*
 * The stream shared out by groups (phases.h) instead of fed whole:
 *  - ra_welch_shares(): the shares W's parts split the stream into, so
 *    that share j computes the segments of the groups g with
 *    g % shares == j; 1 when it cannot be shared out.
 *  - ra_welch_group_frames(): the frames from group GROUP's first that its
 *    segments hold (0 when none starts in it).
 *  - ra_welch_feed_group(): FRAMES, N of the stream's frames from group
 *    GROUP's first (as many as ra_welch_group_frames() says, or up to the
 *    stream's end), to the parts of its share. A share's groups go in
 *    stream order; different shares' may go at once from different
 *    threads, with no other call on W meanwhile.
 *  - ra_welch_pass_to(): once every group is in, the parts at the stream's
 *    end, FRAMES frames, as ra_welch_feed() leaves them: the result is then
 *    its result, to the bit.
 */
int ra_welch_shares(const ra_welch *w);
size_t ra_welch_group_frames(const ra_welch *w, uint64_t group);
void ra_welch_feed_group(ra_welch *w, uint64_t group, const float *frames, size_t n);
void ra_welch_pass_to(ra_welch *w, uint64_t frames);

/* Channels of the result (1 when mixing), bins (fft_size / 2 + 1),
 * segments averaged so far, the window's equivalent noise bandwidth in Hz
 * (fs * sum(w^2) / sum(w)^2: 1.5 bins for hann). */
int ra_welch_channels(const ra_welch *w);
size_t ra_welch_bins(const ra_welch *w);
uint64_t ra_welch_segments(const ra_welch *w);
double ra_welch_enbw_hz(const ra_welch *w);

/* The averaged spectrum in dB on SCALE: OUT[c * bins + k] for channel c
 * and bin k (frequency k * fs / N). Bins with no power read -infinity.
 * RA_ERR_INVALID with DIAG when not one full segment has been fed. */
ra_status ra_welch_result(const ra_welch *w, ra_spectrum_scale scale, double *out, ra_diag *diag);

/*
 * Spectrogram rows. An analyser can keep every segment's own spectrum as
 * a row: its time (the segment's centre in seconds, where
 * scipy.signal.spectrogram places it) and its dB on a scale,
 * DB[c * bins + k]. Rows are computed by whichever thread feeds, and
 * handed out in stream order to the thread that owns the analyser, in two
 * steps, so that the two threads never share a row:
 *  - ra_welch_publish_rows(): the rows the feeds since the last publish
 *    completed can be taken. Only while no feed runs (the processor calls
 *    it after each step it collects; a caller that feeds calls it itself).
 *  - ra_welch_take_row(): the oldest published row not yet taken. May run
 *    while another thread feeds, never beside a publish.
 * Memory: a row takes 8 (channels * bins + 1) bytes; the stores hold the
 * rows the feeds between two publishes complete and the published ones
 * not yet taken (ra_welch_create()'s 1 GiB bound counts one row). They
 * grow (in feed and in publish) only when a batch of rows is larger than
 * any before, so a steady stream stops allocating once its first batches
 * are through. A caller that feeds at most ra_welch_batch_frames() frames
 * between two publishes, and takes every row before the next publish,
 * holds no more than two batches of rows, each within RA_WELCH_ROW_BUDGET
 * (or one row, when one row takes more), whatever the overlap, fft size,
 * channels and stream length: the processor and the job do.
 */

/* The bytes of rows a batch may take: 4 MiB, 255 stereo rows of 2048
 * points. */
#define RA_WELCH_ROW_BUDGET ((size_t)4 << 20)

/* Keep a row for every segment from now on, on SCALE. The analyser has
 * one part from then on (a row holds every channel): call it before any
 * ra_welch_feed_part(). An analyser in shares of the stream in time
 * folds only before anything is fed: RA_ERR_INVALID after, as for an
 * unknown scale; RA_ERR_NOMEM when not even one row fits. */
ra_status ra_welch_keep_rows(ra_welch *w, ra_spectrum_scale scale);

/* The most frames a batch may hold: fed between two publishes, they
 * complete at most RA_WELCH_ROW_BUDGET / row bytes rows (at least one:
 * segments end a step of fft_size - noverlap frames apart, so F frames
 * complete at most F / step rows, rounded up). SIZE_MAX when no rows are
 * kept (or W is NULL). */
size_t ra_welch_batch_frames(const ra_welch *w);

/* The rows fed so far can be taken, after those still untaken. RA_OK when
 * no rows are kept; RA_ERR_NOMEM when a feed or this publish could not
 * make room for a row (the rows are then incomplete: every later publish
 * fails too, until ra_welch_reset()). */
ra_status ra_welch_publish_rows(ra_welch *w);

/* The oldest published row: 1 with *TIME_S and *DB (channels * bins
 * values, the analyser's, valid until the next publish, reset or
 * destroy), or 0 when every published row has been taken. */
int ra_welch_take_row(ra_welch *w, double *time_s, const double **db);

/* Start over with nothing accumulated and no rows (rows are still kept). */
void ra_welch_reset(ra_welch *w);

/* Free W (its plan under the planner lock). NULL is a no-op. */
void ra_welch_destroy(ra_welch *w);

#ifdef __cplusplus
}
#endif

#endif
