//! Rules: the data model and the TOML loader.
//!
//! The file format is a superset of the gitleaks configuration format (`[[rules]]` with `id`,
//! `description`, `regex`, `secretGroup`, `keywords`, `entropy`, `path`, `tags`, `skipReport`,
//! `[[rules.allowlists]]`, `[[rules.required]]`, global `[allowlist]` / `[[allowlists]]`,
//! `[extend]`), so a user's
//! gitleaks file loads unchanged. layerleak adds `provider`, `category`, `remediation`,
//! `validator`, `severity`, `nokeyword_reason`, `max_len`, `pair` and `[rules.examples]`. What
//! the engine does with a rule is all in these fields: a rule needs no code of its own. A file
//! read at run time, which knows nothing of `max_len` and `pair`, gets defaults that keep its
//! findings those of the built-in rule of its kind (see [`RuleSet::load_toml`]).
//!
//! A user file's regexes are read as gitleaks writes them, in Go's RE2 syntax, and translated
//! into the engine's (see `dialect`); one RE2 rejects but the engine accepts as written (a
//! layerleak file using the engine's own syntax) is taken as written. A rule with a `path` and no
//! `regex` reports every file whose path matches, its secret the digest of the file's content.
//! `[extend]` extends layerleak's built-in rules (on unless the caller turns them off):
//! `disabledRules` drops built-in rules by id, `path` names a base file the caller loads first
//! ([`LoadReport::extends`]). Allowlists' `commits` name git commits, which an image has none of:
//! they never match. YAML rule packs (kingfisher, Nosey Parker) load through
//! [`RuleSet::load_yaml`].
//!
//! # Security
//!
//! Rule files supplied by users are untrusted text: every field is checked here (regexes are
//! compiled with a size limit, group numbers and entropy floors are range-checked) and a bad rule
//! is an [`Error::Rule`] naming the rule, never a panic.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::dialect::Dialect;
use super::load::{convert_allowlist, convert_rule, rule_err, Check, Problem, RawFile, RawRule, Where};
use crate::digest::sha256_hex;
use crate::error::Error;

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Upper bound on a compiled rule regex, so a hostile rules file cannot exhaust memory.
pub(crate) const REGEX_SIZE_LIMIT: usize = 8 << 20;

/// Largest `max_len` a rule may declare: the detector's window holds twice the longest match.
pub(crate) const MAX_MATCH_LEN: usize = 64 << 10;

/// Capacity of each rule regex's lazy DFA cache, per thread that runs it. A cache grows only as
/// its regex meets new states, so most rules of a large catalogue use a few KiB of it; a rule
/// whose states do not fit (discord-bot-token's counted groups of classes) clears its cache over
/// and over until the lazy DFA gives up and a backtracking search takes over, twenty times
/// slower: at 64 KiB that one rule cost a second of a 1 GB image's scan, at 512 KiB 60 ms.
pub(crate) const REGEX_DFA_CACHE: usize = 512 << 10;

/// Which offline check a rule's secrets go through. See [`crate::detect::Validation`].
///
/// Each has one name ([`Validator::name`], kebab-case: `aws-key-id`), the one rule files use:
/// serde, [`fmt::Display`] and every printout use it too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Validator {
    /// No check: findings are `unknown`.
    #[default]
    None,
    /// GitHub token checksum (`gh[pousr]_` + 30 base62 + 6-char CRC32).
    Github,
    /// npm token checksum (`npm_` + 30 base62 + 6-char CRC32).
    Npm,
    /// JSON Web Token: header with `alg`, payload an object.
    Jwt,
    /// PEM block whose body decodes (and is DER for unencrypted keys).
    Pem,
    /// AWS access key id shape: `(AKIA|ASIA|ABIA|ACCA)` + 16 base32 characters.
    AwsKeyId,
    /// Base64 of `user:password` with a non-empty password.
    Base64Auth,
    /// The whole secret is base64 (standard or URL-safe alphabet, padded or not) that decodes
    /// to at least 16 bytes which are not all the same.
    Base64,
    /// Grafana service account token: `glsa_` + 32 base62 + `_` + the CRC32 of what precedes
    /// the last `_`, as 8 lowercase hex digits.
    GrafanaSa,
}

