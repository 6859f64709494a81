/* Audio files through libsndfile: a streaming reader, a writer that appears
 * atomically (temporary file in the destination folder, renamed into place
 * on commit), output format selection, and metadata carried across.
 *
 * Formats are libsndfile's SF_FORMAT_* codes: major type | subtype (this
 * header includes <sndfile.h> for them).
 * Lengths are in frames (one sample on every channel). */
#ifndef RUSTYAUDIO_AUDIO_FILE_H
#define RUSTYAUDIO_AUDIO_FILE_H

#include <signal.h>
#include <sndfile.h>
#include <stddef.h>
#include <stdint.h>

#include "rustyaudio/status.h"
#include "rustyaudio/workers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ra_audio_info {
	int64_t frames;	 /* -1 when the file does not say */
	int sample_rate; /* Hz */
	int channels;
	int format; /* SF_FORMAT_* major | subtype */
} ra_audio_info;

/* Bits of an integer PCM subtype (8, 16, 24 or 32), 0 for anything else. */
int ra_format_pcm_bits(int format);

/* True for the 32- and 64-bit float subtypes. */
int ra_format_is_float(int format);

/* The major type named NAME ("wav", "flac", "ogg", "opus", "mp3", ...), as
 * used by --format and output extensions; *SUBTYPE gets the subtype the name
 * implies (Opus for "opus") or 0. RA_ERR_INVALID for unknown names. */
ra_status ra_format_parse(const char *name, int *major, int *subtype);

/* The Ith name ra_format_parse() takes, in table order; NULL past the last. */
const char *ra_format_parse_name(size_t i);

/* The subtype named NAME ("pcm16", "pcm24", "float", "ulaw", ...). */
ra_status ra_subtype_parse(const char *name, int *subtype);

/* Short names for messages: "wav", "pcm16"; "?" when unknown. */
const char *ra_format_name(int format);
const char *ra_subtype_name(int format);

/* True when FORMAT can be written front to back to a pipe (standard
 * output): its header holds no length (raw, FLAC, Ogg, MP3), or one put in
 * before it goes (WAV and AU of fixed-size samples). */
int ra_format_streams(int format);
/* Decide the output format for IN written to PATH ("-": standard output).
 * MAJOR and SUBTYPE, when non-zero, are what the user asked for; otherwise
 * the major type comes from PATH's extension, else from IN, and the subtype
 * is IN's when the output can hold it. If it cannot, a lossless subtype is
 * chosen (pcm16 for <= 16-bit codecs, float or pcm24 otherwise) and
 * *FELL_BACK is set. A WAV expected to pass 4 GiB (or of unknown length)
 * becomes RF64, except on standard output, which takes only formats that
 * stream. RA_ERR_UNSUPPORTED with DIAG when the requested combination
 * cannot be written. */
ra_status ra_format_choose(const ra_audio_info *in, const char *path, int major, int subtype,
			   int *out_format, int *fell_back, ra_diag *diag);

/* True when paths A and B name the same existing file (device and inode,
 * so also through links). */
int ra_path_same_file(const char *a, const char *b);

typedef struct ra_reader ra_reader;

enum {
	/* Copy a stream to a temporary file first, and read that: */
	RA_READ_SPOOL = 1
};
/* Open PATH for reading ("-": standard input). Checks that it is a file
 * libsndfile can read with a sane shape (1..RA_MAX_CHANNELS channels,
 * 1..RA_MAX_SAMPLE_RATE Hz) and loads its metadata. NULL on failure, with
 * STATUS and DIAG.
 *
 * What cannot seek (a pipe, a FIFO) is read as a stream, front to back:
 * its length is unknown (-1), it cannot be rewound, and FLAC and other
 * formats that seek cannot be read. With RA_READ_SPOOL in FLAGS a stream
 * is first copied, a block at a time, to an unnamed temporary file in
 * $TMPDIR (else /tmp), which is then read as any file and is gone when the
 * reader closes; RA_ERR_READ when the copy fails (a full disk).
 * A stream waits for its writer until *CANCEL (when CANCEL is not NULL)
 * becomes non-zero: the open, or the read, then fails ("interrupted"). */
ra_reader *ra_reader_open(const char *path, int flags, const volatile sig_atomic_t *cancel,
			  ra_status *status, ra_diag *diag);

const ra_audio_info *ra_reader_info(const ra_reader *rd);
/* The file's channel layout, SF_CHANNEL_MAP_* a channel (a WAVE_FORMAT_
 * EXTENSIBLE mask, a CAF layout...), or NULL when it says none. */
const int *ra_reader_channel_map(const ra_reader *rd);

/* Read up to FRAMES interleaved frames into BUF as left-justified 32-bit
 * integers, float (+-1.0 full scale) or double; *GOT is set to the frames
 * read, 0 at the end. RA_ERR_READ with DIAG when decoding fails. */
ra_status ra_reader_read_int(ra_reader *rd, int32_t *buf, size_t frames, size_t *got,
			     ra_diag *diag);
ra_status ra_reader_read_float(ra_reader *rd, float *buf, size_t frames, size_t *got,
			       ra_diag *diag);
