/* Biquad filters: RBJ cookbook designs, their magnitude response, and the
 * in-place kernels (scalar, and skewed AVX2 and AVX-512 cascades, of one
 * channel or two at once) that all perform the same rounded operations, so
 * every kernel gives the same bits. */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/biquad.h"

#include "cpu.h"

#define RA_PI 3.14159265358979323846

#define RA_ALWAYS_INLINE static inline __attribute__((always_inline))

/* Beyond +-60 dB a biquad is no longer an equaliser band but a typo. */
#define RA_BIQUAD_MAX_GAIN_DB 60.0

#define RA_CASCADE_MAX_BANDS 64

static const char *const ra_biquad_names[] = {
	[RA_BIQUAD_PEAK] = "peak",	     [RA_BIQUAD_LOWSHELF] = "lowshelf",
	[RA_BIQUAD_HIGHSHELF] = "highshelf", [RA_BIQUAD_LOWPASS] = "lowpass",
	[RA_BIQUAD_HIGHPASS] = "highpass",   [RA_BIQUAD_BANDPASS] = "bandpass",
	[RA_BIQUAD_NOTCH] = "notch",	     [RA_BIQUAD_ALLPASS] = "allpass",
};

#define RA_BIQUAD_NTYPES (sizeof(ra_biquad_names) / sizeof(ra_biquad_names[0]))

