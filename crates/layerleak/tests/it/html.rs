//! The HTML report without a browser: the policy names the hash of the inline script, every
//! finding has a row and a bar, and a thousand findings stay a small document with a readable
//! timeline. `crates/layerleak-cli/tests/it/html.rs` opens reports in Chromium.

use std::path::Path;

use base64::Engine as _;
use layerleak::digest::Digest;
use layerleak::report::{html, Report};
use layerleak::scan::ScannerBuilder;
use sha2::{Digest as _, Sha256};

fn render(report: &Report) -> String {
    let mut out = Vec::new();
    html::write(&mut out, report).expect("writing to memory");
    String::from_utf8(out).expect("UTF-8")
}

/// Every value of `attr="…"` in `doc`.
fn values<'a>(doc: &'a str, attr: &str) -> Vec<&'a str> {
    let key = format!(" {attr}=\"");
    doc.match_indices(&key).map(|(i, _)| &doc[i + key.len()..]).filter_map(|v| v.split('"').next()).collect()
}

#[test]
fn the_policy_allows_exactly_the_inline_script() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/fixtures/demo.tar");
    let scanner = ScannerBuilder::new().threads(2).build().expect("built-in rules compile");
    let report = scanner.scan_path(demo);
    assert_eq!(report.findings.len(), 7);
    let doc = render(&report);
    let policy = doc.find("Content-Security-Policy").expect("a policy");
    let script_at = doc.find("<script>").expect("a script");
    assert!(
        policy < script_at && policy < doc.find("<style>").expect("a style sheet"),
        "the policy comes first"
    );
    let body = &doc[script_at + "<script>".len()..doc.find("</script>").expect("an end")];
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body.as_bytes()));
    assert!(doc.contains(&format!("script-src 'sha256-{hash}'")), "the policy names the script's hash");
    assert!(doc.contains("default-src 'none'"));
    assert_eq!(doc.matches("<script").count(), 1);
    let mut rows: Vec<&str> = values(&doc, "data-fp");
    rows.sort();
    let mut want: Vec<&str> = report.findings.iter().flat_map(|f| [f.fingerprint.as_str(); 2]).collect();
    want.sort();
    assert_eq!(rows, want, "a row and a bar per finding");
}

#[test]
fn a_thousand_findings_stay_small_and_grouped() {
    const N: usize = 1000;
    let rule = "[[rules]]\nid = \"test-key\"\ndescription = \"Test key\"\nregex = '''\\b(tk_[0-9a-f]{32})\\b'''\nkeywords = [\"tk_\"]\n";
    let scanner = ScannerBuilder::new()
        .builtin_rules(false)
        .rules_toml(rule, "test")
        .expect("a valid rule")
        .threads(2)
        .build()
        .expect("the rule compiles");
    let mut layer = tar::Builder::new(Vec::new());
    for i in 0..N {
        let key = Digest::sha256_of(&i.to_le_bytes());
        let body = format!("KEY=tk_{}\n", &key.hex()[..32]);
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        layer.append_data(&mut h, format!("app/conf/{i:04}.env"), body.as_bytes()).expect("in memory");
    }
    let layer = layer.into_inner().expect("in memory");
    let Ok(report) = scanner.scan_reader("layer.tar", &mut layer.as_slice(), &mut layerleak::scan::NullSink);
    assert_eq!(report.findings.len(), N, "{:?}", report.errors);
    let doc = render(&report);
    assert!(doc.len() < 1000 * N, "{} bytes for {N} findings", doc.len());
    assert_eq!(doc.matches("<tr id=").count(), N, "every finding has its row");
    let bars = values(&doc, "data-n");
    assert!(bars.len() <= 160, "{} bars", bars.len());
    assert_eq!(bars.iter().map(|n| n.parse::<usize>().expect("a count")).sum::<usize>(), N);
}
