#!/usr/bin/env bash
# False-positive corpus: scan this machine's /etc, /usr and /opt as one gzip layer, with its dpkg
# database (/var/lib/dpkg) as an image of the machine would carry it, and print every finding
# listed by default, grouped by rule, then how many were packaged (vendor files as installed).
#
# The layer is built under target/fp-corpus/ (never committed): regular files, directories and
# symlinks only (no sockets, devices or fifos), files over 256 MiB skipped, entries sorted by name
# with fixed owner and mtime so two runs on the same machine give the same bytes.
#
# Usage: bash benches/fp-corpus.sh [--rescan]   (--rescan reuses an existing layer)
set -euo pipefail

cd "$(dirname "$0")/.."
out=target/fp-corpus
layer="$out/layer.tar.gz"
report="$out/report.json"
roots=(/etc /usr /opt /var/lib/dpkg)
mkdir -p "$out"

# Ask cargo where the binary is: the target directory may be shared or redirected.
bin=$(cargo build --release -q -p layerleak-cli --message-format=json |
    jq -r 'select(.reason == "compiler-artifact" and .target.name == "layerleak" and .executable != null) | .executable' |
    tail -n 1)

if [[ "${1:-}" != "--rescan" || ! -s "$layer" ]]; then
    list="$out/files.lst"
    existing=()
    for r in "${roots[@]}"; do [[ -e "$r" ]] && existing+=("$r"); done
    # -size -268435457c: at most 256 MiB; unreadable files are left out rather than failing tar.
    find "${existing[@]}" -xdev \
        \( -type d -o -type l -o \( -type f -size -268435457c -readable \) \) -print0 |
        LC_ALL=C sort -z >"$list"
    # Regular files and their bytes, as archived (same predicate as above).
    find "${existing[@]}" -xdev -type f -size -268435457c -readable -printf '%s\n' |
        awk '{ n++; b += $1 } END { printf "%d files, %.0f bytes\n", n, b }' >"$out/corpus.txt"
    LC_ALL=C tar --create --null --no-recursion --files-from="$list" \
        --owner=0 --group=0 --numeric-owner --mtime=@0 --format=pax \
        --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
        --ignore-failed-read --warning=no-file-changed --warning=no-file-removed 2>/dev/null |
        gzip -1 -n >"$layer" || true
fi

echo "layer: $layer ($(stat -c %s "$layer") bytes gzip; $(cat "$out/corpus.txt"))" >&2

start=$(date +%s.%N)
status=0
"$bin" scan "$layer" --format json --no-progress -o "$report" || status=$?
end=$(date +%s.%N)
echo "scan: exit $status in $(echo "$end - $start" | bc) s" >&2

jq -r '
  .findings as $f
  | "findings: \($f | length)  packaged (not listed): \(.stats.findings_packaged)  errors: \(.errors | length)",
    ($f | group_by(.rule) | sort_by(-length, .[0].rule)[]
      | "\n== \(.[0].rule): \(length)",
        (.[] | "  \(.rule)\t\(.location.path)\(if .location.inner == null then "" else "!" + (.location.inner | join("!")) end):\(.location.line // .location.offset)\t\(.redacted)\t\(.validation)\t+\(.also_in // [] | length)"))
' "$report"
