//! `layerleak scan REF` and `layerleak audit REGISTRY` against registries on 127.0.0.1: a real
//! CNCF distribution registry (`docker-registry`, images pushed with `skopeo`) for the normal
//! paths, and a small scripted registry for answers no real registry gives (a made-up media
//! type, a 10 MB manifest, a blob with the wrong bytes, a connection closed mid-blob).

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use layerleak::digest::Digest;
use serde_json::{json, Value};

use crate::common::{self, code};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// A synthetic GitHub token with a valid checksum (also planted in the lifecycle fixture).
const PAT: &str = "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";

/// Fails (never skips) when a tool these tests need is missing.
pub(crate) fn require(tool: &str) -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("`{tool}` is not installed; install it with `apt-get install -y docker-registry skopeo`")
        })
}

fn fixture(name: &str) -> PathBuf {
    common::root().join("testdata/fixtures").join(name)
}

/// A running `docker-registry serve` on 127.0.0.1, killed on drop.
struct RealRegistry {
    port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl RealRegistry {
    /// Starts a registry, with an htpasswd file holding `user:password` when given.
    fn start(htpasswd: Option<(&str, &str)>) -> TestResult<RealRegistry> {
        let dir = tempfile::tempdir()?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let root = dir.path().display().to_string();
        let auth = match htpasswd {
            Some((user, password)) => {
                std::fs::write(
                    dir.path().join("htpasswd"),
                    format!("{user}:{}\n", bcrypt::hash(password, 4)?),
                )?;
                format!("auth:\n  htpasswd:\n    realm: test-realm\n    path: {root}/htpasswd\n")
            }
            None => String::new(),
        };
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    \
             rootdirectory: {root}/storage\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: layerleak-test\n{auth}"
        );
        std::fs::write(dir.path().join("config.yml"), config)?;
        let log = std::fs::File::create(dir.path().join("registry.log"))?;
        let child = Command::new(require("docker-registry"))
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let registry = RealRegistry { port, child, dir };
        registry.wait_ready()?;
        Ok(registry)
    }

