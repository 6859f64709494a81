/* End-to-end tests of batches at scale: --shard partitions any list the
 * same way every time (checked against FNV-1a computed here), -j gives the
 * bytes and messages of -j 1, the manifest holds what was written (its
 * content hash checked against XXH3-128 of the bytes read here), --resume
 * skips exactly what is done and still there, a killed batch resumes
 * without rewriting a finished output, and the exit status tells a
 * scheduler whether a retry can help. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <xxhash.h>

#include "testutil.h"

#define MAX_FILES 200

static char *in_dir, *out_dir;

static void setup(void)
{
	in_dir = ra_test_scratch("in");
	out_dir = ra_test_scratch("out");
	ck_assert_int_eq(mkdir(in_dir, 0777), 0);
	ck_assert_int_eq(mkdir(out_dir, 0777), 0);
}

static void teardown(void)
{
	free(in_dir);
	free(out_dir);
}

/* in/NAME: FRAMES of noise (seeded by SEED) at 16 kHz, CHANNELS, 16-bit. */
static char *make_input(const char *name, size_t frames, int channels, unsigned seed)
{
	char *path = ra_test_path(in_dir, name);
	float *x = ra_test_noise(frames * (size_t)channels, seed, 0.5f);

	ra_test_write_float(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, channels, x, frames);
	free(x);
	return path;
}

/* "f NNN.wav": input I of make_inputs(), and its output's name. */
static void file_name(int i, char name[32])
{
	snprintf(name, 32, "f %03d.wav", i);
}

/* Input I's output in the output folder, under its own name. */
static char *output_of(int i)
{
	char name[32];

	file_name(i, name);
	return ra_test_path(out_dir, name);
}

/* COUNT inputs "f NNN.wav" of a few lengths and channel counts. */
static void make_inputs(char **paths, int count)
{
	for (int i = 0; i < count; i++) {
		char name[32];

		file_name(i, name);
		paths[i] = make_input(name, 800 + 97 * (size_t)(i % 7), 1 + i % 3, (unsigned)i + 1);
	}
}

static void free_paths(char **paths, int count)
{
	for (int i = 0; i < count; i++)
		free(paths[i]);
}

/* FNV-1a, 64 bits, from its definition. */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

/* A run that must end with STATUS; its output (caller releases). */
static ra_run run_status(const char *const *argv, int status)
{
	ra_run r = ra_test_run(argv, NULL);

	ck_assert_msg(r.status == status, "exit %d, not %d: %.2000s", r.status, status, r.err);
	return r;
}

/* True when jq's FILTER over the manifest's lines slurped into one array
 * yields true. */
static int manifest_says(const char *manifest, const char *filter)
{
	const char *argv[] = { "-e", "-s", filter, manifest, NULL };
	ra_run r = ra_test_exec("jq", argv, NULL);
	int ok = r.status == 0;

	if (!ok)
		fprintf(stderr, "jq '%s' on %s: %d %s\n", filter, manifest, r.status, r.err);
	ra_run_release(&r);
	return ok;
}

/* XXH3-128 of the file at PATH as 32 hex digits, read here. */
static void hash_of(const char *path, char hex[33])
{
	size_t len;
	char *bytes = ra_test_slurp(path, &len);
	XXH128_hash_t h = XXH3_128bits(bytes, len);

	snprintf(hex, 33, "%016llx%016llx", (unsigned long long)h.high64,
		 (unsigned long long)h.low64);
	free(bytes);
}

/* ---- shards ---- */

START_TEST(test_shards_partition)
{
	static const int counts[] = { 1, 2, 3, 7 };
	enum { INPUTS = 40 };
	char names[INPUTS][40];
	const char *argv[INPUTS + 6];

	argv[0] = "--list";
	argv[1] = "-q";
	argv[2] = "--shard";
	for (int i = 0; i < INPUTS; i++) {
		/* Names need not exist for --list; some with spaces and bytes
		 * above 0x7f. */
		snprintf(names[i], sizeof(names[i]), "dir %d/take\xe9 %02d.wav", i % 3, i);
		argv[4 + i] = names[i];
	}
	argv[4 + INPUTS] = NULL;
	for (size_t n = 0; n < sizeof(counts) / sizeof(counts[0]); n++) {
		int seen[INPUTS] = { 0 };

		for (int k = 0; k < counts[n]; k++) {
			char shard[32];
			ra_run r;

			snprintf(shard, sizeof(shard), "%d/%d", k, counts[n]);
			argv[3] = shard;
			r = run_status(argv, 0);
			for (int i = 0; i < INPUTS; i++) {
				const char *at = strstr(r.out, names[i]);
				int listed = at && at[strlen(names[i])] == '\n';

				seen[i] += listed;
				ck_assert_int_eq(listed, fnv1a(names[i]) % (uint64_t)counts[n] ==
								 (uint64_t)k);
			}
			ra_run_release(&r);
		}
		for (int i = 0; i < INPUTS; i++)
			ck_assert_msg(seen[i] == 1, "%s in %d shards of %d", names[i], seen[i],
				      counts[n]);
	}
}
END_TEST

/* --shard ENV_SPEC against --shard GIVEN: the same inputs, and a note
 * naming where the shard came from. */
static void assert_env_shard(const char *env_spec, const char *given, const char *source)
{
	static const char *const names[] = { "a.wav", "b.wav", "c.wav", "d.wav", "e.wav",
					     "f.wav", "g.wav", "h.wav", "i.wav", NULL };
	const char *env_argv[14] = { "--list", "--shard", env_spec };
	const char *plain_argv[14] = { "--list", "-q", "--shard", given };
	ra_run env, plain;

	for (int i = 0; names[i]; i++) {
		env_argv[3 + i] = names[i];
		plain_argv[4 + i] = names[i];
	}
	env = run_status(env_argv, 0);
	plain = run_status(plain_argv, 0);
	ck_assert_str_eq(env.out, plain.out);
	ck_assert_msg(strstr(env.err, source), "no %s in: %s", source, env.err);
	ra_run_release(&env);
	ra_run_release(&plain);
}

