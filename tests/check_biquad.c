/* Unit tests for biquad: cookbook coefficients against an independent
 * derivation, magnitude, impulse, step and sine responses, the cascade's
 * bit-exactness against the scalar kernel (any band count, buffer length and
 * block split) and of two cascades at once against one at a time, under
 * every kernel this CPU has, hard low-frequency designs against long
 * double, and errors. */
#include <check.h>
#include <complex.h>
#include <ctype.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && __has_include(<sys/platform/x86.h>)
#include <sys/platform/x86.h>
#endif

#include "rustyaudio/biquad.h"
#include "testutil.h"

#define PI 3.14159265358979323846

/* splitmix64: seeded test signals, independent of the code under test. */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rng_unit(uint64_t *state)
{
	return (double)(rng_next(state) >> 11) * 0x1.0p-53;
}

/* White noise in [-0.5, 0.5); caller frees. */
static double *noise(size_t n, uint64_t seed)
{
	double *buf = malloc((n ? n : 1) * sizeof(*buf));

	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < n; i++)
		buf[i] = rng_unit(&seed) - 0.5;
	return buf;
}

static double *copy_of(const double *src, size_t n)
{
	double *buf = malloc((n ? n : 1) * sizeof(*buf));

	ck_assert_ptr_nonnull(buf);
	if (n)
		memcpy(buf, src, n * sizeof(*buf));
	return buf;
}

static ra_biquad_spec spec_of(ra_biquad_type type, double freq, double gain, ra_biquad_width kind,
			      double width)
{
	ra_biquad_spec s = { type, freq, gain, kind, width };

	return s;
}

static ra_biquad_coeffs design_ok(ra_biquad_type type, double freq, double gain,
				  ra_biquad_width kind, double width, double rate)
{
	const ra_biquad_spec s = spec_of(type, freq, gain, kind, width);
	ra_biquad_coeffs c;
	ra_diag diag = { "" };

	ck_assert_msg(ra_biquad_design(&s, rate, &c, &diag) == RA_OK, "%s", diag.text);
	return c;
}

/* ---- an independent cookbook ---- */

/* The cookbook again (RBJ, "Cookbook formulae for audio EQ biquad filter
 * coefficients"), written as un-normalised numerator and denominator
 * polynomials, then divided by a[0]. */
static ra_biquad_coeffs cookbook(ra_biquad_type type, double f0, double fs, double gain,
				 ra_biquad_width kind, double width)
{
	const double w = 2 * PI * (f0 / fs);
	const double c = cos(w), s = sin(w);
	const double big_a = sqrt(pow(10, gain / 20)); /* 10^(gain/40) */
	const int gained =
		type == RA_BIQUAD_PEAK || type == RA_BIQUAD_LOWSHELF || type == RA_BIQUAD_HIGHSHELF;
	const double A = gained ? big_a : 1;
	double alpha, b[3], a[3];
	ra_biquad_coeffs out;

	if (kind == RA_WIDTH_Q)
		alpha = s / (2 * width);
	else if (kind == RA_WIDTH_OCTAVES)
		alpha = s * sinh(M_LN2 / 2 * width * w / s);
	else
		alpha = s / 2 * sqrt((A + 1 / A) * (1 / width - 1) + 2);

	switch (type) {
	case RA_BIQUAD_LOWPASS:
		b[0] = b[2] = (1 - c) / 2;
		b[1] = 1 - c;
		a[0] = 1 + alpha, a[1] = -2 * c, a[2] = 1 - alpha;
		break;
	case RA_BIQUAD_HIGHPASS:
		b[0] = b[2] = (1 + c) / 2;
		b[1] = -(1 + c);
		a[0] = 1 + alpha, a[1] = -2 * c, a[2] = 1 - alpha;
		break;
	case RA_BIQUAD_BANDPASS:
		b[0] = alpha, b[1] = 0, b[2] = -alpha;
		a[0] = 1 + alpha, a[1] = -2 * c, a[2] = 1 - alpha;
		break;
	case RA_BIQUAD_NOTCH:
		b[0] = 1, b[1] = -2 * c, b[2] = 1;
		a[0] = 1 + alpha, a[1] = -2 * c, a[2] = 1 - alpha;
		break;
	case RA_BIQUAD_ALLPASS:
		b[0] = 1 - alpha, b[1] = -2 * c, b[2] = 1 + alpha;
		a[0] = 1 + alpha, a[1] = -2 * c, a[2] = 1 - alpha;
		break;
	case RA_BIQUAD_PEAK:
		b[0] = 1 + alpha * A, b[1] = -2 * c, b[2] = 1 - alpha * A;
		a[0] = 1 + alpha / A, a[1] = -2 * c, a[2] = 1 - alpha / A;
		break;
	case RA_BIQUAD_LOWSHELF: {
		const double r = 2 * sqrt(A) * alpha;

		b[0] = A * ((A + 1) - (A - 1) * c + r);
		b[1] = 2 * A * ((A - 1) - (A + 1) * c);
		b[2] = A * ((A + 1) - (A - 1) * c - r);
		a[0] = (A + 1) + (A - 1) * c + r;
		a[1] = -2 * ((A - 1) + (A + 1) * c);
		a[2] = (A + 1) + (A - 1) * c - r;
		break;
	}
	default: { /* RA_BIQUAD_HIGHSHELF */
		const double r = 2 * sqrt(A) * alpha;

		b[0] = A * ((A + 1) + (A - 1) * c + r);
		b[1] = -2 * A * ((A - 1) + (A + 1) * c);
		b[2] = A * ((A + 1) + (A - 1) * c - r);
		a[0] = (A + 1) - (A - 1) * c + r;
		a[1] = 2 * ((A - 1) - (A + 1) * c);
		a[2] = (A + 1) - (A - 1) * c - r;
		break;
	}
	}
	out.b0 = b[0] / a[0];
	out.b1 = b[1] / a[0];
	out.b2 = b[2] / a[0];
	out.a1 = a[1] / a[0];
	out.a2 = a[2] / a[0];
	return out;
}

/* |H| in dB by complex arithmetic in long double. */
static double magnitude_ref(const ra_biquad_coeffs *c, double freq, double rate)
{
	const long double complex z1 = cexpl(-I * 2 * (long double)PI * freq / rate);
	const long double complex num = c->b0 + z1 * (c->b1 + z1 * c->b2);
	const long double complex den = 1 + z1 * (c->a1 + z1 * c->a2);

	return (double)(20 * log10l(cabsl(num) / cabsl(den)));
}

/* Direct form I in long double: y = b0 x + b1 x1 + b2 x2 - a1 y1 - a2 y2. */
static void direct_form_ref(const ra_biquad_coeffs *c, int bands, const double *in, double *out,
			    size_t n)
{
	long double *hist = calloc((size_t)bands * 4, sizeof(*hist));

	ck_assert_ptr_nonnull(hist);
	for (size_t i = 0; i < n; i++) {
		long double x = in[i];

		for (int k = 0; k < bands; k++) {
			long double *h = hist + 4 * k; /* x1 x2 y1 y2 */
			const long double y = c[k].b0 * x + c[k].b1 * h[0] + c[k].b2 * h[1] -
					      c[k].a1 * h[2] - c[k].a2 * h[3];

			h[1] = h[0], h[0] = x;
			h[3] = h[2], h[2] = y;
			x = y;
		}
		out[i] = (double)x;
	}
	free(hist);
}

/* Every band of C over BUF with the scalar kernel, band after band. */
static void bandwise(const ra_biquad_coeffs *c, ra_biquad_state *st, int bands, double *buf,
		     size_t n)
{
	for (int k = 0; k < bands; k++)
		ra_biquad_process(&c[k], &st[k], buf, n);
}

