#!/usr/bin/env python3
"""Deterministic generator for the layerleak test images.

Usage: python3 testdata/gen.py OUTDIR

Writes OCI image layouts, Docker 25+ archives (OCI layout inside a tar plus a
docker `manifest.json`), single layer tarballs, damaged archives under `bad/`
and the expected results under `expected/`.

Everything is reproducible: one seeded PRNG, mtime 0, uid/gid 0, empty
uname/gname, gzip headers without mtime or file name, JSON with sorted keys
and no whitespace. Running it twice gives byte-identical output (the zstd
fixture depends on the installed `zstd` binary and is skipped without it).

All secrets are synthetic but format-valid: GitHub/npm tokens carry their
CRC32 checksum, the private keys are real (small) RSA keys in PKCS#1 DER, the
JWTs are real HS256 tokens. None of them grants access to anything.

The expected statuses follow the OCI image spec, "Representing Changes" and
"Whiteouts": a whiteout deletes the path and its subtree in lower layers, an
opaque marker hides lower content under its directory but not the same
layer's, a later write over a path shadows it (a directory replaced by a file
shadows its whole subtree), and a path written twice in one layer is shadowed
by the later entry of that same layer.
"""

import base64
import hashlib
import hmac
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import zlib

SEED = 20261126
RNG = random.Random(SEED)

# Fixed timestamps: a single epoch for every "created" field.
CREATED = "2026-11-26T00:00:00Z"
IAT = 1764115200  # 2025-11-26T00:00:00Z, used inside JWT payloads

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
UPPER_NUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
ALNUM = BASE62

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_TAR = "application/vnd.oci.image.layer.v1.tar"
MT_TGZ = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_INTOTO = "application/vnd.in-toto+json"


def jdump(obj):
    """Canonical JSON bytes used for every JSON file written."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def jdump_pretty(obj):
    """Expected-results files: still sorted and stable, but one entry a line."""
    if isinstance(obj, list):
        lines = [json.dumps(x, sort_keys=True, separators=(",", ":")) for x in obj]
        return ("[\n" + ",\n".join(lines) + "\n]\n").encode()
    return jdump(obj) + b"\n"


# ---------------------------------------------------------------- secrets

FORBIDDEN = ("example", "sample", "test", "dummy", "xxxx", "changeme")


def clean(s):
    """Reject values the engine's allowlist would drop as placeholders."""
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


def rand_str(alphabet, n):
    return "".join(RNG.choice(alphabet) for _ in range(n))


def clean_value(make):
    while True:
        v = make()
        if clean(v):
            return v


def base62_checksum(body):
    n = zlib.crc32(body.encode()) & 0xFFFFFFFF
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = BASE62[r] + out
    return out.rjust(6, "0")


def github_pat():
    def make():
        body = rand_str(BASE62, 30)
        return "ghp_" + body + base62_checksum(body)

    return clean_value(make)


def npm_token():
    def make():
        body = rand_str(BASE62, 30)
        return "npm_" + body + base62_checksum(body)

    return clean_value(make)


def aws_key_id():
    return clean_value(lambda: "AKIA" + rand_str(BASE32, 16))


def aws_secret():
    # Alphanumeric at both ends, so a detector's word boundaries see the whole value.
    while True:
        v = clean_value(lambda: rand_str(B64, 40))
        if v[0].isalnum() and v[-1].isalnum():
            return v


def stripe_key():
    return clean_value(lambda: "sk_live_" + rand_str(BASE62, 32))


def slack_webhook():
    return clean_value(
        lambda: "https://hooks.slack.com/services/T"
        + rand_str(UPPER_NUM, 8)
        + "/B"
        + rand_str(UPPER_NUM, 10)
        + "/"
        + rand_str(ALNUM, 24)
    )


