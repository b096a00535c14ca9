//! What `layerleak rules check` reports about a rules file that loads: keys the loader does not
//! read (a typo such as `secretgroup` is silently ignored by the loader, as gitleaks ignores
//! unknown keys), gitleaks keys layerleak does not implement, a file without rules, and keywords
//! the rule's regex can never contain.
//!
//! A rule runs only around a hit of one of its keywords, so a keyword that no match of the regex
//! can contain (a typo, `acme-` for a regex of `acme_…`) makes the rule fire only where that text
//! happens to stand near a secret. Whether a match can contain the keyword is decided exactly on
//! the regex's syntax tree: each node is turned into the relation between the states of the
//! keyword's matcher (Knuth-Morris-Pratt over ASCII-lowercased bytes) before and after any text
//! the node matches; the keyword can occur iff the whole regex relates the start state to the
//! accepting one. Look-around assertions (`\b`, `^`) are taken as always true, so the answer errs
//! only towards "can occur".
//!
//! # Security
//! The text is the same untrusted rules file [`RuleSet::from_toml`] accepted; it is parsed again
//! as plain TOML, and regexes through the parser the engine uses (its nesting limit applies).
//! Relations are `(n + 1)²` booleans for a keyword of `n` bytes, and counted repetitions cost
//! logarithmic time in their count.

use regex_syntax::hir::{Class, Hir, HirKind};

use super::load::{
    ALLOWLIST_KEYS, EXAMPLE_KEYS, EXTEND_KEYS, FILE_KEYS, GLOBAL_ALLOWLIST_KEYS, PAIR_KEYS, REQUIRED_KEYS,
    RULE_KEYS,
};
use super::rule::{parse, RuleSet};

/// One thing [`lint_toml`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lint {
    /// The rule's id (`#N`, its position, when it has none); `None` for the whole file.
    pub rule: Option<String>,
    /// What kind of problem it is: callers decide which kinds fail a check.
    pub kind: LintKind,
    /// What is wrong, for people.
    pub message: String,
}

/// The kinds of [`Lint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LintKind {
    /// A key neither layerleak nor gitleaks defines: it is ignored, and was likely meant as
    /// another.
    UnknownKey,
    /// A gitleaks key layerleak does not implement (`targetRules`): it is ignored, so the file
    /// does not mean here what it means to gitleaks.
    Unsupported,
    /// The file has no rule.
    NoRules,
    /// None of the rule's keywords can occur in a match of its regex: the rule fires only where
    /// one of them happens to stand near a secret.
    NoReachableKeyword,
    /// One keyword no match of the regex can contain, while others can: it only ever makes the
    /// rule run near a match (a quote before a key name can mean to), or it is a typo.
    UnreachableKeyword,
}

/// gitleaks keys, per table, that layerleak does not implement (a rule's allowlist: `targetRules`,
/// which gitleaks reads only on file-wide allowlists).
const UNSUPPORTED_FILE: &[&str] = &[];
const UNSUPPORTED_RULE: &[&str] = &[];
const UNSUPPORTED_ALLOWLIST: &[&str] = &["targetRules"];

