/* --shard: which of a batch's inputs this process takes, so that N
 * processes (the tasks of a Slurm, Kubernetes or AWS Batch array, or hosts
 * under GNU parallel) share one list without talking to each other. An
 * input belongs to shard FNV-1a-64(path as given) mod N: every input falls
 * in exactly one shard for any N, wherever it sits in the list. */
#ifndef RA_CLI_SHARD_H
#define RA_CLI_SHARD_H

#include <stdint.h>

typedef struct cli_shard {
	uint64_t index, count; /* count 0: no sharding */
	const char *source;    /* where they came from, for the note: "--shard", an env name */
} cli_shard;

/* --shard TEXT: "K/N" (0 <= K < N), "env" or "env/N" (the index, and the
 * count where the engine does not give one, from the environment).
 * 0 with *SHARD set; -1 after a usage message on stderr. */
int shard_parse(const char *text, cli_shard *shard);

/* True when PATH belongs to SHARD (always without sharding). */
int shard_keeps(const cli_shard *shard, const char *path);

#endif
