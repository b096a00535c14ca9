//! `detect`: every built-in rule over >= 256 MB of real files, against memchr measured in the same
//! run.
//!
//! The corpus is read into memory once: the first 100 MB of regular files of the `/usr/share`
//! layer (documentation, locale data, scripts: mostly text) and the first 156 MB of the `/usr/lib`
//! layer (shared objects, Python and Perl modules: mostly binary) of the 1 GB bench image.
//! - `memchr_newlines`: `memchr` count of `\n` over every file: the floor of touching each byte;
//! - `keywords`: the detector's own keyword search ([`Detector::keywords`]), every occurrence of
//!   every rule keyword (the SIMD first stage where the CPU has AVX-512 VBMI);
//! - `keywords_portable`: the same search without SIMD;
//! - `keywords_dfa`: an overlapping aho-corasick DFA over the same keywords, what the keyword
//!   search replaced and still falls back to;
//! - `scan_bytes`: the full `Detector::scan_bytes` over each file (keywords, regex confirmation,
//!   entropy, validation, nested archives), one `Scratch` reused;
//! - `scan_bytes_139_rules`, `scan_bytes_300_rules`: the same with evenly spread subsets of the
//!   catalogue, to show how the cost grows with the number of rules;
//! - `scan_bytes_1000_rule_pack`: the same with only a generated YAML rule pack of 1,000 rules in
//!   the shape of kingfisher's (extended-mode patterns, no keywords: each rule's are derived from
//!   its pattern), loaded as a user's pack is.
//!
//! Throughput is corpus bytes per second. The corpus is read from memory, so every search here
//! streams it from RAM; in a scan the detector reads a window the decompressor just wrote.

use std::fs::File;
use std::ops::ControlFlow;
use std::time::Duration;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use layerleak::detect::{DetectOptions, Detector, Keywords, RuleSet, Scratch};
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

/// The detector's keywords: every rule's, deduplicated (the order does not matter here).
fn keywords(rules: &RuleSet) -> Vec<&str> {
    let mut keywords: Vec<&str> =
        rules.rules().iter().flat_map(|r| r.keywords.iter().map(String::as_str)).collect();
    keywords.sort_unstable();
    keywords.dedup();
    keywords
}

fn keyword_dfa(keywords: &[&str]) -> Option<AhoCorasick> {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(AhoCorasickKind::DFA))
        .match_kind(MatchKind::Standard)
        .build(keywords)
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
    let own = detector.keywords();
    eprintln!("keyword search: filtered {}, simd {}", own.is_filtered(), own.is_simd());
    let count = |k: &Keywords| {
        let mut n = 0usize;
        for (_, f) in &corpus.files {
            k.for_each_match(f, |_| n += 1);
        }
        n
    };
    g.bench_function("keywords", |b| b.iter(|| count(own)));
    let kws = keywords(&rules);
    match Keywords::new_portable(&kws) {
        Ok(portable) => {
            g.bench_function("keywords_portable", |b| b.iter(|| count(&portable)));
        }
        Err(e) => eprintln!("skipping keywords_portable: {e}"),
    }
    match keyword_dfa(&kws) {
        Some(ac) => {
            g.bench_function("keywords_dfa", |b| {
                b.iter(|| {
                    corpus.files.iter().map(|(_, f)| ac.find_overlapping_iter(f).count()).sum::<usize>()
                })
            });
        }
        None => eprintln!("skipping keywords_dfa: the automaton did not build"),
    }
    let mut scratch = Scratch::new();
    let mut scan = |label: &str, detector: &Detector| {
        g.bench_function(label, |b| {
            b.iter(|| {
                let mut found = 0usize;
                for (name, data) in &corpus.files {
                    detector.scan_bytes(name, data, &mut scratch, &mut |_| {
                        found += 1;
                        ControlFlow::Continue(())
                    });
                }
                found
            })
        });
    };
    scan("scan_bytes", &detector);
    // The same engine over evenly spread subsets of the catalogue: how the cost grows with the
    // number of rules (139 was the catalogue's size before it grew).
    let total = rules.rules().len();
    for n in SUBSETS.into_iter().filter(|&n| n < total) {
        let mut subset = rules.clone();
        let mut i = 0usize;
        subset.retain(|_| {
            i += 1;
            (i - 1) * n / total != i * n / total
        });
        match Detector::new(&subset, DetectOptions::default()) {
            Ok(d) => scan(&format!("scan_bytes_{}_rules", subset.rules().len()), &d),
            Err(e) => eprintln!("skipping the {n}-rule subset: {e}"),
        }
    }
    match RuleSet::load_yaml(&generated_pack(PACK_RULES), "generated.yml") {
        Ok((pack, report)) if report.refused.is_empty() => {
            match Detector::new(&pack, DetectOptions::default()) {
                Ok(d) => scan(&format!("scan_bytes_{PACK_RULES}_rule_pack"), &d),
                Err(e) => eprintln!("skipping the generated pack: {e}"),
            }
        }
        Ok((_, report)) => eprintln!("skipping the generated pack: refused {:?}", report.refused),
        Err(e) => eprintln!("skipping the generated pack: {e}"),
    }
    g.finish();
}

/// Rules of the generated pack.
const PACK_RULES: usize = 1000;

/// A YAML rule pack of `n` rules for made-up services, a third each of three shapes a real pack
/// has: a prefixed token, a key name followed by an assigned value, a prefixed key id. Names are
/// built from syllables by a fixed LCG, so every run measures the same pack.
fn generated_pack(n: usize) -> String {
    const SYLLABLES: [&str; 16] = [
        "zor", "vak", "qel", "mib", "trux", "plon", "wex", "dra", "kiv", "sul", "yom", "bef", "gha", "nup",
        "cri", "jod",
    ];
    let mut state: u32 = 0x2545_F491;
    let mut next = || {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (state >> 16) as usize
    };
    let mut out = String::from("rules:\n");
    for i in 0..n {
        let word: String =
            (0..3).map(|_| SYLLABLES[next() % SYLLABLES.len()]).collect::<String>() + &i.to_string();
        let pattern = match i % 3 {
            0 => format!("(?x) \\b ( {word}_ [A-Za-z0-9]{{32}} ) \\b   # token"),
            1 => format!("(?xi) {word} [\\w.-]{{0,20}} \\s* [:=] \\s* [\"']? ( [a-z0-9]{{32}} ) [\"']?"),
            _ => format!("(?x) {word}- [0-9a-f]{{8}} - ( [0-9a-f]{{24}} )"),
        };
        out.push_str(&format!(
            "  - name: Service {i}\n    id: generated.{i}\n    pattern: '{}'\n    min_entropy: 3.0\n",
            pattern.replace('\'', "''")
        ));
    }
    out
}

/// Catalogue sizes the engine is also measured at.
const SUBSETS: [usize; 2] = [139, 300];

criterion_group!(benches, detect);
criterion_main!(benches);