static void assert_env_refused(const char *shard, const char *needle)
{
	const char *argv[] = { "--list", "--shard", shard, "a.wav", NULL };
	ra_run r = run_status(argv, 2);

	ck_assert_msg(ra_test_count(r.err, "\n") == 1, "not one line: %s", r.err);
	ck_assert_msg(strstr(r.err, needle), "no '%s' in: %s", needle, r.err);
	ra_run_release(&r);
}

START_TEST(test_shard_env)
{
	/* Slurm numbers tasks from --array's first index, here 4-7. */
	setenv("SLURM_ARRAY_TASK_ID", "5", 1);
	setenv("SLURM_ARRAY_TASK_MIN", "4", 1);
	setenv("SLURM_ARRAY_TASK_MAX", "7", 1);
	setenv("SLURM_ARRAY_TASK_COUNT", "4", 1);
	assert_env_shard("env", "1/4", "SLURM_ARRAY_TASK_ID");
	setenv("SLURM_ARRAY_TASK_STEP", "2", 1); /* 4, 6: 5 is not a task */
	assert_env_refused("env", "not a plain range");
	unsetenv("SLURM_ARRAY_TASK_STEP");
	assert_env_refused("env/3", "has 4 tasks");
	unsetenv("SLURM_ARRAY_TASK_ID");

	setenv("AWS_BATCH_JOB_ARRAY_INDEX", "2", 1);
	setenv("AWS_BATCH_JOB_ARRAY_SIZE", "3", 1);
	assert_env_shard("env", "2/3", "AWS_BATCH_JOB_ARRAY_INDEX");
	unsetenv("AWS_BATCH_JOB_ARRAY_INDEX");

	setenv("JOB_COMPLETION_INDEX", "0", 1);
	assert_env_refused("env", "use --shard env/N");
	setenv("JOB_COMPLETION_INDEX", "3", 1);
	assert_env_shard("env/5", "3/5", "JOB_COMPLETION_INDEX");
}
END_TEST

START_TEST(test_shard_refused)
{
	static const char *const bad[] = {
		"3/3", "1/0", "x", "1/2/3", "-1/2", "/2", "1/", "env/0"
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_env_refused(bad[i], "--shard");
	unsetenv("JOB_COMPLETION_INDEX");
	assert_env_refused("env", "none of SLURM_ARRAY_TASK_ID");
}
END_TEST

/* ---- lists and -j ---- */

START_TEST(test_files_from0)
{
	char *odd = make_input("two\nlines \t.wav", 500, 1, 3);
	char *plain = make_input("plain.wav", 500, 1, 4);
	char *list = ra_test_scratch("list0");
	FILE *f = fopen(list, "wb");
	const char *list_argv[] = { "--list", "--files-from0", list, NULL };
	const char *run_argv[] = {
		"-q", "--files-from0", list, "--gain", "-1", "-o", out_dir, NULL
	};
	char *odd_out = ra_test_path(out_dir, "two\nlines \t.wav");
	ra_run r;

	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s%c%s%c", odd, 0, plain, 0);
	ck_assert_int_eq(fclose(f), 0);
	r = run_status(list_argv, 0);
	/* Each name as it is, ended by a NUL. */
	ck_assert_int_eq(memcmp(r.out, odd, strlen(odd) + 1), 0);
	ck_assert_int_eq(memcmp(r.out + strlen(odd) + 1, plain, strlen(plain) + 1), 0);
	ra_run_release(&r);
	ra_test_run_ok(run_argv);
	ck_assert_int_eq(access(odd_out, F_OK), 0);
	free(odd_out);
	free(odd);
	free(plain);
	free(list);
}
END_TEST

/* Inputs FIRST, FIRST + EVERY, ... of the COUNT PATHS made bad: text, not
 * audio. */
static void spoil_inputs(char **paths, int count, int first, int every)
{
	for (int i = first; i < count; i += every) {
		FILE *f = fopen(paths[i], "w");

		ck_assert_ptr_nonnull(f);
		fprintf(f, "not audio %d\n", i);
		fclose(f);
	}
}

/* -j 1, 2 and 4 into three folders: the same bytes, the same messages in
 * the same (input) order, a manifest line for every input. */
START_TEST(test_jobs_same_bytes_and_order)
{
	enum { FILES = 24 };
	static const char *const jobs[] = { "1", "2", "4" };
	static const char *const fixed[] = { "--eq",	 "peak:1k:6:0.7", "--rate",    "22050",
					     "--format", "flac",	  "--threads", "2" };
	char *paths[FILES], *dirs[3], *manifests[3], *errs[3];
	const char *argv[FILES + 16];
	int argc = 0;

	make_inputs(paths, FILES);
	/* Bad inputs among them, whose messages must come in list order. */
	spoil_inputs(paths, FILES, 3, 7);
	for (int j = 0; j < 3; j++) {
		char name[16];
		ra_run r;

		snprintf(name, sizeof(name), "out%s", jobs[j]);
		dirs[j] = ra_test_scratch(name);
		snprintf(name, sizeof(name), "m%s.jsonl", jobs[j]);
		manifests[j] = ra_test_scratch(name);
		ck_assert_int_eq(mkdir(dirs[j], 0777), 0);
		argc = 0;
		for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++)
			argv[argc++] = fixed[k];
		argv[argc++] = "-j";
		argv[argc++] = jobs[j];
		argv[argc++] = "-o";
		argv[argc++] = dirs[j];
		argv[argc++] = "--manifest";
		argv[argc++] = manifests[j];
		for (int i = 0; i < FILES; i++)
			argv[argc++] = paths[i];
		argv[argc] = NULL;
		r = run_status(argv, 1);
		errs[j] = strdup(r.err);
		ra_run_release(&r);
	}
	for (int i = 0; i < FILES; i++) {
		char name[32];

		snprintf(name, sizeof(name), "f %03d.flac", i);
		for (int j = 1; j < 3; j++) {
			char *a = ra_test_path(dirs[0], name), *b = ra_test_path(dirs[j], name);

			if (i % 7 == 3)
				ck_assert_int_ne(access(b, F_OK), 0);
			else
				ck_assert_msg(ra_test_same_bytes(a, b), "%s differs at -j %s", name,
					      jobs[j]);
			free(a);
			free(b);
		}
	}
	/* Each bad input's own reason: libsndfile keeps the reason of a failed
	 * open in one global, which opens on several threads would share. */
	ck_assert_int_eq(
		ra_test_count(errs[0], "not a readable audio file: format not recognised\n"), 3);
	for (int j = 1; j < 3; j++)
		ck_assert_str_eq(errs[j], errs[0]);
	for (int j = 0; j < 3; j++) {
		const char *m = manifests[j];

		ck_assert(manifest_says(m, "length == 24"));
		ck_assert(manifest_says(m, "[.[].input] | unique | length == 24"));
		ck_assert(manifest_says(m,
					"[.[] | select(.status == \"failed\")] | length == 3 and "
					"all(.error_class == \"bad-input\")"));
		free(errs[j]);
		free(dirs[j]);
		free(manifests[j]);
	}
	free_paths(paths, FILES);
}
END_TEST

