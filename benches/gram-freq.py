#!/usr/bin/env python3
"""Prints crates/layerleak/src/detect/gram_freq.rs, the table of common four-byte windows.

Usage: python3 benches/gram-freq.py [--limit BYTES] [--per-file BYTES] [--top N] DIR [DIR ...] \
    > crates/layerleak/src/detect/gram_freq.rs

Counts every four-byte window of the regular files under each DIR (sorted walk, symlinks not
followed, at most --per-file bytes from the start of each file so that no single large file
dominates, stopping at --limit bytes per DIR), folding ASCII upper case onto lower case as the
keyword search does, and prints the --top most frequent windows made only of printable ASCII
(what keyword anchors are made of) as Rust, sorted by bytes, with their frequency in parts per
ten million windows. The committed table came from `python3 benches/gram-freq.py /usr/share
/usr/lib` on a Debian system, the same mix of text and binaries as `byte-freq.py`.
"""

import argparse
import collections
import importlib.util
import os
import sys

# The directory walk and sampling of byte-freq.py, loaded from its file (its name has a dash).
_spec = importlib.util.spec_from_file_location("byte_freq", os.path.join(os.path.dirname(__file__), "byte-freq.py"))
BYTE_FREQ = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(BYTE_FREQ)


HEADER = """\
//! The most common four-byte windows of container layer files, ASCII upper case folded onto lower
//! case: what the keyword filter uses to anchor each keyword by a window that real files rarely
//! hold (`form`, `clou` and `data` are common in text even though their bytes alone are not).
//! Printed by `benches/gram-freq.py` from {total} bytes of real files (see there how); a rough
//! estimate is all the filter needs, its results never depend on it.

/// The {top} most frequent windows made of printable ASCII, sorted by bytes, each with its
/// frequency in parts per ten million windows. A window not listed is rarer than every listed one.
#[rustfmt::skip]
"""


def literal(gram):
    out = []
    for b in gram:
        c = chr(b)
        out.append("\\" + c if c in "\\\"" else c)
    return 'b"' + "".join(out) + '"'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=40_000_000)
    ap.add_argument("--per-file", type=int, default=64 * 1024)
    ap.add_argument("--top", type=int, default=4096)
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args()
    counts = collections.Counter()
    total = 0
    for data in BYTE_FREQ.samples(args.dirs, args.limit, args.per_file):
        data = data.lower()
        total += len(data)
        counts.update(data[i : i + 4] for i in range(len(data) - 3))
    printable = [(g, c) for g, c in counts.items() if all(0x20 <= b < 0x7F for b in g)]
    printable.sort(key=lambda gc: (-gc[1], gc[0]))
    top = sorted(printable[: args.top])
    print(HEADER.format(total=total, top=len(top)), end="")
    print(f"pub(super) static GRAM_FREQ: [([u8; 4], u32); {len(top)}] = [")
    for row in range(0, len(top), 6):
        cells = [f"(*{literal(g)}, {max(1, round(c * 10_000_000 / max(total, 1)))})" for g, c in top[row : row + 6]]
        print("    " + ", ".join(cells) + ",")
    print("];")


if __name__ == "__main__":
    sys.exit(main())
