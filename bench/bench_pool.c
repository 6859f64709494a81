/* Group 1: the buffer pool against malloc/free of the same sizes. Each
 * round takes 8 buffers (a processor's blocks in flight), writes a byte to
 * every 4 KiB page of each, as a block about to be filled would fault it
 * in, and gives them back; the cost is per acquire + release pair. */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "rustyaudio/pool.h"

#define IN_FLIGHT 8
#define PAGE 4096

typedef struct pool_run {
	size_t bytes;
	size_t rounds;
	ra_pool *pool; /* NULL: malloc and free */
} pool_run;

static void touch(unsigned char *buf, size_t bytes, size_t round)
{
	for (size_t at = 0; at < bytes; at += PAGE)
		buf[at] = (unsigned char)round;
}

static double run_pool(void *arg)
{
	const pool_run *r = arg;
	unsigned char *buf[IN_FLIGHT];
	double t0 = bench_now();

	for (size_t round = 0; round < r->rounds; round++) {
		for (int i = 0; i < IN_FLIGHT; i++) {
			buf[i] = ra_pool_acquire(r->pool);
			touch(buf[i], r->bytes, round);
		}
		for (int i = 0; i < IN_FLIGHT; i++)
			ra_pool_release(r->pool, buf[i]);
	}
	return bench_now() - t0;
}

static double run_malloc(void *arg)
{
	const pool_run *r = arg;
	unsigned char *buf[IN_FLIGHT];
	double t0 = bench_now();

	for (size_t round = 0; round < r->rounds; round++) {
		for (int i = 0; i < IN_FLIGHT; i++) {
			buf[i] = malloc(r->bytes);
			if (!buf[i])
				exit(1);
			touch(buf[i], r->bytes, round);
		}
		for (int i = 0; i < IN_FLIGHT; i++)
			free(buf[i]);
	}
	return bench_now() - t0;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 4096, 8192, 65536, 1 << 20 };
	bench b;

	bench_init(&b, "pool", "ra_pool acquire/release vs malloc/free, 8 buffers in flight", 0.0,
		   argc, argv);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		const size_t bytes = sizes[s];
		/* About 256 MiB (quick: 64 MiB) of buffers handed out a run, but
		 * at least 32 rounds (quick: 8): page faults make big ones slow. */
		const size_t budget = b.quick ? (size_t)64 << 20 : (size_t)256 << 20;
		const size_t least = b.quick ? 8 : 32;
		const size_t rounds =
			budget / IN_FLIGHT / bytes > least ? budget / IN_FLIGHT / bytes : least;
		const double pairs = (double)rounds * IN_FLIGHT;
		pool_run pooled = { bytes, rounds, ra_pool_create(bytes, IN_FLIGHT, NULL, NULL) };
		pool_run plain = { bytes, rounds, NULL };
		const bench_case cases[] = {
			{ "malloc/free", run_malloc, &plain, pairs, -1 },
			{ "pool acquire/release", run_pool, &pooled, pairs, 0 },
		};
		char key[64];
		ra_pool_stats st;

		if (!pooled.pool)
			return 1;
		snprintf(key, sizeof(key), "%zu KiB buffers", bytes / 1024);
		bench_table_run(&b, &(bench_table){ key, "ns/pair", 1e9, 1 }, cases, 2);
		ra_pool_get_stats(pooled.pool, &st);
		bench_note("pool: %llu acquires, %llu misses", (unsigned long long)st.acquires,
			   (unsigned long long)st.misses);
		ra_pool_destroy(pooled.pool);
	}
	return bench_finish(&b);
}
