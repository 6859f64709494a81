/* Biquad filters: RBJ cookbook designs, their magnitude response, and the
 * in-place kernels (scalar, and a skewed AVX2 cascade) that all perform the
 * same rounded operations, so every kernel gives bit-identical output. */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/biquad.h"

#define RA_PI 3.14159265358979323846

/* Beyond +-60 dB a biquad is no longer an equaliser band but a typo. */
#define RA_BIQUAD_MAX_GAIN_DB 60.0

#define RA_CASCADE_MAX_BANDS 64

static const char *const ra_biquad_names[] = {
	[RA_BIQUAD_PEAK] = "peak",	   [RA_BIQUAD_LOWSHELF] = "lowshelf",
	[RA_BIQUAD_HIGHSHELF] = "highshelf", [RA_BIQUAD_LOWPASS] = "lowpass",
	[RA_BIQUAD_HIGHPASS] = "highpass",   [RA_BIQUAD_BANDPASS] = "bandpass",
	[RA_BIQUAD_NOTCH] = "notch",	   [RA_BIQUAD_ALLPASS] = "allpass",
};

#define RA_BIQUAD_NTYPES (sizeof(ra_biquad_names) / sizeof(ra_biquad_names[0]))

ra_status ra_biquad_type_parse(const char *name, ra_biquad_type *type)
{
	for (size_t i = 0; name && i < RA_BIQUAD_NTYPES; i++) {
		if (!strcmp(name, ra_biquad_names[i])) {
			*type = (ra_biquad_type)i;
			return RA_OK;
		}
	}
	return RA_ERR_INVALID;
}

const char *ra_biquad_type_name(ra_biquad_type type)
{
	if ((unsigned)type >= RA_BIQUAD_NTYPES)
		return "unknown";
	return ra_biquad_names[type];
}

/* ---- design ---- */

static int ra_biquad_has_gain(ra_biquad_type type)
{
	return type == RA_BIQUAD_PEAK || type == RA_BIQUAD_LOWSHELF || type == RA_BIQUAD_HIGHSHELF;
}

static int ra_biquad_is_shelf(ra_biquad_type type)
{
	return type == RA_BIQUAD_LOWSHELF || type == RA_BIQUAD_HIGHSHELF;
}

static const char *ra_width_name(ra_biquad_width kind)
{
	switch (kind) {
	case RA_WIDTH_Q:
		return "q";
	case RA_WIDTH_OCTAVES:
		return "bandwidth in octaves";
	case RA_WIDTH_SLOPE:
		return "shelf slope";
	}
	return "width";
}

