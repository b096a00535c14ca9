#![warn(missing_docs)]
//! layerleak finds secrets in container images, including the ones a later layer deleted.
//!
//! A container image is a stack of tar layers. Deleting a file in a later layer (`RUN rm key`)
//! only adds a whiteout that hides it: the bytes still ship in the lower layer and anyone who can
//! pull the image can read them. layerleak streams every layer once (never extracting to disk,
//! never holding a layer or file in memory), runs its rules over every file version and the image
//! config, and tells for each secret which layer introduced it, which layer hid it and how
//! (whiteout, opaque directory, overwrite), and whether it is still visible in the final
//! filesystem. Secrets are redacted unless asked for.
//!
//! # Example
//!
//! Scan the demo image, whose layer 1 copies in an SSH private key that layer 2 deletes:
//!
//! ```
//! use std::ops::ControlFlow;
//! use layerleak::layer::{HiddenHow, Status};
//! use layerleak::report::Finding;
//! use layerleak::scan::ScannerBuilder;
//!
//! // Immutable and `Send + Sync`: build once, share between threads, reuse for every scan.
//! let scanner = ScannerBuilder::new().build()?;
//! let image = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/fixtures/demo.tar");
//!
//! // Collected: the whole report (images, layers with verified digests, findings, errors).
//! let report = scanner.scan_path(image);
//! assert!(report.errors.is_empty());
//! let key = report.findings.iter().find(|f| f.rule == "private-key").expect("the deleted key");
//! assert_eq!(key.location.path, "root/.ssh/id_rsa");
//! assert_eq!(key.introduced_in.as_ref().map(|l| l.index), Some(1));
//! let hidden = key.hidden_in.as_ref().expect("hidden by a later layer");
//! assert_eq!((hidden.layer.index, hidden.how), (2, HiddenHow::Whiteout));
//! assert_eq!(key.status, Status::Deleted);
//! assert!(!key.visible); // gone from the final filesystem, still in layer 1
//! assert!(key.secret.is_none()); // redacted unless the builder says `keep_secrets(true)`
//!
//! // Pushed: each finding goes to a sink as soon as its image is resolved;
//! // `ControlFlow::Break(())` ends the scan early.
//! let mut hidden_secrets = Vec::new();
//! let mut sink = |f: &Finding| {
//!     if !f.visible {
//!         hidden_secrets.push(f.rule.clone());
//!     }
//!     ControlFlow::Continue(())
//! };
//! // A closure cannot fail (`Infallible`); a sink with an error type ends the scan at its first
//! // error and the scan returns it.
//! let Ok(_pushed) = scanner.scan_path_with(image.as_ref(), &mut sink);
//! assert!(hidden_secrets.contains(&"private-key".to_string()));
//! # Ok::<(), layerleak::Error>(())
//! ```
//!
//! # Types
//!
//! The names an embedder needs are re-exported here; the modules hold the rest.
//!
//! | Type | What it is for |
//! |---|---|
//! | [`ScannerBuilder`] | Rules, limits, threads, redaction, cache: everything a scan is configured with. |
//! | [`Scanner`] | Immutable and `Send + Sync`: scans paths, streams, opened inputs (and registries, with the `registry` feature). |
//! | [`Sink`] | Receives findings, image reports and errors as each image is resolved; can stop the scan ([`std::ops::ControlFlow`]) or fail it (its `Error`). [`NullSink`] ignores all. |
//! | [`Progress`] | Events for front ends while layers are read. |
//! | [`Report`] | The collected result: images, layers, findings, errors, notes, counts (`Serialize`). |
//! | [`Finding`] | One secret in one file version: rule, place, which layer added and which hid it, whether still visible. |
//! | [`ImageReport`], [`ErrorRecord`] | One resolved image; one thing that could not be read, as the report and the sink see it. |
//! | [`Status`], [`HiddenHow`] | What became of a file version across layers. |
//! | [`RuleSet`] | Rules (built in, TOML, foreign rule packs) a [`ScannerBuilder`] adds. |
//! | [`Digest`], [`Algorithm`] | A typed content digest (OCI image spec, "Digests"). |
//! | [`Error`], [`At`], [`Limits`] | The typed error naming image, layer and path; every bound on untrusted input. |
//!
//! # Layout
//!
//! Modules and what each imports (arrows point to what a module uses; every module also uses the
//! crate root's [`Error`], [`At`] and [`Limits`]):
//!
//! - [`digest`]: typed digests, the hashing readers and hex helpers. Imports nothing of the crate.
//! - `format` (private): tar header blocks and PAX records, gzip/zstd magic, `read_full` and the
//!   "already reported" `io::Error` markers. Imports nothing of the crate.
//! - [`image`] -> `digest`, `format`: `docker save` archives, OCI layouts, single layers and the
//!   registry client (`image::registry`); manifests, indexes, configs.
//! - [`layer`] -> `digest`, `format`: decompression, the streaming tar walk, whiteouts, the
//!   lifecycle of every file version across layers.
//! - [`detect`] -> `digest`, `format`: rules as data (`rule`, loaded from TOML, gitleaks files and
//!   YAML packs by `load`, `dialect`, `pack`), the `Detector` (`engine`), the window searcher
//!   (`search`: keyword search, regex confirmation), what happens to a match after its regex
//!   (`policy`: entropy, allowlists, validation, pairing, one finding per span), the regex
//!   analysis done once per rule (`lead`), and the archive dispatcher that walks archives nested in
//!   files and hands their members to the searcher (`nested`).
//! - [`package`] -> `layer`: the package databases an image carries (dpkg, apk, rpm, Python
//!   `RECORD`), which files are exactly as installed.
//! - [`report`] -> `image`, `layer`, `detect`, `package`, `digest`: findings, attribution, JSON,
//!   SARIF and HTML, by-secret views.
//! - [`scan`] -> all of the above: [`ScannerBuilder`] (the only writer of the scan's
//!   configuration), [`Scanner`], [`Sink`]; the pipeline of layer and config-text jobs
//!   (`pipeline`, `file_scan`), the outcome types they share with the cache and attribution
//!   (`outcome`), attribution of every occurrence to its layers (`attribute`), layer caches
//!   (`cache`), registry audits (`audit`, `cooperate`).
//!
//! `image`, `layer` and `detect` stand side by side: none imports another.
//!
//! # Cargo features
//!
//! | Feature | Default | What it adds |
//! |---|---|---|
//! | `registry` | yes | Pulling from registries: `Scanner::scan_reference`, `Scanner::audit`, `image::registry`'s client (ureq over rustls). |
//! | `sqlite` | yes | SQLite (rusqlite, bundled): `scan::SqliteCache`, and reading rpm's `rpmdb.sqlite` (without it such a database is a note saying it is not supported, and its files are not triaged). |
//! | `postgres` | no | `scan::PostgresCache` and cooperative audits (`Scanner::audit_shared`); implies `registry`. |
//!
//! An embedder that scans local files only depends on `layerleak` with
//! `default-features = false`: neither an HTTP client, TLS nor SQLite is compiled then.
//!
//! # Errors and bounds
//!
//! Damaged input never panics and never ends a scan: what could not be read becomes an
//! [`Error`] naming the image, layer and path ([`At`]), recorded in [`report::Report::errors`]
//! while the rest is still scanned. Every bound on untrusted input (JSON size, bytes per file and
//! layer, entries, nesting, findings) is in [`Limits`]; hitting one is a typed error
//! ([`LimitKind`]). The library keeps no global state, prints nothing and never exits the process.

pub mod detect;
pub mod digest;
mod error;
mod format;
pub mod image;
pub mod layer;
mod limits;
pub mod package;
pub mod report;
pub mod scan;

pub use detect::RuleSet;
pub use digest::{Algorithm, Digest};
pub use error::{At, DigestKind, Error, LimitKind, Result};
pub use layer::{HiddenHow, Status};
pub use limits::{Limits, Skipped};
pub use report::{ErrorRecord, Finding, ImageReport, Report};
pub use scan::{NullSink, Progress, Scanner, ScannerBuilder, Sink};