impl Validator {
    /// Every validator with the name rule files use for it.
    pub const ALL: [(Validator, &'static str); 9] = [
        (Validator::None, "none"),
        (Validator::Github, "github"),
        (Validator::Npm, "npm"),
        (Validator::Jwt, "jwt"),
        (Validator::Pem, "pem"),
        (Validator::AwsKeyId, "aws-key-id"),
        (Validator::Base64Auth, "base64-auth"),
        (Validator::Base64, "base64"),
        (Validator::GrafanaSa, "grafana-sa"),
    ];

    /// Parses the name used in rule files (see [`Validator::ALL`]).
    pub fn from_name(name: &str) -> Option<Validator> {
        Validator::ALL.iter().find(|(_, n)| *n == name).map(|(v, _)| *v)
    }

    /// The name rule files use for this validator (`aws-key-id`).
    pub fn name(self) -> &'static str {
        Validator::ALL.iter().find(|(v, _)| *v == self).map_or("none", |(_, n)| n)
    }
}

impl fmt::Display for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Validator {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Validator {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Validator, D::Error> {
        let name = String::deserialize(d)?;
        Validator::from_name(&name).ok_or_else(|| {
            let names = Validator::ALL.map(|(_, n)| n).join(", ");
            serde::de::Error::custom(format!("unknown validator {name:?} (one of {names})"))
        })
    }
}

/// How bad a leak of this kind of secret is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// Full control of an account or infrastructure.
    Critical,
    /// A working credential (the default).
    #[default]
    High,
    /// Limited scope or likely short-lived.
    Medium,
    /// Weak signal.
    Low,
}

impl Severity {
    /// The lowercase name rule files and reports use (`critical`).
    pub fn name(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }

    pub(super) fn from_name(name: &str) -> Option<Severity> {
        Some(match name {
            "critical" => Severity::Critical,
            "high" => Severity::High,
            "medium" => Severity::Medium,
            "low" => Severity::Low,
            _ => return None,
        })
    }
}

/// The examples a rule carries: the built-in rule test runs each one through the engine.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Examples {
    /// File name used when running the examples (matters for path-gated rules).
    pub path: String,
    /// Texts that must yield at least one finding of the rule.
    pub positive: Vec<String>,
    /// Texts that must yield no finding of the rule.
    pub negative: Vec<String>,
}

/// What an allowlist regex is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RegexTarget {
    /// The secret (capture group) only (the default).
    #[default]
    Secret,
    /// The whole regex match.
    Match,
    /// The line holding the match.
    Line,
}

/// A gitleaks-style allowlist: a finding matching it is dropped.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Allowlist {
    /// Free text.
    pub description: String,
    /// Regexes (byte regexes, Unicode off) matched against [`Allowlist::regex_target`].
    pub regexes: Vec<String>,
    /// What `regexes` are matched against.
    pub regex_target: RegexTarget,
    /// Case-insensitive substrings of the secret.
    pub stopwords: Vec<String>,
    /// Regexes matched against the file path.
    pub paths: Vec<String>,
    /// `true` when every listed check must match (gitleaks `condition = "AND"`), `false` when any
    /// one is enough (the default, `"OR"`).
    pub all: bool,
    /// The rules a file-wide allowlist applies to (gitleaks `targetRules`); empty: every rule.
    pub target_rules: Vec<String>,
}

