//! Hands the file contents of one layer from the thread that walks it (decompression, tar,
//! digests) to a thread that scans them, so both run at once.
//!
//! The walker copies each file into fixed-size chunks ([`CHUNK`] bytes); small files share a
//! chunk. At most [`CHUNKS`] chunks exist per layer: full ones go to the scanning side through a
//! channel and come back empty through a second one, so memory stays bounded however large the
//! layer is and the walker waits when the scanner falls behind. On the scanning side, [`Feed`]
//! yields one file at a time and [`FileReader`] reads that file's bytes, then the same end the
//! walker saw: end of file, or the read error (same kind and message).

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use crate::format::ReportedByWalk;
use crate::layer::LayerPath;

/// Bytes per chunk.
pub(super) const CHUNK: usize = 256 << 10;
/// Chunks per layer, in flight or being filled or read.
pub(super) const CHUNKS: usize = 8;
/// Files that may start in one chunk, so a run of empty files still moves along.
const MAX_STARTS: usize = 1024;

/// The file a run of chunk bytes belongs to.
pub(super) struct FileStart {
    /// The entry's ordinal in the layer.
    pub ordinal: u64,
    /// The entry's path.
    pub path: LayerPath,
    /// The entry's declared size.
    pub size: u64,
}

/// How a file's content ended on the walker's side.
enum End {
    Eof,
    /// The read error, kept as kind and message (an `io::Error` is not `Clone`), and whether
    /// the walk reports it itself ([`ReportedByWalk`]).
    Failed(io::ErrorKind, String, bool),
}

/// A run of bytes of one file inside a chunk. The first piece of a file carries `start`, its
/// last one carries `end`; a file longer than what is left of a chunk continues in the next.
struct Piece {
    start: Option<FileStart>,
    len: usize,
    end: Option<End>,
}

struct Chunk {
    buf: Box<[u8]>,
    filled: usize,
    starts: usize,
    pieces: Vec<Piece>,
}

/// A connected writer (walker side) and feed (scanning side).
pub(super) fn channel() -> (Writer, Feed) {
    let (tx, rx) = mpsc::sync_channel(CHUNKS);
    let (free_tx, free_rx) = mpsc::channel();
    let writer = Writer { tx, free: free_rx, cur: None, made: 0, gone: false };
    let feed = Feed { rx, free: free_tx, cur: None, idx: 0, pos: 0, left: 0, held: false };
    (writer, feed)
}

/// The walker's end: copies file contents into chunks.
pub(super) struct Writer {
    tx: SyncSender<Chunk>,
    free: Receiver<Chunk>,
    cur: Option<Chunk>,
    made: usize,
    /// The scanning side is gone (it can only end early by panicking); nothing more is copied.
    gone: bool,
}

impl Writer {
    /// Copies `content` to its end (or its first error) as the file `start`.
    pub(super) fn copy_file(&mut self, start: FileStart, content: &mut dyn Read) {
        let mut start = Some(start);
        loop {
            let Some(chunk) = self.room(start.is_some()) else { return };
            // A fresh chunk has no pieces; otherwise its last piece is this file's.
            if start.is_some() || chunk.pieces.is_empty() {
                if start.is_some() {
                    chunk.starts += 1;
                }
                chunk.pieces.push(Piece { start: start.take(), len: 0, end: None });
            }
            let read = content.read(&mut chunk.buf[chunk.filled..]);
            let Some(piece) = chunk.pieces.last_mut() else { return };
            match read {
                Ok(0) => {
                    piece.end = Some(End::Eof);
                    return;
                }
                Ok(n) => {
                    chunk.filled += n;
                    piece.len += n;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    piece.end = Some(End::Failed(e.kind(), e.to_string(), ReportedByWalk::is(&e)));
                    return;
                }
            }
        }
    }

    /// Sends what is left; the feed then ends after the last file.
    pub(super) fn finish(mut self) {
        if let Some(chunk) = self.cur.take().filter(|c| !c.pieces.is_empty()) {
            let _ = self.tx.send(chunk);
        }
    }

    /// The chunk being filled, with room for a byte (and for a file start when `starting`); a
    /// full one is sent first. `None` once the scanning side is gone.
    fn room(&mut self, starting: bool) -> Option<&mut Chunk> {
        if self.gone {
            return None;
        }
        let full = |c: &Chunk| c.filled == c.buf.len() || (starting && c.starts >= MAX_STARTS);
        if let Some(chunk) = self.cur.take_if(|c| full(c)) {
            if self.tx.send(chunk).is_err() {
                self.gone = true;
                return None;
            }
        }
        if self.cur.is_none() {
            let chunk = match self.free.try_recv() {
                Ok(c) => c,
                Err(_) if self.made < CHUNKS => {
                    self.made += 1;
                    Chunk { buf: vec![0; CHUNK].into_boxed_slice(), filled: 0, starts: 0, pieces: Vec::new() }
                }
                Err(_) => match self.free.recv() {
                    Ok(c) => c,
                    Err(_) => {
                        self.gone = true;
                        return None;
                    }
                },
            };
            self.cur = Some(chunk);
        }
        let chunk = self.cur.as_mut()?;
        if chunk.pieces.is_empty() {
            chunk.filled = 0;
            chunk.starts = 0;
        }
        Some(chunk)
    }
}

