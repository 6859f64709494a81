/* Spectrum reports on disk: the CSV table and a self-contained SVG plot,
 * each written to a temporary file beside the target and renamed into
 * place only when complete. */
#ifndef RUSTYAUDIO_REPORT_H
#define RUSTYAUDIO_REPORT_H

#include <stddef.h>

#include "rustyaudio/spectrum.h"
#include "rustyaudio/status.h"

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
 * as %.6g. Refuses an existing PATH unless FORCE. */
ra_status ra_report_write_csv(const ra_report *r, const char *path, int force, ra_diag *diag);

/* Write the SVG plot: log frequency 20 Hz to Nyquist, dB with grid and
 * labels, one polyline a channel and side, title with file and settings. */
ra_status ra_report_write_svg(const ra_report *r, const char *path, int force, ra_diag *diag);

#endif
