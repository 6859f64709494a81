/* Sums over a stream kept in phases. The stream's frames go in groups of
 * RA_PHASE_FRAMES, group g into the sums of phase g % RA_PHASES, and the
 * phases are added in order when the sums are read. Each phase then takes
 * its groups in stream order however the stream is shared out: SHARES
 * stretches of it (a share j the groups g with g % SHARES == j, SHARES
 * dividing RA_PHASES) can be summed at once, each on its own thread, to
 * the bits of the whole stream summed on one. The levels (level.h) and
 * the Welch spectra (spectrum.h) sum this way. */
#ifndef RUSTYAUDIO_PHASES_H
#define RUSTYAUDIO_PHASES_H

#define RA_PHASES 4
#define RA_PHASE_FRAMES 16384

#endif
