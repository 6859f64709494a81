/* The I/O floor: a plain libsndfile read+write copy of a file in
 * 4096-frame float blocks, synced to the disk at the end as rusty-audio
 * syncs its outputs (free on tmpfs), nothing else. What any file-to-file
 * job on this machine pays before it does any work.
 *
 *   io_floor IN OUT */
#include <stdio.h>
#include <stdlib.h>

#include <sndfile.h>

#define BLOCK 4096

int main(int argc, char **argv)
{
	SF_INFO info = { 0 };
	SNDFILE *in, *out;
	float *buf;
	sf_count_t n;

	if (argc != 3) {
		fprintf(stderr, "usage: io_floor IN OUT\n");
		return 2;
	}
	in = sf_open(argv[1], SFM_READ, &info);
	if (!in) {
		fprintf(stderr, "io_floor: %s: %s\n", argv[1], sf_strerror(NULL));
		return 1;
	}
	out = sf_open(argv[2], SFM_WRITE, &info);
	if (!out) {
		fprintf(stderr, "io_floor: %s: %s\n", argv[2], sf_strerror(NULL));
		return 1;
	}
	buf = malloc(sizeof(*buf) * BLOCK * (size_t)info.channels);
	if (!buf)
		return 1;
	while ((n = sf_readf_float(in, buf, BLOCK)) > 0)
		if (sf_writef_float(out, buf, n) != n)
			return 1;
	free(buf);
	sf_close(in);
	sf_write_sync(out);
	return sf_close(out) != 0;
}
