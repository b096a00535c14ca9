//! Registry credentials and authentication challenges.
//!
//! Credentials come from [`super::RegistryOptions`] (username and password), else from the
//! Docker client configuration: `credHelpers.<host>`, `credsStore`, then `auths.<host>` (`auth`
//! base64 `user:pass`, or `username`/`password`). Helpers speak the
//! `docker-credential-<name> get` protocol: the server URL on stdin, `{"Username","Secret"}` on
//! stdout.
//!
//! Challenges follow RFC 7235 `WWW-Authenticate` and the distribution "Token Authentication
//! Specification": `Bearer realm="…",service="…",scope="…"`.
//!
//! # Security
//!
//! A password or token never leaves this module except as an `Authorization` header value: the
//! `Debug` of [`Credentials`] prints `***`, and error messages name the host, never the secret.
//! The Docker config and helper output are untrusted: both are read with a size bound.

use std::collections::HashMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;

use super::reference::DOCKER_HUB;

/// Largest Docker config file or helper answer read.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The user name that marks the secret as an identity token (Docker's convention).
const IDENTITY_TOKEN_USER: &str = "<token>";

/// A username and password (or token) for one registry. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    username: String,
    password: String,
}

impl Credentials {
    /// Credentials from a username and a password or token.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials { username: username.into(), password: password.into() }
    }

    /// An identity token (an OAuth2 refresh token, what `docker login` stores as `identitytoken`
    /// for registries such as Azure Container Registry): exchanged at the registry's token
    /// endpoint with a `refresh_token` grant instead of being sent as a password. Docker's own
    /// convention, kept for credential helpers too: the user name is `<token>`.
    pub fn identity_token(token: impl Into<String>) -> Credentials {
        Credentials::new(IDENTITY_TOKEN_USER, token)
    }

    /// Whether these are an identity token (see [`Credentials::identity_token`]).
    pub fn is_identity_token(&self) -> bool {
        self.username == IDENTITY_TOKEN_USER
    }

    /// The username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password, for building an `Authorization` header only.
    pub(crate) fn password(&self) -> &str {
        &self.password
    }

    /// The `Authorization: Basic …` header value.
    pub(crate) fn basic_header(&self) -> String {
        let raw = format!("{}:{}", self.username, self.password);
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
    }

    /// Looks up credentials for `host` in the Docker client configuration at `config` (or the
    /// default location: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`). A missing
    /// file or an entry-less host is `Ok(None)`.
    ///
    /// # Errors
    ///
    /// A message (without any secret) when the file is unreadable or malformed, or a helper
    /// fails other than with "credentials not found".
    pub fn from_docker_config(host: &str, config: Option<&Path>) -> Result<Option<Credentials>, String> {
        let path = match config.map(Path::to_path_buf).or_else(default_docker_config) {
            Some(p) => p,
            None => return Ok(None),
        };
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read docker config {}: {e}", path.display())),
        };
        let mut text = Vec::new();
        file.take(MAX_CONFIG_BYTES + 1)
            .read_to_end(&mut text)
            .map_err(|e| format!("cannot read docker config {}: {e}", path.display()))?;
        if text.len() as u64 > MAX_CONFIG_BYTES {
            return Err(format!("docker config {} is over {MAX_CONFIG_BYTES} bytes", path.display()));
        }
        let config: DockerConfig = serde_json::from_slice(&text)
            .map_err(|e| format!("docker config {} is not valid: {e}", path.display()))?;
        config.lookup(host, &|helper, server| {
            run_helper(Path::new(&format!("docker-credential-{helper}")), server)
        })
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("username", &self.username).field("password", &"***").finish()
    }
}

fn default_docker_config() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(PathBuf::from(home).join(".docker").join("config.json"))
}

/// Runs credential helper `name` for server URL `server`.
type HelperFn<'a> = dyn Fn(&str, &str) -> Result<Option<Credentials>, String> + 'a;

/// The parts of `~/.docker/config.json` used here.
#[derive(Default, serde::Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: HashMap<String, String>,
}

#[derive(Default, serde::Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

