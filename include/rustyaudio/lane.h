/* A lane: one thread that runs a stage's items in the order they were
 * posted, behind a bounded queue. For a stage that must see its data in
 * order (an encoder, a dither sequence), so that it runs beside the thread
 * that feeds it instead of after it. Made once per process, like the
 * workers; without a thread (inline), post runs the item at once. */
#ifndef RUSTYAUDIO_LANE_H
#define RUSTYAUDIO_LANE_H

#include <stddef.h>
#include <stdint.h>

#include "rustyaudio/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RA_LANE_DEPTH_MAX 1024

typedef struct ra_lane ra_lane;

/* Run ITEM (of LEN units, the poster's to define) with CTX. SO_FAR is the first failure of an
 * earlier item since the last ra_lane_wait() (RA_OK if none): with one, the item should only be
 * given back, not worked on. What it returns is the item's status. */
typedef ra_status (*ra_lane_fn)(void *ctx, void *item, size_t len, ra_status so_far);

/* A lane with a thread and a queue of DEPTH items (1..RA_LANE_DEPTH_MAX);
 * an idle lane starts again only once half of them wait (or at a wait),
 * so that a wake-up is paid once per half queue, not per item. Or,
 * with THREADED = 0, a lane that runs every item inline in post. NULL on
 * failure with STATUS and DIAG (both optional). */
ra_lane *ra_lane_create(int threaded, size_t depth, ra_status *status, ra_diag *diag);

/* From now on at most DEPTH items (1 up to the depth it was made with)
 * wait in the queue. Only while nothing is queued (after a wait). */
void ra_lane_set_depth(ra_lane *l, size_t depth);

/* Whether the lane has a thread of its own. */
int ra_lane_threaded(const ra_lane *l);

/* Queue FN(CTX, ITEM, LEN, ...) after every item posted before it, waiting while
 * the queue is full; inline, run it now. The first failure of any item
 * since the last ra_lane_wait() (RA_OK if none yet), so that the poster
 * can stop early; every posted item still runs. One thread posts. */
ra_status ra_lane_post(ra_lane *l, ra_lane_fn fn, void *ctx, void *item, size_t len);

/* As ra_lane_post, but where that would wait for room, queue nothing and
 * return 0 at once; else 1, with the failure so far in *SO_FAR. */
int ra_lane_try_post(ra_lane *l, ra_lane_fn fn, void *ctx, void *item, size_t len,
		     ra_status *so_far);

/* Wait until every posted item has run; their first failure (RA_OK if
 * none), which is then forgotten: the lane is ready for the next stream. */
ra_status ra_lane_wait(ra_lane *l);

typedef struct ra_lane_stats {
	uint64_t items;	  /* run so far */
	uint64_t busy_ns; /* time the lane spent running items */
	uint64_t full_ns; /* time posters waited for room in the queue */
	uint64_t wait_ns; /* time spent in ra_lane_wait() */
} ra_lane_stats;

void ra_lane_get_stats(const ra_lane *l, ra_lane_stats *stats);

/* Run what is queued, stop and join the thread, free. NULL is a no-op. */
void ra_lane_destroy(ra_lane *l);

#ifdef __cplusplus
}
#endif

#endif
