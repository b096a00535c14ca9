//! `scan`: end to end `Scanner::scan_path` of the 0.5 GB image (Docker 25+ archive) against raw
//! inflate of all its layers, both on 2 threads, measured in the same run.
//!
//! Before timing, one scan is checked against `planted.json`: every planted secret must be
//! reported in the layer that introduced it, at its path and offset, with the right visibility
//! and hiding layer. A scan that misses them is reported and not timed.
//!
//! Throughput is decompressed layer bytes per second.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use layerleak::report::{Finding, Report};
use layerleak::scan::ScannerBuilder;
use layerleak_benches::{image, inflate_all, pool, PlantedSecret};

const THREADS: usize = 2;

fn matches(f: &Finding, s: &PlantedSecret) -> bool {
    f.location.path.trim_start_matches('/') == s.path
        && f.location.offset == s.offset
        && f.introduced_in.as_ref().map(|l| l.index) == Some(s.layer)
}

/// Lines describing every planted secret the report gets wrong (missing, wrong fate).
fn disagreements(report: &Report, planted: &[PlantedSecret]) -> Vec<String> {
    let mut out = Vec::new();
    for s in planted {
        match report.findings.iter().find(|f| matches(f, s)) {
            None => out.push(format!("missing {} in layer {} at {}+{}", s.rule, s.layer, s.path, s.offset)),
            Some(f) => {
                let hidden_by = f.hidden_in.as_ref().map(|h| h.layer.index);
                if f.visible != s.visible || hidden_by != s.hidden_by {
                    out.push(format!(
                        "{} at {}: visible={} hidden_by={hidden_by:?}, planted visible={} hidden_by={:?}",
                        s.rule, s.path, f.visible, s.visible, s.hidden_by
                    ));
                }
            }
        }
    }
    out
}

fn scan(c: &mut Criterion) {
    let Some(img) = image("0.5g") else { return };
    let scanner = match ScannerBuilder::new().threads(THREADS).build() {
        Ok(s) => s,
        Err(e) => return eprintln!("skipping: scanner: {e}"),
    };
    let pool = match pool(THREADS) {
        Ok(p) => p,
        Err(e) => return eprintln!("skipping: {e}"),
    };
    let archive = img.archive();
    let report = scanner.scan_path(&archive);
    let wrong = disagreements(&report, &img.planted.secrets);
    eprintln!(
        "scan check: {} findings ({} visible), {} errors, {}/{} planted secrets reported as planted",
        report.findings.len(),
        report.stats.findings_visible,
        report.errors.len(),
        img.planted.secrets.len() - wrong.len(),
        img.planted.secrets.len()
    );
    if !report.errors.is_empty() || !wrong.is_empty() {
        for line in wrong {
            eprintln!("  {line}");
        }
        for e in &report.errors {
            eprintln!("  error: {} {}", e.kind, e.message);
        }
        return eprintln!("skipping scan timing: the scan does not agree with planted.json");
    }

    let blobs = img.layer_blobs();
    let mut g = c.benchmark_group("scan/image_0.5g_2_threads");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Bytes(img.uncompressed_total()));
    g.bench_function("inflate_all", |b| {
        b.iter(|| pool.install(|| inflate_all(&blobs)).map_err(|e| e.to_string()))
    });
    g.bench_function("scan_path", |b| b.iter(|| scanner.scan_path(&archive).findings.len()));
    g.finish();
}

criterion_group!(benches, scan);
criterion_main!(benches);
