/* Fuzz target: one audio file, the input, decoded, through gain and an EQ
 * band and encoded again in its own format: the real reader, processor and
 * atomic writer of ra_job_run(), on a file in memory (a memfd). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rustyaudio/job.h"

/* Frames decoded at most, so that a small file claiming hours stays fast. */
#define FUZZ_MAX_FRAMES 16384

/* A peak band low enough for every sample rate (its Nyquist frequency is
 * at least 0.5 Hz). */
static ra_eq eq;

typedef struct limit {
	volatile sig_atomic_t stop;
} limit;

static void stop_after_limit(void *ctx, int64_t done, int64_t total)
{
	(void)total;
	if (done >= FUZZ_MAX_FRAMES)
		((limit *)ctx)->stop = 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	ra_diag diag;

	(void)argc;
	(void)argv;
	if (ra_eq_add(&eq, "peak:0.25:3:2", &diag) != RA_OK)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
	/* The output, in a folder of its own (libFuzzer leaves without atexit
	 * handlers); no extension, so in the input's format. */
	char out_dir[] = "/tmp/rusty-audio-fuzz.XXXXXX", in_path[64], out_path[64];
	limit lim = { 0 };
	ra_job_config cfg;
	ra_job_result res = { 0 };

	if (fd < 0 || write(fd, data, size) != (ssize_t)size || !mkdtemp(out_dir))
		abort();
	snprintf(in_path, sizeof(in_path), "/proc/self/fd/%d", fd);
	snprintf(out_path, sizeof(out_path), "%s/out", out_dir);
	ra_job_config_init(&cfg);
	cfg.block_frames = 256;
	cfg.gain_db = -1.0;
	cfg.eq = &eq;
	cfg.force = 1;
	/* Every --nonfinite mode meets every file: chosen by the length, so
	 * that the file's bytes stay as they are. */
	cfg.nonfinite = (ra_nonfinite_mode)(size % 3);
	cfg.cancel = &lim.stop;
	cfg.progress = stop_after_limit;
	cfg.progress_ctx = &lim;
	ra_job_run(&cfg, in_path, out_path, &res);
	ra_job_result_release(&res);
	unlink(out_path);
	rmdir(out_dir);
	close(fd);
	return 0;
}
