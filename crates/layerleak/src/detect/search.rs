//! The window searcher: one plain (non-archive) stream, read in fixed windows; in each window
//! the keyword search, then each hit rule's regex in bounded regions around its hits, then the
//! rule's gates ([`super::policy`]), then the findings to the sink.
//!
//! When a window is refilled its last `overlap + CTX` bytes are kept (`overlap` = the longest
//! match any rule can produce, capped). A match is reported by the window in which its start lies
//! before `len - overlap` (or by the final window), so a secret across a window boundary is found
//! exactly once, and every reported match lies whole inside the window that reports it.
//!
//! The searcher knows nothing of archives: [`super::nested`] decides what a stream is and hands
//! each plain stream (a file, an archive member) to [`Detector::scan_plain`] with the
//! [`ScanState`] of the scan.
//!
//! # Security
//!
//! Input is untrusted: memory per stream is one window plus bookkeeping whatever its size (bytes
//! per file are capped only when [`crate::Limits::max_file_bytes`] is set), regex work is bounded
//! to regions around keyword hits, and read errors become [`Error`]s, never panics.

use std::io::{self, Read};
use std::ops::ControlFlow;
use std::sync::{Arc, Weak};

use regex_automata::meta::{Cache, Regex};
use regex_automata::util::captures::Captures;
use regex_automata::{Anchored, Input};

use super::allowlist::Candidate;
use super::engine::{Detector, Match, ScanOutcome};
use super::entropy::shannon_entropy;
use super::lead::is_word_byte;
use super::policy::Pending;
use super::rule::compile_search;
use super::validate::Validation;
use crate::error::{At, Error};
use crate::format::ReportedByWalk;
use crate::Skipped;

/// Bytes of left context kept before the report boundary, so `\b` and friends see the byte
/// before a match that starts right at the boundary.
pub(super) const CTX: usize = 16;
/// Bytes looked at to decide whether a file is text.
const TEXT_SNIFF: usize = 8 << 10;

/// Per-thread buffers, reused across scans. Create one per worker.
#[derive(Debug, Default)]
pub struct Scratch {
    pub(super) buf: Vec<u8>,
    regions: Vec<Vec<(usize, usize)>>,
    touched: Vec<usize>,
    active: Vec<bool>,
    pending: Vec<Pending>,
    /// Secret spans matched by provider (non-generic) rules in the current window, kept or not.
    claims: Vec<(usize, usize)>,
    /// Matches (rule, start) of rules that composite rules require, in the whole window.
    near: Vec<(usize, usize)>,
    /// Per pairing of the detector, the last partner seen in an earlier window of the stream.
    partners: Vec<Option<(u64, String)>>,
    /// Per rule, its search cache and capture slots, made on the rule's first run.
    searches: Vec<Option<RuleSearch>>,
    /// The detector `searches` belong to.
    owner: Weak<()>,
}

/// One rule regex's search state on one thread.
#[derive(Debug)]
struct RuleSearch {
    cache: Cache,
    caps: Captures,
}

impl Scratch {
    /// Empty buffers; they grow on first use.
    pub fn new() -> Scratch {
        Scratch::default()
    }
}

/// State of one [`Detector::scan_reader`] call, which every plain stream of it (the file, the
/// members of archives in it) reports into: the sink, errors and notes, and where the scan is.
pub(crate) struct ScanState<'a> {
    scratch: &'a mut Scratch,
    sink: &'a mut dyn FnMut(Match) -> ControlFlow<()>,
    errors: Vec<Error>,
    /// Streams cut at `max_file_bytes`.
    skipped: Vec<Skipped>,
    /// Member path chain inside nested archives.
    inner: Vec<String>,
    /// The name of the outermost stream.
    outer: String,
    stopped: bool,
}

