/* -j: a batch's files on several threads at once, their outcomes handed
 * back on the calling thread in input order. */
#ifndef RA_CLI_RUNNER_H
#define RA_CLI_RUNNER_H

#include <signal.h>
#include <stddef.h>

typedef struct runner_calls {
	/* Item I on runner RUNNER (0..jobs-1), on that runner's thread. */
	void (*work)(void *ctx, size_t i, int runner);
	/* Item I's outcome, on the caller's thread, in order of I. */
	void (*done)(void *ctx, size_t i);
	void *ctx;
} runner_calls;

/* The items no further ahead of the oldest not yet done than this, in
 * runner slots: memory for outcomes stays bounded. */
#define RUNNER_AHEAD 2

/* Items 0..COUNT-1 through CALLS on JOBS threads (1: all on the caller's,
 * one after the other). No item starts once *CANCEL is set; those that
 * did are still handed to done(). Returns how many were handed over, or
 * -1 when a thread could not be started (before any item ran). */
long runner_run(size_t count, int jobs, const runner_calls *calls,
		const volatile sig_atomic_t *cancel);

#endif
