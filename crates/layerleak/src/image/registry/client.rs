//! [`Registry`]: requests with authentication, retries and bounded bodies against one registry
//! host (OCI distribution spec v1.1, "Pulling manifests", "Listing tags"; Docker registry API
//! "Catalog").
//!
//! # Security
//!
//! Response bodies are untrusted: every body kept in memory is read through a bound checked
//! both against `Content-Length` (before reading) and against the bytes actually read. Error
//! messages built from registry answers are truncated and scrubbed of every secret this handle
//! knows (password, cached tokens).

use std::io::Read;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use sha2::Digest as _;

use super::auth::{parse_challenges, Challenge, Credentials, TokenCache, TokenResponse};
use super::reference::{check_host, check_repository, check_tag};
use super::RegistryOptions;
use crate::digest::{Algorithm, Digest};
use crate::error::{At, DigestKind, Error, LimitKind, Result};

/// The manifest media types asked for (OCI image spec "Image Index" and "Image Manifest";
/// Docker manifest list and image manifest v2 schema 2).
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.docker.distribution.manifest.v2+json";

/// Largest token endpoint answer or error body read.
const MAX_SMALL_BODY: u64 = 1 << 20;
/// A `Retry-After` longer than this is replaced by the normal backoff.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// A handle on one registry host. Cheap to clone; clones share the HTTP agent (and its
/// connection pool), the credentials and the token cache. `Send + Sync`.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    /// `host[:port]`.
    host: String,
    /// `https://host[:port]` or `http://host[:port]`.
    base: String,
    agent: ureq::Agent,
    opts: RegistryOptions,
    /// Resolved on the first challenge, so anonymous pulls never run a credential helper.
    creds: OnceLock<std::result::Result<Option<Credentials>, String>>,
    auth: Mutex<AuthState>,
}

#[derive(Default)]
struct AuthState {
    tokens: TokenCache,
    /// The registry asked for Basic auth once; send it up front from then on.
    basic: bool,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("base", &self.inner.base).finish_non_exhaustive()
    }
}

impl Registry {
    /// A handle on `host` (`host[:port]`, optionally prefixed `http://` for plain HTTP or
    /// `https://`). Plain HTTP is used only with the `http://` prefix or when the host (with or
    /// without its port) is listed in [`RegistryOptions::insecure`]. `docker.io` means
    /// `registry-1.docker.io`.
    ///
    /// # Errors
    ///
    /// [`Error::Registry`] when `host` is not a valid host.
    pub fn new(host: &str, opts: &RegistryOptions) -> Result<Registry> {
        let (bare, forced_http) = if let Some(h) = host.strip_prefix("http://") {
            (h, true)
        } else {
            (host.strip_prefix("https://").unwrap_or(host), false)
        };
        let bare = bare.trim_end_matches('/');
        let bare =
            if matches!(bare, "docker.io" | "index.docker.io") { super::reference::DOCKER_HUB } else { bare };
        check_host(bare).map_err(|why| Error::Registry {
            at: At::image(host),
            message: why,
            status: None,
        })?;
        let http = forced_http || is_listed(&opts.insecure, bare);
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(opts.timeout)
            .timeout_read(opts.timeout)
            .timeout_write(opts.timeout)
            .redirects(5)
            // Blob downloads are redirected to storage hosts that must not see our credentials.
            .redirect_auth_headers(ureq::RedirectAuthHeaders::Never)
            .https_only(!http && opts.insecure.is_empty())
            .user_agent(concat!("layerleak/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Registry {
            inner: Arc::new(Inner {
                host: bare.to_string(),
                base: format!("{}://{bare}", if http { "http" } else { "https" }),
                agent,
                opts: opts.clone(),
                creds: OnceLock::new(),
                auth: Mutex::new(AuthState::default()),
            }),
        })
    }

    /// The registry host (`host[:port]`).
    pub fn host(&self) -> &str {
        &self.inner.host
    }

