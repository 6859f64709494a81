#!/bin/sh
# rusty-audio over several machines with GNU parallel: each input of LIST
# is copied to a host, processed there and its output copied back into
# OUTDIR, keeping its path. Run it again to resume: an input whose output
# is back is not sent again (outputs arrive whole: rusty-audio and rsync
# both write a temporary file and rename it).
#
#   scripts/cluster/parallel.sh -S SSHLOGINS -o OUTDIR [-x EXT] LIST [OPTION]...
#
#   -S SSHLOGINS  as parallel's --sshlogin: "4/user@host1,host2" (hosts
#                 reached by ssh; for this machine alone, run rusty-audio
#                 -j itself)
#   -o OUTDIR     where the outputs come back, made if missing
#   -x EXT        the outputs' extension, which also chooses their format
#                 (default: the input's own)
#   LIST          input paths, one a line, relative and without "..":
#                 each is processed as OUTDIR/PATH (extension EXT)
#   OPTION...     passed to rusty-audio (--eq ..., --rate 48k)
#
# The hosts need rusty-audio (RUSTY_AUDIO names it there), rsync and a
# POSIX shell; PARALLEL_SSH is the ssh command to reach them. Outputs of
# earlier runs with other OPTIONs are kept: delete them to redo. Exit
# status: 0 all done, else parallel's (the number of failed inputs, to
# 101).
set -eu

usage() {
	echo "usage: $0 -S SSHLOGINS -o OUTDIR [-x EXT] LIST [OPTION]..." >&2
	exit 2
}

hosts= out= ext=
while getopts S:o:x: flag; do
	case $flag in
	S) hosts=$OPTARG ;;
	o) out=$OPTARG ;;
	x) ext=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ -n "$hosts" ] && [ -n "$out" ] && [ $# -ge 1 ] || usage
list=$1
shift

# Each pending input and its output, on alternate lines of a job file
# that parallel reads two at a time.
jobs=$(mktemp)
trap 'rm -f "$jobs"' EXIT
while IFS= read -r in || [ -n "$in" ]; do
	[ -n "$in" ] || continue
	case $in in
	/* | ../* | */../* | .. | */..)
		echo "parallel.sh: $in: give inputs relative to here, without .." >&2
		exit 2
		;;
	esac
	rel=${in#./}
	[ -z "$ext" ] || rel=${rel%.*}.$ext
	# OUTDIR/./PATH: parallel returns PATH, made in the remote's working
	# folder, to OUTDIR/PATH.
	[ -e "$out/$rel" ] || printf '%s\n%s\n' "$in" "$out/./$rel" >>"$jobs"
done <"$list"
[ -s "$jobs" ] || exit 0
mkdir -p "$out"

# rsync 3.5 splits the names parallel quotes for it unless told to keep
# its old argument handling: names with spaces would come back lost.
RSYNC_OLD_ARGS=1
export RSYNC_OLD_ARGS
parallel --sshlogin "$hosts" --workdir ... --transferfile {1} --return {2} --cleanup \
	-N 2 -q sh -c 'in=$1 out=${2#*/./} bin=$3; shift 3; mkdir -p "$(dirname "$out")" &&
		exec "$bin" -q "$in" -o "$out" "$@"' sh {1} {2} "${RUSTY_AUDIO:-rusty-audio}" "$@" \
	:::: "$jobs"