ra_status ra_reader_read_double(ra_reader *rd, double *buf, size_t frames, size_t *got,
				ra_diag *diag);

/* Whether RD holds 8- or 16-bit PCM, which ra_reader_read_short() reads
 * whole: its ra_reader_read_int() samples times 2^-16, with one copy less. */
int ra_reader_reads_shorts(const ra_reader *rd);
ra_status ra_reader_read_short(ra_reader *rd, int16_t *buf, size_t frames, size_t *got,
			       ra_diag *diag);

/* Back to the first frame, for a second pass. RA_ERR_READ with DIAG when
 * the format cannot seek. */
ra_status ra_reader_rewind(ra_reader *rd, ra_diag *diag);

/* To frame FRAME (0..frames), where the next read starts. RA_ERR_READ with
 * DIAG when the format cannot seek there. */
ra_status ra_reader_seek(ra_reader *rd, int64_t frame, ra_diag *diag);

/* Close the file and free RD. NULL is a no-op. */
void ra_reader_destroy(ra_reader *rd);

typedef struct ra_writer ra_writer;

enum {
	RA_WRITE_FORCE = 1 /* replace an existing output */
};

/* Start writing PATH with the shape and format in INFO. INFO->frames is the
 * expected length, or -1 when unknown: a WAV of unknown length is written as
 * RF64 that libsndfile turns back into RIFF WAVE on close if it stayed under
 * 4 GiB (its RF64 writer keeps tags and bext but not cue points or loops).
 * Audio goes to a new temporary file beside PATH; nothing appears at PATH
 * before ra_writer_commit(). RA_ERR_EXISTS when PATH exists and FLAGS lacks
 * RA_WRITE_FORCE. NULL on failure, with STATUS and DIAG.
 *
 * PATH "-" is standard output, written front to back whatever it is (a
 * pipe, a file, the null device) in a format that streams (see
 * ra_format_streams()), and never to a terminal (RA_ERR_OPEN). A WAV or AU
 * header there holds the length of INFO->frames, or the largest length it
 * can say (as ffmpeg and SoX write one) when that is unknown; a FLAC stream
 * longer than its first MiB has a header with no length and no MD5 (as
 * flac's own output to a pipe). */
ra_writer *ra_writer_open(const char *path, const ra_audio_info *info, int flags, ra_status *status,
			  ra_diag *diag);

/* Encode on W's threads where the format can be split: FLAC, whose
 * segments encode at once (see flac.h); the bytes are the same with any W
 * or none. Call before writing audio. */
void ra_writer_set_workers(ra_writer *wr, ra_workers *w);

/* A write to a pipe (standard output) waits for its reader; once *CANCEL
 * is non-zero, the wait ends and the write fails ("interrupted"). */
void ra_writer_set_cancel(ra_writer *wr, const volatile sig_atomic_t *cancel);
/* Carry SRC's metadata to the output: string tags, the broadcast (bext)
 * chunk, cue points and instrument loops, where the output format has room
 * for them. Positions are scaled by RATIO (output rate / input rate).
 * Call before writing audio; what the output cannot hold is skipped. */
void ra_writer_copy_metadata(ra_writer *wr, const ra_reader *src, double ratio);

/* Append FRAMES interleaved frames. RA_ERR_WRITE with DIAG on failure. */
ra_status ra_writer_write_int(ra_writer *wr, const int32_t *buf, size_t frames, ra_diag *diag);
ra_status ra_writer_write_float(ra_writer *wr, const float *buf, size_t frames, ra_diag *diag);
ra_status ra_writer_write_double(ra_writer *wr, const double *buf, size_t frames, ra_diag *diag);

/* Whether WR writes 16-bit PCM through libsndfile, which takes 16-bit
 * integers (ra_writer_write_short()) as they are, with one conversion
 * less than left-justified ones; FLAC's encoder takes only those. */
int ra_writer_takes_shorts(const ra_writer *wr);
ra_status ra_writer_write_short(ra_writer *wr, const int16_t *buf, size_t frames, ra_diag *diag);

/* Finish the file and move it into place, then free WR. On failure the
 * temporary file is removed and nothing appears at the output path. WR
 * NULL is RA_ERR_INVALID, with DIAG, and does nothing. */
ra_status ra_writer_commit(ra_writer *wr, ra_diag *diag);

/* Called when an output is complete and synced but not yet under its name,
 * with a descriptor that reads it from the start (-1 for the null device,
 * which has nothing to read back). Non-zero keeps the file from appearing:
 * the commit fails with RA_ERR_WRITE and what the callback put in DIAG. */
typedef int (*ra_finished_fn)(void *ctx, int fd, ra_diag *diag);

/* ra_writer_commit() calling FINISHED (when not NULL) between finishing the
 * file and moving it into place. */
ra_status ra_writer_commit_with(ra_writer *wr, ra_finished_fn finished, void *ctx, ra_diag *diag);

/* Discard everything written and free WR. NULL is a no-op. */
void ra_writer_abort(ra_writer *wr);

#ifdef __cplusplus
}
#endif

#endif