/* --analyze over several inputs, -j 1, 2 and 4 and by default (a file a
 * thread): the same summaries, messages and CSV rows, in input order. */
START_TEST(test_analyze_jobs_same_report)
{
	enum { FILES = 8 };
	static const char *const jobs[] = { "1", "2", "4", NULL };
	char *paths[FILES], *csv[4], *out[4], *err[4];
	const char *argv[FILES + 16];

	for (int i = 0; i < FILES; i++) {
		char name[32];

		file_name(i, name);
		paths[i] = make_input(name, 48000, 1 + i % 2, (unsigned)i + 1);
	}
	spoil_inputs(paths, FILES, 2, 4);
	for (int j = 0; j < 4; j++) {
		char name[24];
		int argc = 0;
		ra_run r;

		snprintf(name, sizeof(name), "r%d.csv", j);
		csv[j] = ra_test_scratch(name);
		argv[argc++] = "--analyze";
		argv[argc++] = "--threads";
		argv[argc++] = "2";
		argv[argc++] = "--report-csv";
		argv[argc++] = csv[j];
		if (jobs[j]) {
			argv[argc++] = "-j";
			argv[argc++] = jobs[j];
		}
		for (int i = 0; i < FILES; i++)
			argv[argc++] = paths[i];
		argv[argc] = NULL;
		r = run_status(argv, 1);
		out[j] = strdup(r.out);
		err[j] = strdup(r.err);
		ra_run_release(&r);
	}
	/* Each input in order: the good ones' tables, the bad ones' messages. */
	for (int i = 0, at = 0; i < FILES; i++) {
		const int bad = i % 4 == 2;
		const char *found = strstr(bad ? err[0] : out[0] + at, paths[i]);

		ck_assert_msg(found, "%s missing or out of order in %s", paths[i], out[0]);
		if (!bad)
			at = (int)(found - out[0]) + 1;
	}
	ck_assert_int_eq(ra_test_count(out[0], "integrated "), FILES - 2);
	ck_assert_int_eq(ra_test_count(err[0], "\n"), 2);
	for (int j = 0; j < 4; j++) {
		char *a = ra_test_slurp(csv[0], NULL), *b = ra_test_slurp(csv[j], NULL);

		ck_assert_int_eq(ra_test_count(b, "\n"), FILES + 1);
		ck_assert_msg(!strcmp(out[0], out[j]), "-j %s: %s", jobs[j] ? jobs[j] : "default",
			      out[j]);
		ck_assert_str_eq(err[0], err[j]);
		ck_assert_str_eq(a, b);
		free(a);
		free(b);
	}
	for (int j = 0; j < 4; j++) {
		free(csv[j]);
		free(out[j]);
		free(err[j]);
	}
	free_paths(paths, FILES);
}
END_TEST

/* --relative-to: the tree below the base, folders made as needed; inputs
 * outside it, or two meeting at one output, refused before anything
 * runs. */
START_TEST(test_relative_to_tree)
{
	char *deep, *top, *other, *a_dir = ra_test_path(in_dir, "a"),
				  *ab_dir = ra_test_path(in_dir, "a/b");
	char *want_deep = ra_test_path(out_dir, "a/b/deep.flac"),
	     *want_top = ra_test_path(out_dir, "top.flac");
	const char *argv[] = { "-q", "--relative-to", in_dir, "--format", "flac",
			       "-o", out_dir,	      NULL,   NULL,	  NULL,
			       NULL };
	ra_run r;

	ck_assert_int_eq(mkdir(a_dir, 0777), 0);
	ck_assert_int_eq(mkdir(ab_dir, 0777), 0);
	deep = make_input("a/b/deep.wav", 400, 1, 1);
	top = make_input("top.wav", 400, 2, 2);
	other = make_input("a/b/deep.aiff", 400, 1, 3);
	argv[7] = deep;
	argv[8] = top;
	ra_test_run_ok(argv);
	ck_assert_int_eq(access(want_deep, F_OK), 0);
	ck_assert_int_eq(access(want_top, F_OK), 0);
	ck_assert_int_eq(ra_test_dir_entries(out_dir), 2); /* a/ and top.flac */
	/* deep.wav and deep.aiff both make a/b/deep.flac: nothing runs. */
	unlink(want_deep);
	unlink(want_top);
	argv[7] = top;
	argv[8] = deep;
	argv[9] = other;
	r = run_status(argv, 2);
	ck_assert_msg(strstr(r.err, "deep.aiff: would write ") && ra_test_count(r.err, "\n") == 1,
		      "%s", r.err);
	ra_run_release(&r);
	ck_assert_int_ne(access(want_top, F_OK), 0);
	/* Not below the base. */
	argv[2] = ab_dir;
	argv[9] = NULL;
	r = run_status(argv, 2);
	ck_assert_msg(strstr(r.err, "top.wav: not below --relative-to "), "%s", r.err);
	ra_run_release(&r);
	free(deep);
	free(top);
	free(other);
	free(a_dir);
	free(ab_dir);
	free(want_deep);
	free(want_top);
}
END_TEST

