#!/bin/sh
# Install the build and test dependencies of rusty-audio from Debian packages.
# Idempotent: does nothing when every package is already installed.
# --lint: only what `make lint` needs (clang-format, cppcheck).
# --fuzz: only what `make fuzz` adds (clang and its libFuzzer runtime).
# --cluster: only what `make check-cluster` adds (Slurm, munge, an sshd,
# GNU parallel and rsync).
# --peers: only what `make check-peers` and the peer scripts add (SoX, ffmpeg).
set -eu

PACKAGES="build-essential pkg-config libsndfile1-dev libfftw3-dev libsoxr-dev libsamplerate0-dev libflac-dev nettle-dev libebur128-dev libxxhash-dev check jq"
case "${1:-}" in
--lint) PACKAGES="clang-format cppcheck" ;;
--fuzz) PACKAGES="clang libclang-rt-14-dev" ;;
--cluster) PACKAGES="slurm-wlm munge openssh-server openssh-client parallel rsync" ;;
--peers) PACKAGES="sox ffmpeg" ;;
esac

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "install-deps: missing packages:$missing (run as root or install sudo)" >&2
	exit 1
fi

echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
