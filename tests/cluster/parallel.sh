#!/bin/sh
# scripts/cluster/parallel.sh through a real ssh: an sshd started here on
# 127.0.0.1 (a high port, key authentication only) for a test user, 40
# generated files with spaces in their names sent to it and their outputs
# brought back, each byte-compared with a local -j 1 run; then a rerun
# after losing some outputs brings back exactly those. sshd is stopped by
# PID.
#
#   tests/cluster/parallel.sh BUILD   (as root, with openssh-server,
#                                      parallel and rsync)
set -eu

. "$(dirname "$0")/common.sh"
setup parallel "${1:-}"
user=rusty-audio-test
port=12222
sshd_pid=

fail() {
	echo "parallel test: $*" >&2
	[ -f "$work/sshd.log" ] && tail -20 "$work/sshd.log" >&2
	exit 1
}

stop() {
	if [ -n "$sshd_pid" ]; then
		kill "$sshd_pid" 2>/dev/null || true
		while kill -0 "$sshd_pid" 2>/dev/null; do sleep 0.1; done
	fi
	rm -rf "$work"
}
trap stop EXIT

# ---- a user, keys and sshd ----
id "$user" >/dev/null 2>&1 || useradd -m -s /bin/sh "$user"
usermod -p '*' "$user" # no password, yet not locked: key logins work without PAM
home=$(getent passwd "$user" | cut -d: -f6)
ssh-keygen -q -t ed25519 -N '' -f "$work/id"
ssh-keygen -q -t ed25519 -N '' -f "$work/host"
mkdir -p "$home/.ssh"
cp "$work/id.pub" "$home/.ssh/authorized_keys"
chown -R "$user" "$home/.ssh"
chmod 700 "$home/.ssh"
chmod 600 "$home/.ssh/authorized_keys"
mkdir -p /run/sshd
cat >"$work/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $work/host
PidFile $work/sshd.pid
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
StrictModes yes
AllowUsers $user
CONF
/usr/sbin/sshd -f "$work/sshd_config" -E "$work/sshd.log"
sshd_pid=$(wait_file "$work/sshd.pid")
PARALLEL_SSH="ssh -i $work/id -p $port -o BatchMode=yes -o StrictHostKeyChecking=no \
-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
export PARALLEL_SSH
$PARALLEL_SSH "$user@127.0.0.1" true || fail "cannot log in as $user"

# ---- the batch ----
cd "$work"
mkdir -p "in/a folder" local
: >list
n=0
while [ $n -lt 40 ]; do
	name="in/a folder/take $n.wav"
	[ $((n % 3)) -ne 0 ] || name="in/take  $n.wav"
	"$ra" -q --generate "sine:$((300 + 41 * n))" --level -12 --duration 0.25 --channels $((1 + n % 2)) \
		--subtype pcm16 --seed $n -o "$name"
	printf '%s\n' "$name" >>list
	n=$((n + 1))
done
"$ra" -q --files-from list --relative-to . -o local --format flac --eq peak:2k:4
RUSTY_AUDIO=$ra "$here/scripts/cluster/parallel.sh" -S "2/$user@127.0.0.1" -o out -x flac \
	list --eq peak:2k:4 || fail "parallel.sh failed"

same_outputs() {
	count=0
	while IFS= read -r in; do
		rel=${in%.*}.flac
		cmp -s "local/$rel" "out/$rel" || fail "$rel differs or did not come back"
		count=$((count + 1))
	done <list
	[ $count -eq 40 ] || fail "$count outputs, not 40"
	[ "$(find out -type f | wc -l)" -eq 40 ] || fail "extra files in out: $(find out -type f)"
}
same_outputs

# ---- resumed ----
find out -type f -name '*.flac' -exec stat -c '%i %Y %n' {} + | sort >before
rm "out/in/a folder/take 1.flac" "out/in/take  3.flac"
RUSTY_AUDIO=$ra "$here/scripts/cluster/parallel.sh" -S "2/$user@127.0.0.1" -o out -x flac \
	list --eq peak:2k:4 || fail "the rerun failed"
same_outputs
find out -type f -name '*.flac' -exec stat -c '%i %Y %n' {} + | sort >after
[ "$(comm -13 before after | wc -l)" -eq 2 ] || fail "the rerun rewrote more than the 2 lost: $(comm -13 before after)"
echo "parallel test: 40 files over ssh and back, identical to -j 1; the rerun brought back the 2 lost and nothing else"
