/* Outputs that appear atomically: a temporary file beside the target,
 * renamed into place only when complete. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rustyaudio/atomic_file.h"

/* A new file beside PATH, named after it, created exclusively (mode 0666
 * less the umask, as any new file). */
static int create_temp(const char *path, char **tmp_path)
{
	const char *slash = strrchr(path, '/');
	int dir_len = slash ? (int)(slash - path + 1) : 0;
	const char *base = slash ? slash + 1 : path;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	for (unsigned attempt = 0; attempt < 100; attempt++) {
		unsigned tag = (unsigned)ts.tv_nsec ^ (attempt * 2654435761u);
		int fd;

		if (asprintf(tmp_path, "%.*s.%s.%ld-%08x.part", dir_len, path, base, (long)getpid(),
			     tag) < 0) {
			*tmp_path = NULL;
			errno = ENOMEM;
			return -1;
		}
		fd = open(*tmp_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd >= 0 || errno != EEXIST)
			return fd;
		free(*tmp_path);
		*tmp_path = NULL;
	}
	errno = EEXIST;
	return -1;
}

ra_status ra_atomic_open(ra_atomic_file *f, const char *path, int force, ra_diag *diag)
{
	struct stat sb;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if (stat(path, &sb) == 0) {
		if (S_ISDIR(sb.st_mode)) {
			ra_diag_set(diag, "cannot write %s: Is a directory", path);
			return RA_ERR_OPEN;
		}
		if (!force) {
			ra_diag_set(diag, "%s exists (use --force to replace it)", path);
			return RA_ERR_EXISTS;
		}
		f->replace = 1;
		f->dev = sb.st_dev;
		f->ino = sb.st_ino;
		f->ctime = sb.st_ctim;
	}
	f->path = strdup(path);
	if (!f->path) {
		ra_diag_set(diag, "out of memory");
		return RA_ERR_NOMEM;
	}
	f->fd = create_temp(path, &f->tmp_path);
	if (f->fd < 0) {
		ra_diag_set(diag, "cannot create %s: %s", path, strerror(errno));
		ra_atomic_abort(f);
		return RA_ERR_OPEN;
	}
	return RA_OK;
}

/* Move F's temporary file to its path, replacing only the file that was
 * there at open. */
static int publish(const ra_atomic_file *f)
{
	const char *tmp = f->tmp_path, *path = f->path;
	struct stat sb;

	if (f->replace && stat(path, &sb) == 0) {
		if (sb.st_dev == f->dev && sb.st_ino == f->ino &&
		    sb.st_ctim.tv_sec == f->ctime.tv_sec && sb.st_ctim.tv_nsec == f->ctime.tv_nsec)
			return rename(tmp, path);
		errno = EEXIST; /* another file took its place */
		return -1;
	}
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* The file system cannot rename without replacing: link, then unlink. */
	if (link(tmp, path) != 0)
		return -1;
	return unlink(tmp);
}

ra_status ra_atomic_commit(ra_atomic_file *f, ra_diag *diag)
{
	ra_status st = RA_ERR_WRITE;

	if (f->fd >= 0) {
		int err = close(f->fd);

		f->fd = -1;
		if (err != 0) {
			ra_diag_set(diag, "write error: %s", strerror(errno));
			goto out;
		}
	}
	if (publish(f) != 0) {
		if (errno == EEXIST) {
			st = RA_ERR_EXISTS;
			ra_diag_set(
				diag,
				"another file appeared at %s while it was being written; not replacing it",
				f->path);
		} else {
			ra_diag_set(diag, "cannot move output into place at %s: %s", f->path,
				    strerror(errno));
		}
		goto out;
	}
	free(f->tmp_path);
	f->tmp_path = NULL;
	st = RA_OK;
out:
	ra_atomic_abort(f);
	return st;
}

void ra_atomic_abort(ra_atomic_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->tmp_path) {
		unlink(f->tmp_path);
		free(f->tmp_path);
		f->tmp_path = NULL;
	}
	free(f->path);
	f->path = NULL;
}

FILE *ra_atomic_open_stream(ra_atomic_file *f, const char *path, int force, ra_status *status,
			    ra_diag *diag)
{
	ra_status st = ra_atomic_open(f, path, force, diag);
	FILE *stream = NULL;

	if (st == RA_OK) {
		stream = fdopen(f->fd, "w");
		if (stream) {
			f->fd = -1; /* the stream owns it now */
		} else {
			st = RA_ERR_NOMEM;
			ra_diag_set(diag, "cannot write %s: %s", path, strerror(errno));
			ra_atomic_abort(f);
		}
	}
	if (status)
		*status = st;
	return stream;
}

ra_status ra_atomic_commit_stream(ra_atomic_file *f, FILE *stream, int failed, ra_diag *diag)
{
	int err = failed ? EIO : 0;

	if (fflush(stream) != 0 && !err)
		err = errno;
	if (ferror(stream) && !err)
		err = EIO;
	if (fclose(stream) != 0 && !err)
		err = errno;
	if (err) {
		ra_diag_set(diag, "cannot write %s: %s", f->path, strerror(err));
		ra_atomic_abort(f);
		return RA_ERR_WRITE;
	}
	return ra_atomic_commit(f, diag);
}

ra_status ra_atomic_write(const char *path, int force, ra_atomic_write_fn write, const void *ctx,
			  ra_diag *diag)
{
	ra_atomic_file af;
	ra_status st;
	FILE *f = ra_atomic_open_stream(&af, path, force, &st, diag);

	if (!f)
		return st;
	return ra_atomic_commit_stream(&af, f, write(ctx, f) != 0, diag);
}
