/* Group 7: whole-file jobs as users run them (issue 11): build/rusty-audio
 * spawned on files it generated itself, each job timed with --threads 1
 * and --threads 2 (the ratio is the speed-up of the second thread), and
 * build/bench/io_floor beside the two plain EQ jobs.
 *
 * The inputs, pink noise 6 dB below full scale, in a fresh folder under
 * /dev/shm when it has room (else $TMPDIR or /tmp), removed at the end:
 * stereo 48 kHz files of --seconds (default 10 minutes, --quick 100 s) as
 * 16-bit WAV, 16-bit FLAC and float WAV; a 16-bit 44.1 kHz file as long
 * (--quick: a tenth) to resample; 1000 files of 1 s (--quick: 100); then,
 * alone in the folder and only when it has room for the file and its
 * output, an 8-channel 96 kHz float file 1.5 times as long (15 minutes;
 * --quick: 0.6 times, 1 minute). The commands run in that folder on
 * relative names, as a user there would type them, so that where the folder
 * is does not change them: with one thread the batch of small files ran 5x
 * slower with a 20-byte output path than with a 10-byte one (see
 * bench/RESULTS.md). Every run's output is checked outside the clock (exit
 * status, file count, frames, a non-empty report); a failure stops the
 * program with the command's messages. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sndfile.h>

#include "harness.h"

#ifndef RA_BENCH_PROGRAM
#define RA_BENCH_PROGRAM "build/rusty-audio"
#endif
#ifndef RA_BENCH_IO_FLOOR
#define RA_BENCH_IO_FLOOR "build/bench/io_floor"
#endif

#define PATH_SIZE 4096
#define MARGIN ((double)(256 << 20)) /* bytes left free beside a job's files */

/* A NULL-terminated argument vector of malloc'd strings. */
typedef struct strv {
	char **v;
	size_t n, cap;
} strv;

typedef struct jobs {
	char dir[PATH_SIZE]; /* the temporary folder */
	double seconds;	     /* the stereo 48 kHz files */
	double resample_seconds, multi_seconds;
	int batch; /* files of 1 s */
} jobs;

/* One case: a command, and what it must leave behind. */
typedef struct job_run {
	const jobs *js;
	strv argv;
	const char *out;   /* the output file or folder, removed before each run */
	int files;	   /* outputs expected in the folder OUT; 0: OUT is a file */
	sf_count_t frames; /* of each output; 0: OUT is the command's stdout */
} job_run;

typedef enum job_eq { EQ_NONE, EQ_OCTAVES, EQ_THIRDS } job_eq;

