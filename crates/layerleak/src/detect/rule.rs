//! Rules: the data model and the TOML loader.
//!
//! The file format is a superset of the gitleaks configuration format (`[[rules]]` with `id`,
//! `description`, `regex`, `secretGroup`, `keywords`, `entropy`, `path`, `tags`, `skipReport`,
//! `[[rules.allowlists]]`, `[[rules.required]]`, global `[allowlist]` / `[[allowlists]]`,
//! `[extend]`), so a user's
//! gitleaks file loads unchanged. layerleak adds `provider`, `category`, `remediation`,
//! `validator`, `severity`, `nokeyword_reason` and `[rules.examples]`.
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
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::dialect::{translate, Dialect};
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
    /// matches can be longer than the engine's default cap (4 KiB; 20 KiB for key blocks).
    pub max_len: Option<usize>,
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

#[derive(Deserialize, Default)]
struct RawFile {
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    allowlist: Option<RawAllowlist>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
    extend: Option<RawExtend>,
}

/// gitleaks `[extend]`. `useDefault` is read and has no effect of its own: layerleak's built-in
/// rules are on unless the caller turns them off.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawExtend {
    #[allow(dead_code)]
    use_default: Option<bool>,
    path: Option<String>,
    #[serde(default)]
    disabled_rules: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawRule {
    pub(crate) id: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) title: Option<String>,
    pub(crate) provider: Option<String>,
    pub(crate) category: Option<String>,
    pub(crate) remediation: Option<String>,
    pub(crate) regex: Option<String>,
    pub(crate) secret_group: Option<i64>,
    pub(crate) keywords: Option<Vec<String>>,
    pub(crate) entropy: Option<f64>,
    pub(crate) path: Option<String>,
    pub(crate) validator: Option<String>,
    pub(crate) severity: Option<String>,
    #[serde(alias = "nokeyword_reason")]
    pub(crate) nokeyword_reason: Option<String>,
    #[serde(alias = "max_len")]
    pub(crate) max_len: Option<i64>,
    pub(crate) examples: Option<RawExamples>,
    pub(crate) allowlist: Option<RawAllowlist>,
    #[serde(default)]
    pub(crate) allowlists: Vec<RawAllowlist>,
    #[serde(default)]
    pub(crate) tags: Vec<String>,
    pub(crate) skip_report: Option<bool>,
    #[serde(default)]
    pub(crate) required: Vec<RawRequired>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawRequired {
    id: Option<String>,
    within_lines: Option<i64>,
    within_columns: Option<i64>,
}

#[derive(Deserialize, Default)]
pub(crate) struct RawExamples {
    pub(crate) path: Option<String>,
    #[serde(default)]
    pub(crate) positive: Vec<String>,
    #[serde(default)]
    pub(crate) negative: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawAllowlist {
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) regexes: Vec<String>,
    pub(crate) regex_target: Option<String>,
    #[serde(default)]
    pub(crate) stopwords: Vec<String>,
    #[serde(default)]
    pub(crate) paths: Vec<String>,
    pub(crate) condition: Option<String>,
    #[serde(default)]
    pub(crate) target_rules: Vec<String>,
}

/// The keys of a rules file that the loader reads, and those gitleaks defines that have no
/// effect on a scan of an image (titles, tags, git commits): every other key is unknown to
/// [`crate::detect::lint_toml`]. Kept in step with [`RawFile`], [`RawRule`], [`RawExamples`] and
/// [`RawAllowlist`].
pub(crate) const FILE_KEYS: &[&str] = &["title", "description", "rules", "allowlist", "allowlists", "extend"];
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
    "skipReport",
    "required",
];
/// See [`FILE_KEYS`].
pub(crate) const EXAMPLE_KEYS: &[&str] = &["path", "positive", "negative"];
/// See [`FILE_KEYS`].
pub(crate) const REQUIRED_KEYS: &[&str] = &["id", "withinLines", "withinColumns"];
/// See [`FILE_KEYS`].
pub(crate) const EXTEND_KEYS: &[&str] = &["useDefault", "path", "disabledRules"];
/// See [`FILE_KEYS`].
pub(crate) const ALLOWLIST_KEYS: &[&str] =
    &["description", "regexes", "regexTarget", "stopwords", "paths", "condition", "commits"];
/// See [`FILE_KEYS`]: a file-wide allowlist's keys, which may also name the rules it applies to.
pub(crate) const GLOBAL_ALLOWLIST_KEYS: &[&str] =
    &["description", "regexes", "regexTarget", "stopwords", "paths", "condition", "commits", "targetRules"];

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
pub(crate) enum Check {
    /// Translated from the file's dialect and compiled, as the engine will: a regex over the
    /// size limit is refused now, not at its first keyword hit. For rule files given at run time.
    Compile(Dialect),
    /// Parsed only: for the embedded files, whose every regex a test compiles. Compiling over a
    /// thousand regexes would cost every start a few seconds; the engine compiles each rule's
    /// regex on its first keyword hit.
    Parse,
}

