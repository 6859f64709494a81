/* Unit tests for the worker pool: every task of a batch runs exactly once for
 * any thread count, results are visible after wait, worker indices are
 * per-thread, one thread runs inline, a helped batch leaves a thread's share
 * to its waiting caller, and destroy finishes queued work. */
#include <check.h>
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rustyaudio/workers.h"
#include "testutil.h"

#define TASKS_MAX (RA_WORKERS_MAX * 4)
#define SLICE 64 /* values each task writes */

/* pthread_create, replaced so that a test can make it fail: this program's
 * definition is bound before libc's (or a sanitizer's), and forwards to the
 * next one. The budget is the one writable global of this program. */
static atomic_int create_budget = -1; /* threads that may still start; -1: any */

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	int (*next)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
	int budget = atomic_load(&create_budget);

	while (budget > 0 && !atomic_compare_exchange_weak(&create_budget, &budget, budget - 1))
		;
	if (budget == 0)
		return EAGAIN;
	*(void **)&next = dlsym(RTLD_NEXT, "pthread_create");
	return next(thread, attr, fn, arg);
}

/* Shared by the tasks of one test; each task gets a slot of its own. */
typedef struct batch_ctx {
	int threads;
	pthread_t caller;
	atomic_int runs[3 * TASKS_MAX];	    /* times task i ran */
	double out[3 * TASKS_MAX][SLICE];   /* written plainly by task i */
	atomic_int order_next;		    /* inline order check */
	int order[3 * TASKS_MAX];	    /* position at which task i ran */
	atomic_int bad;			    /* anything a task found wrong */
	atomic_int finished;		    /* tasks done so far */
	atomic_bool ran_on[RA_WORKERS_MAX]; /* workers that ran a task */
	useconds_t sleep_us;		    /* each task sleeps this long */
	pid_t caller_tid;		    /* the caller's thread, for gated_task */
	atomic_bool waiting;		    /* the caller is about to wait */
	double salt;			    /* changes per batch */
} batch_ctx;

typedef struct task_arg {
	batch_ctx *ctx;
	int index;
} task_arg;

/* Read for an assertion, whose message shows the expression as written. */
static int load(atomic_int *value)
{
	return atomic_load(value);
}

static void count_task(void *p, int worker)
{
	task_arg *arg = p;
	batch_ctx *ctx = arg->ctx;

	if (worker < 0 || worker >= ctx->threads) {
		atomic_fetch_add(&ctx->bad, 1);
		return;
	}
	atomic_store(&ctx->ran_on[worker], true);
	if (ctx->sleep_us)
		usleep(ctx->sleep_us);
	for (int k = 0; k < SLICE; k++)
		ctx->out[arg->index][k] = arg->index * 1000.0 + k + ctx->salt;
	atomic_fetch_add(&ctx->runs[arg->index], 1);
	atomic_fetch_add(&ctx->finished, 1);
}

static ra_workers *create_ok(int threads)
{
	ra_status st = RA_ERR_INVALID;
	ra_workers *w = ra_workers_create(threads, &st, NULL);

	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(st, RA_OK);
	return w;
}

/* A context and COUNT tasks of FN over it, task i with index i. */
static batch_ctx *make_batch(int threads, ra_task_fn fn, ra_task *tasks, task_arg *args,
			     size_t count)
{
	batch_ctx *ctx = calloc(1, sizeof(*ctx));

	ck_assert_ptr_nonnull(ctx);
	ctx->threads = threads;
	ctx->caller = pthread_self();
	for (size_t i = 0; i < count; i++) {
		args[i] = (task_arg){ ctx, (int)i };
		tasks[i] = (ra_task){ fn, &args[i] };
	}
	return ctx;
}

