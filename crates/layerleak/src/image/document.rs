//! Bounded reading and parsing of the JSON documents of an image (manifests, indexes, configs,
//! `manifest.json`, `oci-layout`).
//!
//! # Security
//! Every document comes from untrusted input. Its size is checked against
//! [`Limits::max_json_bytes`] before anything is read (when the size is known) and while reading
//! (when it is not), and its nesting depth against [`Limits::max_json_depth`] by a linear scan
//! before serde sees it, so neither a huge document nor `[[[[…` can exhaust memory or the stack.
//! serde_json's own recursion limit stays enabled as a second guard.

use std::io::Read;

use serde::de::DeserializeOwned;

use crate::{At, Error, LimitKind, Limits, Result};

/// Where the document is named in errors: the location's path, unless it already has one.
fn doc_at(at: &At, what: &str) -> At {
    if at.path.is_some() {
        at.clone()
    } else {
        at.clone().with_path(what)
    }
}

fn too_large(at: &At, what: &str, limits: &Limits) -> Error {
    Error::Limit { at: doc_at(at, what), limit: LimitKind::JsonBytes, max: limits.max_json_bytes }
}

/// Refuses a document whose declared size exceeds [`Limits::max_json_bytes`], before reading it.
pub(crate) fn check_size(declared: u64, what: &str, at: &At, limits: &Limits) -> Result<()> {
    if declared > limits.max_json_bytes {
        return Err(too_large(at, what, limits));
    }
    Ok(())
}

/// Reads a whole JSON document from `reader`, refusing more than [`Limits::max_json_bytes`].
/// `declared` (a file or member size) is only used to refuse early and to size the buffer a
/// little; it is never trusted for allocation.
pub(crate) fn read_bounded(
    reader: &mut dyn Read,
    declared: Option<u64>,
    what: &str,
    at: &At,
    limits: &Limits,
) -> Result<Vec<u8>> {
    if let Some(n) = declared {
        check_size(n, what, at, limits)?;
    }
    let cap = declared.unwrap_or(0).min(64 << 10) as usize;
    let mut buf = Vec::with_capacity(cap);
    reader
        .take(limits.max_json_bytes.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(doc_at(at, what), format!("reading {what}"), e))?;
    if buf.len() as u64 > limits.max_json_bytes {
        return Err(too_large(at, what, limits));
    }
    Ok(buf)
}

/// Deepest `[`/`{` nesting of `bytes`, counting only brackets outside strings. Stops counting
/// as soon as `max` is exceeded.
fn nesting_exceeds(bytes: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Parses a JSON document into `T` after checking its size and nesting depth.
pub(crate) fn parse_json<T: DeserializeOwned>(
    bytes: &[u8],
    what: &str,
    at: &At,
    limits: &Limits,
) -> Result<T> {
    check_size(bytes.len() as u64, what, at, limits)?;
    if nesting_exceeds(bytes, limits.max_json_depth) {
        return Err(Error::Limit {
            at: doc_at(at, what),
            limit: LimitKind::JsonDepth,
            max: limits.max_json_depth as u64,
        });
    }
    serde_json::from_slice(bytes).map_err(|source| Error::Json {
        at: at.clone(),
        what: what.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_inside_strings_do_not_count() {
        assert!(!nesting_exceeds(br#"{"a":"[[[[[[[[[[\"[[[["}"#, 2));
        assert!(nesting_exceeds(b"[[[", 2));
        assert!(!nesting_exceeds(b"[[]]", 2));
    }

    #[test]
    fn deep_nesting_is_a_depth_limit_not_a_stack_overflow() {
        let doc = "[".repeat(100_000);
        let err = parse_json::<serde_json::Value>(doc.as_bytes(), "x.json", &At::none(), &Limits::default())
            .unwrap_err();
        assert!(matches!(err, Error::Limit { limit: LimitKind::JsonDepth, max: 128, .. }), "{err}");
    }

    #[test]
    fn serde_recursion_limit_still_guards_when_depth_limit_is_raised() {
        let limits = Limits { max_json_depth: usize::MAX, ..Limits::default() };
        let doc = "[".repeat(100_000);
        let err =
            parse_json::<serde_json::Value>(doc.as_bytes(), "x.json", &At::none(), &limits).unwrap_err();
        assert!(matches!(err, Error::Json { .. }), "{err}");
    }

    #[test]
    fn oversized_document_is_refused_while_reading() {
        let limits = Limits { max_json_bytes: 10, ..Limits::default() };
        let mut r = std::io::repeat(b' ');
        let err = read_bounded(&mut r, None, "index.json", &At::none(), &limits).unwrap_err();
        match err {
            Error::Limit { at, limit: LimitKind::JsonBytes, max: 10 } => {
                assert_eq!(at.path.as_deref(), Some("index.json"))
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn declared_oversize_is_refused_before_reading() {
        let limits = Limits { max_json_bytes: 10, ..Limits::default() };
        struct Fails;
        impl Read for Fails {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("must not be read"))
            }
        }
        let err = read_bounded(&mut Fails, Some(11), "config", &At::none(), &limits).unwrap_err();
        assert!(matches!(err, Error::Limit { limit: LimitKind::JsonBytes, .. }), "{err}");
    }
}
