/* Unit tests for the buffer pool: alignment and sizes, misses once the pool is
 * exhausted, exact counters, one owner per buffer under threads, and no heap
 * allocation at all while the pool has a free buffer. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "rustyaudio/pool.h"
#include "testutil.h"

/* ---- helpers ---- */

#define N_THREADS 4
#define N_PAIRS 100000

/* splitmix64: seeded sequences, independent of the code under test. */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static ra_pool *create_ok(size_t bytes, size_t count)
{
	ra_status st = RA_ERR_INVALID;
	ra_pool *pool = ra_pool_create(bytes, count, &st, NULL);

	ck_assert_ptr_nonnull(pool);
	ck_assert_int_eq(st, RA_OK);
	return pool;
}

static void assert_stats(const ra_pool *pool, uint64_t acquires, uint64_t hits, uint64_t misses)
{
	ra_pool_stats stats;

	ra_pool_get_stats(pool, &stats);
	ck_assert_uint_eq(stats.acquires, acquires);
	ck_assert_uint_eq(stats.hits, hits);
	ck_assert_uint_eq(stats.misses, misses);
}

static void assert_aligned(const void *buf)
{
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq((uintptr_t)buf % RA_POOL_ALIGN, 0);
}

/* Fill every byte of N buffers of BYTES each with a value of its own, then
 * check that each still holds its own: writes that overlap another buffer,
 * or run past BYTES into one, show up here (and to ASan). */
static void assert_disjoint(unsigned char **bufs, size_t n, size_t bytes)
{
	size_t wrong = 0;

	for (size_t i = 0; i < n; i++)
		memset(bufs[i], (int)(i * 37 + 1) & 0xff, bytes);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < bytes; j++)
			wrong += bufs[i][j] != ((i * 37 + 1) & 0xff);
	ck_assert_uint_eq(wrong, 0);
}

/* ---- behaviour ---- */

START_TEST(test_buffers_aligned_distinct_full_size)
{
	static const size_t sizes[] = { 1, 63, 64, 65, 1000, 4096 };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		ra_pool *pool = create_ok(sizes[s], 16);
		unsigned char *bufs[16];

		for (size_t i = 0; i < 16; i++) {
			bufs[i] = ra_pool_acquire(pool);
			assert_aligned(bufs[i]);
			for (size_t j = 0; j < i; j++)
				ck_assert_ptr_ne(bufs[i], bufs[j]);
		}
		assert_disjoint(bufs, 16, sizes[s]);
		assert_stats(pool, 16, 16, 0);
		for (size_t i = 0; i < 16; i++)
			ra_pool_release(pool, bufs[i]);
		ra_pool_destroy(pool);
	}
}
END_TEST

/* Whether the kernel marked the mapping holding ADDR for huge pages
 * (MADV_HUGEPAGE: "hg" among its VmFlags in /proc/self/smaps): 1 or 0, -1
 * when smaps says nothing of it. */
static int marked_huge(const void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool inside = false;
	int huge = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' '))
			inside = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		else if (inside && !strncmp(line, "VmFlags:", 8))
			huge = strstr(line, " hg") != NULL;
	}
	fclose(f);
	return huge;
}

/* Whether this kernel takes MADV_HUGEPAGE and shows it in smaps: asked of
 * a scratch mapping. */
static bool kernel_marks_huge(void)
{
	const size_t len = (size_t)4 << 20;
	void *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bool marks;

	ck_assert_ptr_ne(map, MAP_FAILED);
	marks = madvise(map, len, MADV_HUGEPAGE) == 0 && marked_huge(map) == 1;
	munmap(map, len);
	return marks;
}

/* A pool of 2 MiB or more asks for transparent huge pages, where the
 * kernel takes the request; its buffers are aligned, disjoint and whole as
 * any. */