/* Every task of COUNT ran exactly TIMES times and left its slice for SALT. */
static void assert_ran(batch_ctx *ctx, size_t count, int times)
{
	size_t wrong_runs = 0, wrong_out = 0;

	/* Tallied, then asserted once: an assertion per value is slow. */
	for (size_t i = 0; i < 3 * TASKS_MAX; i++)
		wrong_runs += atomic_load(&ctx->runs[i]) != (i < count ? times : 0);
	for (size_t i = 0; i < count; i++)
		for (int k = 0; k < SLICE; k++)
			wrong_out += ctx->out[i][k] != (double)i * 1000.0 + k + ctx->salt;
	ck_assert_int_eq(load(&ctx->bad), 0);
	ck_assert_uint_eq(wrong_runs, 0);
	ck_assert_uint_eq(wrong_out, 0);
}

/* ---- behaviour ---- */

START_TEST(test_every_task_once)
{
	static const int threads[] = { 1, 2, 3, 8 };
	static const size_t sizes[] = { 1, 2, 7, 64, 256 };
	ra_task tasks[TASKS_MAX];
	task_arg args[TASKS_MAX];

	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		ra_workers *w = create_ok(threads[t]);

		ck_assert_int_eq(ra_workers_threads(w), threads[t]);
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			batch_ctx *ctx = make_batch(threads[t], count_task, tasks, args, sizes[s]);

			/* Three batches on the same tasks: each runs once per batch. */
			for (int b = 1; b <= 3; b++) {
				ctx->salt = b;
				ra_workers_submit(w, tasks, sizes[s]);
				ra_workers_wait(w);
				assert_ran(ctx, sizes[s], b);
			}
			free(ctx);
		}
		ra_workers_destroy(w);
	}
}
END_TEST

typedef struct chain_arg {
	atomic_int *done_in_batch;
	long *sum; /* plain: published to the caller by wait */
	long value;
} chain_arg;

static void add_task(void *p, int worker)
{
	chain_arg *arg = p;

	(void)worker;
	*arg->sum = arg->value;
	atomic_fetch_add(arg->done_in_batch, 1);
}

/* 10,000 batches of varying size back to back: each is complete when its
 * wait returns, and nothing leaks into the next. */
START_TEST(test_many_batches)
{
	enum { BATCHES = 10000, MAX_SIZE = 9 };
	static const int threads[] = { 2, 3 };

	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		ra_workers *w = create_ok(threads[t]);
		ra_task tasks[MAX_SIZE];
		chain_arg args[MAX_SIZE];
		long sums[MAX_SIZE];
		atomic_int done_in_batch;
		ra_workers_stats stats;
		int wrong = 0;

		for (int i = 0; i < MAX_SIZE; i++) {
			args[i] = (chain_arg){ &done_in_batch, &sums[i], 0 };
			tasks[i] = (ra_task){ add_task, &args[i] };
		}
		for (int b = 0; b < BATCHES; b++) {
			int size = b % MAX_SIZE + 1;

			atomic_store(&done_in_batch, 0);
			for (int i = 0; i < size; i++) {
				args[i].value = (long)b * MAX_SIZE + i;
				sums[i] = -1;
			}
			ra_workers_submit(w, tasks, (size_t)size);
			ra_workers_wait(w);
			wrong += atomic_load(&done_in_batch) != size;
			for (int i = 0; i < size; i++)
				wrong += sums[i] != (long)b * MAX_SIZE + i;
		}
		ck_assert_int_eq(wrong, 0);
		ra_workers_get_stats(w, &stats);
		ck_assert_uint_eq(stats.batches, BATCHES);
		ck_assert_uint_eq(stats.tasks,
				  (BATCHES / MAX_SIZE) * (MAX_SIZE * (MAX_SIZE + 1) / 2) +
					  (BATCHES % MAX_SIZE) * (BATCHES % MAX_SIZE + 1) / 2);
		ra_workers_destroy(w);
	}
}
END_TEST

/* Per-thread scratch: indexed by the worker index, never used by two tasks
 * at once, and always by the same thread. The plain writes let TSan see any
 * sharing too. */
typedef struct scratch {
	atomic_int owners;
	atomic_bool claimed;
	pthread_t thread;
	long data[32];
} scratch;