/* Everything ra_biquad_design() refuses, with the reason in DIAG. */
static ra_status ra_biquad_check(const ra_biquad_spec *spec, double rate, ra_diag *diag)
{
	const ra_biquad_type type = spec->type;
	const ra_biquad_width kind = spec->width_kind;

	if (!isfinite(rate) || rate <= 0) {
		ra_diag_set(diag, "sample rate %g Hz is not a positive number", rate);
		return RA_ERR_INVALID;
	}
	if ((unsigned)type >= RA_BIQUAD_NTYPES) {
		ra_diag_set(diag, "unknown filter type %d", (int)type);
		return RA_ERR_INVALID;
	}
	if (!isfinite(spec->freq) || spec->freq <= 0) {
		ra_diag_set(diag, "frequency %g Hz is not a positive number", spec->freq);
		return RA_ERR_INVALID;
	}
	if (spec->freq >= rate / 2) {
		ra_diag_set(diag, "frequency %g Hz is not below half the sample rate (%g Hz)",
			    spec->freq, rate / 2);
		return RA_ERR_INVALID;
	}
	if (kind != RA_WIDTH_Q && kind != RA_WIDTH_OCTAVES && kind != RA_WIDTH_SLOPE) {
		ra_diag_set(diag, "unknown width kind %d", (int)kind);
		return RA_ERR_INVALID;
	}
	if (kind == RA_WIDTH_OCTAVES && (ra_biquad_is_shelf(type) || type == RA_BIQUAD_LOWPASS ||
					 type == RA_BIQUAD_HIGHPASS)) {
		ra_diag_set(diag, "a %s filter takes q, not a bandwidth in octaves",
			    ra_biquad_names[type]);
		return RA_ERR_INVALID;
	}
	if (kind == RA_WIDTH_SLOPE && !ra_biquad_is_shelf(type)) {
		ra_diag_set(diag, "a %s filter takes no shelf slope", ra_biquad_names[type]);
		return RA_ERR_INVALID;
	}
	if (!isfinite(spec->width) || spec->width <= 0) {
		ra_diag_set(diag, "%s %g is not a positive number", ra_width_name(kind), spec->width);
		return RA_ERR_INVALID;
	}
	if (!isfinite(spec->gain_db)) {
		ra_diag_set(diag, "gain %g dB is not a finite number", spec->gain_db);
		return RA_ERR_INVALID;
	}
	if (ra_biquad_has_gain(type) && fabs(spec->gain_db) > RA_BIQUAD_MAX_GAIN_DB) {
		ra_diag_set(diag, "gain %g dB is beyond +-%g dB", spec->gain_db,
			    RA_BIQUAD_MAX_GAIN_DB);
		return RA_ERR_INVALID;
	}
	return RA_OK;
}

/* Robert Bristow-Johnson, "Cookbook formulae for audio EQ biquad filter
 * coefficients" (the Audio EQ Cookbook, W3C Audio WG note), with
 *     w0 = 2 pi f0 / Fs,  A = 10^(gain / 40)  (peak and shelves),
 *     alpha = sin(w0) / (2 Q)                                    from Q,
 *           = sin(w0) sinh(ln(2) / 2 * BW * w0 / sin(w0))        from octaves,
 *           = sin(w0) / 2 * sqrt((A + 1/A) (1/S - 1) + 2)         from slope,
 * and the cookbook's b0..a2 for each type, divided by a0. */
