//! What a rule's regex says about where its matches lie around a keyword hit, worked out once
//! when the [`super::Detector`] is built: the longest match ([`max_match_len`]), how far before a
//! keyword a match may start ([`keyword_lead`]), and whether every match starts with the keyword
//! at a word boundary ([`starts_at_word_boundary`]). The searcher uses them to bound the bytes a
//! regex runs over; none of them is computed per window.

use regex_syntax::hir::Hir;

/// Longest match `hir` can produce, capped; `cap` when unbounded or unparseable.
pub(super) fn max_match_len(hir: Option<&Hir>, cap: usize) -> usize {
    match hir.and_then(|h| h.properties().maximum_len()) {
        Some(n) => n.clamp(1, cap),
        None => cap,
    }
}

/// How far before one of its keywords a match of `hir` may start: the largest offset of the
/// first keyword in the regex's prefix literals (ASCII case folded first, so `(?i:github)` is one
/// literal, not 64), when they form a finite set and each holds a keyword whole. A literal that is
/// a whole match and holds no keyword is a match no keyword gates, and does not count. `Some(0)`:
/// every gated match starts with a keyword, so a keyword hit is searched from the hit on. `None`:
/// unknown (the rule's whole `max_len` is searched before a hit).
pub(super) fn keyword_lead(hir: Option<&Hir>, keywords: &[String]) -> Option<usize> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = fold_ascii_case(hir?);
    let mut extractor = Extractor::new();
    extractor.kind(ExtractKind::Prefix).limit_class(64).limit_total(256).limit_literal_len(64);
    let seq = extractor.extract(&hir);
    let keywords: Vec<Vec<u8>> =
        keywords.iter().filter(|k| !k.is_empty()).map(|k| k.as_bytes().to_ascii_lowercase()).collect();
    let mut lead = None;
    for lit in seq.literals()? {
        let bytes = lit.as_bytes();
        match (0..bytes.len()).find(|&at| keywords.iter().any(|k| bytes[at..].starts_with(k))) {
            Some(at) => lead = Some(lead.unwrap_or(0).max(at)),
            None if lit.is_exact() => {}
            None => return None,
        }
    }
    lead
}

/// `hir` with ASCII letters in lower case and each class of one letter in both cases (what
/// `(?i)` makes of a letter) as that letter in lower case: the prefixes of a case-insensitive
/// regex as one literal instead of every mix of cases. Matching keywords ignores case, so the
/// folded literals say where keywords may be.
pub(crate) fn fold_ascii_case(hir: &Hir) -> Hir {
    use regex_syntax::hir::{Class, HirKind, Repetition};
    match hir.kind() {
        HirKind::Literal(lit) => Hir::literal(lit.0.to_ascii_lowercase()),
        HirKind::Class(Class::Bytes(c)) => {
            let bytes: Vec<u8> = c.iter().flat_map(|r| r.start()..=r.end()).take(3).collect();
            match bytes[..] {
                [b] => Hir::literal([b.to_ascii_lowercase()]),
                [a, b] if a.is_ascii_alphabetic() && a.eq_ignore_ascii_case(&b) => {
                    Hir::literal([a.to_ascii_lowercase()])
                }
                _ => hir.clone(),
            }
        }
        HirKind::Concat(parts) => Hir::concat(parts.iter().map(fold_ascii_case).collect()),
        HirKind::Alternation(parts) => Hir::alternation(parts.iter().map(fold_ascii_case).collect()),
        HirKind::Repetition(r) => {
            Hir::repetition(Repetition { sub: Box::new(fold_ascii_case(&r.sub)), ..r.clone() })
        }
        HirKind::Capture(c) => {
            Hir::capture(regex_syntax::hir::Capture { sub: Box::new(fold_ascii_case(&c.sub)), ..c.clone() })
        }
        HirKind::Empty | HirKind::Look(_) | HirKind::Class(_) => hir.clone(),
    }
}

/// `[0-9A-Za-z_]`: what `\b` (Unicode off) counts as a word byte.
pub(super) fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Whether every match of `regex` starts with `keyword` right after a word boundary: the regex
/// is `\b`, then (possibly inside a group) literal bytes that begin with the keyword, and the
/// keyword starts with a word byte. Then a keyword hit preceded by a word byte cannot start a
/// match, and a match that holds such a hit also holds a hit at its own start.
pub(super) fn starts_at_word_boundary(hir: Option<&Hir>, keyword: &str) -> bool {
    use regex_syntax::hir::{HirKind, Look};
    if !keyword.as_bytes().first().is_some_and(|&b| is_word_byte(b)) {
        return false;
    }
    let Some(hir) = hir else { return false };
    let HirKind::Concat(parts) = hir.kind() else { return false };
    let [first, rest @ ..] = parts.as_slice() else { return false };
    if !matches!(first.kind(), HirKind::Look(Look::WordAscii)) {
        return false;
    }
    let mut prefix = Vec::new();
    literal_prefix(rest, &mut prefix);
    prefix.len() >= keyword.len() && prefix[..keyword.len()].eq_ignore_ascii_case(keyword.as_bytes())
}