typedef struct scratch_ctx {
	int threads;
	scratch slot[RA_WORKERS_MAX];
	atomic_int bad;
} scratch_ctx;

static void scratch_task(void *p, int worker)
{
	scratch_ctx *ctx = p;
	scratch *s;
	long mark = (long)(uintptr_t)&s;

	if (worker < 0 || worker >= ctx->threads) {
		atomic_fetch_add(&ctx->bad, 1);
		return;
	}
	s = &ctx->slot[worker];
	if (atomic_fetch_add(&s->owners, 1) != 0)
		atomic_fetch_add(&ctx->bad, 1);
	if (!atomic_exchange(&s->claimed, true))
		s->thread = pthread_self();
	else if (!pthread_equal(s->thread, pthread_self()))
		atomic_fetch_add(&ctx->bad, 1);
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 32; i++)
			s->data[i] = mark + i + round;
		for (int i = 0; i < 32; i++)
			if (s->data[i] != mark + i + round)
				atomic_fetch_add(&ctx->bad, 1);
	}
	atomic_fetch_sub(&s->owners, 1);
}

START_TEST(test_worker_index_per_thread)
{
	static const int threads[] = { 1, 2, 3, 8 };

	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		ra_workers *w = create_ok(threads[t]);
		scratch_ctx *ctx = calloc(1, sizeof(*ctx));
		ra_task tasks[TASKS_MAX];

		ck_assert_ptr_nonnull(ctx);
		ctx->threads = threads[t];
		for (int i = 0; i < TASKS_MAX; i++)
			tasks[i] = (ra_task){ scratch_task, ctx };
		for (int b = 0; b < 50; b++)
			ra_workers_run(w, tasks, TASKS_MAX);
		ck_assert_int_eq(load(&ctx->bad), 0);
		/* Distinct indices are distinct threads. */
		for (int i = 0; i < threads[t]; i++)
			for (int j = 0; j < i; j++)
				if (atomic_load(&ctx->slot[i].claimed) &&
				    atomic_load(&ctx->slot[j].claimed))
					ck_assert(!pthread_equal(ctx->slot[i].thread,
								 ctx->slot[j].thread));
		ra_workers_destroy(w);
		free(ctx);
	}
}
END_TEST

static void order_task(void *p, int worker)
{
	task_arg *arg = p;
	batch_ctx *ctx = arg->ctx;

	if (worker != 0 || !pthread_equal(pthread_self(), ctx->caller))
		atomic_fetch_add(&ctx->bad, 1);
	ctx->order[arg->index] = atomic_fetch_add(&ctx->order_next, 1);
	atomic_fetch_add(&ctx->runs[arg->index], 1);
}

START_TEST(test_one_thread_runs_inline_in_order)
{
	ra_workers *w = create_ok(1);
	ra_task tasks[100];
	task_arg args[100];
	batch_ctx *ctx = make_batch(1, order_task, tasks, args, 100);
	ra_workers_stats stats;

	ra_workers_submit(w, tasks, 100);
	/* Already done before wait. */
	ck_assert_int_eq(load(&ctx->order_next), 100);
	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(ctx->order[i], i);
		ck_assert_int_eq(load(&ctx->runs[i]), 1);
	}
	ck_assert_int_eq(load(&ctx->bad), 0);
	ra_workers_wait(w);
	ra_workers_get_stats(w, &stats);
	ck_assert_int_eq(stats.threads, 1);
	ck_assert_uint_eq(stats.batches, 1);
	ck_assert_uint_eq(stats.tasks, 100);
	ra_workers_destroy(w);
	free(ctx);
}
END_TEST

/* Whether the thread TID is asleep (state S in /proc): blocked on a lock or
 * a condition variable, not merely descheduled. */
