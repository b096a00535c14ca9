//! SARIF 2.1.0 output (OASIS Static Analysis Results Interchange Format, version 2.1.0).
//!
//! One `run`, one `result` per finding. A result's physical location is the path inside the
//! layer; its logical location names the image and the layer digest, so a result is traceable to
//! exact bytes; `partialFingerprints` carries the secret's SHA-256 so code-scanning services
//! deduplicate across runs without ever seeing the secret. A packaged finding, and a finding the
//! caller suppressed (a baseline, an ignore file) and asked to list, carry `suppressions`
//! (SARIF 2.1.0 §3.27.23, `kind` `external`: the reason is kept outside the scanned image).
//!
//! By secret ([`secrets_to_sarif`]): one `result` per distinct secret, located at its first place,
//! with every place as a `relatedLocation` (§3.27.22), written as it is rendered; suppressed
//! secrets the caller asks to list follow, with their `suppressions` ([`secrets_to_sarif_with`]).

use serde::ser::{SerializeSeq, SerializeStruct, Serializer};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::by_secret::{DistinctSecret, Place, SecretReport};
use super::{Finding, Report, Source, Suppressed};
use crate::detect::{Rule, Severity};

/// The schema URI written into `$schema`.
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        _ => "note",
    }
}

fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        _ => "3.0",
    }
}

fn rule_descriptor(rule: &Rule) -> Value {
    json!({
        "id": rule.id,
        "name": rule.id,
        "shortDescription": { "text": rule.title },
        "fullDescription": { "text": format!("{} found in a container image layer or config.", rule.title) },
        "help": { "text": "Rotate the secret. If it is only in a lower layer, it is still extractable by anyone who can pull the image: rebuild without it and pass build-time secrets with `RUN --mount=type=secret`." },
        "defaultConfiguration": { "level": level(rule.severity) },
        "properties": {
            "tags": ["security", "secret"],
            "security-severity": security_severity(rule.severity),
        },
    })
}

fn result(f: &Finding, rule_index: Option<usize>) -> Value {
    let loc = &f.location;
    let layer = f.introduced_in.as_ref();
    let layer_name = layer
        .and_then(|l| l.digest.as_ref().map(|d| d.to_string()))
        .or_else(|| layer.map(|l| format!("layer {}", l.index)))
        .unwrap_or_else(|| "config".into());
    let where_ = match loc.source {
        Source::File => format!("{} in layer {}", loc.path, layer_name),
        _ => loc.path.clone(),
    };
    let mut inner = String::new();
    for i in &loc.inner {
        inner.push('!');
        inner.push_str(i);
    }
    let hidden = match &f.hidden_in {
        Some(h) => format!(" Hidden by layer {} ({:?}) but still extractable.", h.layer.index, h.how),
        None => String::new(),
    };
    let text = format!(
        "{} ({}) in image {}: {}{}. Status: {:?}.{} {}",
        f.title, f.redacted, f.image, where_, inner, f.status, hidden, f.remediation
    );
    let mut region = Map::new();
    if let Some(line) = loc.line {
        region.insert("startLine".into(), json!(line));
        if let Some(col) = loc.column {
            region.insert("startColumn".into(), json!(col));
        }
    }
    region.insert("byteOffset".into(), json!(loc.offset));
    let uri = percent_encode(&format!("{}{}", loc.path, inner));
    let fq = format!("{}@{}:/{}{}", f.image, layer_name, loc.path, inner);
    let mut r = json!({
        "ruleId": f.rule,
        "level": level(f.severity),
        "message": { "text": text },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": uri },
                "region": Value::Object(region),
            },
            "logicalLocations": [{ "fullyQualifiedName": fq, "kind": "resource" }],
        }],
        "partialFingerprints": { "secretSha256/v1": f.fingerprint },
        "properties": {
            "image": f.image,
            "status": f.status,
            "visible": f.visible,
            "validation": f.validation,
            "introducedIn": f.introduced_in,
            "hiddenIn": f.hidden_in,
            "redacted": f.redacted,
        },
    });
    if let (Some(i), Some(obj)) = (rule_index, r.as_object_mut()) {
        obj.insert("ruleIndex".into(), json!(i));
    }
    // A packaged finding is listed (`include_packaged`) as triaged: SARIF's own way to say so.
    if let (Some(p), Some(obj)) = (&f.package, r.as_object_mut()) {
        obj.insert(
            "suppressions".into(),
            json!([{ "kind": "external", "justification": format!("packaged: in a file exactly as {p} installed it") }]),
        );
        if let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut) {
            props.insert("package".into(), json!(p));
        }
    }
    // Present only when the scanner was built to keep secrets (`--show-secrets`).
    if let (Some(secret), Some(props)) = (&f.secret, r.get_mut("properties").and_then(Value::as_object_mut)) {
        props.insert("secret".into(), json!(secret));
    }
    r
}

