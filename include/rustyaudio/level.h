/* The levels of a stream, channel by channel: the sums of its samples and
 * of their squares, its peak, the samples at or beyond full scale, and the
 * samples that are not finite. What --analyze, --normalize and the
 * summary read, measured in one vectorized pass over interleaved floats.
 *
 * The sums are partial sums, each channel's samples dealt round a fixed
 * number of accumulators by their place in the stream, and those kept in
 * phases (phases.h), added up in a fixed order when read: the same bits
 * however the stream is cut into blocks or shared out, and closer to the
 * exact sum than one running total. */
#ifndef RUSTYAUDIO_LEVEL_H
#define RUSTYAUDIO_LEVEL_H

#include <stddef.h>
#include <stdint.h>

#include "rustyaudio/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ra_levels ra_levels;

/* One channel's levels. A NaN sample makes the sums NaN and is no peak;
 * an infinite one is a peak and clipped. */
typedef struct ra_level {
	double sum;	    /* of the samples */
	double sum_squares; /* of their squares */
	double peak;	    /* the largest magnitude, 0 for none */
	uint64_t clipped;   /* samples of magnitude 1 or more */
} ra_level;

/* The build of the loop the levels of 1, 2, 4, 8 or 16 channels run on
 * this CPU: "avx512f", "avx2" or "scalar" (the x86-64 baseline); every
 * build gives the same bits. */
const char *ra_levels_kernel(void);

/* Levels of CHANNELS (1..RA_MAX_CHANNELS) interleaved channels. NULL on
 * failure, with STATUS and DIAG: RA_ERR_INVALID, RA_ERR_NOMEM. */
ra_levels *ra_levels_create(int channels, ra_status *status, ra_diag *diag);

/* Add FRAMES interleaved frames of BUF (nothing for a NULL LV or BUF), the
 * stream's frames from where the last add, or ra_levels_seek(), left it.
 * No allocation. */
void ra_levels_add(ra_levels *lv, const float *buf, size_t frames);

/* The next frames added are the stream's from FRAME on. Levels that each
 * take a share of a stream (phases.h), a group at a time, from a seek to
 * the group's first frame, and are then merged give the bits of one that
 * took it all. */
void ra_levels_seek(ra_levels *lv, uint64_t frame);

/* Add FROM's sums, peaks, counts and frames to INTO's (of as many
 * channels; else nothing). Exact where FROM took phases INTO did not. */
void ra_levels_merge(ra_levels *into, const ra_levels *from);

/* Channel C's levels so far into *OUT (all zero for a C out of range). */
void ra_levels_get(const ra_levels *lv, int c, ra_level *out);

/* Frames added so far, and samples among them that are NaN or infinite. */
uint64_t ra_levels_frames(const ra_levels *lv);
uint64_t ra_levels_nonfinite(const ra_levels *lv);

/* Back to nothing added. */
void ra_levels_reset(ra_levels *lv);

/* NULL is a no-op. */
void ra_levels_destroy(ra_levels *lv);

#ifdef __cplusplus
}
#endif

#endif
