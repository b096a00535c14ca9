#!/usr/bin/env python3
"""Builds large, realistic container images for the layerleak benchmarks.

Usage: python3 benches/make-image.py [--out DIR] [--force] [SIZE ...]

SIZE is one of 0.5g, 1g, 2g (decimal gigabytes of uncompressed layer tar);
the default builds all three. Images are cached outside git, by default in
`target/bench-images/` of the workspace, or in `$LAYERLEAK_BENCH_DIR`. A size
already built with the same recipe is skipped unless `--force` is given.

For each size it writes, under `<DIR>/<SIZE>/`:

  oci/           OCI image layout (image-spec image-layout.md)
  image.tar      Docker 25+ `docker save` archive: the OCI layout in a tar
                 plus a docker `manifest.json` (Config, RepoTags, Layers)
  layer.tar.gz   the biggest layer alone, for the one-layer walk benchmark
  planted.json   the image's layers and every planted secret: layer, path,
                 offset in the file, and the later layer that hides it

Layers are filled from real files of this machine (/usr/lib, /usr/share,
/usr/bin, /etc, /var, /opt) so the detector sees real text and binaries,
then two synthetic layers plant secrets and hide some of them (whiteout,
opaque directory, overwrite; image-spec layer.md "Whiteouts").

Deterministic for a given machine: sorted walk, files chosen by a seeded
PRNG, mtime 0, uid/gid 0, empty uname/gname, PAX tar, gzip level 6 via zlib
with no mtime, JSON with sorted keys. Everything is streamed: no layer is ever
held in memory. Unreadable files, sockets, fifos, devices and files larger than
256 MiB are skipped.

The planted secrets are synthetic but format-valid (the GitHub token carries
its CRC32 checksum, the RSA key is a real key from the seeded PRNG); they grant
access to nothing.
"""

import argparse
import base64
import hashlib
import io
import json
import os
import random
import shutil
import stat
import sys
import tarfile
import time
import zlib

# Bump when the recipe changes so cached images are rebuilt.
RECIPE = 1
SEED = 20261126
CREATED = "2026-11-26T00:00:00Z"
MAX_FILE = 256 << 20
GZIP_LEVEL = 6
COPY_BUF = 1 << 20

SIZES = {"0.5g": 500_000_000, "1g": 1_000_000_000, "2g": 2_000_000_000}

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_TGZ = "application/vnd.oci.image.layer.v1.tar+gzip"

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

# Real-file layers: (name, source roots, share of the total size, Dockerfile step).
# The big /usr/lib layer takes whatever the others leave, so the total is met
# even when a small root has less than its share.
REAL_LAYERS = [
    ("usr-lib", ["/usr/lib"], None, "COPY /usr/lib /usr/lib"),
    ("usr-share", ["/usr/share"], 0.17, "COPY /usr/share /usr/share"),
    ("usr-bin", ["/usr/bin"], 0.08, "COPY /usr/bin /usr/bin"),
    ("etc", ["/etc"], 0.01, "COPY /etc /etc"),
    ("var", ["/var"], 0.04, "RUN apt-get update && apt-get install -y app-deps"),
    ("opt", ["/opt"], 0.12, "COPY /opt /opt"),
]

# Host credentials stay out of the images: the planted secrets are the only
# positives the benchmarks know about.
EXCLUDE_PREFIXES = (
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/ssl/private",
    "/etc/ssh/ssh_host_",
    "/var/log",
    "/var/tmp",
    "/var/run",
    "/var/lock",
    "/var/cache/apt/archives/partial",
)

FORBIDDEN = ("example", "sample", "test", "dummy", "xxxx", "changeme")


def jdump(obj):
    """Canonical JSON bytes used for every JSON blob and file."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


# ---------------------------------------------------------------- secrets


def clean(s):
    """Reject values a detector's allowlist would drop as placeholders."""
    low = s.lower()
    if any(w in low for w in FORBIDDEN):
        return False
    run_up = run_down = run_same = 1
    for a, b in zip(s, s[1:]):
        run_up = run_up + 1 if ord(b) == ord(a) + 1 else 1
        run_down = run_down + 1 if ord(b) == ord(a) - 1 else 1
        run_same = run_same + 1 if a == b else 1
        if run_up >= 5 or run_down >= 5 or run_same >= 4:
            return False
    return True