/* ---- the manifest ---- */

START_TEST(test_manifest_records_what_was_written)
{
	enum { FILES = 6 };
	char *paths[FILES], *manifest = ra_test_scratch("m.jsonl");
	const char *argv[FILES + 8] = {
		"-q", "--gain", "-3", "-o", out_dir, "--manifest", manifest
	};
	char filter[512];
	ra_run r;

	make_inputs(paths, FILES);
	for (int i = 0; i < FILES; i++)
		argv[7 + i] = paths[i];
	r = run_status(argv, 0);
	ra_run_release(&r);
	ck_assert(manifest_says(manifest, "length == 6 and all(.manifest == 1 and .status == "
					  "\"done\" and .error_class == null and (.settings | "
					  "test(\"^[0-9a-f]{16}$\")) and .frames_in == .frames_out "
					  "and (.tool | startswith(\"rusty-audio \")) and "
					  "(.libraries.sndfile | startswith(\"libsndfile\")))"));
	ck_assert(manifest_says(manifest, "[.[].settings] | unique | length == 1"));
	for (int i = 0; i < FILES; i++) {
		char hex[33], *out = output_of(i);
		struct stat sb;

		hash_of(out, hex);
		ck_assert_int_eq(stat(out, &sb), 0);
		snprintf(
			filter, sizeof(filter),
			"map(select(.input == \"%s\")) | length == 1 and (.[0] | .output == \"%s\" "
			"and .output_hash == \"%s\" and .output_size == %lld and .frames_in == %zu)",
			paths[i], out, hex, (long long)sb.st_size, 800 + 97 * (size_t)(i % 7));
		ck_assert_msg(manifest_says(manifest, filter), "entry %d", i);
		free(out);
	}
	free_paths(paths, FILES);
	free(manifest);
}
END_TEST

/* A line torn by a kill is passed over, and the next run's lines start on
 * a line of their own. */
START_TEST(test_manifest_torn_line)
{
	char *paths[2], *manifest = ra_test_scratch("m.jsonl");
	const char *argv[] = { "-o", out_dir, "--resume", manifest, NULL, NULL, NULL };
	char *text;
	size_t len;
	ra_run r;
	FILE *f;

	make_inputs(paths, 2);
	argv[4] = paths[0];
	argv[5] = paths[1];
	/* A torn entry claiming f 000 is done: not believed. */
	f = fopen(manifest, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "{\"manifest\":1,\"input\":\"%s\",\"status\":\"done\",\"settings\":\"00",
		paths[0]);
	fclose(f);
	r = run_status(argv, 0);
	ck_assert_ptr_nonnull(strstr(r.err, "2 processed, 0 skipped, 0 failed"));
	ra_run_release(&r);
	text = ra_test_slurp(manifest, &len);
	ck_assert_int_eq(ra_test_count(text, "\n"), 3);
	ck_assert_int_eq(text[len - 1], '\n');
	free(text);
	/* Resumed again: both done, the torn line still passed over. */
	r = run_status(argv, 0);
	ck_assert_ptr_nonnull(strstr(r.err, "0 processed, 2 skipped, 0 failed"));
	ra_run_release(&r);
	free_paths(paths, 2);
	free(manifest);
}
END_TEST

/* ---- resume ---- */

typedef struct file_id {
	ino_t ino;
	struct timespec mtime;
} file_id;

static file_id id_of(const char *path)
{
	struct stat sb;

	ck_assert_int_eq(stat(path, &sb), 0);
	return (file_id){ sb.st_ino, sb.st_mtim };
}

static int same_id(file_id a, file_id b)
{
	return a.ino == b.ino && a.mtime.tv_sec == b.mtime.tv_sec &&
	       a.mtime.tv_nsec == b.mtime.tv_nsec;
}

/* The run in ARGV (inputs from index FIRST), resumed: its summary line. */
static void assert_summary(const char *const *argv, int status, const char *summary)
{
	ra_run r = run_status(argv, status);

	ck_assert_msg(strstr(r.err, summary), "no '%s' in: %s", summary, r.err);
	ra_run_release(&r);
}

START_TEST(test_resume_skips_only_what_is_done)
{
	enum { FILES = 6 };
	char *paths[FILES + 1], *outs[FILES], *manifest = ra_test_scratch("m.jsonl");
	const char *argv[FILES + 12] = {
		"--eq", "lowpass:2k", "-o", out_dir, "--resume", manifest
	};
	file_id ids[FILES];
	int argc = 6;
	FILE *f;

	make_inputs(paths, FILES);
	for (int i = 0; i < FILES; i++) {
		outs[i] = output_of(i);
		argv[argc++] = paths[i];
	}
	assert_summary(argv, 0, "6 processed, 0 skipped, 0 failed");
	for (int i = 0; i < FILES; i++)
		ids[i] = id_of(outs[i]);
	/* One output lost, one changed in place (same size), a new input
	 * first in the list: the lost one and the new one are redone. */
	unlink(outs[1]);
	f = fopen(outs[2], "r+");
	ck_assert_ptr_nonnull(f);
	fseek(f, -1, SEEK_END);
	fputc(0x55, f);
	fclose(f);
	ids[2] = id_of(outs[2]);
	paths[FILES] = make_input("new.wav", 300, 2, 99);
	memmove(argv + 7, argv + 6, FILES * sizeof(*argv));
	argv[6] = paths[FILES];
	assert_summary(argv, 0, "2 processed, 5 skipped, 0 failed");
	for (int i = 0; i < FILES; i++)
		if (i != 1)
			ck_assert_msg(same_id(ids[i], id_of(outs[i])), "%s rewritten", outs[i]);
	/* --verify finds the changed bytes. */
	argv[argc + 1] = "--verify";
	assert_summary(argv, 0, "1 processed, 6 skipped, 0 failed");
	ck_assert(!same_id(ids[2], id_of(outs[2])));
	argv[argc + 1] = NULL;
	/* Nothing left to do; other settings redo everything. */
	assert_summary(argv, 0, "0 processed, 7 skipped, 0 failed");
	argv[1] = "lowpass:3k";
	assert_summary(argv, 0, "7 processed, 0 skipped, 0 failed");
	/* -j, --threads and --block-size change no byte: still done. */
	argv[argc + 1] = "-j";
	argv[argc + 2] = "3";
	argv[argc + 3] = "--block-size";
	argv[argc + 4] = "77";
	assert_summary(argv, 0, "0 processed, 7 skipped, 0 failed");
	ck_assert(manifest_says(manifest, "[.[] | select(.status == \"skipped\")] | length == 25"));
	free_paths(paths, FILES + 1);
	free_paths(outs, FILES);
	free(manifest);
}
END_TEST