/* Bands of every type at random frequencies and settings. */
static void random_bands(ra_biquad_coeffs *c, int bands, uint64_t seed)
{
	for (int k = 0; k < bands; k++) {
		const ra_biquad_type type = (ra_biquad_type)(rng_next(&seed) % 8);
		const double freq = 20 * pow(1000, rng_unit(&seed)); /* 20 Hz .. 20 kHz */
		const double gain = 24 * rng_unit(&seed) - 12;
		const double q = 0.3 + 5 * rng_unit(&seed);

		c[k] = design_ok(type, freq, gain, RA_WIDTH_Q, q, 48000);
	}
}

/* Noise with runs of +0 and -0 (their signs must survive every kernel). */
static double *test_signal(size_t n, uint64_t seed)
{
	double *buf = noise(n, seed);

	for (size_t i = 0; i < n; i++)
		if (i % 97 < 5)
			buf[i] = i % 2 ? -0.0 : 0.0;
	for (size_t i = 0; i < n && i < 40; i++)
		buf[i] = -0.0;
	return buf;
}

static void assert_diag_sane(const ra_diag *diag)
{
	const size_t len = strlen(diag->text);

	ck_assert_msg(len > 0, "empty diagnostic");
	ck_assert_msg(!isupper((unsigned char)diag->text[0]), "not lowercase: %s", diag->text);
	ck_assert_msg(diag->text[len - 1] != '.', "final full stop: %s", diag->text);
}

/* ---- behaviour: design ---- */

START_TEST(test_type_names)
{
	static const char *const names[] = { "peak",	 "lowshelf", "highshelf", "lowpass",
					     "highpass", "bandpass", "notch",	  "allpass" };

	for (int i = 0; i < 8; i++) {
		ra_biquad_type t = (ra_biquad_type)(i == 0 ? 7 : 0);

		ck_assert_int_eq(ra_biquad_type_parse(names[i], &t), RA_OK);
		ck_assert_int_eq(t, (ra_biquad_type)i);
		ck_assert_str_eq(ra_biquad_type_name(t), names[i]);
	}
	ck_assert_int_eq(RA_BIQUAD_PEAK, 0);
	ck_assert_int_eq(RA_BIQUAD_ALLPASS, 7);
}
END_TEST

static const struct coeff_case {
	ra_biquad_type type;
	double f0, fs, gain;
	ra_biquad_width kind;
	double width;
} coeff_cases[] = {
	{ RA_BIQUAD_PEAK, 1000, 48000, 6, RA_WIDTH_Q, 1.41 },
	{ RA_BIQUAD_PEAK, 50, 44100, -12, RA_WIDTH_Q, 4.32 },
	{ RA_BIQUAD_PEAK, 15000, 96000, 3, RA_WIDTH_OCTAVES, 1.0 / 3 },
	{ RA_BIQUAD_PEAK, 8000, 48000, -20, RA_WIDTH_OCTAVES, 2 },
	{ RA_BIQUAD_LOWSHELF, 100, 48000, 6, RA_WIDTH_SLOPE, 1 },
	{ RA_BIQUAD_LOWSHELF, 20, 192000, -9, RA_WIDTH_SLOPE, 0.5 },
	{ RA_BIQUAD_LOWSHELF, 3000, 44100, 12, RA_WIDTH_Q, 0.7071 },
	{ RA_BIQUAD_HIGHSHELF, 8000, 48000, -6, RA_WIDTH_SLOPE, 1 },
	{ RA_BIQUAD_HIGHSHELF, 500, 96000, 15, RA_WIDTH_SLOPE, 0.3 },
	{ RA_BIQUAD_HIGHSHELF, 12000, 44100, 4, RA_WIDTH_Q, 1.2 },
	{ RA_BIQUAD_LOWPASS, 1000, 48000, 0, RA_WIDTH_Q, 0.7071 },
	{ RA_BIQUAD_LOWPASS, 18000, 44100, 0, RA_WIDTH_Q, 3 },
	{ RA_BIQUAD_HIGHPASS, 80, 48000, 0, RA_WIDTH_Q, 0.7071 },
	{ RA_BIQUAD_HIGHPASS, 5000, 96000, 0, RA_WIDTH_Q, 0.5 },
	{ RA_BIQUAD_BANDPASS, 1000, 48000, 0, RA_WIDTH_Q, 2 },
	{ RA_BIQUAD_BANDPASS, 300, 44100, 0, RA_WIDTH_OCTAVES, 1 },
	{ RA_BIQUAD_NOTCH, 60, 48000, 0, RA_WIDTH_Q, 10 },
	{ RA_BIQUAD_NOTCH, 7000, 48000, 0, RA_WIDTH_OCTAVES, 0.5 },
	{ RA_BIQUAD_ALLPASS, 2000, 48000, 0, RA_WIDTH_Q, 0.7071 },
	{ RA_BIQUAD_ALLPASS, 40, 96000, 0, RA_WIDTH_OCTAVES, 2 },
};

START_TEST(test_coeffs_match_cookbook)
{
	const struct coeff_case *k = &coeff_cases[_i];
	const ra_biquad_coeffs got = design_ok(k->type, k->f0, k->gain, k->kind, k->width, k->fs);
	const ra_biquad_coeffs want = cookbook(k->type, k->f0, k->fs, k->gain, k->kind, k->width);
	const double g[5] = { got.b0, got.b1, got.b2, got.a1, got.a2 };
	const double w[5] = { want.b0, want.b1, want.b2, want.a1, want.a2 };

	for (int i = 0; i < 5; i++)
		ck_assert_msg(fabs(g[i] - w[i]) <= 1e-12 * fabs(w[i]) + DBL_MIN,
			      "%s case %d coefficient %d: %.17g, want %.17g",
			      ra_biquad_type_name(k->type), _i, i, g[i], w[i]);
}
END_TEST

/* Known values the cookbook implies, as a check on the check. */
START_TEST(test_coeffs_known_values)
{
	/* A lowpass at a quarter of the rate: cos(w0) = 0, sin(w0) = 1. */
	const ra_biquad_coeffs lp = design_ok(RA_BIQUAD_LOWPASS, 12000, 0, RA_WIDTH_Q, 0.5, 48000);
	/* A 0 dB peak is a wire. */
	const ra_biquad_coeffs flat = design_ok(RA_BIQUAD_PEAK, 1000, 0, RA_WIDTH_Q, 2, 48000);

	/* alpha = 1: b = (1/2, 1, 1/2) / 2, a = (2, 0, 0) / 2. */
	ck_assert_double_eq_tol(lp.b0, 0.25, 1e-15);
	ck_assert_double_eq_tol(lp.b1, 0.5, 1e-15);
	ck_assert_double_eq_tol(lp.b2, 0.25, 1e-15);
	ck_assert_double_eq_tol(lp.a1, 0, 1e-15);
	ck_assert_double_eq_tol(lp.a2, 0, 1e-15);
	ck_assert_double_eq_tol(flat.b0, 1, 1e-15);
	ck_assert_double_eq_tol(flat.b1, flat.a1, 1e-15);
	ck_assert_double_eq_tol(flat.b2, flat.a2, 1e-15);
}
END_TEST

/* ---- behaviour: magnitude ---- */

START_TEST(test_magnitude_peak_at_f0)
{
	static const double gains[] = { -24, -6, -0.5, 3, 12, 60 };
	static const double freqs[] = { 30, 1000, 15000 };

	for (size_t i = 0; i < sizeof(gains) / sizeof(gains[0]); i++) {
		for (size_t j = 0; j < sizeof(freqs) / sizeof(freqs[0]); j++) {
			const ra_biquad_coeffs c = design_ok(RA_BIQUAD_PEAK, freqs[j], gains[i],
							     RA_WIDTH_Q, 1.41, 48000);

			ck_assert_double_eq_tol(ra_biquad_magnitude_db(&c, freqs[j], 48000),
						gains[i], 1e-9);
		}
	}
}
END_TEST

