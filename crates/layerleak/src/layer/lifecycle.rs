//! The lifecycle of every entry version across layers (OCI image spec, "Image Layer Filesystem
//! Changeset", "Representing Changes", "Whiteouts", "Opaque Whiteout"): which layer hid it and
//! how, or that it is still visible in the final filesystem.
//!
//! The visible tree is a `BTreeMap` keyed by normalized path bytes. Because `/` sorts right
//! before `0`, everything under `dir` is the key range `dir/ .. dir0`, so removing a subtree is a
//! range scan: memory is per path and work is O(n log n) over all entries.
//!
//! # Security
//! Entries come from untrusted layers; whiteouts of paths that never existed, of the root, or
//! with odd names are harmless no-ops, and no input makes the resolution quadratic in the number
//! of entries except by genuinely re-hiding versions (each version is hidden at most once).

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use super::path::LayerPath;
use super::walk::{EntryKind, EntryMeta};
use super::whiteout::{classify, WhiteoutName};

/// How a version was hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum HiddenHow {
    /// A `.wh.` whiteout of the path or of a directory above it.
    Whiteout,
    /// An opaque marker on a directory above it.
    Opaque,
    /// Something else was written at the path (or a non-directory over a directory above it).
    Overwrite,
}

/// What became of one entry version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "fate")]
#[non_exhaustive]
pub enum Fate {
    /// Still visible in the final filesystem.
    Present,
    /// Hidden by a layer (possibly its own layer, for a path written twice).
    Hidden {
        /// Index of the hiding layer.
        by: usize,
        /// How.
        how: HiddenHow,
    },
}

impl Fate {
    /// The reporting status: deleted by whiteouts, shadowed by overwrites, or present.
    pub fn status(&self) -> Status {
        match self {
            Fate::Present => Status::Present,
            Fate::Hidden { how: HiddenHow::Overwrite, .. } => Status::Shadowed,
            Fate::Hidden { .. } => Status::Deleted,
        }
    }
}

/// Whether a version is visible, deleted (whiteout/opaque) or shadowed (overwritten).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Status {
    /// Visible in the final filesystem.
    Present,
    /// Removed by a whiteout or opaque directory.
    Deleted,
    /// Replaced by a later write at the same path.
    Shadowed,
}

/// Per-layer counts for the layer timeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct LayerStats {
    /// Regular files and links written at paths no lower layer had visible.
    pub files_added: u64,
    /// Regular files and links replacing a version from a lower layer.
    pub files_overwritten: u64,
    /// Paths visible before this layer that its whiteouts and opaque markers remove: every path
    /// with an entry (file, link, directory) under what is deleted, each counted once however
    /// many lower layers wrote it.
    pub paths_deleted: u64,
    /// Bytes of this layer's regular files whose content is visible in the final filesystem
    /// through no path: deleted or overwritten by a later layer, or replaced by a later entry of
    /// the same path in this layer, with no hardlink to it left visible (wasted bytes).
    pub bytes_hidden_later: u64,
    /// This layer's versions (of any kind) later hidden.
    pub versions_hidden: u64,
}

/// One version in the visible tree: (layer, position in that layer's entry slice).
#[derive(Debug, Clone, Copy)]
struct Ver {
    layer: u32,
    idx: u32,
}

/// A visible path. Directories may carry several versions (a directory entry over a directory
/// changes nothing, so all stay visible); other kinds exactly one.
#[derive(Debug)]
struct Node {
    dir: bool,
    first: Ver,
    more: Vec<Ver>,
}

#[derive(Debug, Default)]
struct LayerState {
    ords: Vec<u64>,
    fates: Vec<Fate>,
    sizes_of_files: Vec<u64>,
    stats: LayerStats,
    /// Hardlink groups: union-find parent per entry; empty when the layer has no hardlinks.
    group: Vec<u32>,
    /// Members (index, path) of each hardlink group with more than one member, by root.
    members: HashMap<u32, Vec<(u32, LayerPath)>>,
}

/// The resolved fate of every entry version of an image.
#[derive(Debug)]
pub struct Lifecycle {
    layers: Vec<LayerState>,
}

