//! One image's package databases, as its layers hold them: which file versions they vouch for.
//!
//! A database file is itself a file version of some layer `k`; it speaks for a file version of
//! layer `i` when it is visible after layer `i` (written at or below `i`, not hidden by a layer at
//! or below `i`). The layer that installs a package writes both its files and the database, so a
//! file version is judged by the database as it stood once its own layer was applied, and a file
//! changed by a later layer is judged by the database as it stood then (which still records the
//! packaged content, so the change is seen).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{DbContent, FileSums, Manager, Package, Sum};
use crate::layer::{EntryKind, EntryMeta, Fate, Lifecycle};

/// A database file of a layer, parsed (or why it could not be).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DbRecord {
    pub ordinal: u64,
    pub path: String,
    pub content: Result<DbContent, String>,
}

/// Where a vouching record sits: a database file version.
#[derive(Debug, Clone, Copy)]
struct At {
    layer: usize,
    ordinal: u64,
}

/// A file as one database records it.
#[derive(Debug)]
struct Vouch {
    db: At,
    sum: Sum,
    who: Who,
}

#[derive(Debug)]
enum Who {
    /// A package named directly (apk, Python, a dpkg conffile).
    Package(usize),
    /// A dpkg `.md5sums`: the package must also be installed per a visible status.
    Dpkg { name: String, arch: Option<String> },
}

/// An installed dpkg package of a status file version.
#[derive(Debug)]
struct Status {
    db: At,
    /// (name, arch) -> package index.
    installed: HashMap<String, Vec<(Option<String>, usize)>>,
}

/// The package view of one image.
#[derive(Debug, Default)]
pub(crate) struct PackageIndex {
    packages: Vec<Package>,
    files: HashMap<String, Vec<Vouch>>,
    statuses: Vec<Status>,
    /// Databases that could not be read: (layer, path, why).
    pub unreadable: Vec<(usize, String, String)>,
    /// Whether any database file (readable or not) is in the image.
    pub any: bool,
    fates: Vec<HashMap<u64, Fate>>,
    links: Option<SymlinkResolver>,
}

impl PackageIndex {
    /// Builds the view from each layer's entries and database records.
    pub(crate) fn build(
        entries: &[&[EntryMeta]],
        dbs: &[&[DbRecord]],
        lifecycle: &Lifecycle,
    ) -> PackageIndex {
        let links = SymlinkResolver::new(entries, lifecycle);
        let mut ix = PackageIndex::default();
        for (layer, records) in dbs.iter().enumerate() {
            let mut fates = HashMap::new();
            for r in records.iter() {
                ix.any = true;
                fates.insert(r.ordinal, lifecycle.fate(layer, r.ordinal).unwrap_or(Fate::Present));
                let db = At { layer, ordinal: r.ordinal };
                match &r.content {
                    Err(why) => ix.unreadable.push((layer, r.path.clone(), why.clone())),
                    Ok(DbContent::DpkgStatus(list)) => {
                        let mut installed: HashMap<String, Vec<(Option<String>, usize)>> = HashMap::new();
                        for p in list {
                            let n = ix.add_package(Package {
                                manager: Manager::Dpkg,
                                name: p.name.clone(),
                                version: p.version.clone(),
                            });
                            installed.entry(p.name.clone()).or_default().push((p.arch.clone(), n));
                            for (path, sum) in &p.conffiles {
                                ix.vouch(&links, path, Vouch { db, sum: *sum, who: Who::Package(n) });
                            }
                        }
                        ix.statuses.push(Status { db, installed });
                    }
                    Ok(DbContent::DpkgSums { package, arch, files }) => {
                        for (path, sum) in files {
                            let who = Who::Dpkg { name: package.clone(), arch: arch.clone() };
                            ix.vouch(&links, path, Vouch { db, sum: *sum, who });
                        }
                    }
                    Ok(DbContent::Packages(list)) => {
                        for p in list {
                            let n = ix.add_package(p.package.clone());
                            for (path, sum) in &p.files {
                                ix.vouch(&links, path, Vouch { db, sum: *sum, who: Who::Package(n) });
                            }
                        }
                    }
                }
            }
            ix.fates.push(fates);
        }
        ix.links = Some(links);
        ix
    }

    /// A layer path with the final filesystem's directory symlinks resolved, as files are keyed.
    pub(crate) fn canonical(&self, path: &str) -> String {
        match &self.links {
            Some(l) => l.resolve(path),
            None => path.to_string(),
        }
    }

    fn add_package(&mut self, p: Package) -> usize {
        self.packages.push(p);
        self.packages.len() - 1
    }

    fn vouch(&mut self, links: &SymlinkResolver, path: &str, v: Vouch) {
        self.files.entry(links.resolve(path)).or_default().push(v);
    }

    /// Whether the database file version `db` is visible once layer `i` is applied.
    fn visible_after(&self, db: At, i: usize) -> bool {
        if db.layer > i {
            return false;
        }
        match self.fates.get(db.layer).and_then(|f| f.get(&db.ordinal)) {
            Some(Fate::Present) => true,
            Some(Fate::Hidden { by, .. }) => *by > i,
            None => false,
        }
    }

    /// The package that installed the file version at `paths` (a path and its hardlinks) of
    /// layer `layer` with content `sums`, if a database visible after that layer records exactly
    /// that content there.
    pub(crate) fn package_of(&self, layer: usize, paths: &[&str], sums: &FileSums) -> Option<&Package> {
        for path in paths {
            let Some(vouches) = self.files.get(*path) else { continue };
            for v in vouches {
                if !sums.matches(&v.sum) || !self.visible_after(v.db, layer) {
                    continue;
                }
                let n = match &v.who {
                    Who::Package(n) => Some(*n),
                    Who::Dpkg { name, arch } => self.installed_dpkg(name, arch.as_deref(), layer),
                };
                if let Some(n) = n {
                    return self.packages.get(n);
                }
            }
        }
        None
    }

