/* A pool of equal-sized, 64-byte aligned buffers made once, handed out and
 * taken back without locks. When every buffer is out, acquire falls back to
 * a fresh aligned allocation (a miss), freed again on release; the counters
 * show how often that happened. */
#ifndef RUSTYAUDIO_POOL_H
#define RUSTYAUDIO_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "rustyaudio/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RA_POOL_ALIGN 64

typedef struct ra_pool ra_pool;

typedef struct ra_pool_stats {
	uint64_t acquires; /* calls to ra_pool_acquire */
	uint64_t hits;	   /* served from the pool */
	uint64_t misses;   /* served by a fresh allocation */
	size_t buffers;	   /* buffers the pool owns */
	size_t buffer_bytes;
} ra_pool_stats;

/* COUNT buffers (>= 1) of BYTES bytes (>= 1) each, in one allocation;
 * from 2 MiB on in whole 2 MiB pages, with transparent huge pages asked
 * for (Linux's MADV_HUGEPAGE: fewer page faults and TLB misses). NULL on
 * failure, with STATUS and DIAG: RA_ERR_INVALID for sizes out of
 * range, RA_ERR_NOMEM. */
ra_pool *ra_pool_create(size_t bytes, size_t count, ra_status *status, ra_diag *diag);

/* A buffer of the pool's size, 64-byte aligned, contents unspecified.
 * Safe to call from any thread. NULL only when the pool is exhausted and
 * the fallback allocation fails. */
void *ra_pool_acquire(ra_pool *pool);

/* Give back a buffer from ra_pool_acquire. Any thread. BUF or POOL NULL
 * is a no-op. */
void ra_pool_release(ra_pool *pool, void *buf);

/* Counters so far (a consistent snapshot need not be exact under
 * concurrent use). Allocations saved = hits. */
void ra_pool_get_stats(const ra_pool *pool, ra_pool_stats *stats);

/* Free the pool. Every buffer must have been released. NULL is a no-op. */
void ra_pool_destroy(ra_pool *pool);

#ifdef __cplusplus
}
#endif

#endif
