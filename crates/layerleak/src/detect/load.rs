//! Reading rule files: the raw TOML shapes ([`RawRule`] and friends, also filled by the YAML
//! pack reader), the keys the linter knows, and the conversion of a raw rule into a checked
//! [`Rule`], with the defaults that keep a foreign file's rules finding what the built-in rules
//! of their kind find ([`foreign_defaults`]).
//!
//! # Security
//!
//! Rule files supplied by users are untrusted text: every field is checked here (regexes are
//! compiled with a size limit, group numbers and entropy floors are range-checked) and a bad rule
//! is an [`Error::RulesFile`] naming the rule, never a panic.

use serde::Deserialize;

use super::dialect::{translate, Dialect};
use super::rule::{
    compile, parse, Allowlist, Examples, Pair, Refusal, RegexTarget, Required, Rule, Severity, Validator,
    MAX_MATCH_LEN,
};
use crate::error::Error;

/// A TOML rules file.
#[derive(Deserialize, Default)]
pub(super) struct RawFile {
    #[serde(default)]
    pub(super) rules: Vec<RawRule>,
    #[serde(default)]
    pub(super) allowlist: Option<RawAllowlist>,
    #[serde(default)]
    pub(super) allowlists: Vec<RawAllowlist>,
    pub(super) extend: Option<RawExtend>,
}

/// gitleaks `[extend]`. `useDefault` is read and has no effect of its own: layerleak's built-in
/// rules are on unless the caller turns them off.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawExtend {
    #[allow(dead_code)]
    use_default: Option<bool>,
    pub(super) path: Option<String>,
    #[serde(default)]
    pub(super) disabled_rules: Vec<String>,
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
    pub(crate) pair: Option<RawPair>,
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
pub(crate) struct RawPair {
    with: Option<String>,
    within: Option<i64>,
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
    "pair",
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
pub(crate) const PAIR_KEYS: &[&str] = &["with", "within"];
/// See [`FILE_KEYS`].
pub(crate) const EXTEND_KEYS: &[&str] = &["useDefault", "path", "disabledRules"];
/// See [`FILE_KEYS`].
pub(crate) const ALLOWLIST_KEYS: &[&str] =
    &["description", "regexes", "regexTarget", "stopwords", "paths", "condition", "commits"];
/// See [`FILE_KEYS`]: a file-wide allowlist's keys, which may also name the rules it applies to.
pub(crate) const GLOBAL_ALLOWLIST_KEYS: &[&str] =
    &["description", "regexes", "regexTarget", "stopwords", "paths", "condition", "commits", "targetRules"];

/// An error in rule `rule` of rules file `file`.
pub(super) fn rule_err(file: &str, rule: &str, message: impl Into<String>) -> Error {
    Error::RulesFile { file: file.to_string(), rule: Some(rule.to_string()), message: message.into() }
}

/// Which allowlist of which file: a rule's (`rule`) or a global one, the `index`-th.
pub(super) struct Where<'a> {
    pub(super) file: &'a str,
    pub(super) rule: Option<&'a str>,
    pub(super) index: usize,
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

/// Converts raw rule `index` of file `origin` into a checked rule; the constructs its regexes
/// needed translated.
pub(super) fn convert_rule(
    mut r: RawRule,
    index: usize,
    origin: &str,
    check: Check,
) -> Result<(Rule, Vec<&'static str>), Problem> {
    let id = match r.id.take() {
        Some(id) if !id.trim().is_empty() => id,
        _ => return Err(Problem::Bad(rule_err(origin, &format!("#{}", index + 1), "missing id"))),
    };
    let at = RuleAt { origin, id: &id, check };
    let mut constructs: Vec<&'static str> = Vec::new();
    let path = match r.path.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Some(at.regex(p, "path regex", &mut constructs)?.0),
        None => None,
    };
    let (regex, groups) = match r.regex.as_deref().filter(|re| !re.is_empty()) {
        Some(re) => at.regex(re, "regex", &mut constructs)?,
        // A path-only rule: the finding is the file.
        None if path.is_some() => (String::new(), 0),
        None => return Err(at.bad("missing regex".into())),
    };
    let first_group = r.secret_group.is_none() && groups >= 1 && check != Check::Parse;
    let secret_group = match r.secret_group {
        None => usize::from(groups >= 1),
        Some(g) if g >= 0 && (g as u64) <= groups as u64 => g as usize,
        Some(g) => {
            return Err(at.bad(format!("secretGroup {g} out of range (the regex has {groups} groups)")))
        }
    };
    let mut allowlists = Vec::new();
    for (i, a) in r.allowlist.take().into_iter().chain(std::mem::take(&mut r.allowlists)).enumerate() {
        let (allowlist, c) = convert_allowlist(a, &Where { file: origin, rule: Some(&id), index: i }, check)?;
        constructs.extend(c);
        allowlists.push(allowlist);
    }
    let mut seen = Vec::new();
    constructs.retain(|c| {
        !seen.contains(c) && {
            seen.push(*c);
            true
        }
    });
    let mut rule = at.fields(r, regex, secret_group, first_group)?;
    rule.path = path;
    rule.allowlists = allowlists;
    rule.id = id;
    if check != Check::Parse {
        foreign_defaults(&mut rule);
    }
    Ok((rule, constructs))
}

