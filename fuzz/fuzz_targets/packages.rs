//! Package databases: arbitrary bytes become the contents of the database files of one layer
//! (dpkg status, an md5sums, apk installed, a Python RECORD, an rpm SQLite database), beside
//! files holding a secret at paths those databases may list, and the layer is scanned with
//! package triage and `include_packaged`.
//!
//! Invariants: no panic; every finding is listed (none dropped by the triage when packaged
//! findings are included); packaged findings are counted exactly as the listed ones marked; the
//! report serializes.
#![no_main]

use std::sync::OnceLock;

use layerleak::scan::{NullSink, Scanner, ScannerBuilder};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

const DBS: [&str; 6] = [
    "var/lib/dpkg/status",
    "var/lib/dpkg/info/pkg:amd64.md5sums",
    "var/lib/dpkg/status.d/pkg",
    "lib/apk/db/installed",
    "usr/lib/python3/site-packages/pkg-1.0.dist-info/RECORD",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
];

/// A synthetic, checksummed token the detector finds, so findings exist to classify.
const TOKEN: &[u8] = b"token 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\n";

fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(|| {
        let mut limits = common::small_limits();
        limits.max_package_db_bytes = 64 << 10;
        ScannerBuilder::new().threads(1).include_packaged(true).limits(limits).build().expect("scanner")
    })
}

fn add(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    let _ = b.append_data(&mut h, path, data);
}

fuzz_target!(|data: &[u8]| {
    let mut b = tar::Builder::new(Vec::new());
    // A zero byte separates the database contents; the first byte of each picks its path.
    for part in data.split(|x| *x == 0) {
        let Some((sel, body)) = part.split_first() else { continue };
        add(&mut b, DBS[*sel as usize % DBS.len()], body);
    }
    for path in ["usr/a", "lib/a", "usr/lib/python3/site-packages/pkg/a.py", "etc/a"] {
        add(&mut b, path, TOKEN);
    }
    let Ok(layer) = b.into_inner() else { return };
    let Ok(r) = scanner().scan_reader("fuzz", &mut &layer[..], &mut NullSink);
    let marked = r.findings.iter().filter(|f| f.package.is_some()).count();
    assert_eq!(r.stats.findings_packaged, marked, "packaged findings are all listed when included");
    assert!(serde_json::to_string(&r).is_ok());
});
