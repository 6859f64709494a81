/* Levels of a stream: per-channel sums, peak and counts in one pass. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "rustyaudio/level.h"
#include "rustyaudio/phases.h"

/*
 * Sample s of the interleaved stream goes to accumulator s % width, where
 * width is a multiple of the channels, so that accumulator a holds
 * channel a % channels and a row of width samples is one loop that
 * vectorizes. Where the channels divide ROW, width is ROW and the
 * accumulators stay in locals across a block's rows, in a loop built for
 * each instruction set as the converter's (in registers where there are
 * enough: AVX-512's 32); otherwise width is LANES a channel, accumulated
 * in memory. Each phase (phases.h) has its own accumulators, so that
 * shares of the stream can be measured apart and merged to the same bits.
 */
#define ROW 16
#define LANES 4

/* The accumulators of each kind, with the compiler told they do not
 * overlap. The counts are doubles too, so that the loops vectorize on
 * every x86-64; a double counts exactly to 2^53, more samples than any
 * accumulator will see. */
typedef struct accumulators {
	double *restrict sum, *restrict squares, *restrict peak, *restrict clipped,
									 *restrict nonfinite;
} accumulators;

#define KINDS 5 /* the members of accumulators */

typedef void rows_fn(const accumulators *acc, const float *x, size_t rows);

struct ra_levels {
	int channels;
	size_t width;
	uint64_t at;		     /* the stream's frame the next one added is */
	uint64_t frames;	     /* added */
	accumulators acc[RA_PHASES]; /* width each, one allocation */
	rows_fn *rows;		     /* NULL: width is not ROW */
};

/* Sample X into accumulator A. Selects, not branches, so that the loops
 * vectorize; NaN fails every comparison. */
static inline __attribute__((always_inline)) void add_sample(const accumulators *acc, size_t a,
							     float x)
{
	const double v = x, m = fabs(v);

	acc->sum[a] += v;
	acc->squares[a] += v * v;
	acc->peak[a] = m > acc->peak[a] ? m : acc->peak[a];
	acc->clipped[a] += m >= 1.0 ? 1.0 : 0.0;
	acc->nonfinite[a] += m <= FLT_MAX ? 0.0 : 1.0;
}

/* ROWS rows of W samples of X, sample a of each into accumulator a. */
static inline __attribute__((always_inline)) void
add_rows(const accumulators *acc, const float *restrict x, size_t rows, size_t w)
{
	for (size_t r = 0; r < rows; r++, x += w)
		for (size_t a = 0; a < w; a++)
			add_sample(acc, a, x[a]);
}

/* add_rows() of ROW samples a row, the accumulators held in locals (in
 * registers) across the rows. */
static inline __attribute__((always_inline)) void
add_rows_held(const accumulators *acc, const float *restrict x, size_t rows)
{
	double sum[ROW], squares[ROW], peak[ROW], clipped[ROW], nonfinite[ROW];
	double *const held[] = { sum, squares, peak, clipped, nonfinite };
	double *const kept[] = { acc->sum, acc->squares, acc->peak, acc->clipped, acc->nonfinite };
	const accumulators local = { sum, squares, peak, clipped, nonfinite };

	for (int k = 0; k < KINDS; k++)
		memcpy(held[k], kept[k], ROW * sizeof(double));
	add_rows(&local, x, rows, ROW);
	for (int k = 0; k < KINDS; k++)
		memcpy(kept[k], held[k], ROW * sizeof(double));
}

/* Builds of add_rows_held() for each instruction set; every one performs
 * the same additions in the same order, so all give the same bits. */
#define ROWS_BUILD(name, attr)                                                                     \
	attr static void name(const accumulators *acc, const float *x, size_t rows)                \
	{                                                                                          \
		add_rows_held(acc, x, rows);                                                       \
	}

ROWS_BUILD(rows_generic, )
#ifdef RA_HAVE_X86
ROWS_BUILD(rows_avx2, __attribute__((target("avx2"))))
ROWS_BUILD(rows_avx512, __attribute__((target("avx512f"))))
#endif

/* The fastest build this CPU runs, and its name in *NAME when NAME is not
 * NULL. */
static rows_fn *rows_choose(const char **name)
{
	const enum ra_isa isa = ra_cpu_isa();

	if (name)
		*name = ra_isa_name(isa);
	return RA_CPU_PICK(isa, rows_generic, rows_avx2, rows_avx512);
}

const char *ra_levels_kernel(void)
{
	const char *name;

	(void)rows_choose(&name);
	return name;
}

