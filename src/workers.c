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

/* One batch: its tasks, claimed by index from NEXT without the lock; the
 * rest under the pool's LOCK. Batch T (its ticket, from 1) lives in slot
 * (T - 1) % RA_WORKERS_BATCHES until it is retired. */
struct batch {
	alignas(CACHE_LINE) atomic_size_t next;
	size_t count;	  /* tasks */
	size_t completed; /* of them finished */
	int active;	  /* threads inside it: workers, and its caller helping */
	int workers;	  /* workers inside it */
	int cap;	  /* the most workers it takes: one fewer than the threads
			   * for a helped batch, whose caller runs tasks as it waits */
	ra_task tasks[RA_WORKERS_TASKS_MAX];
};

/* Batches are submitted in order and queue in a ring; a worker joins the
 * oldest one with tasks left to claim, so tasks start in submission order,
 * and the tasks of two batches may run at once. A batch is retired, its
 * slot free for reuse, once it and every older one are complete and no
 * thread is inside any of them (a late worker that found nothing left
 * must not claim an index of the slot's next batch).
 *
 * The caller runs no task of a plain batch: between submit and wait it is
 * free to read and write files. A helped batch leaves a thread's share to
 * its caller: at most THREADS - 1 workers take part, and the caller runs
 * what is left once it waits for it, instead of sleeping, so that the
 * caller's own work between submit and wait does not contend with all the
 * workers for the cores. */
struct ra_workers {
	alignas(CACHE_LINE) pthread_mutex_t lock;
	pthread_cond_t wake; /* workers: a new batch, or stop */
	pthread_cond_t done; /* callers: a batch complete, or one retired */
	uint64_t issued;     /* tickets handed out */
	uint64_t retired;    /* tickets up to this one are retired */
	bool stop;

	int threads;
	int started; /* threads created, for cleanup */
	atomic_uint_least64_t batches;
	atomic_uint_least64_t tasks_run;
	atomic_uint_least64_t wait_ns;
	atomic_uint_least64_t helped; /* tasks callers ran */
	struct ra_worker caller;      /* a caller helping: busy_ns, index THREADS */
	struct batch ring[RA_WORKERS_BATCHES];
	struct ra_worker worker[RA_WORKERS_MAX];
};

static struct batch *slot_of(ra_workers *w, uint64_t ticket)
{
	return &w->ring[(ticket - 1) % RA_WORKERS_BATCHES];
}

/* Claim and run tasks of B until none is left; the number run. Busy time
 * is read once around the run of tasks, not around each task: a clock
 * read costs 25-55 ns (kvm-clock), which would be felt with fine-grained
 * tasks, and between tasks there is only the claim. */
static size_t run_tasks(struct batch *b, struct ra_worker *self)
{
	size_t ran = 0, i;
	uint64_t start;

	i = atomic_fetch_add_explicit(&b->next, 1, memory_order_relaxed);
	if (i >= b->count)
		return 0;
	start = ra_now_ns();
	do {
		b->tasks[i].fn(b->tasks[i].arg, self->index);
		ran++;
		i = atomic_fetch_add_explicit(&b->next, 1, memory_order_relaxed);
	} while (i < b->count);
	atomic_fetch_add_explicit(&self->busy_ns, ra_now_ns() - start, memory_order_relaxed);
	return ran;
}

/* Under LOCK: the oldest batch with tasks left to claim and room for a
 * worker (any, once stopping: destroy finishes every batch), or NULL. */
static struct batch *open_batch(ra_workers *w)
{
	for (uint64_t t = w->retired + 1; t <= w->issued; t++) {
		struct batch *b = slot_of(w, t);

		if (atomic_load_explicit(&b->next, memory_order_relaxed) < b->count &&
		    (b->workers < b->cap || w->stop))
			return b;
	}
	return NULL;
}

/* Under LOCK: retire what can be, oldest first; true if any was. */
static bool retire(ra_workers *w)
{
	uint64_t before = w->retired;

	while (w->retired < w->issued) {
		struct batch *b = slot_of(w, w->retired + 1);

		if (b->completed < b->count || b->active)
			break;
		w->retired++;
	}
	return w->retired != before;
}