impl<'a> ScanState<'a> {
    /// A scan of the stream named `outer`.
    pub(super) fn new(
        scratch: &'a mut Scratch,
        sink: &'a mut dyn FnMut(Match) -> ControlFlow<()>,
        outer: &[u8],
    ) -> ScanState<'a> {
        ScanState {
            scratch,
            sink,
            errors: Vec::new(),
            skipped: Vec::new(),
            inner: Vec::new(),
            outer: String::from_utf8_lossy(outer).into_owned(),
            stopped: false,
        }
    }

    /// What the scan did, `bytes` read from the caller's stream.
    pub(super) fn finish(self, bytes: u64) -> ScanOutcome {
        ScanOutcome { bytes, errors: self.errors, skipped: self.skipped, stopped: self.stopped }
    }

    /// Where we are: the outer name, then `!member` for each archive level.
    pub(crate) fn at(&self) -> At {
        let mut path = self.outer.clone();
        for member in &self.inner {
            path.push('!');
            path.push_str(member);
        }
        At::none().with_path(path)
    }

    /// Records `e`, unless it is a failure of the layer stream itself (read through a file or
    /// an archive in it), which the layer walk reports once.
    pub(crate) fn error(&mut self, e: Error) {
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            if s.downcast_ref::<io::Error>().is_some_and(ReportedByWalk::is) || s.is::<ReportedByWalk>() {
                return;
            }
            source = s.source();
        }
        self.errors.push(e);
    }

    /// Enters the archive member `member`: findings and errors name it until [`ScanState::leave`].
    pub(super) fn enter(&mut self, member: String) {
        self.inner.push(member);
    }

    /// Leaves the member last entered.
    pub(super) fn leave(&mut self) {
        self.inner.pop();
    }
}

/// Position of the current window in its stream.
struct Stream {
    /// Absolute offset of `buf[0]`.
    base: u64,
    /// Valid bytes in the buffer.
    len: usize,
    /// Matches starting before this absolute offset were reported by an earlier window.
    report_from: u64,
    /// Newlines before `base`.
    lines_before: u64,
    /// Bytes of the current line before `base`.
    col_carry: u64,
    /// Whether the stream looks like text (no NUL in its first 8 KiB).
    text: Option<bool>,
    /// The path of the outermost file when this stream is a member of an archive in it.
    outer: Option<String>,
}

/// The stream being read into windows.
struct Source<'r> {
    r: &'r mut dyn Read,
    /// Bytes read so far.
    total: u64,
    eof: bool,
    /// The digest of what was read, for path-only rules.
    digest: Option<sha2::Sha256>,
}

/// Where the matches of one window go.
struct Found<'a, 'w> {
    buf: &'w [u8],
    st: &'a Stream,
    limit: usize,
    name: &'a [u8],
    out: &'a mut Vec<Pending>,
    claims: &'a mut Vec<(usize, usize)>,
    near: &'a mut Vec<(usize, usize)>,
}

impl Detector {
    /// Scans `r` as plain bytes, window by window; `start` is the offset of its first byte in the
    /// enclosing stream (non-zero when a broken archive falls back to raw bytes part-way through).
    pub(crate) fn scan_plain(
        &self,
        scan: &mut ScanState<'_>,
        name: &[u8],
        r: &mut dyn Read,
        start: u64,
    ) -> ControlFlow<()> {
        self.prepare(scan.scratch, name);
        // Inside an archive, allowlist paths also see the archive's own path (a `^usr/share/doc/`
        // allowlist covers the members of `usr/share/doc/x/changelog.gz`).
        let outer = (!scan.inner.is_empty()).then(|| scan.outer.clone());
        let mut st = Stream {
            base: start,
            len: 0,
            report_from: start,
            lines_before: 0,
            col_carry: 0,
            text: None,
            outer,
        };
        let whole_file: Vec<usize> =
            self.path_only.iter().copied().filter(|&ri| scan.scratch.active[ri]).collect();
        let digest = (!whole_file.is_empty()).then(<sha2::Sha256 as sha2::Digest>::new);
        let mut src = Source { r, total: 0, eof: false, digest };
        loop {
            self.fill(scan, &mut st, &mut src);
            if st.text.is_none() {
                let buf = &scan.scratch.buf[..st.len];
                st.text = Some(memchr::memchr(0, &buf[..buf.len().min(TEXT_SNIFF)]).is_none());
            }
            if self.search_window(scan, &st, src.eof, name) == ControlFlow::Break(()) {
                scan.stopped = true;
                return ControlFlow::Break(());
            }
            if src.eof {
                return match src.digest {
                    Some(d) => self.emit_whole_file(scan, &whole_file, name, &st, d),
                    None => ControlFlow::Continue(()),
                };
            }
            self.slide(&mut scan.scratch.buf, &mut st);
        }
    }