    /// Polls `/v2/` until the registry answers (401 counts).
    fn wait_ready(&self) -> TestResult {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                s.set_read_timeout(Some(Duration::from_secs(2)))?;
                let _ = s.write_all(b"GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
                let mut head = [0u8; 9];
                if s.read_exact(&mut head).is_ok() && &head == b"HTTP/1.1 " {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default();
        Err(format!("docker-registry did not answer within 15 s: {log}").into())
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `skopeo copy oci:LAYOUT:TAG docker://HOST/DEST` over plain HTTP (`--all` for an index).
    fn push(&self, layout: &Path, tag: &str, dest: &str, creds: Option<&str>) -> TestResult {
        let mut cmd = Command::new(require("skopeo"));
        cmd.args(["--insecure-policy", "copy", "--quiet", "--all", "--dest-tls-verify=false"]);
        if let Some(c) = creds {
            cmd.arg("--dest-creds").arg(c);
        }
        let out = cmd
            .arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("docker://{}/{dest}", self.host()))
            .stdin(Stdio::null())
            .output()?;
        if !out.status.success() {
            return Err(format!("skopeo copy to {dest}: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        Ok(())
    }
}

impl Drop for RealRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `layerleak ARGS` with no ambient Docker credentials and no user cache. The timeout only stops
/// a hung run: a debug build on a loaded 2-core machine took over 60 s for the audit past every
/// kind of bad answer, which takes 5 s alone.
pub(crate) fn layerleak(args: &[&str], home: &Path, stdin: Option<&str>) -> TestResult<Output> {
    let mut c = common::cmd();
    c.args(args)
        .env("DOCKER_CONFIG", home.join("docker"))
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env_remove("LAYERLEAK_REGISTRY_USERNAME")
        .env_remove("LAYERLEAK_REGISTRY_PASSWORD")
        .timeout(Duration::from_secs(180));
    if let Some(s) = stdin {
        c.write_stdin(s);
    }
    Ok(c.output()?)
}

fn stdout_json(out: &Output) -> TestResult<Value> {
    serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("stdout is not JSON ({e}): {}", common::transcript(out)).into())
}

/// What must agree between two scans of one image: rule, fingerprint, path, status,
/// introducing and hiding layer.
fn finding_keys(report: &Value) -> BTreeSet<String> {
    let list = report["findings"].as_array().cloned().unwrap_or_default();
    list.iter()
        .map(|f| {
            format!(
                "{} {} {} {} {} {}",
                f["rule"],
                f["fingerprint"],
                f["location"]["path"],
                f["status"],
                f["introduced_in"]["index"],
                f["hidden_in"]["layer"]["index"]
            )
        })
        .collect()
}

fn strings(v: &Value, field: &str) -> Vec<String> {
    let list = v.as_array().cloned().unwrap_or_default();
    list.iter().filter_map(|x| x[field].as_str().map(str::to_string)).collect()
}

#[test]
fn registry_scan_equals_the_disk_scan_and_pins_the_manifest() -> TestResult {
    let registry = RealRegistry::start(None)?;
    let host = registry.host();
    registry.push(&fixture("lifecycle.oci"), "v1", "layerleak/lifecycle:v1", None)?;
    let home = tempfile::tempdir()?;
    let rules = common::TEST_RULES;
    let base = ["scan", "--no-builtin-rules", "--rules", rules, "--format", "json"];

    let disk = layerleak(&[&base[..], &["testdata/fixtures/lifecycle.oci"]].concat(), home.path(), None)?;
    assert_eq!(code(&disk), 1, "{}", common::transcript(&disk));
    let disk = stdout_json(&disk)?;
    assert!(!finding_keys(&disk).is_empty());
    let disk_digest = disk["images"][0]["manifest_digest"].as_str().ok_or("no digest on disk")?.to_string();

    let reference = format!("{host}/layerleak/lifecycle:v1");
    let http_reference = format!("http://{reference}");
    let runs =
        [vec![reference.as_str(), "--insecure-registry", host.as_str()], vec![http_reference.as_str()]];
    for extra in &runs {
        let out = layerleak(&[&base[..], extra].concat(), home.path(), None)?;
        assert_eq!(code(&out), 1, "{extra:?}: {}", common::transcript(&out));
        let pulled = stdout_json(&out)?;
        assert_eq!(finding_keys(&pulled), finding_keys(&disk), "{extra:?}");
        let image = &pulled["images"][0];
        assert_eq!(image["kind"], "registry");
        assert_eq!(image["manifest_digest"].as_str(), Some(disk_digest.as_str()), "{extra:?}");
        assert!(pulled["findings"].as_array().is_some_and(|f| f.iter().all(|f| f.get("secret").is_none())));
    }

    // The table heading is the reference to pin a deployment to, as one word.
    let table = layerleak(
        &["scan", "--no-builtin-rules", "--rules", rules, &reference, "--insecure-registry", &host],
        home.path(),
        None,
    )?;
    let text = String::from_utf8_lossy(&table.stdout);
    // The summary comes first, then a blank line, then the image's heading.
    let heading = text.lines().nth(2).unwrap_or_default();
    assert_eq!(heading.split(' ').next(), Some(format!("{reference}@{disk_digest}").as_str()), "{text}");
    Ok(())
}

#[test]
fn htpasswd_registry_takes_the_password_from_stdin_and_never_prints_it() -> TestResult {
    const PASSWORD: &str = "pw-Zq81-never-printed";
    let registry = RealRegistry::start(Some(("auditor", PASSWORD)))?;
    let host = registry.host();
    registry.push(&fixture("lifecycle.oci"), "v1", "private/app:v1", Some(&format!("auditor:{PASSWORD}")))?;
    let home = tempfile::tempdir()?;
    let reference = format!("http://{host}/private/app:v1");
    let args = ["scan", "--format", "json", "--username", "auditor", "--password-stdin", &reference];

    let ok = layerleak(&args, home.path(), Some(&format!("{PASSWORD}\n")))?;
    assert_eq!(code(&ok), 1, "{}", common::transcript(&ok));
    assert!(!stdout_json(&ok)?["findings"].as_array().is_some_and(Vec::is_empty));

    let wrong = "pw-wrong-also-secret";
    let refused = layerleak(&args, home.path(), Some(&format!("{wrong}\n")))?;
    let text = common::transcript(&refused);
    assert_eq!(code(&refused), 3, "nothing could be read: {text}");
    assert!(text.contains("401") && text.contains("auditor"), "{text}");
    assert!(!text.contains(wrong) && !text.contains(PASSWORD), "a password was printed: {text}");

    let anonymous = layerleak(&["scan", &reference], home.path(), None)?;
    let text = common::transcript(&anonymous);
    assert_eq!(code(&anonymous), 3, "nothing could be read: {text}");
    assert!(text.contains("requires authentication"), "{text}");
    Ok(())
}

#[test]
fn audit_twice_serves_the_second_run_from_the_cache_and_selects_repos_and_tags() -> TestResult {
    let registry = RealRegistry::start(None)?;
    registry.push(&fixture("lifecycle.oci"), "v1", "team/lifecycle:v1", None)?;
    registry.push(&fixture("lifecycle.oci"), "v1", "team/lifecycle:latest", None)?;
    registry.push(&fixture("multiarch.oci"), "latest", "team/multi:latest", None)?;
    registry.push(&fixture("umoci.oci"), "umoci", "other/umoci:v2", None)?;
    let home = tempfile::tempdir()?;
    let cache = home.path().join("audit/cache.sqlite");
    let cache = cache.to_str().ok_or("non-UTF-8 temp dir")?;
    let url = format!("http://{}", registry.host());
    let audit = |extra: &[&str]| {
        layerleak(&[&["audit", url.as_str(), "--cache", cache], extra].concat(), home.path(), None)
    };

    let first = audit(&["--format", "json", "--group-by", "image"])?;
    assert_eq!(code(&first), 1, "{}", common::transcript(&first));
    let first = stdout_json(&first)?;
    let mut names = strings(&first["images"], "name");
    names.sort();
    let host = registry.host();
    let expect_prefix = [
        format!("{host}/other/umoci:v2"),
        format!("{host}/team/lifecycle:latest"),
        format!("{host}/team/lifecycle:v1"),
    ];
    for p in &expect_prefix {
        assert!(names.iter().any(|n| n == p), "{p} missing from {names:?}");
    }
    // The multi-platform image counts once per platform.
    assert!(
        names.iter().filter(|n| n.starts_with(&format!("{host}/team/multi:latest"))).count() >= 2,
        "{names:?}"
    );
    assert!(first["images"].as_array().is_some_and(|i| i.iter().all(|i| i["manifest_digest"].is_string())));
    let findings_first = first["findings"].as_array().map_or(0, Vec::len);
    assert!(findings_first > 0);
    assert_eq!(first["stats"]["layers_cached"], 0);

    let second = audit(&[])?;
    let text = String::from_utf8_lossy(&second.stdout);
    assert_eq!(code(&second), 1, "{}", common::transcript(&second));
    let summary = text.lines().last().unwrap_or_default();
    // By distinct secret (the default): no layer read, every one from the cache.
    assert!(summary.contains(" (0 scanned, ") && summary.contains(" from the cache, "), "{summary}");

    let third = audit(&["--format", "json", "--group-by", "image"])?;
    let third = stdout_json(&third)?;
    assert_eq!(third["stats"]["layers_scanned"], 0, "everything came from the cache");
    assert_eq!(finding_keys(&third), finding_keys(&first));

    let picked = audit(&["--format", "json", "--repo", "team/*", "--tags", "latest"])?;
    assert_eq!(code(&picked), 1, "{}", common::transcript(&picked));
    let picked = stdout_json(&picked)?;
    let names: BTreeSet<String> = strings(&picked["images"], "name")
        .into_iter()
        .map(|n| n.split(' ').next().unwrap_or_default().to_string())
        .collect();
    let want: BTreeSet<String> =
        [format!("{host}/team/lifecycle:latest"), format!("{host}/team/multi:latest")].into();
    assert_eq!(names, want);

    let none = audit(&["--repo", "nothing/*"])?;
    let text = common::transcript(&none);
    assert_eq!(code(&none), 3, "no repository selected, nothing was scanned: {text}");
    assert!(text.contains("nothing was scanned: no image was found or selected"), "{text}");
    Ok(())
}

#[test]
fn https_to_a_plain_http_registry_and_a_missing_tag_are_clear_errors() -> TestResult {
    let registry = RealRegistry::start(None)?;
    let host = registry.host();
    registry.push(&fixture("lifecycle.oci"), "v1", "team/app:v1", None)?;
    let home = tempfile::tempdir()?;

    let tls = layerleak(&["scan", &format!("{host}/team/app:v1")], home.path(), None)?;
    let text = common::transcript(&tls);
    assert_eq!(code(&tls), 3, "nothing could be read: {text}");
    assert!(text.contains(&format!("{host}/team/app:v1")), "the error names the image: {text}");
    assert!(text.to_lowercase().contains("tls") || text.contains("https"), "{text}");

    let missing = layerleak(&["scan", &format!("http://{host}/team/app:v2")], home.path(), None)?;
    let text = common::transcript(&missing);
    assert_eq!(code(&missing), 3, "nothing could be read: {text}");
    assert!(text.contains("404") && text.contains("team/app:v2"), "{text}");
    Ok(())
}

/// One answer of the scripted registry.
#[derive(Clone)]
pub(crate) struct Route {
    content_type: String,
    body: Arc<Vec<u8>>,
    /// Close the connection after this many body bytes (the full length is still announced).
    cut_after: Option<usize>,
}

impl Route {
    pub(crate) fn json(body: Vec<u8>, content_type: &str) -> Route {
        Route { content_type: content_type.to_string(), body: Arc::new(body), cut_after: None }
    }
}

/// A registry that answers GETs from a fixed table of paths, `404` with a distribution error
/// body for anything else. Each connection is answered once and closed.
pub(crate) fn scripted_registry(routes: HashMap<String, Route>) -> TestResult<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let routes = Arc::new(routes);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let routes = routes.clone();
            std::thread::spawn(move || {
                let _ = answer(stream, &routes);
            });
        }
    });
    Ok(port)
}