/* Names JSON cannot hold as text (bytes that are not UTF-8), and ones it
 * escapes (quotes, backslashes, control bytes, a newline), resume all the
 * same: the manifest keys them by their exact bytes. */
START_TEST(test_resume_odd_names)
{
	static const char *const names[] = { "bad \xff\xfe utf-8.wav", "quote \" back \\ .wav",
					     "tab\tnew\nline.wav", "caf\xc3\xa9 \xe2\x82\xac.wav" };
	enum { N = sizeof(names) / sizeof(names[0]) };
	char *paths[N], *manifest = ra_test_scratch("m.jsonl");
	const char *argv[N + 6] = { "-o", out_dir, "--resume", manifest };

	for (int i = 0; i < N; i++) {
		paths[i] = make_input(names[i], 300, 1, (unsigned)i + 7);
		argv[4 + i] = paths[i];
	}
	assert_summary(argv, 0, "4 processed, 0 skipped, 0 failed");
	assert_summary(argv, 0, "0 processed, 4 skipped, 0 failed");
	ck_assert(manifest_says(manifest, "map(select(has(\"input_hex\"))) | length == 2"));
	free_paths(paths, N);
	free(manifest);
}
END_TEST

/* A file of the user's in an output's place is never replaced by
 * --resume: the manifest's failed line about it does not make it ours. */
START_TEST(test_resume_keeps_users_files)
{
	char *paths[1], *manifest = ra_test_scratch("m.jsonl"),
			*theirs = ra_test_path(out_dir, "f 000.wav");
	const char *argv[] = { "-q", "-o", out_dir, "--resume", manifest, NULL, NULL };
	FILE *f = fopen(theirs, "w");
	char *text;
	ra_run r;

	ck_assert_ptr_nonnull(f);
	fputs("the user's notes\n", f);
	fclose(f);
	make_inputs(paths, 1);
	argv[5] = paths[0];
	for (int run = 0; run < 2; run++) {
		r = run_status(argv, 1);
		ck_assert_msg(strstr(r.err, "exists"), "%s", r.err);
		ra_run_release(&r);
	}
	text = ra_test_slurp(theirs, NULL);
	ck_assert_str_eq(text, "the user's notes\n");
	free(text);
	free(theirs);
	free_paths(paths, 1);
	free(manifest);
}
END_TEST

/* An input changed since its line (re-recorded in place) is done again. */
START_TEST(test_resume_sees_changed_inputs)
{
	char *paths[2], *manifest = ra_test_scratch("m.jsonl");
	const char *argv[] = { "-o", out_dir, "--resume", manifest, NULL, NULL, NULL };

	make_inputs(paths, 2);
	argv[4] = paths[0];
	argv[5] = paths[1];
	assert_summary(argv, 0, "2 processed, 0 skipped, 0 failed");
	free(make_input("f 001.wav", 1234, 2, 77)); /* the same name, new audio */
	assert_summary(argv, 0, "1 processed, 1 skipped, 0 failed");
	free_paths(paths, 2);
	free(manifest);
}
END_TEST

/* A manifest that cannot be written keeps the outputs from appearing
 * (exit 75): each would have no line, and a retry would find it in the
 * way. The retry then does them all. */
START_TEST(test_manifest_write_failure)
{
	char *paths[3], *manifest = ra_test_scratch("m.jsonl"), *err;
	const char *argv[] = { "-q",	 "-j", "2",  "-o", out_dir, "--resume",
			       manifest, NULL, NULL, NULL, NULL };
	FILE *f = fopen(manifest, "w");
	int status;

	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 300000; i++)
		fputc('\n', f); /* past the file size limit below; the outputs are not */
	fclose(f);
	make_inputs(paths, 3);
	for (int i = 0; i < 3; i++)
		argv[7 + i] = paths[i];
	status = ra_test_finish(ra_test_spawn(argv, "/dev/null", 250000), &err);
	ck_assert_msg(status == 75, "exit %d: %s", status, err);
	ck_assert_msg(strstr(err, "the manifest cannot be written"), "%s", err);
	free(err);
	ck_assert_int_eq(ra_test_dir_entries(out_dir), 0);
	argv[0] = "--threads=2";
	assert_summary(argv, 0, "3 processed, 0 skipped, 0 failed");
	free_paths(paths, 3);
	free(manifest);
}
END_TEST

/* What --resume and --files-from are given must be what they say: a
 * manifest that is not a regular file is refused at once (a FIFO's open
 * would wait forever, a device may never end), and so is a line list
 * holding a NUL byte (a --files-from0 list given to --files-from). */