    /// Readies `scratch` for a stream named `name`: the rules its path lets run, search caches
    /// of this detector, one window of buffer.
    fn prepare(&self, scratch: &mut Scratch, name: &[u8]) {
        let n_rules = self.compiled.len();
        scratch.active.clear();
        scratch.active.extend(self.compiled.iter().map(|c| c.path.as_ref().is_none_or(|p| p.is_match(name))));
        let token = Arc::downgrade(&self.token);
        if !scratch.owner.ptr_eq(&token) {
            scratch.searches.clear();
            scratch.owner = token;
        }
        if scratch.regions.len() < n_rules {
            scratch.regions.resize_with(n_rules, Vec::new);
        }
        if scratch.searches.len() < n_rules {
            scratch.searches.resize_with(n_rules, || None);
        }
        scratch.partners.clear();
        scratch.partners.resize(self.pairs.len(), None);
        scratch.buf.resize(self.window, 0);
    }

    /// Reads until the window is full or the stream ends (or reaches `max_file_bytes`, a note).
    fn fill(&self, scan: &mut ScanState<'_>, st: &mut Stream, src: &mut Source<'_>) {
        let cap = self.opts.limits.max_file_bytes;
        while st.len < self.window && !src.eof {
            let room = (self.window - st.len) as u64;
            let want = room.min(cap.saturating_sub(src.total)) as usize;
            if want == 0 {
                src.eof = true;
                let mut probe = [0u8; 1];
                if matches!(src.r.read(&mut probe), Ok(n) if n > 0) {
                    let at = scan.at();
                    scan.skipped.push(Skipped { at, scanned: cap, skipped: None });
                }
                break;
            }
            match src.r.read(&mut scan.scratch.buf[st.len..st.len + want]) {
                Ok(0) => src.eof = true,
                Ok(n) => {
                    if let Some(d) = &mut src.digest {
                        sha2::Digest::update(d, &scan.scratch.buf[st.len..st.len + n]);
                    }
                    st.len += n;
                    src.total += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let at = scan.at().with_offset(src.total);
                    scan.error(Error::io(at, "reading", e));
                    src.eof = true;
                }
            }
        }
    }

    /// Searches the window, applies the rules' policy to what matched and emits the findings.
    fn search_window(
        &self,
        scan: &mut ScanState<'_>,
        st: &Stream,
        eof: bool,
        name: &[u8],
    ) -> ControlFlow<()> {
        let limit = if eof { usize::MAX } else { st.len - self.overlap };
        let mut pending = std::mem::take(&mut scan.scratch.pending);
        pending.clear();
        self.find_in_window(scan.scratch, st, limit, name, &mut pending);
        let Scratch { buf, near, claims, partners, .. } = &mut *scan.scratch;
        self.settle(&buf[..st.len], st.base, near, claims, partners, &mut pending);
        let flow = self.emit(scan, st, &pending);
        scan.scratch.pending = pending;
        flow
    }

    /// Keeps the last `overlap + CTX` bytes and moves the report boundary.
    fn slide(&self, buf: &mut [u8], st: &mut Stream) {
        let keep = st.len.min(self.overlap + CTX);
        let drop = st.len - keep;
        let gone = &buf[..drop];
        st.lines_before += memchr::memchr_iter(b'\n', gone).count() as u64;
        st.col_carry = match memchr::memrchr(b'\n', gone) {
            Some(i) => (drop - i - 1) as u64,
            None => st.col_carry + drop as u64,
        };
        st.report_from = st.base + (st.len - self.overlap) as u64;
        buf.copy_within(drop..st.len, 0);
        st.base += drop as u64;
        st.len = keep;
    }
}

