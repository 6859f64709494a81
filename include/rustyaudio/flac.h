/* FLAC encoding through libFLAC, in segments that encode at once on the
 * workers. A segment is a whole number of FLAC blocks (4096 frames) run
 * through its own encoder; its frames are renumbered to their place in the
 * stream as they come out, and the segments are put in order. At
 * compression level 5 no state crosses a block, so the stream is byte for
 * byte the one a single encoder writes (libsndfile's FLAC writer), for any
 * number of threads.
 *
 * Samples are interleaved left-justified 32-bit integers, as
 * ra_reader_read_int() gives them; lengths are in frames. */
#ifndef RUSTYAUDIO_FLAC_H
#define RUSTYAUDIO_FLAC_H

#include <stddef.h>
#include <stdint.h>

#include "rustyaudio/status.h"
#include "rustyaudio/workers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ra_flac ra_flac;

/* Where the stream goes: LEN bytes of BUF at byte OFFSET of the output.
 * Bytes come in order but for the header, which is put again at offset 0
 * once the stream is finished. Non-zero on failure, with DIAG. */
typedef int (*ra_flac_put_fn)(void *ctx, uint64_t offset, const void *buf, size_t len,
			      ra_diag *diag);

/* An encoder for SAMPLE_RATE Hz (1..655350), CHANNELS (1..8) of BITS (8, 16
 * or 24) bits, putting its bytes through PUT(CTX, ...). NULL on failure,
 * with STATUS and DIAG: RA_ERR_UNSUPPORTED for a shape FLAC cannot hold,
 * RA_ERR_NOMEM. */
ra_flac *ra_flac_create(int sample_rate, int channels, int bits, ra_flac_put_fn put, void *ctx,
			ra_status *status, ra_diag *diag);

/* Encode segments as tasks on W (NULL, or a pool of one thread: on the
 * caller, as it writes). Before the first write. */
void ra_flac_set_workers(ra_flac *f, ra_workers *w);

/* A Vorbis comment NAME=VALUE for the stream's header. Before the first
 * write. RA_ERR_NOMEM. */
ra_status ra_flac_tag(ra_flac *f, const char *name, const char *value);

/* Append FRAMES frames of BUF (the low 32 - BITS bits of each sample are
 * dropped). Segments that fill go to the workers, and those done are put;
 * RA_ERR_WRITE or RA_ERR_NOMEM with DIAG when one of them failed. */
ra_status ra_flac_write(ra_flac *f, const int32_t *buf, size_t frames, ra_diag *diag);

/* Encode what is held, put every segment, then the header with the
 * stream's length, frame sizes and MD5 signature. */
ra_status ra_flac_finish(ra_flac *f, ra_diag *diag);

/* Wait for the tasks in flight and free F. NULL is a no-op. */
void ra_flac_destroy(ra_flac *f);

#ifdef __cplusplus
}
#endif

#endif
