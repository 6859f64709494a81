#!/bin/sh
# scripts/cluster/slurm-array.sh on a real Slurm: a single-node cluster
# started here (munge and Slurm's daemons as root, on localhost, all state
# in a fresh folder), a 4-task array over 40 generated files, then every
# output byte-compared with a local -j 1 run and every input checked done
# in the manifests; then the cluster is shut down by PID. Outputs and
# manifests are checked, not exit codes: a misconfigured node reports its
# jobs COMPLETED and writes nothing.
#
#   tests/cluster/slurm.sh BUILD   (as root, with slurm-wlm and munge)
set -eu

. "$(dirname "$0")/common.sh"
setup slurm "${1:-}"
munge_pid= ctld_pid= slurmd_pid=

fail() {
	echo "slurm test: $*" >&2
	for log in "$work"/*.log; do
		[ -f "$log" ] && { echo "== $log" >&2; tail -20 "$log" >&2; }
	done
	exit 1
}

stop() {
	# The daemons delete their pid files on the way down: the PIDs were
	# read when they started.
	[ -z "$ctld_pid" ] || SLURM_CONF=$work/slurm.conf scontrol shutdown >/dev/null 2>&1 || true
	for pid in $slurmd_pid $ctld_pid $munge_pid; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $slurmd_pid $ctld_pid $munge_pid; do
		while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
	done
	rm -rf "$work"
}
trap stop EXIT

# ---- munge ----
mkdir -p "$work/munge"
chmod 755 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$work/munge/munge.key"
socket=$work/munge/munge.socket.2
munged --force --key-file="$work/munge/munge.key" --socket="$socket" \
	--pid-file="$work/munge/munged.pid" --log-file="$work/munged.log" \
	--seed-file="$work/munge/munged.seed"
munge_pid=$(wait_file "$work/munge/munged.pid")

# ---- Slurm ----
node=$(hostname -s)
mkdir -p "$work/state" "$work/spool"
cat >"$work/slurm.conf" <<CONF
ClusterName=ratest
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
MailProg=/bin/true
$(slurmd -C | head -1) State=UNKNOWN
PartitionName=ra Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$work/slurm.conf"
slurmctld -f "$SLURM_CONF"
ctld_pid=$(wait_file "$work/slurmctld.pid")
slurmd -f "$SLURM_CONF"
slurmd_pid=$(wait_file "$work/slurmd.pid")
i=0
until sinfo -h -o %T 2>/dev/null | grep -q idle; do
	i=$((i + 1))
	[ $i -le 150 ] || fail "the node never became idle: $(sinfo 2>&1)"
	sleep 0.2
done

# ---- the batch ----
mkdir -p "$work/in" "$work/out" "$work/local"
: >"$work/list"
n=0
while [ $n -lt 40 ]; do
	name="$work/in/take $n.wav"
	"$ra" -q --generate "sine:$((200 + 37 * n))" --level -12 --duration 0.3 --channels $((1 + n % 2)) \
		--seed $n -o "$name"
	printf '%s\n' "$name" >>"$work/list"
	n=$((n + 1))
done
opts="--eq peak:1k:3 --format flac"
# shellcheck disable=SC2086
"$ra" -q --files-from "$work/list" -o "$work/local" $opts 2>"$work/local.log"
# shellcheck disable=SC2086
RUSTY_AUDIO=$ra sbatch --wait --array=0-3 --output="$work/task-%a.log" \
	"$here/scripts/cluster/slurm-array.sh" "$work/list" "$work/out" $opts >/dev/null ||
	fail "sbatch --wait failed"

# Each task took its shard from Slurm's environment; the shards add up.
taken=$(sed -n 's/.*shard [0-3]\/4 (from SLURM_ARRAY_TASK_ID): \([0-9]*\) of 40 inputs.*/\1/p' \
	"$work"/task-*.log | awk '{ s += $1 } END { print s }')
[ "$taken" = 40 ] || fail "the tasks' shards hold $taken inputs, not 40"
for f in "$work/local"/*.flac; do
	cmp -s "$f" "$work/out/$(basename "$f")" || fail "$(basename "$f") differs or is missing"
done
[ "$(ls "$work/out"/*.flac | wc -l)" -eq 40 ] || fail "not 40 outputs"
[ "$(ls "$work/out"/manifest-*.jsonl | wc -l)" -eq 4 ] || fail "not 4 manifests"
"$here/scripts/cluster/merge-manifests" --list "$work/list" "$work/out"/manifest-*.jsonl \
	>"$work/all.jsonl" || fail "merge-manifests: not all done"
jq -se 'length == 40 and all(.status == "done")' "$work/all.jsonl" >/dev/null ||
	fail "the manifests do not hold 40 done inputs"
# Resubmitted: every task finds its inputs done.
RUSTY_AUDIO=$ra sbatch --wait --array=0-3 --output="$work/again-%a.log" \
	"$here/scripts/cluster/slurm-array.sh" "$work/list" "$work/out" $opts >/dev/null ||
	fail "the second sbatch --wait failed"
[ "$(cat "$work"/again-*.log | grep -c ' 0 processed, ')" -eq 4 ] ||
	fail "a resubmitted task processed files again: $(cat "$work"/again-*.log)"
echo "slurm test: 4-task array over 40 files: outputs identical to -j 1, all done; resubmitted: nothing redone"
