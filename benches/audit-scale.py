#!/usr/bin/env python3
"""An audit at scale: N tags of one base in a real registry, by distinct secret and per image.

Usage: python3 benches/audit-scale.py [--by-secret-only] [N ...]   (default: 200 2000)

For each N it builds an OCI image layout of N images in 5 repositories (N/5 tags each): one
shared base layer planting 30 synthetic secrets (`ADD rootfs.tar /`), one shared layer deleting
8 of them (`RUN rm ...`), and a small layer of each image's own (`COPY version.txt /app/`), every
50th of which plants a token of its own. It starts a `docker-registry` on 127.0.0.1, pushes every
image with `skopeo` (4 at a time), then runs the release `layerleak audit --cache none` under
`/usr/bin/time -v`: the table (by distinct secret, the default), the table per image
(`--group-by image`, what an audit printed before), and JSON both ways. It prints the line counts,
output sizes, wall times and peak RSS. `--by-secret-only` skips the per-image runs (at 10,000
images they take minutes and gigabytes).

Secrets come from testdata/gen.py's generators (format-valid, checksums included, seeded), so
two runs build the same images. Needs docker-registry, skopeo and /usr/bin/time (Debian packages
docker-registry, skopeo, time). Everything is written under target/audit-scale/ (or
$LAYERLEAK_BENCH_DIR/audit-scale/), outside git, and the registry's storage is removed at the end
unless KEEP=1.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ left in testdata/
sys.path.insert(0, os.path.join(ROOT, "testdata"))
import gen  # noqa: E402  (the fixtures' seeded, format-valid secret generators)

REPOS = 5
OWN_EVERY = 50


def put(layout, data):
    digest = gen.sha(data)
    path = os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1])
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
    return digest


def layer(layout, entries):
    raw = gen.tar_bytes(entries)
    blob = gen.gz(raw)
    return {"digest": put(layout, blob), "size": len(blob), "diff_id": gen.sha(raw)}


def base_layers(layout):
    """The base (30 secrets) and the cleanup layer deleting 8 of them."""
    files, hidden = [], []
    for i in range(6):
        files.append(gen.F(f"etc/ci/github-{i}.env", f"GITHUB_TOKEN={gen.github_pat()}\n"))
        files.append(gen.F(f"root/.npmrc-{i}", f"//registry.npmjs.org/:_authToken={gen.npm_token()}\n"))
    for i in range(4):
        creds = f"[p{i}]\naws_access_key_id = {gen.aws_key_id()}\naws_secret_access_key = {gen.aws_secret()}\n"
        files.append(gen.F(f"home/deploy/.aws/credentials-{i}", creds))
        files.append(gen.F(f"opt/pay/stripe-{i}.env", f"STRIPE_KEY={gen.stripe_key()}\n"))
        files.append(gen.F(f"opt/notify/slack-{i}.conf", f"webhook: {gen.slack_webhook()}\n"))
    for i in range(2):
        files.append(gen.F(f"root/.ssh/id_rsa_{i}", gen.rsa_private_key_pem() + "\n"))
    files.append(gen.F("etc/os-release", "ID=auditbase\n"))
    hidden = [f"root/.ssh/id_rsa_{i}" for i in range(2)] + [f"opt/pay/stripe-{i}.env" for i in range(4)]
    hidden += [f"opt/notify/slack-{i}.conf" for i in range(2)]
    return layer(layout, files), layer(layout, [gen.WH(p) for p in hidden])


def filler(seed, size):
    """`size` bytes of seeded hex lines: text for the detectors to read, with no secret in it."""
    lines, total, i = [], 0, 0
    while total < size:
        line = gen.sha(f"{seed}/{i}".encode()).split(":", 1)[1] + "\n"
        lines.append(line)
        total += len(line)
        i += 1
    return "".join(lines)[:size]


def build(layout, n, own_bytes=0):
    """Every image: its manifest digest and the `repo:tag` it is pushed to. `own_bytes` adds a
    file of that many bytes of text to each image's own layer (scanning work)."""
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    base, cleanup = base_layers(layout)
    entries, refs = [], []
    for i in range(n):
        repo, tag = f"audit/app{i % REPOS}", f"v{i // REPOS:04d}"
        files = [gen.F("app/version.txt", f"{repo}:{tag}\n")]
        if own_bytes:
            files.append(gen.F("app/data.txt", filler(i, own_bytes)))
        if i % OWN_EVERY == 0:
            files.append(gen.F("app/.env", f"DEPLOY_TOKEN={gen.github_pat()}\n"))
        top = layer(layout, files)
        layers = [base, cleanup, top]
        cfg = {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [l["diff_id"] for l in layers]},
            "history": [
                {"created_by": "ADD rootfs.tar / # buildkit"},
                {"created_by": "RUN /bin/sh -c rm -rf /root/.ssh /opt/pay /opt/notify/slack-[01].conf # buildkit"},
                {"created_by": "COPY version.txt /app/ # buildkit"},
            ],
        }
        cfg_bytes = json.dumps(cfg, sort_keys=True, separators=(",", ":")).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": gen.MT_MANIFEST,
            "config": {"mediaType": gen.MT_CONFIG, "digest": put(layout, cfg_bytes), "size": len(cfg_bytes)},
            "layers": [{"mediaType": gen.MT_TGZ, "digest": l["digest"], "size": l["size"]} for l in layers],
        }
        m = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
        name = f"img{i:05d}"
        entries.append({"mediaType": gen.MT_MANIFEST, "digest": put(layout, m), "size": len(m),
                        "annotations": {"org.opencontainers.image.ref.name": name}})
        refs.append((name, f"{repo}:{tag}"))
    index = {"schemaVersion": 2, "mediaType": gen.MT_INDEX, "manifests": entries}
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f, sort_keys=True, separators=(",", ":"))
    return refs


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_registry(work):
    port = free_port()
    storage = os.path.join(work, "storage")
    config = os.path.join(work, "registry.yml")
    with open(config, "w") as f:
        f.write(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {storage}\n"
            f"http:\n  addr: 127.0.0.1:{port}\n  secret: layerleak-bench\n"
        )
    log = open(os.path.join(work, "registry.log"), "w")
    proc = subprocess.Popen(["docker-registry", "serve", config], stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("docker-registry did not start; see " + log.name)


def push(layout, port, refs):
    def one(ref):
        name, dest = ref
        subprocess.run(
            ["skopeo", "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false",
             f"oci:{layout}:{name}", f"docker://127.0.0.1:{port}/{dest}"],
            check=True, stdin=subprocess.DEVNULL,
        )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, refs))