impl Lifecycle {
    /// Resolves the fate of every entry version given each layer's entries in manifest order.
    pub fn resolve(layers: &[&[EntryMeta]]) -> Lifecycle {
        let mut states: Vec<LayerState> = layers.iter().map(|l| LayerState::new(l)).collect();
        let mut tree: BTreeMap<Box<[u8]>, Node> = BTreeMap::new();
        for (n, entries) in layers.iter().enumerate() {
            // Whiteouts only hide lower layers, wherever they sit in this layer's tar.
            for e in entries.iter() {
                let removed = match &e.kind {
                    EntryKind::Whiteout { target } if !target.is_root() => {
                        let mut v = remove_subtree(&mut tree, target.as_bytes());
                        v.extend(tree.remove(target.as_bytes()));
                        v
                    }
                    EntryKind::OpaqueWhiteout { dir } => remove_subtree(&mut tree, dir.as_bytes()),
                    _ => continue,
                };
                let how = if matches!(e.kind, EntryKind::Whiteout { .. }) {
                    HiddenHow::Whiteout
                } else {
                    HiddenHow::Opaque
                };
                hide_all(&mut states, &removed, n, how);
                states[n].stats.paths_deleted += removed.len() as u64;
            }
            add_layer(&mut tree, &mut states, n, entries);
        }
        for s in &mut states {
            s.finish();
        }
        Lifecycle { layers: states }
    }

    /// Fate of the entry `ordinal` of layer `layer`.
    pub fn fate(&self, layer: usize, ordinal: u64) -> Option<Fate> {
        let s = self.layers.get(layer)?;
        s.fates.get(s.index(ordinal)?).copied()
    }

    /// Fate of the content of a regular file: present if the file or any hardlink in the same
    /// layer sharing its content (transitively) is still present; otherwise the file's own fate.
    pub fn content_fate(&self, layer: usize, ordinal: u64) -> Option<Fate> {
        let s = self.layers.get(layer)?;
        let i = s.index(ordinal)?;
        let own = *s.fates.get(i)?;
        Some(if s.content_visible(i) { Fate::Present } else { own })
    }

    /// Other paths in the same layer that share this file's content (hardlinks), for reporting.
    pub fn aliases(&self, layer: usize, ordinal: u64) -> Vec<LayerPath> {
        let Some(s) = self.layers.get(layer) else { return Vec::new() };
        let Some(i) = s.index(ordinal) else { return Vec::new() };
        if s.group.is_empty() {
            return Vec::new();
        }
        let root = find(&s.group, i as u32);
        let mut out: Vec<LayerPath> = s
            .members
            .get(&root)
            .map(|m| m.iter().filter(|(j, _)| *j as usize != i).map(|(_, p)| p.clone()).collect())
            .unwrap_or_default();
        out.sort();
        out.dedup();
        out
    }

    /// Per-layer counts for the `layers` timeline (all zero for an unknown layer).
    pub fn layer_stats(&self, layer: usize) -> LayerStats {
        self.layers.get(layer).map(|s| s.stats).unwrap_or_default()
    }
}

impl LayerState {
    fn new(entries: &[EntryMeta]) -> LayerState {
        LayerState {
            ords: entries.iter().map(|e| e.ordinal).collect(),
            fates: vec![Fate::Present; entries.len()],
            sizes_of_files: entries
                .iter()
                .map(|e| if e.kind == EntryKind::File { e.size } else { 0 })
                .collect(),
            ..LayerState::default()
        }
    }

    fn index(&self, ordinal: u64) -> Option<usize> {
        match usize::try_from(ordinal) {
            Ok(i) if self.ords.get(i) == Some(&ordinal) => Some(i),
            _ => self.ords.binary_search(&ordinal).ok(),
        }
    }

    /// Whether entry `i`'s content is visible: the entry itself, or any hardlink of this layer
    /// sharing its content (transitively), is present.
    fn content_visible(&self, i: usize) -> bool {
        if self.fates.get(i) == Some(&Fate::Present) {
            return true;
        }
        if self.group.is_empty() {
            return false;
        }
        let root = find(&self.group, i as u32);
        self.members
            .get(&root)
            .is_some_and(|m| m.iter().any(|(j, _)| self.fates.get(*j as usize) == Some(&Fate::Present)))
    }