START_TEST(test_big_pool_asks_for_huge_pages)
{
	enum { COUNT = 512, BYTES = 8192 };
	ra_pool *pool = create_ok(BYTES, COUNT);
	unsigned char *bufs[COUNT];
	const bool marks = kernel_marks_huge();

	for (size_t i = 0; i < COUNT; i++) {
		bufs[i] = ra_pool_acquire(pool);
		assert_aligned(bufs[i]);
	}
	assert_disjoint(bufs, COUNT, BYTES);
	assert_stats(pool, COUNT, COUNT, 0);
	if (marks) {
		ck_assert_int_eq(marked_huge(bufs[0]), 1);
		ck_assert_int_eq(marked_huge(bufs[COUNT - 1]), 1);
	}
	for (size_t i = 0; i < COUNT; i++)
		ra_pool_release(pool, bufs[i]);
	ra_pool_destroy(pool);
}
END_TEST

START_TEST(test_exhausted_pool_misses)
{
	ra_pool *pool = create_ok(100, 2);
	unsigned char *bufs[3];

	bufs[0] = ra_pool_acquire(pool);
	bufs[1] = ra_pool_acquire(pool);
	assert_stats(pool, 2, 2, 0);

	bufs[2] = ra_pool_acquire(pool);
	assert_aligned(bufs[2]);
	ck_assert_ptr_ne(bufs[2], bufs[0]);
	ck_assert_ptr_ne(bufs[2], bufs[1]);
	assert_stats(pool, 3, 2, 1);
	assert_disjoint(bufs, 3, 100);

	/* The miss buffer is freed, not kept: the pool still has two. */
	for (size_t i = 0; i < 3; i++)
		ra_pool_release(pool, bufs[i]);
	for (size_t i = 0; i < 3; i++)
		bufs[i] = ra_pool_acquire(pool);
	assert_stats(pool, 6, 4, 2);
	assert_disjoint(bufs, 3, 100);
	for (size_t i = 0; i < 3; i++)
		ra_pool_release(pool, bufs[i]);
	ra_pool_destroy(pool);
}
END_TEST

START_TEST(test_release_makes_buffer_free_again)
{
	ra_pool *pool = create_ok(256, 3);
	void *a = ra_pool_acquire(pool);
	void *b = ra_pool_acquire(pool);
	void *c = ra_pool_acquire(pool);
	void *again;

	ra_pool_release(pool, b);
	again = ra_pool_acquire(pool);
	ck_assert_ptr_eq(again, b);
	assert_stats(pool, 4, 4, 0);
	ra_pool_release(pool, a);
	ra_pool_release(pool, again);
	ra_pool_release(pool, c);
	ra_pool_destroy(pool);
}
END_TEST

/* A seeded walk of acquires and releases against a model: an acquire is a
 * hit exactly when fewer than COUNT pool buffers are out. Checked after
 * every step. */
START_TEST(test_counters_follow_model)
{
	enum { COUNT = 5, MAX_OUT = 12, STEPS = 20000 };
	ra_pool *pool = create_ok(128, COUNT);
	struct {
		unsigned char *buf;
		bool pooled;
	} out[MAX_OUT];
	uint64_t rng = 42, hits = 0, misses = 0;
	size_t n_out = 0, pooled_out = 0, wrong = 0;
	ra_pool_stats stats;

	for (int step = 0; step < STEPS; step++) {
		if (n_out < MAX_OUT && (n_out == 0 || rng_next(&rng) % 2)) {
			out[n_out].pooled = pooled_out < COUNT;
			if (out[n_out].pooled) {
				hits++;
				pooled_out++;
			} else {
				misses++;
			}
			out[n_out].buf = ra_pool_acquire(pool);
			assert_aligned(out[n_out].buf);
			memset(out[n_out].buf, 0xa5, 128);
			n_out++;
		} else {
			size_t k = (size_t)(rng_next(&rng) % n_out);

			pooled_out -= out[k].pooled;
			ra_pool_release(pool, out[k].buf);
			out[k] = out[--n_out];
		}
		ra_pool_get_stats(pool, &stats);
		wrong += stats.hits != hits || stats.misses != misses ||
			 stats.acquires != hits + misses;
	}
	ck_assert_uint_eq(wrong, 0);
	ck_assert_uint_gt(misses, 0);
	while (n_out)
		ra_pool_release(pool, out[--n_out].buf);
	ra_pool_destroy(pool);
}
END_TEST