def timed(layerleak, out_path, args):
    """Runs layerleak under /usr/bin/time -v; (exit status, wall s, peak RSS MiB, lines, bytes)."""
    time_path = out_path + ".time"
    with open(out_path, "wb") as out:
        rc = subprocess.run(["/usr/bin/time", "-v", "-o", time_path, layerleak] + args, stdout=out,
                            stderr=subprocess.DEVNULL).returncode
    stats = {}
    with open(time_path) as f:
        for line in f:
            key, _, value = line.strip().rpartition(": ")
            stats[key] = value
    wall = 0.0
    for part in stats.get("Elapsed (wall clock) time (h:mm:ss or m:ss)", "0").split(":"):
        wall = wall * 60 + float(part)
    rss = int(stats.get("Maximum resident set size (kbytes)", "0")) / 1024
    with open(out_path, "rb") as f:
        data = f.read()
    return rc, wall, rss, data.count(b"\n"), len(data)


def main():
    args = sys.argv[1:]
    by_secret_only = "--by-secret-only" in args
    sizes = [int(a) for a in args if a != "--by-secret-only"] or [200, 2000]
    for tool in ("docker-registry", "skopeo", "/usr/bin/time"):
        if not shutil.which(tool):
            sys.exit(f"needs {tool} (apt-get install -y docker-registry skopeo time)")
    print("building the release binary", file=sys.stderr)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "layerleak-cli"], cwd=ROOT, check=True)
    meta = json.loads(subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT,
                                     check=True, capture_output=True).stdout)
    layerleak = os.path.join(meta["target_directory"], "release", "layerleak")
    base_dir = os.environ.get("LAYERLEAK_BENCH_DIR") or os.path.join(meta["target_directory"])
    rows = []
    for n in sizes:
        work = os.path.join(base_dir, "audit-scale", str(n))
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        layout = os.path.join(work, "layout")
        t0 = time.time()
        refs = build(layout, n)
        proc, port = start_registry(work)
        try:
            push(layout, port, refs)
            print(f"{n} images built and pushed in {time.time() - t0:.0f} s", file=sys.stderr)
            url = f"http://127.0.0.1:{port}"
            runs = [
                ("table, by secret", ["audit", url, "--cache", "none", "--no-progress"]),
                ("table, per image", ["audit", url, "--cache", "none", "--no-progress", "--group-by", "image"]),
                ("json, by secret", ["audit", url, "--cache", "none", "--no-progress", "-f", "json"]),
                ("json, per image", ["audit", url, "--cache", "none", "--no-progress", "-f", "json",
                                     "--group-by", "image"]),
            ]
            for what, args in runs:
                if by_secret_only and "per image" in what:
                    continue
                out = os.path.join(work, what.replace(", ", "-").replace(" ", "-") + ".out")
                rows.append((n, what) + timed(layerleak, out, args))
        finally:
            proc.kill()
            proc.wait()
            if os.environ.get("KEEP") != "1":
                shutil.rmtree(work, ignore_errors=True)
    print(f"{'images':>6}  {'output':<17}  {'exit':>4}  {'wall s':>7}  {'peak RSS MiB':>12}  {'lines':>7}  {'bytes':>10}")
    for n, what, rc, wall, rss, lines, size in rows:
        print(f"{n:>6}  {what:<17}  {rc:>4}  {wall:>7.1f}  {rss:>12.1f}  {lines:>7}  {size:>10}")


if __name__ == "__main__":
    main()
