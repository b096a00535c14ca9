//! Walking the distinct layers of an input in parallel, scanning every file as it streams by.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rayon::prelude::*;

use super::{attribute, Progress, Scanner, Sink};
use crate::detect::{Match, Scratch};
use crate::image::{BlobRef, BlobStore, Image, Input, LayerDescriptor};
use crate::layer::{walk_layer, EntryMeta, Flow, LayerPath, LayerWalk, WalkOptions};
use crate::report::Report;
use crate::{At, Error};

/// A match in a file version of a layer.
pub(super) struct FileHit {
    pub ordinal: u64,
    pub path: LayerPath,
    pub m: Match,
}

/// What walking one layer blob gave.
pub(super) struct LayerOutcome {
    /// `None` when the blob could not even be opened.
    pub walk: Option<LayerWalk>,
    pub hits: Vec<FileHit>,
    pub errors: Vec<Error>,
    pub files: u64,
}

pub(super) fn scan_input(scanner: &Scanner, input: &Input, sink: &mut dyn Sink) -> Report {
    let mut report = Report::new();
    report.notes.extend(input.notes.iter().cloned());

    // Every distinct blob once, however many images of the input share it.
    let mut jobs: Vec<(&Image, &LayerDescriptor)> = Vec::new();
    let mut seen: HashSet<&BlobRef> = HashSet::new();
    let mut planned_layers = 0usize;
    for image in &input.images {
        for (i, layer) in image.layers.iter().enumerate() {
            if i >= scanner.opts.limits.max_layers {
                break;
            }
            planned_layers += 1;
            if seen.insert(&layer.blob) {
                jobs.push((image, layer));
            }
        }
    }
    // Largest first, so one big layer does not start last and leave a core idle.
    jobs.sort_by_key(|(_, l)| std::cmp::Reverse(l.size.unwrap_or(0)));
    if let Some(p) = &scanner.progress {
        p(&Progress::Planned {
            input: input.name.clone(),
            layers: jobs.len(),
            bytes: jobs.iter().map(|(_, l)| l.size.unwrap_or(0)).sum(),
        });
    }

    let store: &dyn BlobStore = &*input.store;
    let outcomes: Vec<(BlobRef, Arc<LayerOutcome>)> = scanner.pool.install(|| {
        jobs.par_iter()
            .map_init(Scratch::new, |scratch, (image, layer)| {
                let outcome = scan_layer(scanner, store, image, layer, scratch);
                if let Some(p) = &scanner.progress {
                    p(&Progress::LayerDone { blob: layer.blob.to_string() });
                }
                (layer.blob.clone(), Arc::new(outcome))
            })
            .collect()
    });
    let walked: HashMap<BlobRef, Arc<LayerOutcome>> = outcomes.into_iter().collect();
    report.stats.layers_scanned = walked.len();
    report.stats.layers_reused = planned_layers.saturating_sub(walked.len());
    for o in walked.values() {
        report.stats.files += o.files;
        if let Some(w) = &o.walk {
            report.stats.bytes_compressed += w.blob_bytes;
            report.stats.bytes_uncompressed += w.tar_bytes;
        }
    }

    let mut stopped = false;
    for image in &input.images {
        if stopped {
            break;
        }
        let layers: Vec<Option<Arc<LayerOutcome>>> = image
            .layers
            .iter()
            .take(scanner.opts.limits.max_layers)
            .map(|l| walked.get(&l.blob).cloned())
            .collect();
        let resolved = attribute::resolve_image(scanner, input, image, &layers);
        for e in &resolved.errors {
            sink.error(e);
        }
        for f in &resolved.findings {
            if !stopped && sink.finding(f) == Flow::Stop {
                stopped = true;
            }
        }
        sink.image(&resolved.image);
        report.stats.images += 1;
        report.stats.layers += resolved.image.layers.len();
        report.stats.findings_dropped += resolved.dropped;
        report.images.push(resolved.image);
        report.findings.extend(resolved.findings);
        report.errors.extend(resolved.errors);
    }
    if stopped {
        report.notes.push("scan stopped early by the caller; later results are missing".into());
    }
    report.stats.findings = report.findings.len();
    report.stats.findings_visible = report.findings.iter().filter(|f| f.visible).count();
    report.stats.errors = report.errors.len();
    report
}

fn scan_layer(
    scanner: &Scanner,
    store: &dyn BlobStore,
    image: &Image,
    desc: &LayerDescriptor,
    scratch: &mut Scratch,
) -> LayerOutcome {
    let at = At::image(image.name.clone()).with_layer(desc.index, desc.digest.clone());
    let mut blob = match store.open(&desc.blob) {
        Ok(r) => r,
        Err(e) => {
            return LayerOutcome { walk: None, hits: Vec::new(), errors: vec![e.within(&at)], files: 0 }
        }
    };
    let blob_name = desc.blob.to_string();
    let progress_cb;
    let progress: Option<&(dyn Fn(u64) + Sync)> = match &scanner.progress {
        Some(p) => {
            let total = desc.size;
            progress_cb = move |read: u64| p(&Progress::LayerBytes { blob: blob_name.clone(), read, total });
            Some(&progress_cb)
        }
        None => None,
    };
    let opts = WalkOptions { limits: &scanner.opts.limits, at: at.clone(), progress };
    let mut hits = Vec::new();
    let mut errors = Vec::new();
    let mut files = 0u64;
    let mut seen: HashSet<(usize, Vec<u8>)> = HashSet::new();
    let detector = &scanner.detector;
    let walk = walk_layer(&mut blob, &opts, &mut |meta: &EntryMeta, content: &mut dyn std::io::Read| {
        files += 1;
        seen.clear();
        let outcome = detector.scan_reader(meta.path.as_bytes(), content, scratch, &mut |m: Match| {
            // One finding per (rule, secret) in a file version.
            if seen.insert((m.rule, m.secret.clone())) {
                hits.push(FileHit { ordinal: meta.ordinal, path: meta.path.clone(), m });
            }
            Flow::Continue
        });
        if !outcome.errors.is_empty() {
            let file_at = at.clone().with_path(meta.path.display().into_owned());
            errors.extend(outcome.errors.into_iter().map(|e| e.within(&file_at)));
        }
        Flow::Continue
    });
    LayerOutcome { walk: Some(walk), hits, errors, files }
}