typedef struct owner_arg {
	ra_pool *pool;
	uint32_t id;
	size_t words;
	atomic_ulong *corrupt;
} owner_arg;

/* Acquire, stamp every word with (thread, iteration), check the stamp is
 * intact, release: a buffer handed to two owners at once shows up as a
 * foreign stamp (and to TSan as a race). */
static void *owner_main(void *p)
{
	owner_arg *arg = p;
	unsigned long corrupt = 0;

	for (uint32_t it = 0; it < N_PAIRS; it++) {
		uint32_t *buf = ra_pool_acquire(arg->pool);
		uint32_t stamp = arg->id << 24 | (it & 0xffffff);

		if (!buf || (uintptr_t)buf % RA_POOL_ALIGN) {
			corrupt++;
			continue;
		}
		for (size_t i = 0; i < arg->words; i++)
			buf[i] = stamp;
		for (size_t i = 0; i < arg->words; i++)
			corrupt += buf[i] != stamp;
		ra_pool_release(arg->pool, buf);
	}
	atomic_fetch_add(arg->corrupt, corrupt);
	return NULL;
}

/* N_THREADS owners on COUNT buffers; the stats afterwards. */
static void run_owners(size_t count, ra_pool_stats *stats)
{
	const size_t bytes = 256;
	ra_pool *pool = create_ok(bytes, count);
	pthread_t threads[N_THREADS];
	owner_arg args[N_THREADS];
	atomic_ulong corrupt = 0;
	unsigned long corrupt_seen;
	unsigned char *bufs[16];

	for (int t = 0; t < N_THREADS; t++) {
		args[t] = (owner_arg){ pool, (uint32_t)t + 1, bytes / 4, &corrupt };
		ck_assert_int_eq(pthread_create(&threads[t], NULL, owner_main, &args[t]), 0);
	}
	for (int t = 0; t < N_THREADS; t++)
		pthread_join(threads[t], NULL);
	corrupt_seen = atomic_load(&corrupt);
	ck_assert_uint_eq(corrupt_seen, 0);
	ra_pool_get_stats(pool, stats);

	/* No buffer lost or listed twice: all COUNT come back, distinct. */
	ck_assert_uint_le(count, 16);
	for (size_t i = 0; i < count; i++) {
		bufs[i] = ra_pool_acquire(pool);
		for (size_t j = 0; j < i; j++)
			ck_assert_ptr_ne(bufs[i], bufs[j]);
	}
	assert_stats(pool, stats->acquires + count, stats->hits + count, stats->misses);
	assert_disjoint(bufs, count, bytes);
	for (size_t i = 0; i < count; i++)
		ra_pool_release(pool, bufs[i]);
	ra_pool_destroy(pool);
}

START_TEST(test_threads_one_owner_each)
{
	ra_pool_stats stats;

	/* Never more than N_THREADS out of 8: every acquire must hit. */
	run_owners(8, &stats);
	ck_assert_uint_eq(stats.acquires, (uint64_t)N_THREADS * N_PAIRS);
	ck_assert_uint_eq(stats.hits, (uint64_t)N_THREADS * N_PAIRS);
	ck_assert_uint_eq(stats.misses, 0);
}
END_TEST

START_TEST(test_threads_with_misses)
{
	ra_pool_stats stats;

	/* Fewer buffers than threads: hits and misses interleave. */
	run_owners(2, &stats);
	ck_assert_uint_eq(stats.acquires, (uint64_t)N_THREADS * N_PAIRS);
	ck_assert_uint_eq(stats.hits + stats.misses, stats.acquires);
}
END_TEST

