/* Group 6: memory bandwidth for buffers of 4 KiB to 64 MiB, the roof the
 * kernels are held against. Read sums the buffer in 64-byte vectors, write
 * stores them, copy is memcpy; each compiled for AVX-512, AVX2 and the
 * baseline, picked at run time as the kernels are. GB/s = 1e9 bytes a
 * second; copy counts the bytes read plus the bytes written (as STREAM). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define MAX_BYTES ((size_t)64 << 20)
#define SIZES 8 /* 4 KiB * 4^i, to 64 MiB */

typedef uint64_t v8u __attribute__((vector_size(64), may_alias));

typedef enum bw_op { OP_READ, OP_WRITE, OP_COPY } bw_op;

typedef struct bw_run {
	bw_op op;
	size_t bytes; /* a pass */
	size_t passes;
	v8u *src, *dst; /* MAX_BYTES each, 64-byte aligned */
} bw_run;

__attribute__((target_clones("avx512f", "avx2", "default"), noinline)) static uint64_t
read_pass(const v8u *p, size_t vectors)
{
	v8u a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };

	for (size_t i = 0; i + 4 <= vectors; i += 4) {
		a += p[i];
		b += p[i + 1];
		c += p[i + 2];
		d += p[i + 3];
	}
	a += b + c + d;
	return a[0] ^ a[1] ^ a[2] ^ a[3] ^ a[4] ^ a[5] ^ a[6] ^ a[7];
}

__attribute__((target_clones("avx512f", "avx2", "default"), noinline)) static void
write_pass(v8u *p, size_t vectors, uint64_t value)
{
	const v8u v = { value, value, value, value, value, value, value, value };

	for (size_t i = 0; i < vectors; i++)
		p[i] = v;
}

static double run_bw(void *arg)
{
	const bw_run *r = arg;
	const size_t vectors = r->bytes / sizeof(v8u);
	uint64_t sum = 0;
	double t0 = bench_now();

	for (size_t pass = 0; pass < r->passes; pass++) {
		switch (r->op) {
		case OP_READ:
			sum += read_pass(r->src, vectors);
			break;
		case OP_WRITE:
			write_pass(r->dst, vectors, pass);
			break;
		default:
			memcpy(r->dst, r->src, r->bytes);
			break;
		}
	}
	t0 = bench_now() - t0;
	bench_keep((double)sum + (double)r->dst[vectors - 1][0]);
	return t0;
}

int main(int argc, char **argv)
{
	static const char *const op_name[] = { "read", "write", "copy (memcpy)" };
	v8u *src, *dst;
	bench b;

	bench_init(&b, "bandwidth", "memory bandwidth, 4 KiB to 64 MiB buffers", 0.0, argc, argv);
	src = bench_alloc(64, MAX_BYTES);
	dst = bench_alloc(64, MAX_BYTES);
	memset(src, 1, MAX_BYTES);
	memset(dst, 2, MAX_BYTES);
	for (int op = OP_READ; op <= OP_COPY; op++) {
		/* Each run moves about 512 MiB (quick: 128 MiB), at least 2 passes. */
		const size_t budget = b.quick ? (size_t)128 << 20 : (size_t)512 << 20;
		bw_run runs[SIZES];
		bench_case cases[SIZES];
		char names[SIZES][32], key[64];

		for (int i = 0; i < SIZES; i++) {
			const size_t bytes = (size_t)4096 << (2 * i);
			const size_t passes = budget / bytes > 2 ? budget / bytes : 2;

			runs[i] = (bw_run){ (bw_op)op, bytes, passes, src, dst };
			if (bytes < (1 << 20))
				snprintf(names[i], sizeof(names[i]), "%zu KiB", bytes >> 10);
			else
				snprintf(names[i], sizeof(names[i]), "%zu MiB", bytes >> 20);
			cases[i] = (bench_case){ names[i], run_bw, &runs[i],
						 (double)(bytes * passes * (op == OP_COPY ? 2 : 1)),
						 i == 0 ? -1 : 0 };
		}
		snprintf(key, sizeof(key), "%s", op_name[op]);
		bench_table_run(&b, &(bench_table){ key, "GB/s", 1e-9, 0 }, cases, SIZES);
	}
	free(dst);
	free(src);
	return bench_finish(&b);
}