START_TEST(test_magnitude_shelves)
{
	static const double gains[] = { -12, 6, 15 };

	for (size_t i = 0; i < 3; i++) {
		const double g = gains[i];
		const ra_biquad_coeffs lo =
			design_ok(RA_BIQUAD_LOWSHELF, 200, g, RA_WIDTH_SLOPE, 1, 48000);
		const ra_biquad_coeffs loq =
			design_ok(RA_BIQUAD_LOWSHELF, 200, g, RA_WIDTH_Q, 0.7071, 48000);
		const ra_biquad_coeffs hi =
			design_ok(RA_BIQUAD_HIGHSHELF, 5000, g, RA_WIDTH_SLOPE, 1, 48000);
		const ra_biquad_coeffs hiq =
			design_ok(RA_BIQUAD_HIGHSHELF, 5000, g, RA_WIDTH_Q, 0.7071, 48000);

		/* Half the gain at the corner... */
		ck_assert_double_eq_tol(ra_biquad_magnitude_db(&lo, 200, 48000), g / 2, 1e-9);
		ck_assert_double_eq_tol(ra_biquad_magnitude_db(&loq, 200, 48000), g / 2, 1e-9);
		ck_assert_double_eq_tol(ra_biquad_magnitude_db(&hi, 5000, 48000), g / 2, 1e-9);
		ck_assert_double_eq_tol(ra_biquad_magnitude_db(&hiq, 5000, 48000), g / 2, 1e-9);
		/* ...all of it deep in the shelf, none outside. */
		ck_assert_double_eq_tol(ra_biquad_magnitude_db(&lo, 5, 48000), g, 0.05);
		ck_assert_double_eq_tol(ra_biquad_magnitude_db(&lo, 0, 48000), g, 1e-9);
		ck_assert_double_eq_tol(ra_biquad_magnitude_db(&lo, 24000, 48000), 0, 1e-9);
		ck_assert_double_eq_tol(ra_biquad_magnitude_db(&hi, 23000, 48000), g, 0.05);
		ck_assert_double_eq_tol(ra_biquad_magnitude_db(&hi, 24000, 48000), g, 1e-9);
		ck_assert_double_eq_tol(ra_biquad_magnitude_db(&hi, 0, 48000), 0, 1e-9);
	}
}
END_TEST

START_TEST(test_magnitude_pass_filters)
{
	const ra_biquad_coeffs lp =
		design_ok(RA_BIQUAD_LOWPASS, 1000, 0, RA_WIDTH_Q, 0.7071, 48000);
	const ra_biquad_coeffs hp =
		design_ok(RA_BIQUAD_HIGHPASS, 1000, 0, RA_WIDTH_Q, 0.7071, 48000);
	const ra_biquad_coeffs lp5 = design_ok(RA_BIQUAD_LOWPASS, 3000, 0, RA_WIDTH_Q, 5, 44100);
	const ra_biquad_coeffs bp = design_ok(RA_BIQUAD_BANDPASS, 2500, 0, RA_WIDTH_Q, 3, 48000);
	const ra_biquad_coeffs bpo =
		design_ok(RA_BIQUAD_BANDPASS, 300, 0, RA_WIDTH_OCTAVES, 1, 48000);
	const ra_biquad_coeffs no = design_ok(RA_BIQUAD_NOTCH, 60, 0, RA_WIDTH_Q, 10, 48000);
	const ra_biquad_coeffs no2 =
		design_ok(RA_BIQUAD_NOTCH, 7000, 0, RA_WIDTH_OCTAVES, 0.5, 48000);

	/* |H(w0)| = Q for the cookbook's low- and highpass: -3.0103 dB here. */
	ck_assert_double_eq_tol(ra_biquad_magnitude_db(&lp, 1000, 48000), 20 * log10(0.7071), 1e-9);
	ck_assert_double_eq_tol(ra_biquad_magnitude_db(&hp, 1000, 48000), 20 * log10(0.7071), 1e-9);
	ck_assert_double_eq_tol(ra_biquad_magnitude_db(&lp, 1000, 48000), -3.01, 0.01);
	ck_assert_double_eq_tol(ra_biquad_magnitude_db(&lp5, 3000, 44100), 20 * log10(5), 1e-9);
	ck_assert_double_eq_tol(ra_biquad_magnitude_db(&lp, 0, 48000), 0, 1e-9);
	ck_assert_double_eq_tol(ra_biquad_magnitude_db(&hp, 24000, 48000), 0, 1e-9);
	ck_assert_double_lt(ra_biquad_magnitude_db(&lp, 20000, 48000), -40);
	ck_assert_double_lt(ra_biquad_magnitude_db(&hp, 50, 48000), -50);
	ck_assert_double_eq_tol(ra_biquad_magnitude_db(&bp, 2500, 48000), 0, 1e-9);
	ck_assert_double_eq_tol(ra_biquad_magnitude_db(&bpo, 300, 48000), 0, 1e-9);
	ck_assert_double_lt(ra_biquad_magnitude_db(&bp, 250, 48000), -15);
	ck_assert_double_lt(ra_biquad_magnitude_db(&no, 60, 48000), -100);
	ck_assert_double_lt(ra_biquad_magnitude_db(&no2, 7000, 48000), -100);
	ck_assert_double_eq_tol(ra_biquad_magnitude_db(&no, 1000, 48000), 0, 1e-3);
}
END_TEST

START_TEST(test_magnitude_allpass_flat)
{
	const ra_biquad_coeffs ap[3] = {
		design_ok(RA_BIQUAD_ALLPASS, 2000, 0, RA_WIDTH_Q, 0.7071, 48000),
		design_ok(RA_BIQUAD_ALLPASS, 40, 0, RA_WIDTH_Q, 8, 48000),
		design_ok(RA_BIQUAD_ALLPASS, 15000, 0, RA_WIDTH_OCTAVES, 2, 48000),
	};

	for (int i = 0; i < 3; i++)
		for (double f = 0; f <= 24000; f += 97)
			ck_assert_double_eq_tol(ra_biquad_magnitude_db(&ap[i], f, 48000), 0, 1e-9);
}
END_TEST

/* ra_biquad_magnitude_db() against a complex evaluation in long double,
 * wherever |H| is well above the rounding floor. */
START_TEST(test_magnitude_matches_complex)
{
	uint64_t seed = 11;
	int compared = 0;

	for (int n = 0; n < 40; n++) {
		ra_biquad_coeffs c;

		random_bands(&c, 1, rng_next(&seed));
		for (double f = 10; f < 24000; f *= 1.07) {
			const double want = magnitude_ref(&c, f, 48000);

			if (want < -40)
				continue;
			ck_assert_double_eq_tol(ra_biquad_magnitude_db(&c, f, 48000), want, 1e-9);
			compared++;
		}
	}
	ck_assert_int_gt(compared, 3000);
}
END_TEST

/* ---- behaviour: time domain ---- */

/* The header's fused sequence, written out again. */
static void fused_ref(const ra_biquad_coeffs *c, double *buf, size_t n)
{
	double s1 = 0, s2 = 0;

	for (size_t i = 0; i < n; i++) {
		const double x = buf[i], y = fma(c->b0, x, s1);

		s1 = fma(-c->a1, y, fma(c->b1, x, s2));
		s2 = fma(-c->a2, y, c->b2 * x);
		buf[i] = y;
	}
}