#ifdef RA_TEST_ALLOC_COUNTED
/* The counter itself works: a miss allocates, and it is seen. */
START_TEST(test_alloc_counter_sees_miss)
{
	ra_pool *pool = create_ok(512, 1);
	void *held = ra_pool_acquire(pool);
	void *extra;
	unsigned long allocs;

	ra_test_alloc_start(0);
	extra = ra_pool_acquire(pool);
	allocs = ra_test_alloc_stop();
	assert_aligned(extra);
	ck_assert_uint_eq(allocs, 1);
	ra_pool_release(pool, extra);
	ra_pool_release(pool, held);
	ra_pool_destroy(pool);
}
END_TEST

START_TEST(test_warm_pool_allocates_nothing)
{
	enum { COUNT = 4, CYCLES = 1000 };
	ra_pool *pool = create_ok(4096, COUNT);
	void *bufs[COUNT];
	unsigned long allocs;
	ra_pool_stats stats;

	for (int i = 0; i < COUNT; i++)
		bufs[i] = ra_pool_acquire(pool);
	for (int i = 0; i < COUNT; i++)
		ra_pool_release(pool, bufs[i]);

	ra_test_alloc_start(0);
	for (int c = 0; c < CYCLES; c++) {
		int n = c % COUNT + 1;

		for (int i = 0; i < n; i++)
			bufs[i] = ra_pool_acquire(pool);
		for (int i = n - 1; i >= 0; i--)
			ra_pool_release(pool, bufs[i]);
	}
	ra_pool_get_stats(pool, &stats);
	allocs = ra_test_alloc_stop();

	ck_assert_uint_eq(allocs, 0);
	ck_assert_uint_eq(stats.misses, 0);
	ck_assert_uint_eq(stats.hits, COUNT + CYCLES / COUNT * (1 + 2 + 3 + 4));
	ra_pool_destroy(pool);
}
END_TEST
#endif

/* ---- edges ---- */

START_TEST(test_single_byte_single_buffer)
{
	ra_pool *pool = create_ok(1, 1);
	unsigned char *a = ra_pool_acquire(pool);
	unsigned char *b = ra_pool_acquire(pool);
	ra_pool_stats stats;

	assert_aligned(a);
	assert_aligned(b);
	*a = 1;
	*b = 2;
	ck_assert_uint_eq(*a, 1);
	ra_pool_get_stats(pool, &stats);
	ck_assert_uint_eq(stats.buffers, 1);
	ck_assert_uint_eq(stats.buffer_bytes, 1);
	ck_assert_uint_eq(stats.misses, 1);
	ra_pool_release(pool, b);
	ra_pool_release(pool, a);
	ra_pool_destroy(pool);
}
END_TEST

START_TEST(test_stats_report_shape)
{
	ra_pool *pool = create_ok(1000, 7);
	ra_pool_stats stats;

	ra_pool_get_stats(pool, &stats);
	ck_assert_uint_eq(stats.buffers, 7);
	ck_assert_uint_eq(stats.buffer_bytes, 1000);
	ck_assert_uint_eq(stats.acquires, 0);
	ck_assert_uint_eq(stats.hits, 0);
	ck_assert_uint_eq(stats.misses, 0);
	ra_pool_destroy(pool);
}
END_TEST

START_TEST(test_release_null_and_destroy_null)
{
	ra_pool *pool = create_ok(64, 1);

	ra_pool_release(pool, NULL);
	assert_stats(pool, 0, 0, 0);
	/* NULL was not pushed: the one buffer is still the only one. */
	ra_pool_release(pool, ra_pool_acquire(pool));
	assert_stats(pool, 1, 1, 0);
	ra_pool_destroy(pool);
	ra_pool_destroy(NULL);
	ra_pool_release(NULL, NULL);
}
END_TEST

