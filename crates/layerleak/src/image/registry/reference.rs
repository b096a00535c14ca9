//! Image references: `[scheme://][registry/]repository[:tag][@digest]`.
//!
//! Follows the grammar of the distribution project's `reference` package (the one `docker pull`
//! uses) including its Docker Hub normalisation: a first path component is a registry only when
//! it contains `.` or `:` or is `localhost`; otherwise the image is on Docker Hub and a single
//! component name gets the `library/` prefix.
//!
//! # Security
//!
//! References come from the command line or from configuration, but they end up in URLs: every
//! component is checked against the grammar, so no `/../`, query string, whitespace or
//! credentials (`user@host`) can be smuggled into a request path.

use std::fmt;

use crate::digest::Digest;
use crate::error::{At, Error, Result};

/// Where Docker Hub's registry API is served.
pub(crate) const DOCKER_HUB: &str = "registry-1.docker.io";

/// Longest reference accepted (the distribution grammar caps names at 255; tags add 128).
const MAX_REFERENCE_LEN: usize = 512;

/// A parsed image reference, normalised the way `docker pull` does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Registry host, with port when given (`registry-1.docker.io`, `localhost:5000`).
    pub registry: String,
    /// Repository path inside the registry (`library/alpine`).
    pub repository: String,
    /// Tag; `latest` when neither a tag nor a digest was given.
    pub tag: Option<String>,
    /// Digest, when the reference pins one.
    pub digest: Option<Digest>,
    /// `true` when the reference was written `http://…`: the registry is spoken to over plain
    /// HTTP (the user opted in for this one reference).
    pub plain_http: bool,
}

impl Reference {
    /// Parses a reference. Short Docker Hub names are normalised: `alpine:3.20` becomes
    /// `registry-1.docker.io/library/alpine:3.20`, `user/app` becomes
    /// `registry-1.docker.io/user/app:latest`. A leading `http://` selects plain HTTP;
    /// `https://` is accepted and changes nothing.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] naming the input when it is not a valid reference.
    pub fn parse(s: &str) -> Result<Reference> {
        parse(s).map_err(|why| Error::Unsupported {
            at: At::image(s.chars().take(MAX_REFERENCE_LEN).collect::<String>()),
            message: format!("not an image reference: {why}"),
        })
    }

    /// Whether `s` reads as a registry reference rather than a file name. The caller checks
    /// first whether `s` is an existing local path; this only rejects strings that look like
    /// paths (`./x`, `/x`, `~/x`, `x.tar`, `x.tar.gz`, Windows paths) or do not parse.
    pub fn looks_like_reference(s: &str) -> bool {
        if s.starts_with("http://") || s.starts_with("https://") {
            return parse(s).is_ok();
        }
        if s.starts_with(['.', '/', '~', '\\']) || s.contains('\\') || s.contains(":/") {
            return false;
        }
        let name = s.split('@').next().unwrap_or(s);
        const ARCHIVE_SUFFIXES: &[&str] = &[".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.zstd", ".oci"];
        if ARCHIVE_SUFFIXES.iter().any(|suffix| name.ends_with(suffix)) {
            return false;
        }
        parse(s).is_ok()
    }

    /// The tag or digest to ask the registry for: the digest when pinned (it is what the bytes
    /// are verified against), else the tag.
    pub fn reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }

    /// The registry host as [`crate::image::registry::Registry::new`] takes it: prefixed with
    /// `http://` when the reference asked for plain HTTP.
    pub fn registry_host(&self) -> String {
        if self.plain_http {
            format!("http://{}", self.registry)
        } else {
            self.registry.clone()
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn parse(s: &str) -> std::result::Result<Reference, String> {
    if s.len() > MAX_REFERENCE_LEN {
        return Err(format!("longer than {MAX_REFERENCE_LEN} bytes"));
    }
    let (rest, plain_http) = if let Some(r) = s.strip_prefix("http://") {
        (r, true)
    } else if let Some(r) = s.strip_prefix("https://") {
        (r, false)
    } else {
        (s, false)
    };
    let (name, digest) = match rest.split_once('@') {
        Some((n, d)) => (n, Some(Digest::parse(d).ok_or_else(|| format!("bad digest {d:?}"))?)),
        None => (rest, None),
    };
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name[last_slash..].rfind(':') {
        Some(i) => (&name[..last_slash + i], Some(&name[last_slash + i + 1..])),
        None => (name, None),
    };
    if let Some(t) = tag {
        check_tag(t)?;
    }
    let (registry, path) = match name.split_once('/') {
        Some((first, path)) if is_registry(first) => (first, path),
        _ if plain_http => return Err("an http:// reference needs a registry host".into()),
        _ => ("docker.io", name),
    };
    check_host(registry)?;
    let registry = match registry {
        "docker.io" | "index.docker.io" => DOCKER_HUB,
        other => other,
    };
    let repository = if registry == DOCKER_HUB && !path.contains('/') {
        format!("library/{path}")
    } else {
        path.to_string()
    };
    check_repository(&repository)?;
    let tag = match (tag, &digest) {
        (Some(t), _) => Some(t.to_string()),
        (None, Some(_)) => None,
        (None, None) => Some("latest".to_string()),
    };
    Ok(Reference { registry: registry.to_string(), repository, tag, digest, plain_http })
}

/// The distribution grammar's test for "this first component is a domain".
fn is_registry(first: &str) -> bool {
    first.contains(['.', ':']) || first == "localhost" || first.starts_with('[')
}

/// `host[:port]`, host being DNS labels, an IPv4 address or a bracketed IPv6 address.
pub(super) fn check_host(host: &str) -> std::result::Result<(), String> {
    let (name, port) = if let Some(v6) = host.strip_prefix('[') {
        let (addr, after) = v6.split_once(']').ok_or("unclosed [ in registry host")?;
        if addr.is_empty() || !addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
            return Err(format!("bad IPv6 address in registry host {host:?}"));
        }
        match after {
            "" => (addr, None),
            p => (addr, Some(p.strip_prefix(':').ok_or("junk after ] in registry host")?)),
        }
    } else {
        match host.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (host, None),
        }
    };
    if !host.starts_with('[') {
        let labels_ok = !name.is_empty()
            && name.split('.').all(|l| {
                !l.is_empty()
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !labels_ok {
            return Err(format!("bad registry host {host:?}"));
        }
    }
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("bad port in registry host {host:?}"));
        }
    }
    Ok(())
}