/// One detection rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Rule {
    /// Unique kebab-case id (`github-pat`).
    pub id: String,
    /// Human title (gitleaks `description`).
    pub title: String,
    /// Who issues the credential (`Slack`, `AWS`), or the format for credentials that belong to
    /// no provider (`PostgreSQL`, `OpenSSH`). `None` for generic rules and most user rules.
    pub provider: Option<String>,
    /// The family the rule belongs to (one of [`CATEGORIES`] for built-in rules; free text in
    /// user files).
    pub category: Option<String>,
    /// How to revoke or rotate this kind of credential at its provider, in one sentence.
    pub remediation: Option<String>,
    /// Lowercase literals; the rule runs only near one of them. Empty only with
    /// [`Rule::nokeyword_reason`].
    pub keywords: Vec<String>,
    /// The regex, compiled as a byte regex with Unicode off; empty for a path-only rule
    /// ([`Rule::is_path_only`]).
    pub regex: String,
    /// Capture group holding the secret (0 = whole match).
    pub secret_group: usize,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    pub min_entropy: Option<f64>,
    /// The rule applies only to files whose path matches this regex.
    pub path: Option<String>,
    /// Offline validation.
    pub validator: Validator,
    /// Severity (default high).
    pub severity: Severity,
    /// Examples (required for built-in rules).
    pub examples: Examples,
    /// Per-rule allowlists.
    pub allowlists: Vec<Allowlist>,
    /// Why a rule has no keyword (it then runs on every window, which is slow).
    pub nokeyword_reason: Option<String>,
    /// The longest match the rule can produce, for a regex written unbounded (`{64,}?`) whose
    /// matches can be longer than the engine's default cap (4 KiB). Key-block rules set it (20
    /// KiB); a foreign file's key-block rule gets that by default (see [`RuleSet::load_toml`]).
    pub max_len: Option<usize>,
    /// Another rule whose findings nearby this rule's findings are noted as paired with them
    /// (an AWS secret key beside its key id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pair: Option<Pair>,
    /// Free-form labels (gitleaks `tags`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The rule's findings are not reported (gitleaks `skipReport`, a rule pack's
    /// `visible: false`): it runs, and its examples are checked, but it only matters to other
    /// rules.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
    /// The secret is the first capture group that took part in a match with some text, as
    /// gitleaks reads a rule without `secretGroup` (a regex of alternatives, each with its own
    /// group): set for user rules that name no group, not for built-in ones.
    #[serde(skip)]
    pub(crate) first_group: bool,
    /// Rules a match of which must lie near each match of this one for it to be reported
    /// (gitleaks `[[rules.required]]`, a composite rule).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub required: Vec<Required>,
}

/// A rule's pairing (`pair = { with = "aws-access-key-id", within = 512 }`): a finding of the
/// rule that starts within `within` bytes of a finding of rule `with` (in the same file) carries
/// the note `paired with <with> <that finding, redacted>`. Unlike [`Required`], the finding is
/// reported either way, and a `with` rule that is not loaded leaves the rule unpaired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Pair {
    /// The id of the rule paired with.
    pub with: String,
    /// At most this many bytes between the two findings' starts.
    pub within: u64,
}

/// One rule a composite rule requires near its matches (gitleaks `[[rules.required]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Required {
    /// The required rule's id.
    pub id: String,
    /// At most this many lines between the two matches' starts.
    pub within_lines: Option<u64>,
    /// At most this many columns between the two matches' starts.
    pub within_columns: Option<u64>,
}

impl Rule {
    /// Whether the rule has a path and no regex: it reports every file whose path matches.
    pub fn is_path_only(&self) -> bool {
        self.regex.is_empty()
    }

    /// Whether this is a generic (entropy-gated, `generic-*`) rule.
    pub fn is_generic(&self) -> bool {
        self.id.starts_with("generic-")
    }

    /// Whether the rule is a generic password rule (`generic-*password*`), whose values may be
    /// passphrases of words.
    pub(crate) fn takes_passphrases(&self) -> bool {
        self.is_generic() && self.id.contains("password")
    }
}

/// The categories of the built-in catalogue, in the order `layerleak rules` lists them.
pub const CATEGORIES: &[(&str, &str)] = &[
    ("cloud", "Cloud and hosting platforms"),
    ("code", "Source hosting, CI/CD and package registries"),
    ("messaging", "Chat, messaging, email and SMS"),
    ("payments", "Payments, commerce and crypto exchanges"),
    ("ai", "AI and machine-learning platforms"),
    ("observability", "Monitoring, logging and incident response"),
    ("saas", "Business, productivity and other SaaS APIs"),
    ("database", "Databases, brokers and connection strings"),
    ("keys", "Private keys, keystores and password hashes"),
    ("files", "Credential files and manifests"),
    ("generic", "Generic assignments of secrets"),
];

