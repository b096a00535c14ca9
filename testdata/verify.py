#!/usr/bin/env python3
"""Cross-check the committed fixtures against expected/*.json.

Usage: python3 testdata/verify.py [FIXTURE_DIR]   (default: testdata/fixtures)

Reads the fixtures with Python's own tarfile/gzip readers (not gen.py's
writer), and checks that:
  - every row of secrets.json is found at the place it names (layer + path,
    config.Env[i], history[i].created_by), and that token checksums are valid;
  - every `present` version of lifecycle.json and umoci.json is exactly what
    `umoci unpack` shows in the final root filesystem, and no `deleted` or
    `shadowed` version is visible there (skipped when umoci is missing).
Exits non-zero on the first mismatch.
"""

import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zlib

# The path model (name clamping and display) is gen.py's; the archives themselves are read with
# Python's own tarfile/gzip, never with gen.py's writer.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen import display, normalize  # noqa: E402

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def fail(msg):
    sys.exit("verify: " + msg)




def decompress(blob):
    if blob[:2] == b"\x1f\x8b":
        return gzip.decompress(blob)
    if blob[:4] == b"\x28\xb5\x2f\xfd":
        return subprocess.run(["zstd", "-dc"], input=blob, capture_output=True, check=True).stdout
    return blob


def layer_files(blob):
    """{display path: content} of one layer; hardlinks resolve to their target."""
    files = {}
    with tarfile.open(fileobj=io.BytesIO(decompress(blob)), mode="r:", encoding="utf-8",
                      errors="surrogateescape") as t:
        for m in t:
            p = display(normalize(m.name.encode("utf-8", "surrogateescape")))
            if m.isfile():
                files.setdefault(p, []).append(t.extractfile(m).read())
            elif m.islnk():
                target = display(normalize(m.linkname.encode("utf-8", "surrogateescape")))
                files.setdefault(p, []).append(files[target][-1])
    return files


class Source:
    """Blobs of an OCI layout directory or of an archive."""

    def __init__(self, path):
        self.path = path
        self.members = None
        if os.path.isfile(path):
            self.members = {}
            # A damaged archive (truncated.tar) keeps the members read before the damage.
            try:
                with tarfile.open(path) as t:
                    for m in t:
                        if m.isfile():
                            self.members[m.name] = t.extractfile(m).read()
            except (tarfile.TarError, EOFError):
                pass

    def read(self, name):
        if self.members is not None:
            return self.members[name]
        with open(os.path.join(self.path, name), "rb") as f:
            return f.read()

    def blob(self, digest):
        return self.read("blobs/sha256/" + digest.split(":")[1])


def oci_images(src, ref_hint):
    """Yield (name, config, [layer blobs]) for every image manifest reachable from index.json."""
    def walk(index, tag):
        for d in index["manifests"]:
            t = d.get("annotations", {}).get("org.opencontainers.image.ref.name", tag)
            doc = json.loads(src.blob(d["digest"]))
            if d["mediaType"].endswith("index.v1+json"):
                yield from walk(doc, t)
                continue
            plat = d.get("platform")
            name = t
            if plat:
                name = "/".join(x for x in (plat["os"], plat["architecture"], plat.get("variant")) if x)
            cfg = json.loads(src.blob(doc["config"]["digest"]))
            yield name, cfg, [l["digest"] for l in doc.get("layers", [])]

    yield from walk(json.loads(src.read("index.json")), ref_hint)


def docker_images(src):
    for m in json.loads(src.read("manifest.json")):
        cfg = json.loads(src.read(m["Config"]))
        for tag in m["RepoTags"]:
            yield tag.removeprefix("docker.io/"), cfg, m["Layers"]


def check_token(rule, secret):
    if rule in ("github-pat", "npm-access-token"):
        body, chk = secret[4:34], secret[34:]
        n = zlib.crc32(body.encode())
        enc = ""
        while n:
            n, r = divmod(n, 62)
            enc = BASE62[r] + enc
        if enc.rjust(6, "0") != chk or len(secret) != 40:
            fail(f"bad checksum in {secret}")