fn answer(stream: TcpStream, routes: &HashMap<String, Route>) -> std::io::Result<()> {
    let mut reader = BufReader::new(&stream);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
    }
    let path = request.split(' ').nth(1).unwrap_or("/");
    let path = path.split('?').next().unwrap_or(path);
    let mut out = &stream;
    match routes.get(path) {
        Some(r) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nDocker-Distribution-Api-Version: \
                 registry/2.0\r\nConnection: close\r\n\r\n",
                r.content_type,
                r.body.len()
            )?;
            let n = r.cut_after.unwrap_or(r.body.len()).min(r.body.len());
            out.write_all(&r.body[..n])?;
        }
        None => {
            let body = br#"{"errors":[{"code":"NOT_FOUND","message":"not in the scripted registry"}]}"#;
            write!(
                out,
                "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: \
                 close\r\n\r\n",
                body.len()
            )?;
            out.write_all(body)?;
        }
    }
    out.flush()?;
    stream.shutdown(Shutdown::Both)
}

/// An uncompressed tar (POSIX ustar, "Pax Interchange Format" not needed) holding one file.
fn tar_one(path: &str, data: &[u8]) -> Vec<u8> {
    let mut h = [0u8; 512];
    h[..path.len()].copy_from_slice(path.as_bytes());
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
    h[136..148].copy_from_slice(format!("{:011o}\0", 1_700_000_000u64).as_bytes());
    h[148..156].copy_from_slice(b"        ");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut tar = h.to_vec();
    tar.extend_from_slice(data);
    tar.resize(tar.len().div_ceil(512) * 512 + 1024, 0);
    tar
}