typedef struct job_spec {
	const char *key;      /* the table's heading */
	const char *in;	      /* in the folder: the input, or the batch's folder */
	const char *option;   /* one more option, or NULL */
	job_eq eq;	      /* the bands */
	const char *out;      /* in the folder: file, folder (files > 0) or report */
	int files;	      /* as job_run; also the batch's inputs b1.wav.. */
	sf_count_t frames;    /* as job_run */
	double work;	      /* seconds of audio a run */
	const char *floor_in; /* io_floor's input beside the threads, or NULL */
} job_spec;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static int remove_below(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

static void remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Remove everything in the folder DIR but the folder. */
static void empty_folder(const char *dir)
{
	nftw(dir, remove_below, 16, FTW_DEPTH | FTW_PHYS);
}

static void fail(const jobs *js, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(const jobs *js, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench_jobs: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (js->dir[0])
		remove_tree(js->dir);
	exit(1);
}

static void strv_add(strv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void strv_add(strv *a, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int len;

	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? 2 * a->cap : 32;
		a->v = realloc(a->v, a->cap * sizeof(*a->v));
	}
	va_start(ap, fmt);
	len = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (!a->v || len < 0) {
		fprintf(stderr, "bench_jobs: out of memory\n");
		exit(1);
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void strv_append(strv *a, const strv *b)
{
	for (size_t i = 0; i < b->n; i++)
		strv_add(a, "%s", b->v[i]);
}

static void strv_free(strv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	*a = (strv){ NULL, 0, 0 };
}

/* ARGV as one line for a message, cut short after a few hundred bytes. */
static void describe(char *const *argv, char *line, size_t size)
{
	size_t len = 0;

	line[0] = '\0';
	for (; *argv && len < size; argv++)
		len += (size_t)snprintf(line + len, size - len, "%s%s", len ? " " : "", *argv);
}

/* Run ARGV with stdin from /dev/null and stdout into STDOUT_PATH (NULL:
 * /dev/null), wait for it, and fail unless it exits 0. */
static void spawn_wait(const jobs *js, char *const *argv, const char *stdout_path)
{
	posix_spawn_file_actions_t fa;
	char line[512];
	pid_t pid;
	int err, status;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, stdout_path ? stdout_path : "/dev/null",
					 O_WRONLY | O_CREAT | O_TRUNC, 0644);
	err = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	describe(argv, line, sizeof(line));
	if (err)
		fail(js, "%s: cannot run: %s", line, strerror(err));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			fail(js, "%s: cannot wait: %s", line, strerror(errno));
	if (WIFSIGNALED(status))
		fail(js, "%s: killed by signal %d", line, WTERMSIG(status));
	if (WEXITSTATUS(status))
		fail(js, "%s: exit status %d", line, WEXITSTATUS(status));
}

static void check_frames(const jobs *js, const char *path, sf_count_t frames)
{
	SF_INFO info = { 0 };
	SNDFILE *f = sf_open(path, SFM_READ, &info);

	if (!f)
		fail(js, "%s: unreadable output: %s", path, sf_strerror(NULL));
	sf_close(f);
	if (info.frames != frames)
		fail(js, "%s: %lld frames, expected %lld", path, (long long)info.frames,
		     (long long)frames);
}

/* The folder R->out holds exactly R->files outputs of R->frames each. */
static void check_folder(const job_run *r)
{
	char path[2 * PATH_SIZE];
	DIR *d = opendir(r->out);
	struct dirent *e;
	int count = 0;

	if (!d)
		fail(r->js, "%s: cannot open: %s", r->out, strerror(errno));
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", r->out, e->d_name);
		check_frames(r->js, path, r->frames);
		count++;
	}
	closedir(d);
	if (count != r->files)
		fail(r->js, "%s: %d outputs, expected %d", r->out, count, r->files);
}

static void check_output(const job_run *r)
{
	struct stat st;

	if (r->files)
		check_folder(r);
	else if (r->frames)
		check_frames(r->js, r->out, r->frames);
	else if (stat(r->out, &st) || st.st_size == 0)
		fail(r->js, "%s: the report is empty", r->out);
}

static double run_job(void *arg)
{
	const job_run *r = arg;
	double t;

	remove_tree(r->out);
	if (r->files && mkdir(r->out, 0777))
		fail(r->js, "%s: cannot create: %s", r->out, strerror(errno));
	t = bench_now();
	spawn_wait(r->js, r->argv.v, r->frames ? NULL : r->out);
	t = bench_now() - t;
	check_output(r);
	return t;
}

/* One table: the program with OPTS (inputs and processing; "-o OUT" is
 * added for audio outputs) at --threads 1 and 2, and io_floor when the job
 * has one. The ratios: threads 2 against threads 1, and the floor against
 * threads 2 (how many times the floor's time threads 2 takes). */
static void job_table(bench *b, const jobs *js, const job_spec *s, const strv *opts)
{
	static const char *const names[] = { "threads 1", "threads 2", "I/O floor" };
	const int count = s->floor_in ? 3 : 2;
	bench_case cases[3];
	job_run runs[3];

	for (int i = 0; i < count; i++) {
		runs[i] = (job_run){ js, { NULL, 0, 0 }, s->out, s->files, s->frames };
		if (i == 2) {
			strv_add(&runs[i].argv, "%s", RA_BENCH_IO_FLOOR);
			strv_add(&runs[i].argv, "%s", s->floor_in);
		} else {
			strv_add(&runs[i].argv, "%s", RA_BENCH_PROGRAM);
			strv_add(&runs[i].argv, "-qf");
			strv_add(&runs[i].argv, "--threads=%d", i + 1);
			strv_append(&runs[i].argv, opts);
			if (s->frames)
				strv_add(&runs[i].argv, "-o");
		}
		if (s->frames)
			strv_add(&runs[i].argv, "%s", s->out);
		cases[i] = (bench_case){ names[i], run_job, &runs[i], s->work, i - 1 };
	}
	bench_table_run(b, &(bench_table){ s->key, "x realtime", 1.0, 0 }, cases, count);
	remove_tree(s->out);
	for (int i = 0; i < count; i++)
		strv_free(&runs[i].argv);
}

/* Pink noise, 6 dB below full scale (the EQ's +3 dB bands cannot clip an
 * integer output), into the folder's NAME. */
static void generate(const jobs *js, const char *name, int rate, int channels, double seconds,
		     const char *subtype, int seed)
{
	strv a = { NULL, 0, 0 };

	strv_add(&a, "%s", RA_BENCH_PROGRAM);
	strv_add(&a, "-qf");
	strv_add(&a, "--generate=pink");
	strv_add(&a, "--sample-rate=%d", rate);
	strv_add(&a, "--channels=%d", channels);
	strv_add(&a, "--duration=%.17g", seconds);
	strv_add(&a, "--subtype=%s", subtype);
	strv_add(&a, "--level=-6");
	strv_add(&a, "--seed=%d", seed);
	strv_add(&a, "-o");
	strv_add(&a, "%s", name);
	spawn_wait(js, a.v, NULL);
	strv_free(&a);
}

static sf_count_t frames_of(double seconds, int rate)
{
	return (sf_count_t)llround(seconds * rate);
}

/* The 10-band EQ: peaks on the octave centres 31.25 Hz..16 kHz, +-3 dB
 * alternating, Q 1.41 (as bench-peers.sh and the other groups). */
static void add_octave_eq(strv *a)
{
	for (int i = 0; i < 10; i++)
		strv_add(a, "--eq=peak:%g:%d:1.41", 31.25 * (1 << i), i % 2 ? -3 : 3);
}

/* The 31-band graphic EQ, +-3 dB alternating. */
static void add_thirds_geq(strv *a)
{
	char gains[31 * 3];
	size_t len = 0;

	for (int i = 0; i < 31; i++)
		len += (size_t)snprintf(gains + len, sizeof(gains) - len, "%s%d", i ? "," : "",
					i % 2 ? -3 : 3);
	strv_add(a, "--geq=%s", gains);
}

/* S's table: its option, its bands, then its input or its batch. */
static void job_run_spec(bench *b, const jobs *js, const job_spec *s)
{
	strv opts = { NULL, 0, 0 };

	if (s->option)
		strv_add(&opts, "%s", s->option);
	if (s->eq == EQ_OCTAVES)
		add_octave_eq(&opts);
	else if (s->eq == EQ_THIRDS)
		add_thirds_geq(&opts);
	for (int i = 1; i <= s->files; i++)
		strv_add(&opts, "%s/b%d.wav", s->in, i);
	if (!s->files)
		strv_add(&opts, "%s", s->in);
	job_table(b, js, s, &opts);
	strv_free(&opts);
}

static double free_bytes(const char *dir)
{
	struct statvfs vfs;

	return statvfs(dir, &vfs) ? 0.0 : (double)vfs.f_bavail * (double)vfs.f_frsize;
}

/* What the stereo jobs' files take at most: the inputs, the batch's
 * outputs and one float output. */
static double stereo_bytes(const jobs *js)
{
	return js->seconds * 48000 * 2 * (2 + 2 + 4 + 4) + js->resample_seconds * 44100 * 2 * 2 +
	       2.0 * js->batch * 48000 * 2 * 4 + MARGIN;
}

/* The lengths for B's mode, the programs there, and the folder: under
 * /dev/shm when it has room for the stereo jobs, else $TMPDIR or /tmp. */
static void jobs_init(jobs *js, const bench *b)
{
	const char *tmp = getenv("TMPDIR");
	const char *base = tmp && *tmp ? tmp : "/tmp";
	char dir[PATH_SIZE];

	memset(js, 0, sizeof(*js));
	js->seconds = b->seconds;
	js->resample_seconds = fmax(1.0, rint(b->seconds * (b->quick ? 0.1 : 1.0)));
	js->multi_seconds = b->seconds * (b->quick ? 0.6 : 1.5);
	js->batch = b->quick ? 100 : 1000;
	if (access(RA_BENCH_PROGRAM, X_OK) || access(RA_BENCH_IO_FLOOR, X_OK))
		fail(js, "%s or %s: not built (make bench builds them)", RA_BENCH_PROGRAM,
		     RA_BENCH_IO_FLOOR);
	if (free_bytes("/dev/shm") >= stereo_bytes(js))
		base = "/dev/shm";
	if (free_bytes(base) < stereo_bytes(js))
		fail(js, "%s: %.2f GB free, the jobs need %.2f GB", base, free_bytes(base) / 1e9,
		     stereo_bytes(js) / 1e9);
	snprintf(dir, sizeof(dir), "%s/bench_jobs.XXXXXX", base);
	if (!mkdtemp(dir))
		fail(js, "%s: cannot create: %s", dir, strerror(errno));
	snprintf(js->dir, sizeof(js->dir), "%s", dir);
	if (chdir(js->dir))
		fail(js, "%s: cannot enter: %s", js->dir, strerror(errno));
	printf("files in %s: stereo 48 kHz %.0f s (16-bit WAV, FLAC, float WAV), 44.1 kHz "
	       "%.0f s, %d x 1 s float; 8 ch 96 kHz float %.0f s\n",
	       js->dir, js->seconds, js->resample_seconds, js->batch, js->multi_seconds);
}

static void make_inputs(const jobs *js)
{
	char name[32];

	generate(js, "in16.wav", 48000, 2, js->seconds, "pcm16", 1);
	generate(js, "in.flac", 48000, 2, js->seconds, "pcm16", 1);
	generate(js, "in.wav", 48000, 2, js->seconds, "float", 1);
	generate(js, "in44k.wav", 44100, 2, js->resample_seconds, "pcm16", 1);
	if (mkdir("batch", 0777))
		fail(js, "%s/batch: cannot create: %s", js->dir, strerror(errno));
	for (int i = 1; i <= js->batch; i++) {
		snprintf(name, sizeof(name), "batch/b%d.wav", i);
		generate(js, name, 48000, 2, 1.0, "float", i);
	}
}

/* Issue 11's table and WAV -> FLAC with the EQ: every job but the 8-channel one. */
static void stereo_jobs(bench *b, const jobs *js)
{
	const sf_count_t frames = frames_of(js->seconds, 48000);
	const double s = js->seconds, rs = js->resample_seconds;
	const job_spec specs[] = {
		{ "WAV -> FLAC, 16-bit", "in16.wav", NULL, EQ_NONE, "out.flac", 0, frames, s,
		  NULL },
		{ "WAV -> FLAC, 10-band EQ", "in16.wav", NULL, EQ_OCTAVES, "out.flac", 0, frames, s,
		  NULL },
		{ "FLAC -> FLAC, 10-band EQ", "in.flac", NULL, EQ_OCTAVES, "out.flac", 0, frames, s,
		  NULL },
		{ "16-bit WAV, 10-band EQ, TPDF dither", "in16.wav", NULL, EQ_OCTAVES, "out.wav", 0,
		  frames, s, "in16.wav" },
		{ "float WAV, 10-band EQ", "in.wav", NULL, EQ_OCTAVES, "out.wav", 0, frames, s,
		  "in.wav" },
		{ "--analyze, float WAV", "in.wav", "--analyze", EQ_NONE, "analysis.txt", 0, 0, s,
		  NULL },
		{ "batch of 1 s float files, 10-band EQ", "batch", NULL, EQ_OCTAVES, "outs",
		  js->batch, 48000, js->batch, NULL },
		{ "resample 44.1 -> 48 kHz, 16-bit", "in44k.wav", "--rate=48000", EQ_NONE,
		  "out.wav", 0, frames_of(rs, 48000), rs, NULL },
	};

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		job_run_spec(b, js, &specs[i]);
		if (specs[i].floor_in)
			bench_note("I/O floor: io_floor, a libsndfile float copy of the input; its "
				   "ratio is threads 2's time over the floor's");
	}
}

/* The 8-channel 96 kHz file with 31 bands, alone in the folder, when there
 * is room for it and its output. */
static void multichannel_job(bench *b, const jobs *js)
{
	const double ms = js->multi_seconds, need = 2.0 * ms * 96000 * 8 * 4 + MARGIN;
	const job_spec s = { .key = "8 ch 96 kHz float, 31-band graphic EQ",
			     .in = "in8.wav",
			     .eq = EQ_THIRDS,
			     .out = "out.wav",
			     .frames = frames_of(ms, 96000),
			     .work = ms };

	if (free_bytes(js->dir) < need) {
		printf("-- %s\n", s.key);
		bench_note("skipped: %.2f GB free in %s, the file and its output need %.2f GB",
			   free_bytes(js->dir) / 1e9, js->dir, need / 1e9);
		return;
	}
	generate(js, s.in, 96000, 8, ms, "float", 1);
	job_run_spec(b, js, &s);
	bench_note("target (issue 11): threads 2 at least 1.7x threads 1");
}

int main(int argc, char **argv)
{
	jobs js;
	bench b;

	bench_init(&b, "jobs", "whole-file jobs, build/rusty-audio --threads 1 and 2", 600.0, argc,
		   argv);
	jobs_init(&js, &b);
	make_inputs(&js);
	stereo_jobs(&b, &js);
	empty_folder(js.dir);
	multichannel_job(&b, &js);
	remove_tree(js.dir);
	return bench_finish(&b);
}