    fn installed_dpkg(&self, name: &str, arch: Option<&str>, layer: usize) -> Option<usize> {
        self.statuses.iter().filter(|s| self.visible_after(s.db, layer)).find_map(|s| {
            let found = s.installed.get(name)?;
            found.iter().find(|(a, _)| arch.is_none() || a.as_deref() == arch).map(|(_, n)| *n)
        })
    }
}

/// Resolves the directory symlinks of the final filesystem in a path, as merged-`/usr` images
/// need: a database lists `lib/x` where the layers store `usr/lib/x` behind `lib -> usr/lib`.
#[derive(Debug)]
pub(crate) struct SymlinkResolver {
    links: HashMap<Vec<u8>, Vec<u8>>,
}

impl SymlinkResolver {
    fn new(entries: &[&[EntryMeta]], lifecycle: &Lifecycle) -> SymlinkResolver {
        let mut links = HashMap::new();
        for (layer, list) in entries.iter().enumerate() {
            for e in list.iter() {
                if let EntryKind::Symlink { target } = &e.kind {
                    if lifecycle.fate(layer, e.ordinal) == Some(Fate::Present) {
                        links.insert(e.path.as_bytes().to_vec(), target.clone());
                    }
                }
            }
        }
        SymlinkResolver { links }
    }

    /// `path` (no leading `/`) with every symlinked directory above its last component replaced
    /// by its target; a loop or a target climbing above the root leaves the path as it was.
    pub(crate) fn resolve(&self, path: &str) -> String {
        let mut cur = path.trim_start_matches('/').to_string();
        if self.links.is_empty() {
            return cur;
        }
        'restart: for _ in 0..32 {
            let bytes = cur.as_bytes();
            for (i, _) in bytes.iter().enumerate().filter(|(_, b)| **b == b'/') {
                let Some(target) = self.links.get(&bytes[..i]) else { continue };
                let Ok(target) = std::str::from_utf8(target) else { return cur };
                let parent = cur[..i].rsplit_once('/').map_or("", |(p, _)| p);
                let Some(dir) = super::join_normalized(parent, target) else { return cur };
                cur = if dir.is_empty() { cur[i + 1..].to_string() } else { format!("{dir}{}", &cur[i..]) };
                continue 'restart;
            }
            return cur;
        }
        path.trim_start_matches('/').to_string()
    }
}

/// The source file a CPython bytecode file was compiled from: `d/__pycache__/x.cpython-311.pyc`
/// (or `.opt-1.pyc`) -> `d/x.py`.
pub(crate) fn bytecode_source(path: &str) -> Option<String> {
    let (dir, name) = path.rsplit_once('/')?;
    let parent = dir.strip_suffix("__pycache__")?.trim_end_matches('/');
    let stem = name.strip_suffix(".pyc")?;
    let module = stem.split('.').next()?;
    (!module.is_empty()).then(|| {
        if parent.is_empty() {
            format!("{module}.py")
        } else {
            format!("{parent}/{module}.py")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::{LayerPath, PathFlags};

    fn entry(ordinal: u64, path: &str, kind: EntryKind) -> EntryMeta {
        EntryMeta {
            ordinal,
            path: LayerPath::new(path.as_bytes()).0,
            flags: PathFlags::default(),
            kind,
            size: 0,
            mode: 0o644,
        }
    }

    #[test]
    fn merged_usr_symlinks_resolve_and_loops_do_not_hang() {
        let layer = vec![
            entry(0, "usr/lib", EntryKind::Dir),
            entry(1, "lib", EntryKind::Symlink { target: b"usr/lib".to_vec() }),
            entry(2, "bin", EntryKind::Symlink { target: b"/usr/bin".to_vec() }),
            entry(3, "a", EntryKind::Symlink { target: b"b".to_vec() }),
            entry(4, "b", EntryKind::Symlink { target: b"a".to_vec() }),
            entry(5, "up", EntryKind::Symlink { target: b"../../..".to_vec() }),
        ];
        let lc = Lifecycle::resolve(&[&layer]);
        let r = SymlinkResolver::new(&[&layer], &lc);
        assert_eq!(r.resolve("/lib/x86_64-linux-gnu/libc.so.6"), "usr/lib/x86_64-linux-gnu/libc.so.6");
        assert_eq!(r.resolve("bin/ls"), "usr/bin/ls");
        assert_eq!(r.resolve("lib"), "lib", "the last component is the file itself");
        assert_eq!(r.resolve("a/x"), "a/x", "a loop leaves the path as it was");
        assert_eq!(r.resolve("up/x"), "up/x");
        assert_eq!(r.resolve("usr/lib/x"), "usr/lib/x");
    }

    #[test]
    fn bytecode_maps_to_its_source() {
        let b = bytecode_source;
        assert_eq!(
            b("usr/lib/py/jwt/__pycache__/api.cpython-311.pyc").as_deref(),
            Some("usr/lib/py/jwt/api.py")
        );
        assert_eq!(b("x/__pycache__/m.cpython-312.opt-1.pyc").as_deref(), Some("x/m.py"));
        assert_eq!(b("x/m.pyc"), None);
        assert_eq!(b("x/__pycache__/m.txt"), None);
    }
}