/// Lints a rules file that [`RuleSet::from_toml`] loaded as `set`: its keys (from `text`), its
/// rule count and every rule's keywords. In file order: the file's own keys, then each rule's.
pub fn lint_toml(text: &str, set: &RuleSet) -> Vec<Lint> {
    let mut out = Vec::new();
    let Ok(file) = toml::from_str::<toml::Table>(text) else { return out };
    keys(&file, FILE_KEYS, UNSUPPORTED_FILE, "", None, &mut out);
    if let Some(extend) = file.get("extend").and_then(toml::Value::as_table) {
        keys(extend, EXTEND_KEYS, &[], "extend: ", None, &mut out);
    }
    for what in ["allowlist", "allowlists"] {
        for (i, t) in tables(file.get(what)).enumerate() {
            keys(t, GLOBAL_ALLOWLIST_KEYS, &[], &format!("{}: ", numbered(what, i)), None, &mut out);
        }
    }
    if set.rules().is_empty() {
        let message = "no rule: the file has no [[rules]] table with an id and a regex".to_string();
        out.push(Lint { rule: None, kind: LintKind::NoRules, message });
    }
    for (i, raw) in tables(file.get("rules")).enumerate() {
        let id =
            raw.get("id").and_then(toml::Value::as_str).map_or_else(|| format!("#{}", i + 1), str::to_string);
        keys(raw, RULE_KEYS, UNSUPPORTED_RULE, "", Some(&id), &mut out);
        if let Some(ex) = raw.get("examples").and_then(toml::Value::as_table) {
            keys(ex, EXAMPLE_KEYS, &[], "examples: ", Some(&id), &mut out);
        }
        if let Some(pair) = raw.get("pair").and_then(toml::Value::as_table) {
            keys(pair, PAIR_KEYS, &[], "pair: ", Some(&id), &mut out);
        }
        for (j, t) in tables(raw.get("required")).enumerate() {
            keys(t, REQUIRED_KEYS, &[], &format!("required[{j}]: "), Some(&id), &mut out);
        }
        for what in ["allowlist", "allowlists"] {
            for (j, t) in tables(raw.get(what)).enumerate() {
                let prefix = format!("{}: ", numbered(what, j));
                keys(t, ALLOWLIST_KEYS, UNSUPPORTED_ALLOWLIST, &prefix, Some(&id), &mut out);
            }
        }
        if let Some(rule) = set.rules().iter().find(|r| r.id == id) {
            out.extend(keyword_lints(&rule.regex, &rule.keywords, &id));
        }
    }
    out
}

/// The keywords of a rule that no match of its regex can contain: one lint for the rule when
/// none can, else one per such keyword.
fn keyword_lints(regex: &str, keywords: &[String], id: &str) -> Vec<Lint> {
    let unreachable: Vec<&String> = keywords.iter().filter(|k| !can_contain(regex, k.as_bytes())).collect();
    let lint = |kind, message| Lint { rule: Some(id.to_string()), kind, message };
    if !unreachable.is_empty() && unreachable.len() == keywords.len() {
        let listed: Vec<String> = unreachable.iter().map(|k| format!("{k:?}")).collect();
        return vec![lint(
            LintKind::NoReachableKeyword,
            format!(
                "no keyword can occur in a match of the regex ({}): the rule runs only around a \
                 keyword, so it fires only where one happens to stand near a secret",
                listed.join(", ")
            ),
        )];
    }
    let one = |k: &&String| {
        lint(
            LintKind::UnreachableKeyword,
            format!(
                "keyword {k:?} can never occur in a match of the regex: it only makes the rule run near one"
            ),
        )
    };
    unreachable.iter().map(one).collect()
}

/// `allowlist` for the single table, `allowlists[1]` for the second of an array.
fn numbered(what: &str, i: usize) -> String {
    if what == "allowlists" {
        format!("{what}[{i}]")
    } else {
        what.to_string()
    }
}

/// The tables of `v`: itself when it is one, its table elements when it is an array.
fn tables(v: Option<&toml::Value>) -> impl Iterator<Item = &toml::Table> {
    let (one, many) = match v {
        Some(toml::Value::Table(t)) => (Some(t), None),
        Some(toml::Value::Array(a)) => (None, Some(a.iter().filter_map(toml::Value::as_table))),
        _ => (None, None),
    };
    one.into_iter().chain(many.into_iter().flatten())
}