impl Detector {
    /// Runs the keyword search over the window ([`Detector::gather_regions`]), then each hit
    /// rule's regex: by anchored attempts at the starts its hits allow, or over merged regions
    /// around them.
    fn find_in_window(
        &self,
        scratch: &mut Scratch,
        st: &Stream,
        limit: usize,
        name: &[u8],
        out: &mut Vec<Pending>,
    ) {
        self.gather_regions(scratch, st.len);
        let Scratch { buf, regions, touched, claims, near, searches, .. } = scratch;
        let buf = &buf[..st.len];
        let mut found = Found { buf, st, limit, name, out, claims, near };
        for &ri in touched.iter() {
            let list = &mut regions[ri];
            let c = &self.compiled[ri];
            if let Some(regex) = c.regex.get_or_init(|| compile_search(&self.rules[ri].regex).ok()) {
                let search = searches[ri].get_or_insert_with(|| RuleSearch {
                    cache: regex.create_cache(),
                    caps: regex.create_captures(),
                });
                if c.anchored {
                    list.sort_unstable();
                    list.dedup();
                    self.run_anchored(ri, regex, search, list, &mut found);
                } else {
                    for &(s, e) in list.iter() {
                        self.run_region(ri, regex, search, (s, e), &mut found);
                    }
                }
            }
            list.clear();
        }
    }

    /// Rule `ri` at the hits `starts` (sorted): at each start from `lead` bytes before a hit up
    /// to the hit, an anchored search, the first that matches taken, and the next tried after its
    /// end: the leftmost-first matches an unanchored search over the hits' regions would find.
    fn run_anchored(
        &self,
        ri: usize,
        regex: &Regex,
        search: &mut RuleSearch,
        starts: &[(usize, usize)],
        found: &mut Found<'_, '_>,
    ) {
        let c = &self.compiled[ri];
        let mut next = 0;
        for &(hit, _) in starts {
            for p in hit.saturating_sub(c.lead).max(next)..=hit {
                let end = (p + c.max_len).min(found.buf.len());
                let input = Input::new(found.buf).range(p..end).anchored(Anchored::Yes);
                regex.search_captures_with(&mut search.cache, &input, &mut search.caps);
                next = p + 1;
                if let Some(m) = search.caps.get_match() {
                    next = if m.is_empty() { m.end() + 1 } else { m.end() };
                    self.confirm(ri, &search.caps, found);
                    break;
                }
            }
        }
    }

    /// Rule `ri` over `buf[s..e]`, every leftmost-first match (the bytes around the region are
    /// the look-behind and look-ahead context).
    fn run_region(
        &self,
        ri: usize,
        regex: &Regex,
        search: &mut RuleSearch,
        (s, e): (usize, usize),
        found: &mut Found<'_, '_>,
    ) {
        let mut input = Input::new(found.buf).range(s..e);
        loop {
            regex.search_captures_with(&mut search.cache, &input, &mut search.caps);
            let Some(m) = search.caps.get_match() else { break };
            self.confirm(ri, &search.caps, found);
            let next = if m.is_empty() { m.end() + 1 } else { m.end() };
            if next > e {
                break;
            }
            input.set_start(next);
        }
    }

    /// A match of rule `ri` (its groups in `caps`): a provider rule's match claims its secret's
    /// span in `claims` whether or not it is kept, so that a generic rule does not report what a
    /// provider rule recognised (and perhaps rejected as a placeholder or a bad checksum); kept
    /// when the window owns its start and [`Detector::check`] passes it.
    fn confirm(&self, ri: usize, caps: &Captures, found: &mut Found<'_, '_>) {
        let c = &self.compiled[ri];
        let group = if c.first_group {
            (1..caps.group_len()).find_map(|g| caps.get_group(g).filter(|s| !s.is_empty()))
        } else {
            caps.get_group(c.group)
        };
        let (Some(m), Some(secret)) = (caps.get_match(), group) else { return };
        if secret.is_empty() {
            return;
        }
        if !c.generic {
            found.claims.push((secret.start, secret.end));
        }
        // Partition by match start: the window that owns a match sees all of it. A rule that
        // composite rules require is looked at in the whole window, for them.
        let abs = found.st.base + m.start() as u64;
        let owned = abs >= found.st.report_from && m.start() < found.limit;
        if !owned && !c.component {
            return;
        }
        let names = (found.name, found.st.outer.as_deref().map(str::as_bytes));
        if let Some(p) = self.check(ri, found.buf, (secret.start, secret.end), (m.start(), m.end()), names) {
            if c.component {
                found.near.push((ri, p.start));
            }
            if owned {
                found.out.push(p);
            }
        }
    }