impl DockerConfig {
    /// Helper first (a per-host `credHelpers` entry, then `credsStore`), then `auths`.
    fn lookup(&self, host: &str, helper: &HelperFn<'_>) -> Result<Option<Credentials>, String> {
        let server = server_url(host);
        if let Some(name) = self.cred_helpers.iter().find(|(k, _)| key_matches(k, host)).map(|(_, v)| v) {
            check_helper_name(name)?;
            return helper(name, &server);
        }
        if let Some(name) = self.creds_store.as_deref().filter(|n| !n.is_empty()) {
            check_helper_name(name)?;
            if let Some(c) = helper(name, &server)? {
                return Ok(Some(c));
            }
        }
        let Some(entry) = self.auths.iter().find(|(k, _)| key_matches(k, host)).map(|(_, v)| v) else {
            return Ok(None);
        };
        // `docker login` to an OAuth2 registry stores the refresh token here; Docker prefers it.
        if let Some(token) = entry.identitytoken.as_deref().filter(|t| !t.is_empty()) {
            return Ok(Some(Credentials::identity_token(token)));
        }
        if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|_| format!("docker config: auths entry for {host} is not base64"))?;
            let raw = String::from_utf8(raw)
                .map_err(|_| format!("docker config: auths entry for {host} is not UTF-8"))?;
            let (user, pass) = raw
                .split_once(':')
                .ok_or_else(|| format!("docker config: auths entry for {host} is not user:password"))?;
            return Ok(Some(Credentials::new(user, pass)));
        }
        match (&entry.username, &entry.password) {
            (Some(u), Some(p)) => Ok(Some(Credentials::new(u.as_str(), p.as_str()))),
            _ => Ok(None),
        }
    }
}

/// The server URL Docker tools store Docker Hub credentials under, else the host itself.
fn server_url(host: &str) -> String {
    if host == DOCKER_HUB {
        "https://index.docker.io/v1/".to_string()
    } else {
        host.to_string()
    }
}

/// Whether a config key (`host`, `https://host`, `https://host/v1/`) names `host`.
fn key_matches(key: &str, host: &str) -> bool {
    let k = key.strip_prefix("https://").or_else(|| key.strip_prefix("http://")).unwrap_or(key);
    let k = k.split('/').next().unwrap_or(k);
    k == host || (host == DOCKER_HUB && matches!(k, "index.docker.io" | "docker.io" | "registry-1.docker.io"))
}

/// A helper name becomes part of a program name: refuse anything that could be a path.
fn check_helper_name(name: &str) -> Result<(), String> {
    if !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && !name.starts_with('.')
    {
        Ok(())
    } else {
        Err(format!("docker config: credential helper name {name:?} is not valid"))
    }
}

/// How long a credential helper may take to answer. Docker's own helpers answer in well under a
/// second; one waiting on a locked keychain or a prompt nobody sees would otherwise hang the scan.
const HELPER_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `<program> get` with `server` on stdin. "Not found" answers are `Ok(None)`.
pub(crate) fn run_helper(program: &Path, server: &str) -> Result<Option<Credentials>, String> {
    run_helper_within(program, server, HELPER_TIMEOUT)
}

/// [`run_helper`] with its own time limit: past it the helper is killed and the lookup fails.
fn run_helper_within(program: &Path, server: &str, limit: Duration) -> Result<Option<Credentials>, String> {
    let what = program.display();
    let mut child = Command::new(program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run credential helper {what}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading stdin is judged by its exit status below.
        let _ = stdin.write_all(server.as_bytes());
    }
    // Read on a thread, so the wait below can give up: a killed helper's own children may keep
    // the pipe open, and the reader then ends with them, on its own.
    let stdout = child.stdout.take();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let read = stdout.map_or(Ok(0), |s| s.take(MAX_CONFIG_BYTES).read_to_end(&mut out));
        let _ = tx.send(read.map(|_| out));
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "credential helper {what} did not answer within {} s",
                    limit.as_secs_f32()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("credential helper {what}: {e}")),
        }
    };
    let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(100));
    let out = match rx.recv_timeout(left) {
        Ok(read) => read.map_err(|e| format!("cannot read credential helper {what}: {e}"))?,
        Err(_) => return Err(format!("credential helper {what} exited but kept its output open")),
    };
    if !status.success() {
        // The helper protocol reports a missing entry on stdout with a non-zero exit.
        if String::from_utf8_lossy(&out).to_ascii_lowercase().contains("credentials not found") {
            return Ok(None);
        }
        return Err(format!("credential helper {what} failed ({status})"));
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "Username", default)]
        username: String,
        #[serde(rename = "Secret", default)]
        secret: String,
    }
    let answer: Answer = serde_json::from_slice(&out)
        .map_err(|_| format!("credential helper {what} gave an answer that is not the expected JSON"))?;
    if answer.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(Credentials::new(answer.username, answer.secret)))
}

