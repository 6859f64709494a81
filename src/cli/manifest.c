/* --manifest: each input's line, written with one append and synced before
 * the next input's outcome is reported. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fftw3.h>
#include <samplerate.h>
#include <sndfile.h>
#include <soxr.h>
#include <xxhash.h>

#include "rustyaudio/stats.h"

#include "manifest.h"
#include "say.h"

struct manifest {
	int fd;
	const char *path;
};

/* Whether the last byte of the file at FD is a newline (or it is empty). */
static int ends_in_newline(int fd, off_t size)
{
	char last = '\n';

	return size == 0 || (pread(fd, &last, 1, size - 1) == 1 && last == '\n');
}

manifest *manifest_open(const char *path)
{
	manifest *m = malloc(sizeof(*m));
	struct stat sb;

	if (!m) {
		cli_say(NULL, path, "out of memory");
		return NULL;
	}
	m->path = path;
	m->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0666);
	if (m->fd < 0 || fstat(m->fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		cli_say(NULL, path, "cannot open the manifest: %s",
			m->fd < 0 ? strerror(errno) : "not a regular file");
		manifest_close(m);
		return NULL;
	}
	if (!ends_in_newline(m->fd, sb.st_size) && write(m->fd, "\n", 1) != 1) {
		cli_say(NULL, path, "write error: %s", strerror(errno));
		manifest_close(m);
		return NULL;
	}
	return m;
}

void manifest_close(manifest *m)
{
	if (!m)
		return;
	if (m->fd >= 0)
		close(m->fd);
	free(m);
}

static const char *const status_names[] = { "done", "failed", "skipped" };
static const char *const class_names[] = { NULL, "bad-input", "io", "interrupted" };

/* A path member: KEY as text, and KEY_hex with its bytes when the text
 * cannot hold them exactly (a name that is not UTF-8). */
static void put_path(ra_json *j, const char *key, const char *path)
{
	char hex_key[32];
	size_t len;
	char *hex;

	ra_json_string(j, key, path);
	if (!path || ra_json_exact(path))
		return;
	len = strlen(path);
	hex = malloc(2 * len + 1);
	if (!hex)
		return; /* the line then lacks it, and fails to resume that input */
	for (size_t i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)path[i]);
	snprintf(hex_key, sizeof(hex_key), "%s_hex", key);
	ra_json_string(j, hex_key, hex);
	free(hex);
}

static void put_libraries(ra_json *j)
{
	char samplerate[64];

	snprintf(samplerate, sizeof(samplerate), "%s", src_get_version());
	ra_json_begin_object(j, "libraries");
	ra_json_string(j, "sndfile", sf_version_string());
	ra_json_string(j, "fftw", fftw_version);
	ra_json_string(j, "soxr", soxr_version());
	ra_json_string(j, "samplerate", samplerate);
	ra_json_end_object(j);
}

/* A count, or null for -1 (unknown). */
static void put_count(ra_json *j, const char *key, int64_t v)
{
	if (v < 0)
		ra_json_string(j, key, NULL);
	else
		ra_json_uint(j, key, (uint64_t)v);
}

/* R as one JSON line into F. */
static void put_record(FILE *f, const manifest_record *r)
{
	char settings[17];
	ra_json j;

	snprintf(settings, sizeof(settings), "%016llx", (unsigned long long)r->settings);
	ra_json_init_line(&j, f);
	ra_json_begin_object(&j, NULL);
	ra_json_uint(&j, "manifest", MANIFEST_VERSION);
	put_path(&j, "input", r->input);
	put_count(&j, "input_size", r->input_size);
	put_count(&j, "input_mtime_ns", r->input_size < 0 ? -1 : r->input_mtime_ns);
	ra_json_string(&j, "settings", settings);
	ra_json_string(&j, "tool", "rusty-audio " RA_VERSION);
	put_libraries(&j);
	ra_json_string(&j, "status", status_names[r->status]);
	ra_json_string(&j, "error_class", class_names[r->error_class]);
	ra_json_string(&j, "message", r->message);
	put_path(&j, "output", r->output);
	put_count(&j, "output_size", r->output_size);
	ra_json_string(&j, "output_hash", r->output_size < 0 ? NULL : r->output_hash);
	put_count(&j, "frames_in", r->frames_in);
	put_count(&j, "frames_out", r->frames_out);
	ra_json_uint(&j, "clipped", r->clipped);
	ra_json_number(&j, "seconds", r->seconds);
	ra_json_end_object(&j);
}

/* All LEN bytes at P to FD. */
static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int manifest_append(manifest *m, const manifest_record *r)
{
	char *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);
	int bad;

	if (!f) {
		cli_say(NULL, m->path, "out of memory");
		return -1;
	}
	put_record(f, r);
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		free(line);
		cli_say(NULL, m->path, "out of memory");
		return -1;
	}
	/* One write: lines of processes sharing the file never interleave. */
	if (write_all(m->fd, line, len) != 0 || fsync(m->fd) != 0) {
		cli_say(NULL, m->path, "write error: %s", strerror(errno));
		free(line);
		return -1;
	}
	free(line);
	return 0;
}

int manifest_hash_fd(int fd, char hex[MANIFEST_HASH_LEN + 1], int64_t *size)
{
	enum { CHUNK = 1 << 16 };
	XXH3_state_t *state = XXH3_createState();
	char *buf = malloc(CHUNK);
	ssize_t n = -1;
	XXH128_hash_t h = { 0, 0 };

	*size = 0;
	if (!state || !buf)
		errno = ENOMEM;
	else if (XXH3_128bits_reset(state) == XXH_OK)
		while ((n = read(fd, buf, CHUNK)) > 0 || (n < 0 && errno == EINTR))
			if (n > 0) {
				XXH3_128bits_update(state, buf, (size_t)n);
				*size += n;
			}
	if (n == 0)
		h = XXH3_128bits_digest(state);
	XXH3_freeState(state);
	free(buf);
	if (n < 0)
		return -1;
	snprintf(hex, MANIFEST_HASH_LEN + 1, "%016llx%016llx", (unsigned long long)h.high64,
		 (unsigned long long)h.low64);
	return 0;
}
