/* -j: runner threads claim items in order, no more than RUNNER_AHEAD
 * times the runners past the oldest outcome not yet handed over; the
 * caller hands outcomes over in order as they finish. */
#include <pthread.h>
#include <stdlib.h>

#include "rustyaudio/status.h"

#include "runner.h"

typedef struct runner {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	const runner_calls *calls;
	const volatile sig_atomic_t *cancel;
	size_t count, window;
	size_t next;	      /* the next item to claim */
	size_t handed;	      /* items handed over */
	unsigned char *ready; /* finished, by item modulo the window */
	int active;	      /* runner threads still claiming */
} runner;

typedef struct runner_thread {
	runner *r;
	int index;
	pthread_t thread;
} runner_thread;

/* No item to take. */
#define NO_ITEM ((size_t)-1)

/* The next item for a runner, or NO_ITEM when there is none to take. COUNT
 * is read under the lock: a failed start sets it to 0 while the runners
 * that did start may be claiming. */
static size_t claim(runner *r)
{
	size_t i;

	pthread_mutex_lock(&r->lock);
	while (r->next < r->count && r->next >= r->handed + r->window &&
	       !ra_stop_requested(r->cancel))
		pthread_cond_wait(&r->changed, &r->lock);
	i = ra_stop_requested(r->cancel) || r->next >= r->count ? NO_ITEM : r->next++;
	if (i == NO_ITEM)
		r->active--;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	return i;
}

static void *runner_main(void *arg)
{
	runner_thread *t = arg;
	runner *r = t->r;
	size_t i;

	while ((i = claim(r)) != NO_ITEM) {
		r->calls->work(r->calls->ctx, i, t->index);
		pthread_mutex_lock(&r->lock);
		r->ready[i % r->window] = 1;
		pthread_cond_broadcast(&r->changed);
		pthread_mutex_unlock(&r->lock);
	}
	return NULL;
}

/* Hand over each item in order as it finishes, until none is left to
 * finish. */
static void hand_over(runner *r)
{
	for (;;) {
		size_t i = r->handed;

		pthread_mutex_lock(&r->lock);
		while (!r->ready[i % r->window] && !(i >= r->next && r->active == 0))
			pthread_cond_wait(&r->changed, &r->lock);
		if (!r->ready[i % r->window]) {
			pthread_mutex_unlock(&r->lock);
			return;
		}
		r->ready[i % r->window] = 0;
		pthread_mutex_unlock(&r->lock);
		r->calls->done(r->calls->ctx, i);
		pthread_mutex_lock(&r->lock);
		r->handed++;
		pthread_cond_broadcast(&r->changed);
		pthread_mutex_unlock(&r->lock);
	}
}

static long run_inline(size_t count, const runner_calls *calls, const volatile sig_atomic_t *cancel)
{
	size_t i;

	for (i = 0; i < count && !ra_stop_requested(cancel); i++) {
		calls->work(calls->ctx, i, 0);
		calls->done(calls->ctx, i);
	}
	return (long)i;
}

long runner_run(size_t count, int jobs, const runner_calls *calls,
		const volatile sig_atomic_t *cancel)
{
	runner r = { .calls = calls, .cancel = cancel, .count = count };
	runner_thread *threads;
	int started = 0;

	if (jobs <= 1 || count <= 1)
		return run_inline(count, calls, cancel);
	r.window = (size_t)jobs * RUNNER_AHEAD;
	r.ready = calloc(r.window, 1);
	threads = calloc((size_t)jobs, sizeof(*threads));
	if (!r.ready || !threads) {
		free(r.ready);
		free(threads);
		return -1;
	}
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.changed, NULL);
	r.active = jobs;
	for (; started < jobs; started++) {
		threads[started] = (runner_thread){ &r, started, 0 };
		if (pthread_create(&threads[started].thread, NULL, runner_main, &threads[started]))
			break;
	}
	if (started < jobs) {
		/* The ones that did start finish what they claimed and stop. */
		pthread_mutex_lock(&r.lock);
		r.active -= jobs - started;
		r.count = 0;
		pthread_mutex_unlock(&r.lock);
	}
	hand_over(&r);
	for (int t = 0; t < started; t++)
		pthread_join(threads[t].thread, NULL);
	pthread_cond_destroy(&r.changed);
	pthread_mutex_destroy(&r.lock);
	free(threads);
	free(r.ready);
	return started < jobs ? -1 : (long)r.handed;
}
