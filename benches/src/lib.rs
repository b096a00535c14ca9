//! Shared pieces of the layerleak benchmarks: locating (and if need be building) the large bench
//! images, reading their `planted.json`, and the raw-inflate floor every layer benchmark is
//! measured against.
//!
//! The images are not in git. `benches/make-image.py` builds them once from real files of the
//! machine into `target/bench-images/<size>/` (or `$LAYERLEAK_BENCH_DIR/<size>/`):
//!
//! ```text
//! oci/          OCI image layout
//! image.tar     Docker 25+ archive of the same image
//! layer.tar.gz  the biggest layer alone
//! planted.json  layers (digests, sizes) and planted secrets
//! ```

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

use flate2::read::MultiGzDecoder;
use rayon::prelude::*;
use serde::Deserialize;

/// Buffer used by every raw read loop here: large enough that syscall and call overhead vanish
/// next to inflate, small enough to stay in L2.
pub const READ_BUF: usize = 128 << 10;

/// Environment variable overriding where the bench images live.
pub const DIR_ENV: &str = "LAYERLEAK_BENCH_DIR";

/// Environment variable that, when set, stops the benches from building missing images.
pub const NO_BUILD_ENV: &str = "LAYERLEAK_BENCH_NO_BUILD";

/// Root of the workspace (the parent of this package).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// Directory holding one sub-directory per built image size.
pub fn bench_dir() -> PathBuf {
    match std::env::var_os(DIR_ENV) {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => workspace_root().join("target").join("bench-images"),
    }
}

/// One layer as recorded in `planted.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct PlantedLayer {
    /// Short name of the layer's source (`usr-lib`, `app`, ...).
    pub name: String,
    /// Digest of the compressed blob, `sha256:<hex>`.
    pub digest: String,
    /// Digest of the uncompressed tar, `sha256:<hex>`.
    pub diff_id: String,
    /// Compressed size in bytes.
    pub size: u64,
    /// Uncompressed tar size in bytes.
    pub uncompressed_size: u64,
    /// Tar entries in the layer.
    pub entries: u64,
}

/// One planted secret as recorded in `planted.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct PlantedSecret {
    /// Kind of secret (`github-pat`, `aws-access-key-id`, `aws-secret-access-key`, `private-key`).
    pub rule: String,
    /// The secret itself (synthetic).
    pub secret: String,
    /// Index of the layer that introduced it.
    pub layer: usize,
    /// Path in the layer, without a leading `/`.
    pub path: String,
    /// Byte offset of the secret in that file.
    pub offset: u64,
    /// Index of the layer that hides it, if any.
    pub hidden_by: Option<usize>,
    /// How it is hidden: `whiteout`, `opaque` or `overwrite`.
    pub hidden_how: Option<String>,
    /// Whether it is still in the final filesystem.
    pub visible: bool,
}

/// The parsed `planted.json` of one bench image.
#[derive(Debug, Clone, Deserialize)]
pub struct Planted {
    /// Size label (`0.5g`, `1g`, `2g`).
    pub label: String,
    /// Target size of all layer tars together, in bytes.
    pub target_bytes: u64,
    /// Tag in the archive's `manifest.json`.
    pub repo_tag: String,
    /// Layers in image order.
    pub layers: Vec<PlantedLayer>,
    /// Planted secrets.
    pub secrets: Vec<PlantedSecret>,
}

impl Planted {
    /// Parses a `planted.json` document.
    pub fn from_json(text: &str) -> serde_json::Result<Planted> {
        serde_json::from_str(text)
    }
}

/// A built bench image on disk.
#[derive(Debug, Clone)]
pub struct BenchImage {
    /// Directory of this size (`.../bench-images/1g`).
    pub dir: PathBuf,
    /// Its `planted.json`.
    pub planted: Planted,
}

