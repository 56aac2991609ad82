#!/bin/sh
# Paired whole-process timings for docs/performance.md: runs the commands in turn, RUNS rounds, each under
# `/usr/bin/time -f "%M %U %S"` (peak resident memory in KiB, user and system CPU s) with the wall time taken
# around it in nanoseconds, and prints the median wall time (min, max), CPU time and peak memory of each (CPU time
# is the steadier figure on a shared machine). hyperfine, where installed, does the same with more statistics.
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
        /usr/bin/time -f "%M %U %S" -o "$tmp/mem" sh -c "exec $command" >/dev/null 2>"$tmp/err" || {
            echo "failed: $command" >&2; cat "$tmp/err" >&2; exit 1; }
        end=$(date +%s%N)
        awk -v wall="$(( (end - start) / 1000 ))" '{ printf "%d %d %.2f\n", wall, $1, $2 + $3 }' "$tmp/mem" >> "$tmp/$k"
        k=$((k + 1))
    done
    i=$((i + 1))
done
k=0
for command in "$@"; do
    n=$(wc -l < "$tmp/$k"); h=$(( (n + 1) / 2 ))
    t=$(sort -n -k1,1 "$tmp/$k" | awk '{ print $1 }' | sed -n "1p;${h}p;${n}p" | tr '\n' ' ')
    m=$(sort -n -k2,2 "$tmp/$k" | awk '{ print $2 }' | sed -n "${h}p")
    cpu=$(sort -n -k3,3 "$tmp/$k" | awk '{ print $3 }' | sed -n "${h}p")
    echo "$t $m $cpu $n" | awk -v c="$command" '{ if (NF == 5) { $6 = $5; $5 = $4; $4 = $3; $3 = $2 }
        printf "median %.3f s (min %.3f, max %.3f), CPU %.2f s, peak %.1f MiB, %d runs: %s\n", $2 / 1e6, $1 / 1e6, $3 / 1e6, $5, $4 / 1024, $6, c }'
    k=$((k + 1))
done
