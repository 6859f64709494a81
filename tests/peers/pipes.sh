#!/bin/sh
# rusty-audio between SoX and ffmpeg in shell pipelines, on both sides:
# WAV from sox or ffmpeg into '-', the EQ, FLAC or WAV out of '-o -' into
# sox or ffmpeg. Each pipeline's samples, decoded by the reader at its end,
# are those the reader decodes from the same job run file to file.
#
#   tests/peers/pipes.sh BUILD   (with sox and ffmpeg)
set -eu

build=$(cd "${1:?usage: pipes.sh BUILD}" && pwd)
ra=$build/rusty-audio
work=$(mktemp -d "${TMPDIR:-/tmp}/ra-pipes.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
checks=0

fail() {
	echo "pipes test: $*" >&2
	exit 1
}

# The samples READER (sox or ffmpeg) decodes from standard input, in FORMAT,
# as the hash of their 32-bit floats.
decoded() {
	case "$1" in
	sox) sox -V1 -t "$2" - -t f32 - ;;
	ffmpeg) ffmpeg -v error -f "$2" -i - -f f32le - ;;
	esac | md5sum | cut -d' ' -f1
}

# WAV of in.wav from WRITER (sox or ffmpeg) on standard output.
encoded() {
	case "$1" in
	sox) sox in.wav -t wav - ;;
	ffmpeg) ffmpeg -v error -i in.wav -f wav - ;;
	esac
}

# 12 s of stereo 16-bit noise: past the MiB a stream's header goes with.
"$ra" --generate pink --duration 12 --channels 2 --subtype pcm16 -o in.wav
for format in flac wav; do
	"$ra" in.wav --eq peak:1k:3 --eq lowshelf:100:-2 -o "ref.$format"
	for writer in sox ffmpeg; do
		for reader in sox ffmpeg; do
			want=$(decoded "$reader" "$format" < "ref.$format")
			got=$(encoded "$writer" | "$ra" - --eq peak:1k:3 --eq lowshelf:100:-2 \
				-o - --format "$format" | decoded "$reader" "$format")
			[ "$got" = "$want" ] ||
				fail "$writer | rusty-audio --format $format | $reader: not the samples of the file"
			checks=$((checks + 1))
		done
	done
done
# FLAC from a pipe, through --spool, into sox's stats: the file's figures.
"$ra" in.wav -o in.flac
want=$(sox ref.flac -n stats 2>&1)
got=$(sox in.flac -t flac - | "$ra" - --spool --eq peak:1k:3 --eq lowshelf:100:-2 -o - \
	--format flac | sox -t flac - -n stats 2>&1)
[ "$got" = "$want" ] || fail "sox stats of the spooled pipeline differ: $got"
checks=$((checks + 1))
# An MP3 without a Xing header: libsndfile only estimates its length, which
# a WAV header streamed to standard output must not promise.
ffmpeg -v error -i in.wav -write_xing 0 nox.mp3
"$ra" -q nox.mp3 -o - --format wav > /dev/null ||
	fail "an MP3 of estimated length to standard output failed"
want=$("$ra" nox.mp3 -o - --format raw | wc -c)
got=$("$ra" nox.mp3 -o - --format wav | sox -V1 -t wav - -t raw - | wc -c)
[ "$got" = "$want" ] || fail "the streamed WAV of an MP3 holds $got bytes, not $want"
checks=$((checks + 1))
echo "pipes test: $checks pipelines give the samples of their files"