    /// `GET /v2/<repo>/manifests/<tag-or-digest>`, accepting OCI index and manifest and Docker
    /// manifest list and schema 2. Returns the bytes, the media type from `Content-Type` (without
    /// parameters) and the sha256 digest of the bytes. When `reference` is a digest, and when the
    /// registry sends `Docker-Content-Digest`, the bytes are checked against it.
    ///
    /// # Errors
    ///
    /// [`Error::Registry`] (with the HTTP status when there was one, 404 for an unknown
    /// manifest), [`Error::Limit`] when the manifest is over
    /// [`RegistryOptions::max_manifest_bytes`] (refused, not allocated),
    /// [`Error::DigestMismatch`] when the bytes are not what was promised.
    pub fn manifest(&self, repo: &str, reference: &str) -> Result<(Vec<u8>, Option<String>, Digest)> {
        self.manifest_bounded(repo, reference, self.inner.opts.max_manifest_bytes)
    }

    /// [`Registry::manifest`] with an explicit bound.
    pub(super) fn manifest_bounded(
        &self,
        repo: &str,
        reference: &str,
        max: u64,
    ) -> Result<(Vec<u8>, Option<String>, Digest)> {
        let at = self.at(repo, reference);
        check_repository(repo).map_err(|why| self.error(&at, why, None))?;
        let pinned = Digest::parse(reference);
        if pinned.is_none() {
            check_tag(reference).map_err(|why| self.error(&at, why, None))?;
        }
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.inner.base);
        let what = format!("manifest {reference} of {repo}");
        let resp = self.get(&at, &url, Some(MANIFEST_ACCEPT), &pull_scope(repo), &what)?;
        let media_type = resp
            .header("Content-Type")
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
            .filter(|v| !v.is_empty());
        let promised = resp.header("Docker-Content-Digest").and_then(|v| Digest::parse(v.trim()));
        let bytes = read_bounded(resp, max, &at, &what)?;
        let digest = Digest::sha256_of(&bytes);
        for expected in pinned.iter().chain(promised.iter()) {
            verify(&at, DigestKind::Manifest, expected, &digest, &bytes)?;
        }
        Ok((bytes, media_type, digest))
    }

    /// Where an error about `repo` at `reference` (tag or digest) happened.
    pub(super) fn at(&self, repo: &str, reference: &str) -> At {
        let sep = if Digest::parse(reference).is_some() { '@' } else { ':' };
        At::image(format!("{}/{repo}{sep}{reference}", self.inner.host))
    }

    /// The options this handle was made with.
    pub(super) fn options(&self) -> &RegistryOptions {
        &self.inner.opts
    }

    /// The plain-HTTP or HTTPS base URL, `scheme://host[:port]`.
    pub(super) fn base(&self) -> &str {
        &self.inner.base
    }

    /// A [`Error::Registry`] with every known secret scrubbed from the message.
    pub(super) fn error(&self, at: &At, message: impl Into<String>, status: Option<u16>) -> Error {
        Error::Registry { at: at.clone(), message: self.scrub(message.into()), status }
    }

    /// GET with authentication and retries. Returns a 2xx response (redirects followed).
    pub(super) fn get(
        &self,
        at: &At,
        url: &str,
        accept: Option<&str>,
        scope: &str,
        what: &str,
    ) -> Result<ureq::Response> {
        let mut auth_rounds = 0;
        loop {
            let authorization = self.authorization(scope);
            let result = self.call_retrying(|| {
                let mut req = self.inner.agent.get(url);
                if let Some(a) = accept {
                    req = req.set("Accept", a);
                }
                if let Some(h) = &authorization {
                    req = req.set("Authorization", h);
                }
                req.call()
            });
            match result {
                Ok(resp) => return Ok(resp),
                // Two rounds: one to get a token, one to refresh a cached token that expired.
                Err(ureq::Error::Status(401, resp)) if auth_rounds < 2 => {
                    auth_rounds += 1;
                    self.answer_challenge(at, scope, &resp)?;
                }
                Err(ureq::Error::Status(code, resp)) => return Err(self.status_error(at, code, resp, what)),
                Err(ureq::Error::Transport(t)) => return Err(self.error(at, format!("{what}: {t}"), None)),
            }
        }
    }

    /// Calls, retrying transient failures with exponential backoff (or `Retry-After`).
    fn call_retrying(
        &self,
        call: impl Fn() -> std::result::Result<ureq::Response, ureq::Error>,
    ) -> std::result::Result<ureq::Response, ureq::Error> {
        let mut attempt = 0;
        loop {
            let result = call();
            let wait = match &result {
                Err(ureq::Error::Status(code, resp)) if *code == 429 || (500..600).contains(code) => {
                    retry_after(resp.header("Retry-After"))
                }
                Err(ureq::Error::Transport(t))
                    if matches!(t.kind(), ureq::ErrorKind::Io | ureq::ErrorKind::ConnectionFailed) =>
                {
                    None
                }
                _ => return result,
            };
            if attempt >= self.inner.opts.retries {
                return result;
            }
            std::thread::sleep(wait.unwrap_or_else(|| backoff(attempt)));
            attempt += 1;
        }
    }

    /// The `Authorization` header to send for `scope`, if any is known yet.
    fn authorization(&self, scope: &str) -> Option<String> {
        let state = self.state();
        if let Some(token) = state.tokens.get(scope) {
            return Some(format!("Bearer {token}"));
        }
        if state.basic {
            if let Ok(Some(c)) = self.credentials() {
                return Some(c.basic_header());
            }
        }
        None
    }

    fn state(&self) -> MutexGuard<'_, AuthState> {
        // A panic while holding the lock cannot leave the cache inconsistent (each update is
        // one insert or remove), so a poisoned lock is still usable.
        self.inner.auth.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn credentials(&self) -> std::result::Result<Option<&Credentials>, &str> {
        let resolved = self.inner.creds.get_or_init(|| {
            let opts = &self.inner.opts;
            match (&opts.username, &opts.password) {
                (Some(u), Some(p)) => Ok(Some(Credentials::new(u.as_str(), p.as_str()))),
                _ => Credentials::from_docker_config(&self.inner.host, opts.docker_config.as_deref()),
            }
        });
        match resolved {
            Ok(c) => Ok(c.as_ref()),
            Err(e) => Err(e.as_str()),
        }
    }

    /// Acts on a 401: fetch a (new) token for a Bearer challenge, switch to Basic for a Basic
    /// one. Fails when the challenge cannot be answered.
    fn answer_challenge(&self, at: &At, scope: &str, resp: &ureq::Response) -> Result<()> {
        let challenges: Vec<Challenge> =
            resp.all("WWW-Authenticate").iter().flat_map(|h| parse_challenges(h)).collect();
        let creds = self.credentials().map_err(|e| self.error(at, e.to_string(), Some(401)))?;
        let bearer = challenges.iter().find_map(|c| match c {
            Challenge::Bearer { realm, service, scope } => Some((realm, service, scope)),
            Challenge::Basic => None,
        });
        if let Some((realm, service, challenge_scope)) = bearer {
            self.state().tokens.forget(scope);
            let wanted = challenge_scope.as_deref().unwrap_or(scope);
            let (token, expires_in) = self.fetch_token(at, realm, service.as_deref(), wanted, creds)?;
            self.state().tokens.put(scope, token, expires_in);
            return Ok(());
        }
        if challenges.contains(&Challenge::Basic) {
            // The lock is released before building an error: scrubbing takes it again.
            let first_time = !std::mem::replace(&mut self.state().basic, creds.is_some());
            return match creds {
                Some(_) if first_time => Ok(()),
                Some(c) => Err(self.error(
                    at,
                    format!(
                        "{} refused the credentials of user {:?} (HTTP 401)",
                        self.inner.host,
                        c.username()
                    ),
                    Some(401),
                )),
                None => Err(self.error(
                    at,
                    format!(
                        "{} requires authentication and no credentials are configured for it (HTTP 401)",
                        self.inner.host
                    ),
                    Some(401),
                )),
            };
        }
        Err(self.error(
            at,
            format!("{} answered 401 without a usable WWW-Authenticate challenge", self.inner.host),
            Some(401),
        ))
    }

    /// Distribution "Token Authentication Specification", "Requesting a Token": GET the realm
    /// with `service` and `scope`, Basic credentials when there are any; with an identity token,
    /// "OAuth2 Token Authentication": POST a `refresh_token` grant.
    fn fetch_token(
        &self,
        at: &At,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        creds: Option<&Credentials>,
    ) -> Result<(String, Option<u64>)> {
        // A plain-HTTP realm is accepted only where plain HTTP was allowed: a listed host, or the
        // host name of a registry already spoken to over plain HTTP.
        let realm_ok = realm.starts_with("https://")
            || realm.strip_prefix("http://").is_some_and(|r| {
                let h = host_of(r);
                is_listed(&self.inner.opts.insecure, h)
                    || (self.base().starts_with("http://") && hostname(h) == hostname(&self.inner.host))
            });
        if !realm_ok {
            return Err(self.error(
                at,
                format!("token realm {realm:?} is not HTTPS and its host is not allowed plain HTTP"),
                Some(401),
            ));
        }
        let what = format!("token from {realm}");
        let result = self.call_retrying(|| match creds {
            // "OAuth2 Token Authentication": the identity token is a refresh token, POSTed.
            Some(c) if c.is_identity_token() => {
                let mut form = vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", c.password()),
                    ("client_id", "layerleak"),
                    ("scope", scope),
                ];
                if let Some(s) = service {
                    form.push(("service", s));
                }
                self.inner.agent.post(realm).send_form(&form)
            }
            _ => {
                let mut req = self.inner.agent.get(realm).query("scope", scope);
                if let Some(s) = service {
                    req = req.query("service", s);
                }
                if let Some(c) = creds {
                    req = req.set("Authorization", &c.basic_header());
                }
                req.call()
            }
        });
        let resp = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(code, resp)) => return Err(self.status_error(at, code, resp, &what)),
            Err(ureq::Error::Transport(t)) => return Err(self.error(at, format!("{what}: {t}"), None)),
        };
        let bytes = read_bounded(resp, MAX_SMALL_BODY, at, &what)?;
        let answer: TokenResponse = serde_json::from_slice(&bytes)
            .map_err(|_| self.error(at, format!("{what}: answer is not a token response"), None))?;
        let token = answer
            .token
            .filter(|t| !t.is_empty())
            .or(answer.access_token.filter(|t| !t.is_empty()))
            .ok_or_else(|| {
                self.error(at, format!("{what}: answer has neither `token` nor `access_token`"), None)
            })?;
        Ok((token, answer.expires_in))
    }

    /// An error for a non-2xx answer, with the registry's error codes (distribution spec
    /// "Error Codes") when the body carries them.
    fn status_error(&self, at: &At, code: u16, resp: ureq::Response, what: &str) -> Error {
        let mut body = Vec::new();
        // The body only decorates the message; an unreadable one is left out.
        let _ = resp.into_reader().take(4096).read_to_end(&mut body);
        #[derive(serde::Deserialize)]
        struct Errors {
            errors: Vec<ErrorEntry>,
        }
        #[derive(serde::Deserialize)]
        struct ErrorEntry {
            #[serde(default)]
            code: String,
            #[serde(default)]
            message: String,
        }
        let detail = serde_json::from_slice::<Errors>(&body)
            .map(|e| {
                e.errors.iter().map(|x| format!("{}: {}", x.code, x.message)).collect::<Vec<_>>().join("; ")
            })
            .unwrap_or_default();
        let mut detail: String = detail.chars().filter(|c| !c.is_control()).take(300).collect();
        if !detail.is_empty() {
            detail.insert_str(0, ", ");
        }
        let summary = match code {
            401 => "unauthorized",
            403 => "forbidden",
            404 => "not found",
            429 => "too many requests",
            500..=599 => "server error",
            _ => "refused",
        };
        self.error(at, format!("{what}: {summary} (HTTP {code}{detail})"), Some(code))
    }

    /// Replaces every secret this handle knows by `***`.
    fn scrub(&self, mut message: String) -> String {
        let mut secrets: Vec<String> = self.inner.opts.password.iter().cloned().collect();
        if let Some(Ok(Some(c))) = self.inner.creds.get() {
            secrets.push(c.password().to_string());
        }
        secrets.extend(self.state().tokens.all().map(str::to_string));
        for s in secrets.iter().filter(|s| s.len() >= 3) {
            message = message.replace(s.as_str(), "***");
        }
        message
    }
}

