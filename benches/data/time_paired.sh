#!/bin/sh
# Paired whole-process timings for docs/performance.md: runs the commands in turn, RUNS rounds, each under
# `/usr/bin/time -f %M` (peak resident memory, KiB) with the wall time taken around it in nanoseconds, and prints
# the median (min, max) of each. hyperfine, where installed, does the same with more statistics.
# Usage: benches/data/time_paired.sh RUNS 'COMMAND A' 'COMMAND B' ...   (each run as `sh -c "exec COMMAND"`,
# in the current folder, standard output discarded)
set -eu
runs=${1:?usage: time_paired.sh RUNS COMMAND...}; shift
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
i=0
while [ "$i" -lt "$runs" ]; do
    k=0
    for command in "$@"; do
        start=$(date +%s%N)
        /usr/bin/time -f "%M" -o "$tmp/mem" sh -c "exec $command" >/dev/null 2>"$tmp/err" || {
            echo "failed: $command" >&2; cat "$tmp/err" >&2; exit 1; }
        end=$(date +%s%N)
        echo "$(( (end - start) / 1000 )) $(cat "$tmp/mem")" >> "$tmp/$k"
        k=$((k + 1))
    done
    i=$((i + 1))
done
k=0
for command in "$@"; do
    n=$(wc -l < "$tmp/$k"); h=$(( (n + 1) / 2 ))
    t=$(sort -n -k1,1 "$tmp/$k" | awk '{ print $1 }' | sed -n "1p;${h}p;${n}p" | tr '\n' ' ')
    m=$(sort -n -k2,2 "$tmp/$k" | awk '{ print $2 }' | sed -n "${h}p")
    echo "$t $m $n" | awk -v c="$command" '{ if (NF == 4) { $5 = $4; $4 = $3; $3 = $2 }
        printf "median %.3f s (min %.3f, max %.3f), peak %.1f MiB, %d runs: %s\n", $2 / 1e6, $1 / 1e6, $3 / 1e6, $4 / 1024, $5, c }'
    k=$((k + 1))
done
