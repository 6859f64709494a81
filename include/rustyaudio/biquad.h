/* Biquad filters: the RBJ Audio EQ Cookbook designs (pure functions), their
 * frequency response, and in-place kernels over double samples.
 *
 * Conventions: frequencies in Hz, gains in dB, coefficients normalised so
 * that a0 = 1:  H(z) = (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2).
 * Kernels run transposed direct form II with state in double, and every
 * kernel (scalar, SIMD, any grouping of bands) performs exactly the same
 * rounded operations per band and sample, with fused multiply-adds:
 *     y  = fma(b0, x, s1)
 *     s1 = fma(-a1, y, fma(b1, x, s2))
 *     s2 = fma(-a2, y, b2 * x)
 * so results are bit-identical whichever kernel or schedule runs them. */
#ifndef RUSTYAUDIO_BIQUAD_H
#define RUSTYAUDIO_BIQUAD_H

#include <stddef.h>

#include "rustyaudio/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ra_biquad_type {
	RA_BIQUAD_PEAK,
	RA_BIQUAD_LOWSHELF,
	RA_BIQUAD_HIGHSHELF,
	RA_BIQUAD_LOWPASS,
	RA_BIQUAD_HIGHPASS,
	RA_BIQUAD_BANDPASS, /* constant 0 dB peak gain */
	RA_BIQUAD_NOTCH,
	RA_BIQUAD_ALLPASS
} ra_biquad_type;

/* How the band's width is given. */
typedef enum ra_biquad_width {
	RA_WIDTH_Q,	  /* quality factor Q > 0 */
	RA_WIDTH_OCTAVES, /* bandwidth in octaves (peak, bandpass, notch, allpass) */
	RA_WIDTH_SLOPE	  /* shelf slope S > 0 (shelves only); S = 1 is the steepest monotonic */
} ra_biquad_width;

typedef struct ra_biquad_spec {
	ra_biquad_type type;
	double freq;	/* centre or corner frequency, Hz */
	double gain_db; /* peak and shelves; ignored by the others */
	ra_biquad_width width_kind;
	double width;
} ra_biquad_spec;

typedef struct ra_biquad_coeffs {
	double b0, b1, b2, a1, a2;
} ra_biquad_coeffs;

/* Parse a type name: "peak", "lowshelf", "highshelf", "lowpass", "highpass",
 * "bandpass", "notch", "allpass". RA_ERR_INVALID otherwise. */
ra_status ra_biquad_type_parse(const char *name, ra_biquad_type *type);
const char *ra_biquad_type_name(ra_biquad_type type);

/* The cookbook coefficients of SPEC at SAMPLE_RATE. RA_ERR_INVALID with a
 * reason in DIAG when freq is not in (0, rate/2), the width is not > 0 or
 * not allowed for the type, or a value is not finite. */
ra_status ra_biquad_design(const ra_biquad_spec *spec, double sample_rate, ra_biquad_coeffs *out,
			   ra_diag *diag);

/* |H| at FREQ Hz, in dB. */
double ra_biquad_magnitude_db(const ra_biquad_coeffs *c, double freq, double sample_rate);

/* State of one band on one channel. Zero it to start (or to reset). */
typedef struct ra_biquad_state {
	double s1, s2;
} ra_biquad_state;

/* The scalar kernel: filter FRAMES samples of BUF in place with one band. */
void ra_biquad_process(const ra_biquad_coeffs *c, ra_biquad_state *st, double *buf, size_t frames);

/* A cascade: bands k = 0..count-1 of one channel applied in order, each
 * feeding the next, with its own state. On CPUs with AVX2 and FMA the
 * bands run as SIMD lanes with band k lagging band k-1 by one sample, so
 * one vector step advances every band; elsewhere band by band. */
typedef struct ra_cascade ra_cascade;

/* COUNT bands (1..64) with coefficients C, copied. NULL on failure, with
 * STATUS and DIAG: RA_ERR_INVALID for a count out of range or coefficients
 * that are not finite, RA_ERR_NOMEM. */
ra_cascade *ra_cascade_create(const ra_biquad_coeffs *c, int count, ra_status *status,
			      ra_diag *diag);

/* Filter FRAMES samples of BUF in place through every band. No allocation. */
void ra_cascade_process(ra_cascade *cs, double *buf, size_t frames);

/* Two cascades with the same band count at once, e.g. two channels of one
 * stream: exactly the result of ra_cascade_process(a, buf_a, frames) and
 * ra_cascade_process(b, buf_b, frames), but on SIMD kernels the two
 * channels' steps interleave so that each one's latency hides behind the
 * other's work, or, where a group of their bands fits in fewer vectors
 * together than apart, share them (groups of 5 or 6 bands at 4 lanes, and
 * of 9 or 10 with AVX-512's registers; 9-12 and 17-20 at 8 lanes). A and
 * B must differ and have the same count. */
void ra_cascade_process2(ra_cascade *a, double *buf_a, ra_cascade *b, double *buf_b, size_t frames);

/* Clear the state of every band. */
void ra_cascade_reset(ra_cascade *cs);

/* Free CS. NULL is a no-op. */
void ra_cascade_destroy(ra_cascade *cs);

/* Name of the widest kernel ra_cascade_process() uses on this CPU:
 * "avx512f", "avx2-fma" or "scalar". */
const char *ra_cascade_kernel(void);

/* Name of the kernel CS runs. On a CPU with AVX-512, a cascade of 1-6, 9
 * or 10 bands runs "avx512vl", the 4-lane kernel with AVX-512's 32
 * registers, where that was measured faster on two channels (it computes
 * fewer lanes); every cascade of one band count runs the same. The
 * environment variable RUSTY_AUDIO_EQ_LANES=4 or 8 fixes the width for
 * every count instead; the bytes are the same at either. */
const char *ra_cascade_name(const ra_cascade *cs);

#ifdef __cplusplus
}
#endif

#endif
