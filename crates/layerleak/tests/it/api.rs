//! The embedding API: auto traits of the public types, early stop from a sink, progress events,
//! and scanning a stream.

use std::convert::Infallible;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use layerleak::detect::{Detector, Rule, RuleSet};
use layerleak::digest::Digest;
use layerleak::image::{Image, Input, Platform};
use layerleak::layer::Status;
use layerleak::report::{ErrorRecord, Finding, ImageReport, LayerReport, Report};
use layerleak::scan::{Progress, Scanner, ScannerBuilder, Sink};
use layerleak::{At, Error, Limits};

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/fixtures/demo.tar")
}

fn scanner() -> Scanner {
    ScannerBuilder::new().threads(2).build().expect("built-in rules compile")
}

#[test]
fn public_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Scanner>();
    send_sync::<ScannerBuilder>();
    send_sync::<Progress>();
    send_sync::<Report>();
    send_sync::<ImageReport>();
    send_sync::<LayerReport>();
    send_sync::<Finding>();
    send_sync::<ErrorRecord>();
    send_sync::<Error>();
    send_sync::<At>();
    send_sync::<Limits>();
    send_sync::<Input>();
    send_sync::<Image>();
    send_sync::<Digest>();
    send_sync::<Platform>();
    send_sync::<RuleSet>();
    send_sync::<Rule>();
    send_sync::<Detector>();
    send_sync::<layerleak::report::by_secret::SecretIndex>();
    send_sync::<layerleak::report::by_secret::SecretReport>();
}

#[test]
fn one_scanner_serves_several_threads() {
    let scanner = scanner();
    let counts: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2).map(|_| s.spawn(|| scanner.scan_path(demo()).findings.len())).collect();
        handles.into_iter().map(|h| h.join().expect("scan thread")).collect()
    });
    assert!(counts[0] > 0);
    assert_eq!(counts[0], counts[1], "same scanner, same input, same findings");
}

/// Counts what a sink receives and stops after `stop_after` findings.
struct Counting {
    stop_after: usize,
    findings: Vec<String>,
    images: usize,
}

impl Sink for Counting {
    type Error = Infallible;
    fn finding(&mut self, finding: &Finding) -> Result<ControlFlow<()>, Infallible> {
        self.findings.push(finding.rule.clone());
        if self.findings.len() >= self.stop_after {
            Ok(ControlFlow::Break(()))
        } else {
            Ok(ControlFlow::Continue(()))
        }
    }
    fn image(&mut self, _image: &ImageReport) -> Result<(), Infallible> {
        self.images += 1;
        Ok(())
    }
}

/// A sink whose writer fails at the first finding.
#[derive(Default)]
struct Failing {
    calls: usize,
}

impl Sink for Failing {
    type Error = std::io::Error;
    fn finding(&mut self, _finding: &Finding) -> Result<ControlFlow<()>, std::io::Error> {
        self.calls += 1;
        Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "reader went away"))
    }
    fn image(&mut self, _image: &ImageReport) -> Result<(), std::io::Error> {
        self.calls += 1;
        Ok(())
    }
    fn error(&mut self, _error: &ErrorRecord) -> Result<(), std::io::Error> {
        self.calls += 1;
        Ok(())
    }
}

#[test]
fn sink_error_ends_the_scan_at_once_and_is_returned() {
    // The sink's I/O error travels back through the scan instead of being kept by the sink.
    let mut sink = Failing::default();
    let err = scanner().scan_path_with(&demo(), &mut sink).expect_err("the sink failed");
    assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
    assert_eq!(sink.calls, 1, "nothing is sent after the error");
}

#[test]
fn sink_returning_stop_ends_the_scan_after_one_finding() {
    let scanner = scanner();
    let mut sink = Counting { stop_after: 1, findings: Vec::new(), images: 0 };
    let Ok(report) = scanner.scan_path_with(&demo(), &mut sink);
    assert_eq!(sink.findings.len(), 1, "exactly one finding delivered: {:?}", sink.findings);
    assert!(
        report.notes.iter().any(|n| n.contains("stopped early")),
        "report says it stopped: {:?}",
        report.notes
    );
    assert!(report.errors.is_empty(), "stopping is not an error: {:?}", report.errors);
}