/// Percent-encodes what may not stand in a URI reference path.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The report as a SARIF 2.1.0 log. `rules` are the rules the scan ran with (their metadata
/// goes into `tool.driver.rules`).
pub fn to_sarif(report: &Report, rules: &[Rule]) -> Value {
    to_sarif_with(report, rules, &[])
}

/// [`to_sarif`], with the findings the caller suppressed listed after the others, each with a
/// `suppressions` entry (`external`, `accepted`, the reason as its justification) so that code
/// scanning services show them as dismissed rather than open.
pub fn to_sarif_with(report: &Report, rules: &[Rule], suppressed: &[Suppressed<'_>]) -> Value {
    let index = |f: &Finding| rules.iter().position(|r| r.id == f.rule);
    let mut results: Vec<Value> = report.findings.iter().map(|f| result(f, index(f))).collect();
    for s in suppressed {
        let mut r = result(s.finding, index(s.finding));
        let entry = json!({
            "kind": "external",
            "status": "accepted",
            "justification": format!("suppressed by {}", s.reason),
        });
        if let Some(obj) = r.as_object_mut() {
            match obj.get_mut("suppressions").and_then(Value::as_array_mut) {
                Some(list) => list.push(entry),
                None => {
                    obj.insert("suppressions".into(), json!([entry]));
                }
            }
        }
        results.push(r);
    }
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": tool(&report.tool.version, rules),
            "invocations": invocations(&report.errors),
            "results": results,
        }],
    })
}

fn tool(version: &str, rules: &[Rule]) -> Value {
    let descriptors: Vec<Value> = rules.iter().map(rule_descriptor).collect();
    json!({ "driver": {
        "name": "layerleak",
        "version": version,
        "informationUri": "https://github.com/layerleak/layerleak",
        "rules": descriptors,
    }})
}

fn invocations(errors: &[super::ErrorRecord]) -> Value {
    let notifications: Vec<Value> =
        errors.iter().map(|e| json!({ "level": "error", "message": { "text": e.message } })).collect();
    json!([{ "executionSuccessful": errors.is_empty(), "toolExecutionNotifications": notifications }])
}

/// The by-secret report as a SARIF 2.1.0 log: one result per distinct secret, every place a
/// related location. Places are rendered as the log is written, so memory stays that of the
/// report.
pub fn secrets_to_sarif<'a>(report: &'a SecretReport, rules: &'a [Rule]) -> impl Serialize + 'a {
    SecretsLog { report, rules, suppressed: &[] }
}

/// A distinct secret the caller suppressed (a baseline, an ignore file) and asks to list.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct SuppressedSecret<'a> {
    /// The report holding it (with its places).
    pub report: &'a SecretReport,
    /// The secret.
    pub secret: &'a DistinctSecret,
    /// Why it is left out, for people (`baseline`, `.layerleakignore:3`).
    pub reason: &'a str,
}

impl<'a> SuppressedSecret<'a> {
    /// `secret` of `report`, left out because of `reason`.
    pub fn new(report: &'a SecretReport, secret: &'a DistinctSecret, reason: &'a str) -> Self {
        SuppressedSecret { report, secret, reason }
    }
}

/// [`secrets_to_sarif`], with the suppressed secrets listed after the others, each with a
/// `suppressions` entry (`external`, `accepted`, the reason as its justification).
pub fn secrets_to_sarif_with<'a>(
    report: &'a SecretReport,
    rules: &'a [Rule],
    suppressed: &'a [SuppressedSecret<'a>],
) -> impl Serialize + 'a {
    SecretsLog { report, rules, suppressed }
}

struct SecretsLog<'a> {
    report: &'a SecretReport,
    rules: &'a [Rule],
    suppressed: &'a [SuppressedSecret<'a>],
}

impl Serialize for SecretsLog<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut log = ser.serialize_struct("Log", 3)?;
        log.serialize_field("$schema", SARIF_SCHEMA)?;
        log.serialize_field("version", "2.1.0")?;
        log.serialize_field("runs", &[SecretsRun(self)])?;
        log.end()
    }
}

struct SecretsRun<'a>(&'a SecretsLog<'a>);

impl Serialize for SecretsRun<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let SecretsLog { report, rules, suppressed } = *self.0;
        let mut run = ser.serialize_struct("Run", 3)?;
        run.serialize_field("tool", &tool(&report.tool.version, rules))?;
        run.serialize_field("invocations", &invocations(&report.errors))?;
        let rule = |s: &DistinctSecret| rules.iter().position(|r| r.id == s.rule);
        let listed =
            report.secrets.iter().map(|s| SecretResult { report, secret: s, rule: rule(s), reason: None });
        let left_out = suppressed.iter().map(|x| SecretResult {
            report: x.report,
            secret: x.secret,
            rule: rule(x.secret),
            reason: Some(x.reason),
        });
        let results: Vec<SecretResult<'_>> = listed.chain(left_out).collect();
        run.serialize_field("results", &results)?;
        run.end()
    }
}

