/* One file end to end: read (or generate) in blocks, resample, apply gain
 * and the EQ (the processor), convert to the output's sample format and
 * write it atomically.
 *
 * With nothing to do to the samples (no gain, EQ or rate change) and an output that
 * is at least as wide as the input, samples are copied exactly: integer PCM
 * as integers, anything into a double output as double. Otherwise blocks go
 * through the float chain and integer outputs get TPDF dither by default
 * when the chain has more precision than the output.
 *
 * A job first makes its plan (ra_job_plan_init(): every decision, from the
 * config and the input's header, without I/O), then runs it.
 *
 * Formats are libsndfile's SF_FORMAT_* codes, so this header includes
 * <sndfile.h> (pkg-config's rustyaudio cflags carry its path). */
#ifndef RUSTYAUDIO_JOB_H
#define RUSTYAUDIO_JOB_H

#include <signal.h>
#include <sndfile.h>
#include <stddef.h>
#include <stdint.h>

#include "rustyaudio/audio_file.h"
#include "rustyaudio/convert.h"
#include "rustyaudio/eq.h"
#include "rustyaudio/generate.h"
#include "rustyaudio/pool.h"
#include "rustyaudio/resample.h"
#include "rustyaudio/spectrum.h"
#include "rustyaudio/stats.h"
#include "rustyaudio/status.h"
#include "rustyaudio/lane.h"
#include "rustyaudio/loudness.h"
#include "rustyaudio/workers.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RA_MAX_BLOCK_FRAMES (1 << 20)

/* Spectrum reports for one file, from taps in the same pass: the input tap
 * sees the samples after resampling (so both sides share the output rate),
 * the output tap what is written, before conversion. An input whose header
 * says it is shorter than one segment at the output rate fails
 * (RA_ERR_INVALID) before any analyser is made; --analyze's summary then
 * has no frequencies. */
typedef struct ra_spectrum_request {
	const char *csv_path;	      /* the CSV table, or NULL */
	const char *svg_path;	      /* the SVG plot, or NULL */
	const char *spectrogram_path; /* the output's spectrogram CSV, or NULL */
	int spectrogram_long;	      /* rows time_s,frequency_hz,ch,db */
	size_t spectrogram_bins;      /* wide: bands a channel, 0 for every bin */
	int of_input, of_output;
	size_t fft_size;
	ra_window window;
	double overlap;
	ra_spectrum_scale scale;
	int mix;     /* one spectrum of the channels' mean */
	int measure; /* FFTW_MEASURE plans */
} ra_spectrum_request;

/* The defaults: no report paths, the output's spectrum, 2048 points, Hann,
 * 50 % overlap, PSD. */
void ra_spectrum_request_init(ra_spectrum_request *req);

typedef enum ra_dither_mode {
	RA_DITHER_MODE_AUTO, /* TPDF when reducing to <= 24 bits from more precision */
	RA_DITHER_MODE_TPDF,
	RA_DITHER_MODE_NONE
} ra_dither_mode;

/* "auto", or the dither's own name (ra_dither_name()). */
const char *ra_dither_mode_name(ra_dither_mode mode);

/* What becomes of NaN and infinite samples in a float or double input.
 * None may reach a filter: one NaN in a recursive filter's state turns
 * everything after it into NaN. Samples read as integers are always finite.
 * RES->nonfinite counts them and RES->nonfinite_first_frame says where the
 * first was (frames from 0), whatever the mode. */
typedef enum ra_nonfinite_mode {
	/* The job fails (RA_ERR_NONFINITE) at the first block that holds one; the
	 * rest of the input is then only read, to count them all. */
	RA_NONFINITE_ERROR,
	/* Replaced by 0 as decoded, before any processing. */
	RA_NONFINITE_ZERO,
	/* The resampler, gain, EQ and taps see 0 in their place; the output
	 * gets the original value back at the same frame and channel. Outputs
	 * that cannot hold them clip infinities to full scale (counted as
	 * clipped) and write NaN as 0. A rate change has no "same frame": the
	 * job fails as with RA_NONFINITE_ERROR. */
	RA_NONFINITE_PASS
} ra_nonfinite_mode;

/* What jobs measured, for --enable-performance-stats: added to, never
 * cleared, so one struct can sum a batch. */
typedef struct ra_job_perf {
	ra_histogram stage[RA_STAGE_COUNT]; /* time a block in each stage */
	uint64_t pool_acquires;		    /* the processors' buffer pools */
	uint64_t pool_hits;		    /* served from the pool: allocations saved */
	uint64_t pool_misses;		    /* fell back to an allocation */
	/* The sink stage (level, convert, write) on the lane: blocks it ran
	 * there, and its time in them. */
	uint64_t lane_blocks;
	uint64_t lane_ns;
	/* Where the job's thread spent the job: in stages (its own, and the
	 * sink stage's when inline), in the processor (the work it ran there
	 * itself, handing steps to the workers and waiting for them), and
	 * handing blocks to the lane or waiting for it. */
	uint64_t caller_stage_ns;
	uint64_t caller_processor_ns;
	uint64_t caller_lane_ns;
} ra_job_perf;

