/* A fixed pool of worker threads that run batches of independent tasks, and
 * the inline stand-in for it when there is one thread. */
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rustyaudio/workers.h"

#define CACHE_LINE 64

/* One worker thread; each on its own cache line so that the busy time one
 * thread adds after a batch does not bounce a line another thread uses. */
struct ra_worker {
	alignas(CACHE_LINE) atomic_uint_least64_t busy_ns;
	struct ra_workers *w;
	pthread_t thread;
	int index;
};

/* A batch is published under LOCK by bumping GENERATION; a worker joins it
 * under LOCK (ACTIVE++), claims task indices from NEXT without the lock until
 * they run out, and leaves under LOCK, adding what it ran to COMPLETED.
 *
 * A worker only joins the newest generation and only after it changed, so it
 * cannot run a batch twice; a worker that slept through a batch just finds
 * it finished. The next batch is published only when the previous one is
 * complete and no worker is still inside it (ACTIVE = 0), so a late worker
 * never claims an index of the next batch against the previous count.
 *
 * The caller never runs tasks of a multi-thread pool: between submit and
 * wait it is free to read and write files. */
struct ra_workers {
	/* Claimed by every worker for every task: a line of its own. */
	alignas(CACHE_LINE) atomic_size_t next;

	alignas(CACHE_LINE) pthread_mutex_t lock;
	pthread_cond_t wake; /* workers: a new generation, or stop */
	pthread_cond_t done; /* the caller: batch complete, or ACTIVE fell to 0 */
	uint64_t generation; /* batches published; 0 before the first */
	size_t count;	     /* tasks in the newest batch */
	size_t completed;    /* of them finished */
	int active;	     /* workers inside the newest batch */
	bool stop;

	int threads;
	int started; /* threads created, for cleanup */
	atomic_uint_least64_t batches;
	atomic_uint_least64_t tasks_run;
	atomic_uint_least64_t wait_ns;
	ra_task tasks[RA_WORKERS_TASKS_MAX];
	struct ra_worker worker[RA_WORKERS_MAX];
};

/* Claim and run tasks of the batch of COUNT tasks until none is left; the
 * number run. Busy time is read once around the run of tasks, not around
 * each task: a clock read costs 25-55 ns (kvm-clock), which would be felt with
 * fine-grained tasks, and between tasks there is only the claim. */
static size_t run_tasks(ra_workers *w, struct ra_worker *self, size_t count)
{
	size_t ran = 0, i;
	uint64_t start;

	i = atomic_fetch_add_explicit(&w->next, 1, memory_order_relaxed);
	if (i >= count)
		return 0;
	start = ra_now_ns();
	do {
		w->tasks[i].fn(w->tasks[i].arg, self->index);
		ran++;
		i = atomic_fetch_add_explicit(&w->next, 1, memory_order_relaxed);
	} while (i < count);
	atomic_fetch_add_explicit(&self->busy_ns, ra_now_ns() - start, memory_order_relaxed);
	return ran;
}

