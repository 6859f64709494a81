/* End-to-end tests of what the binary does to the files around it: no
 * input is ever written over, nothing that is not a regular file is ever
 * replaced (the null device is a sink), FFTW wisdom is an output like any
 * other, every catchable signal and the file size limit leave nothing
 * behind, outputs libsndfile cannot really write are refused, and errors
 * writing standard output are reported. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "rustyaudio/atomic_file.h"
#include "testutil.h"

static char *out;

/* A folder for the outputs in the scratch folder. */
static void setup(void)
{
	out = ra_test_scratch("out");
	ck_assert_int_eq(mkdir(out, 0777), 0);
}

static void teardown(void)
{
	free(out);
	out = NULL;
}

/* NAME in the scratch folder: half a second of mono 16-bit WAV, long
 * enough for a spectrum. */
static char *make_input(const char *name)
{
	float x[4000];
	char *path = ra_test_scratch(name);

	for (size_t i = 0; i < 4000; i++)
		x[i] = (float)((i * 37) % 101) / 200.0f - 0.25f;
	ra_test_write_float(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, x, 4000);
	return path;
}

/* A failed run: STATUS, one line on stderr that contains NEEDLE. */
static void assert_refused(const char *const *argv, int status, const char *needle)
{
	ra_run r = ra_test_run(argv, NULL);

	ck_assert_msg(r.status == status, "exit %d, not %d: %s", r.status, status, r.err);
	ck_assert_msg(ra_test_count(r.err, "\n") == 1, "not one line: %s", r.err);
	ck_assert_msg(strstr(r.err, needle), "no '%s' in: %s", needle, r.err);
	ra_run_release(&r);
}

static mode_t file_type(const char *path)
{
	struct stat sb;

	ck_assert_int_eq(stat(path, &sb), 0);
	return sb.st_mode & S_IFMT;
}

/* An hour of resampled noise into OUT/long.wav (with a spectrum, the
 * stats document and FFTW wisdom): a run still going whenever its
 * temporary audio file has appeared. Returns its pid, the temporary
 * file's name in TMP_NAME. */
static pid_t start_long_run(const char *wisdom, char *tmp_name, size_t size)
{
	char *long_wav = ra_test_path(out, "long.wav"), *csv = ra_test_path(out, "long.csv");
	char *json = ra_test_path(out, "stats.json");
	const char *argv[] = { "-q",   "--generate",   "white",	 "--duration",
			       "3600", "--rate",       "96000",	 "--spectrum",
			       csv,    "--stats-json", json,	 "--fftw-wisdom",
			       wisdom, "-o",	       long_wav, NULL };
	int fd = inotify_init1(IN_CLOEXEC);
	pid_t pid;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(inotify_add_watch(fd, out, IN_CREATE), 0);
	pid = ra_test_spawn(argv, "/dev/null", 0);
	ra_test_wait_for_file(fd, "long.wav", tmp_name, size);
	close(fd);
	free(long_wav);
	free(csv);
	free(json);
	return pid;
}

/* ---- inputs are never written over ---- */

/* Every output of a batch (audio, reports, stats, wisdom) is checked
 * against every input before anything is written: a later input named
 * like an earlier input's output is a usage error, even with --force. */
START_TEST(test_batch_never_overwrites_a_later_input)
{
	char *in_dir = ra_test_scratch("in"), *rep = ra_test_scratch("rep");
	char *a, *b, *later, *report, *copy;

	ck_assert_int_eq(mkdir(in_dir, 0777), 0);
	ck_assert_int_eq(mkdir(rep, 0777), 0);
	a = make_input("in/x.wav");
	b = make_input("b.wav");
	later = ra_test_path(out, "x.wav");
	report = ra_test_path(rep, "x.spectrum.csv");
	copy = ra_test_scratch("copy.wav");
	ck_assert_int_eq(link(b, later), 0);
	ck_assert_int_eq(link(b, report), 0);
	ck_assert_int_eq(link(b, copy), 0);

	/* The audio output of in/x.wav is the next input. */
	assert_refused((const char *const[]){ "-f", "--gain", "-1", a, later, "-o", out, NULL }, 2,
		       "would overwrite the input");
	/* Its spectrum is. */
	assert_refused((const char *const[]){ "-f", a, report, "-o", rep, "--spectrum", rep, NULL },
		       2, "would overwrite the input");
	/* The stats document and the wisdom file are. */
	assert_refused((const char *const[]){ "-f", a, b, "-o", rep, "--stats-json", b, NULL }, 2,
		       "would overwrite the input");
	assert_refused((const char *const[]){ "-f", a, copy, "-o", rep, "--fftw-wisdom", copy,
					      "--spectrum", rep, NULL },
		       2, "not FFTW wisdom");
	ck_assert(ra_test_same_bytes(b, later));
	ck_assert(ra_test_same_bytes(b, report));
	/* Nothing else was written anywhere. */
	ck_assert_int_eq(ra_test_dir_entries(out), 1);
	ck_assert_int_eq(ra_test_dir_entries(rep), 1);
	ck_assert_int_eq(ra_test_dir_entries(ra_test_scratch_dir()), 5);
	free(in_dir);
	free(rep);
	free(a);
	free(b);
	free(later);
	free(report);
	free(copy);
}
END_TEST