/// An ordered set of rules with unique ids, plus global allowlists.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RuleSet {
    rules: Vec<Rule>,
    allowlists: Vec<Allowlist>,
    /// Ids of rules this set drops from the set it extends (gitleaks `[extend] disabledRules`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    disabled: Vec<String>,
}

/// What loading a user's rules file did besides the rules it kept: the rules whose regexes were
/// translated from the file's syntax, the rules refused because the engine cannot express what
/// they mean, and the base file an `[extend] path` names.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct LoadReport {
    /// Rules (or allowlists: `allowlist #N`) loaded after translating their regexes, with the
    /// constructs translated.
    pub translated: Vec<(String, Vec<&'static str>)>,
    /// Rules (or allowlists) left out, with why.
    pub refused: Vec<Refusal>,
    /// The base rules file of `[extend] path`, as written (relative to the file).
    pub extends: Option<String>,
}

/// A rule the engine cannot express as its file means it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Refusal {
    /// The rule's id, or `allowlist #N` for a global allowlist.
    pub rule: String,
    /// Why: the construct and its byte offset in the regex.
    pub message: String,
}

impl RuleSet {
    /// Every rule embedded from `rules/*.toml`, in file-name order.
    ///
    /// # Panics
    ///
    /// Only if an embedded rule file is invalid, which the `builtin_rule_examples` test rules
    /// out; use [`RuleSet::try_builtin`] to get the error instead.
    pub fn builtin() -> RuleSet {
        match RuleSet::try_builtin() {
            Ok(set) => set,
            Err(e) => panic!("built-in rules are invalid: {e}"),
        }
    }

    /// Every embedded rule, or the first error found in an embedded file.
    pub fn try_builtin() -> crate::Result<RuleSet> {
        static BUILTIN: OnceLock<Result<RuleSet, String>> = OnceLock::new();
        let parsed = BUILTIN.get_or_init(|| {
            let mut set = RuleSet::default();
            for (name, text) in BUILTIN_RULE_FILES {
                let (file, _) = RuleSet::read(text, name, Check::Parse).map_err(|e| e.to_string())?;
                for rule in &file.rules {
                    if set.rules.iter().any(|r| r.id == rule.id) {
                        return Err(format!("rule {}: duplicate id (again in {name})", rule.id));
                    }
                }
                set.rules.extend(file.rules);
                set.allowlists.extend(file.allowlists);
            }
            Ok(set)
        });
        parsed.clone().map_err(|message| Error::Rule { rule: "built-in".into(), message })
    }