/// The scanning end: yields the files in the order the walker copied them.
pub(super) struct Feed {
    rx: Receiver<Chunk>,
    free: Sender<Chunk>,
    cur: Option<Chunk>,
    /// Current piece of `cur`.
    idx: usize,
    /// Read position in `cur.buf`.
    pos: usize,
    /// Unread bytes of the current piece.
    left: usize,
    /// The current piece starts a file that [`Feed::next_file`] has not handed out yet.
    held: bool,
}

impl Feed {
    /// The next file; read its content with [`FileReader`]. `None` after the last one.
    pub(super) fn next_file(&mut self) -> Option<FileStart> {
        loop {
            if !std::mem::take(&mut self.held) && !self.advance() {
                return None;
            }
            // A piece without a start here would continue a file already finished: skipped.
            if let Some(start) = self.piece()?.start.take() {
                return Some(start);
            }
        }
    }

    /// Skips what the scanner did not read of the current file.
    pub(super) fn finish_file(&mut self) {
        while !self.held && self.piece().is_some_and(|p| p.end.is_none()) {
            self.step();
        }
    }

    fn piece(&mut self) -> Option<&mut Piece> {
        let idx = self.idx;
        self.cur.as_mut()?.pieces.get_mut(idx)
    }

    /// Moves to the next piece, receiving the next chunk (and returning the used one) when this
    /// one is done. `false` when the walker has finished.
    fn advance(&mut self) -> bool {
        self.pos += std::mem::take(&mut self.left);
        loop {
            if let Some(chunk) = &self.cur {
                if self.idx + 1 < chunk.pieces.len() {
                    self.idx += 1;
                    self.left = chunk.pieces[self.idx].len;
                    return true;
                }
            }
            if let Some(mut used) = self.cur.take() {
                used.pieces.clear();
                let _ = self.free.send(used);
            }
            let Ok(chunk) = self.rx.recv() else { return false };
            self.pos = 0;
            self.left = chunk.pieces.first().map_or(0, |p| p.len);
            self.idx = 0;
            let empty = chunk.pieces.is_empty();
            self.cur = Some(chunk);
            if !empty {
                return true;
            }
        }
    }

    /// Moves to the continuation of the current file. Stops at a piece that starts another file
    /// (which only an unfinished walker could leave) and keeps it for [`Feed::next_file`].
    fn step(&mut self) -> bool {
        if !self.advance() {
            return false;
        }
        if self.piece().is_some_and(|p| p.start.is_some()) {
            self.held = true;
            return false;
        }
        true
    }
}

/// The content of the file [`Feed::next_file`] returned last.
pub(super) struct FileReader<'a> {
    /// The feed the file comes from.
    pub feed: &'a mut Feed,
}

