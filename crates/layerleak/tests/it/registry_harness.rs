//! Test fixtures for the registry client: a real CNCF distribution registry
//! (`docker-registry` from Debian) on 127.0.0.1, OCI layouts built here and pushed with
//! `skopeo`, a token endpoint signing JWTs with an `openssl`-made key, and a proxy that cuts a
//! connection after N bytes. Nothing here contacts any address but 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use layerleak::digest::Digest;
use serde_json::json;

use crate::support::gzip_layer;

pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const INSTALL_HINT: &str = "install the test tools with `apt-get install -y docker-registry skopeo`";

/// Fails (never skips) when a tool the registry tests need is missing.
pub fn require(tool: &str) -> PathBuf {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file());
    match found {
        Some(p) => p,
        None => panic!("`{tool}` is not installed; the registry tests need it: {INSTALL_HINT}"),
    }
}

pub fn free_port() -> TestResult<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// How the registry authenticates.
pub enum Auth {
    None,
    /// htpasswd file with one bcrypt entry.
    Htpasswd {
        user: String,
        password: String,
    },
    /// Token auth against `realm`, trusting the certificate at `cert`.
    Token {
        realm: String,
        service: String,
        issuer: String,
        cert: PathBuf,
    },
}

/// A running `docker-registry serve`, killed on drop.
pub struct RegistryServer {
    pub port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl RegistryServer {
    pub fn start(auth: Auth) -> TestResult<RegistryServer> {
        let bin = require("docker-registry");
        let dir = tempfile::tempdir()?;
        let port = free_port()?;
        let root = dir.path().display().to_string();
        let auth_yaml = match &auth {
            Auth::None => String::new(),
            Auth::Htpasswd { user, password } => {
                let hash = bcrypt::hash(password, 4)?;
                std::fs::write(dir.path().join("htpasswd"), format!("{user}:{hash}\n"))?;
                format!("auth:\n  htpasswd:\n    realm: test-realm\n    path: {root}/htpasswd\n")
            }
            Auth::Token { realm, service, issuer, cert } => format!(
                "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    rootcertbundle: {}\n",
                cert.display()
            ),
        };
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {root}/storage\n\
             http:\n  addr: 127.0.0.1:{port}\n  secret: layerleak-test-secret\n{auth_yaml}"
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config)?;
        let log = std::fs::File::create(dir.path().join("registry.log"))?;
        let child = Command::new(bin)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let mut server = RegistryServer { port, child, dir };
        server.wait_ready()?;
        Ok(server)
    }