static bool thread_sleeping(pid_t tid)
{
	char path[64], stat[512], *end;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[n] = '\0';
	/* "tid (name) S ...": the name may hold anything but ends at the last ')'. */
	end = strrchr(stat, ')');
	ck_assert_ptr_nonnull(end);
	return end[1] == ' ' && end[2] == 'S';
}

/* Away from the caller, start only once the caller sleeps in
 * ra_workers_wait, then take sleep_us: the batch cannot be done before
 * submit returns, and the wait lasts for a task at least. */
static void gated_task(void *p, int worker)
{
	task_arg *arg = p;
	batch_ctx *ctx = arg->ctx;

	if (pthread_equal(pthread_self(), ctx->caller)) {
		atomic_fetch_add(&ctx->bad, 1);
	} else {
		while (!atomic_load(&ctx->waiting) || !thread_sleeping(ctx->caller_tid))
			sched_yield();
	}
	count_task(p, worker);
}

/* The caller is free between submit and wait: tasks run elsewhere, none is
 * done when submit returns, and the wait's time is counted. */
START_TEST(test_caller_free_between_submit_and_wait)
{
	ra_workers *w = create_ok(2);
	ra_task tasks[8];
	task_arg args[8];
	batch_ctx *ctx = make_batch(2, gated_task, tasks, args, 8);
	ra_workers_stats stats;

	ctx->sleep_us = 1000;
	ctx->caller_tid = gettid();
	ra_workers_submit(w, tasks, 8);
	ck_assert_int_eq(load(&ctx->finished), 0);
	/* Nothing between this store and the wait blocks. */
	atomic_store(&ctx->waiting, true);
	ra_workers_wait(w);
	assert_ran(ctx, 8, 1);
	ra_workers_get_stats(w, &stats);
	/* Two threads for eight tasks: one ran four at least, after the wait began. */
	ck_assert_uint_ge(stats.wait_ns, 4 * 1000 * 1000u);
	ra_workers_destroy(w);
	free(ctx);
}
END_TEST

START_TEST(test_stats_exact)
{
	static const int threads[] = { 1, 2, 3 };

	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		ra_workers *w = create_ok(threads[t]);
		ra_task tasks[12];
		task_arg args[12];
		batch_ctx *ctx = make_batch(threads[t], count_task, tasks, args, 12);
		ra_workers_stats stats;
		uint64_t busy = 0;

		ctx->sleep_us = 2000;
		ra_workers_run(w, tasks, 5);
		ra_workers_run(w, tasks, 12);
		ra_workers_submit(w, tasks, 0);
		ra_workers_wait(w);
		ra_workers_get_stats(w, &stats);
		ck_assert_int_eq(stats.threads, threads[t]);
		ck_assert_uint_eq(stats.batches, 3);
		ck_assert_uint_eq(stats.tasks, 17);
		for (int i = 0; i < RA_WORKERS_MAX; i++) {
			/* Busy exactly when it ran something. */
			if (atomic_load(&ctx->ran_on[i]))
				ck_assert_uint_gt(stats.busy_ns[i], 0);
			else
				ck_assert_uint_eq(stats.busy_ns[i], 0);
			busy += stats.busy_ns[i];
		}
		/* 17 tasks sleeping 2 ms each. */
		ck_assert_uint_ge(busy, 17 * 2000000u);
		ra_workers_destroy(w);
		free(ctx);
	}
}
END_TEST

/* ---- edges ---- */

START_TEST(test_zero_threads_is_online_cpus)
{
	ra_workers *w = create_ok(0);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int want = cpus < 1 ? 1 : cpus > RA_WORKERS_MAX ? RA_WORKERS_MAX : (int)cpus;
	ra_task tasks[16];
	task_arg args[16];
	batch_ctx *ctx = make_batch(want, count_task, tasks, args, 16);

	ck_assert_int_eq(ra_workers_threads(w), want);
	ra_workers_run(w, tasks, 16);
	assert_ran(ctx, 16, 1);
	ra_workers_destroy(w);
	free(ctx);
}
END_TEST

