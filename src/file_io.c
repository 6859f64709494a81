/* Buffered file and stream I/O for libsndfile's virtual interface. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "file_io.h"

/* Until FD is ready for EVENTS (POLLOUT: takes PIPE_BUF bytes without
 * blocking), or says it has no reader or writer, which the next call then
 * tells; looks at *CANCEL and *STOP (either may be NULL) every 10 ms. 0,
 * or an errno: EINTR once cancelled or stopped. */
static int wait_ready(int fd, short events, const volatile sig_atomic_t *cancel,
		      const atomic_int *stop)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int n;

		if (ra_stop_requested(cancel) || (stop && atomic_load(stop)))
			return EINTR;
		n = poll(&p, 1, 10);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return errno;
	}
}

int ra_io_wait(int fd, short events, const volatile sig_atomic_t *cancel)
{
	return wait_ready(fd, events, cancel, NULL);
}

/* TAKE bytes from P to offset AT of FD with O_DIRECT, set on the
 * descriptor for this write only: they go to the disk without a copy in
 * the page cache. */
static ssize_t write_direct(int fd, const unsigned char *p, size_t take, off_t at)
{
	int flags = fcntl(fd, F_GETFL);
	ssize_t n;
	int saved;

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_DIRECT) != 0)
		return -1;
	n = pwrite(fd, p, take, at);
	saved = errno;
	if (fcntl(fd, F_SETFL, flags) != 0)
		return -1;
	errno = saved;
	return n;
}

/* One write of the pending bytes from DONE on, at most TAKE of them. A
 * full buffer at a page-aligned place in a file goes with O_DIRECT when
 * the file is on a local disk's file system (direct_fs()): the output's
 * fsync() sends it to the disk anyway, and its copy in the page cache can
 * cost more system time than the write. A file system that refuses
 * (EINVAL) gets the rest of the file through the page cache. */
static ssize_t write_once(ra_io *io, size_t done, size_t take)
{
	const unsigned char *p = io->buf + done;
	off_t at = io->start + (off_t)done;
	ssize_t n;

	if (io->stream)
		return write(io->fd, p, take);
	if (!io->no_direct && take == RA_IO_BUFFER && at % RA_IO_PAGE == 0) {
		n = write_direct(io->fd, p, take, at);
		if (n >= 0 || errno != EINVAL)
			return n;
		io->no_direct = 1;
	}
	return pwrite(io->fd, p, take, at);
}

/* The pending bytes out: a file's at their place, a stream's in order
 * (a pipe's PIPE_BUF at a time, each when it has room, so that no write
 * blocks past a cancel). 0, or -1 with io->error. */
