//! Rules: the data model and the TOML loader.
//!
//! The file format is a superset of the gitleaks configuration format (`[[rules]]` with `id`,
//! `description`, `regex`, `secretGroup`, `keywords`, `entropy`, `path`, `[[rules.allowlists]]`,
//! global `[allowlist]` / `[[allowlists]]`, `[extend]`), so a user's gitleaks file loads
//! unchanged. layerleak adds `provider`, `category`, `remediation`, `validator`, `severity`, `nokeyword_reason` and
//! `[rules.examples]`.
//!
//! # Security
//!
//! Rule files supplied by users are untrusted text: every field is checked here (regexes are
//! compiled with a size limit, group numbers and entropy floors are range-checked) and a bad rule
//! is an [`Error::Rule`] naming the rule, never a panic.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::image::sha256_hex;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
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

    fn from_name(name: &str) -> Option<Severity> {
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
    /// The regex, compiled as a byte regex with Unicode off.
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
    /// matches can be longer than the engine's default cap (4 KiB; 20 KiB for key blocks).
    pub max_len: Option<usize>,
}

impl Rule {
    /// Whether this is a generic (entropy-gated, `generic-*`) rule.
    pub fn is_generic(&self) -> bool {
        self.id.starts_with("generic-")
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
                let file = RuleSet::parse(text, name, Check::Parse).map_err(|e| e.to_string())?;
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
    pub fn from_toml(text: &str, origin: &str) -> crate::Result<RuleSet> {
        RuleSet::parse(text, origin, Check::Compile)
    }

    fn parse(text: &str, origin: &str, check: Check) -> crate::Result<RuleSet> {
        let raw: RawFile = toml::from_str(text).map_err(|e| Error::RulesFile {
            file: origin.to_string(),
            rule: None,
            message: format!("not a rules file: {e}"),
        })?;
        let mut set = RuleSet::default();
        let mut seen: HashMap<String, ()> = HashMap::new();
        for (i, r) in raw.rules.into_iter().enumerate() {
            let rule = convert_rule(r, i, origin, check)?;
            if seen.insert(rule.id.clone(), ()).is_some() {
                return Err(rule_err(origin, &rule.id, "duplicate id"));
            }
            set.rules.push(rule);
        }
        let globals = raw.allowlist.into_iter().chain(raw.allowlists);
        for (i, a) in globals.enumerate() {
            set.allowlists.push(convert_allowlist(a, &Where { file: origin, rule: None, index: i }, check)?);
        }
        Ok(set)
    }

    /// Adds `other`'s rules and global allowlists. A rule of `other` whose id already exists
    /// replaces the existing rule in place (this is how a user file overrides a built-in rule).
    pub fn extend(&mut self, other: RuleSet) -> crate::Result<()> {
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
}

#[derive(Deserialize, Default)]
struct RawFile {
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    allowlist: Option<RawAllowlist>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawRule {
    id: Option<String>,
    description: Option<String>,
    title: Option<String>,
    provider: Option<String>,
    category: Option<String>,
    remediation: Option<String>,
    regex: Option<String>,
    secret_group: Option<i64>,
    keywords: Option<Vec<String>>,
    entropy: Option<f64>,
    path: Option<String>,
    validator: Option<String>,
    severity: Option<String>,
    #[serde(alias = "nokeyword_reason")]
    nokeyword_reason: Option<String>,
    #[serde(alias = "max_len")]
    max_len: Option<i64>,
    examples: Option<RawExamples>,
    allowlist: Option<RawAllowlist>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
}

#[derive(Deserialize, Default)]
struct RawExamples {
    path: Option<String>,
    #[serde(default)]
    positive: Vec<String>,
    #[serde(default)]
    negative: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawAllowlist {
    description: Option<String>,
    #[serde(default)]
    regexes: Vec<String>,
    regex_target: Option<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    condition: Option<String>,
}

/// The keys of a rules file that the loader reads, and those gitleaks defines that have no
/// effect on a scan of an image (titles, tags, git commits): every other key is unknown to
/// [`crate::detect::lint_toml`]. Kept in step with [`RawFile`], [`RawRule`], [`RawExamples`] and
/// [`RawAllowlist`].
pub(crate) const FILE_KEYS: &[&str] = &["title", "description", "rules", "allowlist", "allowlists"];
/// See [`FILE_KEYS`].
pub(crate) const RULE_KEYS: &[&str] = &[
    "id",
    "description",
    "title",
    "provider",
    "category",
    "remediation",
    "regex",
    "secretGroup",
    "keywords",
    "entropy",
    "path",
    "validator",
    "severity",
    "nokeywordReason",
    "nokeyword_reason",
    "maxLen",
    "max_len",
    "examples",
    "allowlist",
    "allowlists",
    "tags",
];
/// See [`FILE_KEYS`].
pub(crate) const EXAMPLE_KEYS: &[&str] = &["path", "positive", "negative"];
/// See [`FILE_KEYS`].
pub(crate) const ALLOWLIST_KEYS: &[&str] =
    &["description", "regexes", "regexTarget", "stopwords", "paths", "condition", "commits"];

/// An error in rule `rule` of rules file `file`.
fn rule_err(file: &str, rule: &str, message: impl Into<String>) -> Error {
    Error::RulesFile { file: file.to_string(), rule: Some(rule.to_string()), message: message.into() }
}

/// Which allowlist of which file: a rule's (`rule`) or a global one, the `index`-th.
struct Where<'a> {
    file: &'a str,
    rule: Option<&'a str>,
    index: usize,
}

impl Where<'_> {
    fn err(&self, message: String) -> Error {
        Error::RulesFile {
            file: self.file.to_string(),
            rule: self.rule.map(str::to_string),
            message: format!("allowlist #{}: {message}", self.index + 1),
        }
    }
}

/// How far a rule file's regexes are checked when it is read.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Check {
    /// Compiled, as the engine will: a regex over the size limit is refused now, not at its
    /// first keyword hit. For rule files given at run time.
    Compile,
    /// Parsed only: for the embedded files, whose every regex a test compiles. Compiling over a
    /// thousand regexes would cost every start a few seconds; the engine compiles each rule's
    /// regex on its first keyword hit.
    Parse,
}

impl Check {
    /// Checks `re`; the number of capture groups it has.
    fn regex(self, re: &str) -> Result<usize, String> {
        match self {
            Check::Compile => compile(re).map(|r| r.captures_len() - 1).map_err(|e| e.to_string()),
            Check::Parse => {
                parse(re).map(|h| h.properties().explicit_captures_len()).map_err(|e| e.to_string())
            }
        }
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

fn convert_rule(r: RawRule, index: usize, origin: &str, check: Check) -> crate::Result<Rule> {
    let id = match r.id {
        Some(id) if !id.trim().is_empty() => id,
        _ => return Err(rule_err(origin, &format!("#{}", index + 1), "missing id")),
    };
    let regex = match r.regex {
        Some(re) if !re.is_empty() => re,
        _ => return Err(rule_err(origin, &id, "missing regex")),
    };
    let err = |message: String| rule_err(origin, &id, message);
    let groups = check.regex(&regex).map_err(|e| err(format!("bad regex: {e}")))?;
    let secret_group = match r.secret_group {
        None => usize::from(groups >= 1),
        Some(g) if g >= 0 && (g as u64) <= groups as u64 => g as usize,
        Some(g) => return Err(err(format!("secretGroup {g} out of range (the regex has {groups} groups)"))),
    };
    if let Some(e) = r.entropy {
        if !e.is_finite() || !(0.0..=8.0).contains(&e) {
            return Err(err(format!("bad entropy {e}: must be between 0 and 8")));
        }
    }
    if let Some(p) = &r.path {
        check.regex(p).map_err(|e| err(format!("bad path regex: {e}")))?;
    }
    let max_len = match r.max_len {
        None => None,
        Some(n) if (1..=MAX_MATCH_LEN as i64).contains(&n) => Some(n as usize),
        Some(n) => return Err(err(format!("bad max_len {n}: must be between 1 and {MAX_MATCH_LEN}"))),
    };
    let validator = match r.validator.as_deref() {
        None => Validator::None,
        Some(name) => Validator::from_name(name).ok_or_else(|| {
            err(format!("unknown validator {name:?} (one of {})", Validator::ALL.map(|(_, n)| n).join(", ")))
        })?,
    };
    let severity = match r.severity.as_deref() {
        None => Severity::High,
        Some(name) => Severity::from_name(name)
            .ok_or_else(|| err(format!("unknown severity {name:?} (critical, high, medium, low)")))?,
    };
    let keywords: Vec<String> = r
        .keywords
        .unwrap_or_default()
        .into_iter()
        .filter(|k| !k.is_empty())
        .map(|k| k.to_lowercase())
        .collect();
    let examples = r.examples.unwrap_or_default();
    let mut allowlists = Vec::new();
    for (i, a) in r.allowlist.into_iter().chain(r.allowlists).enumerate() {
        allowlists.push(convert_allowlist(a, &Where { file: origin, rule: Some(&id), index: i }, check)?);
    }
    Ok(Rule {
        title: r.description.or(r.title).unwrap_or_else(|| id.clone()),
        provider: r.provider.filter(|p| !p.trim().is_empty()),
        category: r.category.filter(|c| !c.trim().is_empty()),
        remediation: r.remediation.filter(|c| !c.trim().is_empty()),
        id,
        keywords,
        regex,
        secret_group,
        min_entropy: r.entropy,
        path: r.path,
        validator,
        severity,
        examples: Examples {
            path: examples.path.unwrap_or_else(|| "example.txt".to_string()),
            positive: examples.positive,
            negative: examples.negative,
        },
        allowlists,
        nokeyword_reason: r.nokeyword_reason,
        max_len,
    })
}

fn convert_allowlist(a: RawAllowlist, at: &Where<'_>, check: Check) -> crate::Result<Allowlist> {
    // The embedded files' allowlists (hundreds) are left to the test that compiles them.
    if check == Check::Compile {
        for re in a.regexes.iter().chain(&a.paths) {
            compile(re).map_err(|e| at.err(format!("bad regex: {e}")))?;
        }
    }
    let regex_target = match a.regex_target.as_deref() {
        None | Some("secret") => RegexTarget::Secret,
        Some("match") => RegexTarget::Match,
        Some("line") => RegexTarget::Line,
        Some(other) => return Err(at.err(format!("unknown regexTarget {other:?}"))),
    };
    let all = match a.condition.as_deref().map(str::to_ascii_uppercase).as_deref() {
        None | Some("OR") => false,
        Some("AND") => true,
        Some(other) => return Err(at.err(format!("unknown condition {other:?}"))),
    };
    Ok(Allowlist {
        description: a.description.unwrap_or_default(),
        regexes: a.regexes,
        regex_target,
        stopwords: a.stopwords.into_iter().map(|s| s.to_lowercase()).collect(),
        paths: a.paths,
        all,
    })
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
    fn hash_is_stable_and_hex() {
        let a = RuleSet::builtin();
        assert_eq!(a.hash(), RuleSet::builtin().hash());
        assert_eq!(a.hash().len(), 64);
    }
}