/* When a job's sink stage runs on the lane: when a probe that times its
 * first blocks both ways finds that it pays, or always, or never. The
 * bytes written are the same either way. */
typedef enum ra_lane_use { RA_LANE_AUTO, RA_LANE_ALWAYS, RA_LANE_NEVER } ra_lane_use;

typedef struct ra_job_config {
	size_t block_frames; /* frames a block, 1..RA_MAX_BLOCK_FRAMES */
	double gain_db;
	int out_rate;		      /* Hz; 0 keeps the input's */
	ra_resample_engine resampler; /* default RA_RESAMPLER_SOXR */
	ra_resample_quality quality;
	int format_major;   /* SF_FORMAT_* major type, 0 to choose */
	int format_subtype; /* SF_FORMAT_* subtype, 0 to choose */
	ra_dither_mode dither;
	uint64_t dither_seed;
	int force; /* replace existing outputs */
	int spool; /* read a stream input through a temporary file (RA_READ_SPOOL) */
	ra_nonfinite_mode nonfinite; /* default RA_NONFINITE_ERROR */
	const ra_eq *eq; /* bands, designed at the output rate; NULL or empty for none */
	const ra_spectrum_request *spectrum; /* NULL for none */
	ra_workers *workers;		     /* shared threads for the EQ; NULL runs it inline */
	/* A thread for the sink stage (conversion, dither, encoding, the
	 * measuring passes), shared by the jobs of a batch, which run one at a
	 * time; NULL or inline runs that stage on the job's thread. */
	ra_lane *lane;
	ra_lane_use lane_use; /* when the sink stage takes the lane */
	int reference;	      /* the plain reference pipeline */
	/* Measure instead of writing (no output): RES->summary, one a channel,
	 * of what would be written; frequencies from a spectrum with the
	 * spectrum request's settings (defaults: 2048, hann, 0.5). */
	int analyze;
	int no_loudness; /* analyze: without the loudness and true peak */
	/* Two passes: measure the processed peak, then write with the gain that
	 * puts it at normalize_dbfs. Fails (RA_ERR_LIMITS) when a processed
	 * sample is not finite: no gain follows from such a peak. */
	int normalize;
	double normalize_dbfs;
	/* Two passes: measure the processed stream's loudness (loudness.h),
	 * then write it with one gain that puts its integrated loudness at
	 * loudness_lufs, held down so that its true peak stays at or below
	 * true_peak_dbtp. A stream with nothing above the gates (silence)
	 * is written unchanged. Not with normalize. */
	int loudness;
	double loudness_lufs;
	double true_peak_dbtp; /* default -1 */
	/* --analyze: also hand the loudness measured back in
	 * RES->loudness_state (an album's, see ra_loudness_integrated_of()). */
	int keep_loudness;
	/* Timing, or NULL (costs nothing then). Jobs that share one must run
	 * one at a time. */
	ra_job_perf *perf;
	/* Polled between blocks: non-zero stops the job with RA_ERR_CANCELLED. */
	const volatile sig_atomic_t *cancel;
	/* Called after every block with frames read so far and the input's
	 * length (-1 when unknown). May be NULL. */
	void (*progress)(void *ctx, int64_t done, int64_t total);
	void *progress_ctx;
	/* Called with the finished output before it takes its name (see
	 * ra_finished_fn), after the reports are written. May be NULL. */
	ra_finished_fn finished;
	void *finished_ctx;
} ra_job_config;

/* Defaults: 4096-frame blocks, no gain, same rate, best resampling, format
 * from the output name, automatic dither, no overwriting. */
void ra_job_config_init(ra_job_config *cfg);

#define RA_JOB_CLIP_CHANNELS 8

/* A channel as --analyze sees it. */
typedef struct ra_channel_summary {
	double peak_dbfs;      /* largest |sample|, dB re full scale */
	double rms_dbfs;       /* RMS, dB re full scale (a full-scale sine: -3.01) */
	double dc_offset;      /* mean */
	double crest_db;       /* peak over RMS */
	double true_peak_dbtp; /* oversampled by libsoxr (loudness.h) */
	uint64_t clipped;      /* samples at or beyond full scale */
	double peak_hz;	       /* the strongest bin of the spectrum; NAN if too short */
	double centroid_hz;    /* power-weighted mean frequency; NAN if too short */
} ra_channel_summary;

