//! Tar entry paths as data (never filesystem paths): normalization and display.
//!
//! # Security
//! Paths come from untrusted tar headers. They are normalized lexically and never joined to a
//! directory of this machine, so `..` or absolute names cannot reach outside the layer: `..` is
//! clamped at the layer root and the event is recorded in [`PathFlags::escaped_root`].

use std::borrow::Cow;
use std::fmt;

/// What normalizing a raw tar path noticed about it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct PathFlags {
    /// A `..` component tried to climb above the layer root and was clamped.
    pub escaped_root: bool,
    /// The raw path started with `/`.
    pub absolute: bool,
    /// The raw path is not valid UTF-8 (it is kept as bytes).
    pub invalid_utf8: bool,
    /// The raw path contained a NUL byte; it was cut there.
    pub had_nul: bool,
    /// The raw path was longer than [`crate::Limits::max_path_bytes`] and was cut.
    pub truncated: bool,
}

/// A tar path normalized as data: bytes, no leading `./` or `/`, no empty or `.` components, no
/// trailing `/`; `..` resolved lexically and clamped at the root. The layer root is the empty
/// path.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct LayerPath(Box<[u8]>);

impl LayerPath {
    /// Normalizes a raw tar path. Bytes after a NUL are dropped (and `had_nul` set).
    pub fn new(raw: &[u8]) -> (LayerPath, PathFlags) {
        let mut flags = PathFlags::default();
        let raw = match memchr::memchr(0, raw) {
            Some(i) => {
                flags.had_nul = true;
                &raw[..i]
            }
            None => raw,
        };
        flags.absolute = raw.first() == Some(&b'/');
        flags.invalid_utf8 = std::str::from_utf8(raw).is_err();
        let mut out: Vec<u8> = Vec::with_capacity(raw.len());
        for comp in raw.split(|&b| b == b'/') {
            match comp {
                b"" | b"." => {}
                b".." => match memchr::memrchr(b'/', &out) {
                    Some(i) => out.truncate(i),
                    None if out.is_empty() => flags.escaped_root = true,
                    None => out.clear(),
                },
                c => {
                    if !out.is_empty() {
                        out.push(b'/');
                    }
                    out.extend_from_slice(c);
                }
            }
        }
        (LayerPath(out.into_boxed_slice()), flags)
    }

    /// The layer root (the empty path).
    pub fn root() -> LayerPath {
        LayerPath::default()
    }

    /// Whether this is the layer root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The normalized bytes (empty for the root).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// For people and reports: the path itself when it is UTF-8, otherwise with every byte that
    /// is not part of valid UTF-8 written as `\xNN`. The root is shown as `/`.
    pub fn display(&self) -> Cow<'_, str> {
        if self.0.is_empty() {
            return Cow::Borrowed("/");
        }
        match std::str::from_utf8(&self.0) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => Cow::Owned(escape_bytes(&self.0)),
        }
    }

    /// The directory holding this path (`Some(root)` for a top-level name, `None` for the root).
    pub fn parent(&self) -> Option<LayerPath> {
        if self.0.is_empty() {
            return None;
        }
        let end = memchr::memrchr(b'/', &self.0).unwrap_or(0);
        Some(LayerPath(self.0[..end].into()))
    }

    /// The last component (empty for the root).
    pub fn file_name(&self) -> &[u8] {
        match memchr::memrchr(b'/', &self.0) {
            Some(i) => &self.0[i + 1..],
            None => &self.0,
        }
    }

    /// `self == dir` or `self` is under `dir/`. Everything is within the root.
    pub fn is_within(&self, dir: &LayerPath) -> bool {
        if dir.0.is_empty() {
            return true;
        }
        self.0.starts_with(&dir.0) && (self.0.len() == dir.0.len() || self.0[dir.0.len()] == b'/')
    }

    /// Whether normalized path bytes `dir` equal `p` or are an ancestor directory of it.
    pub(crate) fn is_prefix_dir(dir: &[u8], p: &[u8]) -> bool {
        p.starts_with(dir) && (p.len() == dir.len() || dir.is_empty() || p[dir.len()] == b'/')
    }

    /// `self/name`, normalized again (so `name` may contain `/` or `..`).
    pub fn join(&self, name: &[u8]) -> (LayerPath, PathFlags) {
        let mut raw = Vec::with_capacity(self.0.len() + 1 + name.len());
        raw.extend_from_slice(&self.0);
        raw.push(b'/');
        raw.extend_from_slice(name);
        let (p, mut flags) = LayerPath::new(&raw);
        flags.absolute = false;
        (p, flags)
    }
}

