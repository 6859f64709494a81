/* Buffered I/O for libsndfile's virtual interface, which otherwise makes
 * one system call per block read or written (costly on small blocks). One
 * buffer serves either as read-ahead or as pending writes. A file on a
 * local disk's file system gets its full buffers with O_DIRECT, past the
 * page cache.
 *
 * A stream (standard output, a pipe) is written front to back: bytes go
 * out once, in order, a buffer at a time. What libsndfile writes again at
 * the end over bytes already gone (a header's lengths) is dropped; a
 * header hook puts the lengths in before the first bytes go. Internal to
 * the library. */
#ifndef RUSTYAUDIO_FILE_IO_H
#define RUSTYAUDIO_FILE_IO_H

#include <signal.h>
#include <stdatomic.h>
#include <sndfile.h>
#include <stddef.h>

#include "rustyaudio/status.h"

/* Internal: none of it is exported from the shared library. */
#pragma GCC visibility push(hidden)

#define RA_IO_BUFFER (1 << 20)
#define RA_IO_PAGE 4096

/* Called with the first SIZE bytes of a stream before they go out. */
typedef void (*ra_io_header_fn)(void *ctx, unsigned char *buf, size_t size);

typedef struct ra_io {
	int fd;
	sf_count_t pos;		/* where libsndfile thinks it is */
	sf_count_t length;	/* file length, counting pending writes */
	sf_count_t start;	/* file offset of buf[0] */
	size_t fill;		/* bytes valid (reading) or pending (writing) */
	int dirty;		/* buf holds writes not yet in the file */
	int error;		/* errno of the first failure */
	unsigned char *buf;	/* page-aligned for a file */
	unsigned char *mem;	/* what holds buf */
	int no_direct;		/* no O_DIRECT: not a local disk's, or refused */
	int stream;		/* written front to back; start is what went out */
	int pipe;		/* a stream that waits for its reader */
	ra_io_header_fn header; /* a stream's, or NULL */
	void *header_ctx;
	const volatile sig_atomic_t *cancel; /* non-zero ends a wait for the reader */
} ra_io;

/* libsndfile's calls on an ra_io. */
extern SF_VIRTUAL_IO ra_io_calls;

/* Buffer the file FD (which stays the caller's); -1 when out of memory. */
int ra_io_init(ra_io *io, int fd);
/* Buffer the stream FD, calling HEADER (when not NULL) before its first
 * bytes go; -1 when out of memory. When FD is a pipe or a socket, writes
 * wait for its reader in steps that look at io->cancel (when set) every
 * 10 ms, so that a stop on any thread ends the wait. */
int ra_io_init_stream(ra_io *io, int fd, ra_io_header_fn header, void *ctx);
/* Write out pending bytes: 0, or -1 with io->error set. A stream's error
 * is EINTR when *io->cancel stopped a wait for its reader. */
int ra_io_flush(ra_io *io);
/* Until FD is ready for EVENTS (POLLIN, POLLOUT), looking at *CANCEL (may
 * be NULL) every 10 ms: 0, or an errno (EINTR once cancelled). */
int ra_io_wait(int fd, short events, const volatile sig_atomic_t *cancel);
/* Free the buffer (the descriptor stays open). */
void ra_io_release(ra_io *io);

sf_count_t ra_io_seek(sf_count_t offset, int whence, void *io);
sf_count_t ra_io_read(void *ptr, sf_count_t count, void *io);
sf_count_t ra_io_write(const void *ptr, sf_count_t count, void *io);

/* A stream read through a pipe of the relay's own, which a thread fills
 * from FROM, waiting for FROM's writer in steps that look at *CANCEL (may
 * be NULL) every 10 ms. libsndfile, which reads a pipe until it has all it
 * asked for and restarts a read that a signal interrupts, then sees the
 * stream end once cancelled. *FD gets the relay's end to read (the
 * caller's to close, after ra_io_relay_stop()). NULL when no thread or
 * pipe can be had. */
typedef struct ra_io_relay ra_io_relay;
ra_io_relay *ra_io_relay_start(int from, const volatile sig_atomic_t *cancel, int *fd);
/* Why the relay ended early: EINTR when cancelled, a read or write error,
 * or 0 (still going, or the source ended). */
int ra_io_relay_error(const ra_io_relay *r);
/* End the thread and free R (NULL is a no-op); FROM stays open. */
void ra_io_relay_stop(ra_io_relay *r);

#pragma GCC visibility pop

#endif