START_TEST(test_lists_refused)
{
	char *fifo = ra_test_scratch("fifo.jsonl"), *list = ra_test_scratch("list0"), *paths[2];
	const char *resume_fifo[] = { "-o", out_dir, "--resume", fifo, NULL, NULL };
	const char *resume_dev[] = { "-o", out_dir, "--resume", "/dev/zero", NULL, NULL };
	const char *nul_list[] = { "--list", "--files-from", list, NULL };
	FILE *f = fopen(list, "wb");
	ra_run r;

	make_inputs(paths, 2);
	resume_fifo[4] = resume_dev[4] = paths[0];
	ck_assert_int_eq(mkfifo(fifo, 0666), 0);
	r = run_status(resume_fifo, 2);
	ck_assert_msg(strstr(r.err, "not a regular file"), "%s", r.err);
	ra_run_release(&r);
	r = run_status(resume_dev, 2);
	ck_assert_msg(strstr(r.err, "not a regular file"), "%s", r.err);
	ra_run_release(&r);
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s%c%s%c", paths[0], 0, paths[1], 0);
	fclose(f);
	r = run_status(nul_list, 2);
	ck_assert_msg(strstr(r.err, "--files-from0") && ra_test_count(r.err, "\n") == 1, "%s",
		      r.err);
	ck_assert_str_eq(r.out, "");
	ra_run_release(&r);
	free_paths(paths, 2);
	free(fifo);
	free(list);
}
END_TEST

/* The temporary files of a killed run are removed when their output is
 * redone; a live process's are left alone. */
START_TEST(test_resume_removes_stale_temps)
{
	char *paths[1], *manifest = ra_test_scratch("m.jsonl"), *dead_tmp, *live_tmp;
	const char *argv[] = { "-q", "-o", out_dir, "--resume", manifest, NULL, NULL };
	pid_t dead = fork();

	ck_assert_int_ge(dead, 0);
	if (dead == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(dead, NULL, 0), dead);
	make_inputs(paths, 1);
	argv[5] = paths[0];
	ck_assert_int_ge(asprintf(&dead_tmp, "%s/.f 000.wav.rusty-audio-%ld-0badf00d.part", out_dir,
				  (long)dead),
			 0);
	ck_assert_int_ge(asprintf(&live_tmp, "%s/.f 000.wav.rusty-audio-%ld-0badf00d.part", out_dir,
				  (long)getpid()),
			 0);
	fclose(fopen(dead_tmp, "w"));
	fclose(fopen(live_tmp, "w"));
	ra_test_run_ok(argv);
	ck_assert_int_ne(access(dead_tmp, F_OK), 0);
	ck_assert_int_eq(access(live_tmp, F_OK), 0);
	free(dead_tmp);
	free(live_tmp);
	free_paths(paths, 1);
	free(manifest);
}
END_TEST

START_TEST(test_skip_existing)
{
	char *paths[3];
	const char *argv[] = { "-o", out_dir, "--skip-existing", NULL, NULL, NULL, NULL };
	char *kept = ra_test_path(out_dir, "f 001.wav");

	make_inputs(paths, 3);
	for (int i = 0; i < 3; i++)
		argv[3 + i] = paths[i];
	fclose(fopen(kept, "w")); /* anything by that name counts */
	assert_summary(argv, 0, "2 processed, 1 skipped, 0 failed");
	ck_assert_int_eq(ra_test_dir_entries(out_dir), 3);
	free(kept);
	free_paths(paths, 3);
}
END_TEST

/* SIGKILL in the middle of a 200-file batch on two runners, then
 * --resume: no finished output is rewritten, every input ends done, no
 * temporary file is left, and resuming again does nothing. The middle is
 * made certain by a FIFO among the inputs: the run is killed once it has
 * opened it, then the FIFO is replaced by a file. */
START_TEST(test_kill_then_resume)
{
	enum { FIFO_AT = 150 };
	char *paths[MAX_FILES], *outs[MAX_FILES], *manifest = ra_test_scratch("m.jsonl"), *err;
	const char *argv[MAX_FILES + 12] = { "-q",    "-j",	  "2",	       "--rate",
					     "44100", "--eq",	  "peak:3k:4", "-o",
					     out_dir, "--resume", manifest };
	file_id ids[MAX_FILES];
	int finished[MAX_FILES], argc = 11, fd;
	pid_t pid;

	make_inputs(paths, MAX_FILES);
	for (int i = 0; i < MAX_FILES; i++) {
		outs[i] = output_of(i);
		argv[argc++] = paths[i];
	}
	ck_assert_int_eq(unlink(paths[FIFO_AT]), 0);
	ck_assert_int_eq(mkfifo(paths[FIFO_AT], 0666), 0);
	pid = ra_test_spawn(argv, "/dev/null", 0);
	fd = open(paths[FIFO_AT], O_WRONLY | O_CLOEXEC); /* returns once the run reads it */
	ck_assert_int_ge(fd, 0);
	kill(pid, SIGKILL);
	close(fd);
	ck_assert_int_eq(ra_test_finish(pid, &err), 128 + SIGKILL);
	free(err);
	for (int i = 0; i < MAX_FILES; i++) {
		finished[i] = access(outs[i], F_OK) == 0;
		if (finished[i])
			ids[i] = id_of(outs[i]);
	}
	ck_assert(finished[0] && finished[FIFO_AT - 50] && !finished[FIFO_AT]);
	ck_assert(!finished[MAX_FILES - 1]);
	ck_assert_int_eq(unlink(paths[FIFO_AT]), 0);
	free(make_input("f 150.wav", 700, 2, 150));
	argv[0] = "--threads=1"; /* not quiet: the summary */
	assert_summary(argv, 0, " processed, ");
	for (int i = 0; i < MAX_FILES; i++)
		if (finished[i])
			ck_assert_msg(same_id(ids[i], id_of(outs[i])), "%s rewritten", outs[i]);
	ck_assert_int_eq(ra_test_dir_entries(out_dir), MAX_FILES);
	/* Each input done, by the killed run or by the resumed one (or by
	 * both, when the kill came between its line and its rename). */
	ck_assert(manifest_says(manifest, "group_by(.input) | length == 200 and "
					  "all(map(select(.status == \"done\")) | length >= 1)"));
	assert_summary(argv, 0, "0 processed, 200 skipped, 0 failed");
	free_paths(paths, MAX_FILES);
	free_paths(outs, MAX_FILES);
	free(manifest);
}
END_TEST

/* ---- exit statuses ---- */