/* The minor page faults of a batch over the first COUNT of FILES into the
 * folder DIR with the options OPTS (two), on one thread. */
static long batch_faults(const char *dir, const char *const *opts, char **files, int count)
{
	const char *argv[80] = { "-q", "-f", "--threads", "1", "-o", dir, opts[0], opts[1] };
	int n = 8;
	ra_run r;
	long faults;

	for (int i = 0; i < count; i++)
		argv[n++] = files[i];
	argv[n] = NULL;
	r = ra_test_run(argv, NULL);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	faults = r.minflt;
	ra_run_release(&r);
	return faults;
}

/* A batch reuses its memory: a file after the first faults in next to no
 * new pages (its I/O buffers come back from the heap, not from the
 * system), so 60 files cost little more than 6, whatever the names. The
 * memory once went back to the system after each file whenever the heap's
 * layout put the 1 MiB I/O buffers at its top, which the lengths of the
 * names decided: then 150 faults a file, and 1000 one-second files took
 * 3.5 s instead of 0.5 s. Output folders named in 1 to 49 bytes, with and
 * without an EQ, to meet such layouts. Counts, not times; not judged under
 * the sanitizers, whose allocators keep memory their own way. */
START_TEST(test_batch_reuses_memory)
{
	static const char *const jobs[][2] = { { "--gain", "-1" }, { "--eq", "peak:1k:3:1" } };
	float *x = ra_test_noise(2 * 48000, 5, 0.25f);
	char *src = ra_test_scratch("src.wav"), *files[60], name[64] = "";

	ra_test_write_float(src, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 2, x, 48000);
	for (int i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "input-%02d.wav", i);
		files[i] = ra_test_scratch(name);
		ck_assert_int_eq(link(src, files[i]), 0);
	}
	for (size_t len = 1; len < 50; len += 4) {
		char *dir;

		memset(name, 'o', len);
		name[len] = '\0';
		dir = ra_test_scratch(name);
		ck_assert_int_eq(mkdir(dir, 0777), 0);
		for (size_t j = 0; j < sizeof(jobs) / sizeof(jobs[0]); j++) {
			long few = batch_faults(dir, jobs[j], files, 6);
			long many = batch_faults(dir, jobs[j], files, 60);

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
			ck_assert_msg(
				many - few < 54 * 20,
				"%s %s into a %zu-byte folder: 6 files %ld faults, 60 files %ld",
				jobs[j][0], jobs[j][1], len, few, many);
#else
			(void)few;
			(void)many;
#endif
		}
		free(dir);
	}
	for (int i = 0; i < 60; i++)
		free(files[i]);
	free(src);
	free(x);
}
END_TEST

/* No two outputs of a run land in one place, however spelled: refused
 * before anything is written, even with --force over an existing file. */
START_TEST(test_outputs_never_meet)
{
	char *in = make_input("in.wav"), *keep = make_input("keep.wav");
	char *o = ra_test_path(out, "o.wav"), *o_too = ra_test_path(out, "./o.wav");
	char *x = ra_test_scratch("x"), *y = ra_test_scratch("y"), *rep = ra_test_scratch("rep");
	char *xa, *ya;

	ck_assert_int_eq(link(keep, o), 0);
	assert_refused((const char *const[]){ "-f", in, "-o", o, "--spectrum", o_too, NULL }, 2,
		       "written by both -o and --spectrum");
	assert_refused((const char *const[]){ "-f", in, "-o", o, "--stats-json", o, NULL }, 2,
		       "written by both -o and --stats-json");
	ck_assert(ra_test_same_bytes(keep, o));
	ck_assert_int_eq(unlink(o), 0);
	assert_refused((const char *const[]){ in, "-o", o, "--spectrum", o_too, NULL }, 2,
		       "written by both -o and --spectrum");
	assert_refused((const char *const[]){ in, "-o", o, "--fftw-wisdom", o_too, NULL }, 2,
		       "written by both -o and --fftw-wisdom");
	/* Two inputs of one name in different folders, reports in one folder. */
	ck_assert_int_eq(mkdir(x, 0777), 0);
	ck_assert_int_eq(mkdir(y, 0777), 0);
	ck_assert_int_eq(mkdir(rep, 0777), 0);
	xa = make_input("x/a.wav");
	ya = make_input("y/a.wav");
	assert_refused((const char *const[]){ xa, ya, "--plot", rep, "-o", out, NULL }, 2,
		       "written by both --plot and --plot");
	ck_assert_int_eq(ra_test_dir_entries(out), 0);
	ck_assert_int_eq(ra_test_dir_entries(rep), 0);
	free(xa);
	free(ya);
	free(rep);
	free(y);
	free(x);
	free(o_too);
	free(o);
	free(keep);
	free(in);
}
END_TEST

/* ---- nothing but regular files is replaced ---- */

