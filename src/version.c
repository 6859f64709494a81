/* The version of the library linked in, spelled from version.h's numbers. */
#include "rustyaudio/version.h"

/* Two steps, so that the macros expand to their numbers before # quotes. */
#define RA_STR(x) #x
#define RA_XSTR(x) RA_STR(x)

const char *ra_version(void)
{
	return RA_XSTR(RA_VERSION_MAJOR) "." RA_XSTR(RA_VERSION_MINOR) "." RA_XSTR(
		RA_VERSION_PATCH);
}
