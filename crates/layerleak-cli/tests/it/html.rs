//! `--format html` opened in headless Chromium (Debian `chromium`): the DOM lists every finding of
//! the JSON report of the same scan, the timeline has one band per layer and one bar per finding,
//! markup from an image shows as text, no planted secret is in the file, and the page loads
//! nothing: Chromium runs behind a proxy that records every request, and the report's own script
//! records Content-Security-Policy violations on the root element.
//!
//! Without chromium these tests are skipped with a message, unless `CI` is set (`.ci/run`
//! installs it), where they fail.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{self, code};
use crate::support::tar_of;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Synthetic tokens with valid checksums (the GitHub one is also planted in the lifecycle
/// fixture), planted in the image these tests build.
const PAT: &str = "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";

/// The browser, or `None` (after saying so) when it is missing outside CI.
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .find_map(|dir| ["chromium", "chromium-browser"].iter().map(|n| dir.join(n)).find(|p| p.is_file()));
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "`chromium` is not installed; install it with `apt-get install -y chromium` (.ci/run does)"
        );
        eprintln!("skipped: `chromium` is not installed (apt-get install -y chromium); CI runs this test");
    }
    found
}

/// What Chromium made of a page, and the requests it tried to send.
struct Rendered {
    dom: String,
    /// Hosts of requests that were not the browser's own (see [`browser_service`]).
    requests: Vec<String>,
}