START_TEST(test_fifo_never_replaced)
{
	char *in = make_input("in.wav"), *fifo = ra_test_path(out, "fifo"),
	     *o = ra_test_path(out, "o.wav");

	ck_assert_int_eq(mkfifo(fifo, 0666), 0);
	assert_refused((const char *const[]){ "-f", in, "-o", fifo, NULL }, 1,
		       "not a regular file");
	assert_refused((const char *const[]){ in, "-o", fifo, NULL }, 1, "not a regular file");
	assert_refused((const char *const[]){ "-f", in, "--spectrum", fifo, "-o", o, NULL }, 1,
		       "not a regular file");
	assert_refused((const char *const[]){ "-f", in, "--plot", fifo, "-o", o, NULL }, 1,
		       "not a regular file");
	assert_refused((const char *const[]){ "-f", in, "--stats-json", fifo, "-o", o, NULL }, 1,
		       "not a regular file");
	/* Wisdom is read from a regular file only: no waiting for a writer. */
	assert_refused((const char *const[]){ "-f", in, "--fftw-wisdom", fifo, "-o", o, NULL }, 2,
		       "not a regular file");
	ck_assert_uint_eq(file_type(fifo), S_IFIFO);
	ck_assert_int_eq(ra_test_dir_entries(out), 1);
	/* A device that is not the null device, by any user: refused, with
	 * --force too, and never written to. */
	assert_refused((const char *const[]){ "-f", in, "-o", "/dev/zero", NULL }, 1,
		       "/dev/zero: not a regular file");
	ck_assert_uint_eq(file_type("/dev/zero"), S_IFCHR);
	free(in);
	free(fifo);
	free(o);
}
END_TEST

/* A copy of /dev/null (a character device 1,3) is a sink, with or without
 * --force: written to as it is, no temporary file, still a device after.
 * Any other device is refused. */
START_TEST(test_devices)
{
	char *in = make_input("in.wav"), *null = ra_test_path(out, "mynull");
	char *zero = ra_test_path(out, "myzero"), *o = ra_test_path(out, "o.wav");
	struct stat sb;

	if (geteuid() != 0) {
		fputs("check_cli_files: not root: device nodes not tested\n", stderr);
		goto out;
	}
	ck_assert_int_eq(mknod(null, S_IFCHR | 0666, makedev(1, 3)), 0);
	ck_assert_int_eq(mknod(zero, S_IFCHR | 0666, makedev(1, 5)), 0);
	ra_test_run_ok((const char *const[]){ "-f", in, "-o", null, NULL });
	ra_test_run_ok((const char *const[]){ "--gain", "-1", in, "-o", null, "--spectrum", null,
					      "--plot", null, "--stats-json", null, NULL });
	assert_refused((const char *const[]){ "-f", in, "-o", zero, NULL }, 1,
		       "not a regular file");
	assert_refused((const char *const[]){ "-f", in, "--spectrum", zero, "-o", o, NULL }, 1,
		       "not a regular file");
	ck_assert_int_eq(stat(null, &sb), 0);
	ck_assert(S_ISCHR(sb.st_mode) && sb.st_rdev == makedev(1, 3));
	ck_assert_int_eq(stat(zero, &sb), 0);
	ck_assert(S_ISCHR(sb.st_mode) && sb.st_rdev == makedev(1, 5));
	ck_assert_int_eq(ra_test_dir_entries(out), 2);
out:
	free(in);
	free(null);
	free(zero);
	free(o);
}
END_TEST

/* /dev/null itself is a usable sink, as with SoX and ffmpeg: no --force,
 * the input's format or --format's (its name has no extension). */
START_TEST(test_dev_null_sink)
{
	char *in = make_input("in.wav");

	ra_test_run_ok((const char *const[]){ in, "-o", "/dev/null", NULL });
	ra_test_run_ok((const char *const[]){ "--format", "flac", in, "-o", "/dev/null", NULL });
	ra_test_run_ok((const char *const[]){ "--generate", "sine:440", "--duration", "0.1", "-o",
					      "/dev/null", NULL });
	ck_assert_uint_eq(file_type("/dev/null"), S_IFCHR);
	free(in);
}
END_TEST

/* ---- FFTW wisdom is an output like any other ---- */

START_TEST(test_wisdom_is_an_output)
{
	char *in = make_input("in.wav"), *o = ra_test_path(out, "o.wav");
	char *csv = ra_test_path(out, "o.csv"), *wis = ra_test_scratch("fft.wisdom");
	char *text;

	/* Named like the audio output (or a report): refused before anything
	 * is written, not audio replaced by wisdom. */
	assert_refused(
		(const char *const[]){ in, "--spectrum", csv, "--fftw-wisdom", o, "-o", o, NULL },
		2, "--fftw-wisdom");
	assert_refused(
		(const char *const[]){ in, "--spectrum", csv, "--fftw-wisdom", csv, "-o", o, NULL },
		2, "--fftw-wisdom");
	ck_assert_int_eq(ra_test_dir_entries(out), 0);
	/* A dry run writes nothing, wisdom included. */
	ra_test_run_ok(
		(const char *const[]){ "--dry-run", in, "--fftw-wisdom", wis, "-o", o, NULL });
	ck_assert_int_ne(access(wis, F_OK), 0);
	/* Created by a run, then updated in place by the next one that
	 * loaded it. */
	ra_test_run_ok((const char *const[]){ in, "--spectrum", csv, "--fftw-wisdom", wis, "-o", o,
					      NULL });
	ra_test_run_ok((const char *const[]){ "-f", in, "--spectrum", csv, "--fftw-wisdom", wis,
					      "-o", o, NULL });
	text = ra_test_slurp(wis, NULL);
	ck_assert_int_eq(strncmp(text, "(fftw-", 6), 0);
	free(text);
	ck_assert_int_eq(ra_test_dir_entries(ra_test_scratch_dir()), 3);
	free(in);
	free(o);
	free(csv);
	free(wis);
}
END_TEST

