/* Helpers shared by the test programs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#if defined(__x86_64__) && __has_include(<sys/platform/x86.h>)
#include <sys/platform/x86.h>
#endif

#include "testutil.h"

char *ra_test_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	char *dir;

	if (!base || !*base)
		base = "/tmp";
	if (asprintf(&dir, "%s/rusty-audio-test.XXXXXX", base) < 0)
		ck_abort_msg("asprintf failed");
	if (!mkdtemp(dir))
		ck_abort_msg("mkdtemp %s: %s", dir, strerror(errno));
	return dir;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void ra_test_rmtree(char *dir)
{
	if (!dir)
		return;
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

char *ra_test_path(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		ck_abort_msg("asprintf failed");
	return p;
}

/* The running test's scratch folder (set by the fixture of ra_test_tcase). */
static char *scratch_dir;

static void scratch_setup(void)
{
	scratch_dir = ra_test_mkdtemp();
}

static void scratch_teardown(void)
{
	ra_test_rmtree(scratch_dir);
	scratch_dir = NULL;
}

TCase *ra_test_tcase(Suite *s, const char *name, int timeout)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
	if (timeout > 0)
		tcase_set_timeout(tc, timeout);
	suite_add_tcase(s, tc);
	return tc;
}

const char *ra_test_scratch_dir(void)
{
	ck_assert_msg(scratch_dir != NULL, "no scratch folder outside an ra_test_tcase() test");
	return scratch_dir;
}

char *ra_test_scratch(const char *name)
{
	return ra_test_path(ra_test_scratch_dir(), name);
}

/* Append what is readable on FD to *BUF; returns 0 at end of file. */
static int drain(int fd, char **buf, size_t *len)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n <= 0)
		return n < 0 && errno == EINTR;
	*buf = realloc(*buf, *len + (size_t)n + 1);
	ck_assert_ptr_nonnull(*buf);
	memcpy(*buf + *len, chunk, (size_t)n);
	*len += (size_t)n;
	(*buf)[*len] = '\0';
	return 1;
}

ra_run ra_test_exec(const char *program, const char *const *argv, const char *stdin_text)
{
	int out_pipe[2], err_pipe[2], in_pipe[2];
	size_t argc = 0, out_len = 0, err_len = 0;
	ra_run run = { 0 };
	struct rusage ru;
	int wstatus = 0;
	pid_t pid;

	while (argv[argc])
		argc++;
	ck_assert_int_eq(pipe(out_pipe), 0);
	ck_assert_int_eq(pipe(err_pipe), 0);
	ck_assert_int_eq(pipe(in_pipe), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		const char **args = calloc(argc + 2, sizeof(*args));

		if (!args)
			_exit(127);
		args[0] = program;
		memcpy(args + 1, argv, argc * sizeof(*args));
		dup2(in_pipe[0], 0);
		dup2(out_pipe[1], 1);
		dup2(err_pipe[1], 2);
		close(in_pipe[1]);
		close(out_pipe[0]);
		close(err_pipe[0]);
		alarm(120);
		execvp(program, (char *const *)args);
		_exit(127);
	}
	close(in_pipe[0]);
	close(out_pipe[1]);
	close(err_pipe[1]);
	if (stdin_text) {
		size_t left = strlen(stdin_text);

		while (left > 0) {
			ssize_t n = write(in_pipe[1], stdin_text, left);

			if (n <= 0)
				break;
			stdin_text += n;
			left -= (size_t)n;
		}
	}
	close(in_pipe[1]);
	run.out = calloc(1, 1);
	run.err = calloc(1, 1);
	{
		struct pollfd fds[2] = { { out_pipe[0], POLLIN, 0 }, { err_pipe[0], POLLIN, 0 } };
		int open_fds = 2;

		while (open_fds > 0) {
			if (poll(fds, 2, -1) < 0 && errno != EINTR)
				break;
			if (fds[0].fd >= 0 && fds[0].revents &&
			    !drain(fds[0].fd, &run.out, &out_len)) {
				close(fds[0].fd);
				fds[0].fd = -1;
				open_fds--;
			}
			if (fds[1].fd >= 0 && fds[1].revents &&
			    !drain(fds[1].fd, &run.err, &err_len)) {
				close(fds[1].fd);
				fds[1].fd = -1;
				open_fds--;
			}
		}
	}
	ck_assert_int_eq(wait4(pid, &wstatus, 0, &ru), pid);
	run.maxrss_kb = ru.ru_maxrss;
	run.minflt = ru.ru_minflt;
	if (WIFEXITED(wstatus))
		run.status = WEXITSTATUS(wstatus);
	else
		run.status = 128 + WTERMSIG(wstatus);
	return run;
}

