//! `layerleak audit` by distinct secret against a real registry (`docker-registry`, images
//! pushed with `skopeo`): 33 tags in two repositories share a base layer holding a token and a
//! second shared layer deleting an npm token the base also holds; one tag adds its own layer with
//! a Slack webhook. Each secret is one entry, whatever the number of tags.
//!
//! One registry serves every test of this binary: it is started once, behind a shell that stops
//! it and removes its directory when the test process ends and its stdin closes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use layerleak::digest::Digest;
use serde_json::{json, Value};

use crate::common::{self, code};
use crate::registry::{layerleak, require};
use crate::support::gzip_layer;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Synthetic tokens with valid checksums (also in the lifecycle fixtures).
pub(crate) const PAT: &str = "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";
pub(crate) const NPM: &str = "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";
pub(crate) const SLACK: &str =
    "https://hooks.slack.com/services/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";

/// Tags per repository; `team/web` also has `special`.
const REPOS: [(&str, usize); 2] = [("team/api", 20), ("team/web", 12)];
pub(crate) const IMAGES: usize = 33;

/// The registry and what was pushed to it.
pub(crate) struct Fixture {
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
    /// Scratch home for the runs (no Docker credentials, no user cache).
    pub(crate) home: PathBuf,
    /// The shared base layer's digest.
    pub(crate) base: String,
    /// The `special` tag's own layer.
    pub(crate) special: String,
    /// The shell keeping the registry up; its stdin is held open until the process ends.
    _keeper: Mutex<Child>,
}

pub(crate) fn fixture() -> TestResult<&'static Fixture> {
    static SHARED: OnceLock<Result<Fixture, String>> = OnceLock::new();
    match SHARED.get_or_init(|| start().map_err(|e| e.to_string())) {
        Ok(f) => Ok(f),
        Err(e) => Err(e.clone().into()),
    }
}

fn put(dir: &Path, bytes: &[u8]) -> TestResult<Digest> {
    let d = Digest::sha256_of(bytes);
    std::fs::write(dir.join("blobs/sha256").join(d.hex()), bytes)?;
    Ok(d)
}

/// What [`build_layout`] wrote: the base layer's digest, the `special` tag's own layer's, and
/// each image's ref name in the layout with the `REPO:TAG` it is pushed to.
struct Layout {
    base: Digest,
    special: Digest,
    refs: Vec<(String, String)>,
}

/// One OCI layout holding every image, each under a ref name `REPO/TAG` with `/` as `_`.
fn build_layout(dir: &Path) -> TestResult<Layout> {
    std::fs::create_dir_all(dir.join("blobs/sha256"))?;
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    let credentials = format!("GITHUB_TOKEN={PAT}\n");
    let npmrc = format!("//registry.npmjs.org/:_authToken={NPM}\n");
    let base = gzip_layer(&[
        ("etc/os-release", b"ID=testbase\n".as_slice()),
        ("etc/app/credentials", credentials.as_bytes()),
        ("opt/build/.npmrc", npmrc.as_bytes()),
    ]);
    let cleanup = gzip_layer(&[("opt/build/.wh..npmrc", b"".as_slice())]);
    let mut refs = Vec::new();
    let mut entries = Vec::new();
    let mut special = None;
    let tags = REPOS
        .iter()
        .flat_map(|(repo, n)| (0..*n).map(move |i| (repo.to_string(), format!("t{i:02}"))))
        .chain([("team/web".to_string(), "special".to_string())]);
    for (repo, tag) in tags {
        let (path, body, step) = if tag == "special" {
            ("app/.env", format!("SLACK_WEBHOOK={SLACK}\n"), "COPY .env /app/ # buildkit")
        } else {
            ("app/version.txt", format!("{repo}:{tag}\n"), "COPY version.txt /app/ # buildkit")
        };
        let top = gzip_layer(&[(path, body.as_bytes())]);
        if tag == "special" {
            special = Some(Digest::sha256_of(&top.0));
        }
        let mut descriptors = Vec::new();
        let mut diff_ids = Vec::new();
        for (gz, diff_id) in [&base, &cleanup, &top] {
            let d = put(dir, gz)?;
            descriptors.push(json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": d.to_string(), "size": gz.len()}));
            diff_ids.push(diff_id.to_string());
        }
        let config = serde_json::to_vec(&json!({
            "architecture": "amd64", "os": "linux", "config": {},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created_by": "ADD rootfs.tar / # buildkit"},
                        {"created_by": "RUN /bin/sh -c rm /opt/build/.npmrc # buildkit"},
                        {"created_by": step}]
        }))?;
        let config_digest = put(dir, &config)?;
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": config_digest.to_string(), "size": config.len()},
            "layers": descriptors
        }))?;
        let md = put(dir, &manifest)?;
        let name = format!("{}_{tag}", repo.replace('/', "_"));
        entries.push(json!({"mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": md.to_string(), "size": manifest.len(),
            "annotations": {"org.opencontainers.image.ref.name": name}}));
        refs.push((name, format!("{repo}:{tag}")));
    }
    let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index)?)?;
    Ok(Layout { base: Digest::sha256_of(&base.0), special: special.ok_or("no special layer")?, refs })
}