/// A regex as the engine will read it.
struct Checked {
    regex: String,
    /// The constructs translated from the file's dialect.
    constructs: Vec<&'static str>,
    /// Capture groups.
    groups: usize,
}

/// Why a regex cannot be used.
enum RegexProblem {
    /// It means what the engine cannot express.
    Refused(String),
    /// It is invalid.
    Bad(String),
}

/// Why a rule or allowlist was not loaded.
pub(crate) enum Problem {
    /// It means what the engine cannot express: it is left out, the rest of the file loads.
    Refused(Refusal),
    /// It is invalid: the file does not load.
    Bad(Error),
}

impl Check {
    /// Checks `re`: in the dialect's syntax when it is one the engine can express, else (a
    /// pattern the dialect rejects) as written in the engine's syntax.
    fn regex(self, re: &str) -> Result<Checked, RegexProblem> {
        let dialect = match self {
            Check::Parse => {
                return parse(re)
                    .map(|h| Checked {
                        regex: re.to_string(),
                        constructs: Vec::new(),
                        groups: h.properties().explicit_captures_len(),
                    })
                    .map_err(|e| RegexProblem::Bad(e.to_string()));
            }
            Check::Compile(dialect) => dialect,
        };
        let (regex, constructs) = match translate(re, dialect) {
            Ok(t) => (t.regex, t.constructs),
            Err(u) if u.supported_by_source => return Err(RegexProblem::Refused(u.to_string())),
            Err(_) => (re.to_string(), Vec::new()),
        };
        match compile(&regex) {
            Ok(r) => Ok(Checked { groups: r.captures_len() - 1, regex, constructs }),
            Err(e) => Err(RegexProblem::Bad(e.to_string())),
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

fn convert_rule(
    r: RawRule,
    index: usize,
    origin: &str,
    check: Check,
) -> Result<(Rule, Vec<&'static str>), Problem> {
    let id = match r.id {
        Some(id) if !id.trim().is_empty() => id,
        _ => return Err(Problem::Bad(rule_err(origin, &format!("#{}", index + 1), "missing id"))),
    };
    let bad = |message: String| Problem::Bad(rule_err(origin, &id, message));
    let checked = |re: &str, what: &str| {
        check.regex(re).map_err(|p| match p {
            RegexProblem::Refused(why) => {
                Problem::Refused(Refusal { rule: id.clone(), message: format!("{what}: {why}") })
            }
            RegexProblem::Bad(e) => Problem::Bad(rule_err(origin, &id, format!("bad {what}: {e}"))),
        })
    };
    let mut constructs: Vec<&'static str> = Vec::new();
    let path = match r.path.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => {
            let c = checked(p, "path regex")?;
            constructs.extend(c.constructs);
            Some(c.regex)
        }
        None => None,
    };
    let (regex, groups) = match r.regex.as_deref().filter(|re| !re.is_empty()) {
        Some(re) => {
            let c = checked(re, "regex")?;
            constructs.extend(c.constructs);
            (c.regex, c.groups)
        }
        // A path-only rule: the finding is the file.
        None if path.is_some() => (String::new(), 0),
        None => return Err(bad("missing regex".into())),
    };
    let first_group = r.secret_group.is_none() && groups >= 1 && check != Check::Parse;
    let secret_group = match r.secret_group {
        None => usize::from(groups >= 1),
        Some(g) if g >= 0 && (g as u64) <= groups as u64 => g as usize,
        Some(g) => return Err(bad(format!("secretGroup {g} out of range (the regex has {groups} groups)"))),
    };
    if let Some(e) = r.entropy {
        if !e.is_finite() || !(0.0..=8.0).contains(&e) {
            return Err(bad(format!("bad entropy {e}: must be between 0 and 8")));
        }
    }
    let max_len = match r.max_len {
        None => None,
        Some(n) if (1..=MAX_MATCH_LEN as i64).contains(&n) => Some(n as usize),
        Some(n) => return Err(bad(format!("bad max_len {n}: must be between 1 and {MAX_MATCH_LEN}"))),
    };
    let validator = match r.validator.as_deref() {
        None => Validator::None,
        Some(name) => Validator::from_name(name).ok_or_else(|| {
            bad(format!("unknown validator {name:?} (one of {})", Validator::ALL.map(|(_, n)| n).join(", ")))
        })?,
    };
    let severity = match r.severity.as_deref() {
        None => Severity::High,
        Some(name) => Severity::from_name(name)
            .ok_or_else(|| bad(format!("unknown severity {name:?} (critical, high, medium, low)")))?,
    };
    let mut keywords: Vec<String> = r
        .keywords
        .unwrap_or_default()
        .into_iter()
        .filter(|k| !k.is_empty())
        .map(|k| k.to_lowercase())
        .collect();
    // A user rule without keywords runs only around what every match of it holds, when that can
    // be told: the same findings, without running its regex over every byte.
    if keywords.is_empty() && !regex.is_empty() && check != Check::Parse {
        keywords = super::literals::required_literals(&regex).unwrap_or_default();
    }
    let examples = r.examples.unwrap_or_default();
    let mut allowlists = Vec::new();
    for (i, a) in r.allowlist.into_iter().chain(r.allowlists).enumerate() {
        let (allowlist, c) = convert_allowlist(a, &Where { file: origin, rule: Some(&id), index: i }, check)?;
        constructs.extend(c);
        allowlists.push(allowlist);
    }
    let mut required = Vec::new();
    for (i, q) in r.required.into_iter().enumerate() {
        let Some(req_id) = q.id.filter(|id| !id.trim().is_empty()) else {
            return Err(bad(format!("required #{}: missing id", i + 1)));
        };
        let bound = |n: Option<i64>, what: &str| match n {
            None => Ok(None),
            Some(n) if n >= 0 => Ok(Some(n as u64)),
            Some(n) => Err(bad(format!("required {req_id}: bad {what} {n}"))),
        };
        let within_lines = bound(q.within_lines, "withinLines")?;
        let within_columns = bound(q.within_columns, "withinColumns")?;
        required.push(Required { id: req_id, within_lines, within_columns });
    }
    let mut seen = Vec::new();
    constructs.retain(|c| {
        !seen.contains(c) && {
            seen.push(*c);
            true
        }
    });
    let rule = Rule {
        title: r.description.or(r.title).unwrap_or_else(|| id.clone()),
        provider: r.provider.filter(|p| !p.trim().is_empty()),
        category: r.category.filter(|c| !c.trim().is_empty()),
        remediation: r.remediation.filter(|c| !c.trim().is_empty()),
        id,
        keywords,
        regex,
        secret_group,
        min_entropy: r.entropy,
        path,
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
        tags: r.tags,
        hidden: r.skip_report.unwrap_or(false),
        first_group,
        required,
    };
    Ok((rule, constructs))
}

/// Converts an allowlist; the constructs its regexes needed translated.
fn convert_allowlist(
    a: RawAllowlist,
    at: &Where<'_>,
    check: Check,
) -> Result<(Allowlist, Vec<&'static str>), Problem> {
    let mut constructs = Vec::new();
    let mut translate_all = |res: Vec<String>| -> Result<Vec<String>, Problem> {
        // The embedded files' allowlists (hundreds) are left to the test that compiles them.
        if check == Check::Parse {
            return Ok(res);
        }
        let mut out = Vec::with_capacity(res.len());
        for re in res {
            match check.regex(&re) {
                Ok(c) => {
                    constructs.extend(c.constructs);
                    out.push(c.regex);
                }
                Err(RegexProblem::Refused(why)) => {
                    let rule = at.rule.map_or_else(|| format!("allowlist #{}", at.index + 1), str::to_string);
                    let message = format!("allowlist #{}: regex {re:?}: {why}", at.index + 1);
                    return Err(Problem::Refused(Refusal { rule, message }));
                }
                Err(RegexProblem::Bad(e)) => return Err(Problem::Bad(at.err(format!("bad regex: {e}")))),
            }
        }
        Ok(out)
    };
    let regexes = translate_all(a.regexes)?;
    let paths = translate_all(a.paths)?;
    let regex_target = match a.regex_target.as_deref() {
        None | Some("secret") => RegexTarget::Secret,
        Some("match") => RegexTarget::Match,
        Some("line") => RegexTarget::Line,
        Some(other) => return Err(Problem::Bad(at.err(format!("unknown regexTarget {other:?}")))),
    };
    let all = match a.condition.as_deref().map(str::to_ascii_uppercase).as_deref() {
        None | Some("OR") => false,
        Some("AND") => true,
        Some(other) => return Err(Problem::Bad(at.err(format!("unknown condition {other:?}")))),
    };
    let allowlist = Allowlist {
        description: a.description.unwrap_or_default(),
        regexes,
        regex_target,
        stopwords: a.stopwords.into_iter().map(|s| s.to_lowercase()).collect(),
        paths,
        all,
        // gitleaks reads `targetRules` only on file-wide allowlists (lint says so of a rule's).
        target_rules: if at.rule.is_some() { Vec::new() } else { a.target_rules },
    };
    Ok((allowlist, constructs))
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