ra_run ra_test_run(const char *const *argv, const char *stdin_text)
{
	return ra_test_exec(RA_TEST_PROGRAM, argv, stdin_text);
}

/* jq -e FILTER JSON_PATH: 0 true, 1 false or null, more for an error; what
 * it said is told on stderr when the status is not EXPECTED. */
static int jq_status(const char *json_path, const char *filter, int expected)
{
	const char *argv[] = { "-e", filter, json_path, NULL };
	ra_run run = ra_test_exec("jq", argv, NULL);
	int status = run.status;

	if (status != expected)
		fprintf(stderr, "jq -e '%s' %s: exit %d: %s%s\n", filter, json_path, status,
			run.out, run.err);
	ra_run_release(&run);
	return status;
}

int ra_test_jq(const char *json_path, const char *filter)
{
	return jq_status(json_path, filter, 0) == 0;
}

int ra_test_jq_false(const char *json_path, const char *filter)
{
	return jq_status(json_path, filter, 1) == 1;
}

ra_run ra_test_run_fault(const char *const *argv, const char *fault)
{
	char *asan = getenv("ASAN_OPTIONS") ? strdup(getenv("ASAN_OPTIONS")) : NULL;
	char *asan_options;
	ra_run r;

	/* The library is loaded before the sanitizer runtime, which works all
	 * the same when told not to mind. */
	ck_assert_int_ge(asprintf(&asan_options, "%s:verify_asan_link_order=0", asan ? asan : ""),
			 0);
	setenv("ASAN_OPTIONS", asan_options, 1);
	free(asan_options);
	setenv("LD_PRELOAD", RA_FAULT_LIB, 1);
	setenv("RA_FAULT", fault, 1);
	r = ra_test_run(argv, NULL);
	unsetenv("RA_FAULT");
	unsetenv("LD_PRELOAD");
	if (asan)
		setenv("ASAN_OPTIONS", asan, 1);
	else
		unsetenv("ASAN_OPTIONS");
	free(asan);
	return r;
}

void ra_run_release(ra_run *run)
{
	free(run->out);
	free(run->err);
	run->out = run->err = NULL;
}

void ra_test_run_ok(const char *const *argv)
{
	ra_run r = ra_test_run(argv, NULL);

	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	ra_run_release(&r);
}

float *ra_test_noise(size_t n, unsigned seed, float amp)
{
	float *x = malloc(n * sizeof(*x));

	ck_assert_ptr_nonnull(x);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1664525u + 1013904223u;
		x[i] = amp * ((float)(seed >> 8) / 8388608.0f - 1.0f);
	}
	return x;
}

/* The whole file at PATH as interleaved ints (AS_INT) or doubles, with one
 * zeroed sample more; NULL if it cannot be opened. */
static void *read_whole(const char *path, SF_INFO *info, int as_int)
{
	SNDFILE *sf;
	sf_count_t got;
	void *data;

	memset(info, 0, sizeof(*info));
	sf = sf_open(path, SFM_READ, info);
	if (!sf)
		return NULL;
	data = calloc((size_t)info->frames * (size_t)info->channels + 1,
		      as_int ? sizeof(int) : sizeof(double));
	ck_assert_ptr_nonnull(data);
	got = as_int ? sf_readf_int(sf, data, info->frames)
		     : sf_readf_double(sf, data, info->frames);
	ck_assert_int_eq(got, info->frames);
	sf_close(sf);
	return data;
}

double *ra_test_read_double(const char *path, SF_INFO *info)
{
	return read_whole(path, info, 0);
}

int *ra_test_read_int(const char *path, SF_INFO *info)
{
	return read_whole(path, info, 1);
}

void ra_test_write_float(const char *path, int format, int rate, int channels, const float *data,
			 size_t frames)
{
	SF_INFO info = { .samplerate = rate, .channels = channels, .format = format };
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);

	ck_assert_msg(sf != NULL, "cannot write %s: %s", path, sf_strerror(NULL));
	sf_command(sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
	ck_assert_int_eq(sf_writef_float(sf, data, (sf_count_t)frames), (sf_count_t)frames);
	ck_assert_int_eq(sf_close(sf), 0);
}

char *ra_test_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