START_TEST(test_max_threads)
{
	ra_task tasks[TASKS_MAX];
	task_arg args[TASKS_MAX];
	ra_workers *w = create_ok(RA_WORKERS_MAX);
	batch_ctx *ctx = make_batch(RA_WORKERS_MAX, count_task, tasks, args, TASKS_MAX);

	ck_assert_int_eq(ra_workers_threads(w), RA_WORKERS_MAX);
	ra_workers_run(w, tasks, TASKS_MAX);
	assert_ran(ctx, TASKS_MAX, 1);
	ra_workers_destroy(w);
	free(ctx);
}
END_TEST

/* Destroy right after submit, slow tasks still queued: all of them run. */
START_TEST(test_destroy_finishes_queued_work)
{
	static const int threads[] = { 2, 3 };

	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		ra_workers *w = create_ok(threads[t]);
		ra_task tasks[10];
		task_arg args[10];
		batch_ctx *ctx = make_batch(threads[t], count_task, tasks, args, 10);

		ctx->sleep_us = 5000;
		ra_workers_submit(w, tasks, 10);
		ra_workers_destroy(w);
		assert_ran(ctx, 10, 1);
		free(ctx);
	}
}
END_TEST

START_TEST(test_destroy_idle)
{
	ra_workers_destroy(create_ok(8));
	ra_workers_destroy(create_ok(1));
	ra_workers_destroy(NULL);
}
END_TEST

START_TEST(test_empty_batch)
{
	static const int threads[] = { 1, 2 };

	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		ra_workers *w = create_ok(threads[t]);
		ra_task tasks[1];
		task_arg args[1];
		batch_ctx *ctx = make_batch(threads[t], count_task, tasks, args, 1);

		ra_workers_run(w, tasks, 0);
		ra_workers_submit(w, NULL, 0);
		ra_workers_wait(w);
		ra_workers_wait(w);
		assert_ran(ctx, 0, 0);
		ra_workers_run(w, tasks, 1);
		assert_ran(ctx, 1, 1);
		ra_workers_destroy(w);
		free(ctx);
	}
}
END_TEST

/* Beyond RA_WORKERS_MAX * 4 tasks the .c runs slices; none is dropped. */
START_TEST(test_oversized_batch_runs_every_task)
{
	ra_task tasks[3 * TASKS_MAX];
	task_arg args[3 * TASKS_MAX];
	const size_t count = 2 * TASKS_MAX + 3;
	static const int threads[] = { 1, 2 };

	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		ra_workers *w = create_ok(threads[t]);
		batch_ctx *ctx = make_batch(threads[t], count_task, tasks, args, count);

		ra_workers_run(w, tasks, count);
		assert_ran(ctx, count, 1);
		ra_workers_destroy(w);
		free(ctx);
	}
}
END_TEST

/* A second submit without a wait queues behind the first; nothing lost. */
START_TEST(test_submit_without_wait)
{
	ra_workers *w = create_ok(2);
	ra_task tasks[8];
	task_arg args[8];
	batch_ctx *ctx = make_batch(2, count_task, tasks, args, 8);

	ctx->sleep_us = 1000;
	ra_workers_submit(w, tasks, 8);
	ra_workers_submit(w, tasks, 4);
	ra_workers_wait(w);
	ck_assert_int_eq(load(&ctx->finished), 12);
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(load(&ctx->runs[i]), i < 4 ? 2 : 1);
	ra_workers_destroy(w);
	free(ctx);
}
END_TEST

/* Two flags for tasks of different batches to meet on. */
typedef struct meet {
	atomic_bool given, released;
} meet;

/* Waits until a task of a later batch has given the flag, then until the
 * caller releases it. */
static void waiting_task(void *p, int worker)
{
	meet *m = p;

	(void)worker;
	while (!atomic_load(&m->given) || !atomic_load(&m->released))
		sched_yield();
}

static void giving_task(void *p, int worker)
{
	(void)worker;
	atomic_store(&((meet *)p)->given, true);
}