class Secrets:
    """Synthetic, format-valid secrets drawn from one seeded PRNG."""

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def rand(self, alphabet, n):
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def clean_value(self, make):
        while True:
            v = make()
            if clean(v):
                return v

    def github_pat(self):
        def make():
            body = self.rand(BASE62, 30)
            return "ghp_" + body + base62_checksum(body)

        return self.clean_value(make)

    def aws_key_id(self):
        return self.clean_value(lambda: "AKIA" + self.rand(BASE32, 16))

    def aws_secret(self):
        # Alphanumeric at both ends, so word boundaries see the whole value.
        while True:
            v = self.clean_value(lambda: self.rand(B64, 40))
            if v[0].isalnum() and v[-1].isalnum():
                return v

    def rsa_private_key_pem(self, bits=1024):
        """A real RSA key (RFC 8017 A.1.2 RSAPrivateKey, PKCS#1 DER in PEM)."""
        e = 65537
        while True:
            p = self.prime(bits // 2)
            q = self.prime(bits // 2)
            if p == q:
                continue
            if p < q:
                p, q = q, p
            phi = (p - 1) * (q - 1)
            if phi % e == 0:
                continue
            d = pow(e, -1, phi)
            fields = [0, p * q, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p)]
            body = b"".join(der_int(f) for f in fields)
            der = b"\x30" + der_len(len(body)) + body
            b64 = base64.b64encode(der).decode()
            if any(w in b64.lower() for w in FORBIDDEN):
                continue
            lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
            return (
                "-----BEGIN RSA PRIVATE KEY-----\n"
                + "\n".join(lines)
                + "\n-----END RSA PRIVATE KEY-----"
            )

    def prime(self, bits):
        while True:
            n = self.rng.getrandbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
            if self.probable_prime(n):
                return n

    def probable_prime(self, n, rounds=32):
        for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
            if n % p == 0:
                return n == p
        d, s = n - 1, 0
        while d % 2 == 0:
            d //= 2
            s += 1
        for _ in range(rounds):
            x = pow(self.rng.randrange(2, n - 2), d, n)
            if x in (1, n - 1):
                continue
            for _ in range(s - 1):
                x = pow(x, 2, n)
                if x == n - 1:
                    break
            else:
                return False
        return True


def base62_checksum(body):
    """CRC32 of the token body, base62 (0-9A-Za-z), left-padded to 6 with `0`."""
    n = zlib.crc32(body.encode()) & 0xFFFFFFFF
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = BASE62[r] + out
    return out.rjust(6, "0")


def der_len(n):
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def der_int(v):
    raw = v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big")
    if raw[0] & 0x80:
        raw = b"\x00" + raw
    return b"\x02" + der_len(len(raw)) + raw


# ---------------------------------------------------------------- file selection


def excluded(path):
    return path.startswith(EXCLUDE_PREFIXES)


def candidates(roots):
    """Regular files and symlinks under `roots`, sorted, as (abspath, lstat, cost).

    `cost` is the bytes the entry adds to the tar: header plus padded data.
    """
    out = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames.sort()
            dirnames[:] = [d for d in dirnames if not excluded(os.path.join(dirpath, d))]
            for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]):
                path = os.path.join(dirpath, name)
                if excluded(path) or not encodable(path):
                    continue
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if stat.S_ISLNK(st.st_mode):
                    out.append((path, st, 512))
                elif stat.S_ISREG(st.st_mode):
                    if st.st_size > MAX_FILE or not os.access(path, os.R_OK):
                        continue
                    out.append((path, st, 512 + (st.st_size + 511) // 512 * 512))
    return out


def encodable(path):
    try:
        path.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def select(roots, budget, rng):
    """Seeded sample of the files under `roots` filling at most `budget` bytes."""
    cands = candidates(roots)
    order = list(range(len(cands)))
    rng.shuffle(order)
    chosen, used, inodes = [], 0, set()
    for i in order:
        path, st, cost = cands[i]
        key = (st.st_dev, st.st_ino)
        if st.st_nlink > 1 and key in inodes:
            cost = 512  # becomes a hard link entry
        if used + cost > budget:
            continue
        chosen.append(i)
        inodes.add(key)
        used += cost
        if budget - used < 4096:
            break
    return [cands[i] for i in sorted(chosen)]


# ---------------------------------------------------------------- layer writer


class LayerSink:
    """File-like sink: tar bytes in, gzip blob out; hashes both while streaming."""

    def __init__(self, path):
        self.f = open(path, "wb")
        # wbits 31: gzip wrapper (RFC 1952), zlib writes mtime 0 and no name.
        self.comp = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
        self.diff_id = hashlib.sha256()
        self.digest = hashlib.sha256()
        self.usize = 0
        self.csize = 0

    def write(self, b):
        self.diff_id.update(b)
        self.usize += len(b)
        self._out(self.comp.compress(b))
        return len(b)

    def tell(self):
        return self.usize

    def _out(self, c):
        if c:
            self.digest.update(c)
            self.csize += len(c)
            self.f.write(c)

    def close(self):
        self._out(self.comp.flush())
        self.f.close()


class FixedReader:
    """Reads exactly `size` bytes of `f`, zero-padding a file that shrank."""

    def __init__(self, f, size):
        self.f = f
        self.left = size

    def read(self, n=-1):
        if self.left <= 0:
            return b""
        if n < 0 or n > self.left:
            n = self.left
        b = self.f.read(n)
        if len(b) < n:
            # The file shrank while it was read (a log rotated, a database file rewritten):
            # pad, as tarfile wants exactly the size the header promised.
            b += b"\0" * (n - len(b))
        self.left -= len(b)
        return b


def tarinfo(name, kind, size=0, mode=0o644, linkname=""):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.size = size
    ti.mode = mode
    ti.linkname = linkname
    ti.mtime = 0
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    return ti


def sort_key(name):
    return name.rstrip("/").split("/")


def write_layer(tmp_path, real, synthetic):
    """Writes one gzip layer; returns (sink, entry count).

    `real` holds (abspath, lstat, cost) of host files, stored under their path
    without the leading `/`; `synthetic` maps tar names to (bytes, mode).
    Parent directories are added for both, each once, before their contents.
    """
    entries = {}
    for path, st, _ in real:
        entries[path.lstrip("/")] = ("real", path, st)
    for name, (data, mode) in synthetic.items():
        entries[name] = ("data", data, mode)
    for name in list(entries):
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            entries.setdefault("/".join(parts[:i]) + "/", ("dir",))

    sink = LayerSink(tmp_path)
    links = {}
    count = 0
    with tarfile.open(fileobj=sink, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(entries, key=sort_key):
            e = entries[name]
            if e[0] == "dir":
                tar.addfile(tarinfo(name, tarfile.DIRTYPE, mode=0o755))
            elif e[0] == "data":
                tar.addfile(tarinfo(name, tarfile.REGTYPE, len(e[1]), e[2]), io.BytesIO(e[1]))
            elif not add_real(tar, name, e[1], e[2], links):
                continue
            count += 1
    sink.close()
    return sink, count


def add_real(tar, name, path, st, links):
    mode = stat.S_IMODE(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        try:
            target = os.readlink(path)
        except OSError:
            return False
        if not encodable(target):
            return False
        tar.addfile(tarinfo(name, tarfile.SYMTYPE, mode=0o777, linkname=target))
        return True
    key = (st.st_dev, st.st_ino)
    if st.st_nlink > 1 and key in links:
        tar.addfile(tarinfo(name, tarfile.LNKTYPE, mode=mode, linkname=links[key]))
        return True
    try:
        f = open(path, "rb")
    except OSError:
        return False
    with f:
        tar.addfile(tarinfo(name, tarfile.REGTYPE, st.st_size, mode), FixedReader(f, st.st_size))
    links[key] = name
    return True


# ---------------------------------------------------------------- image


def plant(secrets):
    """Synthetic layer contents and the planted-secret records.

    Returns ({layer name: {tar name: (bytes, mode)}}, [record]). Records name
    the layer by its name here; indices are filled in once the order is known.
    """
    gh_visible = secrets.github_pat()
    gh_overwritten = secrets.github_pat()
    gh_opaque = secrets.github_pat()
    aws_id_opaque, aws_secret_opaque = secrets.aws_key_id(), secrets.aws_secret()
    aws_id_visible, aws_secret_visible = secrets.aws_key_id(), secrets.aws_secret()
    pem = secrets.rsa_private_key_pem()

    files = {
        "usr-lib": {
            "usr/lib/python3/dist-packages/deployer/settings.py": (
                "import os\n\nREGION = 'eu-west-1'\n"
                f"GITHUB_TOKEN = \"{gh_visible}\"\nTIMEOUT = 30\n",
                0o644,
            ),
        },
        "var": {
            "var/lib/deployer/token": (f"token: {gh_overwritten}\n", 0o600),
        },
        "app": {
            "app/.env": (
                "APP_ENV=production\n"
                f"GITHUB_TOKEN={gh_opaque}\n"
                f"aws_access_key_id = {aws_id_opaque}\n"
                f"aws_secret_access_key = {aws_secret_opaque}\n",
                0o600,
            ),
            "app/main.py": ("import os\nprint(os.environ['APP_ENV'])\n", 0o644),
            "root/.ssh/id_rsa": (pem + "\n", 0o600),
            "root/.aws/credentials": (
                "[default]\n"
                f"aws_access_key_id = {aws_id_visible}\n"
                f"aws_secret_access_key = {aws_secret_visible}\n"
                "region = eu-west-1\n",
                0o600,
            ),
        },
        "cleanup": {
            # image-spec layer.md "Whiteouts": `.wh.<name>` deletes one path,
            # `.wh..wh..opq` hides the lower contents of its directory.
            "root/.ssh/.wh.id_rsa": ("", 0o644),
            "app/.wh..wh..opq": ("", 0o644),
            "app/.env": ("APP_ENV=production\n", 0o600),
            "app/main.py": ("import os\nprint(os.environ['APP_ENV'])\n", 0o644),
            "var/lib/deployer/token": ("token: read from the vault at start\n", 0o600),
        },
    }
    files = {l: {n: (d.encode(), m) for n, (d, m) in fs.items()} for l, fs in files.items()}

    def rec(rule, secret, layer, path, hidden_by=None, how=None):
        data = files[layer][path][0]
        return {
            "rule": rule,
            "secret": secret,
            "layer": layer,
            "path": path,
            "offset": data.index(secret.encode()),
            "hidden_by": hidden_by,
            "hidden_how": how,
            "visible": hidden_by is None,
        }

    records = [
        rec("github-pat", gh_visible, "usr-lib", "usr/lib/python3/dist-packages/deployer/settings.py"),
        rec("github-pat", gh_overwritten, "var", "var/lib/deployer/token", "cleanup", "overwrite"),
        rec("github-pat", gh_opaque, "app", "app/.env", "cleanup", "opaque"),
        rec("aws-access-key-id", aws_id_opaque, "app", "app/.env", "cleanup", "opaque"),
        rec("aws-secret-access-key", aws_secret_opaque, "app", "app/.env", "cleanup", "opaque"),
        rec("private-key", pem, "app", "root/.ssh/id_rsa", "cleanup", "whiteout"),
        rec("aws-access-key-id", aws_id_visible, "app", "root/.aws/credentials"),
        rec("aws-secret-access-key", aws_secret_visible, "app", "root/.aws/credentials"),
    ]
    return files, records


def layer_plan(total):
    """[(name, roots, budget, created_by)] with the synthetic layers last."""
    fixed = [(n, r, int(total * share), c) for n, r, share, c in REAL_LAYERS if share is not None]
    return fixed, [
        ("app", [], 0, "COPY app/ /app/ and deploy credentials"),
        ("cleanup", [], 0, "RUN rm -f /root/.ssh/id_rsa && rm -rf /app/* && vault-init"),
    ]


def build(label, total, outroot, force):
    final = os.path.join(outroot, label)
    stamp = os.path.join(final, "planted.json")
    if not force and os.path.exists(stamp):
        try:
            with open(stamp) as f:
                meta = json.load(f)
            if meta.get("recipe") == RECIPE and meta.get("target_bytes") == total:
                print(f"{label}: cached at {final}")
                return
        except (OSError, ValueError):
            pass

    t0 = time.monotonic()
    tmp = os.path.join(outroot, f".{label}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    blobdir = os.path.join(tmp, "oci", "blobs", "sha256")
    os.makedirs(blobdir)

    files, records = plant(Secrets(f"{SEED}-{label}-secrets"))
    fixed, synthetic = layer_plan(total)
    # Small layers first so the big /usr/lib layer takes up the remainder.
    selected = {}
    used = 0
    for name, roots, budget, _ in fixed:
        selected[name] = select(roots, budget, random.Random(f"{SEED}-{label}-{name}"))
        used += sum(c for _, _, c in selected[name])
    big = REAL_LAYERS[0]
    selected[big[0]] = select(big[1], max(0, total - used), random.Random(f"{SEED}-{label}-{big[0]}"))

    order = [n for n, _, _, _ in REAL_LAYERS] + [n for n, _, _, _ in synthetic]
    created_by = {n: c for n, _, _, c in REAL_LAYERS}
    created_by.update({n: c for n, _, _, c in synthetic})

    layers = []
    for name in order:
        t = time.monotonic()
        part = os.path.join(blobdir, ".partial")
        sink, count = write_layer(part, selected.get(name, []), files.get(name, {}))
        hexd = sink.digest.hexdigest()
        os.replace(part, os.path.join(blobdir, hexd))
        dt = time.monotonic() - t
        layers.append(
            {
                "name": name,
                "digest": "sha256:" + hexd,
                "diff_id": "sha256:" + sink.diff_id.hexdigest(),
                "size": sink.csize,
                "uncompressed_size": sink.usize,
                "entries": count,
                "created_by": created_by[name],
            }
        )
        print(
            f"  {label} layer {len(layers) - 1} {name:<9} {count:>7} entries "
            f"{sink.usize / 1e6:>8.1f} MB tar -> {sink.csize / 1e6:>7.1f} MB gz "
            f"in {dt:6.1f} s ({sink.usize / 1e6 / max(dt, 1e-9):5.1f} MB/s)",
            flush=True,
        )

    index_of = {l["name"]: i for i, l in enumerate(layers)}
    for r in records:
        r["layer"] = index_of[r["layer"]]
        if r["hidden_by"] is not None:
            r["hidden_by"] = index_of[r["hidden_by"]]

    repo_tag = f"layerleak-bench:{label}"
    config = jdump(image_config(layers))
    config_hex = put_blob(blobdir, config)
    manifest = jdump(
        {
            "schemaVersion": 2,
            "mediaType": MT_MANIFEST,
            "config": {"mediaType": MT_CONFIG, "digest": "sha256:" + config_hex, "size": len(config)},
            "layers": [{"mediaType": MT_TGZ, "digest": l["digest"], "size": l["size"]} for l in layers],
        }
    )
    manifest_hex = put_blob(blobdir, manifest)
    index = jdump(
        {
            "schemaVersion": 2,
            "mediaType": MT_INDEX,
            "manifests": [
                {
                    "mediaType": MT_MANIFEST,
                    "digest": "sha256:" + manifest_hex,
                    "size": len(manifest),
                    "annotations": {
                        "io.containerd.image.name": "docker.io/library/" + repo_tag,
                        "org.opencontainers.image.ref.name": label,
                    },
                }
            ],
        }
    )
    oci = os.path.join(tmp, "oci")
    with open(os.path.join(oci, "oci-layout"), "wb") as f:
        f.write(jdump({"imageLayoutVersion": "1.0.0"}))
    with open(os.path.join(oci, "index.json"), "wb") as f:
        f.write(index)

    docker_manifest = jdump(
        [
            {
                "Config": "blobs/sha256/" + config_hex,
                "RepoTags": [repo_tag],
                "Layers": ["blobs/sha256/" + l["digest"].split(":")[1] for l in layers],
            }
        ]
    )
    archive = os.path.join(tmp, "image.tar")
    write_archive(archive, oci, docker_manifest)

    biggest = max(layers, key=lambda l: l["uncompressed_size"])
    link_or_copy(os.path.join(blobdir, biggest["digest"].split(":")[1]), os.path.join(tmp, "layer.tar.gz"))

    meta = {
        "recipe": RECIPE,
        "label": label,
        "target_bytes": total,
        "repo_tag": repo_tag,
        "manifest_digest": "sha256:" + manifest_hex,
        "config_digest": "sha256:" + config_hex,
        "layers": layers,
        "single_layer": {"file": "layer.tar.gz", "layer": layers.index(biggest)},
        "secrets": records,
    }
    with open(os.path.join(tmp, "planted.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")

    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    utotal = sum(l["uncompressed_size"] for l in layers)
    ctotal = sum(l["size"] for l in layers)
    print(
        f"{label}: {len(layers)} layers, {utotal / 1e6:.1f} MB tar, {ctotal / 1e6:.1f} MB gz, "
        f"archive {os.path.getsize(os.path.join(final, 'image.tar')) / 1e6:.1f} MB, "
        f"single layer {biggest['size'] / 1e6:.1f} MB gz, built in {time.monotonic() - t0:.1f} s -> {final}",
        flush=True,
    )


def image_config(layers):
    """OCI image config (image-spec config.md) with one history entry per step."""
    history = [
        {"created": CREATED, "created_by": l["created_by"], "comment": "buildkit.dockerfile.v0"}
        for l in layers
    ]
    history.insert(0, {"created": CREATED, "created_by": "ARG RELEASE", "empty_layer": True})
    history.append(
        {"created": CREATED, "created_by": "ENV APP_ENV=production", "empty_layer": True,
         "comment": "buildkit.dockerfile.v0"}
    )
    history.append(
        {"created": CREATED, "created_by": 'CMD ["python3", "/app/main.py"]', "empty_layer": True,
         "comment": "buildkit.dockerfile.v0"}
    )
    return {
        "architecture": "amd64",
        "os": "linux",
        "created": CREATED,
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                           "APP_ENV=production"],
                   "Cmd": ["python3", "/app/main.py"]},
        "rootfs": {"type": "layers", "diff_ids": [l["diff_id"] for l in layers]},
        "history": history,
    }


def put_blob(blobdir, data):
    hexd = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobdir, hexd), "wb") as f:
        f.write(data)
    return hexd


def write_archive(path, oci, docker_manifest):
    """Docker 25+ `docker save` layout: OCI layout members plus manifest.json."""
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        for d in ("blobs/", "blobs/sha256/"):
            tar.addfile(tarinfo(d, tarfile.DIRTYPE, mode=0o755))
        blobdir = os.path.join(oci, "blobs", "sha256")
        for name in sorted(os.listdir(blobdir)):
            p = os.path.join(blobdir, name)
            size = os.path.getsize(p)
            with open(p, "rb") as f:
                tar.addfile(tarinfo("blobs/sha256/" + name, tarfile.REGTYPE, size), f)
        members = [("index.json", None), ("manifest.json", docker_manifest), ("oci-layout", None)]
        for name, data in members:
            if data is None:
                with open(os.path.join(oci, name), "rb") as f:
                    data = f.read()
            tar.addfile(tarinfo(name, tarfile.REGTYPE, len(data)), io.BytesIO(data))


def link_or_copy(src, dst):
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def default_dir():
    env = os.environ.get("LAYERLEAK_BENCH_DIR")
    if env:
        return env
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(root, "target", "bench-images")


def main():
    ap = argparse.ArgumentParser(description="Build large benchmark images (cached outside git).")
    ap.add_argument("sizes", nargs="*", metavar="SIZE",
                    help="sizes to build: " + ", ".join(SIZES) + " (default: all)")
    ap.add_argument("--out", default=default_dir(),
                    help="output directory (default: $LAYERLEAK_BENCH_DIR or target/bench-images)")
    ap.add_argument("--force", action="store_true", help="rebuild even if cached")
    args = ap.parse_args()
    sizes = args.sizes or list(SIZES)
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        ap.error(f"unknown size {unknown[0]!r}; choose from " + ", ".join(SIZES))
    os.makedirs(args.out, exist_ok=True)
    t0 = time.monotonic()
    for label in sizes:
        print(f"{label}: building {SIZES[label] / 1e9:.1f} GB image", flush=True)
        build(label, SIZES[label], args.out, args.force)
    print(f"done in {time.monotonic() - t0:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
