/* Test signal generator: parses signal specs and produces sine, exponential
 * sweep, white and pink noise, impulse and silence as interleaved float. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/generate.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Paul Kellet's refined pink filter (music-dsp archive, the b0..b6 version):
 * six one-pole sections plus a one-sample delay whose sum follows 1/f within
 * +-0.05 dB above 9.2 Hz at 44.1 kHz. Poles, then the gain of white into each
 * section; b6 is the delayed term. */
static const double ra_pink_pole[6] = { 0.99886, 0.99332, 0.96900, 0.86650, 0.55000, -0.7616 };
static const double ra_pink_gain[6] = { 0.0555179, 0.0750759, 0.1538520,
					0.3104856, 0.5329522, -0.0168980 };
#define RA_PINK_DIRECT 0.5362
#define RA_PINK_DELAYED 0.115926

/* Driven by uniform white in [-1, 1] the filter's output has an RMS of about
 * 1.76 and stayed below 9.7 in 1e8 samples: scaling by 0.1 keeps its peaks
 * within full scale (the clamp is only a safety limit) at about -15 dBFS RMS. */
#define RA_PINK_SCALE 0.1

/* Per-channel noise state: a xoshiro256** generator and the pink filter. */
struct ra_gen_channel {
	uint64_t rng[4];
	double pink[7];
};

struct ra_generator {
	ra_signal_kind kind; /* a sweep with f0 == f1 is made a sine */
	int channels;
	int rate;
	int64_t frames;
	int64_t pos; /* frames produced so far */
	double amplitude;
	double freq;
	double sweep_cycles; /* sweep: cycles(n) = sweep_cycles * expm1(n * sweep_k) */
	double sweep_k;
	struct ra_gen_channel ch[];
};

/* splitmix64 (Vigna): used only to expand the seed into xoshiro states. */
static uint64_t ra_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t ra_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** 1.0 (Blackman and Vigna): fast, 2^256 - 1 period. */
static inline uint64_t ra_xoshiro_next(uint64_t s[4])
{
	uint64_t result = ra_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = ra_rotl(s[3], 45);
	return result;
}

/* Uniform in [-1, 1) from the top 53 bits. */
static inline double ra_uniform(uint64_t s[4])
{
	return (double)(ra_xoshiro_next(s) >> 11) * 0x1p-52 - 1.0;
}

/* sin(2 pi c) with c reduced to [0, 1) first, so that large cycle counts
 * keep their fractional precision. */
static inline double ra_sin_cycles(double c)
{
	return sin(2.0 * M_PI * (c - floor(c)));
}

ra_status ra_generate_parse(const char *spec, ra_generate_config *cfg, ra_diag *diag)
{
	static const struct {
		const char *name;
		ra_signal_kind kind;
		int nfreq;
	} kinds[] = {
		{ "sine", RA_SIGNAL_SINE, 1 },	     { "sweep", RA_SIGNAL_SWEEP, 2 },
		{ "white", RA_SIGNAL_WHITE, 0 },     { "pink", RA_SIGNAL_PINK, 0 },
		{ "impulse", RA_SIGNAL_IMPULSE, 0 }, { "silence", RA_SIGNAL_SILENCE, 0 },
	};
	static const char *const usage[] = { "", ":FREQ", ":F0:F1" };
	double freq[2] = { 0.0, 0.0 };
	const char *p, *field;
	size_t name_len, i;
	int k, nfields;

	if (!spec || !cfg) {
		ra_diag_set(diag, "no signal given");
		return RA_ERR_INVALID;
	}
	name_len = strcspn(spec, ":");
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strlen(kinds[i].name) == name_len && !strncmp(spec, kinds[i].name, name_len))
			break;
	if (i == sizeof(kinds) / sizeof(kinds[0])) {
		ra_diag_set(
			diag,
			"bad signal '%.80s': expected sine, sweep, white, pink, impulse or silence",
			spec);
		return RA_ERR_INVALID;
	}

	/* Count the fields after the name, then parse each one. */
	nfields = 0;
	for (p = spec + name_len; *p; p++)
		nfields += *p == ':';
	if (nfields != kinds[i].nfreq) {
		ra_diag_set(diag, "bad signal '%.80s': expected %s%s", spec, kinds[i].name,
			    usage[kinds[i].nfreq]);
		return RA_ERR_INVALID;
	}
	field = spec + name_len;
	for (k = 0; k < nfields; k++) {
		field++; /* skip the ':' */
		p = field + strcspn(field, ":");
		if (ra_hz_parse(field, (size_t)(p - field), &freq[k]) != RA_OK) {
			ra_diag_set(diag, "bad signal '%.80s': frequency must be a positive number",
				    spec);
			return RA_ERR_INVALID;
		}
		field = p;
	}

	/* Only now touch CFG, so that a failed parse leaves it as it was. */
	cfg->kind = kinds[i].kind;
	cfg->freq = freq[0];
	cfg->freq_end = kinds[i].nfreq == 2 ? freq[1] : freq[0];
	return RA_OK;
}