START_TEST(test_impulse_response)
{
	enum { N = 400 };
	const ra_biquad_coeffs bands[4] = {
		design_ok(RA_BIQUAD_PEAK, 1000, 6, RA_WIDTH_Q, 1.41, 48000),
		design_ok(RA_BIQUAD_LOWPASS, 3000, 0, RA_WIDTH_Q, 0.7071, 48000),
		design_ok(RA_BIQUAD_HIGHSHELF, 6000, -9, RA_WIDTH_SLOPE, 1, 44100),
		design_ok(RA_BIQUAD_BANDPASS, 5000, 0, RA_WIDTH_Q, 4, 48000),
	};

	for (int b = 0; b < 4; b++) {
		double h[N] = { 1 }, fused[N] = { 1 }, direct[N], imp[N] = { 1 }, peak = 0;
		ra_biquad_state st = { 0, 0 };

		ra_biquad_process(&bands[b], &st, h, N);
		fused_ref(&bands[b], fused, N);
		direct_form_ref(&bands[b], 1, imp, direct, N);
		ck_assert_msg(!memcmp(h, fused, sizeof(h)),
			      "band %d differs from the fused sequence", b);
		ck_assert_double_eq(h[0], bands[b].b0);
		for (int i = 0; i < N; i++)
			peak = fmax(peak, fabs(direct[i]));
		for (int i = 0; i < N; i++)
			ck_assert_msg(fabs(h[i] - direct[i]) <= 1e-15 * peak,
				      "band %d sample %d: %.17g, want %.17g", b, i, h[i],
				      direct[i]);
		/* It decays: the poles are inside the unit circle. */
		ck_assert_double_lt(fabs(h[N - 1]), 1e-6 * peak);
	}
}
END_TEST

START_TEST(test_step_response_lowpass)
{
	enum { N = 48000 };
	const ra_biquad_coeffs lp = design_ok(RA_BIQUAD_LOWPASS, 100, 0, RA_WIDTH_Q, 0.7071, 48000);
	double *buf = malloc(N * sizeof(*buf));
	ra_biquad_state st = { 0, 0 };

	ck_assert_ptr_nonnull(buf);
	for (int i = 0; i < N; i++)
		buf[i] = 1;
	ra_biquad_process(&lp, &st, buf, N);
	ck_assert_double_lt(buf[0], 1e-4);
	ck_assert_double_eq_tol(buf[N - 1], 1, 1e-12);
	free(buf);
}
END_TEST

/* Amplitude of a sinusoid of period P samples: a projection on sine and
 * cosine over a whole number of periods. */
static double amplitude(const double *y, size_t n, int period)
{
	double s = 0, c = 0;

	for (size_t i = 0; i < n; i++) {
		s += y[i] * sin(2 * PI * (double)(i % (size_t)period) / period);
		c += y[i] * cos(2 * PI * (double)(i % (size_t)period) / period);
	}
	return 2 * sqrt(s * s + c * c) / (double)n;
}

START_TEST(test_sine_through_peak)
{
	enum { N = 48000, SETTLE = 24000, PERIOD = 48 }; /* 1 kHz at 48 kHz */
	static const double gains[] = { 6, -9, 12, -0.25 };
	double *buf = malloc(N * sizeof(*buf));

	ck_assert_ptr_nonnull(buf);
	for (size_t g = 0; g < 4; g++) {
		const ra_biquad_coeffs c =
			design_ok(RA_BIQUAD_PEAK, 1000, gains[g], RA_WIDTH_Q, 1.41, 48000);
		ra_biquad_state st = { 0, 0 };

		for (int i = 0; i < N; i++)
			buf[i] = 0.5 * sin(2 * PI * (i % PERIOD) / PERIOD);
		ra_biquad_process(&c, &st, buf, N);
		ck_assert_double_eq_tol(amplitude(buf + SETTLE, N - SETTLE, PERIOD) / 0.5,
					pow(10, gains[g] / 20), 1e-6);
	}
	free(buf);
}
END_TEST

/* ---- behaviour: the cascade ---- */

static ra_cascade *cascade_ok(const ra_biquad_coeffs *c, int count)
{
	ra_status st = RA_ERR_NOMEM;
	ra_cascade *cs = ra_cascade_create(c, count, &st, NULL);

	ck_assert_ptr_nonnull(cs);
	ck_assert_int_eq(st, RA_OK);
	return cs;
}

/* 13 and 14: the AVX-512 kernel's two-vector shapes, where 9 and 10 bands
 * may run at 4 lanes (ra_cascade_name()); 17-20: its joint passes of two
 * channels in 5 vectors, each with the last band in another; 33, 37, 41:
 * a joint group beside another group. */
static const int cascade_counts[] = { 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12,
				      13, 14, 17, 18, 19, 20, 21, 31, 33, 37, 41, 64 };

/* For every count and length, two consecutive calls equal the scalar
 * kernel band by band, byte for byte (signs of zero included). */
START_TEST(test_cascade_equals_scalar)
{
	static const size_t lengths[] = { 0, 1, 2, 3, 7, 64, 1024, 4099 };
	const int count = cascade_counts[_i];
	ra_biquad_coeffs c[64];
	ra_biquad_state st[64];

	random_bands(c, count, 1000 + (uint64_t)count);
	for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); l++) {
		const size_t n = lengths[l];
		double *in = test_signal(2 * n, 7 * n + (size_t)count);
		double *want = copy_of(in, 2 * n), *got = copy_of(in, 2 * n);
		ra_cascade *cs = cascade_ok(c, count);

		memset(st, 0, sizeof(st));
		bandwise(c, st, count, want, n);
		bandwise(c, st, count, want + n, n);
		ra_cascade_process(cs, got, n);
		ra_cascade_process(cs, got + n, n);
		ck_assert_msg(!memcmp(got, want, 2 * n * sizeof(*got)),
			      "%d bands, %zu frames: the cascade differs from the scalar kernel",
			      count, n);
		ra_cascade_destroy(cs);
		free(in);
		free(want);
		free(got);
	}
}
END_TEST

/* Block sizes of 1, 7, 1024 and everything give the same bytes. */
START_TEST(test_cascade_block_split)
{
	enum { N = 10000 };
	static const size_t blocks[] = { 1, 7, 1024, N };
	static const int counts[] = { 10, 31 };
	const int count = counts[_i];
	ra_biquad_coeffs c[31];
	ra_biquad_state st[31] = { { 0, 0 } };
	double *in = test_signal(N, 99), *want = copy_of(in, N);

	random_bands(c, count, 5 + (uint64_t)count);
	bandwise(c, st, count, want, N);
	for (size_t b = 0; b < 4; b++) {
		double *got = copy_of(in, N);
		ra_cascade *cs = cascade_ok(c, count);

		for (size_t pos = 0; pos < N; pos += blocks[b])
			ra_cascade_process(cs, got + pos,
					   pos + blocks[b] <= N ? blocks[b] : N - pos);
		ck_assert_msg(!memcmp(got, want, N * sizeof(*got)), "%d bands in blocks of %zu",
			      count, blocks[b]);
		ra_cascade_destroy(cs);
		free(got);
	}
	free(in);
	free(want);
}
END_TEST

START_TEST(test_cascade_reset_reproduces)
{
	enum { N = 3000 };
	ra_biquad_coeffs c[12];
	double *in = test_signal(N, 3);
	double *first = copy_of(in, N), *again = copy_of(in, N), *other = noise(N, 4);
	ra_cascade *cs;

	random_bands(c, 12, 77);
	cs = cascade_ok(c, 12);
	ra_cascade_process(cs, first, N);
	ra_cascade_process(cs, other, N);
	ra_cascade_reset(cs);
	ra_cascade_process(cs, again, N);
	ck_assert(!memcmp(first, again, N * sizeof(*first)));
	ck_assert(memcmp(first, in, N * sizeof(*first)));
	ra_cascade_destroy(cs);
	free(in);
	free(first);
	free(again);
	free(other);
}
END_TEST

