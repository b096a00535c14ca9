#!/usr/bin/env python3
"""Scan a container image through the layerleak C ABI with ctypes and print its findings.

    LAYERLEAK_LIB=target/debug/liblayerleak_ffi.so python3 examples/python/scan.py IMAGE
    python3 examples/python/scan.py --lib target/debug/liblayerleak_ffi.so IMAGE

Prints one line per finding: rule, status, where it was introduced, path, and which layer hid
it. Exit status: 0 no findings, 1 findings, 2 error (as the layerleak CLI).
"""

import argparse
import ctypes
import json
import os
import sys

# Status codes from layerleak.h.
LAYERLEAK_OK = 0
LAYERLEAK_PARTIAL = 1
LAYERLEAK_STOPPED = 2

# int (*)(const char *finding_json, void *user_data)
FINDING_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)


def load(path):
    lib = ctypes.CDLL(path)
    lib.layerleak_scanner_new.restype = ctypes.c_void_p
    lib.layerleak_scanner_new.argtypes = []
    lib.layerleak_scanner_free.restype = None
    lib.layerleak_scanner_free.argtypes = [ctypes.c_void_p]
    lib.layerleak_scan_path.restype = ctypes.c_int
    lib.layerleak_scan_path.argtypes = [ctypes.c_void_p, ctypes.c_char_p, FINDING_CALLBACK, ctypes.c_void_p]
    lib.layerleak_last_error.restype = ctypes.c_char_p
    lib.layerleak_last_error.argtypes = []
    lib.layerleak_version.restype = ctypes.c_char_p
    lib.layerleak_version.argtypes = []
    return lib


def describe(finding):
    """One line: rule, status, introducing layer (or config), path, hiding layer."""
    layer = finding.get("introduced_in")
    where = "layer %d" % layer["index"] if layer else "config"
    line = "%s %s %s %s" % (finding["rule"], finding["status"], where, finding["location"]["path"])
    hidden = finding.get("hidden_in")
    if hidden:
        line += " hidden by layer %d (%s)" % (hidden["index"], hidden["how"])
    return line


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", default=os.environ.get("LAYERLEAK_LIB"),
                        help="path of liblayerleak_ffi.so (default: $LAYERLEAK_LIB)")
    parser.add_argument("image", help="docker-save archive, OCI layout directory or layer tarball")
    args = parser.parse_args()
    if not args.lib:
        parser.error("give the library with --lib or LAYERLEAK_LIB")

    lib = load(args.lib)
    findings = []

    def on_finding(finding_json, _user_data):
        # The string is only valid during the call; json.loads copies what we keep.
        findings.append(json.loads(finding_json.decode("utf-8")))
        return 0

    callback = FINDING_CALLBACK(on_finding)  # kept alive for the whole scan
    scanner = lib.layerleak_scanner_new()
    if not scanner:
        print("scan.py: cannot create a scanner", file=sys.stderr)
        return 2
    try:
        status = lib.layerleak_scan_path(scanner, os.fsencode(args.image), callback, None)
        error = lib.layerleak_last_error()
    finally:
        lib.layerleak_scanner_free(scanner)

    for finding in findings:
        print(describe(finding))
    version = lib.layerleak_version().decode()
    print("layerleak %s: %d finding(s)" % (version, len(findings)))
    if status not in (LAYERLEAK_OK, LAYERLEAK_STOPPED):
        message = error.decode("utf-8", "replace") if error else "unknown error"
        print("scan.py: %s: %s" % (args.image, message), file=sys.stderr)
        return 2
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