ra_status ra_biquad_design(const ra_biquad_spec *spec, double sample_rate, ra_biquad_coeffs *out,
			   ra_diag *diag)
{
	double w0, cw, sw, A, alpha, sq, b0, b1, b2, a0, a1, a2;
	ra_status st = ra_biquad_check(spec, sample_rate, diag);

	if (st != RA_OK)
		return st;
	w0 = 2 * RA_PI * spec->freq / sample_rate;
	cw = cos(w0);
	sw = sin(w0);
	A = ra_biquad_has_gain(spec->type) ? pow(10, spec->gain_db / 40) : 1;
	switch (spec->width_kind) {
	case RA_WIDTH_OCTAVES:
		alpha = sw * sinh(log(2) / 2 * spec->width * w0 / sw);
		break;
	case RA_WIDTH_SLOPE:
		sq = (A + 1 / A) * (1 / spec->width - 1) + 2;
		if (!(sq > 0)) {
			ra_diag_set(diag, "shelf slope %g is too steep for %g dB", spec->width,
				    spec->gain_db);
			return RA_ERR_INVALID;
		}
		alpha = sw / 2 * sqrt(sq);
		break;
	default:
		alpha = sw / (2 * spec->width);
		break;
	}
	sq = 2 * sqrt(A) * alpha;

	switch (spec->type) {
	case RA_BIQUAD_PEAK:
		b0 = 1 + alpha * A;
		b1 = -2 * cw;
		b2 = 1 - alpha * A;
		a0 = 1 + alpha / A;
		a1 = -2 * cw;
		a2 = 1 - alpha / A;
		break;
	case RA_BIQUAD_LOWSHELF:
		b0 = A * ((A + 1) - (A - 1) * cw + sq);
		b1 = 2 * A * ((A - 1) - (A + 1) * cw);
		b2 = A * ((A + 1) - (A - 1) * cw - sq);
		a0 = (A + 1) + (A - 1) * cw + sq;
		a1 = -2 * ((A - 1) + (A + 1) * cw);
		a2 = (A + 1) + (A - 1) * cw - sq;
		break;
	case RA_BIQUAD_HIGHSHELF:
		b0 = A * ((A + 1) + (A - 1) * cw + sq);
		b1 = -2 * A * ((A - 1) + (A + 1) * cw);
		b2 = A * ((A + 1) + (A - 1) * cw - sq);
		a0 = (A + 1) - (A - 1) * cw + sq;
		a1 = 2 * ((A - 1) - (A + 1) * cw);
		a2 = (A + 1) - (A - 1) * cw - sq;
		break;
	case RA_BIQUAD_LOWPASS:
		b0 = (1 - cw) / 2;
		b1 = 1 - cw;
		b2 = (1 - cw) / 2;
		a0 = 1 + alpha;
		a1 = -2 * cw;
		a2 = 1 - alpha;
		break;
	case RA_BIQUAD_HIGHPASS:
		b0 = (1 + cw) / 2;
		b1 = -(1 + cw);
		b2 = (1 + cw) / 2;
		a0 = 1 + alpha;
		a1 = -2 * cw;
		a2 = 1 - alpha;
		break;
	case RA_BIQUAD_BANDPASS:
		b0 = alpha;
		b1 = 0;
		b2 = -alpha;
		a0 = 1 + alpha;
		a1 = -2 * cw;
		a2 = 1 - alpha;
		break;
	case RA_BIQUAD_NOTCH:
		b0 = 1;
		b1 = -2 * cw;
		b2 = 1;
		a0 = 1 + alpha;
		a1 = -2 * cw;
		a2 = 1 - alpha;
		break;
	default: /* RA_BIQUAD_ALLPASS */
		b0 = 1 - alpha;
		b1 = -2 * cw;
		b2 = 1 + alpha;
		a0 = 1 + alpha;
		a1 = -2 * cw;
		a2 = 1 - alpha;
		break;
	}

	out->b0 = b0 / a0;
	out->b1 = b1 / a0;
	out->b2 = b2 / a0;
	out->a1 = a1 / a0;
	out->a2 = a2 / a0;
	/* A huge bandwidth or a tiny Q overflows alpha. */
	if (!isfinite(out->b0 + out->b1 + out->b2 + out->a1 + out->a2)) {
		ra_diag_set(diag, "%s %g gives no finite filter at %g Hz",
			    ra_width_name(spec->width_kind), spec->width, spec->freq);
		return RA_ERR_INVALID;
	}
	return RA_OK;
}

/* |c0 + c1 z^-1 + c2 z^-2|^2 on the unit circle. Multiplying by e^jw gives
 * (c0 + c2) cos w + c1 + j (c0 - c2) sin w; with cos w = 1 - 2 phi,
 * phi = sin^2(w/2), the real part is (c0 + c1 + c2) - 2 (c0 + c2) phi, whose
 * first sum is exact for coefficients near (1, -2, 1): no cancellation at
 * low frequencies, where cos w rounds to 1. */
static double ra_quad_power(double c0, double c1, double c2, double phi)
{
	const double re = (c0 + c1 + c2) - 2 * (c0 + c2) * phi;
	const double im = c0 - c2;

	return re * re + im * im * 4 * phi * (1 - phi);
}

double ra_biquad_magnitude_db(const ra_biquad_coeffs *c, double freq, double sample_rate)
{
	const double h = sin(RA_PI * freq / sample_rate);
	const double phi = h * h;
	const double num = ra_quad_power(c->b0, c->b1, c->b2, phi);
	const double den = ra_quad_power(1, c->a1, c->a2, phi);

	/* A notch at f0 is an exact zero. */
	if (!(num > 0))
		return -INFINITY;
	return 10 * log10(num / den);
}

/* ---- scalar kernel ---- */

