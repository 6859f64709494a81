/* Helpers shared by the test programs: scratch directories, running the
 * built binary, and reading audio back with libsndfile. */
#ifndef RA_TESTUTIL_H
#define RA_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <check.h>
#include <sndfile.h>

#include "rustyaudio/spectrum.h"

/* A fresh empty directory under $TMPDIR (or /tmp), removed with its
 * contents by ra_test_rmtree(). Aborts the test on failure. */
char *ra_test_mkdtemp(void);
void ra_test_rmtree(char *dir);

/* Path DIR/NAME in a static-free, caller-freed string. */
char *ra_test_path(const char *dir, const char *name);

/* A TCase NAME added to S, with a watchdog of TIMEOUT seconds (0: Check's
 * default), whose tests each get a scratch folder: fresh and empty before
 * the test, removed with its contents after. */
TCase *ra_test_tcase(Suite *s, const char *name, int timeout);

/* The running test's scratch folder, and NAME in it (caller-freed). */
const char *ra_test_scratch_dir(void);
char *ra_test_scratch(const char *name);

/* Result of running the rusty-audio binary. */
typedef struct ra_run {
	int status;	/* exit status, or 128 + signal number */
	char *err;	/* everything written to stderr, NUL-terminated */
	char *out;	/* everything written to stdout */
	long maxrss_kb; /* peak resident set size of the child */
	long minflt;	/* its minor page faults */
} ra_run;

/* Run the binary with ARGV (NULL-terminated, without argv[0]); STDIN_TEXT,
 * when not NULL, is fed to its standard input. Kills it after 120 s. */
ra_run ra_test_run(const char *const *argv, const char *stdin_text);

/* The same for PROGRAM (looked up in PATH). */
ra_run ra_test_exec(const char *program, const char *const *argv, const char *stdin_text);

/* True when jq's FILTER on the JSON file at PATH yields true (jq -e); what
 * jq says otherwise goes to stderr. */
int ra_test_jq(const char *json_path, const char *filter);

/* True when FILTER runs and yields false or null (jq -e exits 1); quiet, for
 * a failure the test expects. */
int ra_test_jq_false(const char *json_path, const char *filter);
void ra_run_release(ra_run *run);

/* Start the binary with ARGV in the background: standard output to
 * STDOUT_PATH, standard error to stderr.txt in the scratch folder, files
 * limited to FSIZE bytes when not 0, no core dumps. */
pid_t ra_test_spawn(const char *const *argv, const char *stdout_path, rlim_t fsize);

/* Wait for PID: its exit status, or 128 + the signal that ended it; what
 * it wrote on stderr in *ERR (caller frees). */
int ra_test_finish(pid_t pid, char **err);

/* Block until a file whose name contains PART appears in the folder that
 * the inotify descriptor FD watches (IN_CREATE); its name into NAME. */
void ra_test_wait_for_file(int fd, const char *part, char *name, size_t size);

/* ra_test_run() with tests/faultinject.c preloaded and RA_FAULT=FAULT
 * (see there), under any sanitizer. */
ra_run ra_test_run_fault(const char *const *argv, const char *fault);

/* Run the binary with ARGV; fails the test unless it exits 0. */
void ra_test_run_ok(const char *const *argv);

/* Read a whole file as interleaved double (libsndfile's normalisation) or
 * int (left-justified 32-bit); INFO is filled. Returns NULL if it cannot be
 * opened. Caller frees. */
double *ra_test_read_double(const char *path, SF_INFO *info);
int *ra_test_read_int(const char *path, SF_INFO *info);

/* N samples of noise in [-AMP, AMP), the same for the same SEED (a linear
 * congruential generator). Caller frees. */
float *ra_test_noise(size_t n, unsigned seed, float amp);

/* Write interleaved float FRAMES to PATH in FORMAT. Aborts on failure. */
void ra_test_write_float(const char *path, int format, int rate, int channels, const float *data,
			 size_t frames);

/* The whole file at PATH, NUL-terminated; *LEN (when not NULL) gets its
 * size. Aborts the test if it cannot be read. Caller frees. */
char *ra_test_slurp(const char *path, size_t *len);

/* True when files A and B hold the same bytes. */
int ra_test_same_bytes(const char *a, const char *b);

/* Count the occurrences of NEEDLE in TEXT. */
int ra_test_count(const char *text, const char *needle);