/* The cascade copies the coefficients: the caller's array may change. */
START_TEST(test_cascade_copies_coeffs)
{
	enum { N = 500 };
	ra_biquad_coeffs c[5];
	ra_biquad_state st[5] = { { 0, 0 } };
	double *want = noise(N, 8), *got = copy_of(want, N);
	ra_cascade *cs;

	random_bands(c, 5, 21);
	cs = cascade_ok(c, 5);
	bandwise(c, st, 5, want, N);
	memset(c, 0, sizeof(c));
	ra_cascade_process(cs, got, N);
	ck_assert(!memcmp(got, want, N * sizeof(*got)));
	ra_cascade_destroy(cs);
	free(want);
	free(got);
}
END_TEST

/* Lowpasses above fs/4, every other one negated, turn a silence of -0 into
 * -0 and +0 at their output: the kernels must agree on the sign of zero. */
START_TEST(test_cascade_signed_zeros)
{
	enum { N = 64 };
	static const int counts[] = { 1, 6, 10 };
	const int count = counts[_i];
	ra_biquad_coeffs c[10];
	ra_biquad_state st[10] = { { 0, 0 } };
	double want[N], got[N];
	int negative = 0;
	ra_cascade *cs;

	for (int k = 0; k < count; k++) {
		const double sign = k % 2 ? -1 : 1;

		c[k] = design_ok(RA_BIQUAD_LOWPASS, 13000 + 1000 * (k % 6), 0, RA_WIDTH_Q, 0.7,
				 48000);
		c[k].b0 *= sign;
		c[k].b1 *= sign;
		c[k].b2 *= sign;
	}
	for (int i = 0; i < N; i++)
		want[i] = got[i] = -0.0;
	bandwise(c, st, count, want, N);
	cs = cascade_ok(c, count);
	ra_cascade_process(cs, got, N / 2);
	ra_cascade_process(cs, got + N / 2, N / 2);
	for (int i = 0; i < N; i++)
		negative += want[i] == 0 && signbit(want[i]);
	ck_assert_int_gt(negative, 0);
	ck_assert(!memcmp(got, want, sizeof(got)));
	ra_cascade_destroy(cs);
}
END_TEST

/* ---- behaviour: two cascades at once ---- */

/* Channels A and B of COUNT bands each, with different coefficients and
 * signals: the cascades for singles and for pairs, and the inputs. */
struct pair_case {
	ra_biquad_coeffs ca[64], cb[64];
	ra_cascade *single_a, *single_b, *pair_a, *pair_b;
	double *in_a, *in_b;
};

static void pair_case_init(struct pair_case *p, int count_a, int count_b, size_t n, uint64_t seed)
{
	random_bands(p->ca, count_a, seed);
	random_bands(p->cb, count_b, seed ^ 0x5eed);
	p->single_a = cascade_ok(p->ca, count_a);
	p->single_b = cascade_ok(p->cb, count_b);
	p->pair_a = cascade_ok(p->ca, count_a);
	p->pair_b = cascade_ok(p->cb, count_b);
	p->in_a = test_signal(n, seed + 1);
	p->in_b = noise(n, seed + 2);
}

static void pair_case_release(struct pair_case *p)
{
	ra_cascade_destroy(p->single_a);
	ra_cascade_destroy(p->single_b);
	ra_cascade_destroy(p->pair_a);
	ra_cascade_destroy(p->pair_b);
	free(p->in_a);
	free(p->in_b);
}

/* The first N frames of both channels of P in blocks of BLOCK frames, by
 * single calls and by pairs (B before A every other block): the same
 * bytes. */
static void assert_pair_equals_singles(struct pair_case *p, size_t n, size_t block,
				       const char *what)
{
	double *want_a = copy_of(p->in_a, n), *want_b = copy_of(p->in_b, n);
	double *got_a = copy_of(p->in_a, n), *got_b = copy_of(p->in_b, n);
	int differ_a, differ_b;
	size_t pos = 0, i = 0;

	do {
		const size_t len = pos + block <= n ? block : n - pos;

		ra_cascade_process(p->single_a, want_a + pos, len);
		ra_cascade_process(p->single_b, want_b + pos, len);
		if (i++ % 2)
			ra_cascade_process2(p->pair_b, got_b + pos, p->pair_a, got_a + pos, len);
		else
			ra_cascade_process2(p->pair_a, got_a + pos, p->pair_b, got_b + pos, len);
		pos += len;
	} while (pos < n);
	differ_a = memcmp(got_a, want_a, n * sizeof(*got_a));
	differ_b = memcmp(got_b, want_b, n * sizeof(*got_b));
	ck_assert_msg(!differ_a && !differ_b, "%s, %zu frames in blocks of %zu: channel %s differs",
		      what, n, block, differ_a ? "a" : "b");
	/* The channels really differ: a mix-up of coefficients, state or
	 * buffers would show. */
	ck_assert(n < 2 || memcmp(got_a, got_b, n * sizeof(*got_a)));
	free(want_a);
	free(want_b);
	free(got_a);
	free(got_b);
}

/* For every count and length, ra_cascade_process2() gives the bytes of two
 * single calls, and its state carries on in single calls and back. 13,
 * 21, 29 and 45 frames end a joint pass between the second channel's first
 * input and its first output. */
START_TEST(test_cascade_pair_equals_single)
{
	static const size_t lengths[] = { 0, 1, 2, 7, 13, 21, 29, 45, 64, 1024, 4099 };
	const int count = cascade_counts[_i];
	char what[32];

	snprintf(what, sizeof(what), "%d bands", count);
	for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); l++) {
		const size_t n = lengths[l];
		struct pair_case p;
		double *got_a, *got_b, *want_a, *want_b;

		pair_case_init(&p, count, count, 3 * n, 3000 + 7 * n + (uint64_t)count);
		assert_pair_equals_singles(&p, n, n ? n : 1, what);
		/* Frames n..3n: one single call on each channel, then a pair. */
		got_a = copy_of(p.in_a + n, 2 * n), got_b = copy_of(p.in_b + n, 2 * n);
		want_a = copy_of(p.in_a + n, 2 * n), want_b = copy_of(p.in_b + n, 2 * n);
		ra_cascade_process(p.single_a, want_a, 2 * n);
		ra_cascade_process(p.single_b, want_b, 2 * n);
		ra_cascade_process(p.pair_a, got_a, n);
		ra_cascade_process(p.pair_b, got_b, n);
		ra_cascade_process2(p.pair_a, got_a + n, p.pair_b, got_b + n, n);
		ck_assert_msg(!memcmp(got_a, want_a, 2 * n * sizeof(*got_a)) &&
				      !memcmp(got_b, want_b, 2 * n * sizeof(*got_b)),
			      "%d bands, %zu frames: single calls between pairs differ", count, n);
		free(got_a);
		free(got_b);
		free(want_a);
		free(want_b);
		pair_case_release(&p);
	}
}
END_TEST

/* Blocks of 1, 7, 1024 frames and everything at once. */
START_TEST(test_cascade_pair_block_split)
{
	enum { N = 6000 };
	static const size_t blocks[] = { 1, 7, 1024, N };
	const int count = cascade_counts[_i];
	char what[32];

	snprintf(what, sizeof(what), "%d bands", count);
	for (size_t b = 0; b < 4; b++) {
		struct pair_case p;

		pair_case_init(&p, count, count, N, 40 + (uint64_t)count);
		assert_pair_equals_singles(&p, N, blocks[b], what);
		pair_case_release(&p);
	}
}
END_TEST

/* Cascades of different counts cannot share a pass (one laid out for the
 * shorter would drop the longer one's last bands): ra_cascade_process2()
 * falls back to two single calls, whichever cascade comes first. */
