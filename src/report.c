/* Spectrum reports: the CSV table and a self-contained SVG plot, written
 * atomically. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rustyaudio/atomic_file.h"
#include "rustyaudio/report.h"

/* Line colours, one per channel and side. */
static const char *const palette[] = { "#1f77b4", "#d62728", "#2ca02c", "#9467bd",
				       "#ff7f0e", "#8c564b", "#e377c2", "#17becf" };

#define PALETTE_SIZE (sizeof(palette) / sizeof(palette[0]))

static void print_value(FILE *f, double v)
{
	if (isinf(v))
		fputs(v < 0 ? ",-inf" : ",inf", f);
	else
		fprintf(f, ",%.6g", v);
}

/* PATH quoted for one line of text (ra_quote()) into F. */
static void put_quoted(FILE *f, const char *path)
{
	size_t size = RA_QUOTE_SIZE(strlen(path));
	char *q = malloc(size);

	if (!q) {
		fputs("?", f); /* the write fails later for want of memory anyway */
		return;
	}
	ra_quote(path, 0, q, size);
	fputs(q, f);
	free(q);
}

static int write_csv(const void *ctx, FILE *f)
{
	const ra_report *r = ctx;
	const ra_report_side *side = r->out ? r->out : r->in;
	int both = r->in && r->out, ch = side->channels;

	fputs("# rusty-audio spectrum\n# input: ", f);
	put_quoted(f, r->input_path);
	fprintf(f, "\n# sample_rate_hz: %.17g\n", r->sample_rate);
	fprintf(f, "# channels: %d%s\n", ch, r->mix ? " (mix)" : "");
	fprintf(f, "# fft_size: %zu\n# window: %s\n# overlap: %.17g\n", r->fft_size,
		ra_window_name(r->window), r->overlap);
	fprintf(f, "# scale: %s\n",
		r->scale == RA_SCALE_PSD ? "psd (dB re 1 unit^2/Hz)"
					 : "dbfs (dB re full-scale sine)");
	if (both)
		fprintf(f, "# segments: %llu in, %llu out\n", r->in->segments, r->out->segments);
	else
		fprintf(f, "# segments: %llu\n# spectrum_of: %s\n", side->segments,
			r->out ? "output" : "input");
	fprintf(f, "# enbw_hz: %.17g\n", r->enbw_hz);

	fputs("frequency_hz", f);
	if (!both) {
		for (int c = 1; c <= ch; c++)
			fprintf(f, ",ch%d_db", c);
	} else {
		static const char *const prefix[] = { "in", "out", "delta" };

		for (int p = 0; p < 3; p++)
			for (int c = 1; c <= ch; c++)
				fprintf(f, ",%s_ch%d_db", prefix[p], c);
		fputs(",target_db", f);
		for (int c = 1; c <= ch; c++)
			fprintf(f, ",error_ch%d_db", c);
	}
	fputc('\n', f);

	for (size_t k = 0; k < r->bins; k++) {
		fprintf(f, "%.6g", (double)k * r->sample_rate / (double)r->fft_size);
		if (!both) {
			for (int c = 0; c < ch; c++)
				print_value(f, side->db[(size_t)c * r->bins + k]);
		} else {
			double target = r->target_db ? r->target_db[k] : 0.0;

			for (int c = 0; c < ch; c++)
				print_value(f, r->in->db[(size_t)c * r->bins + k]);
			for (int c = 0; c < ch; c++)
				print_value(f, r->out->db[(size_t)c * r->bins + k]);
			for (int c = 0; c < ch; c++)
				print_value(f, r->out->db[(size_t)c * r->bins + k] -
						       r->in->db[(size_t)c * r->bins + k]);
			print_value(f, target);
			for (int c = 0; c < ch; c++)
				print_value(f, r->out->db[(size_t)c * r->bins + k] -
						       r->in->db[(size_t)c * r->bins + k] - target);
		}
		fputc('\n', f);
	}
	return 0;
}

