//! Layers: decompression, the streaming tar walk, whiteouts and the lifecycle of every file
//! version across layers (which layer added it, which hid it, whether it is still visible).
//!
//! [`walk_layer`] streams one blob once (digests included) and hands each regular file's
//! content to a visitor; [`Lifecycle::resolve`] then tells, from every layer's recorded entries,
//! what became of each version (OCI image spec, "Representing Changes").
//!
//! ```
//! use std::ops::ControlFlow;
//! use layerleak::layer::{walk_layer, Fate, HiddenHow, Lifecycle, WalkOptions};
//! use layerleak::{At, Limits};
//!
//! fn layer(files: &[(&str, &[u8])]) -> Vec<u8> {
//!     let mut b = tar::Builder::new(Vec::new());
//!     for (name, data) in files {
//!         let mut h = tar::Header::new_gnu();
//!         h.set_size(data.len() as u64);
//!         b.append_data(&mut h, name, *data).unwrap();
//!     }
//!     b.into_inner().unwrap()
//! }
//! let blobs = [layer(&[("app/.env", b"TOKEN=x")]), layer(&[("app/.wh..env", b"")])];
//! let limits = Limits::default();
//! let walks: Vec<_> = blobs
//!     .iter()
//!     .enumerate()
//!     .map(|(i, blob)| {
//!         let opts = WalkOptions::new(&limits, At::image("example").with_layer(i, None));
//!         walk_layer(&mut &blob[..], &opts, &mut |_meta, _content| ControlFlow::Continue(()))
//!     })
//!     .collect();
//! let entries: Vec<_> = walks.iter().map(|w| w.entries.as_slice()).collect();
//! let lifecycle = Lifecycle::resolve(&entries);
//! assert_eq!(lifecycle.fate(0, 0), Some(Fate::Hidden { by: 1, how: HiddenHow::Whiteout }));
//! ```

mod compression;
mod lifecycle;
mod path;
mod walk;
mod whiteout;

pub use crate::format::Compression;
pub use lifecycle::{Fate, HiddenHow, LayerStats, Lifecycle, Status};
pub use path::{LayerPath, PathFlags};
pub use walk::{walk_layer, EntryKind, EntryMeta, LayerWalk, WalkOptions};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<LayerWalk>();
        check::<EntryMeta>();
        check::<LayerPath>();
        check::<Lifecycle>();
        check::<WalkOptions<'static>>();
        check::<Fate>();
    }
}