START_TEST(test_cascade_pair_mismatched_counts)
{
	static const int counts[][2] = { { 9, 10 },  { 10, 9 },	 { 1, 12 }, { 31, 64 },
					 { 64, 31 }, { 16, 17 }, { 8, 4 } };
	const size_t n = 3001;

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		struct pair_case p;
		char what[32];

		snprintf(what, sizeof(what), "%d and %d bands", counts[i][0], counts[i][1]);
		pair_case_init(&p, counts[i][0], counts[i][1], n, 500 + i);
		assert_pair_equals_singles(&p, n, 1000, what);
		pair_case_release(&p);
	}
}
END_TEST

/* FNV-1a over the bytes of a 37-band cascade's output (several groups in
 * every SIMD kernel) in alternate blocks of about 1000 and 7 frames; or of
 * the scalar kernel's, band by band. */
static uint64_t golden_hash(int bandwise_kernel)
{
	enum { N = 5000, BANDS = 37 };
	ra_biquad_coeffs c[BANDS];
	ra_biquad_state st[BANDS] = { { 0, 0 } };
	double *buf = test_signal(N, 37);
	const unsigned char *p = (const unsigned char *)buf;
	uint64_t h = 0xcbf29ce484222325ULL;
	ra_cascade *cs;

	random_bands(c, BANDS, 37);
	cs = cascade_ok(c, BANDS);
	for (size_t pos = 0; pos < N; pos += 1007) {
		const size_t n = pos + 1007 <= N ? 1007 : N - pos;

		if (bandwise_kernel) {
			bandwise(c, st, BANDS, buf + pos, n);
		} else {
			ra_cascade_process(cs, buf + pos, n - 7);
			ra_cascade_process(cs, buf + pos + n - 7, 7);
		}
	}
	for (size_t i = 0; i < N * sizeof(*buf); i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	ra_cascade_destroy(cs);
	free(buf);
	return h;
}

/* The cascade gives the scalar kernel's bytes; in a child, also the bytes
 * the parent's kernel gave. */
START_TEST(test_cascade_golden)
{
	const uint64_t h = golden_hash(0);
	const char *want = getenv("RA_CHECK_GOLDEN");
	char text[32];

	ck_assert_uint_eq(h, golden_hash(1));
	snprintf(text, sizeof(text), "%016" PRIx64, h);
	if (want)
		ck_assert_str_eq(text, want);
}
END_TEST

/* Only where glibc's view of the CPU can be narrowed: elsewhere the one
 * kernel a process can reach is its own, which the cascade case tests. */
#ifdef CPU_FEATURE_ACTIVE
/* Test case TCASE again with KERNEL, the one glibc's view of the CPU
 * narrowed by HWCAPS gives: the same exactness tests, and the same bytes as
 * this process's kernel. */
static void run_with_kernel(const char *hwcaps, const char *kernel, const char *tcase)
{
	char golden[32];

	snprintf(golden, sizeof(golden), "%016" PRIx64, golden_hash(0));
	setenv("RA_CHECK_GOLDEN", golden, 1);
	ra_test_rerun_hwcaps("biquad", tcase, hwcaps, kernel);
	unsetenv("RA_CHECK_GOLDEN");
}

START_TEST(test_cascade_every_kernel)
{
	if (CPU_FEATURE_ACTIVE(AVX512F)) {
		/* Both widths' joint passes, whichever the measurement picks. */
		setenv("RUSTY_AUDIO_EQ_LANES", "4", 1);
		run_with_kernel("", "avx512f", "cascade");
		setenv("RUSTY_AUDIO_EQ_LANES", "8", 1);
		run_with_kernel("", "avx512f", "cascade");
		unsetenv("RUSTY_AUDIO_EQ_LANES");
	}
	if (CPU_FEATURE_ACTIVE(AVX512F) && CPU_FEATURE_ACTIVE(AVX2) && CPU_FEATURE_ACTIVE(FMA))
		run_with_kernel("glibc.cpu.hwcaps=-AVX512F", "avx2-fma", "cascade");
	run_with_kernel("glibc.cpu.hwcaps=-AVX512F,-AVX2", "scalar", "cascade");
	/* fma() in software, glibc's correctly rounded fallback: too slow for
	 * the whole case, but it must give the same bytes. */
	run_with_kernel("glibc.cpu.hwcaps=-AVX512F,-AVX2,-FMA", "scalar", "golden");
}
END_TEST
#endif

/* ---- behaviour: hard designs against long double ---- */

static void check_against_long_double(const ra_biquad_coeffs *c, int count, double tol)
{
	enum { N = 96000 };
	double *buf = noise(N, 2024), *want = malloc(N * sizeof(*want));
	ra_cascade *cs = cascade_ok(c, count);
	double err = 0;

	ck_assert_ptr_nonnull(want);
	direct_form_ref(c, count, buf, want, N);
	ra_cascade_process(cs, buf, N);
	for (int i = 0; i < N; i++)
		err = fmax(err, fabs(buf[i] - want[i]));
	ck_assert_msg(err <= tol, "%d bands: error %g", count, err);
	ra_cascade_destroy(cs);
	free(buf);
	free(want);
}

START_TEST(test_hard_low_shelf_192k)
{
	const ra_biquad_coeffs c = design_ok(RA_BIQUAD_LOWSHELF, 20, 6, RA_WIDTH_SLOPE, 1, 192000);

	ck_assert_double_eq_tol(ra_biquad_magnitude_db(&c, 20, 192000), 3, 1e-9);
	ck_assert_double_eq_tol(ra_biquad_magnitude_db(&c, 0.5, 192000), 6, 0.05);
	check_against_long_double(&c, 1, 1e-9);
}
END_TEST

START_TEST(test_hard_narrow_peak_30hz)
{
	const ra_biquad_coeffs c = design_ok(RA_BIQUAD_PEAK, 30, 12, RA_WIDTH_Q, 10, 48000);

	ck_assert_double_eq_tol(ra_biquad_magnitude_db(&c, 30, 48000), 12, 1e-9);
	check_against_long_double(&c, 1, 1e-9);
}
END_TEST

START_TEST(test_hard_iso_third_octaves)
{
	static const double iso[31] = { 20,   25,   31.5, 40,	 50,	63,    80,   100,
					125,  160,  200,  250,	 315,	400,   500,  630,
					800,  1000, 1250, 1600,	 2000,	2500,  3150, 4000,
					5000, 6300, 8000, 10000, 12500, 16000, 20000 };
	const double r = pow(2, 1.0 / 3), q = sqrt(r) / (r - 1);
	ra_biquad_coeffs c[31];

	ck_assert_double_eq_tol(q, 4.318, 1e-3);
	for (int k = 0; k < 31; k++) {
		c[k] = design_ok(RA_BIQUAD_PEAK, iso[k], k % 3 == 0 ? 6 : -4, RA_WIDTH_Q, q, 48000);
		ck_assert_double_eq_tol(ra_biquad_magnitude_db(&c[k], iso[k], 48000),
					(k % 3 == 0 ? 6 : -4), 1e-9);
	}
	check_against_long_double(c, 31, 1e-9);
}
END_TEST

/* ---- edges ---- */

START_TEST(test_zero_frames)
{
	ra_biquad_coeffs c[10];
	ra_biquad_state st = { 0.25, -0.5 };
	double buf[4] = { 1, 2, 3, 4 };
	ra_cascade *cs, *cs2;

	random_bands(c, 10, 6);
	ra_biquad_process(&c[0], &st, buf, 0);
	ck_assert_double_eq(st.s1, 0.25);
	ck_assert_double_eq(st.s2, -0.5);
	cs = cascade_ok(c, 10);
	ra_cascade_process(cs, buf, 0);
	ra_cascade_process(cs, NULL, 0);
	cs2 = cascade_ok(c, 10);
	ra_cascade_process2(cs, buf, cs2, buf + 2, 0);
	ra_cascade_process2(cs, NULL, cs2, NULL, 0);
	ck_assert_double_eq(buf[0], 1);
	ck_assert_double_eq(buf[3], 4);
	ra_cascade_destroy(cs);
	ra_cascade_destroy(cs2);
}
END_TEST

/* The kernel glibc's view of the CPU implies; in a child run by
 * test_cascade_every_kernel, the one it asked for. */
START_TEST(test_kernel_name)
{
	const char *name = ra_cascade_kernel();

	ck_assert_ptr_nonnull(name);
	ck_assert_str_eq(ra_cascade_kernel(), name);
	ra_test_assert_build(name, "avx2-fma");
}
END_TEST

/* With AVX-512, a cascade runs at 4 lanes ("avx512vl") only where a pair
 * of them computes fewer lanes a step in as many groups, 1-6, 9 and 10
 * bands, and then every cascade of its count does, so that two channels
 * still run as a pair; any other count, and any other CPU, runs the widest
 * kernel. RUSTY_AUDIO_EQ_LANES=4 (with VL) puts every count at 4 lanes. */
START_TEST(test_cascade_width)
{
	const char *widest = ra_cascade_kernel(), *fixed = getenv("RUSTY_AUDIO_EQ_LANES");
	const int avx512 = !strcmp(widest, "avx512f");
	const int all_narrow =
		avx512 && fixed && !strcmp(fixed, "4") && __builtin_cpu_supports("avx512vl");
	ra_biquad_coeffs c[64];

	random_bands(c, 64, 5);
	for (int count = 1; count <= 64; count++) {
		ra_cascade *a = cascade_ok(c, count), *b = cascade_ok(c + 64 - count, count);
		const char *name = ra_cascade_name(a);
		const int narrower = avx512 && !fixed && (count <= 6 || count == 9 || count == 10);

		ck_assert_str_eq(ra_cascade_name(b), name);
		if (all_narrow || (narrower && strcmp(name, widest)))
			ck_assert_str_eq(name, "avx512vl");
		else
			ck_assert_str_eq(name, widest);
		ra_cascade_destroy(a);
		ra_cascade_destroy(b);
	}
}
END_TEST

START_TEST(test_cascade_limits)
{
	ra_biquad_coeffs c[64];
	ra_status st = RA_ERR_NOMEM;
	ra_cascade *cs;

	random_bands(c, 64, 1);
	cs = ra_cascade_create(c, 64, NULL, NULL);
	ck_assert_ptr_nonnull(cs);
	ra_cascade_destroy(cs);
	cs = ra_cascade_create(c, 1, &st, NULL);
	ck_assert_ptr_nonnull(cs);
	ck_assert_int_eq(st, RA_OK);
	ra_cascade_destroy(cs);
	ra_cascade_destroy(NULL);
}
END_TEST

/* Identity bands pass everything, signed zeros and extremes included. */
START_TEST(test_cascade_identity_exact)
{
	const ra_biquad_coeffs wire[5] = { { 1, 0, 0, 0, 0 },
					   { 1, 0, 0, 0, 0 },
					   { 1, 0, 0, 0, 0 },
					   { 1, 0, 0, 0, 0 },
					   { 1, 0, 0, 0, 0 } };
	const double in[8] = { 0.5, -1e300, 1e-310, 3, -7, 0.125, 1e300, -2 };
	double buf[8];
	ra_cascade *cs = cascade_ok(wire, 5);

	memcpy(buf, in, sizeof(buf));
	ra_cascade_process(cs, buf, 8);
	ck_assert(!memcmp(buf, in, sizeof(buf)));
	ra_cascade_destroy(cs);
}
END_TEST

START_TEST(test_design_edges_accepted)
{
	const ra_biquad_spec ok[] = {
		spec_of(RA_BIQUAD_PEAK, 23999, 6, RA_WIDTH_Q, 1),
		spec_of(RA_BIQUAD_PEAK, 0.01, 6, RA_WIDTH_Q, 1),
		spec_of(RA_BIQUAD_PEAK, 1000, 60, RA_WIDTH_Q, 1),
		spec_of(RA_BIQUAD_LOWSHELF, 1000, -60, RA_WIDTH_SLOPE, 1),
		spec_of(RA_BIQUAD_HIGHSHELF, 1000, 6, RA_WIDTH_SLOPE, 1.5),
		/* gain is ignored, so out of range does not matter */
		spec_of(RA_BIQUAD_LOWPASS, 1000, 100, RA_WIDTH_Q, 0.7071),
		spec_of(RA_BIQUAD_NOTCH, 1000, 0, RA_WIDTH_OCTAVES, 4),
		spec_of(RA_BIQUAD_ALLPASS, 1000, 0, RA_WIDTH_Q, 1e-3),
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ra_biquad_coeffs c;
		ra_diag diag = { "" };

		ck_assert_msg(ra_biquad_design(&ok[i], 48000, &c, &diag) == RA_OK, "case %zu: %s",
			      i, diag.text);
		ck_assert(isfinite(c.b0 + c.b1 + c.b2 + c.a1 + c.a2));
		ck_assert(isfinite(ra_biquad_magnitude_db(&c, 1000, 48000)));
	}
	ck_assert_int_eq(ra_biquad_design(&ok[0], 48000, &(ra_biquad_coeffs){ 0 }, NULL), RA_OK);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_design_rejects)
{
	const struct {
		ra_biquad_spec spec;
		double rate;
		const char *says;
	} bad[] = {
		{ spec_of(RA_BIQUAD_PEAK, 0, 6, RA_WIDTH_Q, 1), 48000, "frequency" },
		{ spec_of(RA_BIQUAD_PEAK, -100, 6, RA_WIDTH_Q, 1), 48000, "frequency" },
		{ spec_of(RA_BIQUAD_PEAK, 24000, 6, RA_WIDTH_Q, 1), 48000, "half the sample rate" },
		{ spec_of(RA_BIQUAD_PEAK, 30000, 6, RA_WIDTH_Q, 1), 48000, "(24000 Hz)" },
		{ spec_of(RA_BIQUAD_PEAK, NAN, 6, RA_WIDTH_Q, 1), 48000, "frequency" },
		{ spec_of(RA_BIQUAD_PEAK, INFINITY, 6, RA_WIDTH_Q, 1), 48000, "frequency" },
		{ spec_of(RA_BIQUAD_PEAK, 1000, 6, RA_WIDTH_Q, 0), 48000, "q 0" },
		{ spec_of(RA_BIQUAD_PEAK, 1000, 6, RA_WIDTH_Q, -1), 48000, "q -1" },
		{ spec_of(RA_BIQUAD_LOWPASS, 1000, 0, RA_WIDTH_Q, NAN), 48000, "q" },
		{ spec_of(RA_BIQUAD_PEAK, 1000, 6, RA_WIDTH_SLOPE, 1), 48000, "slope" },
		{ spec_of(RA_BIQUAD_LOWPASS, 1000, 0, RA_WIDTH_SLOPE, 1), 48000, "slope" },
		{ spec_of(RA_BIQUAD_LOWSHELF, 1000, 6, RA_WIDTH_OCTAVES, 1), 48000, "octaves" },
		{ spec_of(RA_BIQUAD_HIGHSHELF, 1000, 6, RA_WIDTH_OCTAVES, 1), 48000, "octaves" },
		{ spec_of(RA_BIQUAD_HIGHPASS, 1000, 6, RA_WIDTH_OCTAVES, 1), 48000, "octaves" },
		{ spec_of(RA_BIQUAD_BANDPASS, 1000, 0, RA_WIDTH_OCTAVES, -2), 48000, "octaves" },
		{ spec_of(RA_BIQUAD_LOWSHELF, 1000, 12, RA_WIDTH_SLOPE, 0), 48000, "slope" },
		{ spec_of(RA_BIQUAD_LOWSHELF, 1000, 12, RA_WIDTH_SLOPE, 10), 48000, "too steep" },
		{ spec_of(RA_BIQUAD_PEAK, 1000, 6, RA_WIDTH_Q, 1), 0, "sample rate" },
		{ spec_of(RA_BIQUAD_PEAK, 1000, 6, RA_WIDTH_Q, 1), -48000, "sample rate" },
		{ spec_of(RA_BIQUAD_PEAK, 1000, 6, RA_WIDTH_Q, 1), NAN, "sample rate" },
		{ spec_of(RA_BIQUAD_PEAK, 1000, NAN, RA_WIDTH_Q, 1), 48000, "gain" },
		{ spec_of(RA_BIQUAD_LOWPASS, 1000, INFINITY, RA_WIDTH_Q, 1), 48000, "gain" },
		{ spec_of(RA_BIQUAD_PEAK, 1000, 60.5, RA_WIDTH_Q, 1), 48000, "gain" },
		{ spec_of(RA_BIQUAD_HIGHSHELF, 1000, -61, RA_WIDTH_SLOPE, 1), 48000, "gain" },
		{ spec_of(RA_BIQUAD_PEAK, 1000, 6, RA_WIDTH_Q, 1e-320), 48000, "q" },
		{ spec_of(RA_BIQUAD_BANDPASS, 1000, 0, RA_WIDTH_OCTAVES, 1e6), 48000, "octaves" },
		{ spec_of((ra_biquad_type)8, 1000, 6, RA_WIDTH_Q, 1), 48000, "type" },
		{ spec_of(RA_BIQUAD_PEAK, 1000, 6, (ra_biquad_width)3, 1), 48000, "width" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ra_biquad_coeffs c = { 1, 2, 3, 4, 5 };
		ra_diag diag = { "" };

		ck_assert_msg(ra_biquad_design(&bad[i].spec, bad[i].rate, &c, &diag) ==
				      RA_ERR_INVALID,
			      "case %zu accepted", i);
		assert_diag_sane(&diag);
		ck_assert_msg(strstr(diag.text, bad[i].says), "case %zu: \"%s\" lacks \"%s\"", i,
			      diag.text, bad[i].says);
		ck_assert_int_eq(ra_biquad_design(&bad[i].spec, bad[i].rate, &c, NULL),
				 RA_ERR_INVALID);
	}
}
END_TEST

START_TEST(test_nyquist_message)
{
	const ra_biquad_spec s = spec_of(RA_BIQUAD_PEAK, 30000, 6, RA_WIDTH_Q, 1);
	ra_biquad_coeffs c;
	ra_diag diag = { "" };

	ck_assert_int_eq(ra_biquad_design(&s, 48000, &c, &diag), RA_ERR_INVALID);
	ck_assert_str_eq(diag.text,
			 "frequency 30000 Hz is not below half the sample rate (24000 Hz)");
}
END_TEST

START_TEST(test_type_parse_rejects)
{
	static const char *const bad[] = { "", "Peak", "low shelf", "lowshelf ", "bell", "lpf" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ra_biquad_type t = RA_BIQUAD_NOTCH;

		ck_assert_int_eq(ra_biquad_type_parse(bad[i], &t), RA_ERR_INVALID);
		ck_assert_int_eq(t, RA_BIQUAD_NOTCH);
	}
	ck_assert_str_eq(ra_biquad_type_name((ra_biquad_type)42), "unknown");
}
END_TEST

/* Refused with RA_ERR_INVALID and a reason in the diag. */
static void cascade_refused(const ra_biquad_coeffs *c, int count, const char *reason)
{
	ra_status st = RA_OK;
	ra_diag diag = { { 0 } };

	ck_assert_ptr_null(ra_cascade_create(c, count, &st, &diag));
	ck_assert_int_eq(st, RA_ERR_INVALID);
	ck_assert_str_eq(diag.text, reason);
}

START_TEST(test_cascade_create_rejects)
{
	ra_biquad_coeffs c[65];

	random_bands(c, 65, 2);
	cascade_refused(c, 0, "a cascade has 1 to 64 bands, not 0");
	cascade_refused(c, 65, "a cascade has 1 to 64 bands, not 65");
	cascade_refused(c, -1, "a cascade has 1 to 64 bands, not -1");
	cascade_refused(NULL, 3, "no coefficients for a cascade of 3 bands");
	c[2].a1 = NAN;
	cascade_refused(c, 3, "band 3's coefficients are not finite");
	ck_assert_ptr_null(ra_cascade_create(c, 65, NULL, NULL));
}
END_TEST

static Suite *biquad_suite(void)
{
	Suite *s = suite_create("biquad");
	const int ncoeff = (int)(sizeof(coeff_cases) / sizeof(coeff_cases[0]));
	const int ncounts = (int)(sizeof(cascade_counts) / sizeof(cascade_counts[0]));
	TCase *tc;

	tc = tcase_create("behaviour");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_type_names);
	tcase_add_loop_test(tc, test_coeffs_match_cookbook, 0, ncoeff);
	tcase_add_test(tc, test_coeffs_known_values);
	tcase_add_test(tc, test_magnitude_peak_at_f0);
	tcase_add_test(tc, test_magnitude_shelves);
	tcase_add_test(tc, test_magnitude_pass_filters);
	tcase_add_test(tc, test_magnitude_allpass_flat);
	tcase_add_test(tc, test_magnitude_matches_complex);
	tcase_add_test(tc, test_impulse_response);
	tcase_add_test(tc, test_step_response_lowpass);
	tcase_add_test(tc, test_sine_through_peak);
	tcase_add_test(tc, test_hard_low_shelf_192k);
	tcase_add_test(tc, test_hard_narrow_peak_30hz);
	tcase_add_test(tc, test_hard_iso_third_octaves);
#ifdef CPU_FEATURE_ACTIVE
	tcase_add_test(tc, test_cascade_every_kernel);
#endif
	suite_add_tcase(s, tc);

	/* Everything that depends on the kernel: run once more per kernel. */
	tc = tcase_create("cascade");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_kernel_name);
	tcase_add_test(tc, test_cascade_width);
	tcase_add_loop_test(tc, test_cascade_equals_scalar, 0, ncounts);
	tcase_add_loop_test(tc, test_cascade_block_split, 0, 2);
	tcase_add_test(tc, test_cascade_reset_reproduces);
	tcase_add_test(tc, test_cascade_copies_coeffs);
	tcase_add_test(tc, test_cascade_identity_exact);
	tcase_add_loop_test(tc, test_cascade_signed_zeros, 0, 3);
	tcase_add_loop_test(tc, test_cascade_pair_equals_single, 0, ncounts);
	tcase_add_loop_test(tc, test_cascade_pair_block_split, 0, ncounts);
	tcase_add_test(tc, test_cascade_pair_mismatched_counts);
	tcase_add_test(tc, test_cascade_golden);
	tcase_add_test(tc, test_zero_frames);
	suite_add_tcase(s, tc);

	tc = tcase_create("golden");
	tcase_add_test(tc, test_kernel_name);
	tcase_add_test(tc, test_cascade_golden);
	suite_add_tcase(s, tc);

	tc = tcase_create("edges");
	tcase_add_test(tc, test_cascade_limits);
	tcase_add_test(tc, test_design_edges_accepted);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_design_rejects);
	tcase_add_test(tc, test_nyquist_message);
	tcase_add_test(tc, test_type_parse_rejects);
	tcase_add_test(tc, test_cascade_create_rejects);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return ra_test_main(biquad_suite());
}