    /// The names of the embedded rule files.
    pub fn builtin_files() -> Vec<&'static str> {
        BUILTIN_RULE_FILES.iter().map(|(name, _)| *name).collect()
    }

    /// Parses a native or gitleaks rules file. `origin` names it in errors.
    ///
    /// Every rule is checked: a bad regex, a missing id or regex, a duplicate id, a
    /// `secretGroup` beyond the regex's groups, an unknown validator or severity, or a negative
    /// or non-finite entropy is an [`Error::RulesFile`] naming the file and the rule (or `#N`,
    /// its position, when it has no id). Unknown keys are ignored, as gitleaks does;
    /// [`crate::detect::lint_toml`] lists them.
    ///
    /// A rule the engine cannot express as the file means it is an error too; see
    /// [`RuleSet::load_toml`] to load the others and list it.
    pub fn from_toml(text: &str, origin: &str) -> crate::Result<RuleSet> {
        let (set, report) = RuleSet::load_toml(text, origin)?;
        match report.refused.into_iter().next() {
            Some(r) => Err(rule_err(origin, &r.rule, r.message)),
            None => Ok(set),
        }
    }

    /// Parses a native or gitleaks rules file as [`RuleSet::from_toml`] does, but leaves out
    /// (and lists in the report) the rules whose regexes mean what the engine cannot express.
    ///
    /// A rule with no `max_len` whose validator is `pem` or whose regex holds `-----BEGIN` is
    /// capped at 20 KiB, as the built-in key-block rules are; an `aws-secret-access-key` rule
    /// with no `pair` pairs with `aws-access-key-id` within 512 bytes, as the built-in one does.
    pub fn load_toml(text: &str, origin: &str) -> crate::Result<(RuleSet, LoadReport)> {
        RuleSet::read(text, origin, Check::Compile(Dialect::Re2))
    }

    /// Reads a TOML rules file, its regexes checked as `check` says.
    fn read(text: &str, origin: &str, check: Check) -> crate::Result<(RuleSet, LoadReport)> {
        let raw: RawFile = toml::from_str(text).map_err(|e| Error::RulesFile {
            file: origin.to_string(),
            rule: None,
            message: format!("not a rules file: {e}"),
        })?;
        let mut report = LoadReport::default();
        let mut set = RuleSet::from_raw(raw.rules, origin, check, &mut report)?;
        let globals = raw.allowlist.into_iter().chain(raw.allowlists);
        for (i, a) in globals.enumerate() {
            let at = Where { file: origin, rule: None, index: i };
            match convert_allowlist(a, &at, check) {
                Ok((allowlist, constructs)) => {
                    if !constructs.is_empty() {
                        report.translated.push((format!("allowlist #{}", i + 1), constructs));
                    }
                    set.allowlists.push(allowlist);
                }
                Err(Problem::Refused(refusal)) => report.refused.push(refusal),
                Err(Problem::Bad(e)) => return Err(e),
            }
        }
        if let Some(extend) = raw.extend {
            set.disabled = extend.disabled_rules;
            report.extends = extend.path.filter(|p| !p.trim().is_empty());
        }
        Ok((set, report))
    }

    /// Reads a YAML rule pack (kingfisher, Nosey Parker): its `rules:` entries, each pattern
    /// translated from the Hyperscan/PCRE subset those packs use. What cannot be expressed is
    /// refused into the report, as [`RuleSet::load_toml`] does.
    pub fn load_yaml(text: &str, origin: &str) -> crate::Result<(RuleSet, LoadReport)> {
        super::pack::load(text, origin)
    }

    /// Converts raw rules, refusing (into `report`) those a regex of cannot be expressed.
    pub(crate) fn from_raw(
        raw: Vec<RawRule>,
        origin: &str,
        check: Check,
        report: &mut LoadReport,
    ) -> crate::Result<RuleSet> {
        let mut set = RuleSet::default();
        let mut seen: HashMap<String, ()> = HashMap::new();
        for (i, r) in raw.into_iter().enumerate() {
            let (rule, constructs) = match convert_rule(r, i, origin, check) {
                Ok(converted) => converted,
                Err(Problem::Refused(refusal)) => {
                    report.refused.push(refusal);
                    continue;
                }
                Err(Problem::Bad(e)) => return Err(e),
            };
            if seen.insert(rule.id.clone(), ()).is_some() {
                return Err(rule_err(origin, &rule.id, "duplicate id"));
            }
            if !constructs.is_empty() {
                report.translated.push((rule.id.clone(), constructs));
            }
            set.rules.push(rule);
        }
        Ok(set)
    }

    /// Adds `other`'s rules and global allowlists. A rule of `other` whose id already exists
    /// replaces the existing rule in place (this is how a user file overrides a built-in rule);
    /// the rules `other` disables (`[extend] disabledRules`) are dropped first.
    pub fn extend(&mut self, other: RuleSet) -> crate::Result<()> {
        self.rules.retain(|r| !other.disabled.contains(&r.id));
        self.disabled.extend(other.disabled);
        for rule in other.rules {
            match self.rules.iter_mut().find(|r| r.id == rule.id) {
                Some(slot) => *slot = rule,
                None => self.rules.push(rule),
            }
        }
        self.allowlists.extend(other.allowlists);
        Ok(())
    }

    /// Keeps only the rules for which `keep` returns `true`, in order (to disable rules, or to
    /// measure a subset).
    pub fn retain(&mut self, keep: impl FnMut(&Rule) -> bool) {
        self.rules.retain(keep);
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Global allowlists (from `[allowlist]` / `[[allowlists]]`).
    pub fn allowlists(&self) -> &[Allowlist] {
        &self.allowlists
    }

    /// Stable hex SHA-256 over the canonical rule definitions: a cache key that changes
    /// whenever any rule, example or allowlist changes.
    pub fn hash(&self) -> String {
        // serde_json writes struct fields in declaration order, so this is canonical.
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        sha256_hex(&bytes)
    }

    /// The rule ids this set drops from the set it extends (`[extend] disabledRules`).
    pub fn disabled(&self) -> &[String] {
        &self.disabled
    }
}