/// Chromium's own background services (component updater, sign-in, network time) call Google
/// hosts even headless with background networking disabled; no report names such a host.
fn browser_service(host: &str) -> bool {
    ["google.com", "googleapis.com", "gvt1.com", "gstatic.com"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

/// A proxy on 127.0.0.1 that answers nothing and records the host of every request.
struct Proxy {
    port: u16,
    stop: Arc<AtomicBool>,
    hosts: Arc<Mutex<Vec<String>>>,
    thread: std::thread::JoinHandle<()>,
}

impl Proxy {
    fn start() -> TestResult<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let hosts = Arc::new(Mutex::new(Vec::new()));
        let (s, h) = (stop.clone(), hosts.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                let Ok((conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                let _ = conn.set_nonblocking(false);
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                let mut line = String::new();
                let _ = BufReader::new(conn).read_line(&mut line);
                // `CONNECT host:443 HTTP/1.1` or `GET http://host/path HTTP/1.1`.
                let target = line.split(' ').nth(1).unwrap_or_default();
                let target = target.trim_start_matches("http://").trim_start_matches("https://");
                let host = target.split(['/', ':']).next().unwrap_or_default().to_string();
                h.lock().map(|mut v| v.push(host)).ok();
            }
        });
        Ok(Proxy { port, stop, hosts, thread })
    }

    fn finish(self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.thread.join();
        let hosts = self.hosts.lock().map(|v| v.clone()).unwrap_or_default();
        hosts.into_iter().filter(|h| !browser_service(h)).collect()
    }
}

/// Opens `page` in headless Chromium with every request sent to a [`Proxy`], and returns the
/// DOM after the page's scripts ran.
fn render(browser: &Path, page: &Path) -> TestResult<Rendered> {
    let proxy = Proxy::start()?;
    let profile = tempfile::tempdir()?;
    let out = Command::new("timeout")
        .arg("120")
        .arg(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--proxy-server=http://127.0.0.1:{}", proxy.port))
        .arg("--proxy-bypass-list=<-loopback>")
        .arg("--dump-dom")
        .arg(format!("file://{}", page.canonicalize()?.display()))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()?;
    let requests = proxy.finish();
    if !out.status.success() {
        return Err(format!("chromium exited with {}", out.status).into());
    }
    Ok(Rendered { dom: String::from_utf8(out.stdout)?, requests })
}

/// A start tag of the DOM dump, with the image section it is in.
#[derive(Debug)]
struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
    section: Option<usize>,
}

impl Tag {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
    fn has_class(&self, class: &str) -> bool {
        self.attr("class").is_some_and(|c| c.split(' ').any(|c| c == class))
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The start tags of a serialized DOM (Chromium quotes every attribute value and escapes `<`
/// in text; script and style bodies are raw and skipped).
fn tags(dom: &str) -> Vec<Tag> {
    let mut out = Vec::new();
    let mut section = None;
    let mut i = 0;
    while let Some(at) = dom[i..].find('<').map(|o| i + o) {
        let rest = &dom[at + 1..];
        if rest.starts_with('!') || rest.starts_with('/') {
            i = at + 1 + rest.find('>').unwrap_or(rest.len());
            continue;
        }
        let name_len = rest.find(|c: char| c.is_whitespace() || c == '>' || c == '/').unwrap_or(rest.len());
        let name = rest[..name_len].to_ascii_lowercase();
        let (attrs, used) = attributes(&rest[name_len..]);
        i = at + 1 + name_len + used;
        if name == "section" {
            let id = attrs.iter().find(|(n, _)| n == "id").map(|(_, v)| v.clone()).unwrap_or_default();
            section = id.strip_prefix("img-").and_then(|k| k.parse().ok());
        }
        if name == "script" || name == "style" {
            i += dom[i..].find(&format!("</{name}")).unwrap_or(dom.len() - i);
        }
        out.push(Tag { name, attrs, section });
    }
    out
}

/// Attributes up to the end of a start tag, and the bytes read.
fn attributes(s: &str) -> (Vec<(String, String)>, usize) {
    let mut attrs = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() || b[i] == b'>' {
            return (attrs, (i + 1).min(b.len()));
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'>' {
            i += 1;
        }
        let name = s[start..i].to_ascii_lowercase();
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            let quote = b[i + 1];
            let end = s[i + 2..].find(quote as char).map_or(b.len(), |e| i + 2 + e);
            value = unescape(&s[i + 2..end]);
            i = end + 1;
        }
        attrs.push((name, value));
    }
}

/// Every finding of `report` (JSON) is in the DOM once: a row of its image's section, or an
/// "also in" link naming that section from the row of an earlier image; each image's timeline
/// has one band per layer and one bar per finding.
fn assert_lists_every_finding(dom: &[Tag], report: &Value) {
    let mut names: Vec<&str> = Vec::new();
    let images = report["images"].as_array().expect("images");
    for image in images {
        let name = image["name"].as_str().expect("a name");
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let sections = dom.iter().filter(|t| t.name == "section" && t.has_class("image")).count();
    assert_eq!(sections, names.len(), "one section per image");
    let findings = report["findings"].as_array().expect("findings");
    let mut want = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let image = images.iter().find(|i| i["name"] == *name).expect("the image");
        let bands = dom.iter().filter(|t| t.section == Some(k) && t.has_class("band")).count();
        assert_eq!(bands, image["layers"].as_array().map_or(0, Vec::len), "bands of {name}");
        let mut fps: Vec<String> =
            findings.iter().filter(|f| f["image"] == *name).map(|f| f["fingerprint"].to_string()).collect();
        fps.sort();
        let bars: Vec<&Tag> = dom.iter().filter(|t| t.section == Some(k) && t.has_class("bar")).collect();
        assert!(bars.iter().all(|b| b.attr("data-n") == Some("1")), "one bar per finding of {name}");
        let mut drawn: Vec<String> = bars.iter().map(|b| json!(b.attr("data-fp")).to_string()).collect();
        drawn.sort();
        assert_eq!(drawn, fps, "the bars of {name}");
        want.extend(fps.into_iter().map(|fp| (k, fp)));
    }
    let mut listed = Vec::new();
    let mut row: Option<(usize, String)> = None;
    for t in dom {
        if let (true, Some(k), Some(fp)) = (t.name == "tr", t.section, t.attr("data-fp")) {
            row = Some((k, json!(fp).to_string()));
            listed.push((k, json!(fp).to_string()));
        } else if let (Some(other), Some((_, fp))) = (t.attr("data-also"), &row) {
            listed.push((other.parse().expect("a section number"), fp.clone()));
        }
    }
    listed.sort();
    want.sort();
    assert_eq!(listed, want, "every finding listed once, under its image or as also-in");
}

/// The page ran its script under its own policy, broke no policy and asked the network for
/// nothing.
fn assert_self_contained(r: &Rendered, dom: &[Tag]) {
    assert!(r.requests.is_empty(), "the page sent requests: {:?}", r.requests);
    let root = dom.iter().find(|t| t.name == "html").expect("a root element");
    assert_eq!(root.attr("data-csp-violation"), None, "a Content-Security-Policy violation");
    let tables = dom.iter().filter(|t| t.has_class("findings")).count();
    let filters = dom.iter().filter(|t| t.has_class("filters")).count();
    assert_eq!(filters, tables, "the inline script ran (its hash is in the policy)");
}

/// Every planted secret of these fixtures (each line of a PEM block) is absent from `text`.
fn assert_no_planted_secret(text: &str, fixtures: &[&str]) -> TestResult {
    let rows: Value = serde_json::from_slice(&std::fs::read(
        common::root().join("testdata/fixtures/expected/secrets.json"),
    )?)?;
    let mut checked = 0;
    for row in rows.as_array().ok_or("rows")? {
        if !fixtures.iter().any(|f| row["fixture"] == *f) {
            continue;
        }
        for line in row["secret"]
            .as_str()
            .ok_or("secret")?
            .lines()
            .filter(|l| l.len() >= 8 && !l.starts_with("-----"))
        {
            assert!(!text.contains(line), "planted secret {line:?} of {} is in the report", row["fixture"]);
            checked += 1;
        }
    }
    assert!(checked > 0, "no planted secret of {fixtures:?} was checked");
    Ok(())
}

/// `layerleak scan` of `inputs` as JSON and as an HTML file in `dir`.
fn scan_both(inputs: &[&str], dir: &Path) -> TestResult<(Value, PathBuf)> {
    let json = common::scan(&[&["--format", "json"], inputs].concat());
    assert!(code(&json) <= 1, "{}", common::transcript(&json));
    let page = dir.join("report.html");
    let path = page.to_str().ok_or("non-UTF-8 temp dir")?;
    let html = common::scan(&[&["--format", "html", "-o", path], inputs].concat());
    assert_eq!(code(&html), code(&json), "{}", common::transcript(&html));
    assert!(html.stdout.is_empty(), "the report went to the file");
    Ok((common::json(&json), page))
}

#[test]
fn scan_report_lists_every_finding_and_draws_every_layer() -> TestResult {
    let Some(browser) = chromium() else { return Ok(()) };
    let fixtures = ["demo.tar", "lifecycle-docker25.tar", "argleak.tar", "multi-image.tar", "multiarch.oci"];
    let inputs: Vec<String> = fixtures.iter().map(|f| format!("testdata/fixtures/{f}")).collect();
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let dir = tempfile::tempdir()?;
    let (report, page) = scan_both(&inputs, dir.path())?;
    assert!(report["findings"].as_array().is_some_and(|f| f.len() > 20), "enough findings to compare");
    let rendered = render(&browser, &page)?;
    let dom = tags(&rendered.dom);
    assert_self_contained(&rendered, &dom);
    assert_lists_every_finding(&dom, &report);
    let index = dom
        .iter()
        .filter(|t| t.name == "a" && t.attr("href").is_some_and(|h| h.starts_with("#img-")))
        .count();
    assert!(index >= dom.iter().filter(|t| t.name == "section").count(), "the index links every image");
    assert_no_planted_secret(&std::fs::read_to_string(&page)?, &fixtures)?;
    assert_no_planted_secret(&rendered.dom, &fixtures)
}

/// Synthetic tokens planted in the image built below (also planted in the lifecycle fixture).
const NPM: &str = "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";
const AWS_ID: &str = "AKIA25RPP6DHNR3NEPAD";
const STRIPE: &str = "sk_live_XiI9dt9k7oWVdMwLwVjo6iQnCe3296un";
/// Markup in every text an image controls: file names, a step, a label key, the tag.
const SCRIPT_PATH: &str = "app/<script>alert(1)</script>.env";
const IMG_PATH: &str = "app/\"><img src=x onerror=alert(2)>'.txt";
const LABEL_KEY: &str = "\"><b onmouseover=alert(5)>x";
const TAG: &str = "layerleak/hostile-html:v1\"'><svg onload=alert(4)>";

fn step() -> String {
    format!("RUN |1 TOKEN={PAT} /bin/sh -c rm '/{SCRIPT_PATH}' && echo '</script><script>alert(3)</script>' ]]> <!-- # buildkit")
}

/// A legacy docker-save archive whose names, step, label key and tag are markup: layer 0 adds
/// the two files (a token each), layer 1 deletes the first with a step that leaks a token.
fn hostile_html_archive(dir: &Path) -> TestResult<PathBuf> {
    let script_body = format!("GITHUB_TOKEN={PAT}\n");
    let img_body = format!("aws_access_key_id = {AWS_ID}\n");
    let l0 = tar_of(&[(SCRIPT_PATH, script_body.as_bytes()), (IMG_PATH, img_body.as_bytes())]);
    let l1 = tar_of(&[("app/.wh.<script>alert(1)</script>.env", b"")]);
    let diff = |t: &[u8]| layerleak::digest::Digest::sha256_of(t).to_string();
    let config = json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": [format!("STRIPE_KEY={STRIPE}")], "Labels": {LABEL_KEY: NPM}},
        "rootfs": {"type": "layers", "diff_ids": [diff(&l0), diff(&l1)]},
        "history": [{"created_by": "COPY . /app # buildkit"}, {"created_by": step()}]
    });
    let manifest =
        json!([{"Config": "config.json", "RepoTags": [TAG], "Layers": ["l0/layer.tar", "l1/layer.tar"]}]);
    let archive = tar_of(&[
        ("manifest.json", &serde_json::to_vec(&manifest)?),
        ("config.json", &serde_json::to_vec(&config)?),
        ("l0/layer.tar", &l0),
        ("l1/layer.tar", &l1),
    ]);
    let path = dir.join("hostile-html.tar");
    std::fs::write(&path, archive)?;
    Ok(path)
}

/// What the report's own markup uses; anything else came from an image.
const ELEMENTS: &[&str] = &[
    "html",
    "head",
    "meta",
    "title",
    "link",
    "style",
    "script",
    "body",
    "header",
    "main",
    "nav",
    "section",
    "h1",
    "h2",
    "h3",
    "p",
    "b",
    "br",
    "small",
    "code",
    "span",
    "i",
    "div",
    "a",
    "dl",
    "dt",
    "dd",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "figure",
    "figcaption",
    "details",
    "summary",
    "ul",
    "li",
    "svg",
    "g",
    "rect",
    "text",
    "tspan",
    "label",
    "select",
    "option",
    "button",
];
const ATTRIBUTES: &[&str] = &[
    "lang",
    "charset",
    "http-equiv",
    "content",
    "name",
    "rel",
    "href",
    "class",
    "id",
    "style",
    "title",
    "viewbox",
    "role",
    "aria-label",
    "aria-sort",
    "x",
    "y",
    "width",
    "height",
    "text-anchor",
    "type",
    "value",
    "hidden",
];

#[test]
fn markup_in_names_steps_labels_and_tags_renders_as_text() -> TestResult {
    let Some(browser) = chromium() else { return Ok(()) };
    let dir = tempfile::tempdir()?;
    let built = hostile_html_archive(dir.path())?;
    let built = built.to_str().ok_or("non-UTF-8 temp dir")?;
    let (report, page) = scan_both(&["testdata/fixtures/hostile.tar", built], dir.path())?;
    let findings = report["findings"].as_array().ok_or("findings")?;
    for path in [SCRIPT_PATH, IMG_PATH] {
        assert!(findings.iter().any(|f| f["location"]["path"] == path), "{path} is a finding");
    }
    let rendered = render(&browser, &page)?;
    let dom = tags(&rendered.dom);
    assert_self_contained(&rendered, &dom);
    assert_lists_every_finding(&dom, &report);
    for t in &dom {
        assert!(ELEMENTS.contains(&t.name.as_str()), "an element from an image: {t:?}");
        for (name, _) in &t.attrs {
            assert!(
                ATTRIBUTES.contains(&name.as_str()) || name.starts_with("data-"),
                "an attribute from an image: {t:?}"
            );
        }
    }
    assert_eq!(dom.iter().filter(|t| t.name == "script").count(), 1, "only the report's script");
    assert_eq!(dom.iter().filter(|t| t.name == "svg").count(), 2, "one timeline per image, no other svg");
    for shown in [
        "&lt;script&gt;alert(1)&lt;/script&gt;.env",
        "\"&gt;&lt;img src=x onerror=alert(2)&gt;'.txt",
        "echo '&lt;/script&gt;&lt;script&gt;alert(3)&lt;/script&gt;' ]]&gt; &lt;!--",
        "v1\"'&gt;&lt;svg onload=alert(4)&gt;",
        "\"&gt;&lt;b onmouseover=alert(5)&gt;x",
        r"evil\x1b]0;pwned\x07\x1b[2J\x1b[31m.env",
        r"report\u{202e}txt.exe",
    ] {
        assert!(rendered.dom.contains(shown), "{shown} is not shown as text");
    }
    let file = std::fs::read_to_string(&page)?;
    for secret in [PAT, NPM, AWS_ID, STRIPE] {
        assert!(!file.contains(secret) && !rendered.dom.contains(secret), "{secret} is in the report");
    }
    assert_no_planted_secret(&file, &["hostile.tar"])
}

#[test]
fn audit_report_indexes_images_and_lists_a_shared_finding_once() -> TestResult {
    let Some(browser) = chromium() else { return Ok(()) };
    // The layout and the Docker 25+ archive hold the same blobs: two repositories, one image.
    let fixtures = ["lifecycle.oci", "lifecycle-docker25.tar", "demo.tar"];
    let paths: Vec<String> = fixtures.iter().map(|f| format!("testdata/fixtures/{f}")).collect();
    let (url, served) = crate::served::serve(&paths)?;
    assert_eq!(served.len(), fixtures.len());
    let home = tempfile::tempdir()?;
    let page = home.path().join("audit.html");
    let page_arg = page.to_str().ok_or("non-UTF-8 temp dir")?;
    let base =
        ["audit", url.as_str(), "--cache", "none", "--no-builtin-rules", "--rules", common::TEST_RULES];
    let per_image = ["--format", "json", "--group-by", "image"];
    let json = crate::registry::layerleak(&[&base[..], &per_image[..]].concat(), home.path(), None)?;
    assert_eq!(code(&json), 1, "{}", common::transcript(&json));
    let html = crate::registry::layerleak(
        &[&base[..], &["--format", "html", "-o", page_arg]].concat(),
        home.path(),
        None,
    )?;
    assert_eq!(code(&html), 1, "{}", common::transcript(&html));
    let report = common::json(&json);
    let rendered = render(&browser, &page)?;
    let dom = tags(&rendered.dom);
    assert_self_contained(&rendered, &dom);
    assert_lists_every_finding(&dom, &report);
    let sections = dom.iter().filter(|t| t.name == "section").count();
    assert_eq!(sections, 3);
    let index: BTreeSet<&str> = dom
        .iter()
        .filter(|t| t.section.is_none())
        .filter_map(|t| t.attr("href"))
        .filter(|h| h.starts_with("#img-"))
        .collect();
    assert_eq!(index.len(), sections, "the index links every image");
    let rows = dom.iter().filter(|t| t.name == "tr" && t.attr("data-fp").is_some()).count();
    let also = dom.iter().filter(|t| t.attr("data-also").is_some()).count();
    let lifecycle = report["findings"]
        .as_array()
        .ok_or("findings")?
        .iter()
        .filter(|f| f["image"].as_str().is_some_and(|i| i.contains("lifecycle")))
        .count();
    assert!(
        also > 0 && also * 2 == lifecycle,
        "each lifecycle finding is listed once with also-in: {also} of {lifecycle}"
    );
    assert!(rows < report["findings"].as_array().map_or(0, Vec::len));
    assert_no_planted_secret(&std::fs::read_to_string(&page)?, &fixtures)
}

#[test]
fn the_network_and_policy_checks_catch_a_load() -> TestResult {
    let Some(browser) = chromium() else { return Ok(()) };
    let dir = tempfile::tempdir()?;
    let beacon = "<img src=\"http://192.0.2.1/beacon.png\">";
    let plain = dir.path().join("plain.html");
    std::fs::write(&plain, format!("<!DOCTYPE html><title>control</title>{beacon}"))?;
    let r = render(&browser, &plain)?;
    assert!(r.requests.iter().any(|h| h == "192.0.2.1"), "the proxy saw no request: {:?}", r.requests);

    // The same load in a report is refused by its policy before any request, and recorded.
    let (_, page) = scan_both(&["testdata/fixtures/demo.tar"], dir.path())?;
    let injected = dir.path().join("injected.html");
    std::fs::write(
        &injected,
        std::fs::read_to_string(&page)?.replacen("<body>", &format!("<body>{beacon}"), 1),
    )?;
    let r = render(&browser, &injected)?;
    assert!(r.requests.is_empty(), "{:?}", r.requests);
    let dom = tags(&r.dom);
    let root = dom.iter().find(|t| t.name == "html").ok_or("no root")?;
    let violation = root.attr("data-csp-violation").unwrap_or_default();
    assert!(violation.contains("img-src") && violation.contains("192.0.2.1"), "{violation:?}");
    Ok(())
}
