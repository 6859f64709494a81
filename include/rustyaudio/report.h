/* Spectrum reports on disk: the CSV table, a self-contained SVG plot and
 * the streamed spectrogram, each written to a temporary file beside the
 * target and renamed into place only when complete. */
#ifndef RUSTYAUDIO_REPORT_H
#define RUSTYAUDIO_REPORT_H

#include <stddef.h>

#include "rustyaudio/atomic_file.h"
#include "rustyaudio/spectrum.h"
#include "rustyaudio/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One analysed side of a stream (input or output). */
typedef struct ra_report_side {
	const double *db; /* [channel * bins + bin] */
	int channels;
	unsigned long long segments;
} ra_report_side;

typedef struct ra_report {
	const char *input_path; /* for the metadata and the title */
	double sample_rate;
	size_t fft_size;
	size_t bins; /* fft_size / 2 + 1 */
	ra_window window;
	double overlap;
	ra_spectrum_scale scale;
	double enbw_hz;
	int mix;
	const ra_report_side *in;  /* NULL unless the input was analysed */
	const ra_report_side *out; /* NULL unless the output was analysed */
	/* With both sides: the EQ chain's designed response at each bin, dB
	 * (NULL: no EQ, target 0 dB). */
	const double *target_db;
} ra_report;

/* Write the CSV: '#' metadata lines, then "frequency_hz,ch1_db,..." (or,
 * with both sides, "frequency_hz,in_ch1_db,...,out_ch1_db,...,
 * delta_ch1_db,...,target_db,error_ch1_db,..."), one row a bin, numbers
 * as %.6g. Refuses an existing PATH unless FORCE. HELD NULL: committed;
 * otherwise only finished, in *HELD, to publish or abort (as
 * ra_atomic_write()), so that a caller can put several files in place
 * together. RA_ERR_INVALID, writing nothing, when R has neither side. */
ra_status ra_report_write_csv(const ra_report *r, const char *path, int force, ra_atomic_file *held,
			      ra_diag *diag);

/* Write the SVG plot: log frequency 20 Hz to Nyquist, dB with grid and
 * labels, one polyline a channel and side, title with file and settings.
 * With neither side: the empty plot, -100..0 dB. HELD as for
 * ra_report_write_csv(). */
ra_status ra_report_write_svg(const ra_report *r, const char *path, int force, ra_atomic_file *held,
			      ra_diag *diag);

/* A spectrogram, written a row per segment as the stream goes (nothing
 * long stays in memory), to a temporary file renamed into place on commit. */
typedef struct ra_spectrogram_layout {
	double sample_rate;
	size_t fft_size;
	size_t bins; /* fft_size / 2 + 1 */
	int channels;
	int long_format; /* rows "time_s,frequency_hz,ch,db" instead of a row a segment */
	size_t columns;	 /* wide: bands a channel, averaging power; 0 keeps every bin */
} ra_spectrogram_layout;

typedef struct ra_spectrogram ra_spectrogram;

/* Start PATH with its header: "time_s,ch1_<Hz>,..." (wide) or the long
 * header. NULL with STATUS and DIAG on failure. */
ra_spectrogram *ra_spectrogram_open(const char *path, int force,
				    const ra_spectrogram_layout *layout, ra_status *status,
				    ra_diag *diag);

/* One segment: its spectrum DB[c * bins + k] at TIME_S, as
 * ra_welch_take_row() hands it out. Write errors show at commit. */
void ra_spectrogram_row(ra_spectrogram *sg, double time_s, const double *db);

/* Finish and move into place, or with HELD only finish, as for
 * ra_report_write_csv(); frees SG. SG NULL is RA_ERR_INVALID, with DIAG,
 * and does nothing. */
ra_status ra_spectrogram_commit(ra_spectrogram *sg, ra_atomic_file *held, ra_diag *diag);

/* Discard; frees SG. NULL is a no-op. */
void ra_spectrogram_abort(ra_spectrogram *sg);

#ifdef __cplusplus
}
#endif

#endif
