#!/bin/sh
# A Slurm job array over a list of audio files: each task takes one shard
# of the list (rusty-audio --shard env) and keeps its own manifest in the
# output folder, so a task that is requeued, resubmitted or retried does
# only what it has not done.
#
#   sbatch --array=0-15 scripts/cluster/slurm-array.sh LIST OUTDIR [OPTION]...
#
# LIST holds input paths, one a line, as the tasks see them; OUTDIR must
# exist. OPTIONs go to rusty-audio (--eq ..., --format flac, -j 2). Submit
# again with the same array size to retry: a changed size moves inputs
# between shards. scripts/cluster/merge-manifests OUTDIR/manifest-*.jsonl
# then says what is done, failed or missing. RUSTY_AUDIO names the binary
# (default: rusty-audio on PATH). The task's exit status is rusty-audio's:
# 0 done, 1 some input bad for good, 75 worth retrying.
#SBATCH --job-name=rusty-audio
#SBATCH --output=rusty-audio-%A_%a.log
set -eu

if [ $# -lt 2 ]; then
	echo "usage: sbatch --array=0-N $0 LIST OUTDIR [OPTION]..." >&2
	exit 2
fi
list=$1
out=$2
shift 2
task=${SLURM_ARRAY_TASK_ID:?"not a task of a Slurm job array (sbatch --array)"}

exec "${RUSTY_AUDIO:-rusty-audio}" --files-from "$list" --shard env -o "$out" \
	--resume "$out/manifest-$task.jsonl" "$@"