/// Appends the literal bytes every match of `parts` (a concatenation) starts with.
fn literal_prefix(parts: &[regex_syntax::hir::Hir], out: &mut Vec<u8>) {
    use regex_syntax::hir::HirKind;
    for h in parts {
        match h.kind() {
            HirKind::Literal(l) => out.extend_from_slice(&l.0),
            HirKind::Capture(c) => match c.sub.kind() {
                HirKind::Literal(l) => out.extend_from_slice(&l.0),
                HirKind::Concat(inner) => return literal_prefix(inner, out),
                _ => return,
            },
            _ => return,
        }
    }
}

#[cfg(test)]
mod word_boundary_tests {
    use super::keyword_lead;
    use crate::detect::rule::parse;

    fn starts_at_word_boundary(re: &str, keyword: &str) -> bool {
        super::starts_at_word_boundary(parse(re).ok().as_ref(), keyword)
    }

    #[test]
    fn only_a_leading_boundary_and_literal_keyword_qualify() {
        assert!(starts_at_word_boundary(r"\b(sk_[0-9a-f]{48})\b", "sk_"));
        assert!(starts_at_word_boundary(r"\b(?:ser\.[0-9A-Za-z]{22})", "ser."));
        assert!(starts_at_word_boundary(r"\bAKIA[A-Z2-7]{16}", "akia"));
        assert!(!starts_at_word_boundary(r"\b(ma[rt]_[0-9A-Za-z]{30})", "mat_"), "a class is no literal");
        assert!(!starts_at_word_boundary(r"\b(?:sk|rk)_live_", "sk_"), "an alternation is no literal");
        assert!(!starts_at_word_boundary(r"(sk_[0-9a-f]{48})", "sk_"), "no boundary");
        assert!(
            !starts_at_word_boundary(r"\b(-us[0-9]{1,2})", "-us"),
            "the keyword starts with a non-word byte"
        );
        assert!(!starts_at_word_boundary(r"\b(s.k_x)", "sk_"));
        assert!(!starts_at_word_boundary(r"\b(sk_[a-z]{5}|zzzzz)", "sk_"), "an alternation in the group");
        assert!(
            !starts_at_word_boundary(r"(?i)\bsk_[a-z]{5}", "sk_"),
            "case-insensitive literals are classes"
        );
    }

    #[test]
    fn keyword_lead_is_the_furthest_first_keyword_in_the_prefixes() {
        let lead = |re: &str, kws: &[&str]| {
            let kws: Vec<String> = kws.iter().map(|k| k.to_string()).collect();
            keyword_lead(parse(re).ok().as_ref(), &kws)
        };
        assert_eq!(lead(r"\b(ghp_[0-9A-Za-z]{36})\b", &["ghp_"]), Some(0));
        assert_eq!(lead(r"\b(?:ghp|gho)_[0-9A-Za-z]{36}", &["ghp_", "gho_"]), Some(0));
        assert_eq!(lead(r"(?i)github[\w.-]{0,20}=([0-9a-f]{40})", &["github"]), Some(0), "case folded");
        assert_eq!(lead(r"(?i:client_|)GitHub_token=([0-9a-f]{40})", &["github"]), Some(7), "client_github");
        assert_eq!(
            lead(
                r"(?:(?i:github)[\w.-]{0,20}|(?i:gh)[_.-])(?i:secret)=([0-9a-f]{40})",
                &["github", "gh_", "gh-", "gh."]
            ),
            Some(0),
            "every mix of cases of a long prefix is one literal"
        );
        assert_eq!(lead(r"(?:api_key=)?(tok_[a-z]{8})", &["tok_"]), Some(8), "an optional context before");
        assert_eq!(lead(r"(?:ghp|gho)_[0-9A-Za-z]{36}", &["ghp_"]), None, "gho_ is no keyword");
        assert_eq!(lead(r"ghp_[0-9]{36}|gho_", &["ghp_"]), Some(0), "gho_ alone is a match no keyword gates");
        assert_eq!(lead(r"(?:xx|)gh[^a-z]{2}", &["ghp_"]), None, "a literal cut short in a keyword");
        assert_eq!(lead(r"(?:ab_)?zz[a-z]{2}", &["ghp_"]), None, "no literal holds a keyword");
        assert_eq!(lead(r"(?:ab_)?zz[a-z]{2}|(?:)", &["zz"]), Some(3), "the empty match holds no keyword");
        assert_eq!(lead(r"[a-z]+_tok", &["_tok"]), None, "no finite prefix");
        assert_eq!(lead(r"gh[a-z]+", &["ghp_"]), None, "a prefix shorter than the keyword");
        assert_eq!(lead(r"(", &["("]), None, "unparseable");
    }

    #[test]
    fn max_match_len_is_bounded() {
        let len = |re: &str, cap| super::max_match_len(parse(re).ok().as_ref(), cap);
        assert_eq!(len("tk_[a-z]{20}", 4096), 23);
        assert_eq!(len("a+", 4096), 4096);
        assert_eq!(len("(", 100), 100);
    }
}