/// The rule being converted: where it is, for its errors.
struct RuleAt<'a> {
    origin: &'a str,
    id: &'a str,
    check: Check,
}

impl RuleAt<'_> {
    fn bad(&self, message: String) -> Problem {
        Problem::Bad(rule_err(self.origin, self.id, message))
    }

    /// Checks `re` (`what`: which of the rule's regexes it is): the regex as the engine reads
    /// it and its capture groups, the constructs translated added to `constructs`.
    fn regex(
        &self,
        re: &str,
        what: &str,
        constructs: &mut Vec<&'static str>,
    ) -> Result<(String, usize), Problem> {
        match self.check.regex(re) {
            Ok(c) => {
                constructs.extend(c.constructs);
                Ok((c.regex, c.groups))
            }
            Err(RegexProblem::Refused(why)) => Err(Problem::Refused(Refusal {
                rule: self.id.to_string(),
                message: format!("{what}: {why}"),
            })),
            Err(RegexProblem::Bad(e)) => Err(self.bad(format!("bad {what}: {e}"))),
        }
    }

    /// The rule's other fields, each checked; its id, path and allowlists are left empty.
    fn fields(
        &self,
        r: RawRule,
        regex: String,
        secret_group: usize,
        first_group: bool,
    ) -> Result<Rule, Problem> {
        if let Some(e) = r.entropy {
            if !e.is_finite() || !(0.0..=8.0).contains(&e) {
                return Err(self.bad(format!("bad entropy {e}: must be between 0 and 8")));
            }
        }
        let max_len = match r.max_len {
            None => None,
            Some(n) if (1..=MAX_MATCH_LEN as i64).contains(&n) => Some(n as usize),
            Some(n) => {
                return Err(self.bad(format!("bad max_len {n}: must be between 1 and {MAX_MATCH_LEN}")))
            }
        };
        let validator = self.validator(r.validator.as_deref())?;
        let severity = match r.severity.as_deref() {
            None => Severity::High,
            Some(name) => Severity::from_name(name).ok_or_else(|| {
                self.bad(format!("unknown severity {name:?} (critical, high, medium, low)"))
            })?,
        };
        let keywords = self.keywords(r.keywords.unwrap_or_default(), &regex);
        let examples = r.examples.unwrap_or_default();
        Ok(Rule {
            title: r.description.or(r.title).unwrap_or_else(|| self.id.to_string()),
            provider: r.provider.filter(|p| !p.trim().is_empty()),
            category: r.category.filter(|c| !c.trim().is_empty()),
            remediation: r.remediation.filter(|c| !c.trim().is_empty()),
            id: String::new(),
            keywords,
            regex,
            secret_group,
            min_entropy: r.entropy,
            path: None,
            validator,
            severity,
            examples: Examples {
                path: examples.path.unwrap_or_else(|| "example.txt".to_string()),
                positive: examples.positive,
                negative: examples.negative,
            },
            allowlists: Vec::new(),
            nokeyword_reason: r.nokeyword_reason,
            max_len,
            pair: self.pair(r.pair)?,
            tags: r.tags,
            hidden: r.skip_report.unwrap_or(false),
            first_group,
            required: self.required(r.required)?,
        })
    }

    /// A `validator = "<name>"`, checked.
    fn validator(&self, name: Option<&str>) -> Result<Validator, Problem> {
        let Some(name) = name else { return Ok(Validator::None) };
        Validator::from_name(name).ok_or_else(|| {
            let names = Validator::ALL.map(|(_, n)| n).join(", ");
            self.bad(format!("unknown validator {name:?} (one of {names})"))
        })
    }

    /// The rule's keywords, lowercase.
    fn keywords(&self, raw: Vec<String>, regex: &str) -> Vec<String> {
        let mut keywords: Vec<String> =
            raw.into_iter().filter(|k| !k.is_empty()).map(|k| k.to_lowercase()).collect();
        // A user rule without keywords runs only around what every match of it holds, when that
        // can be told: the same findings, without running its regex over every byte.
        if keywords.is_empty() && !regex.is_empty() && self.check != Check::Parse {
            keywords = super::literals::required_literals(regex).unwrap_or_default();
        }
        keywords
    }

    /// A `pair = { with, within }`, checked.
    fn pair(&self, pair: Option<RawPair>) -> Result<Option<Pair>, Problem> {
        match pair {
            None => Ok(None),
            Some(RawPair { with: Some(with), within: Some(within) })
                if !with.trim().is_empty() && within >= 0 =>
            {
                Ok(Some(Pair { with, within: within as u64 }))
            }
            Some(_) => {
                Err(self.bad("bad pair: needs `with` (a rule id) and `within` (bytes, 0 or more)".into()))
            }
        }
    }

    /// `[[rules.required]]`, checked.
    fn required(&self, raw: Vec<RawRequired>) -> Result<Vec<Required>, Problem> {
        let mut required = Vec::new();
        for (i, q) in raw.into_iter().enumerate() {
            let Some(req_id) = q.id.filter(|id| !id.trim().is_empty()) else {
                return Err(self.bad(format!("required #{}: missing id", i + 1)));
            };
            let bound = |n: Option<i64>, what: &str| match n {
                None => Ok(None),
                Some(n) if n >= 0 => Ok(Some(n as u64)),
                Some(n) => Err(self.bad(format!("required {req_id}: bad {what} {n}"))),
            };
            let within_lines = bound(q.within_lines, "withinLines")?;
            let within_columns = bound(q.within_columns, "withinColumns")?;
            required.push(Required { id: req_id, within_lines, within_columns });
        }
        Ok(required)
    }
}