static void *worker_main(void *arg)
{
	struct ra_worker *self = arg;
	ra_workers *w = self->w;
	/* The generation at creation, not at the first lock: a batch published
	 * before this thread first ran is still one it may have to run. */
	uint64_t seen = 0;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		size_t count, ran;

		while (w->generation == seen && !w->stop)
			pthread_cond_wait(&w->wake, &w->lock);
		/* A pending batch comes before stop: destroy finishes queued work. */
		if (w->generation == seen)
			break;
		seen = w->generation;
		count = w->count;
		w->active++;
		pthread_mutex_unlock(&w->lock);

		ran = run_tasks(w, self, count);

		pthread_mutex_lock(&w->lock);
		w->completed += ran;
		w->active--;
		if ((ran && w->completed == count) || !w->active)
			pthread_cond_broadcast(&w->done);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Tell the threads to stop once the batch in flight is done, and join them. */
static void stop_threads(ra_workers *w)
{
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_mutex_unlock(&w->lock);
	pthread_cond_broadcast(&w->wake);
	for (int i = 0; i < w->started; i++)
		pthread_join(w->worker[i].thread, NULL);
}

int ra_workers_thread_count(int threads)
{
	long n = threads > 0 ? threads : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > RA_WORKERS_MAX ? RA_WORKERS_MAX : (int)n;
}

/* The lock, the condition variables and W->threads workers; false, with
 * nothing left behind, if any of them cannot be made. */
static bool start_threads(ra_workers *w)
{
	sigset_t all, old;

	if (pthread_mutex_init(&w->lock, NULL))
		goto out;
	if (pthread_cond_init(&w->wake, NULL))
		goto out_destroy_lock;
	if (pthread_cond_init(&w->done, NULL))
		goto out_destroy_wake;

	/* Workers take no asynchronous signals (they inherit this mask): a
	 * handler then always runs in a caller's thread, which polls the flag it
	 * sets. Faults stay deliverable so that a crash in a task is reported. */
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGTRAP);
	sigdelset(&all, SIGABRT);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	while (w->started < w->threads) {
		struct ra_worker *worker = &w->worker[w->started];

		if (pthread_create(&worker->thread, NULL, worker_main, worker))
			break;
		w->started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (w->started < w->threads)
		goto out_stop_threads;
	return true;

out_stop_threads:
	stop_threads(w);
	pthread_cond_destroy(&w->done);
out_destroy_wake:
	pthread_cond_destroy(&w->wake);
out_destroy_lock:
	pthread_mutex_destroy(&w->lock);
out:
	return false;
}

/* THREADS outside 0..RA_WORKERS_MAX is RA_ERR_INVALID, not clamped; 0 is the
 * online CPU count clamped to 1..RA_WORKERS_MAX. A thread that cannot be
 * created is RA_ERR_NOMEM (pthread_create fails for want of memory or of
 * the thread quota). */
ra_workers *ra_workers_create(int threads, ra_status *status, ra_diag *diag)
{
	ra_status st = RA_ERR_INVALID;
	ra_workers *w = NULL;

	if (threads == 0)
		threads = ra_workers_thread_count(0);
	if (threads < 1 || threads > RA_WORKERS_MAX) {
		ra_diag_set(diag, "%d threads: a pool has 1 to %d", threads, RA_WORKERS_MAX);
		goto out;
	}

	st = RA_ERR_NOMEM;
	/* sizeof is a multiple of the alignment, as aligned_alloc wants. */
	w = aligned_alloc(alignof(ra_workers), sizeof(*w));
	if (!w) {
		ra_diag_set(diag, "cannot allocate a pool of %d threads", threads);
		goto out;
	}
	memset(w, 0, sizeof(*w));
	w->threads = threads;
	atomic_init(&w->next, 0);
	atomic_init(&w->batches, 0);
	atomic_init(&w->tasks_run, 0);
	atomic_init(&w->wait_ns, 0);
	for (int i = 0; i < RA_WORKERS_MAX; i++) {
		atomic_init(&w->worker[i].busy_ns, 0);
		w->worker[i].w = w;
		w->worker[i].index = i;
	}
	/* One thread: no workers, no lock; submit runs the tasks itself. */
	if (threads > 1 && !start_threads(w))
		goto out_free;
	st = RA_OK;
	goto out;

out_free:
	ra_diag_set(diag, "cannot start %d threads", threads);
	free(w);
	w = NULL;
out:
	if (status)
		*status = st;
	return w;
}

int ra_workers_threads(const ra_workers *w)
{
	return w->threads;
}

/* Publish COUNT (1..RA_WORKERS_TASKS_MAX) tasks as the next generation. Waits first for
 * the previous batch to complete and for its last worker to leave it. */
static void publish(ra_workers *w, const ra_task *tasks, size_t count)
{
	pthread_mutex_lock(&w->lock);
	while (w->completed < w->count || w->active)
		pthread_cond_wait(&w->done, &w->lock);
	memcpy(w->tasks, tasks, count * sizeof(*tasks));
	w->count = count;
	w->completed = 0;
	atomic_store_explicit(&w->next, 0, memory_order_relaxed);
	w->generation++;
	pthread_mutex_unlock(&w->lock);

	/* Wake no more workers than there are tasks. */
	if (count >= (size_t)w->threads) {
		pthread_cond_broadcast(&w->wake);
	} else {
		for (size_t i = 0; i < count; i++)
			pthread_cond_signal(&w->wake);
	}
}

/* Sleep until the batch in flight is complete. No spinning first, here or
 * in idle workers: on the 2-core target a bounded spin (3-30 us) shortened
 * empty round trips but gave no steady gain with real work between
 * batches, and a spinning thread takes a core a worker or the caller's I/O
 * needs. */
static void finish(ra_workers *w)
{
	pthread_mutex_lock(&w->lock);
	while (w->completed < w->count)
		pthread_cond_wait(&w->done, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

/* Beyond the documented limit, tasks go in slices of RA_WORKERS_TASKS_MAX, each but the
 * last run to completion before this returns, rather than being dropped. A
 * batch still in flight is waited for (publish()). */
void ra_workers_submit(ra_workers *w, const ra_task *tasks, size_t count)
{
	atomic_fetch_add_explicit(&w->batches, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->tasks_run, count, memory_order_relaxed);

	if (w->threads == 1) {
		uint64_t start = ra_now_ns();

		for (size_t i = 0; i < count; i++)
			tasks[i].fn(tasks[i].arg, 0);
		if (count)
			atomic_fetch_add_explicit(&w->worker[0].busy_ns, ra_now_ns() - start,
						  memory_order_relaxed);
		return;
	}

	for (; count > RA_WORKERS_TASKS_MAX;
	     tasks += RA_WORKERS_TASKS_MAX, count -= RA_WORKERS_TASKS_MAX) {
		publish(w, tasks, RA_WORKERS_TASKS_MAX);
		finish(w);
	}
	if (count)
		publish(w, tasks, count);
}

void ra_workers_wait(ra_workers *w)
{
	uint64_t start;

	if (w->threads == 1)
		return;
	start = ra_now_ns();
	finish(w);
	atomic_fetch_add_explicit(&w->wait_ns, ra_now_ns() - start, memory_order_relaxed);
}

void ra_workers_run(ra_workers *w, const ra_task *tasks, size_t count)
{
	ra_workers_submit(w, tasks, count);
	ra_workers_wait(w);
}

void ra_workers_get_stats(const ra_workers *w, ra_workers_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	stats->threads = w->threads;
	stats->batches = atomic_load_explicit(&w->batches, memory_order_relaxed);
	stats->tasks = atomic_load_explicit(&w->tasks_run, memory_order_relaxed);
	stats->wait_ns = atomic_load_explicit(&w->wait_ns, memory_order_relaxed);
	for (int i = 0; i < w->threads; i++)
		stats->busy_ns[i] =
			atomic_load_explicit(&w->worker[i].busy_ns, memory_order_relaxed);
}

/* Threads leave only once they have seen the newest generation, and a
 * worker that sees it runs tasks until none is left, so joining them is
 * waiting for the batch in flight. */
void ra_workers_destroy(ra_workers *w)
{
	if (!w)
		return;
	if (w->threads > 1) {
		stop_threads(w);
		pthread_cond_destroy(&w->done);
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
	}
	free(w);
}