impl Read for FileReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let feed = &mut *self.feed;
        loop {
            if feed.held {
                return Ok(0);
            }
            let Some(chunk) = &feed.cur else { return Ok(0) };
            if feed.left > 0 {
                let n = feed.left.min(buf.len());
                let Some(src) = chunk.buf.get(feed.pos..feed.pos + n) else { return Ok(0) };
                buf[..n].copy_from_slice(src);
                feed.pos += n;
                feed.left -= n;
                return Ok(n);
            }
            match chunk.pieces.get(feed.idx).and_then(|p| p.end.as_ref()) {
                Some(End::Eof) => return Ok(0),
                Some(End::Failed(kind, message, true)) => return Err(ReportedByWalk::error(*kind, message)),
                Some(End::Failed(kind, message, false)) => {
                    return Err(io::Error::new(*kind, message.clone()))
                }
                None if chunk.pieces.get(feed.idx).is_none() => return Ok(0),
                None => {
                    if !feed.step() {
                        return Ok(0);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(n: u64) -> FileStart {
        FileStart { ordinal: n, path: LayerPath::new(format!("f{n}").as_bytes()).0, size: 0 }
    }

    fn data(len: usize, seed: u8) -> Vec<u8> {
        (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
    }

    /// Reads a file in pieces of at most `step` bytes; returns the bytes and the final error.
    fn read_all(r: &mut dyn Read, step: usize) -> (Vec<u8>, Option<io::Error>) {
        let mut out = Vec::new();
        let mut buf = vec![0u8; step];
        loop {
            match r.read(&mut buf) {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    /// Sends `files` through a channel on two threads; the reader reads each file in `step`
    /// pieces, or only its first `partial` bytes when set.
    fn round_trip(files: &[Vec<u8>], step: usize, partial: Option<usize>) -> Vec<(u64, Vec<u8>)> {
        let (mut w, mut feed) = channel();
        std::thread::scope(|s| {
            let reader = s.spawn(move || {
                let mut got = Vec::new();
                while let Some(st) = feed.next_file() {
                    let mut r = FileReader { feed: &mut feed };
                    let bytes = match partial {
                        Some(p) => {
                            let mut b = vec![0u8; p];
                            let n = r.read(&mut b).unwrap_or(0);
                            b.truncate(n);
                            b
                        }
                        None => read_all(&mut r, step).0,
                    };
                    got.push((st.ordinal, bytes));
                    feed.finish_file();
                }
                got
            });
            for (n, f) in files.iter().enumerate() {
                w.copy_file(start(n as u64), &mut &f[..]);
            }
            w.finish();
            reader.join().unwrap()
        })
    }

    #[test]
    fn files_of_every_size_arrive_whole_and_in_order() {
        let sizes = [0, 1, 100, CHUNK - 1, CHUNK, CHUNK + 1, 0, 3 * CHUNK + 17, 5];
        let files: Vec<Vec<u8>> = sizes.iter().enumerate().map(|(i, &n)| data(n, i as u8)).collect();
        for step in [1, 7, 64, 1 << 20] {
            if step == 1 {
                // Byte by byte over the big files is slow and adds nothing over 7.
                let small: Vec<Vec<u8>> = files.iter().filter(|f| f.len() < 1000).cloned().collect();
                let got = round_trip(&small, step, None);
                assert_eq!(
                    got,
                    small.into_iter().enumerate().map(|(i, f)| (i as u64, f)).collect::<Vec<_>>()
                );
                continue;
            }
            let got = round_trip(&files, step, None);
            assert_eq!(got.len(), files.len(), "step {step}");
            for (i, (ord, bytes)) in got.iter().enumerate() {
                assert_eq!(*ord, i as u64);
                assert!(bytes == &files[i], "file {i} differs at step {step}");
            }
        }
    }

    #[test]
    fn unread_rest_of_a_file_is_skipped() {
        let files = vec![data(CHUNK * 2 + 3, 1), data(10, 2), data(CHUNK, 3), data(4, 4)];
        let got = round_trip(&files, 64, Some(5));
        let want: Vec<(u64, Vec<u8>)> =
            files.iter().enumerate().map(|(i, f)| (i as u64, f[..5.min(f.len())].to_vec())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn many_empty_files_span_chunks() {
        let files = vec![Vec::new(); MAX_STARTS * CHUNKS * 2 + 3];
        let got = round_trip(&files, 64, None);
        assert_eq!(got.len(), files.len());
        assert!(got.iter().enumerate().all(|(i, (o, b))| *o == i as u64 && b.is_empty()));
    }

    /// Yields `ok` bytes, then fails with a fixed error on every later call.
    struct Failing {
        ok: Vec<u8>,
        at: usize,
    }
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.at < self.ok.len() {
                let n = buf.len().min(self.ok.len() - self.at).min(1000);
                buf[..n].copy_from_slice(&self.ok[self.at..self.at + n]);
                self.at += n;
                return Ok(n);
            }
            Err(io::Error::new(io::ErrorKind::InvalidData, "corrupt deflate stream"))
        }
    }

    #[test]
    fn read_error_reaches_the_reader_after_the_bytes_before_it() {
        let (mut w, mut feed) = channel();
        let before = data(CHUNK + 500, 9);
        w.copy_file(start(0), &mut Failing { ok: before.clone(), at: 0 });
        w.copy_file(start(1), &mut &b"next"[..]);
        w.finish();
        assert_eq!(feed.next_file().map(|s| s.ordinal), Some(0));
        let mut r = FileReader { feed: &mut feed };
        let (bytes, err) = read_all(&mut r, 4096);
        assert!(bytes == before);
        let err = err.expect("the error is passed on");
        assert_eq!(
            (err.kind(), err.to_string()),
            (io::ErrorKind::InvalidData, "corrupt deflate stream".into())
        );
        // Like the walker's own content reader, the error repeats.
        assert!(r.read(&mut [0u8; 8]).is_err());
        feed.finish_file();
        assert_eq!(feed.next_file().map(|s| s.ordinal), Some(1));
        assert_eq!(read_all(&mut FileReader { feed: &mut feed }, 3).0, b"next");
        feed.finish_file();
        assert!(feed.next_file().is_none());
    }

    /// Blocking is the failure here: the writer runs on its own thread and the test fails when it
    /// has not finished within a minute, instead of hanging the test run.
    #[test]
    fn writer_does_not_block_when_the_reader_is_gone() {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let (mut w, feed) = channel();
            drop(feed);
            let big = data(CHUNK * (CHUNKS + 4), 5);
            w.copy_file(start(0), &mut &big[..]);
            w.copy_file(start(1), &mut &big[..]);
            w.finish();
            let _ = done.send(());
        });
        let waited = finished.recv_timeout(std::time::Duration::from_secs(60));
        assert!(waited.is_ok(), "the writer blocked with no reader: {waited:?}");
    }
}
