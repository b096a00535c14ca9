//! Image configs (OCI image spec, "Image Configuration"; Docker image spec v1).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::document::parse_json;
use super::{HistoryEntry, ImageConfig};
use crate::digest::Digest;
use crate::{At, Limits, Result};

#[derive(Deserialize)]
struct RawConfig {
    #[serde(default)]
    architecture: Option<String>,
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    config: Option<RawContainerConfig>,
    #[serde(default)]
    history: Option<Vec<RawHistory>>,
    #[serde(default)]
    rootfs: Option<RawRootFs>,
}

/// Docker writes `null` for unset fields and `""` for an unset working dir or user.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawContainerConfig {
    #[serde(default)]
    env: Option<Vec<String>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    cmd: Option<Vec<String>>,
    #[serde(default)]
    entrypoint: Option<Vec<String>>,
    #[serde(default)]
    working_dir: Option<String>,
    #[serde(default)]
    user: Option<String>,
}

#[derive(Deserialize)]
struct RawHistory {
    #[serde(default)]
    created_by: Option<String>,
    #[serde(default)]
    empty_layer: Option<bool>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    created: Option<String>,
}

#[derive(Deserialize)]
struct RawRootFs {
    #[serde(default)]
    diff_ids: Option<Vec<Digest>>,
}

/// Parses an image config JSON document into an [`ImageConfig`]. Missing fields take their
/// defaults; a field of the wrong type is an [`crate::Error::Json`] naming `at`.
///
/// # Security
/// The document is untrusted: its size and nesting depth are checked against `limits` before
/// it is parsed, and every `rootfs.diff_ids[]` must be a well-formed digest.
pub fn parse_config(bytes: &[u8], at: &At, limits: &Limits) -> Result<ImageConfig> {
    let raw: RawConfig = parse_json(bytes, "image config", at, limits)?;
    let c = raw.config;
    let non_empty = |s: Option<String>| s.filter(|s| !s.is_empty());
    let (env, labels, cmd, entrypoint, working_dir, user) = match c {
        Some(c) => (
            c.env.unwrap_or_default(),
            c.labels.unwrap_or_default(),
            c.cmd.unwrap_or_default(),
            c.entrypoint.unwrap_or_default(),
            non_empty(c.working_dir),
            non_empty(c.user),
        ),
        None => Default::default(),
    };
    let history = raw
        .history
        .unwrap_or_default()
        .into_iter()
        .map(|h| HistoryEntry {
            created_by: h.created_by,
            empty_layer: h.empty_layer.unwrap_or(false),
            comment: h.comment,
            created: h.created,
        })
        .collect();
    Ok(ImageConfig {
        architecture: non_empty(raw.architecture),
        os: non_empty(raw.os),
        variant: non_empty(raw.variant),
        env,
        labels,
        cmd,
        entrypoint,
        working_dir,
        user,
        history,
        diff_ids: raw.rootfs.and_then(|r| r.diff_ids).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn full_config_is_parsed() {
        let doc = format!(
            r#"{{"architecture":"arm64","os":"linux","variant":"v8",
              "config":{{"Env":["A=1","TOKEN=x"],"Labels":{{"k":"v"}},"Cmd":["sh"],"Entrypoint":null,
                        "WorkingDir":"/app","User":""}},
              "history":[{{"created_by":"ENV A=1","empty_layer":true}},{{"created_by":"COPY . /app","comment":"c","created":"2024-01-01T00:00:00Z"}}],
              "rootfs":{{"type":"layers","diff_ids":["sha256:{}"]}}}}"#,
            "d".repeat(64)
        );
        let c = parse_config(doc.as_bytes(), &At::image("x"), &Limits::default()).unwrap();
        assert_eq!(c.env, vec!["A=1", "TOKEN=x"]);
        assert_eq!(c.labels.get("k").map(String::as_str), Some("v"));
        assert_eq!(c.cmd, vec!["sh"]);
        assert!(c.entrypoint.is_empty());
        assert_eq!(c.working_dir.as_deref(), Some("/app"));
        assert_eq!(c.user, None);
        assert_eq!(c.history.len(), 2);
        assert!(c.history[0].empty_layer);
        assert_eq!(c.history[1].comment.as_deref(), Some("c"));
        assert_eq!(c.history_layers(), vec![Some(1)]);
        assert_eq!(c.diff_ids.len(), 1);
        assert_eq!(c.platform().unwrap().to_string(), "linux/arm64/v8");
    }

    #[test]
    fn empty_object_is_a_default_config() {
        let c = parse_config(b"{}", &At::none(), &Limits::default()).unwrap();
        assert_eq!(c, ImageConfig::default());
    }

    #[test]
    fn wrong_type_is_a_json_error_naming_the_image() {
        let err = parse_config(br#"{"config":{"Env":"A=1"}}"#, &At::image("img:1"), &Limits::default())
            .unwrap_err();
        match &err {
            Error::Json { at, .. } => assert_eq!(at.image.as_deref(), Some("img:1")),
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn not_json_is_a_json_error() {
        let err = parse_config(b"\x00\x01not json", &At::none(), &Limits::default()).unwrap_err();
        assert!(matches!(err, Error::Json { .. }), "{err}");
    }
}