struct SecretResult<'a> {
    report: &'a SecretReport,
    secret: &'a DistinctSecret,
    rule: Option<usize>,
    /// Why the caller suppressed it, when it did.
    reason: Option<&'a str>,
}

/// A place as a SARIF location: the path inside the layer, and `image@layer:/path` as its
/// logical location.
fn place_location(p: &Place<'_>, id: Option<usize>) -> Value {
    let inner = p.inner.map(|i| format!("!{i}")).unwrap_or_default();
    let layer = p.layer.map(str::to_string).unwrap_or_else(|| match p.layer_index {
        Some(i) => format!("layer {i}"),
        None => "config".into(),
    });
    let mut loc = json!({
        "physicalLocation": { "artifactLocation": { "uri": percent_encode(&format!("{}{inner}", p.path)) } },
        "logicalLocations": [{ "fullyQualifiedName": format!("{}@{layer}:/{}{inner}", p.image, p.path), "kind": "resource" }],
        "message": { "text": format!("{} /{}{inner} in {layer}: {}", p.image, p.path, status_word(p.status)) },
    });
    if let (Some(line), Some(phys)) = (p.line, loc.get_mut("physicalLocation")) {
        phys["region"] = match p.column {
            Some(col) => json!({ "startLine": line, "startColumn": col }),
            None => json!({ "startLine": line }),
        };
    }
    if let Some(id) = id {
        loc["id"] = json!(id);
    }
    loc
}

fn status_word(s: crate::layer::Status) -> &'static str {
    match s {
        crate::layer::Status::Present => "present",
        crate::layer::Status::Deleted => "deleted",
        _ => "shadowed",
    }
}

/// `1 image`, `3 images`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Serialize for SecretResult<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let (r, s) = (self.report, self.secret);
        let root = match r.root_cause(s) {
            Some(l) => format!(
                " Introduced by one layer, {}{}, in every image holding it: fix it once.",
                l.digest.unwrap_or("(no digest)"),
                l.created_by.map(|c| format!(" ({c})")).unwrap_or_default()
            ),
            None => String::new(),
        };
        let text = format!(
            "{} ({}) in {} of {}: visible in {}, hidden but extractable in {}.{root} {}",
            s.title,
            s.redacted,
            count(s.images(), "image", "images"),
            count(s.repositories(), "repository", "repositories"),
            s.visible_in,
            s.hidden_in,
            s.remediation
        );
        let first: Vec<Value> = r.places(s).take(1).map(|p| place_location(&p, None)).collect();
        let digests: Vec<&str> = r.introduced_by(s).iter().filter_map(|l| l.digest).collect();
        let mut props = json!({
            "status": if s.visible() { "present" } else { "hidden" },
            "visibleIn": s.visible_in,
            "hiddenInImages": s.hidden_in,
            "images": s.images(),
            "repositories": s.repositories(),
            "introducedBy": digests,
            "rootCause": r.root_cause(s),
            "validation": s.validation,
            "redacted": s.redacted,
        });
        if let Some(secret) = &s.secret {
            props["secret"] = json!(secret);
        }
        let mut res = ser.serialize_struct("Result", 9)?;
        res.serialize_field("ruleId", &s.rule)?;
        if let Some(i) = self.rule {
            res.serialize_field("ruleIndex", &i)?;
        }
        res.serialize_field("level", level(s.severity))?;
        res.serialize_field("message", &json!({ "text": text }))?;
        res.serialize_field("locations", &first)?;
        res.serialize_field("relatedLocations", &Related(self))?;
        res.serialize_field("partialFingerprints", &json!({ "secretSha256/v1": s.fingerprint }))?;
        let mut suppressions = Vec::new();
        if let Some(p) = &s.package {
            let why = format!("packaged: in files exactly as {p} installed them");
            suppressions.push(json!({ "kind": "external", "justification": why }));
            props["package"] = json!(p);
        }
        if let Some(reason) = self.reason {
            let why = format!("suppressed by {reason}");
            suppressions.push(json!({ "kind": "external", "status": "accepted", "justification": why }));
        }
        if !suppressions.is_empty() {
            res.serialize_field("suppressions", &suppressions)?;
        }
        res.serialize_field("properties", &props)?;
        res.end()
    }
}

/// Every place of a secret, numbered.
struct Related<'a>(&'a SecretResult<'a>);

impl Serialize for Related<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut seq = ser.serialize_seq(None)?;
        for (i, p) in self.0.report.places(self.0.secret).enumerate() {
            seq.serialize_element(&place_location(&p, Some(i)))?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::percent_encode;

    #[test]
    fn uri_paths_escape_spaces_and_non_ascii() {
        assert_eq!(percent_encode("a b/\u{e9}"), "a%20b/%C3%A9");
        assert_eq!(percent_encode("etc/passwd"), "etc/passwd");
    }
}
