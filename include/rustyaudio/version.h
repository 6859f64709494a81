/* The library's version: for the preprocessor, the headers a program was
 * built with; at run time, ra_version(), the library it runs with. The one
 * place the version is set: the Makefile reads it from here. */
#ifndef RUSTYAUDIO_VERSION_H
#define RUSTYAUDIO_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

#define RA_VERSION_MAJOR 0
#define RA_VERSION_MINOR 1
#define RA_VERSION_PATCH 0

/* "MAJOR.MINOR.PATCH" of the library linked in, e.g. "0.1.0". Static. */
const char *ra_version(void);

#ifdef __cplusplus
}
#endif

#endif