static int write_pending(ra_io *io)
{
	size_t done = 0;

	while (done < io->fill) {
		size_t take = io->fill - done;
		ssize_t n;

		if (io->pipe && (io->error = wait_ready(io->fd, POLLOUT, io->cancel, NULL)) != 0)
			return -1;
		if (io->pipe && take > PIPE_BUF)
			take = PIPE_BUF;
		n = write_once(io, done, take);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			io->error = n < 0 ? errno : EIO;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/* A stream's pending bytes out, the first ones through the header hook;
 * the buffer then holds what follows them. */
static int send_pending(ra_io *io)
{
	if (io->start == 0 && io->header)
		io->header(io->header_ctx, io->buf, io->fill);
	if (write_pending(io) != 0)
		return -1;
	io->start += (sf_count_t)io->fill;
	io->fill = 0;
	io->dirty = 0;
	return 0;
}

int ra_io_flush(ra_io *io)
{
	if (io->stream)
		return io->error ? -1 : send_pending(io);
	if (io->dirty && write_pending(io) != 0)
		return -1;
	io->dirty = 0;
	io->fill = 0;
	return 0;
}

static sf_count_t io_length(void *user)
{
	return ((ra_io *)user)->length;
}

sf_count_t ra_io_seek(sf_count_t offset, int whence, void *user)
{
	ra_io *io = user;

	if (whence == SEEK_CUR)
		offset += io->pos;
	else if (whence == SEEK_END)
		offset += io->length;
	if (offset < 0)
		return -1;
	io->pos = offset;
	return offset;
}

sf_count_t ra_io_read(void *ptr, sf_count_t count, void *user)
{
	ra_io *io = user;
	unsigned char *out = ptr;
	sf_count_t got = 0;

	if (io->stream || (io->dirty && ra_io_flush(io) != 0))
		return 0;
	while (got < count) {
		ssize_t n;

		if (io->pos >= io->start && io->pos < io->start + (sf_count_t)io->fill) {
			size_t at = (size_t)(io->pos - io->start);
			size_t take = io->fill - at;

			if ((sf_count_t)take > count - got)
				take = (size_t)(count - got);
			memcpy(out + got, io->buf + at, take);
			got += (sf_count_t)take;
			io->pos += (sf_count_t)take;
			continue;
		}
		io->start = io->pos;
		io->fill = 0;
		do
			n = pread(io->fd, io->buf, RA_IO_BUFFER, io->pos);
		while (n < 0 && errno == EINTR);
		if (n <= 0) {
			if (n < 0)
				io->error = errno;
			break;
		}
		io->fill = (size_t)n;
	}
	return got;
}

/* Into a stream's buffer, which holds the bytes from io->start on: those
 * before it went out already and are not written again; a gap past the
 * end cannot be left in a stream. */
static sf_count_t stream_write(ra_io *io, const unsigned char *in, sf_count_t count)
{
	sf_count_t put = io->pos < io->start ? io->start - io->pos : 0;

	if (put > count)
		put = count;
	if (io->pos + put > io->start + (sf_count_t)io->fill) {
		io->error = ESPIPE;
		return 0;
	}
	while (put < count && !io->error) {
		size_t at = (size_t)(io->pos + put - io->start);
		size_t take = RA_IO_BUFFER - at;

		if ((sf_count_t)take > count - put)
			take = (size_t)(count - put);
		memcpy(io->buf + at, in + put, take);
		if (at + take > io->fill)
			io->fill = at + take;
		io->dirty = 1;
		put += (sf_count_t)take;
		if (io->fill == RA_IO_BUFFER && send_pending(io) != 0)
			break;
	}
	io->pos += put;
	if (io->pos > io->length)
		io->length = io->pos;
	return io->error ? 0 : put;
}

sf_count_t ra_io_write(const void *ptr, sf_count_t count, void *user)
{
	ra_io *io = user;
	const unsigned char *in = ptr;
	sf_count_t put = 0;

	if (io->stream)
		return stream_write(io, in, count);
	/* A read-ahead buffer is dropped; pending writes continue only if
	 * this write follows them. */
	if (!io->dirty || io->pos != io->start + (sf_count_t)io->fill) {
		if (ra_io_flush(io) != 0)
			return 0;
		io->start = io->pos;
		io->fill = 0;
	}
	while (put < count) {
		size_t take = RA_IO_BUFFER - io->fill;

		if ((sf_count_t)take > count - put)
			take = (size_t)(count - put);
		memcpy(io->buf + io->fill, in + put, take);
		io->fill += take;
		io->dirty = 1;
		put += (sf_count_t)take;
		io->pos += (sf_count_t)take;
		if (io->fill == RA_IO_BUFFER) {
			if (ra_io_flush(io) != 0)
				return put;
			io->start = io->pos;
		}
	}
	if (io->pos > io->length)
		io->length = io->pos;
	return put;
}

static sf_count_t io_tell(void *user)
{
	return ((ra_io *)user)->pos;
}

SF_VIRTUAL_IO ra_io_calls = { io_length, ra_io_seek, ra_io_read, ra_io_write, io_tell };

/* FD's file system writes O_DIRECT straight to a local disk: ext4, XFS
 * or btrfs. Not a network one (NFS would wait for each write's commit on
 * the server), not tmpfs, FUSE or overlayfs, whose pages stay in memory
 * or which pass the flag on to another file system. */
static int direct_fs(int fd)
{
	struct statfs fs;

	if (fstatfs(fd, &fs) != 0)
		return 0;
	return fs.f_type == EXT4_SUPER_MAGIC || fs.f_type == XFS_SUPER_MAGIC ||
	       fs.f_type == BTRFS_SUPER_MAGIC;
}

int ra_io_init(ra_io *io, int fd)
{
	struct stat sb;

	memset(io, 0, sizeof(*io));
	io->fd = fd;
	io->no_direct = !direct_fs(fd);
	/* Aligned by hand: with aligned_alloc(), each file of a batch faulted
	 * in about 24 pages more (check_cli_files, test_batch_reuses_memory). */
	io->mem = malloc(RA_IO_BUFFER + RA_IO_PAGE);
	if (!io->mem)
		return -1;
	io->buf = io->mem + (RA_IO_PAGE - (uintptr_t)io->mem % RA_IO_PAGE) % RA_IO_PAGE;
	if (fstat(fd, &sb) == 0)
		io->length = sb.st_size;
	return 0;
}

int ra_io_init_stream(ra_io *io, int fd, ra_io_header_fn header, void *ctx)
{
	struct stat sb;

	memset(io, 0, sizeof(*io));
	io->fd = fd;
	io->stream = 1;
	io->pipe = fstat(fd, &sb) == 0 && (S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode));
	io->header = header;
	io->header_ctx = ctx;
	io->mem = io->buf = malloc(RA_IO_BUFFER);
	return io->buf ? 0 : -1;
}

void ra_io_release(ra_io *io)
{
	free(io->mem);
	io->mem = io->buf = NULL;
}

struct ra_io_relay {
	int from, to; /* the source; the write end of the relay's pipe */
	const volatile sig_atomic_t *cancel;
	atomic_int stop, ended; /* ended: -1 at the source's end, else an errno */
	pthread_t thread;
};

/* FROM into TO until FROM ends, a read or write fails, or a cancel or
 * stop; TO is then closed, so that its reader sees an end. */
static void *relay_main(void *arg)
{
	ra_io_relay *r = arg;
	char buf[1 << 16];
	int ended = 0;

	while (!ended) {
		ssize_t n;

		ended = wait_ready(r->from, POLLIN, r->cancel, &r->stop);
		n = ended ? 0 : read(r->from, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 && !ended)
			ended = n < 0 ? errno : -1;
		for (ssize_t done = 0, w; done < n && !ended; done += w) {
			ended = wait_ready(r->to, POLLOUT, r->cancel, &r->stop);
			w = ended ? 0
				  : write(r->to, buf + done,
					  (size_t)(n - done) < PIPE_BUF ? (size_t)(n - done)
									: PIPE_BUF);
			if (w < 0)
				ended = errno;
		}
	}
	atomic_store(&r->ended, ended);
	close(r->to);
	return NULL;
}

ra_io_relay *ra_io_relay_start(int from, const volatile sig_atomic_t *cancel, int *fd)
{
	ra_io_relay *r = calloc(1, sizeof(*r));
	int fds[2];
	sigset_t all, old;

	if (!r || pipe2(fds, O_CLOEXEC) != 0) {
		free(r);
		return NULL;
	}
	r->from = from;
	r->to = fds[1];
	r->cancel = cancel;
	/* Signals are the caller's to take, not this thread's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&r->thread, NULL, relay_main, r) != 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		close(fds[0]);
		close(fds[1]);
		free(r);
		return NULL;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	*fd = fds[0];
	return r;
}

int ra_io_relay_error(const ra_io_relay *r)
{
	int ended = atomic_load(&((ra_io_relay *)r)->ended);

	return ended > 0 ? ended : 0;
}

void ra_io_relay_stop(ra_io_relay *r)
{
	if (!r)
		return;
	atomic_store(&r->stop, 1);
	pthread_join(r->thread, NULL);
	free(r);
}
