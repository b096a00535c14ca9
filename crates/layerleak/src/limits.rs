//! Every bound the scanner enforces, in one place. Hitting one is a reported
//! [`crate::Error::Limit`] on the item concerned, never a crash and never the end of the scan,
//! except the opt-in [`Limits::max_file_bytes`], which only notes what it skipped ([`Skipped`]).

use std::fmt;

use crate::At;

/// Bounds on untrusted input. Defaults are sized for real images on a machine with a few GB of
/// memory; raise them for unusual images, lower them for hostile ones.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Limits {
    /// Largest JSON document (manifest, index, config) read into memory. Default 16 MiB: real
    /// configs are kilobytes; a larger one is refused before it is read.
    pub max_json_bytes: u64,
    /// Deepest JSON nesting accepted. Default 128 (serde_json's own recursion limit).
    pub max_json_depth: usize,
    /// Decompressed bytes read from one layer before it is cut short. Default 64 GiB: a gzip
    /// bomb stops here.
    pub max_layer_bytes: u64,
    /// Decompressed bytes of a gzip or zstd `docker save` archive, written to an anonymous
    /// temporary file so it can be indexed and its layers read in parallel. Default 256 GiB: the
    /// temporary disk a gzip bomb can claim.
    pub max_archive_bytes: u64,
    /// Bytes scanned in one file; the rest is skipped (never read into memory) and listed as a
    /// [`Skipped`] note, not an error. Default `u64::MAX`: every byte, since a file streams
    /// through a fixed window whatever its size. Lower it to trade coverage for time.
    pub max_file_bytes: u64,
    /// Largest GNU long-name / long-link or PAX extended header entry, which the tar reader keeps
    /// in memory. Default 1 MiB.
    pub max_header_bytes: u64,
    /// Longest path kept for an entry. Default 64 KiB; longer ones are truncated and reported.
    pub max_path_bytes: usize,
    /// Entries walked in one layer. Default 5,000,000.
    pub max_entries_per_layer: u64,
    /// Layers in one image. Default 1,000 (Docker's own limit is 127 for overlay2).
    pub max_layers: usize,
    /// Archives inside archives inside a layer file (`app.jar!lib/x.jar!…`). Default 3. 0 opens
    /// no archive: every file is scanned as the bytes it is.
    pub max_nesting_depth: usize,
    /// Decompressed bytes read from one nested archive member chain. Default 256 MiB.
    pub max_nested_bytes: u64,
    /// Findings kept per image; more are counted, not kept. Default 100,000.
    pub max_findings: usize,
    /// Largest package database file (dpkg `status`, an `.md5sums`, apk `installed`, a Python
    /// `RECORD`) kept in memory to be parsed. Default 64 MiB: a full Debian system's `status` is
    /// a few MB. A larger one is not used (a note says so) and its files stay unclassified.
    pub max_package_db_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_json_bytes: 16 << 20,
            max_json_depth: 128,
            max_layer_bytes: 64 << 30,
            max_archive_bytes: 256 << 30,
            max_file_bytes: u64::MAX,
            max_header_bytes: 1 << 20,
            max_path_bytes: 64 << 10,
            max_entries_per_layer: 5_000_000,
            max_layers: 1000,
            max_nesting_depth: 3,
            max_nested_bytes: 256 << 20,
            max_findings: 100_000,
            max_package_db_bytes: 64 << 20,
        }
    }
}

/// The end of a file left unscanned because [`Limits::max_file_bytes`] was set: a choice the
/// caller made, reported as a note, not an error.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Skipped {
    /// The file: image, layer and path (`outer!member` inside archives).
    pub at: At,
    /// Bytes scanned: the file's first `scanned` bytes.
    pub scanned: u64,
    /// Bytes left unscanned, when the file's size is known (not inside compressed archives).
    pub skipped: Option<u64>,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: scanned only the first {} bytes (max_file_bytes)", self.at, self.scanned)?;
        match self.skipped {
            Some(n) => write!(f, ", {n} bytes not scanned"),
            None => f.write_str(", the rest not scanned"),
        }
    }
}