int ra_test_same_bytes(const char *a, const char *b)
{
	size_t la, lb;
	char *x = ra_test_slurp(a, &la), *y = ra_test_slurp(b, &lb);
	int same = la == lb && memcmp(x, y, la) == 0;

	free(x);
	free(y);
	return same;
}

int ra_test_count(const char *text, const char *needle)
{
	int n = 0;
	const char *p = text;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

int ra_test_dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

int ra_test_direct_fs(const char *path)
{
	struct statfs fs;

	ck_assert_int_eq(statfs(path, &fs), 0);
	return fs.f_type == EXT4_SUPER_MAGIC || fs.f_type == XFS_SUPER_MAGIC ||
	       fs.f_type == BTRFS_SUPER_MAGIC;
}

/* Whether the corpus must be there (RA_REQUIRE_CORPUS=1, as in CI). */
static int corpus_required(void)
{
	const char *required = getenv("RA_REQUIRE_CORPUS");

	return required && strcmp(required, "1") == 0;
}

/* Where the corpus should be. */
static const char *corpus_dir(void)
{
	const char *env = getenv("RA_CORPUS");

	return env && *env ? env : RA_CORPUS_DIR;
}

const char *ra_test_corpus(void)
{
	char *manifest = ra_test_path(corpus_dir(), "MANIFEST.tsv");
	int found = access(manifest, R_OK) == 0;

	free(manifest);
	return found ? corpus_dir() : NULL;
}

char *ra_test_corpus_path(const char *name)
{
	const char *corpus = ra_test_corpus();

	ck_assert_msg(corpus != NULL, "corpus not found at %s (set RA_CORPUS)", corpus_dir());
	return ra_test_path(corpus, name);
}

void ra_test_add_corpus_tests(TCase *tc, const char *program, const TTest *const *tests,
			      size_t count)
{
	if (!ra_test_corpus() && !corpus_required()) {
		fprintf(stderr,
			"%s: corpus not found at %s (set RA_CORPUS): %zu corpus tests skipped\n",
			program, corpus_dir(), count);
		return;
	}
	for (size_t i = 0; i < count; i++)
		tcase_add_test(tc, tests[i]);
}

int ra_test_main(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

void ra_test_rerun_hwcaps(const char *suite, const char *tcase, const char *hwcaps,
			  const char *kernel)
{
	int status = -1;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		const char *had = getenv("GLIBC_TUNABLES");
		char *tunables = malloc((had ? strlen(had) + 1 : 0) + strlen(hwcaps) + 1);

		if (!tunables)
			_exit(127);
		/* The caller's tunables stay; a later hwcaps wins. */
		sprintf(tunables, "%s%s%s", had ? had : "", had ? ":" : "", hwcaps);
		setenv("GLIBC_TUNABLES", tunables, 1);
		setenv("CK_RUN_SUITE", suite, 1);
		setenv("CK_RUN_CASE", tcase, 1);
		setenv("RA_CHECK_KERNEL", kernel, 1);
		execl("/proc/self/exe", suite, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "kernel %s (%s): test case %s failed, status %d", kernel, hwcaps, tcase,
		      status);
}

void ra_test_assert_build(const char *kernel, const char *avx2)
{
	const char *want = getenv("RA_CHECK_KERNEL");

	if (want) {
		ck_assert_str_eq(kernel, want);
		return;
	}
#ifdef CPU_FEATURE_ACTIVE
	if (CPU_FEATURE_ACTIVE(AVX512F))
		ck_assert_str_eq(kernel, "avx512f");
	else if (CPU_FEATURE_ACTIVE(AVX2) && CPU_FEATURE_ACTIVE(FMA))
		ck_assert_str_eq(kernel, avx2);
	else
		ck_assert_str_eq(kernel, "scalar");
#endif
}

void ra_test_rerun_builds(const char *suite, const char *tcase, uint64_t golden)
{
#ifdef CPU_FEATURE_ACTIVE
	char text[32];

	snprintf(text, sizeof(text), "%016llx", (unsigned long long)golden);
	if (golden)
		setenv("RA_CHECK_GOLDEN", text, 1);
	if (CPU_FEATURE_ACTIVE(AVX512F) && CPU_FEATURE_ACTIVE(AVX2) && CPU_FEATURE_ACTIVE(FMA))
		ra_test_rerun_hwcaps(suite, tcase, "glibc.cpu.hwcaps=-AVX512F", "avx2");
	if (CPU_FEATURE_ACTIVE(AVX2) || CPU_FEATURE_ACTIVE(AVX512F))
		ra_test_rerun_hwcaps(suite, tcase, "glibc.cpu.hwcaps=-AVX512F,-AVX2", "scalar");
	unsetenv("RA_CHECK_GOLDEN");
#else
	(void)suite;
	(void)tcase;
	(void)golden;
#endif
}

uint64_t ra_test_digest(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	if (h == 0)
		h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

void ra_test_assert_golden(uint64_t digest)
{
	const char *want = getenv("RA_CHECK_GOLDEN");
	char text[32];

	snprintf(text, sizeof(text), "%016llx", (unsigned long long)digest);
	if (want)
		ck_assert_str_eq(text, want);
}

/* Start the binary with ARGV: standard output to STDOUT_PATH, standard
 * error to DIR/stderr.txt, files limited to FSIZE bytes when not 0, no core
 * dumps. */
pid_t ra_test_spawn(const char *const *argv, const char *stdout_path, rlim_t fsize)
{
	char *err_path = ra_test_scratch("stderr.txt");
	size_t argc = 0;
	pid_t pid;

	while (argv[argc])
		argc++;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		const char **args = calloc(argc + 2, sizeof(*args));
		int fd_out = open(stdout_path, O_WRONLY | O_CLOEXEC);
		int fd_err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		struct rlimit no_core = { 0, 0 }, size = { fsize, fsize };

		if (!args || fd_out < 0 || fd_err < 0 || dup2(fd_out, 1) < 0 || dup2(fd_err, 2) < 0)
			_exit(127);
		args[0] = RA_TEST_PROGRAM;
		memcpy(args + 1, argv, argc * sizeof(*args));
		setrlimit(RLIMIT_CORE, &no_core);
		if (fsize)
			setrlimit(RLIMIT_FSIZE, &size);
		alarm(120);
		execv(RA_TEST_PROGRAM, (char *const *)args);
		_exit(127);
	}
	free(err_path);
	return pid;
}

/* Wait for PID: its exit status, or 128 + the signal that ended it; what
 * it wrote on stderr in *ERR (caller frees). */
int ra_test_finish(pid_t pid, char **err)
{
	char *err_path = ra_test_scratch("stderr.txt");
	int wstatus;

	ck_assert_int_eq(waitpid(pid, &wstatus, 0), pid);
	*err = ra_test_slurp(err_path, NULL);
	unlink(err_path);
	free(err_path);
	return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

/* Block until a file whose name contains PART appears in the folder that
 * inotify descriptor FD watches; its name in NAME. */
void ra_test_wait_for_file(int fd, const char *part, char *name, size_t size)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t len;

		/* A safety net for a child that died early, not a timing. */
		ck_assert_msg(poll(&p, 1, 60000) == 1, "no file named *%s* appeared", part);
		len = read(fd, buf, sizeof(buf));
		ck_assert_int_gt(len, 0);
		for (char *at = buf; at < buf + len;) {
			const struct inotify_event *ev = (const struct inotify_event *)at;

			if (ev->len && strstr(ev->name, part)) {
				snprintf(name, size, "%s", ev->name);
				return;
			}
			at += sizeof(*ev) + ev->len;
		}
	}
}

double *ra_test_welch_result(const ra_welch *w, ra_spectrum_scale scale)
{
	size_t count = (size_t)ra_welch_channels(w) * ra_welch_bins(w);
	double *db = malloc(count * sizeof(*db));
	ra_diag diag = { "" };
	ra_status st;

	ck_assert_ptr_nonnull(db);
	st = ra_welch_result(w, scale, db, &diag);
	ck_assert_msg(st == RA_OK, "result failed: %s", diag.text);
	return db;
}

void ra_test_same_welch(const ra_welch *got, const ra_welch *want, int case_no)
{
	const size_t bytes = (size_t)ra_welch_channels(want) * ra_welch_bins(want) * sizeof(double);

	ck_assert_uint_eq(ra_welch_segments(got), ra_welch_segments(want));
	for (int sc = 0; sc < 2; sc++) {
		double *a = ra_test_welch_result(got, sc ? RA_SCALE_DBFS : RA_SCALE_PSD),
		       *b = ra_test_welch_result(want, sc ? RA_SCALE_DBFS : RA_SCALE_PSD);

		ck_assert_msg(!memcmp(a, b, bytes), "case %d, scale %d", case_no, sc);
		free(a);
		free(b);
	}
}