/// Reports the keys of `table` that are not in `known`, as unsupported when in `unsupported`,
/// else as unknown, with the known key likely meant: one that differs only in case and `_`, or
/// by at most two letters.
fn keys(
    table: &toml::Table,
    known: &[&str],
    unsupported: &[&str],
    prefix: &str,
    rule: Option<&str>,
    out: &mut Vec<Lint>,
) {
    let fold = |k: &str| k.to_ascii_lowercase().replace(['_', '-'], "");
    for key in table.keys().filter(|k| !known.contains(&k.as_str())) {
        let (kind, message) = if unsupported.contains(&key.as_str()) {
            (
                LintKind::Unsupported,
                format!("{prefix}key `{key}` (gitleaks) is not supported by layerleak and is ignored"),
            )
        } else {
            let distance = |k: &&&str| edit_distance(&fold(k), &fold(key));
            let meant = known.iter().chain(unsupported).min_by_key(distance).filter(|k| distance(k) <= 2);
            let hint = meant.map(|m| format!(" (did you mean `{m}`?)")).unwrap_or_default();
            (LintKind::UnknownKey, format!("{prefix}unknown key `{key}`{hint}: it is ignored"))
        };
        out.push(Lint { rule: rule.map(str::to_string), kind, message });
    }
}

/// The Levenshtein distance between `a` and `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Whether some text matched by `regex` (read as the engine reads it) contains `keyword`
/// (lowercase, compared with ASCII case folded). A regex that does not parse counts as able to.
pub(crate) fn can_contain(regex: &str, keyword: &[u8]) -> bool {
    let Ok(hir) = parse(regex) else { return true };
    if keyword.is_empty() {
        return true;
    }
    let kmp = Kmp::new(keyword);
    relation(&hir, &kmp).get(0, keyword.len())
}

/// The keyword's matcher: state `i` means its first `i` bytes were just seen; state `n` (found)
/// is kept whatever follows.
struct Kmp {
    n: usize,
    /// `next[state * 256 + byte]`.
    next: Vec<usize>,
}

impl Kmp {
    fn new(keyword: &[u8]) -> Kmp {
        let n = keyword.len();
        let mut fail = vec![0usize; n + 1];
        for i in 1..n {
            let mut k = fail[i];
            while k > 0 && keyword[i] != keyword[k] {
                k = fail[k];
            }
            fail[i + 1] = if keyword[i] == keyword[k] { k + 1 } else { 0 };
        }
        let mut next = vec![0usize; (n + 1) * 256];
        for state in 0..=n {
            for b in 0..=255u8 {
                next[state * 256 + usize::from(b)] = if state == n {
                    n
                } else {
                    let c = b.to_ascii_lowercase();
                    let mut k = state;
                    while k > 0 && keyword[k] != c {
                        k = fail[k];
                    }
                    usize::from(keyword[k] == c) + k
                };
            }
        }
        Kmp { n, next }
    }
}

/// Which matcher states can follow which: `bits[from * size + to]`.
#[derive(Clone, PartialEq)]
struct Rel {
    size: usize,
    bits: Vec<bool>,
}

impl Rel {
    fn empty(size: usize) -> Rel {
        Rel { size, bits: vec![false; size * size] }
    }

    fn identity(size: usize) -> Rel {
        let mut r = Rel::empty(size);
        for s in 0..size {
            r.set(s, s);
        }
        r
    }

    fn get(&self, from: usize, to: usize) -> bool {
        self.bits[from * self.size + to]
    }

    fn set(&mut self, from: usize, to: usize) {
        self.bits[from * self.size + to] = true;
    }

    fn union(mut self, other: &Rel) -> Rel {
        for (a, b) in self.bits.iter_mut().zip(&other.bits) {
            *a |= *b;
        }
        self
    }

    /// `self` then `other`.
    fn then(&self, other: &Rel) -> Rel {
        let mut r = Rel::empty(self.size);
        for from in 0..self.size {
            for mid in (0..self.size).filter(|&m| self.get(from, m)) {
                for to in (0..self.size).filter(|&t| other.get(mid, t)) {
                    r.set(from, to);
                }
            }
        }
        r
    }