/* The tasks of a later batch run while an earlier batch's task still
 * does, and waiting for that batch does not wait for the earlier one: the
 * first batch's task cannot end before the second batch's has run, nor
 * before the caller, back from waiting for the second, releases it (one
 * batch at a time would hang here, and the test's timeout would fail it). */
START_TEST(test_batches_overlap)
{
	ra_workers *w = create_ok(2);
	meet m;
	uint64_t first, second;

	atomic_init(&m.given, false);
	atomic_init(&m.released, false);
	first = ra_workers_submit(w, &(ra_task){ waiting_task, &m }, 1);
	second = ra_workers_submit(w, &(ra_task){ giving_task, &m }, 1);
	ck_assert_uint_gt(second, first);
	ra_workers_wait_for(w, second);
	ck_assert(atomic_load(&m.given));
	atomic_store(&m.released, true);
	ra_workers_wait_for(w, first);
	ra_workers_destroy(w);
}
END_TEST

/* Helped batches: tasks that each wait until every one of them has
 * started, so that a batch of N finishes only on N threads at once; each
 * notes whether the caller ran it, and with which worker index. */
typedef struct rendezvous {
	atomic_int arrived;
	int tasks;
	int threads;
	pthread_t caller;
	atomic_int by_caller, bad;
} rendezvous;

static void rendezvous_task(void *p, int worker)
{
	rendezvous *r = p;
	const bool caller = pthread_equal(pthread_self(), r->caller);

	/* The caller runs as worker THREADS, a worker under its own index. */
	if (caller ? worker != r->threads : worker < 0 || worker >= r->threads)
		atomic_fetch_add(&r->bad, 1);
	atomic_fetch_add(&r->by_caller, caller);
	atomic_fetch_add(&r->arrived, 1);
	while (atomic_load(&r->arrived) < r->tasks)
		sched_yield();
}

/* A helped batch takes THREADS - 1 workers, and its caller, waiting, runs
 * the rest: with as many rendezvous tasks as threads, the batch ends only
 * once the caller takes one. The caller waits first until the workers hold
 * all but one, and then a while, in which a worker beyond the cap would
 * take the last (then none is the caller's, and the test fails); without
 * the caller's help it would hang, and the test's timeout fails it. */
START_TEST(test_helped_batch_leaves_a_share_to_the_caller)
{
	static const int threads[] = { 2, 3, 4 };

	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		ra_workers *w = create_ok(threads[t]);
		rendezvous r = { .tasks = threads[t], .threads = threads[t] };
		ra_task tasks[8];
		ra_workers_stats stats;
		uint64_t ticket;

		r.caller = pthread_self();
		for (int i = 0; i < threads[t]; i++)
			tasks[i] = (ra_task){ rendezvous_task, &r };
		ticket = ra_workers_submit_helped(w, tasks, (size_t)threads[t]);
		while (atomic_load(&r.arrived) < threads[t] - 1)
			sched_yield();
		usleep(20000);
		ck_assert_int_eq(load(&r.arrived), threads[t] - 1);
		ra_workers_wait_for(w, ticket);
		ra_workers_get_stats(w, &stats);
		ck_assert_int_eq(load(&r.bad), 0);
		ck_assert_int_eq(load(&r.arrived), threads[t]);
		ck_assert_int_eq(load(&r.by_caller), 1);
		ck_assert_uint_eq(stats.helped, 1);
		ck_assert_uint_eq(stats.tasks, (uint64_t)threads[t]);
		ra_workers_destroy(w);
	}
}
END_TEST

/* A helped batch nobody waits for still runs to the end: two rendezvous
 * tasks on two threads, which one worker alone never finishes, finish
 * because destroy lets the second worker in. */