ra_levels *ra_levels_create(int channels, ra_status *status, ra_diag *diag)
{
	ra_levels *lv = NULL;
	ra_status st = RA_ERR_INVALID;
	double *all;

	if (channels < 1 || channels > RA_MAX_CHANNELS) {
		ra_diag_set(diag, "cannot measure %d channels (1 to %d)", channels,
			    RA_MAX_CHANNELS);
		goto out;
	}
	st = RA_ERR_NOMEM;
	lv = calloc(1, sizeof(*lv));
	if (lv)
		lv->width = ROW % channels == 0 ? ROW : (size_t)channels * LANES;
	all = lv ? calloc(RA_PHASES * KINDS * lv->width, sizeof(*all)) : NULL;
	if (!all) {
		free(lv);
		lv = NULL;
		ra_diag_set(diag, "cannot allocate the levels of %d channels", channels);
		goto out;
	}
	lv->channels = channels;
	for (int p = 0; p < RA_PHASES; p++, all += KINDS * lv->width)
		lv->acc[p] = (accumulators){ all, all + lv->width, all + 2 * lv->width,
					     all + 3 * lv->width, all + 4 * lv->width };
	lv->rows = lv->width == ROW ? rows_choose(NULL) : NULL;
	st = RA_OK;
out:
	if (status)
		*status = st;
	return lv;
}

/* FRAMES frames of BUF, all of one group of the stream, into ACC. */
static void add_group(ra_levels *lv, const accumulators *acc, const float *buf, size_t frames)
{
	const size_t n = frames * (size_t)lv->channels, w = lv->width;
	size_t a = (size_t)(lv->at * (uint64_t)lv->channels % w), i = 0, rows;

	/* Up to a row's start, whole rows, what is left. */
	for (; i < n && a != 0; i++) {
		add_sample(acc, a, buf[i]);
		a = a + 1 == w ? 0 : a + 1;
	}
	rows = (n - i) / w;
	if (lv->rows)
		lv->rows(acc, buf + i, rows);
	else
		add_rows(acc, buf + i, rows, w);
	for (i += rows * w, a = 0; i < n; i++)
		add_sample(acc, a++, buf[i]);
}

void ra_levels_add(ra_levels *lv, const float *buf, size_t frames)
{
	if (!lv || !buf)
		return;
	while (frames > 0) {
		const uint64_t group = lv->at / RA_PHASE_FRAMES,
			       left = (group + 1) * RA_PHASE_FRAMES - lv->at;
		const size_t run = left < frames ? (size_t)left : frames;

		add_group(lv, &lv->acc[group % RA_PHASES], buf, run);
		buf += run * (size_t)lv->channels;
		frames -= run;
		lv->at += run;
		lv->frames += run;
	}
}

void ra_levels_seek(ra_levels *lv, uint64_t frame)
{
	if (lv)
		lv->at = frame;
}

void ra_levels_merge(ra_levels *into, const ra_levels *from)
{
	if (!into || !from || into->channels != from->channels)
		return;
	for (int p = 0; p < RA_PHASES; p++) {
		const accumulators *a = &into->acc[p], *b = &from->acc[p];

		for (size_t i = 0; i < into->width; i++) {
			a->sum[i] += b->sum[i];
			a->squares[i] += b->squares[i];
			a->peak[i] = b->peak[i] > a->peak[i] ? b->peak[i] : a->peak[i];
			a->clipped[i] += b->clipped[i];
			a->nonfinite[i] += b->nonfinite[i];
		}
	}
	into->frames += from->frames;
}

void ra_levels_get(const ra_levels *lv, int c, ra_level *out)
{
	memset(out, 0, sizeof(*out));
	if (!lv || c < 0 || c >= lv->channels)
		return;
	for (size_t a = (size_t)c; a < lv->width; a += (size_t)lv->channels) {
		double sum = lv->acc[0].sum[a], squares = lv->acc[0].squares[a];

		for (int p = 1; p < RA_PHASES; p++) {
			sum += lv->acc[p].sum[a];
			squares += lv->acc[p].squares[a];
		}
		out->sum += sum;
		out->sum_squares += squares;
		for (int p = 0; p < RA_PHASES; p++) {
			out->peak = lv->acc[p].peak[a] > out->peak ? lv->acc[p].peak[a] : out->peak;
			out->clipped += (uint64_t)lv->acc[p].clipped[a];
		}
	}
}

uint64_t ra_levels_frames(const ra_levels *lv)
{
	return lv ? lv->frames : 0;
}

uint64_t ra_levels_nonfinite(const ra_levels *lv)
{
	uint64_t n = 0;

	for (int p = 0; lv && p < RA_PHASES; p++)
		for (size_t a = 0; a < lv->width; a++)
			n += (uint64_t)lv->acc[p].nonfinite[a];
	return n;
}

void ra_levels_reset(ra_levels *lv)
{
	if (!lv)
		return;
	memset(lv->acc[0].sum, 0, RA_PHASES * KINDS * lv->width * sizeof(double));
	lv->at = 0;
	lv->frames = 0;
}

void ra_levels_destroy(ra_levels *lv)
{
	if (!lv)
		return;
	free(lv->acc[0].sum);
	free(lv);
}