def check_secrets(fx, rows):
    by_fixture = {}
    for r in rows:
        by_fixture.setdefault(r["fixture"], []).append(r)
    for fixture, rs in sorted(by_fixture.items()):
        path = os.path.join(fx, fixture)
        if not os.path.exists(path):
            fail(f"{fixture}: missing")
        images = {}
        if fixture.startswith("lifecycle-layer") or fixture.endswith("traversal.tar.gz"):
            with open(path, "rb") as f:
                images[None] = (None, [f.read()])
        else:
            src = Source(path)
            if src.members is not None:
                gen, get = docker_images(src), src.read
            else:
                gen, get = oci_images(src, None), src.blob
            for name, cfg, layers in gen:
                if fixture == "umoci.oci" and name != "umoci":
                    continue
                blobs = []
                for l in layers:
                    try:
                        blobs.append(get(l))
                    except (KeyError, OSError):
                        blobs.append(None)
                images[name] = (cfg, blobs)
        for r in rs:
            check_token(r["rule"], r["secret"])
            if r["image"] in images:
                cfg, blobs = images[r["image"]]
            elif len(images) == 1:
                (cfg, blobs), = images.values()
            else:
                fail(f"{fixture}: image {r['image']} not found")
            w = r["where"]
            if w.startswith("layer "):
                n, p = w[6:].split(" ", 1)
                files = layer_files(blobs[int(n)])
                contents = files.get(p[1:], [])
                if not any(r["secret"].encode() in c for c in contents):
                    fail(f"{fixture}: {r['secret']} not in {w}")
            elif w.startswith("config.Env["):
                i = int(w[len("config.Env[") : -1])
                if r["secret"] not in cfg["config"]["Env"][i]:
                    fail(f"{fixture}: {r['secret']} not in {w}")
            elif w.startswith("config.Labels["):
                key = w[len("config.Labels[") : -1]
                if r["secret"] not in cfg["config"]["Labels"][key]:
                    fail(f"{fixture}: {r['secret']} not in {w}")
            elif w.startswith("history["):
                i = int(w[len("history[") : w.index("]")])
                if r["secret"] not in cfg["history"][i]["created_by"]:
                    fail(f"{fixture}: {r['secret']} not in {w}")
            else:
                fail(f"{fixture}: unknown where {w}")
        print(f"ok  secrets  {fixture}: {len(rs)}")


def check_lifecycle(fx, expected_name, tag):
    if not shutil.which("umoci"):
        print("skip lifecycle cross-check: umoci not installed")
        return
    layout = os.path.join(fx, "umoci.oci")
    src = Source(layout)
    imgs = {n: l for n, _, l in oci_images(src, None)}
    layers = [layer_files(src.blob(d)) for d in imgs[tag]]
    with open(os.path.join(fx, "expected", expected_name)) as f:
        versions = json.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "img")
        shutil.copytree(layout, copy)
        bundle = os.path.join(tmp, "bundle")
        subprocess.run(["umoci", "unpack", "--rootless", "--image", f"{copy}:{tag}", bundle],
                       check=True, capture_output=True)
        rootfs = os.fsencode(os.path.join(bundle, "rootfs"))
        seen = {}
        for v in versions:
            k = (v["layer"], v["path"])
            idx = seen.get(k, 0)
            seen[k] = idx + 1
            content = layers[v["layer"]][v["path"]][idx]
            raw = v["path"].encode().decode("unicode_escape").encode("latin-1")
            on_disk = os.path.join(rootfs, raw)
            visible = False
            if os.path.isfile(on_disk) and not os.path.islink(on_disk):
                with open(on_disk, "rb") as f:
                    visible = f.read() == content
            if visible != (v["status"] == "present"):
                fail(f"{expected_name}: {v} but visible={visible}")
    print(f"ok  versions {expected_name}: {len(versions)} (matches umoci unpack of :{tag})")


def main():
    fx = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
    with open(os.path.join(fx, "expected", "secrets.json")) as f:
        rows = json.load(f)
    check_secrets(fx, rows)
    check_lifecycle(fx, "lifecycle.json", "v1")
    check_lifecycle(fx, "umoci.json", "umoci")


if __name__ == "__main__":
    main()
