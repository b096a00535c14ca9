//! Whiteout names (OCI image spec, "Image Layer Filesystem Changeset", "Representing Changes":
//! "Whiteouts" and "Opaque Whiteout").
//!
//! # Security
//! A whiteout name comes from an untrusted tar header: its target is normalized like any other
//! path (so `dir/.wh...` cannot name anything outside the layer root), and whiteouts are never
//! content, whatever their declared size.

use super::path::LayerPath;

/// Prefix that marks a whiteout file.
pub(crate) const WHITEOUT_PREFIX: &[u8] = b".wh.";
/// Name of the opaque-directory marker.
pub(crate) const OPAQUE_MARKER: &[u8] = b".wh..wh..opq";
/// Prefix of aufs-internal names (`.wh..wh.plnk`, `.wh..wh.aufs`), which are not whiteouts.
const AUFS_META_PREFIX: &[u8] = b".wh..wh.";

/// What a path means with respect to whiteouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WhiteoutName {
    /// Not a whiteout name.
    None,
    /// `dir/.wh.name`: deletes `dir/name` (and everything under it) from lower layers.
    Whiteout(LayerPath),
    /// `dir/.wh..wh..opq`: hides everything under `dir` from lower layers.
    Opaque(LayerPath),
    /// An aufs-internal `.wh..wh.*` entry (or a bare `.wh.`): ignored.
    Ignored,
}

/// Classifies a normalized path by its file name.
pub(crate) fn classify(path: &LayerPath) -> WhiteoutName {
    let name = path.file_name();
    if !name.starts_with(WHITEOUT_PREFIX) {
        return WhiteoutName::None;
    }
    let dir = path.parent().unwrap_or_default();
    if name == OPAQUE_MARKER {
        return WhiteoutName::Opaque(dir);
    }
    let target = &name[WHITEOUT_PREFIX.len()..];
    if name.starts_with(AUFS_META_PREFIX) || target.is_empty() {
        return WhiteoutName::Ignored;
    }
    WhiteoutName::Whiteout(dir.join(target).0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(raw: &[u8]) -> WhiteoutName {
        classify(&LayerPath::new(raw).0)
    }

    #[test]
    fn whiteout_names_are_classified() {
        assert_eq!(c(b"etc/.wh.passwd"), WhiteoutName::Whiteout(LayerPath::new(b"etc/passwd").0));
        assert_eq!(c(b".wh.top"), WhiteoutName::Whiteout(LayerPath::new(b"top").0));
        assert_eq!(c(b"a/b/.wh..wh..opq"), WhiteoutName::Opaque(LayerPath::new(b"a/b").0));
        assert_eq!(c(b".wh..wh..opq"), WhiteoutName::Opaque(LayerPath::root()));
        assert_eq!(c(b"a/.wh..wh.plnk"), WhiteoutName::Ignored);
        assert_eq!(c(b"a/.wh."), WhiteoutName::Ignored);
        assert_eq!(c(b"a/x.wh.y"), WhiteoutName::None);
        assert_eq!(c(b"a/.wh.x/y"), WhiteoutName::None);
    }

    #[test]
    fn whiteout_of_dot_names_resolve_lexically_like_a_path_join() {
        // `.wh..` names `.`, `.wh...` names `..`: resolved like `dir/<name>` and clamped.
        assert_eq!(c(b".wh.."), WhiteoutName::Whiteout(LayerPath::root()));
        assert_eq!(c(b".wh..."), WhiteoutName::Whiteout(LayerPath::root()));
        assert_eq!(c(b"a/b/.wh.."), WhiteoutName::Whiteout(LayerPath::new(b"a/b").0));
        assert_eq!(c(b"a/b/.wh..."), WhiteoutName::Whiteout(LayerPath::new(b"a").0));
    }
}