/// One image of the scripted registry: a single uncompressed layer holding `data` at `path`.
struct Scripted {
    layer: Vec<u8>,
    config: Vec<u8>,
    manifest: Vec<u8>,
}

impl Scripted {
    fn new(path: &str, data: &[u8]) -> TestResult<Scripted> {
        let layer = tar_one(path, data);
        let layer_digest = Digest::sha256_of(&layer);
        let config = serde_json::to_vec(&json!({
            "architecture": "amd64", "os": "linux", "config": {},
            "rootfs": {"type": "layers", "diff_ids": [layer_digest.to_string()]},
            "history": [{"created_by": format!("COPY {path}")}]
        }))?;
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": Digest::sha256_of(&config).to_string(), "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": layer_digest.to_string(), "size": layer.len()}]
        }))?;
        Ok(Scripted { layer, config, manifest })
    }

    /// Routes serving this image as `repo:v1`; `layer` replaces the layer's answer (`None`: 404).
    fn routes(&self, repo: &str, layer: Option<Route>) -> Vec<(String, Route)> {
        const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
        let blob = |d: Digest| format!("/v2/{repo}/blobs/{d}");
        let mut r = vec![
            (format!("/v2/{repo}/manifests/v1"), Route::json(self.manifest.clone(), MANIFEST)),
            (
                blob(Digest::sha256_of(&self.config)),
                Route::json(self.config.clone(), "application/octet-stream"),
            ),
        ];
        if let Some(l) = layer {
            r.push((blob(Digest::sha256_of(&self.layer)), l));
        }
        r
    }

    fn layer_route(&self) -> Route {
        Route::json(self.layer.clone(), "application/octet-stream")
    }
}

