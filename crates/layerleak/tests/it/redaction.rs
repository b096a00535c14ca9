//! A detected secret never stands in clear in another text of the report: a build ARG's token
//! repeated in the step text of every later layer is redacted in the layers, in every finding's
//! "added in" and "hidden in" step, in paths and labels, as the sink receives them and in the
//! collected report, unless the scanner keeps secrets.

use std::convert::Infallible;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use layerleak::report::{Finding, ImageReport, Report};
use layerleak::scan::{ScannerBuilder, Sink};

/// The npm token planted in `argleak.tar` (`testdata/fixtures/expected/secrets.json`).
const NPM: &str = "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";

fn argleak() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/fixtures/argleak.tar")
}

/// Everything a sink is given, as JSON.
#[derive(Default)]
struct Seen(Vec<String>);

impl Sink for Seen {
    type Error = Infallible;
    fn finding(&mut self, f: &Finding) -> Result<ControlFlow<()>, Infallible> {
        self.0.push(serde_json::to_string(f).expect("a finding serializes"));
        Ok(ControlFlow::Continue(()))
    }
    fn image(&mut self, i: &ImageReport) -> Result<(), Infallible> {
        self.0.push(serde_json::to_string(i).expect("an image serializes"));
        Ok(())
    }
}

fn scan(keep: bool) -> (Report, Seen) {
    let scanner = ScannerBuilder::new().threads(2).keep_secrets(keep).build().expect("scanner");
    let mut seen = Seen::default();
    let Ok(report) = scanner.scan_path_with(&argleak(), &mut seen);
    (report, seen)
}

#[test]
fn arg_token_repeated_in_later_steps_is_redacted_in_every_text() {
    // Regression: the step text carrying the token was printed verbatim once per finding.
    let (mut report, seen) = scan(false);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let json = serde_json::to_string(&report).expect("the report serializes");
    assert!(!json.contains(NPM), "the collected report shows the token");
    assert!(seen.0.iter().all(|s| !s.contains(NPM)), "the sink was given the token");
    let layers = &report.images[0].layers;
    let steps: Vec<&str> = layers.iter().filter_map(|l| l.created_by.as_deref()).collect();
    assert_eq!(
        steps.iter().filter(|s| s.contains("|1 NPM_TOKEN=npm_***** /bin/sh -c")).count(),
        4,
        "{steps:?}"
    );
    let added_in = |path: &str| {
        let f = report.findings.iter().find(|f| f.location.path.ends_with(path)).expect("finding");
        f.introduced_in.as_ref().and_then(|l| l.created_by.clone()).unwrap_or_default()
    };
    assert_eq!(
        added_in("app/.env"),
        "RUN |1 NPM_TOKEN=npm_***** /bin/sh -c npm ci && cp .env.build /app/.env # buildkit"
    );
    assert!(report.findings.iter().any(|f| f.location.path == "root/.npm/_cacache/npm_*****/session.json"));
    let mut texts = 0;
    report.for_each_text(|t| {
        texts += 1;
        assert!(!t.contains(NPM), "{t}");
    });
    assert!(texts > 20);
}

#[test]
fn a_scanner_keeping_secrets_keeps_the_step_texts_exact() {
    let (report, seen) = scan(true);
    let json = serde_json::to_string(&report).expect("the report serializes");
    assert!(json.matches(NPM).count() >= 10, "{json}");
    assert!(seen.0.iter().any(|s| s.contains(&format!("NPM_TOKEN={NPM} /bin/sh"))));
}

#[test]
fn merging_redacts_each_reports_texts_with_the_others_secrets() {
    // One report over several inputs: a secret detected in one input is one in the others too.
    let with_note = || {
        let mut r = Report::new();
        r.notes.push(format!("skipped platform linux/arm64 (not selected): {NPM}"));
        r
    };
    let (found, _) = scan(false);
    let mut first = with_note();
    first.merge(found.clone());
    let mut second = found;
    second.merge(with_note());
    for merged in [first, second] {
        let (skipped, others): (Vec<&String>, Vec<&String>) =
            merged.notes.iter().partition(|n| n.starts_with("skipped"));
        assert_eq!(skipped, ["skipped platform linux/arm64 (not selected): npm_*****"]);
        assert!(others.iter().all(|n| n.contains("no package database found")), "{others:?}");
        assert!(!serde_json::to_string(&merged).expect("serializes").contains(NPM));
    }
}