    /// Polls `/v2/` until the registry answers (any status: 401 is ready too).
    fn wait_ready(&mut self) -> TestResult {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return Err(format!("docker-registry exited ({status}): {}", self.log()).into());
            }
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                s.set_read_timeout(Some(Duration::from_secs(2)))?;
                let _ = s.write_all(b"GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
                let mut head = [0u8; 12];
                if s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 ") {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("docker-registry did not answer /v2/ within 15 s: {}", self.log()).into())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for RegistryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One image of a built layout.
pub struct BuiltImage {
    pub manifest: Vec<u8>,
    pub manifest_digest: Digest,
    pub config: Vec<u8>,
    pub config_digest: Digest,
    pub layers: Vec<(Digest, Vec<u8>)>,
    pub arch: String,
}

/// What [`build_layout`] wrote.
pub struct Layout {
    pub dir: tempfile::TempDir,
    pub images: Vec<BuiltImage>,
    /// Digest of the multi-platform index when several architectures were asked for.
    pub index_digest: Option<Digest>,
}

pub fn put_blob(dir: &Path, bytes: &[u8]) -> TestResult<Digest> {
    let d = Digest::sha256_of(bytes);
    std::fs::write(dir.join("blobs/sha256").join(d.hex()), bytes)?;
    Ok(d)
}

/// Deterministic incompressible bytes (xorshift), so a layer is as big on the wire as asked.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Builds an OCI image layout with one image per architecture in `arches`, tagged `tag`
/// (`org.opencontainers.image.ref.name`). One architecture makes a plain manifest entry;
/// several make a nested image index. `big_layer` adds a second layer of that many
/// incompressible bytes.
pub fn build_layout(tag: &str, arches: &[&str], big_layer: usize) -> TestResult<Layout> {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(dir.path().join("blobs/sha256"))?;
    std::fs::write(dir.path().join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    let mut images = Vec::new();
    for (i, arch) in arches.iter().enumerate() {
        let conf = format!("arch={arch}\ntoken=AKIA-not-a-real-key-{i}\n");
        let mut layer_specs = vec![gzip_layer(&[("etc/app.conf", conf.as_bytes())])];
        if big_layer > 0 {
            let data = noise(big_layer, 7 + i as u64);
            layer_specs.push(gzip_layer(&[("opt/blob.bin", &data)]));
        }
        let mut layers = Vec::new();
        let mut diff_ids = Vec::new();
        let mut descriptors = Vec::new();
        for (gz, diff_id) in layer_specs {
            let d = put_blob(dir.path(), &gz)?;
            descriptors.push(json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": d.to_string(), "size": gz.len()
            }));
            diff_ids.push(diff_id.to_string());
            layers.push((d, gz));
        }
        let config = serde_json::to_vec(&json!({
            "architecture": arch, "os": "linux",
            "config": {"Env": ["PATH=/usr/bin"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created_by": "COPY app.conf /etc/"}]
        }))?;
        let config_digest = put_blob(dir.path(), &config)?;
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.to_string(), "size": config.len()},
            "layers": descriptors
        }))?;
        let manifest_digest = put_blob(dir.path(), &manifest)?;
        images.push(BuiltImage {
            manifest,
            manifest_digest,
            config,
            config_digest,
            layers,
            arch: arch.to_string(),
        });
    }
    let ref_name = json!({"org.opencontainers.image.ref.name": tag});
    let (top, index_digest) = if let [only] = images.as_slice() {
        let entry = json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": only.manifest_digest.to_string(), "size": only.manifest.len(), "annotations": ref_name
        });
        (entry, None)
    } else {
        let entries: Vec<_> = images
            .iter()
            .map(|im| {
                json!({
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": im.manifest_digest.to_string(), "size": im.manifest.len(),
                    "platform": {"os": "linux", "architecture": im.arch}
                })
            })
            .collect();
        let index = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries
        }))?;
        let d = put_blob(dir.path(), &index)?;
        let entry = json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": d.to_string(), "size": index.len(), "annotations": ref_name
        });
        (entry, Some(d))
    };
    let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [top]});
    std::fs::write(dir.path().join("index.json"), serde_json::to_vec(&index)?)?;
    Ok(Layout { dir, images, index_digest })
}

/// `skopeo copy [--all] oci:DIR:TAG docker://HOST/REPO:DEST_TAG` over plain HTTP.
pub fn push(
    layout: &Layout,
    tag: &str,
    host: &str,
    repo: &str,
    dest_tag: &str,
    creds: Option<&str>,
) -> TestResult {
    let mut cmd = Command::new(require("skopeo"));
    cmd.args(["--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false"]);
    if layout.index_digest.is_some() {
        cmd.arg("--all");
    }
    if let Some(c) = creds {
        cmd.arg("--dest-creds").arg(c);
    }
    let out = cmd
        .arg(format!("oci:{}:{tag}", layout.dir.path().display()))
        .arg(format!("docker://{host}/{repo}:{dest_tag}"))
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "skopeo copy to {host}/{repo}:{dest_tag} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(())
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A token endpoint (distribution "Token Authentication Specification") issuing RS256 JWTs
/// whose `x5c` header carries a self-signed certificate the registry trusts.
pub struct TokenServer {
    pub port: u16,
    pub service: String,
    pub issuer: String,
    pub cert: PathBuf,
    /// Every request's query string, in order.
    pub requests: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl TokenServer {
    /// Starts the endpoint; it answers 401 unless the request carries Basic `user:password`.
    pub fn start(user: &str, password: &str) -> TestResult<TokenServer> {
        let openssl = require("openssl");
        let dir = tempfile::tempdir()?;
        let key = dir.path().join("key.pem");
        let cert = dir.path().join("cert.pem");
        let der = dir.path().join("cert.der");
        let run = |args: &[&str]| -> TestResult {
            let out = Command::new(&openssl).args(args).stdin(Stdio::null()).output()?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!("openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into())
            }
        };
        let (k, c, d) = (key.display().to_string(), cert.display().to_string(), der.display().to_string());
        run(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &k,
            "-out",
            &c,
            "-days",
            "2",
            "-subj",
            "/CN=layerleak-test-issuer",
        ])?;
        run(&["x509", "-in", &c, "-outform", "DER", "-out", &d])?;
        let x5c = base64::engine::general_purpose::STANDARD.encode(std::fs::read(&der)?);
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let service = "layerleak-test-registry".to_string();
        let issuer = "layerleak-test-issuer".to_string();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let ctx = Arc::new(TokenCtx {
            openssl,
            key,
            x5c,
            service: service.clone(),
            issuer: issuer.clone(),
            expected_auth: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            ),
            requests: requests.clone(),
        });
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let ctx = ctx.clone();
                std::thread::spawn(move || {
                    let _ = ctx.serve(stream);
                });
            }
        });
        Ok(TokenServer { port, service, issuer, cert, requests, _dir: dir })
    }

    pub fn realm(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    pub fn auth(&self) -> Auth {
        Auth::Token {
            realm: self.realm(),
            service: self.service.clone(),
            issuer: self.issuer.clone(),
            cert: self.cert.clone(),
        }
    }
}