/* Number of directory entries in DIR other than . and .. */
int ra_test_dir_entries(const char *dir);

/* PATH is on a file system the writer sends full buffers to with O_DIRECT
 * (ext4, XFS, btrfs). */
int ra_test_direct_fs(const char *path);

/* The real-file corpus: the folder in $RA_CORPUS, else RA_CORPUS_DIR
 * (../shared/corpus, fixed at build time); NULL when it holds no
 * MANIFEST.tsv. */
const char *ra_test_corpus(void);

/* NAME inside the corpus, caller-freed; fails the test when there is no
 * corpus. */
char *ra_test_corpus_path(const char *name);

/* Add the COUNT TESTS, which need the corpus, to TC. Without a corpus they
 * are left out and one line on stderr says so, naming PROGRAM; with
 * RA_REQUIRE_CORPUS=1 they are added anyway and fail. */
void ra_test_add_corpus_tests(TCase *tc, const char *program, const TTest *const *tests,
			      size_t count);

/* Heap allocations of the whole process, on every thread
 * (tests/alloc_count.c). RA_TEST_ALLOC_COUNTED is defined where they can
 * be counted (not under TSan), RA_TEST_ALLOC_FAILABLE where they can also
 * be made to fail (not under a sanitizer). ra_test_alloc_start() counts
 * from zero and makes the next FAIL allocations fail; ra_test_alloc_stop()
 * stops and returns the count (0 where nothing is counted). Check itself
 * allocates: assert nothing while counting. */
#if defined(__SANITIZE_THREAD__)
#define RA_TEST_TSAN 1
#elif defined(__SANITIZE_ADDRESS__)
#define RA_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RA_TEST_TSAN 1
#elif __has_feature(address_sanitizer)
#define RA_TEST_ASAN 1
#endif
#endif
#ifndef RA_TEST_TSAN
#define RA_TEST_ALLOC_COUNTED 1
#ifndef RA_TEST_ASAN
#define RA_TEST_ALLOC_FAILABLE 1
#endif
#endif
void ra_test_alloc_start(int fail);
unsigned long ra_test_alloc_stop(void);

/* Run every test of S (then freed) and return main()'s exit status. */
int ra_test_main(Suite *s);

/* Run test case TCASE of SUITE again in a child of this test program whose
 * glibc hides the CPU features HWCAPS (GLIBC_TUNABLES, e.g.
 * "glibc.cpu.hwcaps=-AVX512F,-AVX2"), so that one machine reaches every
 * build of a kernel it has, with RA_CHECK_KERNEL=KERNEL, the build the child
 * should choose; the rest of the environment as it is (HWCAPS added to the
 * tunables already set). The test fails
 * unless every test of the case passes in the child. */
void ra_test_rerun_hwcaps(const char *suite, const char *tcase, const char *hwcaps,
			  const char *kernel);

/* KERNEL, the name of the build a kernel with builds for several
 * instruction sets chose ("avx512f", AVX2, "scalar"; the AVX2 build goes
 * by AVX2, "avx2" or "avx2-fma"), is the build asked for: in a child of
 * ra_test_rerun_hwcaps() the one it names, else the fastest this CPU runs
 * as glibc sees it. */
void ra_test_assert_build(const char *kernel, const char *avx2);

/* Test case TCASE of SUITE again on each other such build this CPU runs,
 * a child each (ra_test_rerun_hwcaps()), with GOLDEN (unless 0), the
 * digest of bytes this process's build gave, for the children's
 * ra_test_assert_golden(); nothing where glibc cannot hide CPU features. */
void ra_test_rerun_builds(const char *suite, const char *tcase, uint64_t golden);

/* FNV-1a of the N bytes at P, on from H (0 to start). */
uint64_t ra_test_digest(uint64_t h, const void *p, size_t n);

/* In a child of ra_test_rerun_builds(), DIGEST is its parent's golden. */
void ra_test_assert_golden(uint64_t digest);

/* W's result on SCALE, every channel's bins, in a caller-freed array;
 * fails the test unless ra_welch_result() succeeds. */
double *ra_test_welch_result(const ra_welch *w, ra_spectrum_scale scale);

/* GOT's segment count and results, both scales, WANT's to the bit;
 * CASE_NO says which case failed. */
void ra_test_same_welch(const ra_welch *got, const ra_welch *want, int case_no);

#endif