/// Parses `re` the way [`compile`] reads it.
pub(crate) fn parse(re: &str) -> Result<regex_syntax::hir::Hir, regex_syntax::Error> {
    regex_syntax::ParserBuilder::new().unicode(false).utf8(false).build().parse(re)
}

/// Compiles a rule's regex for the engine's searches: bytes, Unicode off, as [`compile`] but
/// without `regex`'s wrapper, so the caller holds the search caches and may anchor a search.
pub(crate) fn compile_search(
    re: &str,
) -> Result<regex_automata::meta::Regex, regex_automata::meta::BuildError> {
    use regex_automata::{meta, util::syntax};
    meta::Builder::new()
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .configure(
            meta::Config::new()
                .utf8_empty(false)
                .nfa_size_limit(Some(REGEX_SIZE_LIMIT))
                .hybrid_cache_capacity(REGEX_DFA_CACHE),
        )
        .build(re)
}

/// Compiles `re` the way the engine does: bytes, Unicode off.
pub(crate) fn compile(re: &str) -> Result<regex::bytes::Regex, regex::Error> {
    regex::bytes::RegexBuilder::new(re)
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_CACHE)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded files are only parsed when read (`Check::Parse`); compiled as a user's file
    /// is, every regex must pass the engine's size limits, or its rule would be skipped.
    #[test]
    fn builtin_files_compile_as_user_files_do() {
        for (name, text) in BUILTIN_RULE_FILES {
            if let Err(e) = RuleSet::from_toml(text, name) {
                panic!("{name}: {e}");
            }
        }
    }

    fn err_rule(text: &str) -> (String, String) {
        match RuleSet::from_toml(text, "test.toml") {
            Err(Error::RulesFile { file, rule: Some(rule), message }) if file == "test.toml" => {
                (rule, message)
            }
            other => panic!("expected a rule error, got {other:?}"),
        }
    }

    #[test]
    fn secret_group_defaults_to_one_when_the_regex_has_a_group() {
        let set = RuleSet::from_toml(
            "[[rules]]\nid='a'\nregex='x(y)'\nkeywords=['x']\n[[rules]]\nid='b'\nregex='xy'\nkeywords=['x']\n",
            "t",
        )
        .expect("valid");
        assert_eq!(set.rules()[0].secret_group, 1);
        assert_eq!(set.rules()[1].secret_group, 0);
    }

    #[test]
    fn bad_entropy_and_severity_name_the_rule() {
        let (rule, msg) = err_rule("[[rules]]\nid='e'\nregex='x'\nentropy=-1.0\n");
        assert_eq!(rule, "e");
        assert!(msg.contains("entropy"), "{msg}");
        let (rule, msg) = err_rule("[[rules]]\nid='s'\nregex='x'\nseverity='urgent'\n");
        assert_eq!(rule, "s");
        assert!(msg.contains("severity"), "{msg}");
    }

    #[test]
    fn extend_replaces_a_rule_with_the_same_id_in_place() {
        let mut a =
            RuleSet::from_toml("[[rules]]\nid='a'\nregex='x'\n[[rules]]\nid='b'\nregex='y'\n", "a").unwrap();
        let b =
            RuleSet::from_toml("[[rules]]\nid='a'\nregex='z'\n[[rules]]\nid='c'\nregex='w'\n", "b").unwrap();
        let before = a.hash();
        a.extend(b).unwrap();
        let ids: Vec<&str> = a.rules().iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(a.rules()[0].regex, "z");
        assert_ne!(before, a.hash());
    }

    #[test]
    fn retain_keeps_the_order_of_what_it_keeps() {
        let mut set = RuleSet::from_toml(
            "[[rules]]\nid='a'\nregex='x'\n[[rules]]\nid='b'\nregex='y'\n[[rules]]\nid='c'\nregex='z'\n",
            "t",
        )
        .unwrap();
        set.retain(|r| r.id != "b");
        let ids: Vec<&str> = set.rules().iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a", "c"]);
    }

    #[test]
    fn provider_category_and_remediation_are_read() {
        let set = RuleSet::from_toml(
            "[[rules]]\nid='a'\nregex='x'\nprovider='Acme'\ncategory='saas'\nremediation='Revoke it.'\n[[rules]]\nid='b'\nregex='y'\nprovider=' '\n",
            "t",
        )
        .unwrap();
        let a = &set.rules()[0];
        assert_eq!((a.provider.as_deref(), a.category.as_deref()), (Some("Acme"), Some("saas")));
        assert_eq!(a.remediation.as_deref(), Some("Revoke it."));
        assert_eq!(set.rules()[1].provider, None, "a blank provider is none");
    }

    #[test]
    fn max_len_is_range_checked() {
        let set = RuleSet::from_toml("[[rules]]\nid='k'\nregex='x{2,}'\nmax_len=8192\n", "t").unwrap();
        assert_eq!(set.rules()[0].max_len, Some(8192));
        for bad in ["0", "-5", "1000000"] {
            let (rule, msg) = err_rule(&format!("[[rules]]\nid='k'\nregex='x'\nmax_len={bad}\n"));
            assert_eq!(rule, "k");
            assert!(msg.contains("max_len"), "{msg}");
        }
    }

    #[test]
    fn foreign_rules_get_the_builtin_caps_and_pairing() {
        let set = RuleSet::from_toml(
            "[[rules]]\nid='aws-secret-access-key'\nregex='x(y)'\n[[rules]]\nid='k'\nregex='-----BEGIN X-----[a-z]{4,}'\n",
            "t",
        )
        .unwrap();
        let pair = set.rules()[0].pair.as_ref().expect("paired");
        assert_eq!((pair.with.as_str(), pair.within), ("aws-access-key-id", 512));
        assert_eq!(set.rules()[1].max_len, Some(20 << 10));
    }

    #[test]
    fn pair_is_read_and_checked() {
        let set = RuleSet::from_toml(
            "[[rules]]\nid='s'\nregex='x'\npair={ with = 'i', within = 64 }\n[[rules]]\nid='i'\nregex='y'\n",
            "t",
        )
        .unwrap();
        assert_eq!(set.rules()[0].pair, Some(Pair { with: "i".into(), within: 64 }));
        assert_eq!(set.rules()[1].pair, None);
        for bad in
            ["{ with = 'i' }", "{ within = 3 }", "{ with = '', within = 3 }", "{ with = 'i', within = -1 }"]
        {
            let (rule, msg) = err_rule(&format!("[[rules]]\nid='s'\nregex='x'\npair={bad}\n"));
            assert_eq!(rule, "s");
            assert!(msg.contains("pair"), "{msg}");
        }
    }

    #[test]
    fn each_validator_has_one_name_everywhere() {
        for (v, name) in Validator::ALL {
            assert_eq!(v.name(), name);
            assert_eq!(Validator::from_name(name), Some(v));
            assert_eq!(v.to_string(), name, "Display");
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("{name:?}"), "serde");
            assert_eq!(serde_json::from_str::<Validator>(&format!("{name:?}")).unwrap(), v);
            let set = RuleSet::from_toml(&format!("[[rules]]\nid='v'\nregex='x'\nvalidator='{name}'\n"), "t")
                .unwrap();
            assert_eq!(set.rules()[0].validator, v, "rule files");
        }
        assert_eq!(Validator::AwsKeyId.to_string(), "aws-key-id");
        assert!(serde_json::from_str::<Validator>("\"awskeyid\"").is_err());
    }

    #[test]
    fn hash_is_stable_and_hex() {
        let a = RuleSet::builtin();
        assert_eq!(a.hash(), RuleSet::builtin().hash());
        assert_eq!(a.hash().len(), 64);
    }
}