START_TEST(test_exit_statuses)
{
	char *paths[2], *manifest = ra_test_scratch("m.jsonl");
	char *bad = ra_test_path(in_dir, "bad.wav");
	const char *argv[] = { "-q", "-o", out_dir, "--manifest", manifest, NULL, NULL, NULL };
	FILE *f = fopen(bad, "w");
	ra_run r;

	ck_assert_ptr_nonnull(f);
	fputs("RIFF, but no more\n", f);
	fclose(f);
	make_inputs(paths, 2);
	/* A bad input: a retry cannot help. */
	argv[5] = paths[0];
	argv[6] = bad;
	r = run_status(argv, 1);
	ra_run_release(&r);
	ck_assert(manifest_says(manifest,
				"map(select(.status == \"failed\")) | length == 1 and "
				"(.[0] | .error_class == \"bad-input\" and "
				"(.input | endswith(\"bad.wav\")) and (.message | length > 0))"));
	/* A full disk: retry. */
	argv[5] = paths[1];
	argv[6] = NULL;
	r = ra_test_run_fault(argv, "write:ENOSPC");
	ck_assert_msg(r.status == 75, "exit %d: %s", r.status, r.err);
	ra_run_release(&r);
	ck_assert(manifest_says(manifest,
				".[-1] | .status == \"failed\" and .error_class == \"io\""));
	free_paths(paths, 2);
	free(bad);
	free(manifest);
}
END_TEST

/* SIGTERM (a preempted task): the file in flight is recorded as
 * interrupted, its temporary file removed, and the process dies of the
 * signal (143 to a shell). */
START_TEST(test_sigterm_records_interrupted)
{
	char *manifest = ra_test_scratch("m.jsonl"), *err, seen[256];
	char *slow = ra_test_scratch("slow.wav");
	const char *gen[] = { "-q",    "--generate", "white", "--duration", "1200", "--sample-rate",
			      "96000", "-o",	     slow,    NULL };
	const char *argv[] = { "-q",	     "--rate", "44100", "-o", out_dir,
			       "--manifest", manifest, slow,	NULL };
	int fd = inotify_init1(IN_CLOEXEC);
	pid_t pid;

	ra_test_run_ok(gen);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(inotify_add_watch(fd, out_dir, IN_CREATE), 0);
	pid = ra_test_spawn(argv, "/dev/null", 0);
	ra_test_wait_for_file(fd, "slow.wav", seen, sizeof(seen));
	kill(pid, SIGTERM);
	close(fd);
	ck_assert_int_eq(ra_test_finish(pid, &err), 128 + SIGTERM);
	free(err);
	ck_assert_int_eq(ra_test_dir_entries(out_dir), 0);
	ck_assert(manifest_says(manifest, "length == 1 and (.[0] | .status == \"failed\" and "
					  ".error_class == \"interrupted\")"));
	free(slow);
	free(manifest);
}
END_TEST

/* Whether a thread of PID waits in the system call whose line of
 * /proc/PID/task/TID/syscall starts with CALL (its number on x86-64 Linux,
 * then its first argument); TEXT gets the main thread's line. */
static int in_call(pid_t pid, const char *call, char text[256])
{
	char path[320];
	DIR *tasks;
	struct dirent *e;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
	tasks = opendir(path);
	while (tasks && !found && (e = readdir(tasks))) {
		char line[256] = "";
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/task/%s/syscall", (long)pid, e->d_name);
		f = fopen(path, "r");
		if (f && fgets(line, sizeof(line), f))
			found = !strncmp(line, call, strlen(call));
		if (f)
			fclose(f);
		if (atol(e->d_name) == (long)pid)
			snprintf(text, 256, "%s", line);
	}
	if (tasks)
		closedir(tasks);
	return found;
}

/* Block until a thread of PID waits in the system call CALL (see
 * in_call()): "0 0x0 " for read() on standard input. */
static void wait_in_call(pid_t pid, const char *call)
{
	char text[256] = "";

	/* A safety net for a child that never gets there, not a timing. */
	for (int tries = 0; tries < 60000; tries++) {
		if (in_call(pid, call, text))
			return;
		usleep(1000);
	}
	ck_abort_msg("rusty-audio never blocked in '%s': %s", call, text);
}

/* A --files-from - list whose writer stays open: SIGINT and SIGTERM stop
 * the read, say so, and the program dies of the signal, its list unread. */
START_TEST(test_signal_stops_a_blocked_list)
{
	static const int sigs[] = { SIGTERM, SIGINT };
	const char *argv[] = { "--files-from", "-", "-o", out_dir, NULL };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		int fds[2], saved = dup(0);
		char *err;
		pid_t pid;

		ck_assert_int_eq(pipe(fds), 0);
		ck_assert_int_eq(dup2(fds[0], 0), 0);
		pid = ra_test_spawn(argv, "/dev/null", 0);
		ck_assert_int_eq(dup2(saved, 0), 0);
		close(saved);
		close(fds[0]);
		ck_assert_int_eq(write(fds[1], "a.wav\n", 6), 6);
		wait_in_call(pid, "0 0x0 ");
		kill(pid, sigs[i]);
		ck_assert_int_eq(ra_test_finish(pid, &err), 128 + sigs[i]);
		close(fds[1]);
		ck_assert_str_eq(err, "rusty-audio: standard input: interrupted\n");
		free(err);
		ck_assert_int_eq(ra_test_dir_entries(out_dir), 0);
	}
}
END_TEST

/* An input FIFO that no writer opens: a stop signal ends the wait in
 * open(), the program dies of it, and nothing is written. */
START_TEST(test_signal_stops_a_fifo_open)
{
	char *fifo = ra_test_scratch("in.fifo"), *err;
	const char *argv[] = { fifo, "-o", out_dir, NULL };
	pid_t pid;

	ck_assert_int_eq(mkfifo(fifo, 0666), 0);
	pid = ra_test_spawn(argv, "/dev/null", 0);
	wait_in_call(pid, "257 "); /* openat */
	kill(pid, SIGTERM);
	ck_assert_int_eq(ra_test_finish(pid, &err), 128 + SIGTERM);
	ck_assert_ptr_nonnull(strstr(err, "in.fifo: interrupted\n"));
	free(err);
	ck_assert_int_eq(ra_test_dir_entries(out_dir), 0);
	unlink(fifo);
	free(fifo);
}
END_TEST