typedef struct ra_job_result {
	ra_diag diag;		/* why the job failed */
	int64_t frames_read;	/* input frames */
	int64_t frames_claimed; /* the input header's length, -1 when unknown */
	int64_t frames_written;
	int in_format, out_format; /* SF_FORMAT_* */
	int fell_back;		   /* the input's subtype could not be written: see out_format */
	int dithered;
	int decode_stopped;	  /* decoding failed after frames_read frames: diag says why */
	double peak_dbfs;	  /* --normalize: the processed peak before the gain, dBFS */
	double normalize_gain_db; /* --normalize: the gain it applied */
	int channels;
	int in_rate;			  /* the input's sample rate, Hz */
	uint64_t clipped;		  /* samples clipped, all channels */
	uint64_t nonfinite;		  /* NaN or infinite input samples: ra_nonfinite_mode */
	int64_t nonfinite_first_frame;	  /* where the first was, frames from 0 */
	ra_nonfinite_mode nonfinite_mode; /* what was done with them (the config's mode) */
	uint64_t clipped_ch[RA_JOB_CLIP_CHANNELS]; /* the first channels' share */
	ra_channel_summary *summary; /* analyze: one a channel; ra_job_result_release() */
	/* analyze and loudness: the processed stream's loudness (before the
	 * loudness gain); has_loudness says the figures are there. */
	int has_loudness;
	ra_loudness_result loudness;
	double loudness_gain_db;  /* loudness: the gain applied */
	double loudness_short_lu; /* loudness: how far below the target the true-peak cap kept it */
	ra_loudness *loudness_state; /* keep_loudness: ra_job_result_release() frees it */
} ra_job_result;

/* How a block travels from the input to the output. */
typedef enum ra_job_route {
	RA_JOB_ROUTE_COPY_INT,	  /* integers straight through, exactly */
	RA_JOB_ROUTE_COPY_DOUBLE, /* doubles straight through, exactly */
	RA_JOB_ROUTE_FLOAT	  /* the float chain: resampler, processor, converter */
} ra_job_route;

/* Everything a job decides before it touches a stream: from the config,
 * the input's header and the output's name. A job runs its plan block by
 * block; for --normalize it runs it twice, measuring, then writing. */
typedef struct ra_job_plan {
	/* The input, from its header; channels is 0 when the config itself
	 * was refused (block size, rate, EQ). */
	int channels;
	int in_rate;	   /* Hz */
	int in_format;	   /* SF_FORMAT_* */
	int64_t in_frames; /* -1 when unknown */
	int in_bits;	   /* read as integers of this precision; 0: read as float */
	/* What is done to the samples. */
	size_t block_frames; /* frames read a block */
	int out_rate;	     /* Hz */
	int64_t out_frames;  /* at out_rate; -1 when unknown */
	float gain;	     /* linear, from gain_db; --normalize scales it further */
	ra_biquad_coeffs bands[RA_EQ_MAX_BANDS]; /* the EQ, designed at out_rate */
	int band_count;
	int processing; /* gain, EQ, rate change or normalize: samples change */
	int normalize;	/* a measuring pass first, then the writing pass */
	int loudness;	/* the same, measuring the loudness */
	int analyze;	/* one measuring pass, no output */
	ra_job_route route;
	/* The output (nothing of it when analysing). */
	int out_format; /* SF_FORMAT_*; 0 until chosen */
	int fell_back;	/* the input's subtype cannot be written: another one */
	int out_bits;	/* integer output width; 0 for float and codecs */
	int convert;	/* the float route converts: to integers, or clips for a codec */
	int dither;	/* TPDF on that conversion */
	/* Non-finite input samples. */
	int screen;	     /* decoded float blocks are screened for them */
	int nonfinite_fails; /* one fails the job: RA_NONFINITE_ERROR, or pass
			      * through a rate change */
	/* Spectrum taps and reports. */
	ra_spectrum_request spectrum; /* the request (analyze: with its defaults); zero for none */
	int tap_in;		      /* the input side is analysed */
	int tap_out;		      /* the output side: its report, the spectrogram, --analyze */
} ra_job_plan;

/* Plan the job CFG for an input with header IN, written to OUT_PATH (its
 * name chooses the format; unused when analysing). GENERATED: the samples
 * come from the generator, so never by an exact copy. Pure: no I/O, no
 * stream buffers. Refusals, in this order: block size, output rate, an EQ
 * band the output rate cannot hold (RA_ERR_INVALID), an output format
 * that cannot hold the audio (RA_ERR_UNSUPPORTED), an input known to be
 * shorter than one FFT segment at the output rate (RA_ERR_INVALID; for
 * --analyze only no frequencies). On a refusal DIAG says why and PLAN
 * holds what was decided before it. */
ra_status ra_job_plan_init(ra_job_plan *plan, const ra_job_config *cfg, const ra_audio_info *in,
			   int generated, const char *out_path, ra_diag *diag);

/* Free what a result holds (the summary). A result released already, or
 * NULL, is a no-op. */
void ra_job_result_release(ra_job_result *res);

/* Process IN_PATH into OUT_PATH (unused when analysing). On failure
 * nothing is left at OUT_PATH or the report paths (unless a file existed
 * there and was not to be replaced) and RES->diag says why. The audio and
 * its reports are all written and synced before any is put in place, the
 * audio first; only when a report then cannot be moved into place (or a
 * folder cannot be synced) does a failed job leave its audio behind. */
ra_status ra_job_run(const ra_job_config *cfg, const char *in_path, const char *out_path,
		     ra_job_result *res);

/* Generate the signal GEN into OUT_PATH through the same chain. */
ra_status ra_job_generate(const ra_job_config *cfg, const ra_generate_config *gen,
			  const char *out_path, ra_job_result *res);

#ifdef __cplusplus
}
#endif

#endif
