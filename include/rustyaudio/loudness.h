/* Loudness by ITU-R BS.1770-4 and EBU R128, measured by libebur128:
 * integrated loudness, loudness range (EBU Tech 3342), the highest
 * momentary (400 ms) and short-term (3 s) loudness, and the true peak of
 * each channel (oversampled by libsoxr: 4 times under 96 kHz, 2 times
 * under 192 kHz).
 *
 * Frames are fed in any pieces; the results do not depend on how the
 * stream was cut, nor on the workers. With workers, the gated measure
 * and each channel's true peak run as tasks on a chunk of frames, each in
 * stream order, while the caller fills the next chunk.
 *
 * Channel weights follow the layout when one is given (libsndfile's
 * SF_CHANNEL_MAP_* codes): LFE is left out, surround channels (side, or
 * rear when there is no side pair) count +1.5 dB, the rest 0 dB. Without
 * a layout, five channels are L, R, C, Ls, Rs and six the WAV order L, R,
 * C, LFE, Ls, Rs; any other count weighs every channel 0 dB. */
#ifndef RUSTYAUDIO_LOUDNESS_H
#define RUSTYAUDIO_LOUDNESS_H

#include <stddef.h>

#include "rustyaudio/status.h"
#include "rustyaudio/workers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ra_loudness ra_loudness;

/* BS.1770 weighs channels up to 22.2's 24; libebur128 keeps 3 s of each
 * (1.1 MB at 48 kHz), so more are not measured. */
#define RA_LOUDNESS_MAX_CHANNELS 24

typedef struct ra_loudness_config {
	int channels;
	int sample_rate;	/* Hz */
	const int *channel_map; /* SF_CHANNEL_MAP_* a channel, or NULL */
	ra_workers *workers;	/* NULL: everything on the caller */
	/* Also keep a state of the integrated loudness alone, with 400 ms of
	 * audio (not 3 s), for ra_loudness_integrated_of() after
	 * ra_loudness_shrink(): an album's streams, kept by the hundred. */
	int album;
} ra_loudness_config;

/* Levels are -HUGE_VAL (-inf) where there is nothing to measure: silence
 * below the gates, or a stream shorter than the window. */
typedef struct ra_loudness_result {
	double integrated_lufs;
	double range_lu;
	double momentary_max_lufs; /* the loudest 400 ms window, at 100 ms steps */
	double shortterm_max_lufs; /* the loudest 3 s window, at 100 ms steps */
	double true_peak_dbtp;	   /* the channels' highest */
} ra_loudness_result;

/* NULL on failure, with STATUS and DIAG: RA_ERR_LIMITS for a shape that is
 * not measured (1 to RA_LOUDNESS_MAX_CHANNELS channels at 16 Hz to
 * 2822400 Hz are), RA_ERR_NOMEM. */
ra_loudness *ra_loudness_create(const ra_loudness_config *cfg, ra_status *status, ra_diag *diag);

/* Feed FRAMES interleaved frames. */
void ra_loudness_add(ra_loudness *l, const float *frames, size_t n);

/* The whole stream's figures, after the last frames: RESULT, and when
 * CHANNEL_DBTP is not NULL each channel's true peak there. Feeding more
 * after this is not allowed. RA_OK, or the failure of the true peaks'
 * oversampling (RA_ERR_NOMEM, RA_ERR_RESAMPLE), which leaves them
 * incomplete. */
ra_status ra_loudness_finish(ra_loudness *l, ra_loudness_result *result, double *channel_dbtp);

/* The integrated loudness of several finished streams measured as one
 * (BS.1770's gating over all their blocks: an album), LUFS. */
double ra_loudness_integrated_of(ra_loudness *const *streams, size_t count);

/* Release everything but what ra_loudness_integrated_of() needs, after
 * ra_loudness_finish(), for a batch that keeps many (made with album). */
void ra_loudness_shrink(ra_loudness *l);

/* NULL is a no-op. */
void ra_loudness_destroy(ra_loudness *l);

/* The gain, dB, that takes a stream of LUFS and TRUE_PEAK (dBTP) to
 * TARGET LUFS without its true peak passing CEILING dBTP: TARGET - LUFS,
 * or less when the ceiling holds it down, and then *SHORT (when not NULL)
 * says by how many LU the stream stays under TARGET (else 0). 0 for a
 * LUFS of -inf: silence has no loudness to set. */
double ra_loudness_gain(double lufs, double true_peak, double target, double ceiling,
			double *short_lu);

#ifdef __cplusplus
}
#endif

#endif