    /// Tallies hidden versions and wasted bytes once every layer is resolved.
    fn finish(&mut self) {
        for i in 0..self.fates.len() {
            if self.fates[i] == Fate::Present {
                continue;
            }
            self.stats.versions_hidden += 1;
            if !self.content_visible(i) {
                self.stats.bytes_hidden_later += self.sizes_of_files[i];
            }
        }
        self.sizes_of_files = Vec::new();
    }
}

/// Applies layer `n`'s writes in tar order.
fn add_layer(
    tree: &mut BTreeMap<Box<[u8]>, Node>,
    states: &mut [LayerState],
    n: usize,
    entries: &[EntryMeta],
) {
    let has_links = entries.iter().any(|e| matches!(e.kind, EntryKind::Hardlink { .. }));
    let mut latest: HashMap<&[u8], u32> = HashMap::new();
    if has_links {
        states[n].group = (0..entries.len() as u32).collect();
    }
    // Parent whose ancestors were last checked: sorted tars write many entries per directory.
    let mut checked_parent: Option<&[u8]> = None;
    for (i, e) in entries.iter().enumerate() {
        let is_dir = match &e.kind {
            EntryKind::Whiteout { .. } | EntryKind::OpaqueWhiteout { .. } => continue,
            EntryKind::Other if classify(&e.path) == WhiteoutName::Ignored => continue,
            EntryKind::Dir => true,
            _ => false,
        };
        if e.path.is_root() {
            continue;
        }
        let ver = Ver { layer: n as u32, idx: i as u32 };
        let p = e.path.as_bytes();
        let parent = &p[..memchr::memrchr(b'/', p).unwrap_or(0)];
        if checked_parent != Some(parent) {
            replace_file_ancestors(tree, states, n, parent);
            checked_parent = Some(parent);
        }
        let lower = write_path(tree, states, n, p, ver, is_dir);
        if !is_dir && checked_parent.is_some_and(|c| LayerPath::is_prefix_dir(p, c)) {
            // A non-directory now sits at or above the checked parent: check again next time.
            checked_parent = None;
        }
        if !is_dir && e.kind != EntryKind::Other {
            match lower {
                Some(true) => states[n].stats.files_overwritten += 1,
                Some(false) => {}
                None => states[n].stats.files_added += 1,
            }
        }
        if has_links {
            if let EntryKind::Hardlink { target } = &e.kind {
                if let Some(&j) = latest.get(target.as_bytes()) {
                    union(&mut states[n].group, i as u32, j);
                }
            }
            latest.insert(p, i as u32);
        }
    }
    if has_links {
        collect_members(&mut states[n], entries);
    }
}

/// Writes one version at `p`. Returns what it replaced: `None` if the path was not visible,
/// `Some(true)` if a version from a lower layer, `Some(false)` one from this layer.
fn write_path(
    tree: &mut BTreeMap<Box<[u8]>, Node>,
    states: &mut [LayerState],
    n: usize,
    p: &[u8],
    ver: Ver,
    is_dir: bool,
) -> Option<bool> {
    if !is_dir {
        // A non-directory hides everything under its path, whether or not the directory had
        // an entry of its own.
        let under = remove_subtree(tree, p);
        hide_all(states, &under, n, HiddenHow::Overwrite);
    }
    let node = Node { dir: is_dir, first: ver, more: Vec::new() };
    let Some(old) = tree.get_mut(p) else {
        tree.insert(p.into(), node);
        return None;
    };
    let lower = (old.first.layer as usize) < n;
    if is_dir && old.dir {
        // A directory entry over a directory changes nothing.
        old.more.push(ver);
        return Some(lower);
    }
    let old = std::mem::replace(old, node);
    hide_all(states, std::slice::from_ref(&old), n, HiddenHow::Overwrite);
    Some(lower)
}