struct TokenCtx {
    openssl: PathBuf,
    key: PathBuf,
    x5c: String,
    service: String,
    issuer: String,
    expected_auth: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl TokenCtx {
    fn serve(&self, stream: TcpStream) -> TestResult {
        let mut reader = BufReader::new(&stream);
        let mut request_line = String::new();
        reader.read_line(&mut request_line)?;
        let mut authorization = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 || line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("authorization") {
                    authorization = Some(v.trim().to_string());
                }
            }
        }
        let target = request_line.split(' ').nth(1).unwrap_or("");
        let query = target.split_once('?').map(|(_, q)| q).unwrap_or("").to_string();
        if let Ok(mut r) = self.requests.lock() {
            r.push(query.clone());
        }
        let mut out = &stream;
        if authorization.as_deref() != Some(self.expected_auth.as_str()) {
            out.write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
            return Ok(());
        }
        let access: Vec<_> = query
            .split('&')
            .filter_map(|kv| kv.strip_prefix("scope="))
            .map(percent_decode)
            .filter_map(|scope| {
                let mut parts = scope.splitn(3, ':');
                let kind = parts.next()?.to_string();
                let name = parts.next()?.to_string();
                let actions: Vec<String> = parts.next()?.split(',').map(str::to_string).collect();
                Some(json!({"type": kind, "name": name, "actions": actions}))
            })
            .collect();
        let token = self.sign(access)?;
        let body = serde_json::to_vec(&json!({"token": token, "expires_in": 300}))?;
        write!(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())?;
        out.write_all(&body)?;
        let _ = stream.shutdown(Shutdown::Both);
        Ok(())
    }

    fn sign(&self, access: Vec<serde_json::Value>) -> TestResult<String> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        let header = json!({"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]});
        let claims = json!({
            "iss": self.issuer, "sub": "layerleak-test", "aud": self.service,
            "exp": now + 300, "nbf": now - 10, "iat": now - 10, "jti": format!("jti-{now}-{}", access.len()),
            "access": access
        });
        let signing_input =
            format!("{}.{}", b64url(&serde_json::to_vec(&header)?), b64url(&serde_json::to_vec(&claims)?));
        let mut child = Command::new(&self.openssl)
            .args(["dgst", "-sha256", "-sign"])
            .arg(&self.key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        child.stdin.take().ok_or("no stdin")?.write_all(signing_input.as_bytes())?;
        let out = child.wait_with_output()?;
        if !out.status.success() {
            return Err("openssl dgst -sign failed".into());
        }
        Ok(format!("{signing_input}.{}", b64url(&out.stdout)))
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex =
                    std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A proxy to `target` that forwards every byte upstream but only the first `limit` bytes of
/// each answer, then closes the connection: a registry connection lost mid-blob.
pub fn cutting_proxy(target: u16, limit: usize) -> TestResult<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(upstream) = TcpStream::connect(("127.0.0.1", target)) else { continue };
            let (Ok(mut c_read), Ok(mut u_write)) = (client.try_clone(), upstream.try_clone()) else {
                continue;
            };
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_read, &mut u_write);
            });
            std::thread::spawn(move || {
                let mut client = client;
                let mut sent = 0;
                let mut buf = [0u8; 4096];
                let mut upstream = upstream;
                while sent < limit {
                    let n = match upstream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n.min(limit - sent),
                    };
                    if client.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    sent += n;
                }
                let _ = client.shutdown(Shutdown::Both);
                let _ = upstream.shutdown(Shutdown::Both);
            });
        }
    });
    Ok(port)
}