/// One parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// `Basic realm="…"`.
    Basic,
    /// `Bearer realm="…",service="…",scope="…"`.
    Bearer {
        /// Token endpoint.
        realm: String,
        /// `service` parameter, when given.
        service: Option<String>,
        /// `scope` parameter, when given.
        scope: Option<String>,
    },
}

/// Parses the challenges of one `WWW-Authenticate` header value (RFC 7235 section 4.1;
/// auth-params with quoted or token values). Unknown schemes are skipped.
pub(crate) fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut out = Vec::new();
    let mut scheme: Option<String> = None;
    let mut params: HashMap<String, String> = HashMap::new();
    let mut rest = header.trim();
    let flush =
        |scheme: &mut Option<String>, params: &mut HashMap<String, String>, out: &mut Vec<Challenge>| {
            match scheme.take().map(|s| s.to_ascii_lowercase()).as_deref() {
                Some("basic") => out.push(Challenge::Basic),
                Some("bearer") => {
                    if let Some(realm) = params.remove("realm") {
                        out.push(Challenge::Bearer {
                            realm,
                            service: params.remove("service"),
                            scope: params.remove("scope"),
                        });
                    }
                }
                _ => {}
            }
            params.clear();
        };
    while !rest.is_empty() {
        rest = rest.trim_start_matches([' ', ',', '\t']);
        let end = rest.find([' ', ',', '=', '\t']).unwrap_or(rest.len());
        let token = &rest[..end];
        let after = rest[end..].trim_start_matches([' ', '\t']);
        if token.is_empty() {
            break;
        }
        if let Some(value_part) = after.strip_prefix('=') {
            let value_part = value_part.trim_start_matches([' ', '\t']);
            let (value, remaining) = if let Some(q) = value_part.strip_prefix('"') {
                let mut value = String::new();
                let mut chars = q.char_indices();
                let mut end = q.len();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, e)) = chars.next() {
                                value.push(e);
                            }
                        }
                        '"' => {
                            end = i + 1;
                            break;
                        }
                        c => value.push(c),
                    }
                }
                (value, &q[end.min(q.len())..])
            } else {
                let e = value_part.find([',', ' ', '\t']).unwrap_or(value_part.len());
                (value_part[..e].to_string(), &value_part[e..])
            };
            params.insert(token.to_ascii_lowercase(), value);
            rest = remaining;
        } else {
            flush(&mut scheme, &mut params, &mut out);
            scheme = Some(token.to_string());
            rest = after;
        }
    }
    flush(&mut scheme, &mut params, &mut out);
    out
}

/// Bearer tokens by scope, with their expiry.
#[derive(Default)]
pub(crate) struct TokenCache {
    tokens: HashMap<String, (String, Option<Instant>)>,
}

impl TokenCache {
    /// The cached, unexpired token for `scope`.
    pub(crate) fn get(&self, scope: &str) -> Option<String> {
        let (token, expires) = self.tokens.get(scope)?;
        match expires {
            Some(at) if Instant::now() >= *at => None,
            _ => Some(token.clone()),
        }
    }

    /// Stores a token; `expires_in` seconds shortened by a safety margin.
    pub(crate) fn put(&mut self, scope: &str, token: String, expires_in: Option<u64>) {
        let expires = expires_in.map(|s| Instant::now() + Duration::from_secs(s.saturating_sub(10).max(1)));
        self.tokens.insert(scope.to_string(), (token, expires));
    }

