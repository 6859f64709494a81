/* Every public header of librustyaudio at once. Build with
 *     cc app.c $(pkg-config --cflags --libs rustyaudio)
 * Each header documents its module; status.h the error codes they share. */
#ifndef RUSTYAUDIO_RUSTYAUDIO_H
#define RUSTYAUDIO_RUSTYAUDIO_H

#include "rustyaudio/atomic_file.h"
#include "rustyaudio/audio_file.h"
#include "rustyaudio/biquad.h"
#include "rustyaudio/convert.h"
#include "rustyaudio/eq.h"
#include "rustyaudio/flac.h"
#include "rustyaudio/generate.h"
#include "rustyaudio/job.h"
#include "rustyaudio/lane.h"
#include "rustyaudio/level.h"
#include "rustyaudio/loudness.h"
#include "rustyaudio/phases.h"
#include "rustyaudio/pool.h"
#include "rustyaudio/processor.h"
#include "rustyaudio/report.h"
#include "rustyaudio/resample.h"
#include "rustyaudio/spectrum.h"
#include "rustyaudio/stats.h"
#include "rustyaudio/status.h"
#include "rustyaudio/version.h"
#include "rustyaudio/workers.h"

#endif