/* ---- signals and limits leave nothing behind ---- */

/* Every terminating signal that can be caught stops the run with nothing
 * written (no audio, no temporary file, no report, no stats, no wisdom),
 * and the process then dies of that signal. */
START_TEST(test_signals_leave_nothing)
{
	static const int sigs[] = { SIGINT,  SIGTERM, SIGHUP,	 SIGPIPE, SIGQUIT, SIGUSR1,
				    SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU };
	char *wis = ra_test_scratch("fft.wisdom");

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		char tmp[256], *err;
		pid_t pid = start_long_run(wis, tmp, sizeof(tmp));
		int status;

		ck_assert_int_eq(kill(pid, sigs[i]), 0);
		status = ra_test_finish(pid, &err);
		ck_assert_msg(status == 128 + sigs[i], "%s: exit %d: %s", strsignal(sigs[i]),
			      status, err);
		ck_assert_msg(ra_test_dir_entries(out) == 0, "%s left files", strsignal(sigs[i]));
		ck_assert_int_ne(access(wis, F_OK), 0);
		free(err);
	}
	free(wis);
}
END_TEST

/* Only SIGKILL leaves a temporary file: hidden, and named as this tool's
 * so that it can be found and removed (see the manual's FILES). */
START_TEST(test_temporary_file_names)
{
	char tmp[256], pid_text[32], *wis = ra_test_scratch("fft.wisdom"), *err;
	pid_t pid = start_long_run(wis, tmp, sizeof(tmp));

	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(ra_test_finish(pid, &err), 128 + SIGKILL);
	snprintf(pid_text, sizeof(pid_text), "-%ld-", (long)pid);
	ck_assert_int_eq(fnmatch(RA_ATOMIC_TEMP_GLOB, tmp, FNM_PERIOD), 0);
	ck_assert_int_eq(strncmp(tmp, ".long.wav.rusty-audio-", 22), 0);
	ck_assert_ptr_nonnull(strstr(tmp, pid_text));
	free(err);
	free(wis);
}
END_TEST

/* Past the file size limit (ulimit -f) the write fails: one line, exit 1,
 * nothing left; not a silent death by SIGXFSZ. */
/* Names up to the file system's limit work, and its temporary name fits;
 * one past it is refused before any work, and a message naming long
 * paths still ends with its reason. */
START_TEST(test_long_names)
{
	char *in = make_input("in.wav"), name[300], *longest, *too_long, *deep;
	int n;

	memset(name, 'a', 255);
	memcpy(name + 251, ".wav", 5);
	longest = ra_test_path(out, name);
	ra_test_run_ok((const char *const[]){ in, "-o", longest, NULL });
	ck_assert_uint_eq(file_type(longest), S_IFREG);
	memset(name, 'b', 256);
	memcpy(name + 252, ".wav", 5);
	too_long = ra_test_path(out, name);
	assert_refused((const char *const[]){ in, "-o", too_long, NULL }, 2,
		       "bbbb.wav: File name too long\n");
	ck_assert_int_eq(ra_test_dir_entries(out), 1);
	memset(name, 'c', 250);
	name[250] = '\0';
	n = asprintf(&deep, "%s/%s/%s/x.wav", out, name, name);
	ck_assert_int_gt(n, 500);
	assert_refused((const char *const[]){ in, "-o", deep, NULL }, 1,
		       "/x.wav: cannot create: No such file or directory\n");
	free(deep);
	free(too_long);
	free(longest);
	free(in);
}
END_TEST

/* A newline and a byte that is not UTF-8 in a name: every message is one
 * line, the name quoted as Git quotes it. */
START_TEST(test_odd_names_one_line)
{
	char *in = make_input("in.wav"), *odd = ra_test_scratch("a\nb\xe9.wav");
	char *o = ra_test_path(out, "o.wav"), *missing = ra_test_scratch("x\ny.wav");
	ra_run r;

	ck_assert_int_eq(rename(in, odd), 0);
	r = ra_test_run((const char *const[]){ odd, "--gain", "100", "-o", o, NULL }, NULL);
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	ck_assert_int_eq(ra_test_count(r.err, "\n"), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "rusty-audio: warning: \""));
	ck_assert_ptr_nonnull(strstr(r.err, "a\\nb\xe9.wav\": "));
	ra_run_release(&r);
	assert_refused((const char *const[]){ missing, "-o", o, "-f", NULL }, 1,
		       "x\\ny.wav\": cannot open: No such file or directory\n");
	free(missing);
	free(o);
	free(odd);
	free(in);
}
END_TEST

/* Run ARGV with the bytes of FEED on its standard input through a pipe, or
 * with FIFO set, written into that FIFO (which the program opens as its
 * input); its exit status, stderr in *ERR. */
