#!/usr/bin/env python3
"""Prints crates/layerleak/src/detect/byte_freq.rs, the byte-frequency table.

Usage: python3 benches/byte-freq.py [--limit BYTES] DIR [DIR ...] > crates/layerleak/src/detect/byte_freq.rs

Counts every byte of the regular files under each DIR (sorted walk, symlinks
not followed, stopping at --limit bytes per DIR, default 150 MB), folding ASCII
upper case onto lower case as the keyword search does, and prints the table as
Rust: frequencies in parts per million, at least 1. The committed table came
from `python3 benches/byte-freq.py /usr/share /usr/lib` on a Debian system: a
mix of text (documentation, scripts, locale data) and binaries (shared
objects), the bytes a container layer is made of.
"""

import argparse
import os
import sys


HEADER = """\
//! Estimated frequency of each byte value in container layer files, ASCII upper case folded onto
//! lower case: what the keyword filter uses to pick each keyword's rarest four bytes and to spread
//! them over its buckets. Printed by `benches/byte-freq.py` from {total} bytes of real files (see
//! there how); a rough estimate is all the filter needs, its results never depend on it.

/// Parts per million of input bytes, indexed by byte value (upper-case letters hold 1: folded).
#[rustfmt::skip]
"""


def files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if os.path.isfile(path) and not os.path.islink(path):
                yield path


def samples(dirs, limit, per_file=None):
    """The first bytes of each regular file under each of `dirs`, in sorted order, up to `limit`
    bytes per directory (and `per_file` per file when given). Shared with gram-freq.py."""
    for root in dirs:
        taken = 0
        for path in files(root):
            if taken >= limit:
                break
            want = limit - taken if per_file is None else min(per_file, limit - taken)
            try:
                with open(path, "rb") as f:
                    data = f.read(want)
            except OSError:
                continue
            taken += len(data)
            yield data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=150_000_000)
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args()
    counts = [0] * 256
    total = 0
    for data in samples(args.dirs, args.limit):
        total += len(data)
        for b in range(256):
            counts[b] += data.count(bytes([b]))
    for b in range(ord("A"), ord("Z") + 1):
        counts[b + 32] += counts[b]
        counts[b] = 0
    ppm = [max(1, round(c * 1_000_000 / max(total, 1))) for c in counts]
    print(HEADER.format(total=total), end="")
    print("pub(super) const BYTE_FREQ: [u32; 256] = [")
    for row in range(0, 256, 16):
        print("    " + ", ".join(str(v) for v in ppm[row : row + 16]) + ",")
    print("];")


if __name__ == "__main__":
    sys.exit(main())
