//! Layers: decompression, the streaming tar walk, whiteouts and the lifecycle of every file
//! version across layers (which layer added it, which hid it, whether it is still visible).

mod compression;
mod hashing;
mod header;
mod lifecycle;
mod path;
mod walk;
mod whiteout;

pub use compression::{detect_compression, Compression};
pub use lifecycle::{Fate, HiddenHow, LayerStats, Lifecycle, Status};
pub use path::{LayerPath, PathFlags};
pub use walk::{walk_layer, EntryKind, EntryMeta, Flow, LayerWalk, WalkOptions};
pub use whiteout::{classify as classify_whiteout, WhiteoutName, OPAQUE_MARKER, WHITEOUT_PREFIX};

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
