//! Detection: rules (data, loaded from TOML), the keyword search and regex confirmation,
//! entropy, offline validation, allowlists, and archives nested inside files.
//!
//! ```
//! use layerleak::detect::{DetectOptions, Detector, RuleSet, Scratch};
//! use std::ops::ControlFlow;
//!
//! let detector = Detector::new(&RuleSet::builtin(), DetectOptions::default()).unwrap();
//! let mut found = Vec::new();
//! let outcome = detector.scan_bytes(b"app/.env", b"AWS_KEY=AKIAQ3EGRT5LWZ2XH7NB\n", &mut Scratch::new(), &mut |m| {
//!     found.push(detector.rules()[m.rule].id.clone());
//!     ControlFlow::Continue(())
//! });
//! assert!(outcome.errors.is_empty());
//! assert_eq!(found, ["aws-access-key-id"]);
//! ```

mod allowlist;
mod byte_freq;
mod composite;
mod dialect;
mod engine;
mod entropy;
mod examples;
mod gram_freq;
mod keywords;
mod lead;
mod lint;
mod literals;
mod load;
mod nested;
mod pack;
mod policy;
mod redact;
mod rule;
mod search;
mod validate;

pub use engine::{DetectOptions, Detector, Match, ScanOutcome, Scratch, DEFAULT_WINDOW, DETECTOR_REVISION};
pub use examples::{check_examples, ExampleFailure, ExampleReport};
/// The keyword search alone, so the `detect` bench and the `keywords` fuzz target time and check
/// it against aho-corasick; not part of the stable API.
#[cfg(feature = "bench")]
#[doc(hidden)]
pub use keywords::{KeywordMatch, Keywords};
pub use lint::{lint_toml, Lint, LintKind};
pub use redact::redact;
pub use rule::{
    Allowlist, Examples, LoadReport, Pair, Refusal, RegexTarget, Required, Rule, RuleSet, Severity,
    Validator, CATEGORIES,
};
pub use validate::Validation;