ra_status ra_report_write_csv(const ra_report *r, const char *path, int force, ra_atomic_file *held,
			      ra_diag *diag)
{
	if (!r->in && !r->out) {
		ra_diag_set(diag, "a spectrum report needs the input's or the output's spectrum");
		return RA_ERR_INVALID;
	}
	return ra_atomic_write(path, force, write_csv, r, held, diag);
}

/* ------------------------------------------------------------------ SVG */

#define SVG_W 960
#define SVG_H 540
#define PLOT_X0 70
#define PLOT_X1 (SVG_W - 20)
#define PLOT_Y0 50
#define PLOT_Y1 (SVG_H - 60)

/* The length of the valid UTF-8 sequence at P (1 to 4), or 0. */
static size_t utf8_length(const unsigned char *p)
{
	size_t n = p[0] < 0x80	 ? 1
		   : p[0] < 0xC2 ? 0
		   : p[0] < 0xE0 ? 2
		   : p[0] < 0xF0 ? 3
		   : p[0] < 0xF5 ? 4
				 : 0;
	/* The second byte's range (no overlong forms, surrogates or > U+10FFFF). */
	unsigned lo = p[0] == 0xE0 ? 0xA0 : p[0] == 0xF0 ? 0x90 : 0x80;
	unsigned hi = p[0] == 0xED ? 0x9F : p[0] == 0xF4 ? 0x8F : 0xBF;

	for (size_t i = 1; i < n; i++)
		if (p[i] < (i == 1 ? lo : 0x80) || p[i] > (i == 1 ? hi : 0xBF))
			return 0;
	/* U+FFFE and U+FFFF are not characters XML allows. */
	if (n == 3 && p[0] == 0xEF && p[1] == 0xBF && p[2] >= 0xBE)
		return 0;
	return n;
}

/* Text for XML: & < > " escaped, and what is not UTF-8 (a file name's
 * bytes in another encoding) replaced by U+FFFD, so the file stays
 * well-formed. Control bytes come quoted by ra_quote() first. */
static void put_escaped(FILE *f, const char *s)
{
	for (size_t n; *s; s += n ? n : 1) {
		n = utf8_length((const unsigned char *)s);
		if (n == 0) {
			fputs("\xEF\xBF\xBD", f);
			continue;
		}
		if (n > 1) {
			fwrite(s, 1, n, f);
			continue;
		}
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

typedef struct axes {
	double f_lo, f_hi; /* Hz, log scale */
	double db_lo, db_hi;
} axes;

static double x_of(const axes *a, double hz)
{
	return PLOT_X0 + (PLOT_X1 - PLOT_X0) * log10(hz / a->f_lo) / log10(a->f_hi / a->f_lo);
}

static double y_of(const axes *a, double db)
{
	if (!(db > a->db_lo))
		db = a->db_lo;
	if (db > a->db_hi)
		db = a->db_hi;
	return PLOT_Y1 - (PLOT_Y1 - PLOT_Y0) * (db - a->db_lo) / (a->db_hi - a->db_lo);
}

/* The dB range: from the top of the data, rounded up to 10 dB, down 100 dB
 * or to the lowest finite value, whichever is higher. */
static void fit_axes(const ra_report *r, axes *a)
{
	const ra_report_side *sides[2] = { r->in, r->out };
	double hi = -INFINITY, lo = INFINITY;

	a->f_lo = 20.0;
	a->f_hi = r->sample_rate / 2.0;
	for (int s = 0; s < 2; s++) {
		if (!sides[s])
			continue;
		for (size_t i = 0; i < (size_t)sides[s]->channels * r->bins; i++) {
			double v = sides[s]->db[i];

			if (isfinite(v)) {
				hi = fmax(hi, v);
				lo = fmin(lo, v);
			}
		}
	}
	if (!isfinite(hi)) {
		hi = 0.0;
		lo = -100.0;
	}
	a->db_hi = 10.0 * ceil(hi / 10.0);
	a->db_lo = fmax(10.0 * floor(lo / 10.0), a->db_hi - 100.0);
	if (a->db_hi - a->db_lo < 20.0)
		a->db_lo = a->db_hi - 20.0;
}

static void write_grid(const axes *a, FILE *f)
{
	static const double marks[] = { 20,   50,   100,   200,	  500,	 1000,
					2000, 5000, 10000, 20000, 50000, 100000 };

	fputs("<g stroke=\"#ddd\" stroke-width=\"1\">\n", f);
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (marks[i] >= a->f_lo && marks[i] <= a->f_hi)
			fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n",
				x_of(a, marks[i]), PLOT_Y0, x_of(a, marks[i]), PLOT_Y1);
	for (double db = a->db_lo; db <= a->db_hi + 1e-9; db += 10.0)
		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n", PLOT_X0,
			y_of(a, db), PLOT_X1, y_of(a, db));
	fputs("</g>\n<g font-family=\"sans-serif\" font-size=\"12\" fill=\"#333\">\n", f);
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		if (marks[i] < a->f_lo || marks[i] > a->f_hi)
			continue;
		if (marks[i] >= 1000)
			fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%gk</text>\n",
				x_of(a, marks[i]), PLOT_Y1 + 18, marks[i] / 1000);
		else
			fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
				x_of(a, marks[i]), PLOT_Y1 + 18, marks[i]);
	}
	for (double db = a->db_lo; db <= a->db_hi + 1e-9; db += 10.0)
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", PLOT_X0 - 6,
			y_of(a, db) + 4, db);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">frequency (Hz)</text>\n",
		(PLOT_X0 + PLOT_X1) / 2, SVG_H - 20);
	fprintf(f,
		"<text x=\"16\" y=\"%d\" text-anchor=\"middle\" "
		"transform=\"rotate(-90 16 %d)\">dB</text>\n",
		(PLOT_Y0 + PLOT_Y1) / 2, (PLOT_Y0 + PLOT_Y1) / 2);
	fputs("</g>\n", f);
}