def pg_password():
    return clean_value(lambda: rand_str(ALNUM, 20))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt():
    def make():
        header = b64url(jdump({"alg": "HS256", "typ": "JWT"}))
        payload = b64url(
            jdump(
                {
                    "sub": "svc-" + rand_str("abcdefghijklmnopqrstuvwxyz", 8),
                    "iat": IAT,
                    "exp": IAT + 31536000,
                    "role": "admin",
                }
            )
        )
        key = bytes(RNG.getrandbits(8) for _ in range(32))
        sig = b64url(hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        return f"{header}.{payload}.{sig}"

    return clean_value(make)


def is_probable_prime(n, rounds=32):
    if n < 2:
        return False
    for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(rounds):
        a = RNG.randrange(2, n - 2)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def rand_prime(bits):
    while True:
        n = RNG.getrandbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        if is_probable_prime(n):
            return n


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


def rsa_private_key_pem(bits=512):
    """A real RSA key (RFC 8017 A.1.2 RSAPrivateKey) from the seeded PRNG."""
    e = 65537
    while True:
        p = rand_prime(bits // 2)
        q = rand_prime(bits // 2)
        if p == q:
            continue
        if p < q:
            p, q = q, p
        phi = (p - 1) * (q - 1)
        if phi % e == 0:
            continue
        n = p * q
        d = pow(e, -1, phi)
        fields = [0, n, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p)]
        body = b"".join(der_int(f) for f in fields)
        der = b"\x30" + der_len(len(body)) + body
        b64 = base64.b64encode(der).decode()
        if not all(w not in b64.lower() for w in FORBIDDEN):
            continue
        lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
        return (
            "-----BEGIN RSA PRIVATE KEY-----\n"
            + "\n".join(lines)
            + "\n-----END RSA PRIVATE KEY-----"
        )


def filler(label):
    """Distinct, harmless file content."""
    return f"# {label}\nid={RNG.getrandbits(64):016x}\n"


# ---------------------------------------------------------------- tar

# A layer is a list of entries, each a dict:
#   kind: "file" | "dir" | "symlink" | "hardlink" | "raw"
#   name: raw tar name (bytes)
#   data: file bytes (file) / target (symlink, hardlink) / raw 512-byte block
#   secrets: list of (rule, secret) planted in data (file only)
# Whiteouts and opaque markers are plain empty files named `.wh.<name>` and
# `.wh..wh..opq`, exactly as they appear on the wire.


def F(name, data, secrets=()):
    if isinstance(name, str):
        name = name.encode()
    if isinstance(data, str):
        data = data.encode()
    return {"kind": "file", "name": name, "data": data, "secrets": list(secrets)}


def D(name):
    if isinstance(name, str):
        name = name.encode()
    if not name.endswith(b"/"):
        name += b"/"
    return {"kind": "dir", "name": name, "data": b"", "secrets": []}


def S(name, target):
    return {"kind": "symlink", "name": name.encode(), "data": target.encode(), "secrets": []}


def H(name, target):
    return {"kind": "hardlink", "name": name.encode(), "data": target.encode(), "secrets": []}


def WH(path):
    d, _, base = path.rpartition("/")
    return F((d + "/" if d else "") + ".wh." + base, b"")


def OPQ(dirpath):
    return F(dirpath.rstrip("/") + "/.wh..wh..opq", b"")


def octal(v, width):
    return (("%0" + str(width - 1) + "o") % v).encode() + b"\0"


def tar_header(name, size=0, typeflag=b"0", linkname=b"", mode=0o644):
    """POSIX ustar header (POSIX.1-1988 ustar format), all metadata fixed."""
    if len(name) > 100 or len(linkname) > 100:
        raise ValueError(f"name too long for plain ustar: {name!r}")
    h = bytearray(512)
    h[0:100] = name.ljust(100, b"\0")
    h[100:108] = octal(mode, 8)
    h[108:116] = octal(0, 8)
    h[116:124] = octal(0, 8)
    h[124:136] = octal(size, 12)
    h[136:148] = octal(0, 12)
    h[148:156] = b" " * 8
    h[156:157] = typeflag
    h[157:257] = linkname.ljust(100, b"\0")
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    # uname, gname empty; devmajor/devminor zero.
    h[329:337] = octal(0, 8)
    h[337:345] = octal(0, 8)
    chk = sum(h)
    h[148:156] = ("%06o" % chk).encode() + b"\0 "
    return bytes(h)


def pad512(data):
    return data + b"\0" * (-len(data) % 512)


def tar_bytes(entries):
    out = []
    for e in entries:
        k = e["kind"]
        if k == "file":
            out.append(tar_header(e["name"], len(e["data"])))
            out.append(pad512(e["data"]))
        elif k == "dir":
            out.append(tar_header(e["name"], 0, b"5", mode=0o755))
        elif k == "symlink":
            out.append(tar_header(e["name"], 0, b"2", e["data"], mode=0o777))
        elif k == "hardlink":
            out.append(tar_header(e["name"], 0, b"1", e["data"]))
        elif k == "raw":
            out.append(e["data"])
        else:
            raise ValueError(k)
    out.append(b"\0" * 1024)
    return b"".join(out)


def gz(data):
    """gzip (RFC 1952) with mtime 0, no file name, OS 255, deflate level 9."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    body = c.compress(data) + c.flush()
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + body + struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- model

WH_PREFIX = b".wh."
OPQ_NAME = b".wh..wh..opq"


def normalize(raw):
    """Clamp a tar name to a relative path: no leading '/', './', '..' escapes."""
    stack = []
    for part in raw.split(b"/"):
        if part in (b"", b"."):
            continue
        if part == b"..":
            if stack:
                stack.pop()
            continue
        stack.append(part)
    return b"/".join(stack)


def display(path):
    """UTF-8 text; bytes that are not valid UTF-8 become lowercase \\xNN."""
    return path.decode("utf-8", "backslashreplace")


def under(p, d):
    return d == b"" or p.startswith(d + b"/")


def layer_events(entries):
    """Classify each entry: ("whiteout", path), ("opaque", dir) or ("write", path, is_dir)."""
    evs = []
    for e in entries:
        if e["kind"] == "raw":
            evs.append(None)
            continue
        p = normalize(e["name"])
        d, _, base = p.rpartition(b"/")
        if base == OPQ_NAME:
            evs.append(("opaque", d))
        elif base.startswith(WH_PREFIX):
            evs.append(("whiteout", (d + b"/" if d else b"") + base[len(WH_PREFIX) :]))
        else:
            evs.append(("write", p, e["kind"] == "dir"))
    return evs


def hidden(layers, i, k, p):
    """First event above entry k of layer i that hides path p, or None."""
    for j in range(i, len(layers)):
        for m, ev in enumerate(layer_events(layers[j])):
            if ev is None or (j == i and m <= k):
                continue
            if ev[0] == "write":
                q, is_dir = ev[1], ev[2]
                if (p == q and not is_dir) or (p == q and is_dir and j > i):
                    return j, "overwrite"
                if not is_dir and under(p, q) and q != p:
                    return j, "overwrite"  # directory replaced by a file
                if under(q, p) and q != p:
                    return j, "overwrite"  # file replaced by a directory
            elif j > i and ev[0] == "whiteout":
                if p == ev[1] or under(p, ev[1]):
                    return j, "whiteout"
            elif j > i and ev[0] == "opaque":
                if under(p, ev[1]):
                    return j, "opaque"
    return None


def versions(layers):
    """Every content-bearing version (files and hardlinks), with its fate."""
    out = []
    for i, entries in enumerate(layers):
        evs = layer_events(entries)
        for k, e in enumerate(entries):
            if e["kind"] not in ("file", "hardlink") or evs[k][0] != "write":
                continue
            p = normalize(e["name"])
            h = hidden(layers, i, k, p)
            secrets = e["secrets"]
            if e["kind"] == "hardlink":
                target = normalize(e["data"])
                secrets = []
                for j in range(i, -1, -1):
                    for t in layers[j]:
                        if t["kind"] == "file" and normalize(t["name"]) == target:
                            secrets = t["secrets"]
                    if secrets:
                        break
            out.append(
                {
                    "layer": i,
                    "order": k,
                    "path": display(p),
                    "status": "present" if h is None else ("deleted" if h[1] != "overwrite" else "shadowed"),
                    "hidden_by": None if h is None else h[0],
                    "how": None if h is None else h[1],
                    "secrets": secrets,
                }
            )
    out.sort(key=lambda v: (v["layer"], v["path"], v["order"]))
    return out


def lifecycle_expected(layers):
    return [
        {k: v[k] for k in ("layer", "path", "status", "hidden_by", "how")} for v in versions(layers)
    ]


def secret_rows(fixture, image, layers, config=None):
    rows = []
    for v in versions(layers):
        for rule, secret in v["secrets"]:
            rows.append(
                {
                    "fixture": fixture,
                    "image": image,
                    "rule": rule,
                    "secret": secret,
                    "where": f"layer {v['layer']} /{v['path']}",
                    "status": v["status"],
                }
            )
    if config is not None:
        for rule, secret, where in config.get("_secrets", []):
            rows.append(
                {
                    "fixture": fixture,
                    "image": image,
                    "rule": rule,
                    "secret": secret,
                    "where": where,
                    "status": "present",
                }
            )
    return rows


# ---------------------------------------------------------------- images


def make_config(layers_tar, history, env=(), extra=None, arch="amd64", variant=None, secrets=()):
    """OCI image config (image-spec config.md). `history` is a list of
    (created_by, empty_layer) pairs; non-empty entries must match the layers."""
    assert sum(1 for _, empty in history if not empty) == len(layers_tar)
    cfg = {
        "architecture": arch,
        "os": "linux",
        "created": CREATED,
        "config": {"Env": list(env)},
        "rootfs": {"type": "layers", "diff_ids": [sha(t) for t in layers_tar]},
        "history": [],
    }
    if variant:
        cfg["variant"] = variant
    if extra:
        cfg["config"].update(extra)
    for created_by, empty in history:
        h = {"created": CREATED, "created_by": created_by, "comment": "buildkit.dockerfile.v0"}
        if empty:
            h["empty_layer"] = True
        cfg["history"].append(h)
    cfg["_secrets"] = list(secrets)
    return cfg


def config_bytes(cfg):
    return jdump({k: v for k, v in cfg.items() if not k.startswith("_")})


class Image:
    """One image: its blobs, manifest bytes and the model used for expectations."""

    def __init__(self, layers, cfg, compress=True, annotations=None):
        self.layers = layers
        self.cfg = cfg
        self.blobs = {}
        self.tars = [tar_bytes(l) for l in layers]
        cfg["rootfs"]["diff_ids"] = [sha(t) for t in self.tars]
        self.config = config_bytes(cfg)
        self.config_digest = self.add(self.config)
        self.layer_digests = []
        descs = []
        for t in self.tars:
            blob = gz(t) if compress else t
            d = self.add(blob)
            self.layer_digests.append(d)
            descs.append({"mediaType": MT_TGZ if compress else MT_TAR, "digest": d, "size": len(blob)})
        m = {
            "schemaVersion": 2,
            "mediaType": MT_MANIFEST,
            "config": {"mediaType": MT_CONFIG, "digest": self.config_digest, "size": len(self.config)},
            "layers": descs,
        }
        if annotations:
            m["annotations"] = annotations
        self.manifest = jdump(m)
        self.manifest_digest = self.add(self.manifest)

    def add(self, data):
        d = sha(data)
        self.blobs[d] = data
        return d

    def desc(self, annotations=None, platform=None):
        d = {"mediaType": MT_MANIFEST, "digest": self.manifest_digest, "size": len(self.manifest)}
        if annotations:
            d["annotations"] = annotations
        if platform:
            d["platform"] = platform
        return d


def ref_annotations(repo_tag):
    tag = repo_tag.rpartition(":")[2]
    return {
        "io.containerd.image.name": "docker.io/" + repo_tag,
        "org.opencontainers.image.ref.name": tag,
    }


def write_file(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def fresh(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)


def write_oci_layout(path, blobs, index):
    """OCI image layout (image-spec image-layout.md)."""
    fresh(path)
    write_file(os.path.join(path, "oci-layout"), jdump({"imageLayoutVersion": "1.0.0"}))
    write_file(os.path.join(path, "index.json"), jdump(index))
    for d in sorted(blobs):
        write_file(os.path.join(path, "blobs", "sha256", d.split(":")[1]), blobs[d])


def index_of(descs):
    return {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": descs}


def archive_members(images_tags, with_index=True, with_layout=True, manifest_json=None):
    """Members of a Docker 25+ `docker save` archive, as (name, bytes) pairs."""
    blobs = {}
    for img, _ in images_tags:
        blobs.update(img.blobs)
    members = {}
    for d in blobs:
        members["blobs/sha256/" + d.split(":")[1]] = blobs[d]
    if with_index:
        members["index.json"] = jdump(index_of([img.desc(ref_annotations(t)) for img, t in images_tags]))
    if with_layout:
        members["oci-layout"] = jdump({"imageLayoutVersion": "1.0.0"})
    if manifest_json is None:
        manifest_json = jdump(
            [
                {
                    "Config": "blobs/sha256/" + img.config_digest.split(":")[1],
                    "RepoTags": [t],
                    "Layers": ["blobs/sha256/" + d.split(":")[1] for d in img.layer_digests],
                }
                for img, t in images_tags
            ]
        )
    members["manifest.json"] = manifest_json
    return members


def archive_tar(members, order=None):
    """Tar of the archive members; directories first, then names in sorted order."""
    names = order if order is not None else sorted(members)
    entries = []
    dirs_done = set()
    for n in names:
        parts = n.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i]) + "/"
            if d not in dirs_done:
                dirs_done.add(d)
                entries.append(D(d))
        entries.append(F(n, members[n]))
    return tar_bytes(entries)


# ---------------------------------------------------------------- fixtures


def lifecycle_image():
    slack = slack_webhook()
    jwt_cache = jwt()
    id_rsa = rsa_private_key_pem()
    aws_id, aws_sec = aws_key_id(), aws_secret()
    jwt_cli = jwt()
    stripe = stripe_key()
    pg = pg_password()
    gh_token = github_pat()
    npm_dup = npm_token()
    jwt_state = jwt()
    gh_last = github_pat()

    l0 = [
        D("etc/"),
        F("etc/os-release", 'NAME="Layerleak Base"\nID=llbase\nVERSION_ID=1.0\n'),
        F("../../etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/sbin/nologin\n"),
        D("./a//b/"),
        F("./a//b//notes.txt", filler("a/b notes")),
        F("/abs/x", filler("absolute name")),
        D("opt/"),
        D(b"opt/caf\xe9/"),
        F(b"opt/caf\xe9/menu.txt", filler("latin-1 directory name")),
        D("app/"),
        F("app/config.yml", f"notify:\n  webhook: {slack}\n", [("slack-webhook", slack)]),
        D("srv/"),
        D("srv/data/"),
        F("srv/data/cache.db", f"session={jwt_cache}\n", [("jwt", jwt_cache)]),
        D("usr/"),
        D("usr/local/"),
        D("usr/local/bin/"),
        F("usr/local/bin/tool", "#!/bin/sh\necho tool v1\n"),
    ]
    creds = (
        "[default]\n"
        f"aws_access_key_id = {aws_id}\n"
        f"aws_secret_access_key = {aws_sec}\n"
        "region = eu-west-1\n"
    )
    l1 = [
        D("root/"),
        D("root/.ssh/"),
        F("root/.ssh/id_rsa", id_rsa + "\n", [("private-key", id_rsa)]),
        D("home/"),
        D("home/deploy/"),
        D("home/deploy/.aws/"),
        F(
            "home/deploy/.aws/credentials",
            creds,
            [("aws-access-key-id", aws_id), ("aws-secret-access-key", aws_sec)],
        ),
        D("home/deploy/.aws/cli/"),
        D("home/deploy/.aws/cli/cache/"),
        F("home/deploy/.aws/cli/cache/token.json", jdump({"AccessToken": jwt_cli}), [("jwt", jwt_cli)]),
        D("var/"),
        D("var/lib/"),
        D("var/lib/app/"),
        F("var/lib/app/old.env", f"STRIPE_KEY={stripe}\n", [("stripe-secret-key", stripe)]),
        F("var/lib/app/keep.txt", filler("var/lib/app keep")),
        D("opt/svc/"),
        F(
            "opt/svc/db.conf",
            f"url=postgres://svc:{pg}@db.internal:5432/orders\n",
            [("postgres-url-password", pg)],
        ),
        D("secrets/"),
        F("secrets/token.txt", gh_token + "\n", [("github-pat", gh_token)]),
        H("app/token-link", "secrets/token.txt"),
        S("app/current-key", "/root/.ssh/id_rsa"),
        F("app/config.yml", "notify:\n  webhook: none\n"),
        F("etc/app.conf", f"//registry.npmjs.org/:_authToken={npm_dup}\n", [("npm-access-token", npm_dup)]),
        F("etc/app.conf", "registry=https://registry.npmjs.org/\n"),
    ]
    l2 = [
        D("root/.ssh/"),
        WH("root/.ssh/id_rsa"),
        D("secrets/"),
        WH("secrets/token.txt"),
    ]
    l3 = [
        D("home/deploy/"),
        WH("home/deploy/.aws"),
        D("var/lib/app/"),
        OPQ("var/lib/app"),
        F("var/lib/app/state.json", jdump({"session": jwt_state}), [("jwt", jwt_state)]),
        D("opt/svc/"),
        F("opt/svc/settings.ini", "[svc]\nworkers=4\n"),
        OPQ("opt/svc"),
    ]
    l4 = [
        D("srv/"),
        F("srv/data", filler("srv/data is now a file")),
        D("usr/local/bin/tool/"),
        F("usr/local/bin/tool/run.sh", "#!/bin/sh\necho tool v2\n"),
        D("var/cache/"),
        WH("var/cache/ghost.tmp"),
    ]
    settings = jdump({"github": {"token": gh_last}, "log_level": "info"})
    l5 = [
        D("app/config/"),
        F("app/config/settings.json", settings, [("github-pat", gh_last)]),
    ]
    layers = [l0, l1, l2, l3, l4, l5]

    aws_env_id, aws_env_sec = aws_key_id(), aws_secret()
    npm_arg = npm_token()
    env = [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        f"AWS_ACCESS_KEY_ID={aws_env_id}",
        f"AWS_SECRET_ACCESS_KEY={aws_env_sec}",
        "NODE_ENV=production",
    ]
    history = [
        ("ADD rootfs.tar.gz / # buildkit", False),
        ("ENV AWS_ACCESS_KEY_ID=" + aws_env_id + " AWS_SECRET_ACCESS_KEY=" + aws_env_sec, True),
        ("COPY . / # buildkit", False),
        ("ARG NPM_TOKEN", True),
        (f"|1 NPM_TOKEN={npm_arg} /bin/sh -c npm ci", True),
        ("RUN /bin/sh -c rm /root/.ssh/id_rsa /secrets/token.txt # buildkit", False),
        ("RUN /bin/sh -c rm -rf /home/deploy/.aws && reset-state /var/lib/app /opt/svc # buildkit", False),
        ("RUN /bin/sh -c rm -rf /srv/data /usr/local/bin/tool && install-tool # buildkit", False),
        ("COPY config/settings.json /app/config/settings.json # buildkit", False),
        ("WORKDIR /app", True),
        ("USER 1000:1000", True),
        ('LABEL org.opencontainers.image.title=lifecycle', True),
        ('ENTRYPOINT ["/usr/local/bin/tool/run.sh"]', True),
        ('CMD ["--serve"]', True),
    ]
    # The ENV history line repeats the Env secrets; it is listed too.
    secrets = [
        ("aws-access-key-id", aws_env_id, "config.Env[1]"),
        ("aws-secret-access-key", aws_env_sec, "config.Env[2]"),
        ("aws-access-key-id", aws_env_id, "history[1].created_by"),
        ("aws-secret-access-key", aws_env_sec, "history[1].created_by"),
        ("npm-access-token", npm_arg, "history[4].created_by"),
    ]
    tars = [tar_bytes(l) for l in layers]
    cfg = make_config(
        tars,
        history,
        env,
        {
            "Labels": {"org.opencontainers.image.title": "lifecycle", "maintainer": "platform team"},
            "Cmd": ["--serve"],
            "Entrypoint": ["/usr/local/bin/tool/run.sh"],
            "WorkingDir": "/app",
            "User": "1000:1000",
        },
        secrets=secrets,
    )
    return layers, cfg


def demo_image():
    id_rsa = rsa_private_key_pem()
    pg = pg_password()
    stripe = stripe_key()
    gh = github_pat()
    aws_id, aws_sec = aws_key_id(), aws_secret()
    npm = npm_token()
    l0 = [
        D("etc/"),
        F("etc/os-release", 'NAME="Layerleak Demo"\nID=lldemo\n'),
        D("app/"),
        F("app/server.js", "require('./app').listen(8080);\n"),
    ]
    env_file = f"DATABASE_URL=postgres://app:{pg}@db:5432/app\nSTRIPE_SECRET_KEY={stripe}\n"
    l1 = [
        D("root/"),
        D("root/.ssh/"),
        F("root/.ssh/id_rsa", id_rsa + "\n", [("private-key", id_rsa)]),
        D("app/"),
        F(
            "app/.env",
            env_file,
            [("postgres-url-password", pg), ("stripe-secret-key", stripe)],
        ),
    ]
    l2 = [D("root/.ssh/"), WH("root/.ssh/id_rsa")]
    l3 = [D("app/"), F("app/.env", "DATABASE_URL=${DATABASE_URL}\nSTRIPE_SECRET_KEY=${STRIPE_SECRET_KEY}\n")]
    l4 = [
        D("app/config/"),
        F("app/config/settings.json", jdump({"github_token": gh, "port": 8080}), [("github-pat", gh)]),
    ]
    layers = [l0, l1, l2, l3, l4]
    env = [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        f"AWS_ACCESS_KEY_ID={aws_id}",
        f"AWS_SECRET_ACCESS_KEY={aws_sec}",
    ]
    history = [
        ("ADD alpine-minirootfs.tar.gz / # buildkit", False),
        ("COPY deploy/ / # buildkit", False),
        ("RUN /bin/sh -c rm /root/.ssh/id_rsa # buildkit", False),
        ("ARG NPM_TOKEN", True),
        (f"|1 NPM_TOKEN={npm} /bin/sh -c npm ci", True),
        ("COPY .env.production /app/.env # buildkit", False),
        ("COPY config/settings.json /app/config/settings.json # buildkit", False),
        ('CMD ["node", "server.js"]', True),
    ]
    secrets = [
        ("aws-access-key-id", aws_id, "config.Env[1]"),
        ("aws-secret-access-key", aws_sec, "config.Env[2]"),
        ("npm-access-token", npm, "history[4].created_by"),
    ]
    tars = [tar_bytes(l) for l in layers]
    cfg = make_config(tars, history, env, {"Cmd": ["node", "server.js"], "WorkingDir": "/app"}, secrets=secrets)
    return layers, cfg


def victim_image():
    """Three gzip layers, one secret each in layers 0 and 2; layer 1 is the one
    the bad fixtures damage, and holds no secret so expectations are exact."""
    gh = github_pat()
    stripe = stripe_key()
    l0 = [D("app/"), F("app/token", gh + "\n", [("github-pat", gh)])]
    l1 = [D("srv/")] + [
        F(f"srv/blob{i}.txt", "".join(f"{RNG.getrandbits(64):016x}\n" for _ in range(48))) for i in range(3)
    ]
    l2 = [D("etc/"), F("etc/billing.env", f"STRIPE_KEY={stripe}\n", [("stripe-secret-key", stripe)])]
    layers = [l0, l1, l2]
    history = [
        ("COPY token /app/token # buildkit", False),
        ("COPY srv/ /srv/ # buildkit", False),
        ("COPY billing.env /etc/billing.env # buildkit", False),
    ]
    tars = [tar_bytes(l) for l in layers]
    cfg = make_config(tars, history, ["PATH=/usr/bin:/bin"])
    return layers, cfg


def argleak_image():
    """A build ARG with a default value that every later RUN step records in
    clear (`RUN |1 NPM_TOKEN=npm_... /bin/sh -c ...`, as docker and buildkit
    write it): the token is in created_by of the ARG line, of the four steps
    that built layers 1-4 (each the step that added or hid one of the file
    secrets), of a LABEL line, in a label value and in a directory name."""
    npm = npm_token()
    gh = github_pat()
    jwt_cache = jwt()
    stripe = stripe_key()

    def run(cmd):
        return (f"RUN |1 NPM_TOKEN={npm} /bin/sh -c {cmd} # buildkit", False)

    cache_dir = f"root/.npm/_cacache/{npm}"
    l0 = [
        D("etc/"),
        F("etc/os-release", 'NAME="Layerleak ArgLeak"\nID=llargleak\n'),
        D("app/"),
        F("app/package.json", '{"name":"app","private":true}\n'),
    ]
    l1 = [D("root/"), F("root/.npmrc", f"//registry.npmjs.org/:_authToken={npm}\n", [("npm-access-token", npm)])]
    l2 = [
        D("app/"),
        F("app/.env", f"GITHUB_TOKEN={gh}\n", [("github-pat", gh)]),
        D("app/node_modules/"),
        F("app/node_modules/.package-lock.json", '{"lockfileVersion":3}\n'),
    ]
    l3 = [D("root/"), WH("root/.npmrc")]
    l4 = [
        D("root/.npm/"),
        D("root/.npm/_cacache/"),
        D(cache_dir + "/"),
        F(cache_dir + "/session.json", jdump({"session": jwt_cache}), [("jwt", jwt_cache)]),
        D("app/dist/"),
        F("app/dist/billing.js", f"const key = '{stripe}';\n", [("stripe-secret-key", stripe)]),
    ]
    layers = [l0, l1, l2, l3, l4]
    history = [
        ("ADD alpine-minirootfs.tar.gz / # buildkit", False),
        (f"ARG NPM_TOKEN={npm}", True),
        run('echo "//registry.npmjs.org/:_authToken=$NPM_TOKEN" > /root/.npmrc'),
        run("npm ci && cp .env.build /app/.env"),
        run("rm /root/.npmrc"),
        run("npm run build"),
        (f"LABEL build.npm-token={npm}", True),
        ('CMD ["node", "dist/main.js"]', True),
    ]
    secrets = [("npm-access-token", npm, f"history[{i}].created_by") for i in (1, 2, 3, 4, 5, 6)]
    secrets.append(("npm-access-token", npm, "config.Labels[build.npm-token]"))
    tars = [tar_bytes(l) for l in layers]
    labels = {"build.npm-token": npm, "org.opencontainers.image.title": "argleak"}
    cfg = make_config(
        tars,
        history,
        ["PATH=/usr/local/bin:/usr/bin:/bin"],
        {"Labels": labels, "Cmd": ["node", "dist/main.js"], "WorkingDir": "/app"},
        secrets=secrets,
    )
    return layers, cfg


def hostile_image():
    """Names and step texts made to act on a terminal: ESC and BEL sequences
    (set the window title, clear the screen, move the cursor, recolour), a C1
    CSI (U+009B) and a right-to-left override (U+202E), in file paths holding
    secrets, in a RUN step, in a label key and in the tag."""
    gh = github_pat()
    stripe = stripe_key()
    npm = npm_token()
    session = jwt()
    l0 = [
        D("app/"),
        F("app/evil\x1b]0;pwned\x07\x1b[2J\x1b[31m.env", f"GITHUB_TOKEN={gh}\n", [("github-pat", gh)]),
    ]
    l1 = [
        D("srv/"),
        F("srv/\u009b31mc1.conf", f"STRIPE_KEY={stripe}\n", [("stripe-secret-key", stripe)]),
        F("srv/report\u202etxt.exe", f"MZ session={session}\n", [("jwt", session)]),
    ]
    layers = [l0, l1]
    history = [
        ("ADD rootfs.tar / # buildkit", False),
        ("RUN /bin/sh -c echo \x1b[2J\x1b[1;1Hall clean \u009b0m\u202e # buildkit", False),
        ("LABEL org.opencontainers.image.title=\x1b[8mhostile", True),
    ]
    labels = {"evil\x1b[8mkey": npm, "org.opencontainers.image.title": "\x1b[8mhostile"}
    tars = [tar_bytes(l) for l in layers]
    cfg = make_config(
        tars,
        history,
        ["PATH=/usr/bin:/bin"],
        {"Labels": labels},
        secrets=[("npm-access-token", npm, "config.Labels[evil\x1b[8mkey]")],
    )
    return layers, cfg


def multiarch(out, rows):
    plats = [
        ({"architecture": "amd64", "os": "linux"}, "amd64", None, "linux/amd64"),
        ({"architecture": "arm64", "os": "linux"}, "arm64", None, "linux/arm64"),
        ({"architecture": "arm", "os": "linux", "variant": "v7"}, "arm", "v7", "linux/arm/v7"),
    ]
    gh = github_pat()
    aws_id, aws_sec = aws_key_id(), aws_secret()
    stripe = stripe_key()
    layer_sets = [
        [[D("etc/"), D("etc/app/"), F("etc/app/token", gh + "\n", [("github-pat", gh)])]],
        [
            [
                D("root/"),
                D("root/.aws/"),
                F(
                    "root/.aws/credentials",
                    f"[default]\naws_access_key_id={aws_id}\naws_secret_access_key={aws_sec}\n",
                    [("aws-access-key-id", aws_id), ("aws-secret-access-key", aws_sec)],
                ),
            ]
        ],
        [[D("app/"), F("app/.env", f"STRIPE_KEY={stripe}\n", [("stripe-secret-key", stripe)])]],
    ]
    blobs = {}
    descs = []
    amd64 = None
    for (plat, arch, variant, name), layers in zip(plats, layer_sets):
        tars = [tar_bytes(l) for l in layers]
        cfg = make_config(tars, [(f"COPY {name} / # buildkit", False)], ["PATH=/usr/bin:/bin"], arch=arch, variant=variant)
        img = Image(layers, cfg)
        blobs.update(img.blobs)
        descs.append(img.desc(platform=plat))
        if amd64 is None:
            amd64 = img
        rows += secret_rows("multiarch.oci", name, layers, cfg)
    # buildx attestation manifest (in-toto SBOM statement) for the amd64 image.
    statement = jdump(
        {
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": "https://spdx.dev/Document",
            "subject": [{"name": "pkg:docker/layerleak/multiarch@latest?platform=linux%2Famd64",
                         "digest": {"sha256": amd64.manifest_digest.split(":")[1]}}],
            "predicate": {"spdxVersion": "SPDX-2.3", "name": "sbom", "packages": []},
        }
    )
    att_cfg = jdump(
        {
            "architecture": "unknown",
            "os": "unknown",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [sha(statement)]},
        }
    )
    att_manifest = jdump(
        {
            "schemaVersion": 2,
            "mediaType": MT_MANIFEST,
            "config": {"mediaType": MT_CONFIG, "digest": sha(att_cfg), "size": len(att_cfg)},
            "layers": [
                {
                    "mediaType": MT_INTOTO,
                    "digest": sha(statement),
                    "size": len(statement),
                    "annotations": {"in-toto.io/predicate-type": "https://spdx.dev/Document"},
                }
            ],
        }
    )
    for b in (statement, att_cfg, att_manifest):
        blobs[sha(b)] = b
    descs.append(
        {
            "mediaType": MT_MANIFEST,
            "digest": sha(att_manifest),
            "size": len(att_manifest),
            "platform": {"architecture": "unknown", "os": "unknown"},
            "annotations": {
                "vnd.docker.reference.digest": amd64.manifest_digest,
                "vnd.docker.reference.type": "attestation-manifest",
            },
        }
    )
    inner = jdump(index_of(descs))
    blobs[sha(inner)] = inner
    outer = index_of(
        [
            {
                "mediaType": MT_INDEX,
                "digest": sha(inner),
                "size": len(inner),
                "annotations": {"org.opencontainers.image.ref.name": "latest"},
            }
        ]
    )
    write_oci_layout(os.path.join(out, "multiarch.oci"), blobs, outer)


def multi_image(out, rows):
    slack = slack_webhook()
    jwt_b = jwt()
    base = [D("etc/"), F("etc/os-release", 'NAME="Layerleak Shared Base"\nID=llshared\n')]
    a_layers = [base, [D("app/"), F("app/notify.conf", f"webhook={slack}\n", [("slack-webhook", slack)])]]
    b_layers = [base, [D("srv/"), F("srv/session.jwt", jwt_b + "\n", [("jwt", jwt_b)])]]
    imgs = []
    for layers, tag, cmd in ((a_layers, "layerleak/multi-a:1", "notify"), (b_layers, "layerleak/multi-b:1", "serve")):
        tars = [tar_bytes(l) for l in layers]
        cfg = make_config(
            tars,
            [("ADD base.tar / # buildkit", False), (f"COPY {cmd} / # buildkit", False)],
            ["PATH=/usr/bin:/bin"],
        )
        imgs.append((Image(layers, cfg, compress=False), tag))
        rows += secret_rows("multi-image.tar", tag, layers, cfg)
    fresh(os.path.join(out, "multi-image.tar"))
    write_file(os.path.join(out, "multi-image.tar"), archive_tar(archive_members(imgs)))


def bad_fixtures(out, rows):
    bad = os.path.join(out, "bad")
    os.makedirs(bad, exist_ok=True)
    tag = "layerleak/victim:1"

    def intact_rows(fixture, layers, cfg, damaged=1):
        for r in secret_rows(fixture, tag, layers, cfg):
            assert not r["where"].startswith(f"layer {damaged} "), r
            rows.append(r)

    def meta_first(members, last):
        """Metadata first, the damaged blob last: a truncation then only cuts that blob."""
        head = [n for n in ("oci-layout", "index.json", "manifest.json") if n in members]
        blobs = sorted(n for n in members if n.startswith("blobs/") and n != last)
        return head + blobs + [last]

    # truncated.tar: cut in the middle of layer 1's blob (the last tar member).
    layers, cfg = victim_image()
    img = Image(layers, cfg)
    members = archive_members([(img, tag)])
    victim = "blobs/sha256/" + img.layer_digests[1].split(":")[1]
    full = archive_tar(members, meta_first(members, victim))
    blob = members[victim]
    start = full.index(blob)
    write_file(os.path.join(bad, "truncated.tar"), full[: start + len(blob) // 2])
    intact_rows("bad/truncated.tar", layers, cfg)

    # missing-blob.tar: layer 1's blob is not in the archive.
    layers, cfg = victim_image()
    img = Image(layers, cfg)
    members = archive_members([(img, tag)])
    del members["blobs/sha256/" + img.layer_digests[1].split(":")[1]]
    write_file(os.path.join(bad, "missing-blob.tar"), archive_tar(members))
    intact_rows("bad/missing-blob.tar", layers, cfg)

    # corrupt-gzip.tar: bytes flipped mid-deflate in layer 1; digests updated
    # to the corrupted blob so only decompression fails.
    layers, cfg = victim_image()
    img = Image(layers, cfg)
    good = img.blobs[img.layer_digests[1]]
    body_start, body_end = 10, len(good) - 8
    mid = (body_start + body_end) // 2
    for shift in range(0, (body_end - body_start) // 2):
        broken = bytearray(good)
        for o in range(mid + shift, min(mid + shift + 4, body_end)):
            broken[o] ^= 0xA5
        broken = bytes(broken)
        try:
            zlib.decompress(broken, 31)
        except zlib.error:
            break
    else:
        raise RuntimeError("could not corrupt deflate stream")
    _replace_layer_blob(img, 1, broken)
    write_file(os.path.join(bad, "corrupt-gzip.tar"), archive_tar(archive_members([(img, tag)])))
    intact_rows("bad/corrupt-gzip.tar", layers, cfg)

    # garbage-header.tar: layer 1's second tar header is random bytes; blob
    # digest and diff_id are those of the damaged tar.
    layers, cfg = victim_image()
    garbage = bytes(RNG.getrandbits(8) for _ in range(512))
    layers[1] = layers[1][:1] + [{"kind": "raw", "name": b"", "data": garbage, "secrets": []}] + layers[1][1:]
    img = Image(layers, cfg)
    write_file(os.path.join(bad, "garbage-header.tar"), archive_tar(archive_members([(img, tag)])))
    intact_rows("bad/garbage-header.tar", layers, cfg)

    # bad-json.tar: legacy layout (no index.json) whose manifest.json is not JSON.
    layers, cfg = victim_image()
    img = Image(layers, cfg)
    members = archive_members(
        [(img, tag)],
        with_index=False,
        with_layout=False,
        manifest_json=b'[{"Config":"blobs/sha256/' + img.config_digest.split(":")[1].encode() + b'","RepoTags":[',
    )
    write_file(os.path.join(bad, "bad-json.tar"), archive_tar(members))

    # missing-fields.oci: a manifest without `layers`.
    layers, cfg = victim_image()
    img = Image(layers, cfg)
    m = json.loads(img.manifest)
    del m["layers"]
    mb = jdump(m)
    blobs = {img.config_digest: img.config, sha(mb): mb}
    write_oci_layout(
        os.path.join(bad, "missing-fields.oci"),
        blobs,
        index_of([{"mediaType": MT_MANIFEST, "digest": sha(mb), "size": len(mb),
                   "annotations": {"org.opencontainers.image.ref.name": "1"}}]),
    )

    # digest-mismatch.tar: layer 1's blob replaced by other content; manifest
    # digest and diff_id still name the original.
    layers, cfg = victim_image()
    img = Image(layers, cfg)
    members = archive_members([(img, tag)])
    tampered = gz(tar_bytes([D("srv/"), F("srv/blob0.txt", filler("tampered"))]))
    members["blobs/sha256/" + img.layer_digests[1].split(":")[1]] = tampered
    write_file(os.path.join(bad, "digest-mismatch.tar"), archive_tar(members))
    intact_rows("bad/digest-mismatch.tar", layers, cfg)

    # traversal.tar.gz: one layer escaping the root with `..` and absolute names.
    gh = github_pat()
    aws_id, aws_sec = aws_key_id(), aws_secret()
    layer = [
        F("../../etc/passwd", f"root:x:0:0:{gh}:/root:/bin/sh\n", [("github-pat", gh)]),
        F(
            "/etc/shadow",
            f"AWS_ACCESS_KEY_ID={aws_id}\nAWS_SECRET_ACCESS_KEY={aws_sec}\n",
            [("aws-access-key-id", aws_id), ("aws-secret-access-key", aws_sec)],
        ),
    ]
    write_file(os.path.join(bad, "traversal.tar.gz"), gz(tar_bytes(layer)))
    rows += secret_rows("bad/traversal.tar.gz", None, [layer])


def _replace_layer_blob(img, i, blob):
    """Swap layer i's blob and rebuild manifest and its digest around it."""
    del img.blobs[img.layer_digests[i]]
    d = img.add(blob)
    img.layer_digests[i] = d
    m = json.loads(img.manifest)
    m["layers"][i]["digest"] = d
    m["layers"][i]["size"] = len(blob)
    del img.blobs[img.manifest_digest]
    img.manifest = jdump(m)
    img.manifest_digest = img.add(img.manifest)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rows = []

    # lifecycle: OCI layout, Docker 25+ archive, single layer in 3 compressions.
    layers, cfg = lifecycle_image()
    img = Image(layers, cfg)
    tag = "layerleak/lifecycle:v1"
    write_oci_layout(os.path.join(out, "lifecycle.oci"), img.blobs, index_of([img.desc({"org.opencontainers.image.ref.name": "v1"})]))
    write_file(os.path.join(out, "lifecycle-docker25.tar"), archive_tar(archive_members([(img, tag)])))
    for fx in ("lifecycle.oci", "lifecycle-docker25.tar", "lifecycle-legacy.tar"):
        rows += secret_rows(fx, tag, layers, cfg)
    # umoci.oci (made by make-fixtures.sh): umoci deletes one file and one
    # directory in a new top layer, tag `umoci`.
    umoci_layers = layers + [[WH("app/config/settings.json"), WH("var/lib/app")]]
    rows += secret_rows("umoci.oci", "umoci", umoci_layers, cfg)

    layer0 = img.tars[0]
    write_file(os.path.join(out, "lifecycle-layer.tar"), layer0)
    write_file(os.path.join(out, "lifecycle-layer.tar.gz"), gz(layer0))
    write_file(os.path.join(out, "lifecycle-layer.bin"), gz(layer0))
    single = ["lifecycle-layer.tar", "lifecycle-layer.tar.gz", "lifecycle-layer.bin"]
    zst = os.path.join(out, "lifecycle-layer.tar.zst")
    fresh(zst)
    if shutil.which("zstd"):
        data = subprocess.run(["zstd", "-q", "-19", "-c", "--no-progress"], input=layer0, capture_output=True, check=True).stdout
        write_file(zst, data)
        single.append("lifecycle-layer.tar.zst")
    else:
        print("zstd not found: lifecycle-layer.tar.zst skipped", file=sys.stderr)
    for fx in single:
        rows += secret_rows(fx, None, [layers[0]])

    # demo: the README image.
    dl, dc = demo_image()
    demo = Image(dl, dc)
    write_file(os.path.join(out, "demo.tar"), archive_tar(archive_members([(demo, "layerleak/demo:latest")])))
    rows += secret_rows("demo.tar", "layerleak/demo:latest", dl, dc)

    multiarch(out, rows)
    multi_image(out, rows)
    bad_fixtures(out, rows)

    # argleak: after every other fixture, so adding it changed none of their random values.
    al, ac = argleak_image()
    argleak = Image(al, ac)
    tag = "layerleak/argleak:v1"
    write_file(os.path.join(out, "argleak.tar"), archive_tar(archive_members([(argleak, tag)])))
    rows += secret_rows("argleak.tar", tag, al, ac)

    # hostile: after argleak, for the same reason.
    hl, hc = hostile_image()
    hostile = Image(hl, hc)
    tag = "layerleak/hostile:v1\x1b]0;owned\x07"
    write_file(os.path.join(out, "hostile.tar"), archive_tar(archive_members([(hostile, tag)])))
    rows += secret_rows("hostile.tar", tag, hl, hc)

    exp = os.path.join(out, "expected")
    os.makedirs(exp, exist_ok=True)
    write_file(os.path.join(exp, "lifecycle.json"), jdump_pretty(lifecycle_expected(layers)))
    write_file(os.path.join(exp, "umoci.json"), jdump_pretty(lifecycle_expected(umoci_layers)))
    write_file(os.path.join(exp, "demo.json"), jdump_pretty(lifecycle_expected(dl)))
    write_file(os.path.join(exp, "secrets.json"), jdump_pretty(rows))


if __name__ == "__main__":
    main()
