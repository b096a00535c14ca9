//! Readers that hash what passes through them, so digests are checked in the same pass that
//! consumes the data: [`HashingReader`] (inline, for blobs and documents) and [`DiffHasher`] (the
//! diff_id of a decompressed layer, computed beside the walk).
//!
//! For the diff_id:
//! SHA-256 runs at about the speed of inflate, so hashing the decompressed stream on the walking
//! thread would halve walk throughput. Past [`OFFLOAD_AFTER`] bytes the hash state moves to a
//! helper thread fed with copies of each chunk (a memcpy is an order of magnitude cheaper than
//! hashing); small layers never start a thread. Each byte is still read once from the decoder.

use std::io::{self, Read};
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use sha2::{Digest as _, Sha256};

use super::Digest;

/// A reader that computes the SHA-256 and the count of every byte read through it, so digests
/// are checked in the same pass that consumes the data.
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub(crate) fn new(inner: R) -> Self {
        HashingReader { inner, hasher: Sha256::new(), count: 0 }
    }

    /// Bytes read so far.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// Reads `inner` to its end (so the digest covers the whole stream, e.g. tar padding after
    /// the end-of-archive blocks) and returns the digest and byte count.
    #[cfg(test)]
    pub(crate) fn finish(mut self) -> io::Result<(Digest, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((Digest::from_sha256(self.hasher.finalize().into()), self.count))
    }

    /// The digest of what was read so far, without draining.
    pub(crate) fn digest_so_far(&self) -> Digest {
        Digest::from_sha256(self.hasher.clone().finalize().into())
    }

    /// The wrapped reader.
    pub(crate) fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// Bytes hashed inline before the hash moves to a helper thread.
const OFFLOAD_AFTER: u64 = 4 << 20;
/// Chunks in flight to the helper; bounds the memory it may lag behind by.
const QUEUE: usize = 8;

enum State {
    Inline(Sha256),
    Worker {
        tx: SyncSender<Vec<u8>>,
        back: Receiver<Vec<u8>>,
        handle: JoinHandle<Sha256>,
    },
    /// The helper thread died (it cannot panic in practice); no digest.
    Lost,
}

/// A reader computing the SHA-256 and count of every byte read through it.
pub(crate) struct DiffHasher<R> {
    inner: R,
    count: u64,
    state: State,
}

impl<R: Read> DiffHasher<R> {
    pub(crate) fn new(inner: R) -> Self {
        DiffHasher { inner, count: 0, state: State::Inline(Sha256::new()) }
    }

    /// Bytes read so far.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// The wrapped reader.
    pub(crate) fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The digest of everything read so far (waits for the helper thread, if any).
    pub(crate) fn digest(&mut self) -> Option<Digest> {
        let state = std::mem::replace(&mut self.state, State::Lost);
        let hasher = match state {
            State::Inline(h) => h,
            State::Worker { tx, handle, .. } => {
                drop(tx);
                handle.join().ok()?
            }
            State::Lost => return None,
        };
        let digest = Digest::from_sha256(hasher.clone().finalize().into());
        self.state = State::Inline(hasher);
        Some(digest)
    }

    /// Moves the hash state to a helper thread; stays inline if no thread can be started.
    fn offload(&mut self) {
        let State::Inline(hasher) = std::mem::replace(&mut self.state, State::Lost) else { return };
        let (tx, rx) = sync_channel::<Vec<u8>>(QUEUE);
        let (back_tx, back) = channel::<Vec<u8>>();
        let spawned = std::thread::Builder::new().name("layerleak-diff-id".into()).spawn({
            let mut hasher = hasher.clone();
            move || {
                for chunk in rx {
                    hasher.update(&chunk);
                    // The walk may be gone already; the buffer is then simply dropped.
                    let _ = back_tx.send(chunk);
                }
                hasher
            }
        });
        self.state = match spawned {
            Ok(handle) => State::Worker { tx, back, handle },
            Err(_) => State::Inline(hasher),
        };
    }
}

impl<R: Read> Read for DiffHasher<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            return Ok(0);
        }
        self.count += n as u64;
        match &mut self.state {
            State::Inline(h) => {
                h.update(&buf[..n]);
                if self.count >= OFFLOAD_AFTER {
                    self.offload();
                }
            }
            State::Worker { tx, back, .. } => {
                let mut chunk = back.try_recv().unwrap_or_default();
                chunk.clear();
                chunk.extend_from_slice(&buf[..n]);
                if tx.send(chunk).is_err() {
                    self.state = State::Lost;
                }
            }
            State::Lost => {}
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_reader_matches_one_shot_digest() {
        let data = b"hello layer".repeat(1000);
        let mut r = HashingReader::new(&data[..]);
        let mut buf = [0u8; 7];
        let _ = r.read(&mut buf).unwrap();
        let (d, n) = r.finish().unwrap();
        assert_eq!(n, data.len() as u64);
        assert_eq!(d, Digest::sha256_of(&data));
        assert_eq!(
            Digest::sha256_of(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn digest_matches_inline_and_offloaded() {
        for len in [0usize, 1000, (OFFLOAD_AFTER as usize) + 12_345, 3 * OFFLOAD_AFTER as usize] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let mut r = DiffHasher::new(&data[..]);
            let mut buf = vec![0u8; 70_000];
            while r.read(&mut buf).unwrap() > 0 {}
            assert_eq!(r.count(), len as u64);
            assert_eq!(r.digest(), Some(Digest::sha256_of(&data)), "len {len}");
            // Asking twice gives the same answer.
            assert_eq!(r.digest(), Some(Digest::sha256_of(&data)));
        }
    }
}
