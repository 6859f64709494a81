/* Fuzz target: what users type. The first byte picks the parser: '0' EQ
 * bands (one a line), '1' a graphic EQ, '2' a band file, '3' a preset,
 * '4' a whole command line (one argument a line, parsed by cli_parse());
 * the rest is its text. Whatever was accepted is designed at three rates
 * and its peak gain measured. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rustyaudio/eq.h"

#include "options.h"

#define FUZZ_MAX_ARGS 64

/* TEXT's lines (cut in place) into at most MAX pointers; their count. */
static int split_lines(char *text, char **lines, int max)
{
	int n = 0;

	for (char *s = text; s && n < max; n++) {
		lines[n] = s;
		s = strchr(s, '\n');
		if (s)
			*s++ = '\0';
	}
	return n;
}

/* TEXT as a band file, through a memfd. */
static void parse_file(ra_eq *eq, const char *text)
{
	int fd = memfd_create("fuzz-bands", MFD_CLOEXEC);
	size_t len = strlen(text);
	char path[64];
	ra_diag diag;

	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ra_eq_add_file(eq, path, &diag);
	close(fd);
}

/* TEXT as the arguments of a command line; the chain it gives into EQ.
 * --eq-file is left out: its argument would name any file at all. */
static void parse_command_line(ra_eq *eq, char *text)
{
	char *argv[FUZZ_MAX_ARGS + 2] = { "rusty-audio" };
	int argc = 1 + split_lines(text, argv + 1, FUZZ_MAX_ARGS);
	cli_options opt;

	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], "--eq-", 5))
			return;
	optind = 0; /* getopt starts afresh */
	if (cli_parse(argc, argv, &opt) == -1)
		*eq = opt.eq;
}

static void design(const ra_eq *eq)
{
	static const double rates[] = { 8000.0, 44100.0, 192000.0 };
	ra_biquad_coeffs c[RA_EQ_MAX_BANDS];

	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		ra_diag diag;
		double gain, freq;

		if (ra_eq_design(eq, rates[i], c, &diag) != RA_OK)
			continue;
		ra_eq_peak_gain(c, eq->count, rates[i], &gain, &freq);
		ra_eq_response_db(c, eq->count, 1000.0, rates[i]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *lines[RA_EQ_MAX_BANDS + 2];
	ra_eq eq = { .count = 0 };
	ra_diag diag;
	int n;

	if (size == 0)
		return 0;
	text = strndup((const char *)data + 1, size - 1);
	if (!text)
		abort();
	switch (data[0]) {
	case '0':
		n = split_lines(text, lines, RA_EQ_MAX_BANDS + 2);
		for (int i = 0; i < n; i++)
			ra_eq_add(&eq, lines[i], &diag);
		break;
	case '1':
		ra_eq_add_graphic(&eq, text, &diag);
		break;
	case '2':
		parse_file(&eq, text);
		break;
	case '3':
		ra_eq_add_preset(&eq, text, &diag);
		break;
	case '4':
		parse_command_line(&eq, text);
		break;
	}
	design(&eq);
	free(text);
	return 0;
}