/// `repository:<repo>:pull` (distribution "Token Scope Documentation").
pub(super) fn pull_scope(repo: &str) -> String {
    format!("repository:{repo}:pull")
}

/// Whether `host` (`name[:port]`) is in `list`, by `name:port` or by `name` alone.
fn is_listed(list: &[String], host: &str) -> bool {
    list.iter().any(|l| {
        let l = l.trim().trim_start_matches("http://").trim_start_matches("https://").trim_end_matches('/');
        l == host || l == hostname(host)
    })
}

/// `host[:port]` without the port.
fn hostname(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((n, p)) if !n.ends_with(':') && p.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => host,
    }
}

/// The authority of a URL without its scheme.
fn host_of(url_without_scheme: &str) -> &str {
    let end = url_without_scheme.find(['/', '?', '#']).unwrap_or(url_without_scheme.len());
    &url_without_scheme[..end]
}

/// `Retry-After` in seconds (the HTTP-date form is not honoured), when it is short enough.
fn retry_after(value: Option<&str>) -> Option<Duration> {
    let secs: u64 = value?.trim().parse().ok()?;
    let d = Duration::from_secs(secs);
    (d <= MAX_RETRY_AFTER).then_some(d)
}

/// 200 ms, 400 ms, 800 ms, … capped at 10 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(200u64.saturating_mul(1 << attempt.min(6))).min(Duration::from_secs(10))
}

