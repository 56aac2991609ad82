#!/usr/bin/env bash
# Issue 14's measurement: N SIGKILLs of `heracles record`, every other one timed to the write-ahead log's
# checkpoint (the moment the WAL first passes SQLite's 1000-page autocheckpoint, plus 0-600 ms), the rest at a
# uniformly random moment 1-60 s into the recording. After each kill the case file must open and verify
# (`heracles case verify`); the loss is the wall time from "recording started" to the kill minus the recorded
# duration (`heracles case info`), i.e. samples the simulator produced that the file does not hold.
#
# usage: scripts/kill_test.sh HERACLES_BINARY N [PARALLEL]
# prints one line per failure and, last, one summary line:
#   kills N: refused R, unverifiable U, worst loss L s (median M s), checkpoint-timed C
set -u
bin=${1:?usage: kill_test.sh HERACLES_BINARY N [PARALLEL]}
n=${2:?usage: kill_test.sh HERACLES_BINARY N [PARALLEL]}
parallel=${3:-2}
work=$(mktemp -d "${TMPDIR:-/tmp}/heracles-kill.XXXXXX")
trap 'rm -rf "$work"' EXIT
# 1000 pages of 16 KiB (the case file's page size) plus frame headers: the WAL size at which SQLite checkpoints.
checkpoint_bytes=$((32 + 1000 * (16384 + 24)))

now() { date +%s.%N; }

one() {
    local i=$1 dir="$work/run$1" case_id
    case_id=$(printf 'HER-TST-%04d' "$i")
    mkdir -p "$dir"
    "$bin" --data-dir "$dir" record --case "$case_id" --seconds 600 >"$dir/out" 2>"$dir/err" &
    local pid=$! started="" mode delay file="$dir/$case_id.heracles"
    for _ in $(seq 1 600); do
        grep -q "recording started" "$dir/out" 2>/dev/null && { started=$(now); break; }
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$started" ]; then
        kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
        echo "run $i: recording never started: $(head -c 300 "$dir/err")"
        echo "$i nostart 0" >"$dir/result"
        return
    fi
    if [ $((i % 2)) -eq 0 ]; then
        mode=checkpoint
        # Polled every 50 ms (not faster: a dozen runs in parallel polling every 10 ms spent a third of the
        # machine forking `stat`); the kill then lands 0-600 ms after the checkpoint point.
        while kill -0 "$pid" 2>/dev/null; do
            size=$(stat -c %s "$file-wal" 2>/dev/null || echo 0)
            [ "$size" -ge "$checkpoint_bytes" ] && break
            sleep 0.05
        done
        delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.3f", r / 32767 * 0.6 }')
    else
        mode=random
        delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.3f", 1 + r / 32767 * 59 }')
        delay=$(awk -v d="$delay" -v s="$started" -v t="$(now)" 'BEGIN { d -= t - s; printf "%.3f", d < 0 ? 0 : d }')
    fi
    sleep "$delay"
    kill -9 "$pid"
    local killed
    killed=$(now)
    wait "$pid" 2>/dev/null
    local verdict=ok loss=0
    if ! "$bin" case verify "$file" >"$dir/verify" 2>&1; then
        if grep -q "FAILED verification" "$dir/verify"; then verdict=unverifiable; else verdict=refused; fi
        echo "run $i ($mode): $verdict: $(head -c 400 "$dir/verify" | tr '\n' ' ')"
    else
        duration=$("$bin" case info "$file" 2>/dev/null | awk '/^duration/ { print $2 }')
        loss=$(awk -v k="$killed" -v s="$started" -v d="${duration:-0}" 'BEGIN { printf "%.3f", (k - s) - d }')
    fi
    echo "$i $verdict $loss $mode" >"$dir/result"
    rm -f "$file" "$file-wal" "$file-shm"
}

running=0
for i in $(seq 1 "$n"); do
    one "$i" 2>/dev/null &
    running=$((running + 1))
    if [ "$running" -ge "$parallel" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait
results=$(cat "$work"/run*/result)
count() { echo "$results" | awk -v v="$1" '$2 == v' | wc -l; }
losses=$(echo "$results" | awk '$2 == "ok" { print $3 }' | sort -g)
k=$(echo "$losses" | grep -c .)
worst=$(echo "$losses" | tail -n 1)
median=$(echo "$losses" | sed -n "$(((k + 1) / 2))p")
printf 'kills %d: refused %d, unverifiable %d, never started %d, worst loss %s s (median %s s), checkpoint-timed %d\n' \
    "$n" "$(count refused)" "$(count unverifiable)" "$(count nostart)" "${worst:-0}" "${median:-0}" \
    "$(echo "$results" | awk '$4 == "checkpoint"' | wc -l)"
