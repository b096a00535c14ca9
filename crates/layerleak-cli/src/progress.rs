//! The progress bar on stderr: layers done, bytes read, throughput, ETA. Shown only when stderr
//! is a terminal.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use layerleak::scan::{Progress, ScannerBuilder};

struct State {
    bar: ProgressBar,
    read: Mutex<HashMap<String, u64>>,
    layers_total: AtomicU64,
    layers_done: AtomicU64,
}

/// A progress bar fed by scanner events from worker threads.
pub struct Bar {
    state: Arc<State>,
}

impl Bar {
    /// A bar when `wanted` and stderr is a terminal.
    pub fn new(wanted: bool) -> Option<Bar> {
        if !wanted || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        Some(Bar {
            state: Arc::new(State {
                bar,
                read: Mutex::new(HashMap::new()),
                layers_total: AtomicU64::new(0),
                layers_done: AtomicU64::new(0),
            }),
        })
    }

    /// Feeds the bar from `builder`'s scanner.
    pub fn attach(&self, builder: ScannerBuilder) -> ScannerBuilder {
        let s = Arc::clone(&self.state);
        builder.progress(move |p| s.on(p))
    }

    /// Clears the bar.
    pub fn finish(&self) {
        self.state.bar.finish_and_clear();
    }
}

impl State {
    fn message(&self) {
        let done = self.layers_done.load(Ordering::Relaxed);
        let total = self.layers_total.load(Ordering::Relaxed);
        self.bar.set_message(format!("layers {done}/{total}"));
    }

    fn on(&self, p: &Progress) {
        match p {
            Progress::Planned { layers, bytes, .. } => {
                self.layers_total.fetch_add(*layers as u64, Ordering::Relaxed);
                self.bar.inc_length(*bytes);
                self.message();
            }
            Progress::LayerBytes { blob, read, .. } => {
                let Ok(mut map) = self.read.lock() else { return };
                let prev = map.insert(blob.clone(), *read).unwrap_or(0);
                self.bar.inc(read.saturating_sub(prev));
            }
            Progress::LayerDone { .. } => {
                self.layers_done.fetch_add(1, Ordering::Relaxed);
                self.message();
            }
            _ => {}
        }
    }
}
