//! "Nothing was scanned": a scan that covered no rule, no image or no readable layer must not
//! pass a CI gate, so it ends with its own message and exit status instead of a clean summary.

use layerleak::report::Report;

/// Why a scan covered nothing; `main` turns it into exit status 3.
#[derive(Debug)]
pub struct NothingScanned(pub String);

impl std::fmt::Display for NothingScanned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "nothing was scanned: {}", self.0)
    }
}

impl std::error::Error for NothingScanned {}

/// The error for a scanner without a rule (`--no-builtin-rules` alone, or rules files holding
/// none): checked before anything is read.
pub fn no_rules() -> NothingScanned {
    NothingScanned("no rule loaded (--no-builtin-rules needs --rules FILE with at least one rule)".into())
}

/// Why `report` covered nothing, if it did: no image (none matched `platforms`, none found,
/// none readable), or images none of whose layers could be read at all (a layer walked part of
/// the way, as a truncated one is, was scanned that far).
pub fn check(report: &Report, platforms: &[String]) -> Option<NothingScanned> {
    if report.images.is_empty() {
        let why = if !report.errors.is_empty() {
            "no input could be read".to_string()
        } else if !platforms.is_empty() {
            format!(
                "no image matched --platform {} (skipped images are listed as notes)",
                platforms.join(", ")
            )
        } else {
            "no image was found or selected".to_string()
        };
        return Some(NothingScanned(why));
    }
    let mut layers = report.images.iter().flat_map(|i| &i.layers).peekable();
    if layers.peek().is_some() && layers.all(|l| !l.complete && l.entries == 0) {
        return Some(NothingScanned("no layer of any image could be read".into()));
    }
    None
}
