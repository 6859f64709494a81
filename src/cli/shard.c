/* --shard: an input's shard from a stable hash of its path, and the shard
 * of this process from the option or from the array engine's environment. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "shard.h"
#include "say.h"

int shard_keeps(const cli_shard *shard, const char *path)
{
	return shard->count == 0 ||
	       cli_fnv1a(CLI_FNV1A_BASIS, path, strlen(path)) % shard->count == shard->index;
}

/* A whole number >= 0 filling the LEN bytes at TEXT, into *V. */
static int parse_count(const char *text, size_t len, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(text, &end, 10);
	return len > 0 && *text >= '0' && *text <= '9' && end == text + len && errno == 0;
}

static int refuse(const char *what, const char *text)
{
	cli_say(NULL, NULL, "--shard: %s '%s' (see rusty-audio --help)", what, text);
	return -1;
}

/* The environment variable NAME as a whole number: 1 with *V, 0 when it
 * is not set, -1 after a message when it is not a number. */
static int env_number(const char *name, uint64_t *v)
{
	const char *text = getenv(name);

	if (!text)
		return 0;
	if (parse_count(text, strlen(text), v))
		return 1;
	cli_say(NULL, NULL, "--shard env: %s is '%s', not a whole number", name, text);
	return -1;
}

/* A Slurm job array: the task's place in MIN..MAX by STEP (ids need not
 * start at 0), checked against the task count. 1 with *S, 0 outside Slurm,
 * -1 after a message. */
static int from_slurm(cli_shard *s)
{
	uint64_t id, lo, hi, step = 1, count;
	int has_id = env_number("SLURM_ARRAY_TASK_ID", &id);
	int has_lo = env_number("SLURM_ARRAY_TASK_MIN", &lo);
	int has_hi = env_number("SLURM_ARRAY_TASK_MAX", &hi);
	int has_step = env_number("SLURM_ARRAY_TASK_STEP", &step);
	int has_count = env_number("SLURM_ARRAY_TASK_COUNT", &count);

	if (has_id < 0 || has_lo < 0 || has_hi < 0 || has_step < 0 || has_count < 0)
		return -1;
	if (!has_id)
		return 0;
	s->source = "SLURM_ARRAY_TASK_ID";
	if (has_lo && has_hi && step > 0 && lo <= id && id <= hi && (id - lo) % step == 0) {
		s->index = (id - lo) / step;
		s->count = (hi - lo) / step + 1;
		if (!has_count || count == s->count)
			return 1;
	} else if (!has_lo && (!has_count || count > 0)) {
		s->index = id;
		s->count = has_count ? count : 0; /* then --shard env/N gives it */
		return 1;
	}
	fputs("rusty-audio: --shard env: the Slurm array is not a plain range "
	      "(SLURM_ARRAY_TASK_ID, _MIN, _MAX, _STEP, _COUNT disagree); give --shard K/N\n",
	      stderr);
	return -1;
}

/* AWS Batch, then a Kubernetes Indexed Job (no count in its environment):
 * 1 with *S, 0 when neither, -1 after a message. */
static int from_aws_or_kubernetes(cli_shard *s)
{
	int has = env_number("AWS_BATCH_JOB_ARRAY_INDEX", &s->index);

	if (has != 0) {
		s->source = "AWS_BATCH_JOB_ARRAY_INDEX";
		if (has > 0 && (has = env_number("AWS_BATCH_JOB_ARRAY_SIZE", &s->count)) == 0)
			s->count = 0;
		return has < 0 ? -1 : 1;
	}
	has = env_number("JOB_COMPLETION_INDEX", &s->index);
	if (has > 0) {
		s->source = "JOB_COMPLETION_INDEX";
		s->count = 0;
	}
	return has;
}

/* --shard env[/N]: GIVEN is N, or 0. */
static int from_env(uint64_t given, cli_shard *s)
{
	int found = from_slurm(s);

	if (found == 0)
		found = from_aws_or_kubernetes(s);
	if (found < 0)
		return -1;
	if (found == 0) {
		fputs("rusty-audio: --shard env: none of SLURM_ARRAY_TASK_ID, "
		      "JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX is set\n",
		      stderr);
		return -1;
	}
	if (given && s->count && given != s->count) {
		cli_say(NULL, NULL, "--shard env/%llu: the array has %llu tasks (%s)",
			(unsigned long long)given, (unsigned long long)s->count, s->source);
		return -1;
	}
	if (given)
		s->count = given;
	if (s->count == 0) {
		cli_say(NULL, NULL, "--shard env: %s gives no task count; use --shard env/N",
			s->source);
		return -1;
	}
	if (s->index >= s->count) {
		cli_say(NULL, NULL, "--shard env: task %llu of %llu is out of range (%s)",
			(unsigned long long)s->index, (unsigned long long)s->count, s->source);
		return -1;
	}
	return 0;
}

int shard_parse(const char *text, cli_shard *shard)
{
	const char *slash = strchr(text, '/');
	size_t head = slash ? (size_t)(slash - text) : strlen(text);
	uint64_t count = 0;

	if (slash && !parse_count(slash + 1, strlen(slash + 1), &count))
		return refuse("expected K/N, env or env/N, not", text);
	if (slash && count == 0)
		return refuse("the count must be at least 1 in", text);
	if (head == 3 && !strncmp(text, "env", 3))
		return from_env(count, shard);
	shard->source = "--shard";
	shard->count = count;
	if (!slash || !parse_count(text, head, &shard->index))
		return refuse("expected K/N, env or env/N, not", text);
	if (shard->index >= count)
		return refuse("K must be below N in", text);
	return 0;
}
