/* A program built from an installed librustyaudio alone (see
 * tests/install-test.sh): every header through the umbrella, libsndfile's
 * format codes through job.h. Prints the library's version when it matches
 * the headers'. */
#include <stdio.h>
#include <string.h>

#include <rustyaudio/rustyaudio.h>

int main(void)
{
	char headers[32];
	ra_job_config cfg;

	snprintf(headers, sizeof(headers), "%d.%d.%d", RA_VERSION_MAJOR, RA_VERSION_MINOR,
		 RA_VERSION_PATCH);
	if (strcmp(ra_version(), headers) != 0) {
		fprintf(stderr, "app: library %s, headers %s\n", ra_version(), headers);
		return 1;
	}
	ra_job_config_init(&cfg);
	cfg.format_major = SF_FORMAT_WAV;
	cfg.format_subtype = SF_FORMAT_PCM_16;
	printf("%s\n", ra_version());
	return 0;
}
