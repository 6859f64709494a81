/* --manifest and --resume: a JSON line for each input as it ends, appended
 * and synced to the disk, so that a batch killed at any point (a preempted
 * array task, a lost node) can be run again and skip what is done. The
 * schema is in the manual (MANIFEST). */
#ifndef RA_CLI_MANIFEST_H
#define RA_CLI_MANIFEST_H

#include <stdint.h>

#define MANIFEST_VERSION 1

/* Content hashes: XXH3-128 of a file's bytes, 32 hex digits. */
#define MANIFEST_HASH_LEN 32

/* Why an input failed: a retry cannot help, may help, or it was stopped. */
typedef enum manifest_class {
	MANIFEST_OK,
	MANIFEST_BAD_INPUT,
	MANIFEST_IO,
	MANIFEST_INTERRUPTED
} manifest_class;

typedef enum manifest_status { MANIFEST_DONE, MANIFEST_FAILED, MANIFEST_SKIPPED } manifest_status;

/* One input's line. */
typedef struct manifest_record {
	const char *input;
	int64_t input_size;	/* -1: could not be read */
	int64_t input_mtime_ns; /* since the epoch */
	uint64_t settings;	/* cli_options.settings */
	manifest_status status;
	manifest_class error_class; /* MANIFEST_OK unless failed */
	const char *message;	    /* why it failed, or NULL */
	const char *output;
	int64_t output_size; /* -1 when there is no output */
	char output_hash[MANIFEST_HASH_LEN + 1];
	int64_t frames_in, frames_out;
	uint64_t clipped;
	double seconds;
} manifest_record;

/* What a manifest says was last done with an input. */
typedef struct manifest_entry {
	char *input, *output;
	manifest_status status;
	uint64_t settings;
	int64_t input_size, input_mtime_ns; /* -1: not recorded */
	int64_t output_size;
	char output_hash[MANIFEST_HASH_LEN + 1];
} manifest_entry;

typedef struct manifest manifest;

/* Open PATH to append to, creating it; NULL after a message when it cannot
 * be, or is not a regular file. A last line cut short by a kill is ended
 * before the first new one. */
manifest *manifest_open(const char *path);

/* Append R as one line and sync it. 0, or -1 after a message. Safe to call
 * from one thread at a time. */
int manifest_append(manifest *m, const manifest_record *r);

void manifest_close(manifest *m);

/* The last entry of each input in the manifest at PATH (none when it does
 * not exist yet). Lines that do not parse (a torn last line) are passed
 * over. NULL after a message when it cannot be read. */
typedef struct manifest_index manifest_index;
manifest_index *manifest_read(const char *path);
const manifest_entry *manifest_find(const manifest_index *ix, const char *input);
void manifest_index_free(manifest_index *ix);

/* XXH3-128 of what FD reads to its end into HEX, its size into *SIZE. 0,
 * or -1 with errno. */
int manifest_hash_fd(int fd, char hex[MANIFEST_HASH_LEN + 1], int64_t *size);

#endif