/// Cap on the matches of a key-block rule that sets no `max_len`: the key rules' own bound (a
/// 16 KiB body) plus armor headers, so a PGP secret key with several large subkeys is matched
/// whole.
const KEY_BLOCK_MAX_LEN: usize = 20 << 10;
/// How far from an AWS access key id an AWS secret key of a foreign file is paired with it.
const AWS_PAIR_WITHIN: u64 = 512;

/// What a rule of a file read at run time (a gitleaks file, a rule pack, a user's own rules),
/// which knows nothing of `max_len` and `pair`, gets in their place, so it finds what the
/// built-in rule of its kind finds: a key block (`validator = "pem"` or a `-----BEGIN` regex)
/// is capped as the built-in key rules are, and gitleaks' `aws-secret-access-key` pairs with
/// `aws-access-key-id` as the built-in one does. The built-in files set both themselves (a test
/// checks that this adds nothing to them).
fn foreign_defaults(rule: &mut Rule) {
    if rule.max_len.is_none() && (rule.validator == Validator::Pem || rule.regex.contains("-----BEGIN")) {
        rule.max_len = Some(KEY_BLOCK_MAX_LEN);
    }
    if rule.pair.is_none() && rule.id == "aws-secret-access-key" {
        rule.pair = Some(Pair { with: "aws-access-key-id".into(), within: AWS_PAIR_WITHIN });
    }
}

/// Converts an allowlist; the constructs its regexes needed translated.
pub(super) fn convert_allowlist(
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
    use super::foreign_defaults;
    use crate::detect::RuleSet;

    #[test]
    fn builtin_rules_need_no_foreign_defaults() {
        for rule in RuleSet::builtin().rules() {
            let mut defaulted = rule.clone();
            foreign_defaults(&mut defaulted);
            assert_eq!(&defaulted, rule, "{}: set max_len / pair in its rule file", rule.id);
        }
    }
}