/// A write under `parent` turns any visible non-directory ancestor into a directory: the
/// non-directory version is hidden.
fn replace_file_ancestors(
    tree: &mut BTreeMap<Box<[u8]>, Node>,
    states: &mut [LayerState],
    n: usize,
    parent: &[u8],
) {
    let mut end = parent.len();
    loop {
        let prefix = &parent[..end];
        if prefix.is_empty() {
            return;
        }
        if tree.get(prefix).is_some_and(|node| !node.dir) {
            if let Some(old) = tree.remove(prefix) {
                hide_all(states, std::slice::from_ref(&old), n, HiddenHow::Overwrite);
            }
        }
        end = memchr::memrchr(b'/', prefix).unwrap_or(0);
    }
}

/// Removes every visible path strictly under `dir` (everything but the root for the root).
fn remove_subtree(tree: &mut BTreeMap<Box<[u8]>, Node>, dir: &[u8]) -> Vec<Node> {
    let keys: Vec<Box<[u8]>> = if dir.is_empty() {
        tree.range::<[u8], _>((Bound::Excluded(&b""[..]), Bound::Unbounded)).map(|(k, _)| k.clone()).collect()
    } else {
        let mut lo = dir.to_vec();
        lo.push(b'/');
        let mut hi = dir.to_vec();
        hi.push(b'/' + 1);
        tree.range::<[u8], _>((Bound::Included(&lo[..]), Bound::Excluded(&hi[..])))
            .map(|(k, _)| k.clone())
            .collect()
    };
    keys.iter().filter_map(|k| tree.remove(k)).collect()
}

/// Marks every version of `nodes` hidden by layer `by`.
fn hide_all(states: &mut [LayerState], nodes: &[Node], by: usize, how: HiddenHow) {
    for node in nodes {
        for v in std::iter::once(&node.first).chain(&node.more) {
            if let Some(f) = states.get_mut(v.layer as usize).and_then(|s| s.fates.get_mut(v.idx as usize)) {
                *f = Fate::Hidden { by, how };
            }
        }
    }
}

fn find(parent: &[u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        i = parent[i as usize];
    }
    i
}

fn union(parent: &mut [u32], a: u32, b: u32) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        // Attach the later root under the earlier one; paths stay short because links point
        // back to earlier entries.
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        parent[hi as usize] = lo;
    }
}

