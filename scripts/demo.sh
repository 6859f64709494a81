#!/bin/sh
# make demo: generate a test signal with rusty-audio itself, process it, and
# say where the results are. Usage: demo.sh PROGRAM OUTDIR
set -eu

prog=$1
out=$2

rm -rf "$out"
mkdir -p "$out/processed"

"$prog" --generate sweep:20:20000 --duration 10 --sample-rate 48000 --channels 2 \
	--level -1 -o "$out/sweep.wav"
"$prog" --generate pink --duration 10 --sample-rate 48000 --channels 2 -o "$out/pink.wav"
"$prog" "$out/sweep.wav" "$out/pink.wav" --gain -3 --rate 44.1k --format flac \
	--subtype pcm16 -o "$out/processed"

"$prog" "$out/pink.wav" --eq lowshelf:80:+4 --eq peak:1k:-3:1.41 --eq highpass:30 \
	--spectrum-of both --spectrum "$out/pink-eq.csv" --plot "$out/pink-eq.svg" \
	-o "$out/pink-eq.wav"

echo "demo: generated  $out/sweep.wav $out/pink.wav (48 kHz float, 10 s)"
echo "demo: processed  $out/processed/sweep.flac $out/processed/pink.flac (-3 dB, 44.1 kHz, 16-bit FLAC)"
echo "demo: equalized  $out/pink-eq.wav, spectra $out/pink-eq.csv and plot $out/pink-eq.svg"
