/* One thread that runs posted items in order behind a bounded ring, and the
 * inline stand-in for it. */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

#include "rustyaudio/lane.h"

typedef struct entry {
	ra_lane_fn fn;
	void *ctx;
	void *item;
	size_t len;
} entry;

/* Everything below LOCK is under it. The lane thread takes the oldest
 * entry, runs it without the lock, and then reports; the poster waits on
 * ROOM while the ring is full, ra_lane_wait() while anything is queued or
 * running. An idle lane is woken only once WAKE_AT entries wait (or by a
 * wait or destroy), and a poster that found the queue full only once
 * WAKE_AT entries have left it, so that a wake-up, some microseconds, is
 * paid once per half queue and not per item. */
struct ra_lane {
	bool threaded;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t more; /* the lane: an entry, or stop */
	pthread_cond_t room; /* posters and waiters: an entry ran */
	size_t capacity;     /* entries in RING */
	size_t depth, head, count, wake_at;
	bool idle;    /* the lane sleeps on MORE */
	bool running; /* an entry is out of the ring, running */
	bool stop;
	int waiting; /* posters and waiters asleep on ROOM */
	ra_status failure;
	ra_lane_stats stats;
	entry ring[];
};

/* Run E with the failure so far and book it. Under the lock on entry and
 * exit; without it while E runs when threaded. */
static void run_entry(ra_lane *l, entry e)
{
	ra_status so_far = l->failure, st;
	uint64_t start;

	if (l->threaded)
		pthread_mutex_unlock(&l->lock);
	start = ra_now_ns();
	st = e.fn(e.ctx, e.item, e.len, so_far);
	start = ra_now_ns() - start;
	if (l->threaded)
		pthread_mutex_lock(&l->lock);
	if (l->failure == RA_OK)
		l->failure = st;
	l->stats.busy_ns += start;
	l->stats.items++;
}

static void *lane_main(void *arg)
{
	ra_lane *l = arg;

	pthread_mutex_lock(&l->lock);
	for (;;) {
		entry e;

		while (l->count == 0 && !l->stop) {
			l->idle = true;
			pthread_cond_wait(&l->more, &l->lock);
			l->idle = false;
		}
		if (l->count == 0)
			break; /* stop, and nothing left to run */
		e = l->ring[l->head];
		l->head = (l->head + 1) % l->depth;
		l->count--;
		l->running = true;
		run_entry(l, e);
		l->running = false;
		/* A full queue's poster is woken once half of it has run, not
		 * for every item: the two threads do not take turns per item. */
		if (l->waiting && l->count <= l->depth - l->wake_at)
			pthread_cond_broadcast(&l->room);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/* The lane's thread, with every signal blocked: they belong to the
 * program's main thread. */
static ra_status start_thread(ra_lane *l, ra_diag *diag)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&l->thread, NULL, lane_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		ra_diag_set(diag, "cannot start the lane's thread");
		return RA_ERR_NOMEM;
	}
	return RA_OK;
}

ra_lane *ra_lane_create(int threaded, size_t depth, ra_status *status, ra_diag *diag)
{
	ra_status st = RA_ERR_INVALID;
	ra_lane *l = NULL;

	if (depth < 1 || depth > RA_LANE_DEPTH_MAX) {
		ra_diag_set(diag, "a lane's depth must be 1 to %d", RA_LANE_DEPTH_MAX);
		goto out;
	}
	st = RA_ERR_NOMEM;
	l = calloc(1, sizeof(*l) + depth * sizeof(l->ring[0]));
	if (!l) {
		ra_diag_set(diag, "cannot allocate a lane");
		goto out;
	}
	l->capacity = depth;
	ra_lane_set_depth(l, depth);
	if (pthread_mutex_init(&l->lock, NULL) != 0) {
		free(l);
		l = NULL;
		ra_diag_set(diag, "cannot make the lane's lock");
		goto out;
	}
	pthread_cond_init(&l->more, NULL);
	pthread_cond_init(&l->room, NULL);
	st = RA_OK;
	if (threaded) {
		st = start_thread(l, diag);
		l->threaded = st == RA_OK;
	}
	if (st != RA_OK) {
		ra_lane_destroy(l);
		l = NULL;
	}
out:
	if (status)
		*status = st;
	return l;
}

void ra_lane_set_depth(ra_lane *l, size_t depth)
{
	depth = depth < 1 ? 1 : depth > l->capacity ? l->capacity : depth;
	if (l->threaded)
		pthread_mutex_lock(&l->lock);
	if (l->count == 0) {
		l->head = 0;
		l->depth = depth;
		l->wake_at = (depth + 1) / 2;
	}
	if (l->threaded)
		pthread_mutex_unlock(&l->lock);
}

int ra_lane_threaded(const ra_lane *l)
{
	return l->threaded;
}

/* Sleep on ROOM once (the caller loops on its condition), the time to *NS. */
static void wait_room(ra_lane *l, uint64_t *ns)
{
	uint64_t start = ra_now_ns();

	l->waiting++;
	pthread_cond_wait(&l->room, &l->lock);
	l->waiting--;
	*ns += ra_now_ns() - start;
}

/* Queue E, waiting for room if WAIT, else not at all: whether it was
 * queued (or run, inline), and the failure so far in *SO_FAR if so. */
static int post(ra_lane *l, entry e, bool wait, ra_status *so_far)
{
	if (!l->threaded) {
		run_entry(l, e);
		*so_far = l->failure;
		return 1;
	}
	pthread_mutex_lock(&l->lock);
	if (!wait && l->count == l->depth) {
		pthread_mutex_unlock(&l->lock);
		return 0;
	}
	while (l->count == l->depth)
		wait_room(l, &l->stats.full_ns);
	l->ring[(l->head + l->count) % l->depth] = e;
	if (++l->count >= l->wake_at && l->idle)
		pthread_cond_signal(&l->more);
	*so_far = l->failure;
	pthread_mutex_unlock(&l->lock);
	return 1;
}

ra_status ra_lane_post(ra_lane *l, ra_lane_fn fn, void *ctx, void *item, size_t len)
{
	ra_status st;

	post(l, (entry){ fn, ctx, item, len }, true, &st);
	return st;
}

int ra_lane_try_post(ra_lane *l, ra_lane_fn fn, void *ctx, void *item, size_t len,
		     ra_status *so_far)
{
	return post(l, (entry){ fn, ctx, item, len }, false, so_far);
}

ra_status ra_lane_wait(ra_lane *l)
{
	ra_status st;

	if (l->threaded) {
		pthread_mutex_lock(&l->lock);
		if (l->count > 0)
			pthread_cond_signal(&l->more);
		while (l->count > 0 || l->running)
			wait_room(l, &l->stats.wait_ns);
	}
	st = l->failure;
	l->failure = RA_OK;
	if (l->threaded)
		pthread_mutex_unlock(&l->lock);
	return st;
}

void ra_lane_get_stats(const ra_lane *l, ra_lane_stats *stats)
{
	ra_lane *m = (ra_lane *)l; /* the lock, not the lane, changes */

	if (l->threaded)
		pthread_mutex_lock(&m->lock);
	*stats = l->stats;
	if (l->threaded)
		pthread_mutex_unlock(&m->lock);
}

void ra_lane_destroy(ra_lane *l)
{
	if (!l)
		return;
	if (l->threaded) {
		pthread_mutex_lock(&l->lock);
		l->stop = true;
		pthread_cond_signal(&l->more);
		pthread_mutex_unlock(&l->lock);
		pthread_join(l->thread, NULL);
	}
	pthread_cond_destroy(&l->more);
	pthread_cond_destroy(&l->room);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
