//! Test data built in memory, shared by the integration tests: tars of regular files, gzip, and
//! a gzip layer with its diff_id. Tests that need other entry kinds (links, whiteout directories,
//! hostile headers) build those themselves.

use std::io::Write;

use layerleak::digest::Digest;

/// A tar of regular files (GNU headers, mode 0644, a fixed mtime), in the order given (a path may
/// repeat; a `.wh.` name is a whiteout).
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, path, *data).expect("tar in memory");
    }
    b.into_inner().expect("tar in memory")
}

/// `data`, gzipped fast.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    gzip_at(data, flate2::Compression::fast())
}

/// `data`, gzipped at `level` (`best` where the ratio matters, as for a gzip bomb).
pub fn gzip_at(data: &[u8], level: flate2::Compression) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), level);
    e.write_all(data).expect("gzip in memory");
    e.finish().expect("gzip in memory")
}

/// A gzip layer of regular `files` ([`tar_of`]) and its diff_id (the digest of the tar).
pub fn gzip_layer(files: &[(&str, &[u8])]) -> (Vec<u8>, Digest) {
    let tar = tar_of(files);
    let diff_id = Digest::sha256_of(&tar);
    (gzip(&tar), diff_id)
}
