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
//! # Layout
//!
//! The ground floor, used by everything above it: [`digest`] (typed content digests, the hashing
//! readers), `format` (tar header blocks and PAX records, compression magic, stream plumbing),
//! [`Error`] and [`Limits`]. Over it stand side by side, none importing another: [`image`]
//! (archive, OCI layout and registry readers, manifests, configs), [`layer`] (decompression, tar
//! walk, whiteouts, file lifecycle) and [`detect`] (rules and engine). [`package`] (the package
//! databases an image carries) reads what [`layer`] records; [`report`] (findings, JSON, SARIF,
//! HTML) and [`scan`] (the pipeline: [`scan::ScannerBuilder`], [`scan::Scanner`], [`scan::Sink`],
//! [`scan::Progress`]) tie them together. Callbacks say whether to go on with
//! [`std::ops::ControlFlow`].
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

pub use error::{At, DigestKind, Error, LimitKind, Result};
pub use limits::{Limits, Skipped};
