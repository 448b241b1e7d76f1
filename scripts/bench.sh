#!/usr/bin/env bash
# The throughput benchmark (`make bench`): on one fresh synthetic set,
#   1. protocol-ocr scan --jobs <all cores>, and --jobs 1 for the scaling;
#   2. the naive alternative: the tesseract command over every photo, full
#      page, -l kaz+rus+eng, as many at once as cores, at its default
#      settings and with OMP_THREAD_LIMIT=1 (as a user who knows Tesseract
#      runs it);
#   3. the floor: read, hash and decode every photo, nothing else.
# Prints photos per second, the ratios, CPU seconds per photo, peak memory,
# protocol-ocr's stage seconds and its accuracy on the same set.
#
#   scripts/bench.sh           the comparison (BENCH_COUNT photos, default 100)
#   scripts/bench.sh memory    peak memory scanning 50 against 500 photos
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=target/release/protocol-ocr
FLOOR=target/release/examples/floor
JOBS=$(nproc)
COUNT=${BENCH_COUNT:-100}
SEED=${BENCH_SEED:-6060}
WORK=target/bench
mkdir -p "$WORK"

# Runs a command under GNU time; sets WALL, CPU (user + sys) and RSS_MIB.
measure() {
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time.txt" "$@" > "$WORK/stdout.txt" 2> "$WORK/stderr.txt" || {
    cat "$WORK/stderr.txt" >&2
    exit 1
  }
  read -r WALL USER SYS RSS_KIB < "$WORK/time.txt"
  CPU=$(awk -v u="$USER" -v s="$SYS" 'BEGIN { printf "%.1f", u + s }')
  RSS_MIB=$(awk -v k="$RSS_KIB" 'BEGIN { printf "%.0f", k / 1024 }')
}

synth_set() { # DIR COUNT SEED
  if [ ! -f "$1/truth.jsonl" ]; then
    "$BIN" synth --out "$1" --count "$2" --seed "$3" --inconsistent 0.2 > /dev/null
  fi
}

scan() { # IN OUT JOBS
  rm -rf "$2"
  measure "$BIN" scan "$1" --out "$2" --jobs "$3" -q
}

if [ "${1:-}" = "memory" ]; then
  BIG="$WORK/memory-s$SEED-n500"
  SMALL="$WORK/memory-s$SEED-n50"
  synth_set "$BIG" 500 "$SEED"
  rm -rf "$SMALL" && mkdir -p "$SMALL"
  find "$BIG" -name '*.jpg' | sort | head -50 | while read -r f; do cp "$f" "$SMALL/$(basename "$f")"; done
  scan "$SMALL" "$WORK/memory-out-50" "$JOBS"; SMALL_RSS=$RSS_MIB; SMALL_WALL=$WALL
  scan "$BIG" "$WORK/memory-out-500" "$JOBS"; BIG_RSS=$RSS_MIB; BIG_WALL=$WALL
  echo "peak memory, --jobs $JOBS: 50 photos ${SMALL_RSS} MiB (${SMALL_WALL} s), 500 photos ${BIG_RSS} MiB (${BIG_WALL} s)"
  awk -v a="$SMALL_RSS" -v b="$BIG_RSS" 'BEGIN { printf "500 / 50 = %.2f× (target ≤ 1.2×)\n", b / a }'
  exit 0
fi

SET="$WORK/set-s$SEED-n$COUNT"
synth_set "$SET" "$COUNT" "$SEED"
PHOTOS=$(find "$SET" -name '*.jpg' | wc -l)
echo "bench set: $SET ($PHOTOS photos, synth seed $SEED); $JOBS cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

row() { # NAME
  awk -v n="$1" -v w="$WALL" -v c="$CPU" -v m="$RSS_MIB" -v p="$PHOTOS" \
    'BEGIN { printf "%-34s %8.1f %10.2f %12.2f %10s\n", n, w, p / w, c / p, m }'
}
printf "%-34s %8s %10s %12s %10s\n" "" "wall s" "photos/s" "CPU s/photo" "peak MiB"

scan "$SET" "$WORK/out-j$JOBS" "$JOBS"; OURS=$WALL; row "protocol-ocr scan --jobs $JOBS"
scan "$SET" "$WORK/out-j1" 1; ONE=$WALL; row "protocol-ocr scan --jobs 1"
cmp -s "$WORK/out-j$JOBS/results.jsonl" "$WORK/out-j1/results.jsonl" || echo "WARNING: results differ between --jobs $JOBS and 1"

# The naive alternative a user would script, with tesseract's own defaults
# (its OpenMP threads included: that is what a user gets).
measure env -u OMP_THREAD_LIMIT bash -c \
  "find '$SET' -name '*.jpg' -print0 | xargs -0 -P $JOBS -I{} tesseract {} stdout -l kaz+rus+eng"
NAIVE=$WALL; row "naive: tesseract CLI, xargs -P $JOBS"
measure env OMP_THREAD_LIMIT=1 bash -c \
  "find '$SET' -name '*.jpg' -print0 | xargs -0 -P $JOBS -I{} tesseract {} stdout -l kaz+rus+eng"
NAIVE_ONE=$WALL; row "naive, OMP_THREAD_LIMIT=1"

measure "$FLOOR" "$SET" "$JOBS"; FLOOR_WALL=$WALL; row "floor: read + hash + decode"

awk -v o="$OURS" -v n="$NAIVE" -v n1="$NAIVE_ONE" -v f="$FLOOR_WALL" -v one="$ONE" -v j="$JOBS" 'BEGIN {
  printf "\nprotocol-ocr / naive: %.2f× the throughput\n", n / o
  printf "protocol-ocr / naive with OMP_THREAD_LIMIT=1: %.2f×\n", n1 / o
  printf "protocol-ocr / floor: %.3f× (the floor is %.0f× faster)\n", f / o, o / f
  printf "--jobs %d / --jobs 1: %.2f× (target ≥ 1.8×)\n", j, one / o
}'
echo
echo "protocol-ocr stage seconds (summed over workers, summary.json):"
python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print('  ' + ', '.join(f'{k} {v:.1f}' for k, v in sorted(s['stage_seconds'].items(), key=lambda kv: -kv[1])))" "$WORK/out-j$JOBS/summary.json"
echo
echo "accuracy on the same set:"
"$BIN" eval --truth "$SET/truth.jsonl" --results "$WORK/out-j$JOBS/results.jsonl" | head -7
