#!/bin/sh
# Regenerate every committed fixture under testdata/fixtures/.
#
# 1. gen.py writes the synthetic images and the expected results (byte-for-byte
#    reproducible).
# 2. skopeo converts lifecycle.oci into a legacy `docker save` archive
#    (lifecycle-legacy.tar). skopeo writes fixed mtimes and sorted metadata,
#    so with the same skopeo version the output is identical.
# 3. umoci unpacks lifecycle.oci:v1, deletes a file that holds a planted secret
#    (/app/config/settings.json) and a directory (/var/lib/app), and repacks
#    the bundle as tag `umoci` in a copy of the layout (umoci.oci), so the
#    whiteouts of the new top layer are written by umoci itself. Timestamps are
#    pinned (history date, parent directory mtimes); a different umoci version
#    may still produce different bytes, so umoci.oci regenerates equivalently,
#    not necessarily identically.
#
# Needs: python3, skopeo, umoci; zstd is optional (lifecycle-layer.tar.zst).
# Finally verify.py cross-checks expected/*.json against the fixtures.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
fix="$here/fixtures"

for tool in python3 skopeo umoci; do
    command -v "$tool" >/dev/null 2>&1 || { echo "missing tool: $tool" >&2; exit 1; }
done

mkdir -p "$fix"
python3 "$here/gen.py" "$fix"

# Legacy docker-archive written by skopeo.
rm -f "$fix/lifecycle-legacy.tar"
skopeo copy --quiet \
    "oci:$fix/lifecycle.oci:v1" \
    "docker-archive:$fix/lifecycle-legacy.tar:layerleak/lifecycle:v1"

# umoci: delete a secret file and a directory, repack as a new tag.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$fix/umoci.oci"
cp -R "$fix/lifecycle.oci" "$fix/umoci.oci"
umoci unpack --rootless --image "$fix/umoci.oci:v1" "$work/bundle" >/dev/null
rm "$work/bundle/rootfs/app/config/settings.json"
rm -r "$work/bundle/rootfs/var/lib/app"
# Pin the parents' mtimes back to the layer's (0) so only the deletions differ.
touch -h -d @0 "$work/bundle/rootfs/app/config" "$work/bundle/rootfs/var/lib"
umoci repack --image "$fix/umoci.oci:umoci" \
    --history.created=2026-11-26T00:00:00Z \
    --history.created_by='RUN /bin/sh -c rm /app/config/settings.json && rm -r /var/lib/app' \
    --history.author=layerleak \
    --history.comment=umoci \
    "$work/bundle" >/dev/null
umoci gc --layout "$fix/umoci.oci"

echo "fixture sizes (bytes):"
(cd "$fix" && du -ab --max-depth=2 . | sort -k2)
total=$(du -sb "$fix" | cut -f1)
echo "total: $total bytes"
if [ "$total" -gt 1500000 ]; then
    echo "fixtures exceed 1.5 MB" >&2
    exit 1
fi

# Independent check of the expected results against the written fixtures.
python3 "$here/verify.py" "$fix"
