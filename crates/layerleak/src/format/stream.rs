//! Stream plumbing shared by the readers: reading a buffer full, and the `io::Error` payloads
//! that tell a reader further down that a failure is already reported (so it is recorded once).

use std::io::{self, Read};

/// Reads until `buf` is full or the stream ends; returns the bytes read.
pub(crate) fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// The error an archive member's reader (`image`'s section of a `docker save` archive) ends with when the file ends before the member does. The archive
/// reports the truncation once ([`crate::Error::Truncated`], from the index); readers that meet this
/// error (a layer walk) know it is already reported.
#[derive(Debug)]
pub(crate) struct MemberCut;

impl std::fmt::Display for MemberCut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("archive member ends early")
    }
}

impl std::error::Error for MemberCut {}

impl MemberCut {
    /// Whether `e` is, or carries, a [`MemberCut`].
    pub(crate) fn is(e: &io::Error) -> bool {
        e.get_ref().is_some_and(|inner| inner.is::<MemberCut>())
    }
}

/// The error a visitor reads when the layer stream fails inside its file: the walk records the
/// failure itself, so a visitor that records read errors skips this one ([`ReportedByWalk::is`]).
#[derive(Debug)]
pub(crate) struct ReportedByWalk(String);

impl std::fmt::Display for ReportedByWalk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReportedByWalk {}

impl ReportedByWalk {
    pub(crate) fn copy(e: &io::Error) -> io::Error {
        ReportedByWalk::error(e.kind(), &e.to_string())
    }

    /// The error a reader of the walk's content hands on (the pipelined scan's reader).
    pub(crate) fn error(kind: io::ErrorKind, message: &str) -> io::Error {
        io::Error::new(kind, ReportedByWalk(message.to_string()))
    }

    /// Whether `e` is a failure of the layer stream that the walk reports.
    pub(crate) fn is(e: &io::Error) -> bool {
        e.get_ref().is_some_and(|inner| inner.is::<ReportedByWalk>())
    }
}
