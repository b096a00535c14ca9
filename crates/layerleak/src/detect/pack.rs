//! YAML rule packs, the format of kingfisher and Nosey Parker: a top-level `rules:` list whose
//! entries have `id`, `name`, `pattern` (in the Hyperscan/PCRE subset, usually extended mode;
//! see `dialect`), and optionally `min_entropy`, `confidence`, `examples`,
//! `negative_examples`, `references`, `categories`, `visible`, `depends_on_rule` and
//! `pattern_requirements`.
//!
//! How each key maps onto a [`Rule`](super::Rule): `name` is its title, `min_entropy` its
//! entropy floor, `examples` and `negative_examples` its positive and negative examples,
//! `confidence` and `categories` its tags (`confidence:high`), `visible: false` makes it hidden,
//! and `pattern_requirements.ignore_if_contains` a stopword allowlist. `references` and
//! `depends_on_rule` (which feeds live validation, which layerleak does not do) are read and have
//! no effect; other keys are ignored. A pack names no keywords: each rule's are the literals
//! every match of its pattern holds.
//!
//! # Security
//!
//! A pack is untrusted text. YAML aliases are refused before the document tree is built, so an
//! alias bomb cannot expand in memory; every pattern goes through the same translation and
//! size-limited compilation as any rule.

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::{Yaml, YamlLoader};

use super::dialect::Dialect;
use super::load::{Check, RawAllowlist, RawExamples, RawRule};
use super::rule::{LoadReport, RuleSet};
use crate::error::Error;

/// Reads a YAML rule pack; `origin` names it in errors.
pub(crate) fn load(text: &str, origin: &str) -> crate::Result<(RuleSet, LoadReport)> {
    let err =
        |rule: Option<String>, message: String| Error::RulesFile { file: origin.to_string(), rule, message };
    let mut parser = Parser::new_from_str(text);
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => break,
            Ok((Event::Alias(_), mark)) => {
                return Err(err(
                    None,
                    format!("YAML alias at line {}: rule packs may not use aliases", mark.line()),
                ));
            }
            Ok(_) => {}
            Err(e) => return Err(err(None, format!("not a YAML rule pack: {e}"))),
        }
    }
    let docs =
        YamlLoader::load_from_str(text).map_err(|e| err(None, format!("not a YAML rule pack: {e}")))?;
    let mut raw = Vec::new();
    for doc in &docs {
        let entries = match &doc["rules"] {
            Yaml::Array(entries) => entries,
            Yaml::BadValue | Yaml::Null => continue,
            _ => return Err(err(None, "`rules` is not a list".into())),
        };
        for (i, entry) in entries.iter().enumerate() {
            raw.push(raw_rule(entry).map_err(|m| {
                let id = entry["id"].as_str().map_or_else(|| format!("#{}", i + 1), str::to_string);
                err(Some(id), m)
            })?);
        }
    }
    let mut report = LoadReport::default();
    let set = RuleSet::from_raw(raw, origin, Check::Compile(Dialect::Pcre), &mut report)?;
    Ok((set, report))
}

/// One pack entry as the fields of a rules-file rule.
fn raw_rule(entry: &Yaml) -> Result<RawRule, String> {
    if entry.as_hash().is_none() {
        return Err("a rule is not a mapping".into());
    }
    let text = |key: &str| -> Result<Option<String>, String> {
        match &entry[key] {
            Yaml::BadValue | Yaml::Null => Ok(None),
            Yaml::String(s) => Ok(Some(s.clone())),
            Yaml::Integer(n) => Ok(Some(n.to_string())),
            Yaml::Real(r) => Ok(Some(r.clone())),
            _ => Err(format!("`{key}` is not text")),
        }
    };
    let texts = |key: &str| -> Result<Vec<String>, String> {
        match &entry[key] {
            Yaml::BadValue | Yaml::Null => Ok(Vec::new()),
            Yaml::Array(items) => items
                .iter()
                .map(|i| {
                    i.as_str().map(str::to_string).ok_or_else(|| format!("`{key}` holds a non-text item"))
                })
                .collect(),
            Yaml::String(s) => Ok(vec![s.clone()]),
            _ => Err(format!("`{key}` is not a list")),
        }
    };
    let entropy = match &entry["min_entropy"] {
        Yaml::BadValue | Yaml::Null => None,
        y => {
            Some(y.as_f64().or_else(|| y.as_i64().map(|n| n as f64)).ok_or("`min_entropy` is not a number")?)
        }
    };
    let hidden = match &entry["visible"] {
        Yaml::Boolean(visible) => !visible,
        Yaml::BadValue | Yaml::Null => false,
        _ => return Err("`visible` is not true or false".into()),
    };
    let mut tags: Vec<String> = texts("categories")?;
    if let Some(c) = text("confidence")? {
        tags.push(format!("confidence:{c}"));
    }
    let stopwords: Vec<String> = match &entry["pattern_requirements"]["ignore_if_contains"] {
        Yaml::Array(items) => items.iter().filter_map(Yaml::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    };
    let allowlists = if stopwords.is_empty() {
        Vec::new()
    } else {
        vec![RawAllowlist {
            description: Some("pattern_requirements.ignore_if_contains".into()),
            stopwords,
            ..RawAllowlist::default()
        }]
    };
    Ok(RawRule {
        id: text("id")?,
        description: text("name")?,
        regex: Some(text("pattern")?.ok_or("missing pattern")?),
        entropy,
        examples: Some(RawExamples {
            path: None,
            positive: texts("examples")?,
            negative: texts("negative_examples")?,
        }),
        allowlists,
        tags,
        skip_report: Some(hidden),
        ..RawRule::default()
    })
}