static int run_fed(const char *const *argv, const char *feed, const char *fifo, char **err)
{
	size_t len;
	char *bytes = ra_test_slurp(feed, &len);
	int fds[2] = { -1, -1 }, saved = fcntl(0, F_DUPFD_CLOEXEC, 0), to;
	pid_t pid;

	if (!fifo) {
		ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0); /* the child keeps no writer */
		ck_assert_int_eq(dup2(fds[0], 0), 0);
	}
	pid = ra_test_spawn(argv, "/dev/null", 0);
	ck_assert_int_eq(dup2(saved, 0), 0);
	close(saved);
	if (!fifo)
		close(fds[0]);
	to = fifo ? open(fifo, O_WRONLY | O_CLOEXEC) : fds[1];
	ck_assert_int_ge(to, 0);
	ck_assert_int_eq(write(to, bytes, len), (ssize_t)len);
	close(to);
	free(bytes);
	return ra_test_finish(pid, err);
}

/* A WAV read from a pipe (standard input as "-", and a FIFO) gives the
 * bytes the same file gives (FLAC out: no length in a header to differ);
 * FLAC, which libsndfile cannot read from a pipe, is refused in one line. */
START_TEST(test_pipe_input)
{
	char *in = make_input("in.wav"), *fifo = ra_test_scratch("in.fifo"), *err;
	char *ref = ra_test_path(out, "ref.flac"), *piped = ra_test_path(out, "piped.flac");
	char *flac = ra_test_scratch("in.flac"), *o = ra_test_path(out, "o.wav");

	ra_test_run_ok((const char *const[]){ in, "--eq", "peak:1k:3", "-o", ref, NULL });
	ck_assert_int_eq(
		run_fed((const char *const[]){ "-", "--eq", "peak:1k:3", "-o", piped, NULL }, in,
			NULL, &err),
		0);
	ck_assert_msg(ra_test_same_bytes(ref, piped), "standard input: %s", err);
	free(err);
	ck_assert_int_eq(mkfifo(fifo, 0666), 0);
	ck_assert_int_eq(
		run_fed((const char *const[]){ fifo, "--eq", "peak:1k:3", "-f", "-o", piped, NULL },
			in, fifo, &err),
		0);
	ck_assert_msg(ra_test_same_bytes(ref, piped), "FIFO: %s", err);
	free(err);
	ra_test_run_ok((const char *const[]){ in, "-o", flac, NULL });
	ck_assert_int_eq(run_fed((const char *const[]){ "-", "-o", o, NULL }, flac, NULL, &err), 1);
	ck_assert_int_eq(ra_test_count(err, "\n"), 1);
	ck_assert_ptr_nonnull(strstr(err, "rusty-audio: -: not an audio stream libsndfile reads "
					  "from a pipe"));
	free(err);
	ck_assert_int_eq(access(o, F_OK), -1);
	unlink(fifo);
	free(o);
	free(flac);
	free(piped);
	free(ref);
	free(fifo);
	free(in);
}
END_TEST

/* ---- standard output ---- */

/* Run ARGV with standard input from the file FEED (through a pipe from
 * another process when PIPED, so of no known length) and standard output a
 * FIFO, drained into SINK as it comes: a stream the program cannot seek
 * back in. Its exit status, stderr in *ERR. */