static int write_svg(const void *ctx, FILE *f)
{
	const ra_report *r = ctx;
	const ra_report_side *sides[2] = { r->in, r->out };
	static const char *const side_names[2] = { "input", "output" };
	const char *name =
		strrchr(r->input_path, '/') ? strrchr(r->input_path, '/') + 1 : r->input_path;
	char *quoted;
	axes a;
	int line = 0;

	fit_axes(r, &a);
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		SVG_W, SVG_H, SVG_W, SVG_H);
	fputs("<text x=\"70\" y=\"24\" font-family=\"sans-serif\" font-size=\"15\">", f);
	quoted = malloc(RA_QUOTE_SIZE(strlen(name)));
	if (quoted)
		ra_quote(name, 0, quoted, RA_QUOTE_SIZE(strlen(name)));
	put_escaped(f, quoted ? quoted : "?");
	free(quoted);
	fprintf(f, ": %s, fft %zu, %s, overlap %g, %g Hz</text>\n",
		ra_spectrum_scale_name(r->scale), r->fft_size, ra_window_name(r->window),
		r->overlap, r->sample_rate);
	write_grid(&a, f);
	fprintf(f,
		"<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
		"stroke=\"#888\"/>\n",
		PLOT_X0, PLOT_Y0, PLOT_X1 - PLOT_X0, PLOT_Y1 - PLOT_Y0);
	for (int s = 0; s < 2; s++) {
		if (!sides[s])
			continue;
		for (int c = 0; c < sides[s]->channels; c++, line++) {
			const double *db = sides[s]->db + (size_t)c * r->bins;

			fprintf(f,
				"<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.2\"%s "
				"points=\"",
				palette[line % PALETTE_SIZE],
				s == 0 && r->out ? " stroke-dasharray=\"4 3\"" : "");
			for (size_t k = 1; k < r->bins; k++) {
				double hz = (double)k * r->sample_rate / (double)r->fft_size;

				if (hz >= a.f_lo && hz <= a.f_hi)
					fprintf(f, "%.1f,%.1f ", x_of(&a, hz), y_of(&a, db[k]));
			}
			fputs("\"/>\n", f);
			fprintf(f,
				"<text x=\"%d\" y=\"%d\" font-family=\"sans-serif\" "
				"font-size=\"12\" fill=\"%s\">%s ch%d</text>\n",
				PLOT_X1 - 110, PLOT_Y0 + 16 + 15 * line,
				palette[line % PALETTE_SIZE], side_names[s], c + 1);
		}
	}
	fputs("</svg>\n", f);
	return 0;
}

