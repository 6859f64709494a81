/* EQ chains as users write them: parametric bands ("peak:1k:-3:1.41"),
 * graphic EQs on the ISO octave or third-octave centres, band files and
 * built-in presets; their design at a sample rate and the chain's response.
 *
 * Band syntax: TYPE:FREQ[:GAIN_DB[:Q]], TYPE one of ra_biquad_type_parse()'s
 * names, FREQ in Hz with an optional k (x1000), GAIN with an optional sign
 * (ignored by pass, notch and allpass types), Q default 0.7071. In place of
 * Q, "bw=OCTAVES" (peak, bandpass, notch, allpass) or "s=SLOPE" (shelves);
 * "q=Q" is accepted too. Bands apply in the order added. */
#ifndef RUSTYAUDIO_EQ_H
#define RUSTYAUDIO_EQ_H

#include "rustyaudio/biquad.h"
#include "rustyaudio/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RA_EQ_MAX_BANDS 64

typedef struct ra_eq_band {
	ra_biquad_spec spec;
	char label[48]; /* how the user wrote it, for messages: "peak:1k:-3:1.41" */
} ra_eq_band;

/* A chain of bands; zero-initialise to start empty. Holds no heap memory. */
typedef struct ra_eq {
	ra_eq_band bands[RA_EQ_MAX_BANDS];
	int count;
} ra_eq;

/* Append one band in the syntax above. RA_ERR_INVALID with DIAG naming the
 * band ("bad band 'peek:1k': unknown type 'peek'") for an unknown type, a
 * FREQ that is not a positive number, Q, bw or s not > 0, a width the type
 * does not take, non-numbers, extra fields, or more than RA_EQ_MAX_BANDS. */
ra_status ra_eq_add(ra_eq *eq, const char *text, ra_diag *diag);

/* Append a graphic EQ: ten gains (dB) for the ISO octave centres 31.5 Hz to
 * 16 kHz, or 31 for the third-octave centres 20 Hz to 20 kHz, comma
 * separated; or "CENTRE=GAIN,..." naming centres by their nominal labels
 * ("1k=+3,4k=-2"). Peak bands at the exact base-2 centres 1000 * 2^(n/3) Hz
 * with the Q of their spacing (octave: sqrt(2); third-octave:
 * 2^(1/6) / (2^(1/3) - 1)). Bands with 0 dB gain are left out. */
ra_status ra_eq_add_graphic(ra_eq *eq, const char *text, ra_diag *diag);

/* Append the bands of PATH: one band a line in ra_eq_add()'s syntax, blank
 * lines and '#' comments ignored. DIAG says "PATH:LINE: ..." on error. A
 * band file is text of at most 1 MiB (1048576 bytes; a device or pipe is
 * read no further), lines of at most 1022 characters and no NUL byte:
 * RA_ERR_INVALID otherwise. */
ra_status ra_eq_add_file(ra_eq *eq, const char *path, ra_diag *diag);

/* Append the bands of a built-in preset. */
ra_status ra_eq_add_preset(ra_eq *eq, const char *name, ra_diag *diag);

/* The presets' names, NULL-terminated, and each one's bands as text. */
const char *const *ra_eq_preset_names(void);
const char *ra_eq_preset_bands(const char *name);

/* Coefficients of every band at SAMPLE_RATE into OUT (room for eq->count).
 * RA_ERR_INVALID with DIAG naming the band ("band 3 'peak:30k': frequency
 * 30000 Hz is not below half the sample rate (22050 Hz)") when one cannot
 * be designed at this rate. */
ra_status ra_eq_design(const ra_eq *eq, double sample_rate, ra_biquad_coeffs *out, ra_diag *diag);

/* The designed response of the cascade C[0..COUNT) at FREQ Hz, in dB. */
double ra_eq_response_db(const ra_biquad_coeffs *c, int count, double freq, double sample_rate);

/* The cascade's largest gain between 0 Hz and Nyquist and where it is:
 * a dense log-spaced scan refined around its maximum (to 0.001 dB). */
void ra_eq_peak_gain(const ra_biquad_coeffs *c, int count, double sample_rate, double *gain_db,
		     double *freq);

#ifdef __cplusplus
}
#endif

#endif