/// Flattens the union-find and keeps the members of groups larger than one.
fn collect_members(s: &mut LayerState, entries: &[EntryMeta]) {
    for i in 0..s.group.len() {
        s.group[i] = find(&s.group, i as u32);
    }
    let mut sizes: HashMap<u32, u32> = HashMap::new();
    for &r in &s.group {
        *sizes.entry(r).or_default() += 1;
    }
    for (i, &r) in s.group.iter().enumerate() {
        if sizes.get(&r).copied().unwrap_or(0) > 1 {
            s.members.entry(r).or_default().push((i as u32, entries[i].path.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::PathFlags;

    fn meta(ordinal: u64, path: &str, kind: EntryKind) -> EntryMeta {
        EntryMeta {
            ordinal,
            path: LayerPath::new(path.as_bytes()).0,
            flags: PathFlags::default(),
            kind,
            size: 10,
            mode: 0o644,
        }
    }

    fn layer(spec: &[(&str, char)]) -> Vec<EntryMeta> {
        spec.iter()
            .enumerate()
            .map(|(i, (p, k))| {
                let kind = match k {
                    'd' => EntryKind::Dir,
                    'f' => EntryKind::File,
                    'w' => {
                        let path = LayerPath::new(p.as_bytes()).0;
                        match classify(&path) {
                            WhiteoutName::Whiteout(target) => EntryKind::Whiteout { target },
                            WhiteoutName::Opaque(dir) => EntryKind::OpaqueWhiteout { dir },
                            _ => EntryKind::Other,
                        }
                    }
                    _ => EntryKind::Other,
                };
                meta(i as u64, p, kind)
            })
            .collect()
    }

    fn hidden(by: usize, how: HiddenHow) -> Option<Fate> {
        Some(Fate::Hidden { by, how })
    }

    #[test]
    fn whiteout_opaque_and_overwrite_rules() {
        let l0 = layer(&[
            ("a", 'd'),
            ("a/x", 'f'),
            ("b", 'd'),
            ("b/y", 'f'),
            ("c", 'f'),
            ("d", 'd'),
            ("d/z", 'f'),
        ]);
        let l1 = layer(&[("a/.wh.x", 'w'), ("b/new", 'f'), ("b/.wh..wh..opq", 'w'), ("c", 'f'), ("d", 'f')]);
        let lc = Lifecycle::resolve(&[&l0, &l1]);
        assert_eq!(lc.fate(0, 0), Some(Fate::Present));
        assert_eq!(lc.fate(0, 1), hidden(1, HiddenHow::Whiteout));
        assert_eq!(lc.fate(0, 2), Some(Fate::Present));
        assert_eq!(lc.fate(0, 3), hidden(1, HiddenHow::Opaque));
        assert_eq!(lc.fate(1, 1), Some(Fate::Present));
        assert_eq!(lc.fate(0, 4), hidden(1, HiddenHow::Overwrite));
        assert_eq!(lc.fate(0, 5), hidden(1, HiddenHow::Overwrite));
        assert_eq!(lc.fate(0, 6), hidden(1, HiddenHow::Overwrite));
        let s1 = lc.layer_stats(1);
        assert_eq!((s1.files_added, s1.files_overwritten, s1.paths_deleted), (1, 2, 2));
        let s0 = lc.layer_stats(0);
        assert_eq!((s0.versions_hidden, s0.bytes_hidden_later), (5, 40));
        assert_eq!(lc.fate(0, 4).map(|f| f.status()), Some(Status::Shadowed));
        assert_eq!(lc.fate(0, 1).map(|f| f.status()), Some(Status::Deleted));
        assert_eq!(lc.fate(0, 99), None);
        assert_eq!(lc.fate(7, 0), None);
    }

    #[test]
    fn deleted_directory_counts_each_path_once_however_many_layers_wrote_it() {
        // Regression: `rm -rf app` counted the directory once per layer with an `app/` entry.
        let mut layers: Vec<Vec<EntryMeta>> = vec![layer(&[("app", 'd'), ("app/x", 'f')])];
        layers.extend((0..5).map(|_| layer(&[("app", 'd')])));
        layers.push(layer(&[(".wh.app", 'w')]));
        let refs: Vec<&[EntryMeta]> = layers.iter().map(|l| l.as_slice()).collect();
        let lc = Lifecycle::resolve(&refs);
        assert_eq!(lc.layer_stats(6).paths_deleted, 2, "app and app/x");
        for n in 0..6 {
            assert_eq!(lc.fate(n, 0), hidden(6, HiddenHow::Whiteout), "layer {n}");
        }
    }

    #[test]
    fn content_kept_by_a_hardlink_is_not_wasted() {
        // Regression: a whited-out file still visible through a hardlink counted as wasted.
        let mut l0 = layer(&[("secrets/token", 'f'), ("app/link", 'f'), ("old", 'f')]);
        l0[1].kind = EntryKind::Hardlink { target: LayerPath::new(b"secrets/token").0 };
        l0[1].size = 0;
        let l1 = layer(&[("secrets/.wh.token", 'w'), ("old", 'f')]);
        let lc = Lifecycle::resolve(&[&l0, &l1]);
        assert_eq!(lc.fate(0, 0), hidden(1, HiddenHow::Whiteout));
        assert_eq!(lc.content_fate(0, 0), Some(Fate::Present));
        let s0 = lc.layer_stats(0);
        assert_eq!((s0.versions_hidden, s0.bytes_hidden_later), (2, 10), "only `old` is wasted");
        let l2 = layer(&[("app/.wh.link", 'w')]);
        let lc = Lifecycle::resolve(&[&l0, &l1, &l2]);
        assert_eq!(lc.layer_stats(0).bytes_hidden_later, 20, "no path left to the content");
    }

    #[test]
    fn file_under_a_former_file_hides_it() {
        let l0 = layer(&[("a", 'f')]);
        let l1 = layer(&[("a/b", 'f')]);
        let lc = Lifecycle::resolve(&[&l0, &l1]);
        assert_eq!(lc.fate(0, 0), hidden(1, HiddenHow::Overwrite));
        assert_eq!(lc.fate(1, 0), Some(Fate::Present));
    }

    #[test]
    fn file_over_an_implicit_directory_hides_what_was_under_it() {
        let l0 = layer(&[("a/x", 'f'), ("a/y/z", 'f')]);
        let l1 = layer(&[("a", 'f'), ("b/c", 'f'), ("b", 'f'), ("b/d", 'f')]);
        let lc = Lifecycle::resolve(&[&l0, &l1]);
        assert_eq!(lc.fate(0, 0), hidden(1, HiddenHow::Overwrite));
        assert_eq!(lc.fate(0, 1), hidden(1, HiddenHow::Overwrite));
        // Within one layer: `b/c`, then file `b` hides it, then `b/d` turns `b` back into a
        // directory, hiding the file.
        assert_eq!(lc.fate(1, 1), hidden(1, HiddenHow::Overwrite));
        assert_eq!(lc.fate(1, 2), hidden(1, HiddenHow::Overwrite));
        assert_eq!(lc.fate(1, 3), Some(Fate::Present));
    }

    #[test]
    fn opaque_root_hides_everything_lower() {
        let l0 = layer(&[("a", 'f'), ("b", 'd'), ("b/c", 'f')]);
        let l1 = layer(&[("z", 'f'), (".wh..wh..opq", 'w')]);
        let lc = Lifecycle::resolve(&[&l0, &l1]);
        for i in 0..3 {
            assert_eq!(lc.fate(0, i), hidden(1, HiddenHow::Opaque));
        }
        assert_eq!(lc.fate(1, 0), Some(Fate::Present));
    }

    #[test]
    fn half_a_million_entries_resolve() {
        // 5 layers of 100,000 files; each layer whites out the previous layer's own directory
        // and overwrites the 100 files of the shared one.
        let (dirs, per_dir) = (1000, 100);
        let layers: Vec<Vec<EntryMeta>> = (0..5)
            .map(|n| {
                let mut v = Vec::with_capacity(dirs * per_dir + 1);
                if n > 0 {
                    let target = LayerPath::new(format!("l{}d0", n - 1).as_bytes()).0;
                    v.push(meta(0, &format!(".wh.l{}d0", n - 1), EntryKind::Whiteout { target }));
                }
                for d in 0..dirs {
                    let dir = if d == 1 { "shared".to_string() } else { format!("l{n}d{d}") };
                    for f in 0..per_dir {
                        let ord = v.len() as u64;
                        v.push(meta(ord, &format!("{dir}/file{f}"), EntryKind::File));
                    }
                }
                v
            })
            .collect();
        let refs: Vec<&[EntryMeta]> = layers.iter().map(|l| l.as_slice()).collect();
        assert!(refs.iter().map(|l| l.len()).sum::<usize>() >= 500_000);
        let lc = Lifecycle::resolve(&refs);
        let per_dir = per_dir as u64;
        assert_eq!(lc.layer_stats(0).files_added, 100_000);
        for n in 0..4 {
            let s = lc.layer_stats(n);
            assert_eq!(s.versions_hidden, 2 * per_dir, "layer {n}");
            assert_eq!(s.bytes_hidden_later, 2 * per_dir * 10, "layer {n}");
            let first = u64::from(n > 0);
            assert_eq!(lc.fate(n, first), hidden(n + 1, HiddenHow::Whiteout));
            assert_eq!(lc.fate(n, first + per_dir), hidden(n + 1, HiddenHow::Overwrite));
            assert_eq!(lc.fate(n, first + 2 * per_dir), Some(Fate::Present));
            let next = lc.layer_stats(n + 1);
            assert_eq!((next.paths_deleted, next.files_overwritten), (per_dir, per_dir));
            assert_eq!(next.files_added, 100_000 - per_dir);
        }
        assert_eq!(lc.layer_stats(4).versions_hidden, 0);
        assert_eq!(lc.fate(4, refs[4].len() as u64 - 1), Some(Fate::Present));
    }
}