/* Under LOCK, which it lets go meanwhile: SELF runs tasks of batch B until
 * none is left to claim, and the callers are told when B is complete or
 * anything was retired; the number it ran. */
static size_t take_part(ra_workers *w, struct batch *b, struct ra_worker *self)
{
	size_t ran;

	b->active++;
	pthread_mutex_unlock(&w->lock);
	ran = run_tasks(b, self);
	pthread_mutex_lock(&w->lock);
	b->completed += ran;
	b->active--;
	if ((ran && b->completed == b->count) | retire(w))
		pthread_cond_broadcast(&w->done);
	return ran;
}

static void *worker_main(void *arg)
{
	struct ra_worker *self = arg;
	ra_workers *w = self->w;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct batch *b;

		/* A pending batch comes before stop: destroy finishes queued work. */
		while (!(b = open_batch(w)) && !w->stop)
			pthread_cond_wait(&w->wake, &w->lock);
		if (!b)
			break;
		b->workers++;
		take_part(w, b, self);
		b->workers--;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Tell the threads to stop once the batches in flight are done, and join them. */
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
	for (int i = 0; i < RA_WORKERS_BATCHES; i++)
		atomic_init(&w->ring[i].next, 0);
	atomic_init(&w->batches, 0);
	atomic_init(&w->tasks_run, 0);
	atomic_init(&w->wait_ns, 0);
	atomic_init(&w->helped, 0);
	atomic_init(&w->caller.busy_ns, 0);
	w->caller.w = w;
	w->caller.index = threads;
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

/* Queue COUNT (1..RA_WORKERS_TASKS_MAX) tasks as the next batch, once its
 * slot is free, for at most CAP workers; its ticket. */
static uint64_t publish(ra_workers *w, const ra_task *tasks, size_t count, int cap)
{
	struct batch *b;
	uint64_t ticket;

	pthread_mutex_lock(&w->lock);
	while (w->issued - w->retired >= RA_WORKERS_BATCHES)
		pthread_cond_wait(&w->done, &w->lock);
	ticket = w->issued + 1;
	b = slot_of(w, ticket);
	memcpy(b->tasks, tasks, count * sizeof(*tasks));
	b->count = count;
	b->completed = 0;
	b->cap = cap;
	atomic_store_explicit(&b->next, 0, memory_order_relaxed);
	w->issued = ticket;
	pthread_mutex_unlock(&w->lock);

	/* Wake no more workers than there are tasks, or than it takes. */
	if (count > (size_t)cap)
		count = (size_t)cap;
	if (count >= (size_t)w->threads) {
		pthread_cond_broadcast(&w->wake);
	} else {
		for (size_t i = 0; i < count; i++)
			pthread_cond_signal(&w->wake);
	}
	return ticket;
}

/* Under LOCK: whether batch TICKET is complete. */
static bool complete(ra_workers *w, uint64_t ticket)
{
	const struct batch *b = slot_of(w, ticket);

	return ticket <= w->retired || b->completed == b->count;
}

/* Under LOCK: the tasks of helped batch TICKET that no worker claimed,
 * run here; the time it took. */
static uint64_t help(ra_workers *w, uint64_t ticket)
{
	struct batch *b = slot_of(w, ticket);
	uint64_t before;

	if (ticket <= w->retired || b->cap == w->threads ||
	    atomic_load_explicit(&b->next, memory_order_relaxed) >= b->count)
		return 0;
	before = atomic_load_explicit(&w->caller.busy_ns, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->helped, take_part(w, b, &w->caller), memory_order_relaxed);
	return atomic_load_explicit(&w->caller.busy_ns, memory_order_relaxed) - before;
}

/* Wait until every batch up to LAST (all of them: w->issued) it names is
 * complete: LAST alone, running what is left of it if it is helped (not
 * counted as waiting), or with EVERY, each up to it, running nothing (a
 * helped batch is its own caller's to help). No spinning first,
 * here or in idle workers: on the 2-core target a bounded spin (3-30 us)
 * shortened empty round trips but gave no steady gain with real work
 * between batches, and a spinning thread takes a core a worker or the
 * caller's I/O needs. */
static void finish(ra_workers *w, uint64_t last, bool every)
{
	uint64_t start = ra_now_ns(), helping = 0;

	pthread_mutex_lock(&w->lock);
	if (!every)
		helping = help(w, last);
	for (uint64_t t = every ? w->retired + 1 : last; t <= last; t++)
		while (!complete(w, t))
			pthread_cond_wait(&w->done, &w->lock);
	pthread_mutex_unlock(&w->lock);
	atomic_fetch_add_explicit(&w->wait_ns, ra_now_ns() - start - helping, memory_order_relaxed);
}

/* Beyond the documented limit, tasks go in slices of RA_WORKERS_TASKS_MAX, each but the
 * last run to completion before this returns, rather than being dropped. */
static uint64_t submit(ra_workers *w, const ra_task *tasks, size_t count, int cap)
{
	uint64_t ticket;

	atomic_fetch_add_explicit(&w->batches, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->tasks_run, count, memory_order_relaxed);

	if (w->threads == 1) {
		uint64_t start = ra_now_ns();

		for (size_t i = 0; i < count; i++)
			tasks[i].fn(tasks[i].arg, 0);
		if (count)
			atomic_fetch_add_explicit(&w->worker[0].busy_ns, ra_now_ns() - start,
						  memory_order_relaxed);
		return ++w->issued;
	}

	for (; count > RA_WORKERS_TASKS_MAX;
	     tasks += RA_WORKERS_TASKS_MAX, count -= RA_WORKERS_TASKS_MAX)
		finish(w, publish(w, tasks, RA_WORKERS_TASKS_MAX, cap), false);
	if (count)
		return publish(w, tasks, count, cap);
	pthread_mutex_lock(&w->lock);
	ticket = w->issued;
	pthread_mutex_unlock(&w->lock);
	return ticket;
}

uint64_t ra_workers_submit(ra_workers *w, const ra_task *tasks, size_t count)
{
	return submit(w, tasks, count, w->threads);
}

uint64_t ra_workers_submit_helped(ra_workers *w, const ra_task *tasks, size_t count)
{
	return submit(w, tasks, count, w->threads - 1);
}

void ra_workers_wait_for(ra_workers *w, uint64_t ticket)
{
	if (w->threads > 1 && ticket > 0)
		finish(w, ticket, false);
}

void ra_workers_help(ra_workers *w, uint64_t ticket)
{
	if (w->threads == 1 || ticket == 0)
		return;
	pthread_mutex_lock(&w->lock);
	help(w, ticket);
	pthread_mutex_unlock(&w->lock);
}

void ra_workers_wait(ra_workers *w)
{
	uint64_t last;

	if (w->threads == 1)
		return;
	pthread_mutex_lock(&w->lock);
	last = w->issued;
	pthread_mutex_unlock(&w->lock);
	finish(w, last, true);
}

void ra_workers_run(ra_workers *w, const ra_task *tasks, size_t count)
{
	ra_workers_wait_for(w, ra_workers_submit(w, tasks, count));
}

void ra_workers_get_stats(const ra_workers *w, ra_workers_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	stats->threads = w->threads;
	stats->batches = atomic_load_explicit(&w->batches, memory_order_relaxed);
	stats->tasks = atomic_load_explicit(&w->tasks_run, memory_order_relaxed);
	stats->wait_ns = atomic_load_explicit(&w->wait_ns, memory_order_relaxed);
	stats->helped = atomic_load_explicit(&w->helped, memory_order_relaxed);
	stats->help_ns = atomic_load_explicit(&w->caller.busy_ns, memory_order_relaxed);
	for (int i = 0; i < w->threads; i++)
		stats->busy_ns[i] =
			atomic_load_explicit(&w->worker[i].busy_ns, memory_order_relaxed);
}

/* Threads leave only once no batch has tasks left to claim, and a worker
 * inside a batch runs tasks until none is left, so joining them is
 * waiting for the batches in flight. */
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