static ra_status ra_generate_validate(const ra_generate_config *cfg, ra_diag *diag)
{
	double nyquist;

	if (!cfg) {
		ra_diag_set(diag, "no generator config given");
		return RA_ERR_INVALID;
	}
	if (cfg->sample_rate <= 0) {
		ra_diag_set(diag, "sample rate must be positive, not %d", cfg->sample_rate);
		return RA_ERR_INVALID;
	}
	if (cfg->channels < 1 || cfg->channels > RA_MAX_CHANNELS) {
		ra_diag_set(diag, "channel count must be 1 to %d, not %d", RA_MAX_CHANNELS,
			    cfg->channels);
		return RA_ERR_INVALID;
	}
	if (cfg->frames < 0) {
		ra_diag_set(diag, "length must not be negative");
		return RA_ERR_INVALID;
	}
	if (!(cfg->amplitude >= 0.0 && cfg->amplitude <= 1.0)) {
		ra_diag_set(diag, "amplitude must be between 0 and 1, not %g", cfg->amplitude);
		return RA_ERR_INVALID;
	}
	switch (cfg->kind) {
	case RA_SIGNAL_SWEEP:
	case RA_SIGNAL_SINE:
		nyquist = cfg->sample_rate / 2.0;
		if (!(cfg->freq > 0.0 && cfg->freq < nyquist) ||
		    (cfg->kind == RA_SIGNAL_SWEEP &&
		     !(cfg->freq_end > 0.0 && cfg->freq_end < nyquist))) {
			ra_diag_set(diag,
				    "frequency must be above 0 and below %g Hz (half the rate)",
				    nyquist);
			return RA_ERR_INVALID;
		}
		break;
	case RA_SIGNAL_WHITE:
	case RA_SIGNAL_PINK:
	case RA_SIGNAL_IMPULSE:
	case RA_SIGNAL_SILENCE:
		break;
	default:
		ra_diag_set(diag, "unknown signal kind %d", (int)cfg->kind);
		return RA_ERR_INVALID;
	}
	return RA_OK;
}

ra_generator *ra_generator_create(const ra_generate_config *cfg, ra_status *status, ra_diag *diag)
{
	ra_generator *gen = NULL;
	ra_status st;
	uint64_t seed;
	double ln_ratio, length;
	int c;

	st = ra_generate_validate(cfg, diag);
	if (st != RA_OK)
		goto out;
	gen = calloc(1, sizeof(*gen) + (size_t)cfg->channels * sizeof(gen->ch[0]));
	if (!gen) {
		ra_diag_set(diag, "cannot allocate the generator");
		st = RA_ERR_NOMEM;
		goto out;
	}
	gen->kind = cfg->kind;
	gen->channels = cfg->channels;
	gen->rate = cfg->sample_rate;
	gen->frames = cfg->frames;
	gen->amplitude = cfg->amplitude;
	gen->freq = cfg->freq;

	/* Exponential sweep over T = frames / rate seconds with L = ln(f1 / f0):
	 * phase(t) = 2 pi f0 T / L (exp(t L / T) - 1), so the instantaneous
	 * frequency f0 exp(t L / T) runs from f0 at t = 0 to f1 at t = T.
	 * Kept in cycles; expm1 holds precision when f1 is close to f0. */
	if (gen->kind == RA_SIGNAL_SWEEP) {
		if (cfg->freq == cfg->freq_end || cfg->frames == 0) {
			gen->kind = RA_SIGNAL_SINE;
		} else {
			ln_ratio = log(cfg->freq_end / cfg->freq);
			length = (double)cfg->frames / cfg->sample_rate;
			gen->sweep_cycles = cfg->freq * length / ln_ratio;
			gen->sweep_k = ln_ratio / (double)cfg->frames;
		}
	}

	/* One xoshiro stream a channel, each seeded from successive splitmix64
	 * outputs so that the channels are uncorrelated. */
	seed = cfg->seed;
	for (c = 0; c < gen->channels; c++) {
		uint64_t *s = gen->ch[c].rng;

		s[0] = ra_splitmix64(&seed);
		s[1] = ra_splitmix64(&seed);
		s[2] = ra_splitmix64(&seed);
		s[3] = ra_splitmix64(&seed);
		if (!(s[0] | s[1] | s[2] | s[3]))
			s[0] = 1; /* the one state xoshiro cannot leave */
	}
out:
	if (status)
		*status = st;
	return gen;
}

