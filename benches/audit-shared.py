#!/usr/bin/env python3
"""A shared audit: 1, 2 and 3 `layerleak audit --cache postgres://…` processes on one registry,
and the PostgreSQL store against the SQLite file for one process.

Usage: python3 benches/audit-shared.py [N [KIB]]   (default: 200 images, no filler)

Builds the registry of benches/audit-scale.py (N tags of one base in 5 repositories: N + 2
distinct layers; KIB adds that many KiB of text to each image's own layer, so that scanning,
not listing, dominates), starts a `docker-registry` and a throwaway PostgreSQL server (`initdb` and
`pg_ctl` from /usr/lib/postgresql/*/bin on a free loopback port, as the `postgres` user when run
as root), then times, each on a fresh database or file:

- k = 1, 2, 3 processes started together with `--cache postgres://…` (each `-j 1`, as one core
  per machine would be): wall time until the last exits, CPU time of all of them, the layers
  each says it scanned, and
  whether their JSON reports are identical once timings and per-process counters are removed;
- one process with a fresh SQLite file, then the same with PostgreSQL again, both cold (every
  layer scanned) and warm (a second run: every layer from the store).

LAYERLEAK_BIN names the binary (default: the release build, built first). Everything is written
under target/audit-shared/ (or $LAYERLEAK_BENCH_DIR/audit-shared/) and removed at the end unless
KEEP=1.
"""

import glob
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
spec = importlib.util.spec_from_file_location("audit_scale", os.path.join(ROOT, "benches", "audit-scale.py"))
scale = importlib.util.module_from_spec(spec)
spec.loader.exec_module(scale)

PER_PROCESS = ("seconds", "layers_scanned", "layers_cached", "layers_reused", "files", "bytes_compressed",
               "bytes_uncompressed")


def as_server_user(cmd):
    return ["runuser", "-u", "postgres", "--"] + cmd if os.geteuid() == 0 else cmd


def start_postgres(work):
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not bins:
        sys.exit("needs PostgreSQL (apt-get install -y postgresql)")
    bin_dir, pg = bins[-1], os.path.join(work, "pg")
    os.makedirs(pg)
    if os.geteuid() == 0:
        shutil.chown(pg, "postgres")
    subprocess.run(as_server_user([f"{bin_dir}/initdb", "-U", "layerleak", "--auth=trust", "--no-sync", "-D",
                                   f"{pg}/data"]), check=True, capture_output=True)
    port = scale.free_port()
    opts = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off"
    subprocess.run(as_server_user([f"{bin_dir}/pg_ctl", "-w", "-o", opts, "-l", f"{pg}/log", "-D", f"{pg}/data",
                                   "start"]), check=True, capture_output=True)
    stop = as_server_user([f"{bin_dir}/pg_ctl", "-m", "immediate", "-D", f"{pg}/data", "stop"])
    psql = as_server_user([f"{bin_dir}/psql", "-q", "-h", "127.0.0.1", "-p", str(port), "-U", "layerleak",
                           "-d", "postgres", "-c"])
    return port, stop, psql


def shared_part(path):
    with open(path) as f:
        report = json.load(f)
    for key in PER_PROCESS:
        report.get("stats", {}).pop(key, None)
        report.get("summary", {}).pop(key, None)
    return json.dumps(report, sort_keys=True)


def run_together(layerleak, url, cache, k, work, tag):
    procs = []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.time()
    for i in range(k):
        out = os.path.join(work, f"{tag}-{i}.json")
        args = [layerleak, "audit", url, "--cache", cache, "-f", "json", "-o", out, "-j", "1", "--no-progress"]
        procs.append((subprocess.Popen(args, stderr=subprocess.PIPE, text=True), out))
    scanned, outs = [], []
    for p, out in procs:
        _, err = p.communicate()
        if p.returncode not in (0, 1):
            sys.exit(f"audit exited {p.returncode}: {err}")
        said = err.split("this process scanned ")
        scanned.append(int(said[1].split(" ")[0]) if len(said) > 1 else None)
        outs.append(shared_part(out))
    wall = time.time() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu, scanned, len(set(outs)) == 1, outs[0]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    kib = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    for tool in ("docker-registry", "skopeo"):
        if not shutil.which(tool):
            sys.exit(f"needs {tool} (apt-get install -y docker-registry skopeo)")
    meta = json.loads(subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT,
                                     check=True, capture_output=True).stdout)
    layerleak = os.environ.get("LAYERLEAK_BIN")
    if not layerleak:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "layerleak-cli"], cwd=ROOT, check=True)
        layerleak = os.path.join(meta["target_directory"], "release", "layerleak")
    work = os.path.join(os.environ.get("LAYERLEAK_BENCH_DIR") or meta["target_directory"], "audit-shared")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    registry = None
    stop = None
    try:
        refs = scale.build(os.path.join(work, "layout"), n, kib << 10)
        registry, port = scale.start_registry(work)
        scale.push(os.path.join(work, "layout"), port, refs)
        url = f"http://127.0.0.1:{port}"
        pg_port, stop, psql = start_postgres(work)
        rows = []
        reports = set()
        for k in (1, 2, 3):
            subprocess.run(psql + [f"CREATE DATABASE k{k}"], check=True)
            db = f"postgres://layerleak@127.0.0.1:{pg_port}/k{k}"
            wall, cpu, scanned, same, report = run_together(layerleak, url, db, k, work, f"k{k}")
            reports.add(report)
            rows.append((f"{k} process(es), PostgreSQL, cold", wall, cpu, scanned, same))
            if k == 1:
                wall, cpu, scanned, same, _ = run_together(layerleak, url, db, 1, work, "k1-warm")
                rows.append(("1 process, PostgreSQL, warm", wall, cpu, scanned, same))
        sqlite = os.path.join(work, "cache.sqlite")
        for what in ("cold", "warm"):
            wall, cpu, _, same, report = run_together(layerleak, url, sqlite, 1, work, f"sqlite-{what}")
            reports.add(report)
            rows.append((f"1 process, SQLite, {what}", wall, cpu, ["-"], same))
        print(f"{n} images, {n + 2} distinct layers, {kib} KiB of text in each image's own layer")
        print(f"{'run':<32}  {'wall s':>7}  {'CPU s':>7}  layers scanned per process")
        for what, wall, cpu, scanned, same in rows:
            print(f"{what:<32}  {wall:>7.1f}  {cpu:>7.1f}  {' + '.join(str(s) for s in scanned)}"
                  f"{'' if same else '  (reports differ!)'}")
        print("every report the same:", len(reports) == 1)
    finally:
        if stop:
            subprocess.run(stop, capture_output=True)
        if registry:
            registry.kill()
            registry.wait()
        if os.environ.get("KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