    /// `self` repeated `n` times, by squaring.
    fn power(&self, mut n: u32) -> Rel {
        let mut result = Rel::identity(self.size);
        let mut base = self.clone();
        while n > 0 {
            if n & 1 == 1 {
                result = result.then(&base);
            }
            base = base.then(&base);
            n >>= 1;
        }
        result
    }

    /// `self` repeated 0 up to `max` times (any number when `None`): a path between states
    /// never needs more steps than there are states, so the powers of `identity ∪ self` stop
    /// growing after at most `size` of them.
    fn up_to(&self, max: Option<u32>) -> Rel {
        let step = Rel::identity(self.size).union(self);
        let cap = u32::try_from(self.size).unwrap_or(u32::MAX);
        step.power(max.map_or(cap, |m| m.min(cap)))
    }
}

/// The relation of `hir`: which states can follow which over the texts it matches.
fn relation(hir: &Hir, kmp: &Kmp) -> Rel {
    let size = kmp.n + 1;
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Rel::identity(size),
        HirKind::Literal(lit) => {
            let mut r = Rel::identity(size);
            for &b in lit.0.iter() {
                r = r.then(&bytes(kmp, |x| x == b));
            }
            r
        }
        HirKind::Class(Class::Bytes(c)) => {
            bytes(kmp, |b| c.ranges().iter().any(|r| (r.start()..=r.end()).contains(&b)))
        }
        // Unicode classes (`(?u)` inside a rule) match one to four bytes of UTF-8: taken as any
        // one to four bytes, which only errs towards "can occur".
        HirKind::Class(Class::Unicode(_)) => {
            let any = bytes(kmp, |_| true);
            any.then(&any.up_to(Some(3)))
        }
        HirKind::Capture(c) => relation(&c.sub, kmp),
        HirKind::Repetition(rep) => {
            let sub = relation(&rep.sub, kmp);
            let rest = rep.max.map(|m| m.saturating_sub(rep.min));
            sub.power(rep.min).then(&sub.up_to(rest))
        }
        HirKind::Concat(parts) => {
            parts.iter().fold(Rel::identity(size), |acc, p| acc.then(&relation(p, kmp)))
        }
        HirKind::Alternation(alts) => {
            alts.iter().fold(Rel::empty(size), |acc, a| acc.union(&relation(a, kmp)))
        }
    }
}

