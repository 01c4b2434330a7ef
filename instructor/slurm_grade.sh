#!/usr/bin/env bash
# Grade a class on a Slurm cluster: each task of a job array grades one shard.
#
#   jobid=$(sbatch --parsable --array=0-3 instructor/slurm_grade.sh submissions/ grades)
#   sbatch --dependency=afterany:$jobid \
#       --wrap ".venv/bin/python -m course_utils merge grades/all grades/shard-*"
#
# Run from the course folder (with its .venv, from `make setup`), with the submissions on a file
# system every node sees. Each task writes grades/shard-I; a task that is preempted or killed can
# simply be run again: it resumes where it stopped. Without Slurm (no SLURM_ARRAY_TASK_ID), the
# script runs all SHARDS shards (default 2) one after the other here and merges them into
# grades/all, which is how the test suite runs it.
#
#SBATCH --job-name=grade-course
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --time=02:00:00
#SBATCH --output=slurm-grade-%A_%a.out
set -euo pipefail

SUBMISSIONS=${1:?usage: sbatch --array=0-N instructor/slurm_grade.sh SUBMISSIONS_DIR [OUT_DIR]}
OUT=${2:-grades}
cd "${SLURM_SUBMIT_DIR:-$(dirname "$0")/..}"
PYTHON=${PYTHON:-.venv/bin/python}

grade_shard() {  # grade_shard INDEX COUNT JOBS
    "$PYTHON" -m course_utils grade "$SUBMISSIONS" --out "$OUT/shard-$1" --shard "$1/$2" --jobs "$3"
}

if [[ -n "${SLURM_ARRAY_TASK_ID:-}" ]]; then
    # Task ids may start anywhere (--array=1-4): count from the array's minimum.
    first=${SLURM_ARRAY_TASK_MIN:-0}
    grade_shard "$((SLURM_ARRAY_TASK_ID - first))" "${SLURM_ARRAY_TASK_COUNT:?}" "${SLURM_CPUS_PER_TASK:-2}"
else
    shards=${SHARDS:-2}
    dirs=()
    for ((i = 0; i < shards; i++)); do
        grade_shard "$i" "$shards" "${JOBS:-$(nproc)}"
        dirs+=("$OUT/shard-$i")
    done
    "$PYTHON" -m course_utils merge "$OUT/all" "${dirs[@]}"
fi
