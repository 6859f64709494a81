#!/bin/sh
# Which formats SoX, ffmpeg and libsndfile read back correctly from a pipe
# that rusty-audio writes (-o -), and print the table (README, "Pipes").
# Installs sox and ffmpeg when missing.
#
#   scripts/pipe-formats.sh [--seconds N] [--dir DIR]
#
# The input is N seconds (default 20) of stereo 48 kHz 16-bit pink noise made
# by rusty-audio, long enough that the stream's header goes out before its
# end. Each format is written twice to a pipe: from that file, whose length is
# known when the header goes, and from a pipe (cat file | rusty-audio -),
# whose length is not. Each reader reads the pipe and decodes it to 32-bit
# float; a cell says "yes" when it gets the samples it gets from the same
# format written to a file (for lossy codecs: as many samples), else what
# went wrong. libsndfile's column is rusty-audio's own reader, which is
# libsndfile's.
set -eu
cd "$(dirname "$0")/.."

seconds=20
dir=""
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) seconds=$2; shift 2 ;;
	--dir) dir=$2; shift 2 ;;
	*) echo "usage: scripts/pipe-formats.sh [--seconds N] [--dir DIR]" >&2; exit 2 ;;
	esac
done

make -s build/rusty-audio
ra=$(pwd)/build/rusty-audio
sh scripts/install-deps.sh --peers
dir=${dir:-$(mktemp -d "${TMPDIR:-/tmp}/pipe-formats.XXXXXX")}
mkdir -p "$dir" && cd "$dir"

"$ra" --generate pink --duration "$seconds" --channels 2 --subtype pcm16 -o in.wav --force

# How READER (sox, ffmpeg, libsndfile) reads FORMAT from standard input,
# as 32-bit float on standard output.
decode() {
	reader=$1 format=$2
	case "$reader:$format" in
	sox:raw) sox -t raw -r 48000 -c 2 -e signed -b 16 - -t f32 - ;;
	sox:*) sox -t "$format" - -t f32 - ;;
	ffmpeg:raw) ffmpeg -v error -f s16le -ar 48000 -ac 2 -i - -f f32le - ;;
	ffmpeg:opus) ffmpeg -v error -f ogg -i - -f f32le - ;;
	ffmpeg:*) ffmpeg -v error -f "$format" -i - -f f32le - ;;
	libsndfile:*) "$ra" - -o - --format raw --subtype float ;;
	esac
}

lossy() {
	case "$1" in ogg | opus | mp3) return 0 ;; esac
	return 1
}

# A cell: what READER makes of FORMAT (with rusty-audio's OPTIONS) from a
# pipe, against the file.
cell() {
	reader=$1 format=$2 source=$3
	shift 3
	if [ "$reader:$format" = libsndfile:raw ]; then
		echo "- (raw needs its shape given, which rusty-audio's reader takes none of)"
		return
	fi
	"$ra" in.wav -o "ref.$format" --format "$format" "$@" --force 2>/dev/null
	want=$(decode "$reader" "$format" < "ref.$format" 2>/dev/null | wc -c) || want=0
	if [ "$source" = file ]; then
		"$ra" in.wav -o - --format "$format" "$@" 2>/dev/null
	else
		cat in.wav | "$ra" - -o - --format "$format" "$@" 2>/dev/null
	fi | decode "$reader" "$format" > got.f32 2> why.txt || true
	got=$(wc -c < got.f32)
	if [ "$want" -eq 0 ]; then
		echo "cannot read this format at all"
	elif [ "$got" -eq 0 ]; then
		echo "fails: $(head -c 60 why.txt | tr '\n' ' ')"
	elif lossy "$format" && [ "$got" -eq "$want" ]; then
		echo yes
	elif decode "$reader" "$format" < "ref.$format" 2>/dev/null | cmp -s - got.f32; then
		echo yes
	else
		echo "$((got / 8)) of $((want / 8)) frames"
	fi
}

echo "| format | input read from | SoX $(sox --version | sed 's/.*v//') | ffmpeg $(ffmpeg -version | awk 'NR==1{print $3}') | libsndfile |"
echo "|---|---|---|---|---|"
for spec in "wav" "wav --subtype float" "wav --subtype ulaw" "au" "raw" "flac" "ogg" "opus" "mp3"; do
	# shellcheck disable=SC2086
	set -- $spec
	format=$1
	shift
	for source in file pipe; do
		row="| $spec | $source"
		for reader in sox ffmpeg libsndfile; do
			row="$row | $(cell "$reader" "$format" "$source" "$@")"
		done
		echo "$row |"
	done
done
