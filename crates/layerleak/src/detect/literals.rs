//! The literals every match of a regex holds: the keywords of a user rule that names none (rule
//! packs never do), so that it runs only around one of them, as every other rule does, instead
//! of over every byte of every file.
//!
//! The search is on the regex's syntax tree, with ASCII case folded as keywords are matched: a
//! concatenation holds what any one of its parts holds (the best part is taken), an alternation
//! one of what each branch holds, a repetition of at least one what its body holds, and any node
//! its prefix literals when they are a finite set. A set counts only when every literal is at
//! least [`MIN_LEN`] bytes of UTF-8 and there are at most [`MAX_LITERALS`].

use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, HirKind};

use super::lead::fold_ascii_case;
use super::rule::parse;

/// Shortest literal worth a keyword: a shorter one occurs near most text.
const MIN_LEN: usize = 3;
/// Most literals of one set.
const MAX_LITERALS: usize = 64;

/// Lowercase literals one of which every match of `regex` contains; `None` when no such set is
/// found (the rule then runs on every window).
pub(crate) fn required_literals(regex: &str) -> Option<Vec<String>> {
    let hir = fold_ascii_case(&parse(regex).ok()?);
    best(&hir)?.into_iter().map(|l| String::from_utf8(l).ok()).collect()
}

/// Bytes of a literal past which its length no longer makes it rarer for the keyword search (it
/// filters on four bytes).
const ENOUGH_LEN: usize = 4;

/// The better of two sets: the longer shortest literal (up to [`ENOUGH_LEN`]), then the fewer
/// literals, then the longer shortest literal.
fn better(a: Option<Vec<Vec<u8>>>, b: Option<Vec<Vec<u8>>>) -> Option<Vec<Vec<u8>>> {
    let score = |s: &Vec<Vec<u8>>| {
        let shortest = s.iter().map(Vec::len).min().unwrap_or(0);
        (shortest.min(ENOUGH_LEN), usize::MAX - s.len(), shortest)
    };
    match (a, b) {
        (Some(a), Some(b)) => Some(if score(&b) > score(&a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

fn best(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let own = prefixes(hir);
    let inner = match hir.kind() {
        HirKind::Capture(c) => best(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => best(&r.sub),
        HirKind::Concat(parts) => parts.iter().map(best).fold(None, better),
        HirKind::Alternation(branches) => {
            let mut all: Vec<Vec<u8>> = Vec::new();
            for b in branches {
                all.extend(best(b)?);
            }
            all.sort();
            all.dedup();
            (all.len() <= MAX_LITERALS).then_some(all)
        }
        _ => None,
    };
    better(own, inner)
}

/// The prefix literals of `hir`, when they are a finite set of long enough literals.
fn prefixes(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let mut extractor = Extractor::new();
    extractor.kind(ExtractKind::Prefix).limit_class(16).limit_total(MAX_LITERALS).limit_literal_len(32);
    let seq = extractor.extract(hir);
    let mut out: Vec<Vec<u8>> = seq.literals()?.iter().map(|l| l.as_bytes().to_vec()).collect();
    if out.is_empty() || out.iter().any(|l| l.len() < MIN_LEN) {
        return None;
    }
    out.sort();
    out.dedup();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_match_holds_one_of_the_literals() {
        for (regex, want) in [
            (r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b", Some(vec!["akia", "asia"])),
            (r"[a-z0-9][a-z0-9-]{1,100}\.azurecr\.io", Some(vec![".azurecr.io"])),
            (r"(?i)(?:token|secret)\s*=\s*([a-z0-9]{32})", Some(vec!["secret", "token"])),
            (r"(?:x|y)[0-9]{8}", None),
            (r"[a-f0-9]{32}", None),
            (r"(?x) pk_ (?:live|test) _ [0-9a-z]{24}", Some(vec!["pk_live_", "pk_test_"])),
        ] {
            let got = required_literals(regex);
            let want: Option<Vec<String>> = want.map(|w| w.into_iter().map(str::to_string).collect());
            assert_eq!(got, want, "{regex}");
        }
    }
}