ra_status ra_biquad_type_parse(const char *name, ra_biquad_type *type)
{
	size_t i;

	if (ra_name_lookup(name, ra_biquad_names, RA_BIQUAD_NTYPES, sizeof(ra_biquad_names[0]),
			   RA_NAME_EXACT, &i) != RA_OK)
		return RA_ERR_INVALID;
	*type = (ra_biquad_type)i;
	return RA_OK;
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
	if (kind == RA_WIDTH_OCTAVES &&
	    (ra_biquad_is_shelf(type) || type == RA_BIQUAD_LOWPASS || type == RA_BIQUAD_HIGHPASS)) {
		ra_diag_set(diag, "a %s filter takes %s, not a bandwidth in octaves",
			    ra_biquad_names[type], ra_biquad_is_shelf(type) ? "q or a slope" : "q");
		return RA_ERR_INVALID;
	}
	if (kind == RA_WIDTH_SLOPE && !ra_biquad_is_shelf(type)) {
		ra_diag_set(diag, "a %s filter takes no shelf slope", ra_biquad_names[type]);
		return RA_ERR_INVALID;
	}
	if (!isfinite(spec->width) || spec->width <= 0) {
		ra_diag_set(diag, "%s %g is not a positive number", ra_width_name(kind),
			    spec->width);
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

static int ra_coeffs_finite(const ra_biquad_coeffs *c)
{
	return isfinite(c->b0) && isfinite(c->b1) && isfinite(c->b2) && isfinite(c->a1) &&
	       isfinite(c->a2);
}

/* Robert Bristow-Johnson, "Cookbook formulae for audio EQ biquad filter
 * coefficients" (the Audio EQ Cookbook, W3C Audio WG note), with
 *     w0 = 2 pi f0 / Fs,  A = 10^(gain / 40)  (peak and shelves),
 *     alpha = sin(w0) / (2 Q)                                    from Q,
 *           = sin(w0) sinh(ln(2) / 2 * BW * w0 / sin(w0))        from octaves,
 *           = sin(w0) / 2 * sqrt((A + 1/A) (1/S - 1) + 2)         from slope,
 * and the cookbook's b0..a2 for each type, divided by a0. */

/* The cookbook's coefficients before the division by a0. */
struct ra_cookbook {
	double b0, b1, b2, a0, a1, a2;
};

/* alpha from the width of SPEC, in whichever of the three forms it comes. */
static ra_status ra_biquad_alpha(const ra_biquad_spec *spec, double w0, double A, double *alpha,
				 ra_diag *diag)
{
	const double sw = sin(w0);
	double sq;

	switch (spec->width_kind) {
	case RA_WIDTH_OCTAVES:
		*alpha = sw * sinh(log(2) / 2 * spec->width * w0 / sw);
		break;
	case RA_WIDTH_SLOPE:
		sq = (A + 1 / A) * (1 / spec->width - 1) + 2;
		if (!(sq > 0)) {
			ra_diag_set(diag, "shelf slope %g is too steep for %g dB", spec->width,
				    spec->gain_db);
			return RA_ERR_INVALID;
		}
		*alpha = sw / 2 * sqrt(sq);
		break;
	default:
		*alpha = sw / (2 * spec->width);
		break;
	}
	return RA_OK;
}

/* The cookbook's b0..a2 for TYPE, with cw = cos(w0). */
static struct ra_cookbook ra_biquad_cookbook(ra_biquad_type type, double cw, double alpha, double A)
{
	const double sq = 2 * sqrt(A) * alpha; /* the shelves' term */
	struct ra_cookbook k;

	switch (type) {
	case RA_BIQUAD_PEAK:
		k.b0 = 1 + alpha * A;
		k.b1 = -2 * cw;
		k.b2 = 1 - alpha * A;
		k.a0 = 1 + alpha / A;
		k.a1 = -2 * cw;
		k.a2 = 1 - alpha / A;
		break;
	case RA_BIQUAD_LOWSHELF:
		k.b0 = A * ((A + 1) - (A - 1) * cw + sq);
		k.b1 = 2 * A * ((A - 1) - (A + 1) * cw);
		k.b2 = A * ((A + 1) - (A - 1) * cw - sq);
		k.a0 = (A + 1) + (A - 1) * cw + sq;
		k.a1 = -2 * ((A - 1) + (A + 1) * cw);
		k.a2 = (A + 1) + (A - 1) * cw - sq;
		break;
	case RA_BIQUAD_HIGHSHELF:
		k.b0 = A * ((A + 1) + (A - 1) * cw + sq);
		k.b1 = -2 * A * ((A - 1) + (A + 1) * cw);
		k.b2 = A * ((A + 1) + (A - 1) * cw - sq);
		k.a0 = (A + 1) - (A - 1) * cw + sq;
		k.a1 = 2 * ((A - 1) - (A + 1) * cw);
		k.a2 = (A + 1) - (A - 1) * cw - sq;
		break;
	case RA_BIQUAD_LOWPASS:
		k.b0 = (1 - cw) / 2;
		k.b1 = 1 - cw;
		k.b2 = (1 - cw) / 2;
		k.a0 = 1 + alpha;
		k.a1 = -2 * cw;
		k.a2 = 1 - alpha;
		break;
	case RA_BIQUAD_HIGHPASS:
		k.b0 = (1 + cw) / 2;
		k.b1 = -(1 + cw);
		k.b2 = (1 + cw) / 2;
		k.a0 = 1 + alpha;
		k.a1 = -2 * cw;
		k.a2 = 1 - alpha;
		break;
	case RA_BIQUAD_BANDPASS:
		k.b0 = alpha;
		k.b1 = 0;
		k.b2 = -alpha;
		k.a0 = 1 + alpha;
		k.a1 = -2 * cw;
		k.a2 = 1 - alpha;
		break;
	case RA_BIQUAD_NOTCH:
		k.b0 = 1;
		k.b1 = -2 * cw;
		k.b2 = 1;
		k.a0 = 1 + alpha;
		k.a1 = -2 * cw;
		k.a2 = 1 - alpha;
		break;
	default: /* RA_BIQUAD_ALLPASS */
		k.b0 = 1 - alpha;
		k.b1 = -2 * cw;
		k.b2 = 1 + alpha;
		k.a0 = 1 + alpha;
		k.a1 = -2 * cw;
		k.a2 = 1 - alpha;
		break;
	}
	return k;
}

ra_status ra_biquad_design(const ra_biquad_spec *spec, double sample_rate, ra_biquad_coeffs *out,
			   ra_diag *diag)
{
	struct ra_cookbook k;
	double w0, A, alpha;
	ra_status st = ra_biquad_check(spec, sample_rate, diag);

	if (st != RA_OK)
		return st;
	w0 = 2 * RA_PI * spec->freq / sample_rate;
	A = ra_biquad_has_gain(spec->type) ? pow(10, spec->gain_db / 40) : 1;
	st = ra_biquad_alpha(spec, w0, A, &alpha, diag);
	if (st != RA_OK)
		return st;
	k = ra_biquad_cookbook(spec->type, cos(w0), alpha, A);

	out->b0 = k.b0 / k.a0;
	out->b1 = k.b1 / k.a0;
	out->b2 = k.b2 / k.a0;
	out->a1 = k.a1 / k.a0;
	out->a2 = k.a2 / k.a0;
	/* A huge bandwidth or a tiny Q overflows alpha. */
	if (!ra_coeffs_finite(out)) {
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
RA_ALWAYS_INLINE void ra_biquad_run(const ra_biquad_coeffs *c, ra_biquad_state *st, double *buf,
				    size_t frames)
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

#ifdef RA_HAVE_X86
/* The same loop with fma() as an instruction instead of a libm call. */
__attribute__((target("fma"))) static void
ra_biquad_run_fma(const ra_biquad_coeffs *c, ra_biquad_state *st, double *buf, size_t frames)
{
	ra_biquad_run(c, st, buf, frames);
}
#endif

static void ra_biquad_run_libm(const ra_biquad_coeffs *c, ra_biquad_state *st, double *buf,
			       size_t frames)
{
	ra_biquad_run(c, st, buf, frames);
}

void ra_biquad_process(const ra_biquad_coeffs *c, ra_biquad_state *st, double *buf, size_t frames)
{
#ifdef RA_HAVE_X86
	if (ra_cpu_has_fma()) {
		ra_biquad_run_fma(c, st, buf, frames);
		return;
	}
#endif
	ra_biquad_run_libm(c, st, buf, frames);
}

/* ---- cascade: state ---- */

/* The SIMD kernels split the bands into groups, each run as one skewed pass
 * over the buffer: at every step each band of the group filters one sample,
 * band q lagging band q - 1, so that one vector operation advances `lanes`
 * bands. In a group of nvec vectors, band q sits in vector q % nvec, lane
 * q / nvec: its predecessor is the same lane of the previous vector (no
 * shuffle), except in vector 0, whose lanes take the lane below in the last
 * vector. That wrap is the only lane shift, and it reads the output of two
 * steps back rather than one, which keeps the shuffle's latency off the
 * critical path (y -> s1 -> y, two fused latencies a sample). So band q, in
 * lane l of vector v, lags the input by l * (nvec + 1) + v steps.
 * Lanes past the last band hold identity bands (b0 = 1); they feed only
 * each other, never a real band. */
#define RA_NCOEF 5	/* b0 b1 b2 a1 a2: one vector each, per vector of bands */
#define RA_GROUP_VECS 4 /* at most 4 vectors a group: 16 (AVX2) or 32 bands */
#define RA_GROUPS_MAX 4 /* 64 bands in groups of 16 */
#define RA_LANES_MAX 8	/* AVX-512 */

struct ra_group {
	int bands;   /* real bands in the group */
	int nvec;    /* vectors of `lanes` bands */
	int out_vec; /* where the group's last band sits */
	int out_lane;
	size_t lead;   /* its lag: steps from a sample's input to its output */
	double *coef;  /* per vector: b0, b1, b2, a1, a2, each `lanes` wide */
	double *state; /* per vector: s1, s2 */
};

/* Two channels' groups of B bands each in one pass, where they fit in
 * fewer vectors than side by side (10 bands at 4 lanes: 5 vectors, not
 * 2 x 3).
 * In a pass of nvec vectors the first channel's bands take positions
 * 0 .. B - 1 of the lane order above and the second's start at position
 * nvec * m, m = ceil(B / nvec): vector 0, lane m, lag m * (nvec + 1). That
 * band takes the second channel's input, LAG_B steps late, instead of its
 * predecessor's output, so that every band still sees its own channel's
 * samples in order and performs the same operations: the same bytes.
 * Identity bands fill the other lanes. The pass borrows the two groups'
 * state for a call and gives it back. */
#define RA_JOINT_VECS 5 /* 10 bands a channel at 4 lanes, 20 at 8 */
#define RA_PAIR 2	/* two channels at once, at most (ra_cascade_process2()) */

struct ra_joint {
	struct ra_group g; /* its out_lane and lead: the first channel's */
	int lane_b;	   /* the second channel's first band, in vector 0 */
	size_t lag_b;
	double coef[RA_JOINT_VECS * RA_NCOEF * RA_LANES_MAX] __attribute__((aligned(64)));
	double state[RA_JOINT_VECS * 2 * RA_LANES_MAX] __attribute__((aligned(64)));
};

typedef void (*ra_cascade_fn)(ra_cascade *cs, double *buf, size_t frames);
typedef void (*ra_cascade_pair_fn)(ra_cascade *a, double *buf_a, ra_cascade *b, double *buf_b,
				   size_t frames);

struct ra_cascade {
	ra_cascade_fn run;	 /* chosen once, at create */
	ra_cascade_pair_fn run2; /* the same kernel on two cascades of one layout */
	const char *name;	 /* ra_cascade_name() */
	int count;
	int lanes; /* of the SIMD kernel; 0 for the scalar one */
	int ngroups;
	struct ra_group group[RA_GROUPS_MAX];
	double *lanes_mem; /* 64-byte aligned storage behind the groups */
	ra_biquad_coeffs coef[RA_CASCADE_MAX_BANDS];
	ra_biquad_state state[RA_CASCADE_MAX_BANDS]; /* scalar kernel only */
};

/* ---- cascade: scalar kernel ---- */

static void ra_cascade_scalar(ra_cascade *cs, double *buf, size_t frames)
{
	for (int k = 0; k < cs->count; k++)
		ra_biquad_process(&cs->coef[k], &cs->state[k], buf, frames);
}

/* The portable fallback: one channel after the other. */
static void ra_cascade_scalar_pair(ra_cascade *a, double *buf_a, ra_cascade *b, double *buf_b,
				   size_t frames)
{
	ra_cascade_scalar(a, buf_a, frames);
	ra_cascade_scalar(b, buf_b, frames);
}

#ifdef RA_HAVE_X86

/* The groups' kernel instance: (nvec, out_vec) pairs are compiled apart,
 * so that the state stays in registers. */
#define RA_SHAPE(nvec, out_vec) ((nvec)*RA_JOINT_VECS + (out_vec))

static int ra_group_shape(const struct ra_group *g)
{
	return RA_SHAPE(g->nvec, g->out_vec);
}

/* The fewest groups COUNT bands fit in at LANES lanes. */
static int ra_layout_groups(int count, int lanes)
{
	return (count + lanes * RA_GROUP_VECS - 1) / (lanes * RA_GROUP_VECS);
}

/* The bands of group I of NGROUPS of about equal size. */
static int ra_group_bands(int count, int ngroups, int i)
{
	return count / ngroups + (i < count % ngroups);
}

/* Where band position Q of a group of NVEC vectors keeps ROW of the ROWS
 * (coefficients or state) each of its vectors has, at LANES lanes. */
static size_t ra_lane_at(int q, int nvec, int lanes, int rows, int row)
{
	return ((size_t)(q % nvec) * (size_t)rows + (size_t)row) * (size_t)lanes +
	       (size_t)(q / nvec);
}

/* The steps lane LANE of vector VEC of a group of NVEC vectors lags its
 * input (see the lane order above). */
static size_t ra_lag(int lane, int vec, int nvec)
{
	return (size_t)lane * (size_t)(nvec + 1) + (size_t)vec;
}

/* The vectors a group of BANDS bands takes at LANES lanes. */
static int ra_group_nvec(int bands, int lanes)
{
	return (bands + lanes - 1) / lanes;
}

/* G holds BANDS bands in NVEC vectors: where its last band's output is. */
static void ra_group_place(struct ra_group *g, int bands, int nvec)
{
	g->bands = bands;
	g->nvec = nvec;
	g->out_vec = (bands - 1) % nvec;
	g->out_lane = (bands - 1) / nvec;
	g->lead = ra_lag(g->out_lane, g->out_vec, nvec);
}

/* Lay the bands out in the fewest groups, of about equal size (20 bands on
 * AVX2 run as two passes of 10, not 16 and 4), in the lane order above. */
static ra_status ra_cascade_layout(ra_cascade *cs, int lanes)
{
	const int ngroups = ra_layout_groups(cs->count, lanes);
	size_t doubles = 0;
	int first = 0;

	for (int i = 0; i < ngroups; i++) {
		struct ra_group *g = &cs->group[i];

		const int bands = ra_group_bands(cs->count, ngroups, i);

		ra_group_place(g, bands, ra_group_nvec(bands, lanes));
		doubles += (size_t)g->nvec * (RA_NCOEF + 2) * (size_t)lanes;
	}
	cs->lanes_mem = aligned_alloc(64, (doubles * sizeof(double) + 63) / 64 * 64);
	if (!cs->lanes_mem)
		return RA_ERR_NOMEM;
	cs->lanes = lanes;
	cs->ngroups = ngroups;

	doubles = 0;
	for (int i = 0; i < ngroups; i++) {
		struct ra_group *g = &cs->group[i];

		g->coef = cs->lanes_mem + doubles;
		doubles += (size_t)g->nvec * RA_NCOEF * (size_t)lanes;
		g->state = cs->lanes_mem + doubles;
		doubles += (size_t)g->nvec * 2 * (size_t)lanes;
		for (int q = 0; q < g->nvec * lanes; q++) {
			static const ra_biquad_coeffs identity = { .b0 = 1 };
			const ra_biquad_coeffs *c = q < g->bands ? &cs->coef[first + q] : &identity;
			double *kv = g->coef + ra_lane_at(q, g->nvec, lanes, RA_NCOEF, 0);

			kv[0 * lanes] = c->b0;
			kv[1 * lanes] = c->b1;
			kv[2 * lanes] = c->b2;
			kv[3 * lanes] = c->a1;
			kv[4 * lanes] = c->a2;
		}
		first += g->bands;
	}
	return RA_OK;
}

/* The vectors of a joint pass of two channels' groups of BANDS bands in
 * NVEC vectors each (struct ra_joint) at LANES lanes, or 0 where it would
 * take more than MOST or no fewer than the two groups side by side (one
 * vector would not: a pair of one-vector groups already runs
 * interleaved). */
static int ra_joint_vecs(int bands, int nvec, int lanes, int most)
{
	const int half = lanes / 2, joint = (bands + half - 1) / half;

	return joint > 1 && joint < 2 * nvec && joint <= most ? joint : 0;
}

/* ROWS rows (coefficients or state) of band position P in FROM, a group
 * of NVEC_FROM vectors, into position Q of TO, of NVEC_TO. */
static void ra_lane_copy(double *to, int q, int nvec_to, const double *from, int p, int nvec_from,
			 int lanes, int rows)
{
	for (int row = 0; row < rows; row++)
		to[ra_lane_at(q, nvec_to, lanes, rows, row)] =
			from[ra_lane_at(p, nvec_from, lanes, rows, row)];
}

/* J, a pass of NVEC vectors over the groups G[0] and G[1], their state
 * borrowed. */
static void ra_joint_open(struct ra_joint *j, struct ra_group *const *g, int nvec, int lanes)
{
	const int bands = g[0]->bands, m = (bands + nvec - 1) / nvec;

	ra_group_place(&j->g, bands, nvec);
	j->g.coef = j->coef;
	j->g.state = j->state;
	j->lane_b = m;
	j->lag_b = ra_lag(m, 0, nvec);
	memset(j->coef, 0, (size_t)nvec * RA_NCOEF * (size_t)lanes * sizeof(double));
	memset(j->state, 0, (size_t)nvec * 2 * (size_t)lanes * sizeof(double));
	for (int q = 0; q < nvec * lanes; q++)
		j->coef[ra_lane_at(q, nvec, lanes, RA_NCOEF, 0)] = 1; /* identity: b0 = 1 */
	for (int c = 0; c < RA_PAIR; c++) {
		for (int k = 0; k < bands; k++) {
			const int q = c * nvec * m + k;

			ra_lane_copy(j->coef, q, nvec, g[c]->coef, k, g[c]->nvec, lanes, RA_NCOEF);
			ra_lane_copy(j->state, q, nvec, g[c]->state, k, g[c]->nvec, lanes, 2);
		}
	}
}

/* The state borrowed by J back to G[0] and G[1]. */
static void ra_joint_close(const struct ra_joint *j, struct ra_group *const *g, int lanes)
{
	for (int c = 0; c < RA_PAIR; c++)
		for (int k = 0; k < j->g.bands; k++)
			ra_lane_copy(g[c]->state, k, g[c]->nvec, j->state,
				     c * j->g.nvec * j->lane_b + k, j->g.nvec, lanes, 2);
}

/* ---- cascade: the SIMD kernels ---- */

/* One kernel, biquad_kernel.h, is compiled below once per instruction set,
 * with that set's vector type and the few operations that differ between
 * the widths: the lane shift, the masks, the lags and the store of a lane. */

/* ---- cascade: AVX2 + FMA kernel (4 lanes) ---- */

#define RA_AVX2 __attribute__((target("avx2,fma")))

RA_ALWAYS_INLINE RA_AVX2 __m256d ra_avx2_shift_in(__m256d y, double x)
{
	return _mm256_blend_pd(_mm256_permute4x64_pd(y, _MM_SHUFFLE(2, 1, 0, 3)), _mm256_set1_pd(x),
			       1);
}

RA_ALWAYS_INLINE RA_AVX2 __m256d ra_avx2_live(__m256d lag, __m256d end, __m256d now)
{
	return _mm256_and_pd(_mm256_cmp_pd(lag, now, _CMP_LE_OQ),
			     _mm256_cmp_pd(end, now, _CMP_GT_OQ));
}

RA_ALWAYS_INLINE RA_AVX2 __m256d ra_avx2_select(__m256d mask, __m256d old, __m256d new)
{
	return _mm256_blendv_pd(old, new, mask);
}

RA_ALWAYS_INLINE RA_AVX2 __m256d ra_avx2_lag(int nvec, int v)
{
	return _mm256_setr_pd(v, (nvec + 1) + v, 2 * (nvec + 1) + v, 3 * (nvec + 1) + v);
}

/* Moves the two floats of lane LANE to lane 0. */
RA_ALWAYS_INLINE RA_AVX2 __m256i ra_avx2_pick_lane(int lane)
{
	return _mm256_setr_epi32(2 * lane, 2 * lane + 1, 0, 0, 0, 0, 0, 0);
}

RA_ALWAYS_INLINE RA_AVX2 void ra_avx2_store_lane(double *p, __m256d y, __m256i pick)
{
	const __m256 r = _mm256_permutevar8x32_ps(_mm256_castpd_ps(y), pick);

	_mm_store_sd(p, _mm256_castpd256_pd128(_mm256_castps_pd(r)));
}

/* Two channels interleave up to two vectors of bands, where both channels'
 * s1, s2, y and yd take 14 of the 16 registers (the coefficients come from
 * L1). With three they take 20: s1 and s2 go to the stack, a store and a
 * load on the critical path, and one channel after the other is faster (on
 * Zen 5, 10 bands: 0.75x interleaved). */
#define RA_SIMD_PAIR_VECS 2
/* A joint pass of 5 vectors (10 bands a channel) takes 16 registers of
 * state and spills: 0.96x two passes of 3 on Zen 4. */
#define RA_SIMD_JOINT_VECS 3
#define RA_SIMD(name) ra_avx2_##name
#define RA_SIMD_OP(name) ra_avx2_##name
#define RA_MM(op) _mm256_##op##_pd
#define RA_SIMD_TARGET RA_AVX2
#define RA_SIMD_LANES 4
#define RA_SIMD_VEC __m256d
#define RA_SIMD_MASK __m256d /* all ones in a lane of the set */
#define RA_SIMD_PICK __m256i /* a vpermps index */
#include "biquad_kernel.h"

/* ---- cascade: the same 4 lanes with AVX-512's 32 registers ---- */

/* Where the CPU has AVX-512, the 4-lane kernel is this build of the AVX2
 * one: the same operations, EVEX-encoded, so that the compiler has 32
 * registers. A joint pass of 5 vectors then keeps its state in them: 10
 * bands of two channels at 233 M frames a second on Zen 4, against 188 as
 * two passes of 3 (bench_biquad). */
#define RA_AVX2VL __attribute__((target("avx2,fma,avx512f,avx512vl")))

#define RA_SIMD_PAIR_VECS 2 /* as the AVX2 build's: more is not measured */
#define RA_SIMD_JOINT_VECS RA_JOINT_VECS
#define RA_SIMD(name) ra_avx2vl_##name
#define RA_SIMD_OP(name) ra_avx2_##name
#define RA_MM(op) _mm256_##op##_pd
#define RA_SIMD_TARGET RA_AVX2VL
#define RA_SIMD_LANES 4
#define RA_SIMD_VEC __m256d
#define RA_SIMD_MASK __m256d
#define RA_SIMD_PICK __m256i
#include "biquad_kernel.h"

/* ---- cascade: AVX-512 kernel (8 lanes) ---- */

#define RA_AVX512 __attribute__((target("avx512f")))

RA_ALWAYS_INLINE RA_AVX512 __m512d ra_avx512_shift_in(__m512d y, double x)
{
	return _mm512_castsi512_pd(_mm512_alignr_epi64(_mm512_castpd_si512(y),
						       _mm512_castpd_si512(_mm512_set1_pd(x)), 7));
}

RA_ALWAYS_INLINE RA_AVX512 __mmask8 ra_avx512_live(__m512d lag, __m512d end, __m512d now)
{
	return _mm512_mask_cmp_pd_mask(_mm512_cmp_pd_mask(lag, now, _CMP_LE_OQ), end, now,
				       _CMP_GT_OQ);
}

RA_ALWAYS_INLINE RA_AVX512 __m512d ra_avx512_select(__mmask8 mask, __m512d old, __m512d new)
{
	return _mm512_mask_blend_pd(mask, old, new);
}

RA_ALWAYS_INLINE RA_AVX512 __m512d ra_avx512_lag(int nvec, int v)
{
	const __m512d lane = _mm512_setr_pd(0, 1, 2, 3, 4, 5, 6, 7);

	return _mm512_fmadd_pd(lane, _mm512_set1_pd(nvec + 1), _mm512_set1_pd(v));
}

RA_ALWAYS_INLINE RA_AVX512 __m512i ra_avx512_pick_lane(int lane)
{
	return _mm512_set1_epi64(lane);
}

RA_ALWAYS_INLINE RA_AVX512 void ra_avx512_store_lane(double *p, __m512d y, __m512i pick)
{
	_mm_store_sd(p, _mm512_castpd512_pd128(_mm512_permutexvar_pd(pick, y)));
}

/* Two channels interleave up to three vectors of bands, where both
 * channels' s1, s2, y and yd take 20 of the 32 registers (some coefficients
 * come from L1). With four, one channel's 20 multiplies a step already keep
 * two FMA pipes busy for longer than its latency: nothing to hide, and 26
 * registers of state would spill. One channel after the other, then. */
#define RA_SIMD_PAIR_VECS 3
#define RA_SIMD_JOINT_VECS RA_JOINT_VECS
#define RA_SIMD(name) ra_avx512_##name
#define RA_SIMD_OP(name) ra_avx512_##name
#define RA_MM(op) _mm512_##op##_pd
#define RA_SIMD_TARGET RA_AVX512
#define RA_SIMD_LANES 8
#define RA_SIMD_VEC __m512d
#define RA_SIMD_MASK __mmask8
#define RA_SIMD_PICK __m512i /* a vpermpd index */
#include "biquad_kernel.h"

#endif /* RA_HAVE_X86 */

/* ---- cascade: the kernel's width ---- */

#ifdef RA_HAVE_X86

/* The lanes a step of LANES' kernel computes (identity lanes too) on two
 * cascades of COUNT bands, as ra_cascade_layout() lays them out and the
 * pair kernel runs them, with joint passes of up to RA_JOINT_VECS vectors;
 * and the groups it takes. */
static int ra_pair_lanes(int count, int lanes, int *groups)
{
	const int ngroups = ra_layout_groups(count, lanes);
	int total = 0;

	for (int i = 0; i < ngroups; i++) {
		const int bands = ra_group_bands(count, ngroups, i),
			  nvec = ra_group_nvec(bands, lanes),
			  joint = ra_joint_vecs(bands, nvec, lanes, RA_JOINT_VECS);

		total += (joint ? joint : 2 * nvec) * lanes;
	}
	*groups = ngroups;
	return total;
}

/* The kernel of LANES for CS on a CPU with AVX-512, laid out for it. */
static ra_status ra_cascade_use(ra_cascade *cs, int lanes)
{
	free(cs->lanes_mem);
	cs->lanes_mem = NULL;
	cs->run = lanes == 8 ? ra_avx512_cascade : ra_avx2vl_cascade;
	cs->run2 = lanes == 8 ? ra_avx512_cascade_pair : ra_avx2vl_cascade_pair;
	cs->name = lanes == 8 ? "avx512f" : "avx512vl";
	return ra_cascade_layout(cs, lanes);
}

/* Nanoseconds CS and its TWIN (just laid out alike) take as a pair over
 * two channels of BUF, refilled with noise. */
static uint64_t ra_cascade_time(ra_cascade *cs, ra_cascade *twin, double *buf, size_t frames)
{
	uint64_t t0;
	uint32_t x = 1;

	for (size_t n = 0; n < 2 * frames; n++) {
		x = x * 1664525u + 1013904223u;
		buf[n] = (double)(int32_t)x / 2147483648.0;
	}
	ra_cascade_reset(cs);
	ra_cascade_reset(twin);
	t0 = ra_now_ns();
	cs->run2(cs, buf, twin, buf + frames, frames);
	return ra_now_ns() - t0;
}

#define RA_WIDTH_FRAMES 4096
#define RA_WIDTH_WARMUP 3 /* rounds not counted */
#define RA_WIDTH_ROUNDS 16

/* 8 or 4: the faster kernel for CS on this CPU, timed on two channels (a
 * stereo stream's pairs, the most common use), the best of several runs
 * each, in turn, after a few not counted: about 0.6 ms, once a process.
 * On Zen 4 the 4-lane kernel's first runs take up to a quarter longer
 * than the rest, and its best of 5 lost to 8 lanes in 14 processes of 20
 * although it is 1.2x faster; with 8 counted after the warm-up it lost in
 * 2 of 30 runs of the program, with 16 in none. 4 lanes must win by 3 %,
 * so that noise does not choose them. 8 where the time cannot be
 * measured. */
static int ra_cascade_measure(ra_cascade *cs)
{
	ra_cascade *twin = calloc(1, sizeof(*twin));
	double *buf = malloc(2 * RA_WIDTH_FRAMES * sizeof(*buf));
	uint64_t best[2] = { UINT64_MAX, UINT64_MAX };

	/* Made by hand: ra_cascade_create() would measure again. */
	if (twin) {
		twin->count = cs->count;
		memcpy(twin->coef, cs->coef, sizeof(twin->coef));
	}
	for (int r = 0; twin && buf && r < 2 * (RA_WIDTH_WARMUP + RA_WIDTH_ROUNDS); r++) {
		const int w = r % 2;
		uint64_t ns;

		if (ra_cascade_use(cs, w ? 4 : 8) != RA_OK ||
		    ra_cascade_use(twin, w ? 4 : 8) != RA_OK)
			break;
		ns = ra_cascade_time(cs, twin, buf, RA_WIDTH_FRAMES);
		if (r >= 2 * RA_WIDTH_WARMUP && ns < best[w])
			best[w] = ns;
	}
	ra_cascade_destroy(twin);
	free(buf);
	return best[1] < UINT64_MAX && (double)best[1] * 1.03 < (double)best[0] ? 4 : 8;
}

/* The width a cascade of COUNT bands runs at on a CPU with AVX-512,
 * measured once a process. Where two channels at 4 lanes compute fewer
 * lanes a step in as many groups (1-4 bands: 8 lanes, not 16; 5 and 6: 12,
 * not 16; 9 and 10: 20 in a joint pass, not 24) they do less arithmetic,
 * and a CPU that runs a 512-bit operation as two halves finishes it
 * sooner: on Zen 4, 10 bands of two channels run at 233 M frames a second
 * at 4 lanes against 190 at 8. A CPU with full-width units may not gain,
 * so the two are timed, as FFTW's planner does; the bytes are the same
 * either way, and every cascade of one count gets the same kernel, so that
 * pairs pair. */
static _Atomic int ra_width[RA_CASCADE_MAX_BANDS + 1];

/* RUSTY_AUDIO_EQ_LANES=4 or 8 fixes the width for every count instead
 * (the tests reach both widths' joint passes so; a benchmark can compare
 * them); 0 where it does not. */
static int ra_width_fixed(void)
{
	const char *env = getenv("RUSTY_AUDIO_EQ_LANES");

	return env && (!strcmp(env, "4") || !strcmp(env, "8")) ? atoi(env) : 0;
}

static int ra_cascade_width(ra_cascade *cs)
{
	int wide_groups, narrow_groups, lanes = atomic_load(&ra_width[cs->count]), none = 0;

	if (lanes)
		return lanes;
	lanes = ra_width_fixed();
	if (!lanes) {
		lanes = 8;
		if (ra_pair_lanes(cs->count, 4, &narrow_groups) <
			    ra_pair_lanes(cs->count, 8, &wide_groups) &&
		    narrow_groups == wide_groups)
			lanes = ra_cascade_measure(cs);
	}
	/* Two threads may have measured at once: the first to store decides. */
	if (!atomic_compare_exchange_strong(&ra_width[cs->count], &none, lanes))
		lanes = none;
	return lanes;
}

#endif /* RA_HAVE_X86 */

/* ---- cascade: object ---- */

/* The fastest kernel this CPU has, chosen once. */
static ra_status ra_cascade_choose(ra_cascade *cs)
{
	cs->run = ra_cascade_scalar;
	cs->run2 = ra_cascade_scalar_pair;
	cs->name = "scalar";
#ifdef RA_HAVE_X86
	switch (ra_cpu_isa()) {
	case RA_ISA_AVX512: /* 4 lanes take VL */
		return ra_cascade_use(cs, ra_cpu_has_avx512vl() ? ra_cascade_width(cs) : 8);
	case RA_ISA_AVX2:
		cs->run = ra_avx2_cascade;
		cs->run2 = ra_avx2_cascade_pair;
		cs->name = "avx2-fma";
		return ra_cascade_layout(cs, 4);
	case RA_ISA_SCALAR:
		break;
	}
#endif
	return RA_OK;
}

ra_cascade *ra_cascade_create(const ra_biquad_coeffs *c, int count, ra_status *status,
			      ra_diag *diag)
{
	ra_cascade *cs = NULL;
	ra_status st = RA_ERR_INVALID;

	if (!c || count < 1 || count > RA_CASCADE_MAX_BANDS) {
		if (c)
			ra_diag_set(diag, "a cascade has 1 to %d bands, not %d",
				    RA_CASCADE_MAX_BANDS, count);
		else
			ra_diag_set(diag, "no coefficients for a cascade of %d bands", count);
		goto out;
	}
	for (int k = 0; k < count; k++) {
		if (!ra_coeffs_finite(&c[k])) {
			ra_diag_set(diag, "band %d's coefficients are not finite", k + 1);
			goto out;
		}
	}
	st = RA_ERR_NOMEM;
	cs = calloc(1, sizeof(*cs));
	if (!cs)
		goto out_nomem;
	cs->count = count;
	memcpy(cs->coef, c, (size_t)count * sizeof(*c));
	st = ra_cascade_choose(cs);
	if (st != RA_OK)
		goto out_free;
	ra_cascade_reset(cs);
	goto out;

out_free:
	free(cs);
	cs = NULL;
out_nomem:
	ra_diag_set(diag, "cannot allocate a cascade of %d bands", count);
out:
	if (status)
		*status = st;
	return cs;
}

void ra_cascade_process(ra_cascade *cs, double *buf, size_t frames)
{
	cs->run(cs, buf, frames);
}

void ra_cascade_process2(ra_cascade *a, double *buf_a, ra_cascade *b, double *buf_b, size_t frames)
{
	/* The pair kernels take both cascades' layout from A: the same count
	 * and kernel. Anything else (or A twice) runs as two calls. */
	if (a != b && a->count == b->count && a->run2 == b->run2) {
		a->run2(a, buf_a, b, buf_b, frames);
	} else {
		a->run(a, buf_a, frames);
		b->run(b, buf_b, frames);
	}
}

void ra_cascade_reset(ra_cascade *cs)
{
	memset(cs->state, 0, sizeof(cs->state));
	for (int i = 0; i < cs->ngroups; i++)
		memset(cs->group[i].state, 0,
		       (size_t)cs->group[i].nvec * 2 * (size_t)cs->lanes * sizeof(double));
}

void ra_cascade_destroy(ra_cascade *cs)
{
	if (!cs)
		return;
	free(cs->lanes_mem);
	free(cs);
}

const char *ra_cascade_name(const ra_cascade *cs)
{
	return cs->name;
}

const char *ra_cascade_kernel(void)
{
	const enum ra_isa isa = ra_cpu_isa();

	return isa == RA_ISA_AVX512 ? "avx512f" : isa == RA_ISA_AVX2 ? "avx2-fma" : "scalar";
}