/* Transposed direct form II with the fused operations of the header. fma()
 * is correctly rounded whether it is one instruction or glibc's software
 * fallback, so both builds below give the same bits. */
static inline __attribute__((always_inline)) void
ra_biquad_run(const ra_biquad_coeffs *c, ra_biquad_state *st, double *buf, size_t frames)
{
	const double b0 = c->b0, b1 = c->b1, b2 = c->b2, na1 = -c->a1, na2 = -c->a2;
	double s1 = st->s1, s2 = st->s2;

	for (size_t n = 0; n < frames; n++) {
		const double x = buf[n];
		const double y = fma(b0, x, s1);

		s1 = fma(na1, y, fma(b1, x, s2));
		s2 = fma(na2, y, b2 * x);
		buf[n] = y;
	}
	st->s1 = s1;
	st->s2 = s2;
}

/* The same loop with fma() as an instruction instead of a libm call. */
__attribute__((target("fma"))) static void ra_biquad_run_fma(const ra_biquad_coeffs *c,
							     ra_biquad_state *st, double *buf,
							     size_t frames)
{
	ra_biquad_run(c, st, buf, frames);
}

static void ra_biquad_run_libm(const ra_biquad_coeffs *c, ra_biquad_state *st, double *buf,
			       size_t frames)
{
	ra_biquad_run(c, st, buf, frames);
}

static int ra_cpu_has_fma(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("fma");
}

