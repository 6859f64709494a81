# Sourced by the cluster tests: NAME BUILD as their arguments set build
# (the build folder), here (the checkout), ra (the binary) and work (a
# fresh folder, readable by every user, that the test removes); and
# wait_file, for a daemon's pid file. Each test defines fail().

setup() {
	build=$(cd "${2:?usage: $1.sh BUILD}" && pwd)
	here=$(cd "$(dirname "$0")/../.." && pwd)
	ra=$build/rusty-audio
	work=$(mktemp -d "/tmp/ra-$1.XXXXXX")
	chmod 755 "$work"
}

# Wait until FILE is there and not empty (a daemon's pid file), at most
# 30 s, then print it.
wait_file() {
	i=0
	while [ ! -s "$1" ]; do
		i=$((i + 1))
		[ $i -le 150 ] || fail "no $1"
		sleep 0.2
	done
	cat "$1"
}
