#!/bin/sh
# What a user of the library gets: `make install` into a temporary root, then
# a C and a C++ program (tests/install/) built from the installed headers and
# rustyaudio.pc alone, linked against the static and the shared library, and
# run. Fails on a header not installed or not in rustyaudio.h, a header that
# does not compile on its own, an exported function a C++ program cannot link
# (no extern "C"), a version that differs between headers and library, or
# a README example that does not compile.
# Run by `make check-run` with MAKE, CC, CXX and TEST_FLAGS (sanitizers).
set -eu

MAKE=${MAKE:-make}
CC=${CC:-cc}
CXX=${CXX:-c++}
TEST_FLAGS=${TEST_FLAGS:-}

fail() {
	echo "install-test: $*" >&2
	exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rusty-audio-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
lib=$root/usr/lib

$MAKE --no-print-directory -s install DESTDIR="$root" PREFIX=/usr >"$tmp/log" 2>&1 ||
	{ cat "$tmp/log" >&2; fail "make install DESTDIR=$root PREFIX=/usr failed"; }

# pkg-config as a user's would be, but looking into the temporary root; /usr
# is a system folder, whose flags it would otherwise leave out.
export PKG_CONFIG_PATH="$lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root"
export PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
version=$(pkg-config --modversion rustyaudio) || fail "no rustyaudio.pc installed"
cflags=$(pkg-config --cflags rustyaudio)
shared_libs=$(pkg-config --libs rustyaudio)
# The archive with its own Libs.private, and what each package it requires
# links with: Debian ships no libsndfile.a, and libsndfile's private
# dependencies without their development links, so a fully static link
# (pkg-config --static) cannot work there.
requires=$(pkg-config --print-requires --print-requires-private rustyaudio)
# shellcheck disable=SC2086
static_libs="$(pkg-config --static --libs --maximum-traverse-depth=2 rustyaudio |
	sed 's/-lrustyaudio\b/-l:librustyaudio.a/') $(pkg-config --libs $requires)"

for h in include/rustyaudio/*.h; do
	name=${h##*/}
	cmp -s "$h" "$root/usr/$h" || fail "$name not installed"
	echo "#include <rustyaudio/$name>" >"$tmp/one.c"
	# shellcheck disable=SC2086
	$CC -std=c11 -Wall -Wextra -Werror -fsyntax-only $cflags "$tmp/one.c" ||
		fail "$name does not compile on its own"
	[ "$name" = rustyaudio.h ] ||
		grep -qx "#include \"rustyaudio/$name\"" "$root/usr/include/rustyaudio/rustyaudio.h" ||
		fail "rustyaudio.h does not include $name"
done

# The example in README.md's "The library".
awk '/^## The library/ { lib = 1 } lib && /^```$/ { exit } lib && c { print } lib && /^```c$/ { c = 1 }' \
	README.md >"$tmp/readme.c"
[ -s "$tmp/readme.c" ] || fail "no C example in README.md's \"The library\""
# shellcheck disable=SC2086
$CC -std=c11 -Wall -Wextra -Werror $cflags -c -o "$tmp/readme.o" "$tmp/readme.c" ||
	fail "README.md's example does not compile"

# Every function the shared library exports (its internals are hidden).
nm -D --defined-only "$lib/librustyaudio.so" | awk 'NF == 3 && $2 != "A" { print "USE(" $3 ")" }' \
	>"$tmp/symbols.h"
[ -s "$tmp/symbols.h" ] || fail "no symbols in librustyaudio.so"

# build NAME COMPILER [FLAGS...] SOURCE: NAME-shared and NAME-static.
build() {
	name=$1 compiler=$2
	shift 2
	# shellcheck disable=SC2086
	$compiler -Wall -Wextra -Werror $TEST_FLAGS -I"$tmp" $cflags "$@" -o "$tmp/$name-shared" \
		$shared_libs || fail "$name: cannot build against the shared library"
	# shellcheck disable=SC2086
	$compiler -Wall -Wextra -Werror $TEST_FLAGS -I"$tmp" $cflags "$@" -o "$tmp/$name-static" \
		$static_libs || fail "$name: cannot build against the static library"
}
build c "$CC" -std=c11 tests/install/app.c
build cxx "$CXX" -std=c++11 tests/install/app.cpp

for prog in c-shared c-static cxx-shared cxx-static; do
	needed=$(readelf -d "$tmp/$prog" | grep -c 'NEEDED.*\[librustyaudio\.so\.' || true)
	case $prog in
	*-shared) [ "$needed" = 1 ] || fail "$prog does not use librustyaudio.so" ;;
	*-static) [ "$needed" = 0 ] || fail "$prog uses librustyaudio.so" ;;
	esac
	out=$(LD_LIBRARY_PATH="$lib" "$tmp/$prog") || fail "$prog failed"
	[ "$out" = "$version" ] || fail "$prog says version '$out', rustyaudio.pc '$version'"
done
echo "install-test: headers, rustyaudio.pc, static and shared $version: ok"