    /// Forgets the token for `scope` (the registry refused it).
    pub(crate) fn forget(&mut self, scope: &str) {
        self.tokens.remove(scope);
    }

    /// Every cached token, for scrubbing them out of messages.
    pub(crate) fn all(&self) -> impl Iterator<Item = &str> {
        self.tokens.values().map(|(t, _)| t.as_str())
    }
}

/// A token endpoint's answer (distribution "Token Authentication Specification", "Token
/// Response Fields").
#[derive(serde::Deserialize)]
pub(crate) struct TokenResponse {
    #[serde(default)]
    pub(crate) token: Option<String>,
    #[serde(default)]
    pub(crate) access_token: Option<String>,
    #[serde(default)]
    pub(crate) expires_in: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let c = Credentials::new("bob", "s3cr3t-debug");
        let shown = format!("{c:?} {c:#?}");
        assert!(!shown.contains("s3cr3t-debug"), "{shown}");
        assert!(shown.contains("bob") && shown.contains("***"));
        assert_eq!(c.basic_header(), "Basic Ym9iOnMzY3IzdC1kZWJ1Zw==");
    }

    #[test]
    fn bearer_challenge_with_quoted_params() {
        let h = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#;
        assert_eq!(
            parse_challenges(h),
            vec![Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/alpine:pull".into()),
            }]
        );
    }

    #[test]
    fn several_challenges_and_odd_spacing() {
        let h = r#"Basic realm="Registry Realm", bearer realm = "http://h/t" , error="insufficient_scope", scope="a\"b""#;
        let c = parse_challenges(h);
        assert_eq!(c[0], Challenge::Basic);
        assert_eq!(
            c[1],
            Challenge::Bearer { realm: "http://h/t".into(), service: None, scope: Some("a\"b".into()) }
        );
        assert!(parse_challenges("Bearer service=\"x\"").is_empty(), "no realm, no challenge");
        assert!(parse_challenges("Negotiate abc").is_empty());
        assert!(parse_challenges("Bearer realm=\"unterminated").len() == 1);
        assert!(parse_challenges("").is_empty());
    }

    fn config(json: &str) -> DockerConfig {
        match serde_json::from_str(json) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    fn no_helper(_: &str, _: &str) -> Result<Option<Credentials>, String> {
        Err("no helper expected".into())
    }

    #[test]
    fn auths_entries_base64_and_fields() {
        let c = config(
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"dTpwOng="},"h:5000":{"username":"a","password":"b"}}}"#,
        );
        assert_eq!(c.lookup(DOCKER_HUB, &no_helper), Ok(Some(Credentials::new("u", "p:x"))));
        assert_eq!(c.lookup("h:5000", &no_helper), Ok(Some(Credentials::new("a", "b"))));
        assert_eq!(c.lookup("other", &no_helper), Ok(None));
        let bad = config(r#"{"auths":{"h":{"auth":"%%%"}}}"#);
        assert!(bad.lookup("h", &no_helper).is_err());
    }

    #[test]
    fn identity_tokens_come_before_user_and_password() {
        let c = config(
            r#"{"auths":{"acr.io":{"auth":"PHRva2VuPjo=","identitytoken":"rt-9f8e"},"h":{"identitytoken":""}}}"#,
        );
        let no_helper = |_: &str, _: &str| -> Result<Option<Credentials>, String> { Ok(None) };
        let got = c.lookup("acr.io", &no_helper).unwrap().unwrap();
        assert!(got.is_identity_token());
        assert_eq!(got, Credentials::identity_token("rt-9f8e"));
        assert_eq!(c.lookup("h", &no_helper), Ok(None), "an empty identity token is no credential");
        assert!(!Credentials::new("u", "p").is_identity_token());
    }

    #[test]
    fn helpers_come_before_auths() {
        let c = config(
            r#"{"auths":{"h":{"username":"a","password":"b"}},"credsStore":"desktop","credHelpers":{"g.io":"gcr"}}"#,
        );
        let helper = |name: &str, server: &str| -> Result<Option<Credentials>, String> {
            Ok(match (name, server) {
                ("gcr", "g.io") => Some(Credentials::new("oauth", "tok")),
                ("desktop", "https://index.docker.io/v1/") => Some(Credentials::new("hub", "pw")),
                _ => None,
            })
        };
        assert_eq!(c.lookup("g.io", &helper), Ok(Some(Credentials::new("oauth", "tok"))));
        assert_eq!(c.lookup(DOCKER_HUB, &helper), Ok(Some(Credentials::new("hub", "pw"))));
        assert_eq!(
            c.lookup("h", &helper),
            Ok(Some(Credentials::new("a", "b"))),
            "store miss falls back to auths"
        );
        let evil = config(r#"{"credsStore":"../../bin/sh"}"#);
        assert!(evil.lookup("h", &helper).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn helper_protocol_round_trip() -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let script = dir.path().join("docker-credential-test");
        std::fs::write(
            &script,
            "#!/bin/sh\nread host\nif [ \"$host\" = known.io ]; then echo '{\"ServerURL\":\"known.io\",\"Username\":\"u\",\"Secret\":\"s\"}'; \
             else echo 'credentials not found in native keychain'; exit 1; fi\n",
        )?;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
        assert_eq!(run_helper(&script, "known.io"), Ok(Some(Credentials::new("u", "s"))));
        assert_eq!(run_helper(&script, "other.io"), Ok(None));
        assert!(run_helper(&dir.path().join("missing"), "x").is_err());
        Ok(())
    }

    /// The error of a helper run that must fail. Another test thread forking while the script
    /// was open for writing makes exec fail with ETXTBSY for a moment; that is retried, it is not
    /// what is tested.
    #[cfg(unix)]
    fn helper_error(script: &Path, limit: Duration) -> String {
        let mut err = String::new();
        for _ in 0..20 {
            err = run_helper_within(script, "known.io", limit).unwrap_err();
            if !err.contains("busy") {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        err
    }

    #[cfg(unix)]
    #[test]
    fn a_helper_that_never_answers_is_killed_at_the_time_limit() -> std::io::Result<()> {
        // Without a limit this helper (a keychain prompt nobody sees) would hold the scan for a
        // minute; with it the lookup fails after 200 ms and names the helper.
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let script = dir.path().join("docker-credential-stuck");
        std::fs::write(&script, "#!/bin/sh\nexec sleep 60\n")?;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
        let err = helper_error(&script, Duration::from_millis(200));
        assert!(err.contains("did not answer within 0.2 s"), "{err}");
        assert!(err.contains("docker-credential-stuck"), "{err}");
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn a_helper_whose_child_keeps_its_output_open_fails_at_the_time_limit() -> std::io::Result<()> {
        // The helper exits at once but leaves a child holding stdout: reading to the end would
        // wait for that child.
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let script = dir.path().join("docker-credential-forks");
        std::fs::write(&script, "#!/bin/sh\nsleep 5 &\nexit 0\n")?;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
        let err = helper_error(&script, Duration::from_millis(300));
        assert!(err.contains("exited but kept its output open"), "{err}");
        Ok(())
    }

    #[test]
    fn docker_config_file_missing_or_malformed() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let missing = dir.path().join("none.json");
        assert_eq!(Credentials::from_docker_config("h", Some(&missing)), Ok(None));
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "{not json")?;
        assert!(Credentials::from_docker_config("h", Some(&bad)).is_err());
        let good = dir.path().join("good.json");
        std::fs::write(&good, r#"{"auths":{"h":{"auth":"dTpw"}}}"#)?;
        assert_eq!(Credentials::from_docker_config("h", Some(&good)), Ok(Some(Credentials::new("u", "p"))));
        Ok(())
    }

    #[test]
    fn token_cache_expiry_and_forget() {
        let mut c = TokenCache::default();
        c.put("s", "t1".into(), None);
        assert_eq!(c.get("s").as_deref(), Some("t1"));
        c.put("e", "t2".into(), Some(0));
        c.tokens.insert("e".into(), ("t2".into(), Some(Instant::now())));
        assert_eq!(c.get("e"), None, "expired");
        c.forget("s");
        assert_eq!(c.get("s"), None);
    }
}