static int run_to_pipe(const char *const *argv, const char *feed, int piped, const char *sink,
		       char **err)
{
	char *fifo = ra_test_scratch("out.fifo"), buf[1 << 16];
	int saved = fcntl(0, F_DUPFD_CLOEXEC, 0), in = open(feed, O_RDONLY | O_CLOEXEC), from, to;
	pid_t pid, feeder = -1;
	ssize_t n;

	ck_assert_int_ge(in, 0);
	unlink(fifo);
	ck_assert_int_eq(mkfifo(fifo, 0666), 0);
	if (piped) {
		int fds[2];

		ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
		feeder = fork();
		ck_assert_int_ge(feeder, 0);
		if (feeder == 0) {
			while ((n = read(in, buf, sizeof(buf))) > 0)
				if (write(fds[1], buf, (size_t)n) != n)
					_exit(1);
			_exit(0);
		}
		close(fds[1]);
		close(in);
		in = fds[0];
	}
	ck_assert_int_eq(dup2(in, 0), 0);
	pid = ra_test_spawn(argv, fifo, 0);
	ck_assert_int_eq(dup2(saved, 0), 0);
	close(saved);
	close(in);
	from = open(fifo, O_RDONLY | O_CLOEXEC);
	to = open(sink, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	ck_assert_int_ge(from, 0);
	ck_assert_int_ge(to, 0);
	while ((n = read(from, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(to, buf, (size_t)n), n);
	close(from);
	close(to);
	if (feeder > 0)
		ck_assert_int_eq(waitpid(feeder, NULL, 0), feeder);
	unlink(fifo);
	free(fifo);
	return ra_test_finish(pid, err);
}

/* The 32-bit little- or big-endian number at AT in PATH, or after the
 * first TAG (when not NULL) past AT. */
static uint32_t number_at(const char *path, size_t at, const char *tag, int big)
{
	size_t len;
	unsigned char *d = (unsigned char *)ra_test_slurp(path, &len);
	uint32_t v = 0;

	if (tag) {
		unsigned char *p = memmem(d + at, len - at, tag, strlen(tag));

		ck_assert_ptr_nonnull(p);
		at = (size_t)(p - d) + strlen(tag);
	}
	ck_assert_uint_ge(len, at + 4);
	for (int k = 0; k < 4; k++)
		v |= (uint32_t)d[at + (big ? 3 - k : k)] << (8 * k);
	free(d);
	return v;
}

/* Whether libsndfile reads the audio of REF from GOT, to its end (a
 * header there may say more than it holds). */
static int same_audio(const char *ref, const char *got)
{
	SF_INFO ia = { 0 }, ib = { 0 };
	int *x = ra_test_read_int(ref, &ia), *y;
	SNDFILE *sf = sf_open(got, SFM_READ, &ib);
	sf_count_t n;
	int same;

	ck_assert_ptr_nonnull(sf);
	y = calloc((size_t)(ia.frames + 1) * (size_t)ia.channels, sizeof(*y));
	ck_assert_ptr_nonnull(y);
	n = ib.channels == ia.channels ? sf_readf_int(sf, y, ia.frames + 1) : -1;
	same = n == ia.frames && !memcmp(x, y, (size_t)(n * ia.channels) * sizeof(*x));
	sf_close(sf);
	free(x);
	free(y);
	return same;
}

/* 12 s of stereo 16-bit noise: its outputs pass the 1 MiB that goes
 * before a stream's header can be patched. */
static char *make_long_input(void)
{
	char *in = ra_test_scratch("long.wav");

	ra_test_run_ok((const char *const[]){ "--generate", "pink", "--duration", "12",
					      "--channels", "2", "--subtype", "pcm16", "-o", in,
					      "-f", NULL });
	return in;
}

/* -o - writes standard output front to back. From a file, WAV and AU get
 * the length in their header and the bytes of the same output written to a
 * file; from a pipe they say the largest length (all ones) and hold the
 * same samples; FLAC, whose header goes before its figures are known,
 * holds them too. A short stream's header still gets its length. */
START_TEST(test_stdout_stream)
{
	static const char *const formats[][2] = { { "wav", "pcm16" },
						  { "wav", "float" },
						  { "au", "pcm16" },
						  { "raw", "pcm16" },
						  { "flac", "pcm16" } };
	char *in = make_long_input(), *ref = ra_test_path(out, "ref"),
	     *got = ra_test_path(out, "got"), *err;

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		const char *fmt = formats[i][0], *sub = formats[i][1];
		const char *argv[] = { in,	    "--eq", "peak:1k:3", "--format", fmt,
				       "--subtype", sub,    "-o",	 "-",	     NULL };

		ra_test_run_ok((const char *const[]){ in, "--eq", "peak:1k:3", "--format", fmt,
						      "--subtype", sub, "-o", ref, "-f", NULL });
		ck_assert_int_eq(run_to_pipe(argv, in, 0, got, &err), 0);
		ck_assert_msg(!strcmp(fmt, "flac") ? same_audio(ref, got)
						   : ra_test_same_bytes(ref, got),
			      "%s from a file: %s", fmt, err);
		free(err);
		argv[0] = "-";
		ck_assert_int_eq(run_to_pipe(argv, in, 1, got, &err), 0);
		ck_assert_msg(!strcmp(fmt, "raw") ? ra_test_same_bytes(ref, got)
						  : same_audio(ref, got),
			      "%s from a pipe: %s", fmt, err);
		free(err);
		if (!strcmp(fmt, "wav")) {
			ck_assert_uint_eq(number_at(got, 4, NULL, 0), UINT32_MAX);
			ck_assert_uint_eq(number_at(got, 12, "data", 0), UINT32_MAX);
		} else if (!strcmp(fmt, "au")) {
			ck_assert_uint_eq(number_at(got, 8, NULL, 1), UINT32_MAX);
		}
	}
	free(in);
	in = make_input("short.wav");
	ra_test_run_ok((const char *const[]){ in, "-o", ref, "--format", "wav", "-f", NULL });
	ck_assert_int_eq(
		run_to_pipe((const char *const[]){ "-", "-o", "-", "--format", "wav", NULL }, in, 1,
			    got, &err),
		0);
	ck_assert_msg(ra_test_same_bytes(ref, got), "a short stream: %s", err);
	free(err);
	free(got);
	free(ref);
	free(in);
}
END_TEST

/* -o - with several inputs or a manifest, or on a terminal, is a usage
 * error; a format that cannot stream is refused; none of them writes a
 * file named "-". */
START_TEST(test_stdout_refused)
{
	char *in = make_input("in.wav"), *err;
	int pty = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	assert_refused((const char *const[]){ in, in, "-o", "-", NULL }, 2,
		       "several inputs only as --format raw");
	assert_refused((const char *const[]){ in, "--manifest", "m", "-o", "-", NULL }, 2,
		       "--manifest keeps track of files");
	assert_refused((const char *const[]){ in, "--format", "aiff", "-o", "-", NULL }, 1,
		       "cannot write aiff pcm16 to standard output");
	ck_assert_int_ge(pty, 0);
	ck_assert_int_eq(grantpt(pty), 0);
	ck_assert_int_eq(unlockpt(pty), 0);
	for (int generate = 0; generate <= 1; generate++) {
		const char *file[] = { in, "-o", "-", NULL };
		const char *gen[] = { "--generate", "white", "-o", "-", NULL };

		ck_assert_int_eq(
			ra_test_finish(ra_test_spawn(generate ? gen : file, ptsname(pty), 0), &err),
			2);
		ck_assert_int_eq(ra_test_count(err, "\n"), 1);
		ck_assert_ptr_nonnull(strstr(err, "rusty-audio: -o -: standard output is a "
						  "terminal; redirect it, or give -o FILE"));
		free(err);
	}
	close(pty);
	ck_assert_int_eq(access("-", F_OK), -1);
	free(in);
}
END_TEST

/* -o - --format raw takes several inputs, one after another (also with
 * -j 2): the stream is their outputs end to end, up to an input that
 * fails. Inputs of another shape, or a pipe among them, are usage
 * errors. */
START_TEST(test_stdout_concatenates)
{
	char *a = make_input("a.wav"), *b = ra_test_scratch("b.wav"), *m = make_long_input();
	char *each = ra_test_path(out, "each.raw"), *all = ra_test_path(out, "all.raw"), *err;
	char *parts[3] = { ra_test_path(out, "1.raw"), ra_test_path(out, "2.raw"),
			   ra_test_path(out, "3.raw") };
	const char *order[3] = { a, b, a };
	FILE *f = fopen(each, "w");
	size_t len, first_len = 0;
	char *first;

	ra_test_run_ok((const char *const[]){ "--generate", "sine:300", "--channels", "1",
					      "--sample-rate", "8000", "--subtype", "pcm16", "-o",
					      b, "-f", NULL });
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 3; i++) {
		char *bytes;

		ra_test_run_ok((const char *const[]){ order[i], "--gain", "-3", "--format", "raw",
						      "-o", parts[i], NULL });
		bytes = ra_test_slurp(parts[i], &len);
		if (i == 0)
			first_len = len;
		ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
		free(bytes);
		free(parts[i]);
	}
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(run_to_pipe((const char *const[]){ a, b, a, "--gain", "-3", "--format",
							    "raw", "-j", "2", "-o", "-", NULL },
				     a, 0, all, &err),
			 0);
	ck_assert_msg(ra_test_same_bytes(each, all), "%s", err);
	free(err);
	/* An input that fails ends the stream there: the first one alone. */
	ck_assert_int_eq(
		run_to_pipe((const char *const[]){ a, "/nonexistent.wav", b, "--gain", "-3",
						   "--format", "raw", "-o", "-", NULL },
			    a, 0, all, &err),
		1);
	ck_assert_ptr_nonnull(strstr(err, "not written: the stream stopped at an earlier input"));
	free(err);
	first = ra_test_slurp(all, &len);
	ck_assert_uint_eq(len, first_len);
	free(first);
	assert_refused((const char *const[]){ a, m, "--format", "raw", "-o", "-", NULL }, 2,
		       "one raw stream holds one shape");
	assert_refused((const char *const[]){ a, "-", "--format", "raw", "-o", "-", NULL }, 2,
		       "a pipe among the inputs");
	free(all);
	free(each);
	free(m);
	free(b);
	free(a);
}
END_TEST

/* --spool reads FLAC from a pipe, and lets --normalize read one twice,
 * through a temporary file that leaves nothing behind; a spool that cannot
 * be written fails in one line. */
START_TEST(test_spool)
{
	char *in = make_input("in.wav"), *flac = ra_test_scratch("in.flac"),
	     *ref = ra_test_path(out, "ref.wav"), *got = ra_test_path(out, "got.wav"),
	     *tmp = ra_test_path(out, "tmp"), *err;

	ck_assert_int_eq(mkdir(tmp, 0700), 0);
	ck_assert_int_eq(setenv("TMPDIR", tmp, 1), 0);
	ra_test_run_ok((const char *const[]){ in, "-o", flac, NULL });
	ra_test_run_ok((const char *const[]){ flac, "--normalize", "-o", ref, NULL });
	ck_assert_int_eq(
		run_fed((const char *const[]){ "-", "--spool", "--normalize", "-o", got, NULL },
			flac, NULL, &err),
		0);
	ck_assert_msg(ra_test_same_bytes(ref, got), "%s", err);
	free(err);
	ck_assert_int_eq(ra_test_dir_entries(tmp), 0);
	ck_assert_int_eq(rmdir(tmp), 0);
	ck_assert_int_eq(run_fed((const char *const[]){ "-", "--spool", "-f", "-o", got, NULL },
				 flac, NULL, &err),
			 1);
	ck_assert_int_eq(ra_test_count(err, "\n"), 1);
	ck_assert_msg(strstr(err, "cannot spool to") && strstr(err, strerror(ENOENT)), "%s", err);
	free(err);
	ck_assert_int_eq(unsetenv("TMPDIR"), 0);
	free(tmp);
	free(got);
	free(ref);
	free(flac);
	free(in);
}
END_TEST

START_TEST(test_file_size_limit)
{
	char *o = ra_test_path(out, "big.wav"), *csv = ra_test_path(out, "big.csv"), *err;
	const char *argv[] = { "--generate", "white", "--duration", "10", "--spectrum", csv,
			       "-o",	     o,	      NULL };
	int status = ra_test_finish(ra_test_spawn(argv, "/dev/null", 65536), &err);

	ck_assert_msg(status == 1, "exit %d: %s", status, err);
	ck_assert_int_eq(ra_test_count(err, "\n"), 1);
	ck_assert_ptr_nonnull(strstr(err, strerror(EFBIG)));
	ck_assert_int_eq(ra_test_dir_entries(out), 0);
	free(err);
	free(o);
	free(csv);
}
END_TEST

/* ---- formats libsndfile accepts but cannot really write ---- */

/* Generate SHAPE (channels, rate) as FORMAT/SUBTYPE into NAME; when OK,
 * read the header back; else expect one line and no file. */
static void try_format(const char *name, const char *channels, const char *rate,
		       const char *subtype, int ok)
{
	char *path = ra_test_path(out, name);
	const char *argv[] = { "--generate",
			       "white",
			       "--duration",
			       "0.05",
			       "--channels",
			       channels,
			       "--sample-rate",
			       rate,
			       "--subtype",
			       subtype,
			       "-o",
			       path,
			       NULL };

	if (ok) {
		SF_INFO info = { 0 };
		SNDFILE *sf;

		ra_test_run_ok(argv);
		sf = sf_open(path, SFM_READ, &info);
		ck_assert_msg(sf != NULL, "%s: %s", name, sf_strerror(NULL));
		ck_assert_int_eq(info.channels, atoi(channels));
		ck_assert_int_eq(info.samplerate, atoi(rate));
		ck_assert_int_gt(info.frames, 0);
		sf_close(sf);
	} else {
		assert_refused(argv, 1, "cannot write");
		ck_assert_int_ne(access(path, F_OK), 0);
	}
	free(path);
}

START_TEST(test_format_limits)
{
	try_format("a8.caf", "8", "44100", "alac16", 1);
	try_format("a9.caf", "9", "44100", "alac16", 0);
	try_format("a12.caf", "12", "48000", "alac24", 0);
	try_format("f.flac", "2", "65540", "pcm16", 1);
	try_format("f8.flac", "8", "96000", "pcm24", 1);
	try_format("g.flac", "2", "65537", "pcm16", 0);
	try_format("v.ogg", "2", "200000", "vorbis", 1);
	try_format("w.ogg", "2", "200001", "vorbis", 0);
	try_format("v255.ogg", "255", "8000", "vorbis", 1);
	try_format("v256.ogg", "256", "8000", "vorbis", 0);
	try_format("p.voc", "1", "22050", "pcm16", 1);
	try_format("u.voc", "1", "22050", "pcmu8", 0);
	try_format("m.aiff", "9", "12345", "pcm24", 1);
	try_format("m.caf", "17", "384000", "float", 1);
	try_format("m.au", "3", "11025", "ulaw", 1);
	ck_assert_int_eq(ra_test_dir_entries(out), 9);
}
END_TEST

/* ---- standard output ---- */

START_TEST(test_stdout_write_errors)
{
	char *in = make_input("in.wav"), *o = ra_test_path(out, "o.wav");
	const char *const runs[][7] = {
		{ "--analyze", in, NULL },
		{ "--dry-run", "--eq", "peak:1k:3", in, "-o", o, NULL },
		{ "--help", NULL },
		{ "--preset", "list", NULL },
	};

	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		char *err;
		int status = ra_test_finish(ra_test_spawn(runs[i], "/dev/full", 0), &err);

		ck_assert_msg(status == 1, "%s: exit %d: %s", runs[i][0], status, err);
		ck_assert_int_eq(ra_test_count(err, "\n"), 1);
		ck_assert_ptr_nonnull(
			strstr(err, "rusty-audio: standard output: write error: No space left"));
		free(err);
	}
	ck_assert_int_eq(ra_test_dir_entries(out), 0);
	free(in);
	free(o);
}
END_TEST

