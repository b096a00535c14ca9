//! The decoder stack over a layer blob, its compression recognized from magic bytes
//! ([`crate::format`]; OCI image spec, "Image Layer Filesystem Changeset": `tar`, `tar+gzip`,
//! `tar+zstd`).
//!
//! # Security
//! The media type in a manifest is a claim; the bytes decide. Decoders are streaming: memory is
//! bounded by their window, never by the (untrusted) decompressed size.

use std::io::{self, BufReader, Chain, Cursor, Read};

use crate::digest::HashingReader;
use crate::format::{detect_compression, Compression, MAGIC_LEN};

/// The raw blob as read: the sniffed head put back in front of the rest, every byte hashed.
pub(crate) type BlobStream<'a> = Chain<Cursor<Vec<u8>>, RawBlob<'a>>;

/// The caller's blob, hashed (blob digest) and counted.
pub(crate) type RawBlob<'a> = HashingReader<RawReader<'a>>;

/// Opening a decoder failed: the error, and the blob back when the decoder did not take it.
pub(crate) type OpenError<'a> = (io::Error, Option<RawBlob<'a>>);

/// The caller's blob reader, counting bytes for progress and remembering whether it failed
/// (so a read error is told apart from a decoder error).
pub(crate) struct RawReader<'a> {
    inner: &'a mut dyn Read,
    progress: Option<&'a (dyn Fn(u64) + Sync)>,
    count: u64,
    reported: u64,
    pub(crate) failed: bool,
    /// The blob's declared size: reading stops one byte past it, which is enough to tell that
    /// the blob is longer, so a stream that never ends is read only that far.
    declared: Option<u64>,
}

/// Progress is reported at most once per this many compressed bytes.
const PROGRESS_STEP: u64 = 1 << 20;

impl<'a> RawReader<'a> {
    pub(crate) fn new(inner: &'a mut dyn Read, progress: Option<&'a (dyn Fn(u64) + Sync)>) -> Self {
        RawReader { inner, progress, count: 0, reported: 0, failed: false, declared: None }
    }

    /// Stops reading one byte past `size` bytes (the size the blob's descriptor declares).
    pub(crate) fn with_declared_size(mut self, size: Option<u64>) -> Self {
        self.declared = size;
        self
    }

    /// The declared size and the bytes read, when they disagree (only meaningful once the blob
    /// was read to its end).
    pub(crate) fn size_mismatch(&self) -> Option<(u64, u64)> {
        self.declared.filter(|&d| d != self.count).map(|d| (d, self.count))
    }

    /// Reports the final count, if it was not reported yet.
    pub(crate) fn report_final(&mut self) {
        if let Some(p) = self.progress {
            if self.reported != self.count || self.count == 0 {
                self.reported = self.count;
                p(self.count);
            }
        }
    }
}

impl Read for RawReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let room = match self.declared {
            Some(d) => (d + 1).saturating_sub(self.count).min(buf.len() as u64) as usize,
            None => buf.len(),
        };
        let buf = &mut buf[..room];
        if buf.is_empty() {
            return Ok(0);
        }
        let n = loop {
            match self.inner.read(buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.failed = true;
                    return Err(e);
                }
            }
        };
        self.count += n as u64;
        if let Some(p) = self.progress {
            if self.count - self.reported >= PROGRESS_STEP {
                self.reported = self.count;
                p(self.count);
            }
        }
        Ok(n)
    }
}

/// The decompressed stream over a blob.
pub(crate) enum Decoder<'a> {
    /// Plain tar.
    Plain(Box<BlobStream<'a>>),
    /// gzip, all members.
    Gzip(Box<flate2::read::MultiGzDecoder<BlobStream<'a>>>),
    /// zstd, all frames.
    Zstd(Box<zstd::stream::read::Decoder<'static, BufReader<BlobStream<'a>>>>),
}

impl<'a> Decoder<'a> {
    /// Sniffs the head of `raw` and builds the matching decoder.
    pub(crate) fn open(mut raw: RawBlob<'a>) -> (Compression, Result<Decoder<'a>, OpenError<'a>>) {
        let mut head = vec![0u8; MAGIC_LEN];
        let mut got = 0;
        while got < MAGIC_LEN {
            match raw.read(&mut head[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return (Compression::None, Err((e, Some(raw)))),
            }
        }
        head.truncate(got);
        let compression = detect_compression(&head);
        let stream = Cursor::new(head).chain(raw);
        let decoder = match compression {
            Compression::None => Decoder::Plain(Box::new(stream)),
            Compression::Gzip => Decoder::Gzip(Box::new(flate2::read::MultiGzDecoder::new(stream))),
            Compression::Zstd => match zstd::stream::read::Decoder::new(stream) {
                Ok(d) => Decoder::Zstd(Box::new(d)),
                // The zstd context could not be created (out of memory); the decoder took the
                // stream with it, so the blob cannot be drained.
                Err(e) => return (compression, Err((e, None))),
            },
        };
        (compression, Ok(decoder))
    }

    /// The hashing blob reader under the decoder (bytes a decoder buffered are already hashed).
    pub(crate) fn blob_mut(&mut self) -> &mut RawBlob<'a> {
        match self {
            Decoder::Plain(s) => s.get_mut().1,
            Decoder::Gzip(d) => d.get_mut().get_mut().1,
            Decoder::Zstd(d) => d.get_mut().get_mut().get_mut().1,
        }
    }
}

impl Read for Decoder<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Plain(s) => s.read(buf),
            Decoder::Gzip(d) => d.read(buf),
            Decoder::Zstd(d) => d.read(buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_from_magic_bytes_only() {
        assert_eq!(detect_compression(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(detect_compression(&[0x28, 0xb5, 0x2f, 0xfd, 0]), Compression::Zstd);
        assert_eq!(detect_compression(&[0x28, 0xb5, 0x2f]), Compression::None);
        assert_eq!(detect_compression(b"etc/passwd\0"), Compression::None);
        assert_eq!(detect_compression(b""), Compression::None);
        assert_eq!(serde_json::to_string(&Compression::Zstd).unwrap(), "\"zstd\"");
    }

    #[test]
    fn progress_is_throttled_and_final_count_reported() {
        let calls = std::sync::Mutex::new(Vec::new());
        let cb = |n: u64| calls.lock().unwrap().push(n);
        let data = vec![7u8; 3 * (1 << 20) + 5];
        let mut src = &data[..];
        let mut r = RawReader::new(&mut src, Some(&cb));
        io::copy(&mut r, &mut io::sink()).unwrap();
        r.report_final();
        let calls = calls.into_inner().unwrap();
        assert!(calls.len() <= 4, "{calls:?}");
        assert_eq!(calls.last(), Some(&(data.len() as u64)));
    }
}
