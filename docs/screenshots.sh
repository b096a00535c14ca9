#!/usr/bin/env bash
# Regenerates the README screenshots of the HTML report: docs/report-demo.png (the demo image) and
# docs/report-audit.png (an audit of a local registry holding fixture images), as headless
# Chromium renders them. Needs chromium, docker-registry and skopeo (Debian packages that
# .ci/run installs) and builds the CLI first.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -q -p layerleak-cli
bin="${CARGO_TARGET_DIR:-target}/debug/layerleak"
work=$(mktemp -d)
registry_pid=
cleanup() {
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Exit status 1 means findings, which these images have.
"$bin" scan -q --format html -o "$work/demo.html" testdata/fixtures/demo.tar || [ $? -eq 1 ]

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/registry.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/storage
http:
  addr: 127.0.0.1:$port
  secret: screenshots
YML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.1
done

push() { skopeo --insecure-policy copy --quiet --dest-tls-verify=false "$1" "docker://127.0.0.1:$port/$2"; }
push docker-archive:testdata/fixtures/demo.tar shop/web:1.4
push oci:testdata/fixtures/lifecycle.oci:v1 shop/api:2.0
push oci:testdata/fixtures/lifecycle.oci:v1 shop/api:latest
push docker-archive:testdata/fixtures/argleak.tar ci/builder:v1
"$bin" audit -q --cache none --format html -o "$work/audit.html" "http://127.0.0.1:$port" || [ $? -eq 1 ]

shot() {
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --disable-background-networking --user-data-dir="$work/profile" \
    --window-size="$3" --screenshot="$2" "file://$1" 2>/dev/null
  echo "$2: $(stat -c %s "$2") bytes"
}
shot "$work/demo.html" docs/report-demo.png 1200,1150
shot "$work/audit.html" docs/report-audit.png 1200,1150