/* Standard output a pipe whose reader reads nothing: a stop signal ends
 * the wait for it (on whichever thread writes), says so, and the program
 * dies of it. */
START_TEST(test_signal_stops_a_blocked_stdout)
{
	char *in = make_input("a.wav", 16000 * 40, 2, 3), *fifo = ra_test_scratch("out.fifo");
	char *err;
	pid_t pid;
	int reader;

	ck_assert_int_eq(mkfifo(fifo, 0666), 0);
	pid = ra_test_spawn((const char *const[]){ in, "-o", "-", "--format", "wav", NULL }, fifo,
			    0);
	reader = open(fifo, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(reader, 0);
	wait_in_call(pid, "7 "); /* poll */
	kill(pid, SIGTERM);
	ck_assert_int_eq(ra_test_finish(pid, &err), 128 + SIGTERM);
	ck_assert_int_eq(ra_test_count(err, "\n"), 1);
	ck_assert_ptr_nonnull(strstr(err, "a.wav: interrupted\n"));
	free(err);
	close(reader);
	unlink(fifo);
	free(fifo);
	free(in);
}
END_TEST

/* An input pipe whose writer stops in the middle and stays open: a stop
 * signal ends the wait for more, the program dies of it, nothing is
 * written. */
START_TEST(test_signal_stops_a_blocked_read)
{
	char *in = make_input("a.wav", 16000 * 10, 2, 3), *err;
	const char *argv[] = { "-", "-o", out_dir, NULL };
	int fds[2], saved = dup(0);
	pid_t pid, feeder;

	ck_assert_int_eq(pipe(fds), 0);
	feeder = fork();
	ck_assert_int_ge(feeder, 0);
	if (feeder == 0) {
		size_t len;
		char *bytes = ra_test_slurp(in, &len);

		close(fds[0]);
		if (write(fds[1], bytes, len / 2) != (ssize_t)(len / 2))
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	ck_assert_int_eq(dup2(fds[0], 0), 0);
	argv[2] = ra_test_path(out_dir, "a.flac");
	pid = ra_test_spawn(argv, "/dev/null", 0);
	ck_assert_int_eq(dup2(saved, 0), 0);
	close(saved);
	close(fds[0]);
	wait_in_call(pid, "7 "); /* poll, for more input */
	kill(pid, SIGTERM);
	ck_assert_int_eq(ra_test_finish(pid, &err), 128 + SIGTERM);
	ck_assert_str_eq(err, "rusty-audio: -: interrupted\n");
	free(err);
	kill(feeder, SIGKILL);
	ck_assert_int_eq(waitpid(feeder, NULL, 0), feeder);
	ck_assert_int_eq(ra_test_dir_entries(out_dir), 0);
	free((char *)argv[2]);
	free(in);
}
END_TEST

START_TEST(test_usage_errors)
{
	char *a = make_input("a.wav", 100, 1, 1);

	/* The manifest is never an input (nor one of the outputs). */
	ck_assert_int_eq(chdir(in_dir), 0);
	static const char *const runs[][8] = {
		{ "--verify", "-o", "x", "a.wav", NULL },
		{ "--analyze", "--manifest", "m.jsonl", "a.wav", NULL },
		{ "--dry-run", "--resume", "m.jsonl", "a.wav", NULL },
		{ "-j", "2", "--stats-json", "s.json", "-o", "x", "a.wav", NULL },
		{ "-j", "2", "--dry-run", "-o", "x", "a.wav", NULL },
		{ "--files-from", "l", "--files-from0", "l", "-o", "x", NULL },
		{ "--skip-existing", "--resume", "m.jsonl", "-o", "x", "a.wav", NULL },
		{ "-j", "0", "-o", "x", "a.wav", NULL },
		{ "--manifest", "a.wav", "-o", "x", "a.wav", NULL },
		{ "--files-from", "a.wav", "--manifest", "a.wav", "-o", "x", NULL },
	};

	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		ra_run r = run_status(runs[i], 2);

		ck_assert_msg(ra_test_count(r.err, "\n") == 1, "not one line: %s", r.err);
		ra_run_release(&r);
	}
	ck_assert_int_eq(ra_test_dir_entries(in_dir), 1);
	free(a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli_batch");
	TCase *tc = ra_test_tcase(s, "batch", 300);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_shards_partition);
	tcase_add_test(tc, test_shard_env);
	tcase_add_test(tc, test_shard_refused);
	tcase_add_test(tc, test_files_from0);
	tcase_add_test(tc, test_jobs_same_bytes_and_order);
	tcase_add_test(tc, test_analyze_jobs_same_report);
	tcase_add_test(tc, test_relative_to_tree);
	tcase_add_test(tc, test_manifest_records_what_was_written);
	tcase_add_test(tc, test_manifest_torn_line);
	tcase_add_test(tc, test_resume_skips_only_what_is_done);
	tcase_add_test(tc, test_resume_odd_names);
	tcase_add_test(tc, test_resume_sees_changed_inputs);
	tcase_add_test(tc, test_resume_keeps_users_files);
	tcase_add_test(tc, test_manifest_write_failure);
	tcase_add_test(tc, test_lists_refused);
	tcase_add_test(tc, test_resume_removes_stale_temps);
	tcase_add_test(tc, test_skip_existing);
	tcase_add_test(tc, test_kill_then_resume);
	tcase_add_test(tc, test_exit_statuses);
	tcase_add_test(tc, test_sigterm_records_interrupted);
	tcase_add_test(tc, test_signal_stops_a_blocked_list);
	tcase_add_test(tc, test_signal_stops_a_fifo_open);
	tcase_add_test(tc, test_signal_stops_a_blocked_stdout);
	tcase_add_test(tc, test_signal_stops_a_blocked_read);
	tcase_add_test(tc, test_usage_errors);
	return ra_test_main(s);
}