/// Starts the registry behind its keeper shell and pushes every image.
fn start() -> TestResult<Fixture> {
    let docker_registry = require("docker-registry");
    let skopeo = require("skopeo");
    let dir = tempfile::Builder::new().prefix("layerleak-by-secret").tempdir()?.keep();
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let config = format!(
        "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    \
         rootdirectory: {}/storage\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: layerleak-test\n",
        dir.display()
    );
    std::fs::write(dir.join("config.yml"), config)?;
    // The registry lives as long as this shell's stdin is open: until this process ends.
    let script = "\"$1\" serve \"$2/config.yml\" >\"$2/registry.log\" 2>&1 & pid=$!\n\
                  cat >/dev/null\nkill $pid; wait $pid; rm -rf \"$2\"";
    let keeper = Command::new("sh")
        .args(["-c", script, "keeper"])
        .arg(&docker_registry)
        .arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join("registry.log")).unwrap_or_default();
            return Err(format!("docker-registry did not start: {log}").into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let layout = dir.join("layout");
    let Layout { base, special, refs } = build_layout(&layout)?;
    for (name, dest) in refs {
        let out = Command::new(&skopeo)
            .args(["--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false"])
            .arg(format!("oci:{}:{name}", layout.display()))
            .arg(format!("docker://127.0.0.1:{port}/{dest}"))
            .stdin(Stdio::null())
            .output()?;
        if !out.status.success() {
            return Err(format!("skopeo copy {dest}: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
    }
    let home = dir.join("home");
    std::fs::create_dir_all(&home)?;
    Ok(Fixture {
        url: format!("http://127.0.0.1:{port}"),
        home,
        base: base.to_string(),
        special: special.to_string(),
        _keeper: Mutex::new(keeper),
    })
}

/// `layerleak audit URL --cache none ARGS`.
fn audit(f: &Fixture, args: &[&str]) -> TestResult<Output> {
    let all = [&["audit", f.url.as_str(), "--cache", "none"][..], args].concat();
    layerleak(&all, &f.home, None)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json_of(out: &Output) -> TestResult<Value> {
    serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("stdout is not JSON ({e}): {}", common::transcript(out)).into())
}

pub(crate) fn fingerprint(secret: &str) -> String {
    Digest::sha256_of(secret.as_bytes()).hex().to_string()
}

fn short(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}

#[test]
fn the_table_has_one_entry_per_secret_with_its_counts_and_shared_root_cause() -> TestResult {
    let f = fixture()?;
    let out = audit(f, &[])?;
    assert_eq!(code(&out), 1, "{}", common::transcript(&out));
    let text = stdout(&out);
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(
            "3 distinct secrets (2 still present, 1 hidden but extractable; 2 critical, 1 high) in 33 \
             images, 2 repositories, 33 tags; 35 distinct layers (35 scanned, 64 reused); 0 errors"
        ),
        "{first}"
    );
    // One entry each: the rule names one secret line, whatever the number of tags.
    for rule in ["github-pat", "npm-access-token", "slack-webhook-url"] {
        let entries =
            text.lines().filter(|l| l.starts_with("  ") && l.contains(&format!(" {rule}  "))).count();
        assert_eq!(entries, 1, "{rule}:\n{text}");
    }
    let shared = format!("SHARED LAYER {}  ADD rootfs.tar / # buildkit", short(&f.base));
    assert!(text.contains(&shared), "{text}");
    assert!(text.contains("introduces 2 secrets into 33 images of 2 repositories: fix it once"), "{text}");
    assert!(text.contains("status    present in 33 images (2 repositories)"), "{text}");
    assert!(text.contains("status    hidden but extractable in 33 images (2 repositories)"), "{text}");
    assert!(text.contains("status    present in 1 image (1 repository)"), "{text}");
    let own = format!("added by  {}  COPY .env /app/ # buildkit in 1 image", short(&f.special));
    assert!(text.contains(&own), "{text}");
    // The group names its images once; each of its secrets says where it is in them.
    assert!(text.contains("  images    ") && text.contains("and 30 more in 2 repositories"), "{text}");
    assert!(text.contains("at        /etc/app/credentials:1:14  present"), "{text}");
    assert!(text.contains("at        /opt/build/.npmrc:1:34  deleted"), "{text}");
    assert!(text.lines().count() < 60, "{} lines:\n{text}", text.lines().count());
    // The shared group comes first: its secrets reach 33 images, the webhook one.
    let pat = text.find("github-pat").unwrap_or(usize::MAX);
    assert!(pat < text.find("slack-webhook-url").unwrap_or(0), "{text}");
    assert!(!text.contains(PAT) && !text.contains(NPM) && !text.contains(SLACK), "a secret was printed");

    let all = stdout(&audit(f, &["--all-places", "--by-repository"])?);
    let places = |token: &str| all.lines().filter(|l| l.contains(token)).count();
    assert_eq!(places("/etc/app/credentials:1:"), IMAGES, "{all}");
    assert_eq!(places("/opt/build/.npmrc:1:"), IMAGES, "{all}");
    let row = |repo: &str| {
        let line = all.lines().find(|l| l.contains(&format!("/{repo} "))).unwrap_or_default();
        line.split_whitespace().skip(1).map(str::to_string).collect::<Vec<_>>()
    };
    assert_eq!(row("team/api"), ["20", "20", "2", "1", "1", "40"], "{all}");
    assert_eq!(row("team/web"), ["13", "13", "3", "2", "1", "27"], "{all}");
    Ok(())
}

/// (fingerprint, image, path) of every place.
type Places = BTreeSet<(String, String, String)>;

fn by_image_places(report: &Value) -> Places {
    let mut out = BTreeSet::new();
    for f in report["findings"].as_array().into_iter().flatten() {
        let key =
            |loc: &Value| (f["fingerprint"].to_string(), f["image"].to_string(), loc["path"].to_string());
        out.insert(key(&f["location"]));
        for o in f["also_in"].as_array().into_iter().flatten() {
            out.insert(key(&o["location"]));
        }
    }
    out
}

fn by_secret_places(secrets: &[Value]) -> Places {
    let mut out = BTreeSet::new();
    for s in secrets {
        for p in s["places"].as_array().into_iter().flatten() {
            out.insert((s["fingerprint"].to_string(), p["image"].to_string(), p["path"].to_string()));
        }
    }
    out
}

#[test]
fn json_by_secret_and_by_image_give_the_same_places() -> TestResult {
    let f = fixture()?;
    let secret = json_of(&audit(f, &["--format", "json"])?)?;
    let image = json_of(&audit(f, &["--format", "json", "--group-by", "image"])?)?;
    assert_eq!((&secret["schema"], &secret["group_by"]), (&json!(2), &json!("secret")));
    assert_eq!(image["schema"], 1);
    assert_eq!(image["findings"].as_array().map(Vec::len), Some(2 * IMAGES + 1));
    let secrets = secret["secrets"].as_array().cloned().unwrap_or_default();
    assert_eq!(secrets.len(), 3);
    let places = by_secret_places(&secrets);
    assert_eq!(places.len(), 2 * IMAGES + 1);
    assert_eq!(places, by_image_places(&image));

    let pat = secrets.iter().find(|s| s["fingerprint"] == fingerprint(PAT)).ok_or("no PAT")?;
    assert_eq!(
        (&pat["status"], &pat["visible_in"], &pat["hidden_in_images"]),
        (&json!("present"), &json!(33), &json!(0))
    );
    assert_eq!((&pat["repositories"], &pat["introduced_by"]), (&json!(2), &json!([f.base])));
    assert_eq!(pat["root_cause"]["digest"], f.base.as_str());
    assert_eq!(pat["root_cause"]["created_by"], "ADD rootfs.tar / # buildkit");
    let npm = secrets.iter().find(|s| s["fingerprint"] == fingerprint(NPM)).ok_or("no npm token")?;
    assert_eq!((&npm["status"], &npm["hidden_in_images"]), (&json!("hidden"), &json!(33)));
    let place = &npm["places"][0];
    assert_eq!((&place["status"], &place["layer"]), (&json!("deleted"), &json!(f.base)));
    for field in ["repository", "tag", "platform", "manifest_digest"] {
        assert!(place[field].is_string(), "{field}: {place}");
    }
    let s = &secret["summary"];
    assert_eq!((&s["secrets"], &s["present"], &s["hidden"]), (&json!(3), &json!(2), &json!(1)));
    assert_eq!((&s["images"], &s["repositories"], &s["tags"]), (&json!(33), &json!(2), &json!(33)));
    assert_eq!(secret["stats"]["findings"], 2 * IMAGES + 1);

    // JSONL: one line per distinct secret after the run, then the summary.
    let lines = stdout(&audit(f, &["--format", "jsonl"])?);
    let kinds: Vec<String> = lines
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| v["type"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(kinds, ["secret", "secret", "secret", "summary"]);
    let jsonl: Vec<Value> = lines.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert_eq!(by_secret_places(&jsonl[..3]), places);
    Ok(())
}

#[test]
fn sarif_gives_one_result_per_secret_with_every_place_related_and_validates() -> TestResult {
    let f = fixture()?;
    let sarif = json_of(&audit(f, &["--format", "sarif"])?)?;
    crate::sarif::assert_valid(&crate::sarif::validator(), &sarif, "audit by secret");
    let results = sarif["runs"][0]["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 3);
    let pat = results
        .iter()
        .find(|r| r["partialFingerprints"]["secretSha256/v1"] == fingerprint(PAT))
        .ok_or("no PAT result")?;
    assert_eq!(pat["relatedLocations"].as_array().map(Vec::len), Some(IMAGES));
    assert_eq!(pat["properties"]["images"], 33);
    let fq = pat["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].as_str().unwrap_or_default();
    assert!(fq.contains(&f.base) && fq.ends_with(":/etc/app/credentials"), "{fq}");
    Ok(())
}

#[test]
fn fail_on_present_counts_distinct_visible_secrets_and_suppression_works_by_secret() -> TestResult {
    let f = fixture()?;
    let present = audit(f, &["--format", "json", "--fail-on", "present"])?;
    assert_eq!(code(&present), 1, "{}", common::transcript(&present));
    let present = json_of(&present)?;
    assert_eq!(present["failing_secrets"], 2, "the token and the webhook, once each");
    let webhook = present["secrets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["rule"] == "slack-webhook-url")
        .and_then(|s| s["fingerprint"].as_str())
        .ok_or("no webhook")?;

    // Ignoring the two visible secrets leaves the hidden one: `present` passes, `any` does not.
    let ignore = f.home.join("ignore");
    std::fs::write(&ignore, format!("{}\n{webhook}:slack-webhook-url\n", fingerprint(PAT)))?;
    let ignore = ignore.to_str().ok_or("non-UTF-8 path")?;
    let base = ["--format", "json", "--ignore-file", ignore];
    let passes = audit(f, &[&base[..], &["--fail-on", "present", "--show-suppressed"]].concat())?;
    assert_eq!(code(&passes), 0, "{}", common::transcript(&passes));
    let v = json_of(&passes)?;
    assert_eq!((&v["failing_secrets"], &v["summary"]["secrets"]), (&json!(0), &json!(1)));
    assert_eq!((&v["suppressed"]["ignore_file"], &v["suppressed"]["baseline"]), (&json!(2), &json!(0)));
    let listed = v["suppressed"]["secrets"].as_array().map(Vec::len);
    assert_eq!(listed, Some(2));
    // SARIF lists them after the others, dismissed: one result per secret either way.
    let sarif = audit(f, &["--format", "sarif", "--ignore-file", ignore, "--show-suppressed"])?;
    let sarif = json_of(&sarif)?;
    crate::sarif::assert_valid(&crate::sarif::validator(), &sarif, "audit by secret, suppressed listed");
    let results = sarif["runs"][0]["results"].as_array().cloned().unwrap_or_default();
    let dismissed = |r: &&Value| r["suppressions"][0]["status"] == "accepted";
    assert_eq!((results.len(), results.iter().filter(dismissed).count()), (3, 2));
    let any = audit(f, &[&base[..], &["--fail-on", "any"]].concat())?;
    assert_eq!(code(&any), 1, "{}", common::transcript(&any));
    assert_eq!(json_of(&any)?["failing_secrets"], 1);

    // A by-secret report is a baseline: everything in it is known, nothing fails.
    let report = f.home.join("before.json");
    std::fs::write(&report, &audit(f, &["--format", "json"])?.stdout)?;
    let report = report.to_str().ok_or("non-UTF-8 path")?;
    let again = audit(f, &["--baseline", report])?;
    let text = stdout(&again);
    assert_eq!(code(&again), 0, "{}", common::transcript(&again));
    assert!(text.starts_with("no secrets outside the baseline in 33 images"), "{text}");
    assert!(
        text.contains(
            "0 distinct secrets (0 still present, 0 hidden but extractable), 3 suppressed by baseline"
        ),
        "{text}"
    );
    Ok(())
}
