//! `detect`: every built-in rule over >= 256 MB of real files, against memchr measured in the same
//! run.
//!
//! The corpus is read into memory once: the first 100 MB of regular files of the `/usr/share`
//! layer (documentation, locale data, scripts: mostly text) and the first 156 MB of the `/usr/lib`
//! layer (shared objects, Python and Perl modules: mostly binary) of the 1 GB bench image.
//! - `memchr_newlines`: `memchr` count of `\n` over every file: the floor of touching each byte;
//! - `keywords`: an aho-corasick automaton built exactly as the detector builds its own (every
//!   rule keyword, ASCII case-insensitive DFA, overlapping search). The detector does not expose
//!   its automaton, so this one is rebuilt here from the public rule keywords;
//! - `keywords_leftmost`: the same keywords with leftmost-first semantics and `find_iter`, which
//!   lets aho-corasick use its packed (Teddy) prefilter; overlapping search with standard
//!   semantics cannot. It shows what the keyword pass would cost with that change;
//! - `scan_bytes`: the full `Detector::scan_bytes` over each file (keywords, regex confirmation,
//!   entropy, validation, nested archives), one `Scratch` reused.
//!
//! Throughput is corpus bytes per second.

use std::fs::File;
use std::time::Duration;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use layerleak::detect::{DetectOptions, Detector, RuleSet, Scratch};
use layerleak::layer::Flow;
use layerleak_benches::{image, Corpus};

const SHARE_BYTES: u64 = 100_000_000;
const LIB_BYTES: u64 = 156_000_000;

fn corpus() -> Option<Corpus> {
    let img = image("1g")?;
    let mut corpus = Corpus::default();
    let blobs = img.layer_blobs();
    for (name, goal) in [("usr-share", SHARE_BYTES), ("usr-lib", LIB_BYTES)] {
        let Some(i) = img.planted.layers.iter().position(|l| l.name == name) else {
            eprintln!("skipping: image has no {name} layer");
            return None;
        };
        if let Err(e) = File::open(&blobs[i]).and_then(|f| corpus.add_layer(f, goal)) {
            eprintln!("skipping: reading {}: {e}", blobs[i].display());
            return None;
        }
    }
    eprintln!(
        "detect corpus: {} files, {} binary, {:.1} MB",
        corpus.files.len(),
        corpus.binary_files,
        corpus.bytes() as f64 / 1e6
    );
    Some(corpus)
}

fn keyword_automaton(rules: &RuleSet, kind: MatchKind) -> Option<AhoCorasick> {
    let mut keywords: Vec<&str> =
        rules.rules().iter().flat_map(|r| r.keywords.iter().map(String::as_str)).collect();
    keywords.sort_unstable();
    keywords.dedup();
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(AhoCorasickKind::DFA))
        .match_kind(kind)
        .build(&keywords)
        .ok()
}

fn detect(c: &mut Criterion) {
    let Some(corpus) = corpus() else { return };
    let rules = RuleSet::builtin();
    let detector = match Detector::new(&rules, DetectOptions::default()) {
        Ok(d) => d,
        Err(e) => return eprintln!("skipping: detector: {e}"),
    };
    let mut g = c.benchmark_group("detect");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Bytes(corpus.bytes()));
    g.bench_function("memchr_newlines", |b| {
        b.iter(|| corpus.files.iter().map(|(_, f)| memchr::memchr_iter(b'\n', f).count()).sum::<usize>())
    });
    match keyword_automaton(&rules, MatchKind::Standard) {
        Some(ac) => g.bench_function("keywords", |b| {
            b.iter(|| corpus.files.iter().map(|(_, f)| ac.find_overlapping_iter(f).count()).sum::<usize>())
        }),
        None => {
            eprintln!("skipping keywords: the automaton did not build");
            &mut g
        }
    };
    match keyword_automaton(&rules, MatchKind::LeftmostFirst) {
        Some(ac) => g.bench_function("keywords_leftmost", |b| {
            b.iter(|| corpus.files.iter().map(|(_, f)| ac.find_iter(f).count()).sum::<usize>())
        }),
        None => {
            eprintln!("skipping keywords_leftmost: the automaton did not build");
            &mut g
        }
    };
    let mut scratch = Scratch::new();
    g.bench_function("scan_bytes", |b| {
        b.iter(|| {
            let mut found = 0usize;
            for (name, data) in &corpus.files {
                detector.scan_bytes(name, data, &mut scratch, &mut |_| {
                    found += 1;
                    Flow::Continue
                });
            }
            found
        })
    });
    g.finish();
}

criterion_group!(benches, detect);
criterion_main!(benches);
