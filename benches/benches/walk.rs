//! `walk`: decompress + tar + both digests, against raw inflate measured in the same run.
//!
//! One layer (the biggest layer of the 0.5 GB image, alone as `layer.tar.gz`):
//! - `inflate`: flate2 (zlib-rs) inflate of the blob to nothing: the floor;
//! - `walk_noop`: `walk_layer` with a visitor that reads nothing;
//! - `walk_read_all`: `walk_layer` with a visitor that reads every file to its end.
//!
//! All layers of the 1 GB image on a 2-thread rayon pool, one layer per task:
//! - `inflate_all`: raw inflate of every layer;
//! - `walk_all`: `walk_layer` of every layer with a no-op visitor.
//!
//! Throughput is decompressed tar bytes per second.

use std::fs::File;
use std::io::BufReader;
use std::ops::ControlFlow;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use layerleak::digest::Digest;
use layerleak::layer::{walk_layer, EntryMeta, LayerWalk, WalkOptions};
use layerleak::{At, Limits};
use layerleak_benches::{drain, image, inflate, inflate_all, pool, BenchImage, READ_BUF};
use rayon::prelude::*;

/// Threads for the all-layers runs: the machine the figures are quoted for has 2 cores.
const THREADS: usize = 2;

fn walk(path: &Path, index: usize, digest: &str, read_files: bool) -> LayerWalk {
    let limits = Limits::default();
    let opts = WalkOptions::new(&limits, At::image("bench").with_layer(index, Digest::parse(digest)));
    let mut blob = match File::open(path) {
        Ok(f) => BufReader::with_capacity(READ_BUF, f),
        Err(e) => panic!("{}: {e}", path.display()),
    };
    let mut visit = |_: &EntryMeta, content: &mut dyn std::io::Read| {
        if read_files {
            // A read error is the walk's to report; the bench only needs the bytes pulled.
            let _ = drain(content);
        }
        ControlFlow::Continue(())
    };
    walk_layer(&mut blob, &opts, &mut visit)
}

/// Walks every layer once and checks both digests against `planted.json`, so a benchmark never
/// times a walk that silently stopped early.
fn verified(img: &BenchImage) -> bool {
    let mut ok = true;
    for (i, (layer, path)) in img.planted.layers.iter().zip(img.layer_blobs()).enumerate() {
        let w = walk(&path, i, &layer.digest, true);
        let diff_id = w.diff_id.as_ref().map(|d| d.to_string());
        let digest = w.blob_digest.as_ref().map(|d| d.to_string());
        if !w.complete
            || diff_id.as_deref() != Some(&layer.diff_id)
            || digest.as_deref() != Some(&layer.digest)
        {
            eprintln!(
                "walk of layer {i} ({}) incomplete or wrong: complete={} diff_id={diff_id:?} \
                 digest={digest:?} errors={:?}",
                layer.name, w.complete, w.errors
            );
            ok = false;
        }
    }
    ok
}

fn one_layer(c: &mut Criterion) {
    let Some(img) = image("0.5g") else { return };
    let Some(layer) = img.biggest_layer().cloned() else { return };
    if !verified(&img) {
        return;
    }
    let single = img.single_layer();
    let index = img.planted.layers.iter().position(|l| l.digest == layer.digest).unwrap_or(0);
    let mut g = c.benchmark_group("walk/one_layer");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(15));
    g.throughput(Throughput::Bytes(layer.uncompressed_size));
    g.bench_function("inflate", |b| b.iter(|| inflate(&single).map_err(|e| e.to_string())));
    g.bench_function("walk_noop", |b| b.iter(|| walk(&single, index, &layer.digest, false).tar_bytes));
    g.bench_function("walk_read_all", |b| b.iter(|| walk(&single, index, &layer.digest, true).tar_bytes));
    g.finish();
}

fn all_layers(c: &mut Criterion) {
    let Some(img) = image("1g") else { return };
    if !verified(&img) {
        return;
    }
    let pool = match pool(THREADS) {
        Ok(p) => p,
        Err(e) => return eprintln!("skipping all-layer walk: {e}"),
    };
    let blobs = img.layer_blobs();
    let layers = &img.planted.layers;
    let mut g = c.benchmark_group("walk/all_layers_2_threads");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(30));
    g.throughput(Throughput::Bytes(img.uncompressed_total()));
    g.bench_function("inflate_all", |b| {
        b.iter(|| pool.install(|| inflate_all(&blobs)).map_err(|e| e.to_string()))
    });
    g.bench_function("walk_all", |b| {
        b.iter(|| {
            pool.install(|| {
                blobs
                    .par_iter()
                    .enumerate()
                    .map(|(i, p)| walk(p, i, &layers[i].digest, false).tar_bytes)
                    .sum::<u64>()
            })
        })
    });
    g.finish();
}

criterion_group!(benches, one_layer, all_layers);
criterion_main!(benches);