START_TEST(test_destroy_finishes_a_helped_batch)
{
	ra_workers *w = create_ok(2);
	rendezvous r = { .tasks = 2, .threads = 2 };
	ra_task tasks[2] = { { rendezvous_task, &r }, { rendezvous_task, &r } };
	ra_workers_stats stats;

	r.caller = pthread_self();
	ra_workers_submit_helped(w, tasks, 2);
	while (atomic_load(&r.arrived) < 1)
		sched_yield();
	ra_workers_get_stats(w, &stats);
	ck_assert_uint_eq(stats.helped, 0);
	ra_workers_destroy(w);
	ck_assert_int_eq(load(&r.arrived), 2);
	ck_assert_int_eq(load(&r.by_caller), 0);
	ck_assert_int_eq(load(&r.bad), 0);
}
END_TEST

/* ra_workers_help: with two threads a helped batch takes one worker, which
 * here holds the first task until the caller lets it go; help runs the
 * other three on the caller (worker index 2) and returns without waiting
 * for the held one (waiting would hang, and the timeout fail the test). */
static void held_task(void *p, int worker)
{
	meet *m = p;

	(void)worker;
	atomic_store(&m->given, true);
	while (!atomic_load(&m->released))
		sched_yield();
}

START_TEST(test_help_runs_what_no_worker_took)
{
	ra_workers *w = create_ok(2);
	rendezvous r = { .tasks = 0, .threads = 2 };
	ra_task tasks[4] = { { held_task, NULL } };
	ra_workers_stats stats;
	uint64_t ticket;
	meet m;

	atomic_init(&m.given, false);
	atomic_init(&m.released, false);
	r.caller = pthread_self();
	tasks[0].arg = &m;
	for (int i = 1; i < 4; i++)
		tasks[i] = (ra_task){ rendezvous_task, &r };
	ra_workers_help(w, 0);
	ticket = ra_workers_submit_helped(w, tasks, 4);
	while (!atomic_load(&m.given))
		sched_yield();
	ra_workers_help(w, ticket);
	ck_assert_int_eq(load(&r.arrived), 3);
	ck_assert_int_eq(load(&r.by_caller), 3);
	ck_assert_int_eq(load(&r.bad), 0);
	atomic_store(&m.released, true);
	ra_workers_wait_for(w, ticket);
	ra_workers_help(w, ticket); /* finished: nothing to run */
	ra_workers_get_stats(w, &stats);
	ck_assert_uint_eq(stats.helped, 3);
	ck_assert_uint_eq(stats.tasks, 4);
	ra_workers_destroy(w);

	/* One thread: the batch ran at submit, and help has nothing to do. */
	w = create_ok(1);
	r = (rendezvous){ .tasks = 0, .threads = 1, .caller = pthread_self() };
	ticket = ra_workers_submit_helped(w, &(ra_task){ rendezvous_task, &r }, 1);
	ra_workers_help(w, ticket);
	ra_workers_get_stats(w, &stats);
	ck_assert_int_eq(load(&r.arrived), 1);
	ck_assert_uint_eq(stats.helped, 0);
	ra_workers_destroy(w);
}
END_TEST

/* Counts a run and writes nothing else: the batches that share these tasks
 * run at the same time. */
static void tally_task(void *p, int worker)
{
	task_arg *arg = p;

	if (worker < 0 || worker >= arg->ctx->threads)
		atomic_fetch_add(&arg->ctx->bad, 1);
	else
		atomic_fetch_add(&arg->ctx->runs[arg->index], 1);
	atomic_fetch_add(&arg->ctx->finished, 1);
}

/* More batches than the ring holds: a submit waits for a slot, and every
 * task of every batch runs once. */