impl BenchImage {
    /// Opens an image directory holding `planted.json`.
    pub fn open(dir: &Path) -> io::Result<BenchImage> {
        let text = std::fs::read_to_string(dir.join("planted.json"))?;
        let planted = Planted::from_json(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Ok(BenchImage { dir: dir.to_path_buf(), planted })
    }

    /// The OCI image layout directory.
    pub fn oci_dir(&self) -> PathBuf {
        self.dir.join("oci")
    }

    /// The Docker 25+ archive.
    pub fn archive(&self) -> PathBuf {
        self.dir.join("image.tar")
    }

    /// The biggest layer alone, gzip-compressed.
    pub fn single_layer(&self) -> PathBuf {
        self.dir.join("layer.tar.gz")
    }

    /// The layer recorded as the biggest (the one in [`BenchImage::single_layer`]).
    pub fn biggest_layer(&self) -> Option<&PlantedLayer> {
        self.planted.layers.iter().max_by_key(|l| l.uncompressed_size)
    }

    /// Paths of every layer blob, in image order.
    pub fn layer_blobs(&self) -> Vec<PathBuf> {
        self.planted.layers.iter().map(|l| blob_path(&self.oci_dir(), &l.digest)).collect()
    }

    /// Uncompressed bytes of all layers together.
    pub fn uncompressed_total(&self) -> u64 {
        self.planted.layers.iter().map(|l| l.uncompressed_size).sum()
    }

    /// Compressed bytes of all layers together.
    pub fn compressed_total(&self) -> u64 {
        self.planted.layers.iter().map(|l| l.size).sum()
    }
}

/// Path of a blob `sha256:<hex>` inside an OCI layout directory.
pub fn blob_path(oci: &Path, digest: &str) -> PathBuf {
    let (alg, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
    oci.join("blobs").join(alg).join(hex)
}

/// The bench image of size `label`, building it with `make-image.py` if it is missing (unless
/// `LAYERLEAK_BENCH_NO_BUILD` is set). `None`, with a message on stderr saying how to build it,
/// when it cannot be had.
pub fn image(label: &str) -> Option<BenchImage> {
    let dir = bench_dir().join(label);
    if let Ok(img) = BenchImage::open(&dir) {
        return Some(img);
    }
    let script = workspace_root().join("benches").join("make-image.py");
    if std::env::var_os(NO_BUILD_ENV).is_none() {
        eprintln!("bench image {label} missing; building it (takes minutes)");
        let status = Command::new("python3").arg(&script).arg(label).arg("--out").arg(bench_dir()).status();
        match status {
            Ok(s) if s.success() => match BenchImage::open(&dir) {
                Ok(img) => return Some(img),
                Err(e) => eprintln!("built image {label} unreadable: {e}"),
            },
            Ok(s) => eprintln!("make-image.py {label} failed: {s}"),
            Err(e) => eprintln!("cannot run python3: {e}"),
        }
    }
    eprintln!(
        "skipping: no bench image {label} in {}; build it with `python3 {} {label}`",
        bench_dir().display(),
        script.display()
    );
    None
}

/// Inflates a gzip stream to nothing and returns the decompressed byte count: the floor any layer
/// walk pays (read + inflate), with no hashing, no tar parsing and no detection.
pub fn inflate_reader(r: impl Read) -> io::Result<u64> {
    let mut dec = MultiGzDecoder::new(BufReader::with_capacity(READ_BUF, r));
    drain(&mut dec)
}

/// [`inflate_reader`] over a file.
pub fn inflate(path: &Path) -> io::Result<u64> {
    inflate_reader(File::open(path)?)
}

/// Reads `r` to its end into a fixed buffer and returns the bytes read.
pub fn drain(r: &mut dyn Read) -> io::Result<u64> {
    let mut buf = vec![0u8; READ_BUF];
    let mut total = 0u64;
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Inflates every blob in `paths` on the current rayon pool; returns the total decompressed bytes.
pub fn inflate_all(paths: &[PathBuf]) -> io::Result<u64> {
    paths.par_iter().map(|p| inflate(p)).try_reduce(|| 0, |a, b| Ok(a + b))
}

/// A rayon pool of `threads` workers, for runs that must not depend on the machine's core count.
pub fn pool(threads: usize) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new().num_threads(threads.max(1)).build()
}

/// Real file contents for the detector benchmarks, read into memory once.
#[derive(Debug, Default)]
pub struct Corpus {
    /// One entry per regular file, in tar order: its path in the layer and its contents.
    pub files: Vec<(Vec<u8>, Vec<u8>)>,
    /// Files whose first 8 KiB hold a NUL byte (binaries).
    pub binary_files: usize,
}

impl Corpus {
    /// Total bytes of all files.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|(_, f)| f.len() as u64).sum()
    }

    /// Reads the regular files of a gzip layer tar, in order, until at least `min_bytes` are held
    /// (or the layer ends).
    pub fn from_layer(r: impl Read, min_bytes: u64) -> io::Result<Corpus> {
        let mut corpus = Corpus::default();
        corpus.add_layer(r, min_bytes)?;
        Ok(corpus)
    }

    /// Appends the regular files of a gzip layer tar, in order, until `min_bytes` more are held
    /// (or the layer ends).
    pub fn add_layer(&mut self, r: impl Read, min_bytes: u64) -> io::Result<()> {
        let dec = MultiGzDecoder::new(BufReader::with_capacity(READ_BUF, r));
        let mut archive = tar::Archive::new(dec);
        let mut total = 0u64;
        for entry in archive.entries()? {
            let mut entry = entry?;
            if entry.header().entry_type() != tar::EntryType::Regular || entry.size() == 0 {
                continue;
            }
            let mut data = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
            entry.read_to_end(&mut data)?;
            if memchr::memchr(0, &data[..data.len().min(8192)]).is_some() {
                self.binary_files += 1;
            }
            total += data.len() as u64;
            self.files.push((entry.path_bytes().into_owned(), data));
            if total >= min_bytes {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::new(6));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn inflate_counts_every_decompressed_byte() {
        let data: Vec<u8> = (0..3 * READ_BUF + 17).map(|i| (i * 31 % 251) as u8).collect();
        assert_eq!(inflate_reader(&gz(&data)[..]).unwrap(), data.len() as u64);
    }

    #[test]
    fn inflate_reads_concatenated_gzip_members() {
        let mut two = gz(b"hello ");
        two.extend(gz(b"world"));
        assert_eq!(inflate_reader(&two[..]).unwrap(), 11);
    }

    #[test]
    fn inflate_reports_corrupt_input() {
        let mut bad = gz(&[7u8; 100_000]);
        let mid = bad.len() / 2;
        bad.truncate(mid);
        assert!(inflate_reader(&bad[..]).is_err());
    }

    #[test]
    fn inflate_all_sums_files() {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = (0..3)
            .map(|i| {
                let p = dir.path().join(format!("b{i}"));
                std::fs::write(&p, gz(&vec![b'x'; 1000 * (i + 1)])).unwrap();
                p
            })
            .collect();
        assert_eq!(pool(2).unwrap().install(|| inflate_all(&paths)).unwrap(), 6000);
    }

    #[test]
    fn corpus_keeps_regular_files_until_the_byte_goal() {
        let mut b = tar::Builder::new(Vec::new());
        let mut add = |name: &str, data: &[u8], kind: tar::EntryType| {
            let mut h = tar::Header::new_ustar();
            h.set_entry_type(kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, name, data).unwrap();
        };
        add("d/", b"", tar::EntryType::Directory);
        add("d/text", &[b'a'; 600], tar::EntryType::Regular);
        add("d/bin", &[0u8; 500], tar::EntryType::Regular);
        add("d/more", &[b'b'; 700], tar::EntryType::Regular);
        let layer = gz(&b.into_inner().unwrap());
        let c = Corpus::from_layer(&layer[..], 1000).unwrap();
        assert_eq!(c.files.len(), 2);
        assert_eq!(c.bytes(), 1100);
        assert_eq!(c.binary_files, 1);
        assert_eq!(c.files[1].0, b"d/bin");
        assert_eq!(Corpus::from_layer(&layer[..], u64::MAX).unwrap().bytes(), 1800);
    }

    #[test]
    fn planted_json_parses_and_finds_the_biggest_layer() {
        let text = r#"{"label":"1g","target_bytes":1000,"repo_tag":"x:1g","recipe":1,
            "layers":[
              {"name":"a","digest":"sha256:aa","diff_id":"sha256:da","size":5,"uncompressed_size":10,"entries":2,"created_by":"x"},
              {"name":"b","digest":"sha256:bb","diff_id":"sha256:db","size":50,"uncompressed_size":900,"entries":9,"created_by":"y"}],
            "secrets":[{"rule":"github-pat","secret":"ghp_x","layer":1,"path":"a/b","offset":3,
              "hidden_by":null,"hidden_how":null,"visible":true}]}"#;
        let img = BenchImage { dir: PathBuf::from("img"), planted: Planted::from_json(text).unwrap() };
        assert_eq!(img.biggest_layer().map(|l| l.name.as_str()), Some("b"));
        assert_eq!(img.uncompressed_total(), 910);
        assert_eq!(img.compressed_total(), 55);
        assert_eq!(img.layer_blobs()[1], Path::new("img/oci/blobs/sha256/bb"));
        assert!(img.planted.secrets[0].visible);
    }
}
