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

typedef struct ra_welch_config {
	int channels;	    /* interleaved channels fed */
	double sample_rate; /* Hz */
	size_t fft_size;    /* N >= 2: any size FFTW plans, powers of two fastest */
	ra_window window;
	double overlap; /* 0 <= overlap < 1 */
	int mix;	/* average the channels into one before the analysis */
	int measure;	/* plan with FFTW_MEASURE instead of FFTW_ESTIMATE */
} ra_welch_config;

typedef struct ra_welch ra_welch;

/* An analyser for one stream. Plans are made under a process-wide lock
 * (FFTW's planner is not thread-safe). NULL with STATUS and DIAG on bad
 * parameters (RA_ERR_INVALID) or failure. Its buffers take 16 bytes per
 * analysed channel and point (the row for ra_welch_watch() included), and
 * 24 a point for the transform: more than 1 GiB in all is RA_ERR_LIMITS,
 * checked before anything is allocated. */
ra_welch *ra_welch_create(const ra_welch_config *cfg, ra_status *status, ra_diag *diag);

/* Feed FRAMES interleaved float frames; every segment they complete is
 * windowed, transformed and accumulated. No allocation. */
void ra_welch_feed(ra_welch *w, const float *frames, size_t n);

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

/* Called after each segment with that segment's own spectrum in dB,
 * DB[c * bins + k], and the time of its centre in seconds, as
 * scipy.signal.spectrogram places it; from the thread that feeds. */
typedef void (*ra_welch_row_fn)(void *ctx, double time_s, const double *db);

/* Report every segment from now on to FN on SCALE. RA_ERR_NOMEM. */
ra_status ra_welch_watch(ra_welch *w, ra_spectrum_scale scale, ra_welch_row_fn fn, void *ctx);

/* Start over with nothing accumulated. */
void ra_welch_reset(ra_welch *w);

/* Free W (its plan under the planner lock). NULL is a no-op. */
void ra_welch_destroy(ra_welch *w);

#ifdef __cplusplus
}
#endif

#endif