/// The relation of one byte out of those `accepts` takes.
fn bytes(kmp: &Kmp, accepts: impl Fn(u8) -> bool) -> Rel {
    let size = kmp.n + 1;
    let mut r = Rel::empty(size);
    for b in (0..=255u8).filter(|&b| accepts(b)) {
        for s in 0..size {
            r.set(s, kmp.next[s * 256 + usize::from(b)]);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyword_inside_the_match_is_reachable_whatever_its_case() {
        assert!(can_contain(r"\b(ghp_[0-9A-Za-z]{36})\b", b"ghp_"));
        assert!(can_contain(r"(?i)aws_?secret_?access_?key\s*=\s*([A-Za-z0-9/+]{40})", b"secretaccesskey"));
        assert!(can_contain(r"ACME_[0-9a-f]{32}", b"acme_"));
        // Only across a repetition: `abab` needs two rounds of `(ab)`.
        assert!(can_contain(r"x(ab){2,5}y", b"abab"));
        assert!(can_contain(
            r"(?s)-----BEGIN[ A-Z]{0,100}PRIVATE KEY-----.{64,7000}?-----END",
            b"-----begin"
        ));
    }

    #[test]
    fn a_keyword_no_match_can_hold_is_unreachable() {
        assert!(!can_contain(r"\b(acme_[0-9a-z]{24})\b", b"acme-"));
        assert!(!can_contain(r"tok_[0-9]{8}", b"tok_a"));
        // Once is not twice.
        assert!(!can_contain(r"x(ab)y", b"abab"));
        assert!(!can_contain(r"postgres://[a-z]{1,8}@", b"mysql://"));
        // Longer than anything the regex matches after its prefix.
        assert!(!can_contain(r"[A-Z]{4}_KEY", b"abcd_key1"));
    }

    #[test]
    fn unknown_keys_are_named_with_the_key_meant() {
        let text = "title='t'\nrule=[]\n[extend]\nusedefault=true\n[[rules]]\nid='a'\nregex='a_[0-9]{4}'\nkeywords=['a_']\nsecretgroup=1\ntags=['x']\n[rules.examples]\npositiv=['a_1234']\n[[rules.allowlists]]\ntargetRules=['a']\nregextarget='line'\n";
        let set = RuleSet::from_toml(text, "t.toml").expect("loads: unknown keys are ignored");
        let lints = lint_toml(text, &set);
        let shown: Vec<(Option<&str>, LintKind, &str)> =
            lints.iter().map(|l| (l.rule.as_deref(), l.kind, l.message.as_str())).collect();
        assert_eq!(shown.len(), 6, "{shown:#?}");
        assert!(shown[0].2.starts_with("unknown key `rule` (did you mean `rules`?)"), "{shown:#?}");
        assert!(shown[1].2.starts_with("extend: unknown key `usedefault` (did you mean `useDefault`?)"));
        assert_eq!(shown[2], (Some("a"), LintKind::UnknownKey, shown[2].2));
        assert!(shown[2].2.contains("`secretgroup` (did you mean `secretGroup`?)"), "{shown:#?}");
        assert!(shown[3].2.starts_with("examples: unknown key `positiv` (did you mean `positive`?)"));
        assert!(shown[4]
            .2
            .starts_with("allowlists[0]: unknown key `regextarget` (did you mean `regexTarget`?)"));
        assert_eq!(shown[5].1, LintKind::Unsupported, "{shown:#?}");
        assert!(shown[5].2.starts_with("allowlists[0]: key `targetRules`"), "{shown:#?}");
    }

    #[test]
    fn edit_distance_counts_letters() {
        assert_eq!(edit_distance("regex", "regexes"), 2);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
    }

    #[test]
    fn a_file_without_rules_and_a_stray_keyword_are_reported() {
        let set = RuleSet::from_toml("title='empty'\n", "t").expect("loads");
        assert_eq!(lint_toml("title='empty'\n", &set)[0].kind, LintKind::NoRules);
        let text = "[[rules]]\nid='k'\nregex='k_[0-9]{4}'\nkeywords=['k_', 'k-']\n";
        let set = RuleSet::from_toml(text, "t").expect("loads");
        let lints = lint_toml(text, &set);
        assert_eq!(lints.len(), 1, "{lints:?}");
        assert_eq!((lints[0].rule.as_deref(), lints[0].kind), (Some("k"), LintKind::UnreachableKeyword));
        assert!(lints[0].message.starts_with("keyword \"k-\""), "{lints:?}");
        let text = text.replace("'k_', ", "");
        let set = RuleSet::from_toml(&text, "t").expect("loads");
        let kinds: Vec<LintKind> = lint_toml(&text, &set).iter().map(|l| l.kind).collect();
        assert_eq!(kinds, [LintKind::NoReachableKeyword]);
    }

    /// The catalogue meets the bar `rules check` sets for users' files: only keywords that stand
    /// next to a match by design (a quote before a key name) may be out of the regex's reach.
    #[test]
    fn builtin_files_have_no_lint_but_context_keywords() {
        for (name, text) in super::super::rule::BUILTIN_RULE_FILES {
            let set = RuleSet::from_toml(text, name).expect("built-in rules load");
            let lints = lint_toml(text, &set);
            let bad: Vec<&Lint> = lints.iter().filter(|l| l.kind != LintKind::UnreachableKeyword).collect();
            assert!(bad.is_empty(), "{name}: {bad:#?}");
        }
    }
}