    /// The findings of path-only rules `rules` on the file just read: its secret is the digest
    /// of what was read of it (`sha256:<hex>`), so the same file in two layers is one secret.
    fn emit_whole_file(
        &self,
        scan: &mut ScanState<'_>,
        rules: &[usize],
        name: &[u8],
        st: &Stream,
        digest: sha2::Sha256,
    ) -> ControlFlow<()> {
        let secret = format!("sha256:{}", crate::digest::hex(&sha2::Digest::finalize(digest))).into_bytes();
        let cand = Candidate {
            secret: &secret,
            whole: &[],
            line: &[],
            path: name,
            outer: st.outer.as_deref().map(str::as_bytes),
        };
        for &ri in rules {
            if (self.rules[ri].hidden && !self.opts.report_hidden)
                || self.allowlists(ri).any(|a| a.allows(&cand))
            {
                continue;
            }
            let m = Match {
                rule: ri,
                secret: secret.clone(),
                offset: 0,
                line: None,
                column: None,
                entropy: shannon_entropy(&secret),
                validation: Validation::Unknown,
                inner: scan.inner.clone(),
                note: Some("the whole file: the path matched a path-only rule".into()),
            };
            if (scan.sink)(m) == ControlFlow::Break(()) {
                scan.stopped = true;
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }

    /// Sends the window's findings `pending` to the sink, with their lines and columns.
    fn emit(&self, scan: &mut ScanState<'_>, st: &Stream, pending: &[Pending]) -> ControlFlow<()> {
        let buf = &scan.scratch.buf[..st.len];
        let text = st.text == Some(true);
        let (mut cursor, mut lines) = (0usize, st.lines_before);
        for p in pending {
            if self.rules[p.rule].hidden && !self.opts.report_hidden {
                continue;
            }
            let (line, column) = if text {
                lines += memchr::memchr_iter(b'\n', &buf[cursor..p.start]).count() as u64;
                cursor = p.start;
                let column = match memchr::memrchr(b'\n', &buf[..p.start]) {
                    Some(i) => (p.start - i) as u64,
                    None => st.col_carry + p.start as u64 + 1,
                };
                (Some(lines + 1), Some(column))
            } else {
                (None, None)
            };
            let m = Match {
                rule: p.rule,
                secret: buf[p.start..p.end].to_vec(),
                offset: st.base + p.start as u64,
                line,
                column,
                entropy: p.entropy,
                validation: p.validation,
                inner: scan.inner.clone(),
                note: p.note.clone(),
            };
            if (scan.sink)(m) == ControlFlow::Break(()) {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }

    /// Runs the keyword search over the first `len` bytes of the window: for each rule hit, the
    /// regions its regex is to search (`scratch.regions`), the rules hit in `scratch.touched`.
    fn gather_regions(&self, scratch: &mut Scratch, len: usize) {
        let Scratch { buf, regions, touched, active, claims, near, .. } = scratch;
        let buf = &buf[..len];
        touched.clear();
        claims.clear();
        near.clear();
        self.keywords.for_each_match(buf, |hit| {
            let after_word = hit.start > 0 && is_word_byte(buf[hit.start - 1]);
            for &(ri, word_start) in &self.keyword_rules[hit.keyword] {
                if !active[ri] || (word_start && after_word) {
                    continue;
                }
                let c = &self.compiled[ri];
                let list = &mut regions[ri];
                if list.is_empty() {
                    touched.push(ri);
                }
                // An anchored rule keeps its hits' starts (as empty regions), sorted later: the
                // keywords' anchors do not come in the order of their starts.
                if c.anchored {
                    list.push((hit.start, hit.start));
                    continue;
                }
                let s = hit.start.saturating_sub(c.lead);
                let e = (hit.end + c.max_len).min(buf.len());
                match list.last_mut() {
                    Some(last) if s <= last.1 => {
                        last.0 = last.0.min(s);
                        last.1 = last.1.max(e);
                    }
                    _ => list.push((s, e)),
                }
            }
        });
        for &ri in &self.keywordless {
            if active[ri] && regions[ri].is_empty() {
                touched.push(ri);
                regions[ri].push((0, buf.len()));
            }
        }
    }
}