#[test]
fn audit_goes_on_past_every_kind_of_bad_answer_and_lists_each() -> TestResult {
    let mut routes = HashMap::new();
    let mut repos = Vec::new();
    let mut add = |repo: &str, r: Vec<(String, Route)>| {
        repos.push(repo.to_string());
        routes.insert(
            format!("/v2/{repo}/tags/list"),
            Route::json(
                serde_json::to_vec(&json!({"name": repo, "tags": ["v1"]})).unwrap_or_default(),
                "application/json",
            ),
        );
        routes.extend(r);
    };

    let good = Scripted::new("app/good.env", format!("GITHUB_TOKEN={PAT}\n").as_bytes())?;
    add("good/app", good.routes("good/app", Some(good.layer_route())));
    // A manifest that was never pushed.
    add("bad/no-manifest", Vec::new());
    // A config the registry lost.
    let no_config = Scripted::new("app/no-config.env", b"NOCONFIG=1\n")?;
    let config_digest = Digest::sha256_of(&no_config.config).to_string();
    let mut no_config_routes = no_config.routes("bad/no-config", Some(no_config.layer_route()));
    no_config_routes.remove(1);
    add("bad/no-config", no_config_routes);
    // A blob the registry lost.
    let lost = Scripted::new("app/lost.env", b"LOST=1\n")?;
    add("bad/no-blob", lost.routes("bad/no-blob", None));
    // Another blob's bytes under this digest's path: same length, one byte differs.
    let swapped = Scripted::new("app/swapped.env", b"SWAPPED=1\n")?;
    let mut other = swapped.layer.clone();
    other[512] ^= 0x20;
    add(
        "bad/wrong-digest",
        swapped.routes("bad/wrong-digest", Some(Route::json(other, "application/octet-stream"))),
    );
    // A manifest kind nobody defined.
    let odd = Scripted::new("app/odd.env", b"ODD=1\n")?;
    let mut odd_routes = odd.routes("bad/media-type", Some(odd.layer_route()));
    odd_routes[0].1.content_type = "application/vnd.example.made-up.v1+json".into();
    add("bad/media-type", odd_routes);
    // A 10 MB manifest: valid JSON, padded.
    let mut huge = b"{\"schemaVersion\":2,\"annotations\":{\"pad\":\"".to_vec();
    huge.resize(10_000_000, b'x');
    huge.extend_from_slice(b"\"}}");
    add(
        "bad/huge",
        vec![(
            "/v2/bad/huge/manifests/v1".into(),
            Route::json(huge, "application/vnd.oci.image.manifest.v1+json"),
        )],
    );
    // The connection closes halfway through the layer.
    let mut noise = Vec::with_capacity(256 << 10);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while noise.len() < 256 << 10 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.push(b'a' + (x >> 59) as u8 % 26);
    }
    let cut = Scripted::new("opt/big.txt", &noise)?;
    let mut cut_layer = cut.layer_route();
    cut_layer.cut_after = Some(64 << 10);
    add("bad/cut", cut.routes("bad/cut", Some(cut_layer)));

    routes.insert(
        "/v2/_catalog".into(),
        Route::json(serde_json::to_vec(&json!({"repositories": repos}))?, "application/json"),
    );
    let port = scripted_registry(routes)?;
    let host = format!("127.0.0.1:{port}");
    let home = tempfile::tempdir()?;
    let started = Instant::now();
    let out = layerleak(
        &["audit", &format!("http://{host}"), "--cache", "none", "--format", "json"],
        home.path(),
        None,
    )?;
    let text = common::transcript(&out);
    assert_eq!(code(&out), 2, "{text}");
    assert!(started.elapsed() < Duration::from_secs(120), "the audit did not hang: {text}");
    let report = stdout_json(&out)?;

    // The good image is scanned in full (the report is by distinct secret).
    let secrets = report["secrets"].as_array().cloned().unwrap_or_default();
    let good = format!("{host}/good/app:v1");
    let in_good = |s: &Value| s["places"].as_array().is_some_and(|p| p.iter().any(|p| p["image"] == *good));
    assert!(secrets.iter().any(|s| s["rule"] == "github-pat" && in_good(s)), "{text}");

    let errors = report["errors"].as_array().cloned().unwrap_or_default();
    // Every error of `repo`'s image, named by the image (not by the blob that failed).
    let errors_of = |repo: &str| -> TestResult<Vec<Value>> {
        let name = format!("{host}/{repo}:v1");
        let mine: Vec<Value> = errors.iter().filter(|e| e["image"] == name.as_str()).cloned().collect();
        if mine.is_empty() {
            return Err(format!("no error for {name} in {errors:#?}").into());
        }
        Ok(mine)
    };
    let message = |e: &Value| e["message"].as_str().unwrap_or_default().to_string();
    let [e] = &errors_of("bad/no-manifest")?[..] else { return Err("one error for no-manifest".into()) };
    assert!(message(e).contains("404"), "{e}");
    let [e] = &errors_of("bad/no-config")?[..] else { return Err("one error for no-config".into()) };
    assert!(message(e).contains("404") && message(e).contains(&config_digest), "{e}");
    let [e] = &errors_of("bad/no-blob")?[..] else { return Err("one error for no-blob".into()) };
    assert!(message(e).contains("404") && e["layer"] == 0, "{e}");
    // An uncompressed layer's digest is its diff_id: both checks may report it.
    let swapped_digest = Digest::sha256_of(&swapped.layer).to_string();
    for e in errors_of("bad/wrong-digest")? {
        assert_eq!((&e["kind"], &e["layer"]), (&json!("digest_mismatch"), &json!(0)), "{e}");
        assert!(message(&e).contains(&swapped_digest), "{e}");
    }
    let [e] = &errors_of("bad/media-type")?[..] else { return Err("one error for media-type".into()) };
    assert!(message(e).contains("application/vnd.example.made-up.v1+json"), "{e}");
    let [e] = &errors_of("bad/huge")?[..] else { return Err("one error for huge".into()) };
    assert_eq!(e["kind"], "limit", "{e}");
    for e in errors_of("bad/cut")? {
        assert_eq!((&e["kind"], &e["layer"]), (&json!("io"), &json!(0)), "{e}");
    }
    assert!(errors.iter().all(|e| e["image"].as_str().is_some_and(|i| i.contains("/bad/"))), "{errors:#?}");
    // Each error also reaches stderr.
    let stderr = String::from_utf8_lossy(&out.stderr);
    for repo in
        ["bad/no-manifest", "bad/no-blob", "bad/wrong-digest", "bad/media-type", "bad/huge", "bad/cut"]
    {
        assert!(stderr.contains(&format!("{host}/{repo}:v1")), "{repo} not on stderr: {stderr}");
    }
    Ok(())
}