#[test]
fn sink_that_never_stops_sees_every_finding_of_the_report() {
    let scanner = scanner();
    let mut sink = Counting { stop_after: usize::MAX, findings: Vec::new(), images: 0 };
    let Ok(report) = scanner.scan_path_with(&demo(), &mut sink);
    let collected: Vec<String> = report.findings.iter().map(|f| f.rule.clone()).collect();
    assert_eq!(sink.findings, collected, "pushed and collected findings agree, in order");
    assert_eq!(sink.images, 1);
    assert!(!report.notes.iter().any(|n| n.contains("stopped early")));
}

#[test]
fn progress_reports_the_plan_and_every_layer() {
    let planned = Arc::new(Mutex::new(None));
    let done = Arc::new(AtomicUsize::new(0));
    let (p, d) = (Arc::clone(&planned), Arc::clone(&done));
    let scanner = ScannerBuilder::new()
        .threads(2)
        .progress(move |ev| match ev {
            Progress::Planned { layers, .. } => *p.lock().expect("progress lock") = Some(*layers),
            Progress::LayerDone { .. } => {
                d.fetch_add(1, Ordering::SeqCst);
            }
            _ => {}
        })
        .build()
        .expect("scanner");
    let report = scanner.scan_path(demo());
    assert_eq!(*planned.lock().expect("progress lock"), Some(5), "the demo image has 5 layers");
    assert_eq!(done.load(Ordering::SeqCst), 5);
    assert_eq!(report.stats.layers_scanned, 5);
}

#[test]
fn scanning_a_stream_finds_what_scanning_the_path_finds() {
    let scanner = scanner();
    let mut file = std::fs::File::open(demo()).expect("demo.tar");
    let Ok(from_stream) = scanner.scan_reader("stdin", &mut file, &mut layerleak::scan::NullSink);
    let from_path = scanner.scan_path(demo());
    let key = |r: &Report| -> Vec<(String, String, Status)> {
        r.findings.iter().map(|f| (f.rule.clone(), f.fingerprint.clone(), f.status)).collect()
    };
    assert!(from_stream.errors.is_empty(), "{:?}", from_stream.errors);
    assert_eq!(key(&from_stream), key(&from_path));
    assert_eq!(from_stream.images[0].input, "stdin");
}

#[test]
fn missing_input_is_a_recorded_error_naming_it() {
    let report = scanner().scan_path(Path::new("no-such-image.tar"));
    assert!(report.images.is_empty());
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].at.image.as_deref(), Some("no-such-image.tar"), "{:?}", report.errors[0]);
}

/// A report as JSON without what depends on how the input was named, packed or timed.
fn comparable(r: &Report) -> serde_json::Value {
    let mut v = serde_json::to_value(r).expect("a report serializes");
    v.as_object_mut().expect("an object").remove("stats");
    for img in v["images"].as_array_mut().expect("images") {
        img.as_object_mut().expect("an object").remove("input");
    }
    v
}

#[test]
fn compressed_docker_save_archives_scan_like_the_plain_ones() {
    // Regression: a gzip or zstd `docker save` archive was scanned as one layer, every secret
    // present.
    let scanner = scanner();
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["demo.tar", "lifecycle-docker25.tar"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/fixtures").join(name);
        let plain = std::fs::read(&path).expect("fixture");
        let want = scanner.scan_path(&path);
        assert!(want.errors.is_empty() && !want.findings.is_empty());
        let gz = crate::support::gzip(&plain);
        let zst = zstd::encode_all(&plain[..], 3).expect("zstd in memory");
        for (ext, packed) in [("gz", gz), ("zst", zst)] {
            let packed_path = dir.path().join(format!("{name}.{ext}"));
            std::fs::write(&packed_path, &packed).expect("writing the packed copy");
            let from_path = scanner.scan_path(&packed_path);
            assert_eq!(comparable(&from_path), comparable(&want), "{name}.{ext}");
            let Ok(from_stream) = scanner.scan_reader("-", &mut &packed[..], &mut layerleak::scan::NullSink);
            assert_eq!(comparable(&from_stream), comparable(&want), "{name}.{ext} on stdin");
        }
    }
}