START_TEST(test_more_batches_than_slots)
{
	ra_workers *w = create_ok(3);
	ra_task tasks[16];
	task_arg args[16];
	batch_ctx *ctx = make_batch(3, tally_task, tasks, args, 16);
	uint64_t tickets[4 * RA_WORKERS_BATCHES];
	size_t wrong_runs = 0;

	for (int b = 0; b < 4 * RA_WORKERS_BATCHES; b++)
		tickets[b] = ra_workers_submit(w, tasks, 16);
	ra_workers_wait_for(w, tickets[4 * RA_WORKERS_BATCHES - 1]);
	ra_workers_wait(w);
	ck_assert_int_eq(load(&ctx->finished), 16 * 4 * RA_WORKERS_BATCHES);
	ck_assert_int_eq(load(&ctx->bad), 0);
	for (size_t i = 0; i < 16; i++)
		wrong_runs += atomic_load(&ctx->runs[i]) != 4 * RA_WORKERS_BATCHES;
	ck_assert_uint_eq(wrong_runs, 0);
	ra_workers_destroy(w);
	free(ctx);
}
END_TEST

START_TEST(test_status_optional)
{
	ra_workers *w = ra_workers_create(2, NULL, NULL);

	ck_assert_ptr_nonnull(w);
	ra_workers_destroy(w);
	ck_assert_ptr_null(ra_workers_create(-1, NULL, NULL));
}
END_TEST

/* ---- errors ---- */

START_TEST(test_create_rejects)
{
	static const int bad[] = { RA_WORKERS_MAX + 1, 1000, -1, INT_MIN, INT_MAX };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ra_status st = RA_OK;
		ra_diag diag = { { 0 } };
		char want[sizeof(diag.text)];

		ck_assert_ptr_null(ra_workers_create(bad[i], &st, &diag));
		ck_assert_int_eq(st, RA_ERR_INVALID);
		snprintf(want, sizeof(want), "%d threads: a pool has 1 to %d", bad[i],
			 RA_WORKERS_MAX);
		ck_assert_str_eq(diag.text, want);
	}
}
END_TEST

/* A thread that cannot start fails create, and those already started are
 * stopped and joined (TSan reports a thread leak otherwise). */
START_TEST(test_create_thread_failure)
{
	static const int started[] = { 0, 1, 3 };

	for (size_t i = 0; i < sizeof(started) / sizeof(started[0]); i++) {
		ra_status st = RA_OK;
		ra_diag diag = { { 0 } };
		ra_workers *w;

		atomic_store(&create_budget, started[i]);
		w = ra_workers_create(4, &st, &diag);
		atomic_store(&create_budget, -1);
		ck_assert_ptr_null(w);
		ck_assert_int_eq(st, RA_ERR_NOMEM);
		ck_assert_str_eq(diag.text, "cannot start 4 threads");
	}
	/* And once threads can start again, so can a pool. */
	ra_workers_destroy(create_ok(4));
}
END_TEST

static Suite *workers_suite(void)
{
	Suite *s = suite_create("workers");
	TCase *tc;

	tc = tcase_create("behaviour");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_every_task_once);
	tcase_add_test(tc, test_many_batches);
	tcase_add_test(tc, test_worker_index_per_thread);
	tcase_add_test(tc, test_one_thread_runs_inline_in_order);
	tcase_add_test(tc, test_caller_free_between_submit_and_wait);
	tcase_add_test(tc, test_stats_exact);
	tcase_add_test(tc, test_helped_batch_leaves_a_share_to_the_caller);
	tcase_add_test(tc, test_destroy_finishes_a_helped_batch);
	tcase_add_test(tc, test_help_runs_what_no_worker_took);
	suite_add_tcase(s, tc);

	tc = tcase_create("edges");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_zero_threads_is_online_cpus);
	tcase_add_test(tc, test_max_threads);
	tcase_add_test(tc, test_destroy_finishes_queued_work);
	tcase_add_test(tc, test_destroy_idle);
	tcase_add_test(tc, test_empty_batch);
	tcase_add_test(tc, test_oversized_batch_runs_every_task);
	tcase_add_test(tc, test_submit_without_wait);
	tcase_add_test(tc, test_batches_overlap);
	tcase_add_test(tc, test_more_batches_than_slots);
	tcase_add_test(tc, test_status_optional);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_create_rejects);
	tcase_add_test(tc, test_create_thread_failure);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return ra_test_main(workers_suite());
}
