/* A fixed pool of worker threads, made once per process. The caller hands
 * it a batch of independent tasks and later waits for the batch; idle
 * workers sleep on a condition variable, nothing is spawned per batch.
 * With one thread there are no workers at all: batches run inline in the
 * caller, in order. */
#ifndef RUSTYAUDIO_WORKERS_H
#define RUSTYAUDIO_WORKERS_H

#include <stddef.h>
#include <stdint.h>

#include "rustyaudio/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RA_WORKERS_MAX 64
#define RA_WORKERS_TASKS_MAX (RA_WORKERS_MAX * 4) /* tasks in one batch */

typedef struct ra_workers ra_workers;

/* One task: FN(ARG, WORKER) where WORKER is the index (0..threads-1) of the
 * thread that runs it, for per-thread scratch; threads for the caller of a
 * helped batch (ra_workers_submit_helped), so such a batch's tasks need
 * threads + 1 scratch. */
typedef void (*ra_task_fn)(void *arg, int worker);

typedef struct ra_task {
	ra_task_fn fn;
	void *arg;
} ra_task;

/* THREADS threads (1..RA_WORKERS_MAX; 0 means the number of online CPUs).
 * THREADS = 1 starts no thread. NULL on failure, with STATUS and DIAG:
 * RA_ERR_INVALID for THREADS out of range, RA_ERR_NOMEM when memory or a
 * thread cannot be had. */
ra_workers *ra_workers_create(int threads, ra_status *status, ra_diag *diag);

/* The number of threads that run tasks. */
int ra_workers_threads(const ra_workers *w);

/* How many threads ra_workers_create(THREADS) would run tasks on: THREADS,
 * or for 0 the online CPUs (at most RA_WORKERS_MAX). */
int ra_workers_thread_count(int threads);

/* Batches that can be in flight at once; one more submit waits for the
 * oldest to finish. */
#define RA_WORKERS_BATCHES 4

/* Start COUNT tasks (the array is copied; at most RA_WORKERS_TASKS_MAX) and
 * return at once with the batch's ticket; with one thread they run now,
 * before returning. Batches queue: workers start their tasks in
 * submission order, and the tasks of one batch may run while those of an
 * earlier one still do, so that two users of the pool on one thread (the
 * processor and the resampler) each keep theirs in flight. */
uint64_t ra_workers_submit(ra_workers *w, const ra_task *tasks, size_t count);

/* As ra_workers_submit, for at most THREADS - 1 workers at once: the
 * caller runs the tasks no worker has claimed when it waits for the batch
 * (ra_workers_wait_for with its ticket), as a thread of its own (its
 * task's WORKER is THREADS), so that what it does meanwhile (reading the
 * next input) does not contend with every worker for the cores. One thread
 * at a time may wait for helped batches. */
uint64_t ra_workers_submit_helped(ra_workers *w, const ra_task *tasks, size_t count);

/* Run the tasks of helped batch TICKET that no worker has claimed yet,
 * here and now, without waiting for those that are claimed; for a caller
 * that would otherwise sit idle before it waits (0, a finished batch or
 * one thread: nothing). */
void ra_workers_help(ra_workers *w, uint64_t ticket);

/* Wait until every task of batch TICKET has finished (0: none). */
void ra_workers_wait_for(ra_workers *w, uint64_t ticket);

/* Wait until every batch submitted so far has finished; this runs no task,
 * not even of a helped batch (its own caller's to help). */
void ra_workers_wait(ra_workers *w);

/* Submit and wait for that batch. */
void ra_workers_run(ra_workers *w, const ra_task *tasks, size_t count);

typedef struct ra_workers_stats {
	int threads;
	uint64_t batches;
	uint64_t tasks;
	uint64_t busy_ns[RA_WORKERS_MAX]; /* time each thread spent in tasks */
	uint64_t wait_ns;		  /* time callers spent waiting for batches, */
	uint64_t helped;		  /* tasks callers ran as they waited, */
	uint64_t help_ns;		  /* and the time that took (not in wait_ns) */
} ra_workers_stats;

void ra_workers_get_stats(const ra_workers *w, ra_workers_stats *stats);

/* Finish the batch in flight, stop and join the threads, free. NULL is a
 * no-op. */
void ra_workers_destroy(ra_workers *w);

#ifdef __cplusplus
}
#endif

#endif