static int ra_cpu_has_avx2_fma(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

void ra_biquad_process(const ra_biquad_coeffs *c, ra_biquad_state *st, double *buf, size_t frames)
{
	if (ra_cpu_has_fma())
		ra_biquad_run_fma(c, st, buf, frames);
	else
		ra_biquad_run_libm(c, st, buf, frames);
}

/* ---- cascade: state ---- */

/* The SIMD kernel splits the bands into groups of at most RA_GROUP_MAX, each
 * run as one skewed pass over the buffer. In a group of `bands` bands held
 * in `nvec` vectors of RA_LANES lanes, the band at position q sits in vector
 * q % nvec, lane q / nvec: band q's predecessor is then the same lane of the
 * previous vector, except for vector 0, whose lanes take the lane below in
 * the last vector. Only that one vector needs a cross-lane shift, and it is
 * off the critical path (y -> s1 -> y, two fused latencies per sample).
 * Positions bands..nvec*RA_LANES-1 hold identity bands; they come after the
 * last real band, so nothing they compute reaches the output. */
#define RA_LANES 4
#define RA_GROUP_VECS 4
#define RA_GROUP_MAX (RA_LANES * RA_GROUP_VECS)
#define RA_GROUPS_MAX ((RA_CASCADE_MAX_BANDS + RA_GROUP_MAX - 1) / RA_GROUP_MAX)
#define RA_NCOEF 5 /* b0 b1 b2 a1 a2: one vector each, per vector of bands */

struct ra_group {
	int bands;    /* real bands in the group */
	int nvec;     /* vectors of RA_LANES bands */
	int out_vec;  /* where the group's last band sits */
	int out_lane;
	double *coef;  /* nvec blocks of RA_NCOEF vectors */
	double *state; /* nvec blocks of two vectors: s1, s2 */
};

typedef void (*ra_cascade_fn)(ra_cascade *cs, double *buf, size_t frames);

struct ra_cascade {
	ra_cascade_fn run; /* chosen once, at create */
	int count;
	int ngroups;
	struct ra_group group[RA_GROUPS_MAX];
	double *lanes; /* 64-byte aligned storage behind the groups */
	ra_biquad_coeffs coef[RA_CASCADE_MAX_BANDS];
	ra_biquad_state state[RA_CASCADE_MAX_BANDS]; /* scalar kernel only */
};

/* ---- cascade: scalar kernel ---- */

static void ra_cascade_scalar(ra_cascade *cs, double *buf, size_t frames)
{
	for (int k = 0; k < cs->count; k++)
		ra_biquad_process(&cs->coef[k], &cs->state[k], buf, frames);
}

/* ---- cascade: AVX2 + FMA kernel ---- */

#define RA_AVX2 __attribute__((target("avx2,fma")))

/* One step: every band of the group advances by one sample. Band 0 takes
 * XIN; the others take their predecessor's output from the previous step,
 * so band q filters sample n - q at step n. Lanes whose MASK is clear keep
 * their state: a band before its first sample or after its last. */
static inline __attribute__((always_inline)) RA_AVX2 void
ra_avx2_step(const __m256d *k, __m256d *s1, __m256d *s2, __m256d *y, double xin,
	     const __m256d *mask, const int nvec)
{
	__m256d x[RA_GROUP_VECS];

	x[0] = _mm256_blend_pd(_mm256_permute4x64_pd(y[nvec - 1], _MM_SHUFFLE(2, 1, 0, 3)),
			       _mm256_set1_pd(xin), 1);
#pragma GCC unroll 4
	for (int v = 1; v < nvec; v++)
		x[v] = y[v - 1];
#pragma GCC unroll 4
	for (int v = 0; v < nvec; v++) {
		const __m256d *kv = k + RA_NCOEF * v;
		const __m256d yv = _mm256_fmadd_pd(kv[0], x[v], s1[v]);
		const __m256d t = _mm256_fmadd_pd(kv[1], x[v], s2[v]);
		const __m256d n1 = _mm256_fnmadd_pd(kv[3], yv, t);
		const __m256d n2 = _mm256_fnmadd_pd(kv[4], yv, _mm256_mul_pd(kv[2], x[v]));

		if (mask) {
			s1[v] = _mm256_blendv_pd(s1[v], n1, mask[v]);
			s2[v] = _mm256_blendv_pd(s2[v], n2, mask[v]);
		} else {
			s1[v] = n1;
			s2[v] = n2;
		}
		y[v] = yv;
	}
}

/* Lanes of the bands that have a sample at step N: position q with
 * N - FRAMES < q <= N. POS holds each lane's position. */
static inline __attribute__((always_inline)) RA_AVX2 void
ra_avx2_mask(__m256d *mask, const __m256d *pos, size_t n, size_t frames, const int nvec)
{
	const __m256d now = _mm256_set1_pd((double)n);
	const __m256d len = _mm256_set1_pd((double)frames);

#pragma GCC unroll 4
	for (int v = 0; v < nvec; v++)
		mask[v] = _mm256_and_pd(_mm256_cmp_pd(pos[v], now, _CMP_LE_OQ),
					_mm256_cmp_pd(_mm256_add_pd(pos[v], len), now, _CMP_GT_OQ));
}

/* Store lane PICK of Y (a vpermps index moving it to lane 0) at P. */
static inline __attribute__((always_inline)) RA_AVX2 void ra_avx2_store_lane(double *p, __m256d y,
									    __m256i pick)
{
	const __m256 r = _mm256_permutevar8x32_ps(_mm256_castpd_ps(y), pick);

	_mm_store_sd(p, _mm256_castpd256_pd128(_mm256_castps_pd(r)));
}

/* One group over the whole buffer: lead = bands - 1 steps of ramp-in, the
 * steady steps, lead steps of ramp-out. The ramps leave each call
 * self-contained, so any split of a signal into blocks gives the same bits.
 * NVEC and OUT_VEC are constants at every call site, so that the state
 * stays in registers. */
static inline __attribute__((always_inline)) RA_AVX2 void
ra_avx2_group(struct ra_group *g, double *buf, size_t frames, const int nvec, const int out_vec)
{
	__m256d k[RA_NCOEF * RA_GROUP_VECS], s1[RA_GROUP_VECS], s2[RA_GROUP_VECS];
	__m256d y[RA_GROUP_VECS], pos[RA_GROUP_VECS], mask[RA_GROUP_VECS];
	const __m256i pick = _mm256_setr_epi32(2 * g->out_lane, 2 * g->out_lane + 1, 0, 0, 0, 0,
					       0, 0);
	const size_t lead = (size_t)g->bands - 1;
	const size_t steps = frames + lead;
	size_t n = 0;

#pragma GCC unroll 4
	for (int v = 0; v < nvec; v++) {
#pragma GCC unroll 5
		for (int i = 0; i < RA_NCOEF; i++)
			k[RA_NCOEF * v + i] =
				_mm256_load_pd(g->coef + (RA_NCOEF * v + i) * RA_LANES);
		s1[v] = _mm256_load_pd(g->state + (2 * v) * RA_LANES);
		s2[v] = _mm256_load_pd(g->state + (2 * v + 1) * RA_LANES);
		y[v] = _mm256_setzero_pd();
		pos[v] = _mm256_setr_pd(v, nvec + v, 2 * nvec + v, 3 * nvec + v);
	}

	/* Ramp-in; with frames <= lead, some bands also finish here. */
	for (; n < lead; n++) {
		ra_avx2_mask(mask, pos, n, frames, nvec);
		ra_avx2_step(k, s1, s2, y, n < frames ? buf[n] : 0.0, mask, nvec);
	}
	for (; n < frames; n++) {
		ra_avx2_step(k, s1, s2, y, buf[n], NULL, nvec);
		ra_avx2_store_lane(buf + (n - lead), y[out_vec], pick);
	}
	/* Ramp-out: the sample written at step n was read at step n - lead. */
	for (; n < steps; n++) {
		ra_avx2_mask(mask, pos, n, frames, nvec);
		ra_avx2_step(k, s1, s2, y, 0.0, mask, nvec);
		ra_avx2_store_lane(buf + (n - lead), y[out_vec], pick);
	}

#pragma GCC unroll 4
	for (int v = 0; v < nvec; v++) {
		_mm256_store_pd(g->state + (2 * v) * RA_LANES, s1[v]);
		_mm256_store_pd(g->state + (2 * v + 1) * RA_LANES, s2[v]);
	}
}

/* Each (nvec, out_vec) pair is its own instance of the group kernel. */
RA_AVX2 static void ra_cascade_avx2(ra_cascade *cs, double *buf, size_t frames)
{
	if (!frames)
		return;
	for (int i = 0; i < cs->ngroups; i++) {
		struct ra_group *g = &cs->group[i];

		switch (g->nvec * RA_GROUP_VECS + g->out_vec) {
		case 1 * RA_GROUP_VECS + 0:
			ra_avx2_group(g, buf, frames, 1, 0);
			break;
		case 2 * RA_GROUP_VECS + 0:
			ra_avx2_group(g, buf, frames, 2, 0);
			break;
		case 2 * RA_GROUP_VECS + 1:
			ra_avx2_group(g, buf, frames, 2, 1);
			break;
		case 3 * RA_GROUP_VECS + 0:
			ra_avx2_group(g, buf, frames, 3, 0);
			break;
		case 3 * RA_GROUP_VECS + 1:
			ra_avx2_group(g, buf, frames, 3, 1);
			break;
		case 3 * RA_GROUP_VECS + 2:
			ra_avx2_group(g, buf, frames, 3, 2);
			break;
		case 4 * RA_GROUP_VECS + 0:
			ra_avx2_group(g, buf, frames, 4, 0);
			break;
		case 4 * RA_GROUP_VECS + 1:
			ra_avx2_group(g, buf, frames, 4, 1);
			break;
		case 4 * RA_GROUP_VECS + 2:
			ra_avx2_group(g, buf, frames, 4, 2);
			break;
		default:
			ra_avx2_group(g, buf, frames, 4, 3);
			break;
		}
	}
}

/* Lay the bands out in groups, in the lane order described above, with
 * identity bands (b0 = 1) in the unused lanes. Balanced group sizes: two
 * passes of 16 and 15 bands run faster than 16 and one. */
static ra_status ra_cascade_layout(ra_cascade *cs)
{
	const int ngroups = (cs->count + RA_GROUP_MAX - 1) / RA_GROUP_MAX;
	size_t doubles = 0;
	int first = 0;

	for (int i = 0; i < ngroups; i++) {
		struct ra_group *g = &cs->group[i];

		g->bands = cs->count / ngroups + (i < cs->count % ngroups);
		g->nvec = (g->bands + RA_LANES - 1) / RA_LANES;
		g->out_vec = (g->bands - 1) % g->nvec;
		g->out_lane = (g->bands - 1) / g->nvec;
		doubles += (size_t)g->nvec * (RA_NCOEF + 2) * RA_LANES;
	}
	cs->lanes = aligned_alloc(64, (doubles * sizeof(double) + 63) / 64 * 64);
	if (!cs->lanes)
		return RA_ERR_NOMEM;
	cs->ngroups = ngroups;

	doubles = 0;
	for (int i = 0; i < ngroups; i++) {
		struct ra_group *g = &cs->group[i];

		g->coef = cs->lanes + doubles;
		doubles += (size_t)g->nvec * RA_NCOEF * RA_LANES;
		g->state = cs->lanes + doubles;
		doubles += (size_t)g->nvec * 2 * RA_LANES;
		for (int q = 0; q < g->nvec * RA_LANES; q++) {
			const ra_biquad_coeffs id = { .b0 = 1 };
			const ra_biquad_coeffs *c = q < g->bands ? &cs->coef[first + q] : &id;
			double *kv = g->coef + (q % g->nvec) * RA_NCOEF * RA_LANES + q / g->nvec;

			kv[0 * RA_LANES] = c->b0;
			kv[1 * RA_LANES] = c->b1;
			kv[2 * RA_LANES] = c->b2;
			kv[3 * RA_LANES] = c->a1;
			kv[4 * RA_LANES] = c->a2;
		}
		first += g->bands;
	}
	return RA_OK;
}

/* ---- cascade: object ---- */

ra_cascade *ra_cascade_create(const ra_biquad_coeffs *c, int count, ra_status *status)
{
	ra_cascade *cs = NULL;
	ra_status st = RA_ERR_INVALID;

	if (!c || count < 1 || count > RA_CASCADE_MAX_BANDS)
		goto out;
	for (int k = 0; k < count; k++)
		if (!isfinite(c[k].b0 + c[k].b1 + c[k].b2 + c[k].a1 + c[k].a2))
			goto out;
	st = RA_ERR_NOMEM;
	cs = calloc(1, sizeof(*cs));
	if (!cs)
		goto out;
	cs->count = count;
	memcpy(cs->coef, c, (size_t)count * sizeof(*c));
	cs->run = ra_cascade_scalar;
	if (ra_cpu_has_avx2_fma()) {
		st = ra_cascade_layout(cs);
		if (st != RA_OK)
			goto out_free;
		cs->run = ra_cascade_avx2;
	}
	ra_cascade_reset(cs);
	st = RA_OK;
	goto out;

out_free:
	free(cs);
	cs = NULL;
out:
	if (status)
		*status = st;
	return cs;
}

void ra_cascade_process(ra_cascade *cs, double *buf, size_t frames)
{
	cs->run(cs, buf, frames);
}

void ra_cascade_reset(ra_cascade *cs)
{
	memset(cs->state, 0, sizeof(cs->state));
	for (int i = 0; i < cs->ngroups; i++)
		memset(cs->group[i].state, 0,
		       (size_t)cs->group[i].nvec * 2 * RA_LANES * sizeof(double));
}

void ra_cascade_destroy(ra_cascade *cs)
{
	if (!cs)
		return;
	free(cs->lanes);
	free(cs);
}

const char *ra_cascade_kernel(void)
{
	return ra_cpu_has_avx2_fma() ? "avx2-fma" : "scalar";
}