ra_status ra_report_write_svg(const ra_report *r, const char *path, int force, ra_atomic_file *held,
			      ra_diag *diag)
{
	return ra_atomic_write(path, force, write_svg, r, held, diag);
}

/* ----------------------------------------------------------- spectrogram */

struct ra_spectrogram {
	ra_atomic_file file;
	FILE *out;
	ra_spectrogram_layout layout;
};

/* Wide layout: band J of COLUMNS covers bins [first, last). */
static void band_range(const ra_spectrogram_layout *l, size_t j, size_t *first, size_t *last)
{
	*first = j * l->bins / l->columns;
	*last = (j + 1) * l->bins / l->columns;
}

ra_spectrogram *ra_spectrogram_open(const char *path, int force,
				    const ra_spectrogram_layout *layout, ra_status *status,
				    ra_diag *diag)
{
	ra_spectrogram *sg = calloc(1, sizeof(*sg));
	ra_status st = RA_ERR_NOMEM;

	if (!sg)
		goto out;
	sg->layout = *layout;
	if (sg->layout.columns == 0 || sg->layout.columns > sg->layout.bins)
		sg->layout.columns = sg->layout.bins;
	sg->out = ra_atomic_open_stream(&sg->file, path, force, &st, diag);
	if (!sg->out)
		goto out_free;
	if (layout->long_format) {
		fputs("time_s,frequency_hz,ch,db\n", sg->out);
	} else {
		const double hz = layout->sample_rate / (double)layout->fft_size;

		fputs("time_s", sg->out);
		for (int c = 1; c <= layout->channels; c++) {
			for (size_t j = 0; j < sg->layout.columns; j++) {
				size_t first, last;

				band_range(&sg->layout, j, &first, &last);
				fprintf(sg->out, ",ch%d_%.6g", c,
					hz * (double)(first + last - 1) / 2.0);
			}
		}
		fputc('\n', sg->out);
	}
	st = RA_OK;
	goto out;

out_free:
	free(sg);
	sg = NULL;
out:
	if (status)
		*status = st;
	return sg;
}

void ra_spectrogram_row(ra_spectrogram *sg, double time_s, const double *db)
{
	const ra_spectrogram_layout *l = &sg->layout;
	const double hz = l->sample_rate / (double)l->fft_size;

	if (l->long_format) {
		for (size_t k = 0; k < l->bins; k++)
			for (int c = 0; c < l->channels; c++) {
				fprintf(sg->out, "%.6g,%.6g,%d", time_s, hz * (double)k, c + 1);
				print_value(sg->out, db[(size_t)c * l->bins + k]);
				fputc('\n', sg->out);
			}
		return;
	}
	fprintf(sg->out, "%.6g", time_s);
	for (int c = 0; c < l->channels; c++) {
		for (size_t j = 0; j < l->columns; j++) {
			size_t first, last;
			double power = 0.0;

			band_range(l, j, &first, &last);
			for (size_t k = first; k < last; k++)
				power += pow(10.0, db[(size_t)c * l->bins + k] / 10.0);
			power /= (double)(last - first);
			print_value(sg->out, power > 0.0 ? 10.0 * log10(power) : -INFINITY);
		}
	}
	fputc('\n', sg->out);
}

ra_status ra_spectrogram_commit(ra_spectrogram *sg, ra_atomic_file *held, ra_diag *diag)
{
	ra_status st;

	if (!sg) {
		ra_diag_set(diag, "no spectrogram to commit");
		return RA_ERR_INVALID;
	}
	st = ra_atomic_commit_stream(&sg->file, sg->out, 0, held, diag);
	free(sg);
	return st;
}

void ra_spectrogram_abort(ra_spectrogram *sg)
{
	if (!sg)
		return;
	if (sg->out)
		fclose(sg->out);
	ra_atomic_abort(&sg->file);
	free(sg);
}