/// Escapes the bytes that are not valid UTF-8 as `\xNN`, keeping valid runs as they are.
fn escape_bytes(mut bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() + 8);
    while !bytes.is_empty() {
        match std::str::from_utf8(bytes) {
            Ok(valid) => {
                s.push_str(valid);
                break;
            }
            Err(e) => {
                let (good, rest) = bytes.split_at(e.valid_up_to());
                // `good` is valid by construction of `valid_up_to`.
                s.push_str(std::str::from_utf8(good).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len());
                for b in &rest[..bad] {
                    let _ = write!(s, "\\x{b:02x}");
                }
                bytes = &rest[bad..];
            }
        }
    }
    s
}

impl fmt::Debug for LayerPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LayerPath({:?})", self.display())
    }
}

impl fmt::Display for LayerPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

impl serde::Serialize for LayerPath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(raw: &[u8]) -> (String, PathFlags) {
        let (p, f) = LayerPath::new(raw);
        (p.display().into_owned(), f)
    }

    #[test]
    fn normalizes_dots_slashes_and_trailing_separators() {
        assert_eq!(norm(b"./a//b/").0, "a/b");
        assert_eq!(norm(b"a/./b/.").0, "a/b");
        let (p, f) = norm(b"/abs/x");
        assert_eq!(p, "abs/x");
        assert!(f.absolute && !f.escaped_root);
        assert_eq!(norm(b"./").0, "/");
        assert!(LayerPath::new(b"./").0.is_root());
    }

    #[test]
    fn dotdot_is_clamped_at_root_and_flagged() {
        let (p, f) = norm(b"../../etc/passwd");
        assert_eq!(p, "etc/passwd");
        assert!(f.escaped_root);
        let (p, f) = norm(b"a/b/../../c");
        assert_eq!(p, "c");
        assert!(!f.escaped_root);
        let (p, f) = norm(b"a/../../c");
        assert_eq!(p, "c");
        assert!(f.escaped_root);
    }

    #[test]
    fn invalid_utf8_is_kept_and_escaped_for_display() {
        let (p, f) = LayerPath::new(b"dir/caf\xe9/x");
        assert!(f.invalid_utf8);
        assert_eq!(p.as_bytes(), b"dir/caf\xe9/x");
        assert_eq!(p.display(), "dir/caf\\xe9/x");
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"dir/caf\\\\xe9/x\"");
    }

    #[test]
    fn nul_cuts_the_path() {
        let (p, f) = LayerPath::new(b"a/b\0/c");
        assert!(f.had_nul);
        assert_eq!(p.as_bytes(), b"a/b");
    }

    #[test]
    fn parent_file_name_and_is_within() {
        let p = LayerPath::new(b"a/b/c").0;
        assert_eq!(p.parent().unwrap().as_bytes(), b"a/b");
        assert_eq!(p.file_name(), b"c");
        let top = LayerPath::new(b"top").0;
        assert!(top.parent().unwrap().is_root());
        assert!(LayerPath::root().parent().is_none());
        let ab = LayerPath::new(b"a/b").0;
        assert!(p.is_within(&ab));
        assert!(ab.is_within(&ab));
        assert!(!LayerPath::new(b"a/bc").0.is_within(&ab));
        assert!(p.is_within(&LayerPath::root()));
        assert!(!ab.is_within(&p));
    }

    #[test]
    fn join_renormalizes() {
        let d = LayerPath::new(b"a/b").0;
        assert_eq!(d.join(b"c").0.as_bytes(), b"a/b/c");
        assert_eq!(d.join(b"..").0.as_bytes(), b"a");
        assert!(LayerPath::root().join(b"..").0.is_root());
    }
}