START_TEST(test_status_optional)
{
	ra_pool *pool = ra_pool_create(64, 2, NULL, NULL);

	ck_assert_ptr_nonnull(pool);
	ra_pool_destroy(pool);
	ck_assert_ptr_null(ra_pool_create(0, 2, NULL, NULL));
}
END_TEST

/* ---- errors ---- */

START_TEST(test_create_rejects)
{
	static const struct {
		size_t bytes, count;
	} bad[] = {
		{ 0, 1 },
		{ 64, 0 },
		{ 0, 0 },
		{ SIZE_MAX, 1 },
		{ SIZE_MAX - 10, 2 },
		{ (size_t)1 << 20, SIZE_MAX / 1024 },
		{ 64, SIZE_MAX },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ra_status st = RA_OK;
		ra_diag diag = { { 0 } };
		char want[sizeof(diag.text)];

		ck_assert_ptr_null(ra_pool_create(bad[i].bytes, bad[i].count, &st, &diag));
		ck_assert_int_eq(st, RA_ERR_INVALID);
		snprintf(want, sizeof(want), "a pool of %zu buffers of %zu bytes is out of range",
			 bad[i].count, bad[i].bytes);
		ck_assert_str_eq(diag.text, want);
	}
}
END_TEST

#ifdef RA_TEST_ALLOC_FAILABLE
START_TEST(test_create_out_of_memory)
{
	ra_status st = RA_OK;
	ra_diag diag = { { 0 } };
	ra_pool *pool;

	ra_test_alloc_start(1);
	pool = ra_pool_create(64, 4, &st, &diag);
	ra_test_alloc_stop();
	ck_assert_ptr_null(pool);
	ck_assert_int_eq(st, RA_ERR_NOMEM);
	ck_assert_str_eq(diag.text, "cannot allocate a pool of 4 buffers of 64 bytes");
}
END_TEST

START_TEST(test_miss_out_of_memory)
{
	ra_pool *pool = create_ok(64, 1);
	void *held = ra_pool_acquire(pool);
	void *none, *some;

	ra_test_alloc_start(1);
	none = ra_pool_acquire(pool);
	some = ra_pool_acquire(pool);
	ra_test_alloc_stop();
	ck_assert_ptr_null(none);
	assert_aligned(some);
	assert_stats(pool, 3, 1, 2);
	ra_pool_release(pool, some);
	ra_pool_release(pool, held);
	ra_pool_destroy(pool);
}
END_TEST
#endif

static Suite *pool_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tc;

	tc = tcase_create("behaviour");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_buffers_aligned_distinct_full_size);
	tcase_add_test(tc, test_big_pool_asks_for_huge_pages);
	tcase_add_test(tc, test_exhausted_pool_misses);
	tcase_add_test(tc, test_release_makes_buffer_free_again);
	tcase_add_test(tc, test_counters_follow_model);
	tcase_add_test(tc, test_threads_one_owner_each);
	tcase_add_test(tc, test_threads_with_misses);
#ifdef RA_TEST_ALLOC_COUNTED
	tcase_add_test(tc, test_alloc_counter_sees_miss);
	tcase_add_test(tc, test_warm_pool_allocates_nothing);
#endif
	suite_add_tcase(s, tc);

	tc = tcase_create("edges");
	tcase_add_test(tc, test_single_byte_single_buffer);
	tcase_add_test(tc, test_stats_report_shape);
	tcase_add_test(tc, test_release_null_and_destroy_null);
	tcase_add_test(tc, test_status_optional);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_create_rejects);
#ifdef RA_TEST_ALLOC_FAILABLE
	tcase_add_test(tc, test_create_out_of_memory);
	tcase_add_test(tc, test_miss_out_of_memory);
#endif
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return ra_test_main(pool_suite());
}