/// Path components `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`, joined by `/`.
pub(super) fn check_repository(repo: &str) -> std::result::Result<(), String> {
    if repo.is_empty() || repo.len() > 255 {
        return Err(format!("repository name must be 1 to 255 bytes: {repo:?}"));
    }
    for component in repo.split('/') {
        if !component_ok(component) {
            return Err(format!(
                "bad repository component {component:?} (lowercase letters, digits, and . _ - between them)"
            ));
        }
    }
    Ok(())
}

fn component_ok(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: one `.`, one or two `_`, or any number of `-`.
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `[\w][\w.-]{0,127}`.
pub(super) fn check_tag(tag: &str) -> std::result::Result<(), String> {
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    let b = tag.as_bytes();
    let ok =
        !b.is_empty() && b.len() <= 128 && word(b[0]) && b.iter().all(|&x| word(x) || x == b'.' || x == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!("bad tag {tag:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn p(s: &str) -> Reference {
        match Reference::parse(s) {
            Ok(r) => r,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn docker_hub_short_names_are_normalised() {
        let r = p("alpine:3.20");
        assert_eq!(r.registry, DOCKER_HUB);
        assert_eq!(r.repository, "library/alpine");
        assert_eq!(r.tag.as_deref(), Some("3.20"));
        assert_eq!(r.digest, None);
        assert!(!r.plain_http);
        assert_eq!(r.to_string(), "registry-1.docker.io/library/alpine:3.20");

        let r = p("user/app");
        assert_eq!((r.registry.as_str(), r.repository.as_str()), (DOCKER_HUB, "user/app"));
        assert_eq!(r.tag.as_deref(), Some("latest"));

        assert_eq!(p("docker.io/alpine").repository, "library/alpine");
        assert_eq!(p("index.docker.io/library/alpine").registry, DOCKER_HUB);
    }

    #[test]
    fn explicit_registries() {
        let r = p("localhost:5000/x");
        assert_eq!((r.registry.as_str(), r.repository.as_str()), ("localhost:5000", "x"));
        assert_eq!(r.tag.as_deref(), Some("latest"));

        let r = p("localhost/x/y:v1");
        assert_eq!((r.registry.as_str(), r.repository.as_str()), ("localhost", "x/y"));

        let r = p(&format!("host.tld/a/b@{D}"));
        assert_eq!((r.registry.as_str(), r.repository.as_str()), ("host.tld", "a/b"));
        assert_eq!(r.tag, None);
        assert_eq!(r.digest.as_ref().map(|d| d.to_string()).as_deref(), Some(D));
        assert_eq!(r.reference(), D);

        let r = p(&format!("host.tld:443/a:t@{D}"));
        assert_eq!(r.tag.as_deref(), Some("t"));
        assert_eq!(r.reference(), D, "a pinned digest wins over the tag");

        let r = p("[::1]:5000/x:1");
        assert_eq!(r.registry, "[::1]:5000");
    }

    #[test]
    fn http_prefix_selects_plain_http() {
        let r = p("http://127.0.0.1:5000/x:1");
        assert!(r.plain_http);
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.registry_host(), "http://127.0.0.1:5000");
        let r = p("https://127.0.0.1:5000/x");
        assert!(!r.plain_http);
        assert_eq!(r.registry_host(), "127.0.0.1:5000");
        assert!(Reference::parse("http://alpine").is_err(), "http:// needs a host");
    }

    #[test]
    fn invalid_references_are_typed_errors() {
        for bad in [
            "",
            "Alpine",
            "alpine:",
            "alpine:-x",
            "host.tld/a/../b",
            "host.tld/a//b",
            "host.tld/a?x=1",
            "user:pw@host.tld/a",
            "alpine@sha256:abc",
            "host.tld:port/a",
            "a b",
            "a__-b",
            "-a",
        ] {
            match Reference::parse(bad) {
                Err(Error::Unsupported { at, message }) => {
                    assert_eq!(at.image.as_deref(), Some(bad));
                    assert!(message.starts_with("not an image reference"), "{message}");
                }
                other => panic!("{bad:?} parsed as {other:?}"),
            }
        }
        let long = "a".repeat(10_000);
        assert!(Reference::parse(&long).is_err());
    }

    #[test]
    fn separators_follow_the_grammar() {
        for ok in ["a.b", "a_b", "a__b", "a---b", "a-b.c_d"] {
            assert!(component_ok(ok), "{ok}");
        }
        for bad in ["a..b", "a___b", "a._b", "a.", "_a", "A"] {
            assert!(!component_ok(bad), "{bad}");
        }
    }

    #[test]
    fn paths_do_not_look_like_references() {
        for path in ["./img", "/tmp/img", "~/img", "img.tar", "img.tar.gz", "x.tgz", "C:\\x", "c:/x", "a b"] {
            assert!(!Reference::looks_like_reference(path), "{path}");
        }
        for r in ["alpine", "alpine:3.20", "ghcr.io/o/r:v1", "localhost:5000/x", "http://h:1/x"] {
            assert!(Reference::looks_like_reference(r), "{r}");
        }
    }
}
