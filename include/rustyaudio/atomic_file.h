/* Files that appear whole or not at all: written as a temporary file beside
 * the target, synced, and renamed into place on commit, then the folder is
 * synced, so that not even a power loss leaves a partial file under the
 * target's name. Used for every output.
 *
 * Everything happens relative to a descriptor of the target's folder, so a
 * folder renamed during the run still gets its file, or loses its
 * temporary file on abort. Only a regular file is ever replaced; the null
 * device (a character device 1,3 such as /dev/null) is written to directly,
 * as a sink. Temporary files are named ".NAME.rusty-audio-PID-TAG.part":
 * hidden, and recognisable after a crash (see RA_ATOMIC_TEMP_GLOB). */
#ifndef RUSTYAUDIO_ATOMIC_FILE_H
#define RUSTYAUDIO_ATOMIC_FILE_H

#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "rustyaudio/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What every temporary file's name matches (find -name, fnmatch). */
#define RA_ATOMIC_TEMP_GLOB ".*.rusty-audio-*.part"

/* Caller-owned; zero it, then ra_atomic_open(). ra_atomic_abort(NULL) is a
 * no-op; commit, finish, publish and commit_stream refuse a NULL F (or
 * stream) with RA_ERR_INVALID. */
typedef struct ra_atomic_file {
	int fd;	     /* the temporary file (or the sink), open for reading and writing */
	int dir_fd;  /* the target's folder (O_DIRECTORY), -1 when not open */
	int sink;    /* the target is the null device: written straight to */
	int replace; /* forced over a file that was there at open: that one */
	dev_t dev;   /* identifies it, as it was */
	ino_t ino;
	struct timespec ctime;
	char *path;	/* the target, as given (for messages) */
	char *name;	/* its file name in dir_fd */
	char *tmp_name; /* the temporary file's name in dir_fd, NULL once gone */
} ra_atomic_file;

/* True when SB describes the null device (character device 1,3). */
int ra_atomic_is_sink(const struct stat *sb);

/* Create the temporary file for PATH, or open PATH itself when it is the
 * null device. RA_ERR_EXISTS when PATH exists and FORCE is 0; RA_ERR_OPEN
 * when it is a directory, another file that is not a regular file (a FIFO,
 * a device: never replaced, with or without FORCE), or the temporary file
 * cannot be made; DIAG names PATH. */
ra_status ra_atomic_open(ra_atomic_file *f, const char *path, int force, ra_diag *diag);

/* Close the file (unless the caller already closed f->fd and set it to
 * -1), sync it, move it into place and sync the folder:
 * ra_atomic_finish(), then ra_atomic_publish(). Always releases F. */
ra_status ra_atomic_commit(ra_atomic_file *f, ra_diag *diag);

/* The first half of a commit: close and sync the temporary file, which is
 * then complete but not yet in place (a caller with several files finishes
 * them all before it publishes any). On failure the temporary file is
 * removed and F released. */
ra_status ra_atomic_finish(ra_atomic_file *f, ra_diag *diag);

/* The second half: move a finished file into place and sync the folder.
 * Only the file that was at PATH when it was opened (with force) is ever
 * replaced: a file that appeared meanwhile, such as another output of the
 * same run under the same name, is not (RA_ERR_REPLACED). When only the
 * folder's sync fails, the file is in place but RA_ERR_WRITE says that it
 * may not survive a power loss. Always releases F. */
ra_status ra_atomic_publish(ra_atomic_file *f, ra_diag *diag);

/* Close and remove the temporary file, release F. Safe on a zeroed F
 * (nothing is closed), after a failed open, and twice. */
void ra_atomic_abort(ra_atomic_file *f);

/* Remove the temporary files that runs killed before they could clean up
 * left for PATH: those named for it whose process, by the PID in the name,
 * no longer runs on this host. Returns how many were removed. */
int ra_atomic_remove_stale(const char *path);

/* A whole file through a stream: WRITE(CTX, F) writes PATH's contents to F
 * (returning non-zero on failure), then the file is committed; on any
 * failure nothing appears at PATH. RA_ERR_WRITE, or ra_atomic_open()'s
 * errors, with DIAG. */
typedef int (*ra_atomic_write_fn)(const void *ctx, FILE *f);

/* ra_atomic_open() with a stdio stream on the temporary file, which owns
 * its descriptor from then on. NULL with STATUS (when given) and DIAG on
 * failure. */
FILE *ra_atomic_open_stream(ra_atomic_file *f, const char *path, int force, ra_status *status,
			    ra_diag *diag);

/* Flush and close STREAM (from ra_atomic_open_stream()), then, with HELD
 * NULL, commit F; otherwise only finish it and leave it in *HELD, for the
 * caller to ra_atomic_publish() or ra_atomic_abort(). On a write error, or
 * when FAILED (the writer's own verdict), the file is removed instead:
 * RA_ERR_WRITE with the reason in DIAG. F itself is always released. */
ra_status ra_atomic_commit_stream(ra_atomic_file *f, FILE *stream, int failed, ra_atomic_file *held,
				  ra_diag *diag);

/* ra_atomic_open_stream(), WRITE, then ra_atomic_commit_stream() with HELD. */
ra_status ra_atomic_write(const char *path, int force, ra_atomic_write_fn write, const void *ctx,
			  ra_atomic_file *held, ra_diag *diag);

#ifdef __cplusplus
}
#endif

#endif
