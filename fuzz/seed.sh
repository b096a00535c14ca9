#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seeds taken from testdata/fixtures (deterministic; the corpus
# directory is gitignored). Run from anywhere: `bash fuzz/seed.sh`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
exec python3 - "$root" "$here/corpus" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile, zipfile

root, out = sys.argv[1], sys.argv[2]
fx = os.path.join(root, "testdata", "fixtures")
SEP = b"@@@@"

def put(target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)

def read(p):
    with open(p, "rb") as f:
        return f.read()

def files(top):
    for dp, _, fs in sorted(os.walk(top)):
        for f in sorted(fs):
            yield os.path.join(dp, f)

def decompress(b):
    if b[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(b)
        except Exception:
            return None
    return b

# archive: every archive and single-layer fixture as it is.
for p in files(fx):
    if p.endswith((".tar", ".gz", ".zst", ".bin")) and "/expected/" not in p:
        put("archive", read(p))

# json: every JSON document of the OCI layouts, under each parser selector; and for resolution,
# index.json followed by every blob of its layout (0x83: OCI layout kind).
for layout in sorted(d for d in os.listdir(fx) if d.endswith(".oci")) + ["bad/missing-fields.oci"]:
    base = os.path.join(fx, layout)
    if not os.path.isdir(base):
        continue
    docs = []
    for p in files(os.path.join(base, "blobs")):
        b = read(p)
        if b[:1] == b"{":
            docs.append(b)
            for sel in (0, 1, 2):
                put("json", bytes([sel]) + b)
    idx = read(os.path.join(base, "index.json"))
    put("json", bytes([0]) + idx)
    put("json", bytes([0x83]) + SEP.join([idx] + docs))

# walk and detect: layer tars from the single-layer fixtures and the OCI layouts.
layers = []
for p in files(fx):
    if "/blobs/" in p or p.endswith(("layer.tar", "layer.tar.gz", "layer.bin")):
        b = decompress(read(p))
        if b and len(b) > 512 and tarfile.is_tarfile(io.BytesIO(b)):
            layers.append(b)
layers = sorted(set(layers))
for i, b in enumerate(layers):
    nxt = layers[(i + 1) % len(layers)]
    put("walk", bytes([0]) + b + SEP + nxt)
    put("walk", bytes([1]) + b)
    put("walk", bytes([2]) + b)
    with tarfile.open(fileobj=io.BytesIO(b)) as t:
        for m in t.getmembers():
            if m.isfile() and 0 < m.size <= 64 << 10:
                put("detect", bytes([len(m.name) % 64]) + t.extractfile(m).read())
for p in files(fx):
    if p.endswith((".tar.zst", "layer.tar.gz")):
        put("walk", bytes([3]) + read(p))

# nested: a jar with a secret, a zip-slip name, a tar.gz in a jar.
def zipped(entries, method=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in entries:
            zi = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(zi, data, compress_type=method)
    return buf.getvalue()

def tgz(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.USTAR_FORMAT) as t:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()

put("nested", zipped([("app.properties", b"secret=Abc123xyz\ntok_abcd1234\n")]))
put("nested", zipped([("../../etc/passwd", b"tok_0000aaaa")], zipfile.ZIP_STORED))
put("nested", zipped([("lib/inner.tar.gz", tgz([("a.txt", b"secret=Zz9988776655")]))]))
put("nested", tgz([("x.jar", zipped([("k", b"tok_zzzz9999")]))]))
put("nested", gzip.compress(b"tok_qwer5678 secret=Qq1234567", mtime=0))

# rules: the built-in rule files.
rules = os.path.join(root, "crates", "layerleak", "rules")
for p in files(rules):
    if p.endswith(".toml"):
        put("rules", read(p))

# keywords: the rule files as haystacks (no extra keywords), and a few keyword sets of their own
# (count byte, then length-prefixed keywords) over text planted with them.
for p in files(rules):
    if p.endswith(".toml"):
        put("keywords", bytes([0]) + read(p))
for kws, hay in [
    ([b"q~", b"key", b"ghp_"], b"Q~ KEY ghp_ keykey q~q~"),
    ([b"$", b"token"], b"$TOKEN token$"),
    ([b"secret_access_key", b"access_key", b"ss"], b"AWS_SECRET_ACCESS_KEY=access_key"),
    # Dense: passes the filter at most positions, so the DFA takes over part of the way.
    ([], b"_key" * 3000 + b" ghp_ akia http"),
    ([b"http"], b"http" * 3000 + b" xhttp"),
]:
    head = bytes([len(kws)]) + b"".join(bytes([len(k)]) + k for k in kws)
    put("keywords", head + hay)

# packages: database contents (separated by a zero byte, the first byte picking the path) that
# vouch for the token file the target adds at usr/a, lib/a, etc/a and pkg/a.py.
import base64
tok = b"token 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\n"
md5 = hashlib.md5(tok).hexdigest()
sha1 = base64.b64encode(hashlib.sha1(tok).digest()).decode()
sha256 = base64.urlsafe_b64encode(hashlib.sha256(tok).digest()).decode().rstrip("=")
status = f"Package: pkg\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\nVersion: 1\nConffiles:\n /etc/a {md5}\n\n"
dbs = [
    (0, status),
    (1, f"{md5}  usr/a\n{md5}  lib/a\n"),
    (2, "Package: pkg\nVersion: 1\n"),
    (3, f"P:pkg\nV:1\nF:usr\nR:a\nZ:Q1{sha1}\n\n"),
    (4, f"pkg/a.py,sha256={sha256},{len(tok)}\n"),
]
put("packages", b"\0".join(bytes([sel]) + body.encode() for sel, body in dbs))
for sel, body in dbs:
    put("packages", bytes([sel]) + body.encode())

for t in sorted(os.listdir(out)):
    print(f"{t}: {len(os.listdir(os.path.join(out, t)))} seeds")
PY