/* ---- performance stats ---- */

/* An input that cannot be opened gets its error, not a table of zeros. */
START_TEST(test_no_stats_for_unopened_input)
{
	char *missing = ra_test_scratch("missing.wav"), *o = ra_test_path(out, "o.wav");

	assert_refused(
		(const char *const[]){ missing, "-o", o, "--enable-performance-stats", NULL }, 1,
		"cannot open");
	free(missing);
	free(o);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli_files");
	TCase *tc = ra_test_tcase(s, "files", 120);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_batch_never_overwrites_a_later_input);
	tcase_add_test(tc, test_batch_reuses_memory);
	tcase_add_test(tc, test_outputs_never_meet);
	tcase_add_test(tc, test_fifo_never_replaced);
	tcase_add_test(tc, test_devices);
	tcase_add_test(tc, test_dev_null_sink);
	tcase_add_test(tc, test_wisdom_is_an_output);
	tcase_add_test(tc, test_signals_leave_nothing);
	tcase_add_test(tc, test_temporary_file_names);
	tcase_add_test(tc, test_long_names);
	tcase_add_test(tc, test_odd_names_one_line);
	tcase_add_test(tc, test_pipe_input);
	tcase_add_test(tc, test_stdout_stream);
	tcase_add_test(tc, test_stdout_refused);
	tcase_add_test(tc, test_stdout_concatenates);
	tcase_add_test(tc, test_spool);
	tcase_add_test(tc, test_file_size_limit);
	tcase_add_test(tc, test_format_limits);
	tcase_add_test(tc, test_stdout_write_errors);
	tcase_add_test(tc, test_no_stats_for_unopened_input);
	return ra_test_main(s);
}