/// Reads a whole body of at most `max` bytes; refuses a larger declared `Content-Length`
/// before reading anything.
pub(super) fn read_bounded(resp: ureq::Response, max: u64, at: &At, what: &str) -> Result<Vec<u8>> {
    let declared = resp.header("Content-Length").and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(Error::Limit { at: at.clone(), limit: LimitKind::JsonBytes, max });
    }
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0).min(max).min(1 << 20) as usize);
    resp.into_reader()
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| Error::io(at.clone(), what, source))?;
    if bytes.len() as u64 > max {
        return Err(Error::Limit { at: at.clone(), limit: LimitKind::JsonBytes, max });
    }
    Ok(bytes)
}

/// Checks `bytes` (whose sha256 is `sha256`) against `expected`, any algorithm this crate can
/// compute.
pub(super) fn verify(
    at: &At,
    kind: DigestKind,
    expected: &Digest,
    sha256: &Digest,
    bytes: &[u8],
) -> Result<()> {
    let found = match expected.algorithm() {
        Algorithm::Sha256 => sha256.clone(),
        Algorithm::Sha512 => {
            match Digest::parse(&format!("sha512:{}", crate::digest::hex(&sha2::Sha512::digest(bytes)))) {
                Some(d) => d,
                None => return Err(Error::format(at.clone(), "cannot format a sha512 digest")),
            }
        }
        other => {
            return Err(Error::Unsupported {
                at: at.clone(),
                message: format!("cannot verify a {other} digest"),
            });
        }
    };
    if &found == expected {
        Ok(())
    } else {
        Err(Error::DigestMismatch { at: at.clone(), kind, expected: expected.clone(), found })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::registry::scripted::{answer, scripted, scripted_on};
    use std::net::TcpListener;

    #[test]
    fn plain_http_only_when_asked() -> Result<()> {
        let opts = RegistryOptions {
            insecure: vec!["h.test:5000".into(), "other".into()],
            ..RegistryOptions::default()
        };
        assert_eq!(Registry::new("localhost:5000", &opts)?.base(), "https://localhost:5000");
        assert_eq!(Registry::new("127.0.0.1", &RegistryOptions::default())?.base(), "https://127.0.0.1");
        assert_eq!(Registry::new("h.test:5000", &opts)?.base(), "http://h.test:5000");
        assert_eq!(Registry::new("other:1", &opts)?.base(), "http://other:1");
        assert_eq!(Registry::new("http://x:1", &RegistryOptions::default())?.base(), "http://x:1");
        assert_eq!(Registry::new("docker.io", &opts)?.host(), super::super::reference::DOCKER_HUB);
        assert!(Registry::new("bad host", &opts).is_err());
        assert!(Registry::new("user@host", &opts).is_err());
        Ok(())
    }

    #[test]
    fn backoff_and_retry_after_are_bounded() {
        assert_eq!(backoff(0), Duration::from_millis(200));
        assert_eq!(backoff(2), Duration::from_millis(800));
        assert_eq!(backoff(40), Duration::from_secs(10));
        assert_eq!(retry_after(Some("2")), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(Some("3600")), None);
        assert_eq!(retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
        assert_eq!(retry_after(None), None);
    }

    #[test]
    fn verify_checks_sha256_and_sha512() {
        let at = At::none();
        let bytes = b"{}";
        let sha = Digest::sha256_of(bytes);
        assert!(verify(&at, DigestKind::Manifest, &sha, &sha, bytes).is_ok());
        let other = Digest::sha256_of(b"x");
        assert!(matches!(
            verify(&at, DigestKind::Manifest, &other, &sha, bytes),
            Err(Error::DigestMismatch { .. })
        ));
        let sha512 = format!("sha512:{}", crate::digest::hex(&sha2::Sha512::digest(bytes)));
        let sha512 = Digest::parse(&sha512);
        assert!(sha512.is_some_and(|d| verify(&at, DigestKind::Manifest, &d, &sha, bytes).is_ok()));
    }

    #[test]
    fn retries_on_503_and_429_then_succeeds() -> std::result::Result<(), Box<dyn std::error::Error>> {
        let body = r#"{"schemaVersion":2}"#;
        let (addr, server) = scripted(vec![
            answer("503 Service Unavailable", "", ""),
            answer("429 Too Many Requests", "Retry-After: 0\r\n", ""),
            answer(
                "200 OK",
                "Content-Type: application/vnd.oci.image.manifest.v1+json; charset=utf-8\r\n",
                body,
            ),
        ])?;
        let opts = RegistryOptions { retries: 2, ..RegistryOptions::default() };
        let r = Registry::new(&format!("http://{addr}"), &opts)?;
        let (bytes, media_type, digest) = r.manifest("a/b", "v1")?;
        assert_eq!(bytes, body.as_bytes());
        assert_eq!(media_type.as_deref(), Some("application/vnd.oci.image.manifest.v1+json"));
        assert_eq!(digest, Digest::sha256_of(body.as_bytes()));
        let seen = server.join().map_err(|_| "server panicked")?;
        assert_eq!(seen.len(), 3);
        assert!(seen[0].starts_with("GET /v2/a/b/manifests/v1 HTTP/1.1"), "{}", seen[0]);
        assert!(seen[0].to_ascii_lowercase().contains("accept: application/vnd.oci.image.index.v1+json"));
        Ok(())
    }

    #[test]
    fn gives_up_after_the_retries_with_the_status() -> std::result::Result<(), Box<dyn std::error::Error>> {
        let (addr, server) =
            scripted(vec![answer("502 Bad Gateway", "", ""), answer("502 Bad Gateway", "", "")])?;
        let opts = RegistryOptions { retries: 1, ..RegistryOptions::default() };
        let r = Registry::new(&format!("http://{addr}"), &opts)?;
        match r.manifest("a", "v1") {
            Err(Error::Registry { status: Some(502), at, .. }) => {
                assert_eq!(at.image, Some(format!("{addr}/a:v1")));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(server.join().map_err(|_| "server panicked")?.len(), 2);
        Ok(())
    }

    #[test]
    fn docker_content_digest_mismatch_is_an_error() -> std::result::Result<(), Box<dyn std::error::Error>> {
        let wrong = Digest::sha256_of(b"something else");
        let (addr, _server) =
            scripted(vec![answer("200 OK", &format!("Docker-Content-Digest: {wrong}\r\n"), "{}")])?;
        let r = Registry::new(&format!("http://{addr}"), &RegistryOptions::default())?;
        assert!(matches!(
            r.manifest("a", "v1"),
            Err(Error::DigestMismatch { kind: DigestKind::Manifest, .. })
        ));
        Ok(())
    }

    #[test]
    fn oversized_declared_body_is_refused_unread() -> std::result::Result<(), Box<dyn std::error::Error>> {
        let (addr, _server) =
            scripted(vec!["HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n{}".to_string()])?;
        let opts = RegistryOptions { max_manifest_bytes: 1024, ..RegistryOptions::default() };
        let r = Registry::new(&format!("http://{addr}"), &opts)?;
        assert!(matches!(
            r.manifest("a", "v1"),
            Err(Error::Limit { limit: LimitKind::JsonBytes, max: 1024, .. })
        ));
        Ok(())
    }

    #[test]
    fn invalid_names_never_reach_the_network() -> Result<()> {
        let r = Registry::new(
            "http://127.0.0.1:9",
            &RegistryOptions { retries: 0, ..RegistryOptions::default() },
        )?;
        for (repo, reference) in [("../x", "v1"), ("a", "v1/../../x"), ("a?b", "v1"), ("a", "sha256:zz")] {
            match r.manifest(repo, reference) {
                Err(Error::Registry { status: None, message, .. }) => {
                    assert!(!message.contains("connect"), "{message}")
                }
                other => panic!("{repo} {reference}: {other:?}"),
            }
        }
        Ok(())
    }

    #[test]
    fn bearer_token_is_cached_refreshed_on_401_and_scrubbed(
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?.to_string();
        let challenge = format!(
            "WWW-Authenticate: Bearer realm=\"http://{addr}/token\",service=\"svc\",scope=\"repository:a:pull\"\r\n"
        );
        let (_, server) = scripted_on(
            listener,
            vec![
                answer("401 Unauthorized", &challenge, ""),
                answer("200 OK", "", r#"{"token":"tok-one-5e1f","expires_in":300}"#),
                answer("200 OK", "", "{}"),
                answer("401 Unauthorized", &challenge, ""),
                answer("200 OK", "", r#"{"access_token":"tok-two-77aa"}"#),
                answer("200 OK", "", "{}"),
                answer(
                    "403 Forbidden",
                    "",
                    r#"{"errors":[{"code":"DENIED","message":"tok-two-77aa may not"}]}"#,
                ),
            ],
        )?;
        let opts = RegistryOptions { retries: 0, ..RegistryOptions::default() };
        let r = Registry::new(&format!("http://{addr}"), &opts)?;
        r.manifest("a", "v1")?;
        r.manifest("a", "v1")?;
        let err = match r.manifest("a", "v1") {
            Err(e @ Error::Registry { status: Some(403), .. }) => e.to_string(),
            other => panic!("{other:?}"),
        };
        assert!(err.contains("DENIED") && !err.contains("tok-two-77aa"), "{err}");
        let seen = server.join().map_err(|_| "server panicked")?;
        let auth = |i: usize| {
            seen[i]
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
                .map(|l| l.trim().to_string())
        };
        assert_eq!(auth(0), None);
        assert!(seen[1].starts_with("GET /token?scope=repository%3Aa%3Apull&service=svc "), "{}", seen[1]);
        assert_eq!(auth(2).as_deref(), Some("Authorization: Bearer tok-one-5e1f"));
        assert_eq!(auth(3).as_deref(), Some("Authorization: Bearer tok-one-5e1f"), "cached");
        assert_eq!(auth(5).as_deref(), Some("Authorization: Bearer tok-two-77aa"), "refreshed");
        assert_eq!(auth(6).as_deref(), Some("Authorization: Bearer tok-two-77aa"));
        Ok(())
    }

    #[test]
    fn identity_token_is_exchanged_with_a_refresh_token_grant(
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?.to_string();
        let challenge =
            format!("WWW-Authenticate: Bearer realm=\"http://{addr}/oauth2/token\",service=\"acr\"\r\n");
        let (_, server) = scripted_on(
            listener,
            vec![
                answer("401 Unauthorized", &challenge, ""),
                answer("200 OK", "", r#"{"access_token":"at-31c4","refresh_token":"rt-new"}"#),
                answer("200 OK", "", "{}"),
            ],
        )?;
        let dir = tempfile::tempdir()?;
        let config = dir.path().join("config.json");
        std::fs::write(&config, format!(r#"{{"auths":{{"{addr}":{{"identitytoken":"rt-0a9b"}}}}}}"#))?;
        let opts = RegistryOptions { retries: 0, docker_config: Some(config), ..RegistryOptions::default() };
        let r = Registry::new(&format!("http://{addr}"), &opts)?;
        r.manifest("a", "v1")?;
        let seen = server.join().map_err(|_| "server panicked")?;
        let (head, body) = seen[1].split_once("\r\n\r\n").ok_or("token request has no body")?;
        assert!(head.starts_with("POST /oauth2/token "), "{head}");
        assert!(!head.to_ascii_lowercase().contains("authorization:"), "no Basic header: {head}");
        let mut form: Vec<&str> = body.split('&').collect();
        form.sort_unstable();
        assert_eq!(
            form,
            [
                "client_id=layerleak",
                "grant_type=refresh_token",
                "refresh_token=rt-0a9b",
                "scope=repository%3Aa%3Apull",
                "service=acr"
            ]
        );
        assert!(seen[2].contains("Authorization: Bearer at-31c4"), "{}", seen[2]);
        Ok(())
    }

    #[test]
    fn retries_a_connection_closed_without_an_answer() -> std::result::Result<(), Box<dyn std::error::Error>>
    {
        let (addr, server) = scripted(vec![String::new(), answer("200 OK", "", "{}")])?;
        let opts = RegistryOptions { retries: 1, ..RegistryOptions::default() };
        let r = Registry::new(&format!("http://{addr}"), &opts)?;
        assert_eq!(r.manifest("a", "v1")?.0, b"{}");
        assert_eq!(server.join().map_err(|_| "server panicked")?.len(), 2);
        Ok(())
    }
}