/* Sine at absolute frame n: cycles = freq n / rate, split as n = q rate + r
 * so that the product stays small and exact-ish for hours of output and the
 * value depends on n alone, not on the block split. */
static void ra_gen_sine(const ra_generator *gen, float *out, size_t frames)
{
	const int nch = gen->channels;
	const int64_t rate = gen->rate;
	const double freq = gen->freq;
	const double amp = gen->amplitude;
	int64_t q = gen->pos / rate;
	int64_t r = gen->pos % rate;
	double whole = freq * (double)q;
	double base = whole - floor(whole);
	size_t i;
	int c;

	for (i = 0; i < frames; i++) {
		float v = (float)(amp * ra_sin_cycles(base + freq * (double)r / (double)rate));

		for (c = 0; c < nch; c++)
			out[i * nch + c] = v;
		if (++r == rate) {
			r = 0;
			q++;
			whole = freq * (double)q;
			base = whole - floor(whole);
		}
	}
}

static void ra_gen_sweep(const ra_generator *gen, float *out, size_t frames)
{
	const int nch = gen->channels;
	const double k = gen->sweep_k;
	const double cycles = gen->sweep_cycles;
	const double amp = gen->amplitude;
	const int64_t pos = gen->pos;
	size_t i;
	int c;

	for (i = 0; i < frames; i++) {
		double n = (double)(pos + (int64_t)i);
		float v = (float)(amp * ra_sin_cycles(cycles * expm1(n * k)));

		for (c = 0; c < nch; c++)
			out[i * nch + c] = v;
	}
}

/* Noise is made channel by channel: each channel's stream and filter are
 * independent, so the order does not change the output. */
static void ra_gen_white(ra_generator *gen, float *out, size_t frames)
{
	const int nch = gen->channels;
	const double amp = gen->amplitude;
	size_t i;
	int c;

	for (c = 0; c < nch; c++) {
		uint64_t s[4];

		memcpy(s, gen->ch[c].rng, sizeof(s));
		for (i = 0; i < frames; i++)
			out[i * nch + c] = (float)(amp * ra_uniform(s));
		memcpy(gen->ch[c].rng, s, sizeof(s));
	}
}

static void ra_gen_pink(ra_generator *gen, float *out, size_t frames)
{
	const int nch = gen->channels;
	const double amp = gen->amplitude;
	const double scale = amp * RA_PINK_SCALE;
	size_t i;
	int c, j;

	for (c = 0; c < nch; c++) {
		uint64_t s[4];
		double b[7];

		memcpy(s, gen->ch[c].rng, sizeof(s));
		memcpy(b, gen->ch[c].pink, sizeof(b));
		for (i = 0; i < frames; i++) {
			double w = ra_uniform(s);
			double y;

			for (j = 0; j < 6; j++)
				b[j] = ra_pink_pole[j] * b[j] + ra_pink_gain[j] * w;
			y = b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + RA_PINK_DIRECT * w;
			b[6] = RA_PINK_DELAYED * w;
			y *= scale;
			if (y > amp)
				y = amp;
			else if (y < -amp)
				y = -amp;
			out[i * nch + c] = (float)y;
		}
		memcpy(gen->ch[c].rng, s, sizeof(s));
		memcpy(gen->ch[c].pink, b, sizeof(b));
	}
}

size_t ra_generator_read(ra_generator *gen, float *out, size_t frames)
{
	int64_t remaining;
	int c;

	if (!gen || !out)
		return 0;
	remaining = gen->frames - gen->pos;
	if ((uint64_t)remaining < frames)
		frames = (size_t)remaining;
	if (frames == 0)
		return 0;

	switch (gen->kind) {
	case RA_SIGNAL_SINE:
		ra_gen_sine(gen, out, frames);
		break;
	case RA_SIGNAL_SWEEP:
		ra_gen_sweep(gen, out, frames);
		break;
	case RA_SIGNAL_WHITE:
		ra_gen_white(gen, out, frames);
		break;
	case RA_SIGNAL_PINK:
		ra_gen_pink(gen, out, frames);
		break;
	case RA_SIGNAL_IMPULSE:
		memset(out, 0, frames * (size_t)gen->channels * sizeof(*out));
		if (gen->pos == 0)
			for (c = 0; c < gen->channels; c++)
				out[c] = (float)gen->amplitude;
		break;
	case RA_SIGNAL_SILENCE:
		memset(out, 0, frames * (size_t)gen->channels * sizeof(*out));
		break;
	}
	gen->pos += (int64_t)frames;
	return frames;
}

void ra_generator_destroy(ra_generator *gen)
{
	free(gen);
}
