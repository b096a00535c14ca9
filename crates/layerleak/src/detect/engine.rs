//! The detector: one keyword search over every rule, regex confirmation in bounded regions
//! around keyword hits, then entropy, allowlists and validation.
//!
//! Streams are scanned in fixed windows. When a window is refilled its last `overlap + CTX`
//! bytes are kept (`overlap` = the longest match any rule can produce, capped). A match is
//! reported by the window in which its start lies before `len - overlap` (or by the final
//! window), so a secret across a window boundary is found exactly once, and every reported match
//! lies whole inside the window that reports it.
//!
//! # Security
//!
//! Input is untrusted: memory per scan is one window plus bookkeeping whatever the file's size
//! (bytes per file are capped only when [`crate::Limits::max_file_bytes`] is set), regex work is bounded to regions around keyword
//! hits, and read errors become [`Error`]s in [`ScanOutcome::errors`], never panics.

use std::collections::HashMap;
use std::io::{self, Read};
use std::ops::ControlFlow;
use std::sync::{Arc, OnceLock, Weak};

use regex_automata::meta::{Cache, Regex};
use regex_automata::util::captures::Captures;
use regex_automata::{Anchored, Input};
use regex_syntax::hir::Hir;

use super::allowlist::{builtin_allows, is_word_chain, Candidate, CompiledAllowlist};
use super::composite::{satisfied, Requirement};
use super::entropy::shannon_entropy;
use super::keywords::Keywords;
use super::nested::Budget;
use super::redact::redact;
use super::rule::{compile, compile_search, parse, Rule, RuleSet, Validator};
use super::validate::{validate, Validation};
use crate::error::{At, Error};
pub(crate) use crate::format::read_full;
use crate::format::ReportedByWalk;
use crate::{Limits, Skipped};

/// Default window: 1 MiB.
pub const DEFAULT_WINDOW: usize = 1 << 20;

/// Bumped whenever the engine can report other matches for the same bytes and rules (the
/// built-in allowlist, match caps, validators): cached results name it, so a result cache does
/// not serve what an earlier detector found. 2: key blocks judged by their body, 20 KiB cap.
/// 3: a hit is searched from the furthest its rule's keyword can lie in a match, not from the
/// rule's longest match before it, and a match's end sees the bytes after its region.
pub const DETECTOR_REVISION: u32 = 3;
/// Bytes of left context kept before the report boundary, so `\b` and friends see the byte
/// before a match that starts right at the boundary.
const CTX: usize = 16;
/// Cap on the match length a rule is assumed to have when its regex is unbounded.
const DEFAULT_MAX_LEN: usize = 4 << 10;
/// Cap for PEM-style blocks, which are long: the key rules' own bound (a 16 KiB body) plus armor
/// headers, so a PGP secret key with several large subkeys is still matched whole.
const PEM_MAX_LEN: usize = 20 << 10;
/// Entropy floor of a generic rule that sets none.
const GENERIC_DEFAULT_ENTROPY: f64 = 3.0;
/// Bytes looked at to decide whether a file is text.
const TEXT_SNIFF: usize = 8 << 10;
/// A rule whose keyword lies at most this far into its matches is searched by anchored attempts
/// at each start a hit allows (each ends within a few bytes where nothing matches) instead of over
/// the whole region around the hit.
const MAX_ANCHORED_LEAD: usize = 8;
/// An AWS secret key this close to a key id is reported as paired with it.
const AWS_PAIR_DISTANCE: u64 = 512;

/// Options of a [`Detector`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DetectOptions {
    /// Keep findings whose validator says `invalid` (default false: they are dropped).
    pub include_invalid: bool,
    /// Entropy floor for generic (`generic-*`) rules; raises, never lowers, a rule's own floor.
    /// Default `None` (each generic rule's floor, 3.0 when it sets none).
    pub min_entropy: Option<f64>,
    /// Bounds: `max_file_bytes` (bytes scanned per file, when set), `max_nesting_depth` and
    /// `max_nested_bytes` (archives inside files).
    pub limits: Limits,
    /// Window size in bytes (default 1 MiB). Raised to at least twice the longest rule match,
    /// so small values are safe (and useful in tests).
    pub window: usize,
    /// Report the matches of hidden rules ([`Rule::hidden`]; default false): the example check
    /// runs hidden rules' examples with it.
    pub report_hidden: bool,
    /// Report one match per span (default true): when several rules capture exactly the same
    /// bytes, only the most specific is kept (see [`Detector::scan_reader`]). Off, every rule
    /// reports its own match; the rule-example test uses that to check each rule on its own.
    pub one_per_span: bool,
}

impl Default for DetectOptions {
    fn default() -> Self {
        DetectOptions {
            include_invalid: false,
            min_entropy: None,
            limits: Limits::default(),
            window: DEFAULT_WINDOW,
            one_per_span: true,
            report_hidden: false,
        }
    }
}

/// One raw finding: a rule matched, passed entropy, allowlists and validation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Match {
    /// Index into [`Detector::rules`].
    pub rule: usize,
    /// The exact secret bytes.
    pub secret: Vec<u8>,
    /// Byte offset of the secret within the innermost stream.
    pub offset: u64,
    /// 1-based line of the secret, only for text.
    pub line: Option<u64>,
    /// 1-based byte column of the secret, only for text.
    pub column: Option<u64>,
    /// Shannon entropy of the secret (bits per byte).
    pub entropy: f64,
    /// Offline validation result.
    pub validation: Validation,
    /// Chain of paths inside nested archives (empty for a plain file).
    pub inner: Vec<String>,
    /// Extra context that never contains the secret (pairing, decoded user name).
    pub note: Option<String>,
}

/// What one scan did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct ScanOutcome {
    /// Bytes read from the stream given to the scan.
    pub bytes: u64,
    /// Everything that went wrong (damaged archives, limits hit, read errors).
    pub errors: Vec<Error>,
    /// Streams cut at [`Limits::max_file_bytes`], when it is set: notes, not errors.
    pub skipped: Vec<Skipped>,
    /// Whether the sink asked to stop.
    pub stopped: bool,
}

/// Per-thread buffers, reused across scans. Create one per worker.
#[derive(Debug, Default)]
pub struct Scratch {
    buf: Vec<u8>,
    regions: Vec<Vec<(usize, usize)>>,
    touched: Vec<usize>,
    active: Vec<bool>,
    pending: Vec<Pending>,
    /// Secret spans matched by provider (non-generic) rules in the current window, kept or not.
    claims: Vec<(usize, usize)>,
    /// Matches (rule, start) of rules that composite rules require, in the whole window.
    near: Vec<(usize, usize)>,
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

#[derive(Debug, Clone)]
struct Pending {
    rule: usize,
    start: usize,
    end: usize,
    entropy: f64,
    validation: Validation,
    note: Option<String>,
}

#[derive(Debug)]
struct Compiled {
    /// The rule's regex, compiled on its first keyword hit (`None`: it did not compile, which a
    /// checked [`RuleSet`] rules out): most rules of a large catalogue never meet their keyword
    /// in an image, and compiling them all would cost every start seconds and tens of MB.
    regex: OnceLock<Option<Regex>>,
    /// How far before a keyword hit a match may start ([`keyword_lead`]), at most `max_len`:
    /// where a hit's search begins.
    lead: usize,
    /// `lead` is at most [`MAX_ANCHORED_LEAD`]: hits are searched by anchored attempts.
    anchored: bool,
    path: Option<regex::bytes::Regex>,
    allowlists: Vec<CompiledAllowlist>,
    max_len: usize,
    floor: Option<f64>,
    generic: bool,
    /// A generic password rule: its values may be passphrases of words.
    passphrases: bool,
    validator: Validator,
    group: usize,
    /// The secret is the first group that took part with some text ([`Rule::first_group`]).
    first_group: bool,
    /// What a composite rule requires near its matches.
    required: Vec<Requirement>,
    /// Some composite rule requires this one: its matches are gathered for them.
    component: bool,
}

/// The compiled detection engine. Immutable and `Send + Sync`: share one across threads, give
/// each thread its own [`Scratch`].
#[derive(Debug)]
pub struct Detector {
    rules: Vec<Rule>,
    compiled: Vec<Compiled>,
    global: Vec<CompiledAllowlist>,
    keywords: Keywords,
    /// For each keyword, the rules it gates, and whether that rule's every match starts with the
    /// keyword at a word boundary (so a hit right after a word byte, `task_` for `sk_`, is skipped).
    keyword_rules: Vec<Vec<(usize, bool)>>,
    keywordless: Vec<usize>,
    /// Rules with a path and no regex: each reports a file its path matches, whole.
    path_only: Vec<usize>,
    overlap: usize,
    window: usize,
    aws_id: Option<usize>,
    aws_secret: Option<usize>,
    pub(crate) opts: DetectOptions,
    /// What a [`Scratch`] knows this detector by: its search caches are this detector's.
    token: Arc<()>,
}

/// Longest match `hir` can produce, capped; `cap` when unbounded or unparseable.
fn max_match_len(hir: Option<&Hir>, cap: usize) -> usize {
    match hir.and_then(|h| h.properties().maximum_len()) {
        Some(n) => n.clamp(1, cap),
        None => cap,
    }
}

/// How far before one of its keywords a match of `hir` may start: the largest offset of the
/// first keyword in the regex's prefix literals (ASCII case folded first, so `(?i:github)` is one
/// literal, not 64), when they form a finite set and each holds a keyword whole. A literal that is
/// a whole match and holds no keyword is a match no keyword gates, and does not count. `Some(0)`:
/// every gated match starts with a keyword, so a keyword hit is searched from the hit on. `None`:
/// unknown (the rule's whole `max_len` is searched before a hit).
fn keyword_lead(hir: Option<&Hir>, keywords: &[String]) -> Option<usize> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = fold_ascii_case(hir?);
    let mut extractor = Extractor::new();
    extractor.kind(ExtractKind::Prefix).limit_class(64).limit_total(256).limit_literal_len(64);
    let seq = extractor.extract(&hir);
    let keywords: Vec<Vec<u8>> =
        keywords.iter().filter(|k| !k.is_empty()).map(|k| k.as_bytes().to_ascii_lowercase()).collect();
    let mut lead = None;
    for lit in seq.literals()? {
        let bytes = lit.as_bytes();
        match (0..bytes.len()).find(|&at| keywords.iter().any(|k| bytes[at..].starts_with(k))) {
            Some(at) => lead = Some(lead.unwrap_or(0).max(at)),
            None if lit.is_exact() => {}
            None => return None,
        }
    }
    lead
}

/// `hir` with ASCII letters in lower case and each class of one letter in both cases (what
/// `(?i)` makes of a letter) as that letter in lower case: the prefixes of a case-insensitive
/// regex as one literal instead of every mix of cases. Matching keywords ignores case, so the
/// folded literals say where keywords may be.
pub(crate) fn fold_ascii_case(hir: &Hir) -> Hir {
    use regex_syntax::hir::{Class, HirKind, Repetition};
    match hir.kind() {
        HirKind::Literal(lit) => Hir::literal(lit.0.to_ascii_lowercase()),
        HirKind::Class(Class::Bytes(c)) => {
            let bytes: Vec<u8> = c.iter().flat_map(|r| r.start()..=r.end()).take(3).collect();
            match bytes[..] {
                [b] => Hir::literal([b.to_ascii_lowercase()]),
                [a, b] if a.is_ascii_alphabetic() && a.eq_ignore_ascii_case(&b) => {
                    Hir::literal([a.to_ascii_lowercase()])
                }
                _ => hir.clone(),
            }
        }
        HirKind::Concat(parts) => Hir::concat(parts.iter().map(fold_ascii_case).collect()),
        HirKind::Alternation(parts) => Hir::alternation(parts.iter().map(fold_ascii_case).collect()),
        HirKind::Repetition(r) => {
            Hir::repetition(Repetition { sub: Box::new(fold_ascii_case(&r.sub)), ..r.clone() })
        }
        HirKind::Capture(c) => {
            Hir::capture(regex_syntax::hir::Capture { sub: Box::new(fold_ascii_case(&c.sub)), ..c.clone() })
        }
        HirKind::Empty | HirKind::Look(_) | HirKind::Class(_) => hir.clone(),
    }
}

impl Detector {
    /// Prepares `rules` as an engine; each rule's regex is compiled on its first keyword hit.
    /// Fails with [`Error::Rule`] only if a rule's path regex does not compile or the keyword
    /// automaton exceeds its size limits (impossible for a [`RuleSet`] built by its own
    /// constructors).
    pub fn new(rules: &RuleSet, opts: DetectOptions) -> crate::Result<Detector> {
        let mut compiled = Vec::with_capacity(rules.rules().len());
        let mut keywords: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<(usize, bool)>> = Vec::new();
        let mut keyword_index: HashMap<&str, usize> = HashMap::new();
        let mut keywordless = Vec::new();
        let mut path_only = Vec::new();
        let bad =
            |rule: &Rule, e: regex::Error| Error::Rule { rule: rule.id.clone(), message: e.to_string() };
        for (i, rule) in rules.rules().iter().enumerate() {
            let hir = parse(&rule.regex).ok();
            let path = rule.path.as_deref().map(compile).transpose().map_err(|e| bad(rule, e))?;
            let allowlists = rule.allowlists.iter().map(CompiledAllowlist::new).collect();
            let cap = match rule.max_len {
                Some(n) => n,
                None if rule.validator == Validator::Pem || rule.regex.contains("-----BEGIN") => PEM_MAX_LEN,
                None => DEFAULT_MAX_LEN,
            };
            let generic = rule.is_generic();
            let floor = if generic {
                let own = rule.min_entropy.unwrap_or(GENERIC_DEFAULT_ENTROPY);
                Some(opts.min_entropy.map_or(own, |o| own.max(o)))
            } else {
                rule.min_entropy
            };
            let groups = hir.as_ref().map_or(0, |h| h.properties().explicit_captures_len());
            let max_len = max_match_len(hir.as_ref(), cap);
            let lead = keyword_lead(hir.as_ref(), &rule.keywords);
            compiled.push(Compiled {
                max_len,
                lead: lead.map_or(max_len, |l| l.min(max_len)),
                anchored: lead.is_some_and(|l| l <= MAX_ANCHORED_LEAD),
                group: rule.secret_group.min(groups),
                first_group: rule.first_group,
                required: Vec::new(),
                component: false,
                regex: OnceLock::new(),
                path,
                allowlists,
                floor,
                generic,
                passphrases: generic && rule.id.contains("password"),
                validator: rule.validator,
            });
            if rule.is_path_only() {
                path_only.push(i);
                continue;
            }
            if rule.keywords.is_empty() {
                keywordless.push(i);
            }
            for kw in &rule.keywords {
                let gate = (i, starts_at_word_boundary(hir.as_ref(), kw));
                match keyword_index.get(kw.as_str()) {
                    Some(&p) => keyword_rules[p].push(gate),
                    None => {
                        keyword_index.insert(kw, keywords.len());
                        keywords.push(kw.clone());
                        keyword_rules.push(vec![gate]);
                    }
                }
            }
        }
        for (i, rule) in rules.rules().iter().enumerate() {
            for req in &rule.required {
                let Some(at) = rules.rules().iter().position(|r| r.id == req.id) else {
                    let message = format!("requires rule {:?}, which is not loaded", req.id);
                    return Err(Error::Rule { rule: rule.id.clone(), message });
                };
                compiled[at].component = true;
                let (within_lines, within_columns) = (req.within_lines, req.within_columns);
                compiled[i].required.push(Requirement { rule: at, within_lines, within_columns });
            }
        }
        let keywords = Keywords::new(&keywords)?;
        let global = rules.allowlists().iter().map(CompiledAllowlist::new).collect();
        let overlap = compiled
            .iter()
            .zip(rules.rules())
            .filter(|(_, r)| !r.is_path_only())
            .map(|(c, _)| c.max_len)
            .max()
            .unwrap_or(1);
        let window = opts.window.max(2 * (overlap + CTX) + 1);
        let find = |id: &str| rules.rules().iter().position(|r| r.id == id);
        Ok(Detector {
            aws_id: find("aws-access-key-id"),
            aws_secret: find("aws-secret-access-key"),
            rules: rules.rules().to_vec(),
            compiled,
            global,
            keywords,
            keyword_rules,
            keywordless,
            path_only,
            overlap,
            window,
            opts,
            token: Arc::new(()),
        })
    }

    /// The rules, in the order [`Match::rule`] indexes.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The keyword search every scan starts with: its keywords are every rule's keywords,
    /// deduplicated, in rule order. Exposed (the `bench` feature) so benchmarks time the search
    /// the detector runs.
    #[cfg(feature = "bench")]
    #[doc(hidden)]
    pub fn keywords(&self) -> &Keywords {
        &self.keywords
    }

    /// The window size in effect (at least twice the longest match).
    pub fn window(&self) -> usize {
        self.window
    }

    /// Scans a stream in fixed windows; `name` is the file path (for `path` rules, credential-file
    /// rules and nested-archive sniffing). Calls `sink` for every match; `ControlFlow::Break(())` ends early.
    ///
    /// A recognised archive (zip family, tar, gzip, zstd) is scanned through its members; every
    /// problem is recorded in [`ScanOutcome::errors`] and the scan goes on where it can.
    pub fn scan_reader(
        &self,
        name: &[u8],
        r: &mut dyn Read,
        scratch: &mut Scratch,
        sink: &mut dyn FnMut(Match) -> ControlFlow<()>,
    ) -> ScanOutcome {
        let mut counted = Counting { inner: r, count: 0 };
        let budget = Budget::new(self.opts.limits.max_nested_bytes);
        let mut ctx = Ctx {
            scratch,
            sink,
            errors: Vec::new(),
            skipped: Vec::new(),
            inner: Vec::new(),
            outer: String::from_utf8_lossy(name).into_owned(),
            budget: &budget,
            stopped: false,
        };
        let _ = self.scan_stream(&mut ctx, 0, name, &mut counted);
        ScanOutcome { bytes: counted.count, errors: ctx.errors, skipped: ctx.skipped, stopped: ctx.stopped }
    }

    /// [`Detector::scan_reader`] over a slice.
    pub fn scan_bytes(
        &self,
        name: &[u8],
        data: &[u8],
        scratch: &mut Scratch,
        sink: &mut dyn FnMut(Match) -> ControlFlow<()>,
    ) -> ScanOutcome {
        let mut r = data;
        self.scan_reader(name, &mut r, scratch, sink)
    }

    /// Sniffs the stream and scans it as an archive (through its members) or as a plain file.
    pub(crate) fn scan_stream(
        &self,
        ctx: &mut Ctx<'_>,
        depth: usize,
        name: &[u8],
        r: &mut dyn Read,
    ) -> ControlFlow<()> {
        let mut head = [0u8; super::nested::HEAD];
        let n = match read_full(r, &mut head) {
            Ok(n) => n,
            Err(e) => {
                ctx.error(Error::io(ctx.at(), "reading", e));
                return ControlFlow::Continue(());
            }
        };
        let mut chained = (&head[..n]).chain(r);
        match super::nested::sniff(&head[..n], name) {
            Some(kind) => super::nested::walk(self, ctx, depth, kind, name, &mut chained),
            None => self.scan_plain(ctx, name, &mut chained, 0),
        }
    }

    /// Scans `r` as a plain file, window by window.
    /// Scans `r` as plain bytes; `start` is the offset of its first byte in the enclosing stream
    /// (non-zero when a broken archive falls back to raw bytes part-way through).
    pub(crate) fn scan_plain(
        &self,
        ctx: &mut Ctx<'_>,
        name: &[u8],
        r: &mut dyn Read,
        start: u64,
    ) -> ControlFlow<()> {
        let n_rules = self.compiled.len();
        let scratch = &mut *ctx.scratch;
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
        scratch.buf.resize(self.window, 0);
        let cap = self.opts.limits.max_file_bytes;
        // Inside an archive, allowlist paths also see the archive's own path (a `^usr/share/doc/`
        // allowlist covers the members of `usr/share/doc/x/changelog.gz`).
        let outer = (!ctx.inner.is_empty()).then(|| ctx.outer.clone());
        let mut st = Stream {
            base: start,
            len: 0,
            report_from: start,
            lines_before: 0,
            col_carry: 0,
            text: None,
            outer,
        };
        let mut total: u64 = 0;
        let mut eof = false;
        let mut last_aws_id: Option<(u64, String)> = None;
        let whole_file: Vec<usize> =
            self.path_only.iter().copied().filter(|&ri| ctx.scratch.active[ri]).collect();
        let mut digest = (!whole_file.is_empty()).then(<sha2::Sha256 as sha2::Digest>::new);
        loop {
            while st.len < self.window && !eof {
                let room = (self.window - st.len) as u64;
                let want = room.min(cap.saturating_sub(total)) as usize;
                if want == 0 {
                    eof = true;
                    let mut probe = [0u8; 1];
                    if matches!(r.read(&mut probe), Ok(n) if n > 0) {
                        let at = ctx.at();
                        ctx.skipped.push(Skipped { at, scanned: cap, skipped: None });
                    }
                    break;
                }
                match r.read(&mut ctx.scratch.buf[st.len..st.len + want]) {
                    Ok(0) => eof = true,
                    Ok(n) => {
                        if let Some(d) = &mut digest {
                            sha2::Digest::update(d, &ctx.scratch.buf[st.len..st.len + n]);
                        }
                        st.len += n;
                        total += n as u64;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let at = ctx.at().with_offset(total);
                        ctx.error(Error::io(at, "reading", e));
                        eof = true;
                    }
                }
            }
            let buf = &ctx.scratch.buf[..st.len];
            if st.text.is_none() {
                st.text = Some(memchr::memchr(0, &buf[..buf.len().min(TEXT_SNIFF)]).is_none());
            }
            let limit = if eof { usize::MAX } else { st.len - self.overlap };
            let mut pending = std::mem::take(&mut ctx.scratch.pending);
            pending.clear();
            self.find_in_window(ctx.scratch, &st, limit, name, &mut pending);
            let near = &ctx.scratch.near;
            pending.retain(|p| {
                let req = &self.compiled[p.rule].required;
                req.is_empty() || satisfied(&ctx.scratch.buf[..st.len], p.start, req, near)
            });
            drop_claimed_generics(&self.compiled, &ctx.scratch.claims, &mut pending);
            pending.sort_by_key(|p| (p.start, p.rule));
            self.pair_aws(&ctx.scratch.buf[..st.len], st.base, &mut pending, &mut last_aws_id);
            self.dedup_spans(&mut pending);
            let flow = self.emit(ctx, &st, &pending);
            ctx.scratch.pending = pending;
            if flow == ControlFlow::Break(()) {
                ctx.stopped = true;
                return ControlFlow::Break(());
            }
            if eof {
                return match digest {
                    Some(d) => self.emit_whole_file(ctx, &whole_file, name, &st, d),
                    None => ControlFlow::Continue(()),
                };
            }
            self.slide(&mut ctx.scratch.buf, &mut st);
        }
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

    /// Runs the keyword search over the window, then each hit rule's regex: by anchored attempts
    /// at the starts its hits allow, or over merged regions around them.
    fn find_in_window(
        &self,
        scratch: &mut Scratch,
        st: &Stream,
        limit: usize,
        name: &[u8],
        out: &mut Vec<Pending>,
    ) {
        let Scratch { buf, regions, touched, active, claims, near, searches, .. } = scratch;
        let buf = &buf[..st.len];
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

    /// The allowlists that apply to rule `ri`: its own, then the file-wide ones that target it.
    fn allowlists(&self, ri: usize) -> impl Iterator<Item = &CompiledAllowlist> {
        let id = &self.rules[ri].id;
        self.compiled[ri].allowlists.iter().chain(self.global.iter().filter(move |a| a.targets(id)))
    }

    /// Entropy, allowlists, validation. `None` when the candidate is dropped. `names`: the
    /// stream's name and, inside an archive, the outermost file's path.
    fn check(
        &self,
        ri: usize,
        buf: &[u8],
        secret: (usize, usize),
        whole: (usize, usize),
        (name, outer): (&[u8], Option<&[u8]>),
    ) -> Option<Pending> {
        let c = &self.compiled[ri];
        let bytes = &buf[secret.0..secret.1];
        let entropy = shannon_entropy(bytes);
        if c.floor.is_some_and(|f| entropy < f) {
            return None;
        }
        if builtin_allows(bytes, c.generic, c.validator == Validator::Pem)
            || (c.generic && !c.passphrases && is_word_chain(bytes))
        {
            return None;
        }
        if !c.allowlists.is_empty() || !self.global.is_empty() {
            let line_start = memchr::memrchr(b'\n', &buf[..whole.0]).map_or(0, |i| i + 1);
            let line_end = memchr::memchr(b'\n', &buf[whole.1..]).map_or(buf.len(), |i| whole.1 + i);
            let cand = Candidate {
                secret: bytes,
                whole: &buf[whole.0..whole.1],
                line: &buf[line_start..line_end],
                path: name,
                outer,
            };
            if self.allowlists(ri).any(|a| a.allows(&cand)) {
                return None;
            }
        }
        let verdict = validate(c.validator, bytes);
        if verdict.validation == Validation::Invalid && !self.opts.include_invalid {
            return None;
        }
        Some(Pending {
            rule: ri,
            start: secret.0,
            end: secret.1,
            entropy,
            validation: verdict.validation,
            note: verdict.note,
        })
    }

    /// Notes AWS secret keys found within [`AWS_PAIR_DISTANCE`] bytes of a key id.
    fn pair_aws(&self, buf: &[u8], base: u64, pending: &mut [Pending], last: &mut Option<(u64, String)>) {
        let (Some(id_rule), Some(secret_rule)) = (self.aws_id, self.aws_secret) else { return };
        let ids: Vec<(u64, String)> = pending
            .iter()
            .filter(|p| p.rule == id_rule)
            .map(|p| (base + p.start as u64, redact(&buf[p.start..p.end])))
            .collect();
        for p in pending.iter_mut().filter(|p| p.rule == secret_rule && p.note.is_none()) {
            let at = base + p.start as u64;
            let near = ids.iter().chain(last.iter()).find(|(o, _)| o.abs_diff(at) <= AWS_PAIR_DISTANCE);
            if let Some((_, id)) = near {
                p.note = Some(format!("paired with aws-access-key-id {id}"));
            }
        }
        if let Some(l) = ids.into_iter().last() {
            *last = Some(l);
        }
    }

    /// One finding per span: when several rules capture exactly the same bytes (a provider rule,
    /// a credential-file rule and a generic assignment rule on one AWS secret), keep the most
    /// specific: a reported rule over a hidden one, a provider rule over a generic one, a
    /// validated match over an unvalidated one, then the rule listed first.
    fn dedup_spans(&self, pending: &mut Vec<Pending>) {
        if pending.len() < 2 || !self.opts.one_per_span {
            return;
        }
        let rank = |p: &Pending| {
            let v = match p.validation {
                Validation::Valid => 0u8,
                Validation::Unknown => 1,
                Validation::Invalid => 2,
            };
            (self.rules[p.rule].hidden, self.compiled[p.rule].generic, v, p.rule)
        };
        pending.sort_by(|a, b| (a.start, a.end).cmp(&(b.start, b.end)).then_with(|| rank(a).cmp(&rank(b))));
        pending.dedup_by(|later, first| later.start == first.start && later.end == first.end);
    }

    /// The findings of path-only rules `rules` on the file just read: its secret is the digest
    /// of what was read of it (`sha256:<hex>`), so the same file in two layers is one secret.
    fn emit_whole_file(
        &self,
        ctx: &mut Ctx<'_>,
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
                inner: ctx.inner.clone(),
                note: Some("the whole file: the path matched a path-only rule".into()),
            };
            if (ctx.sink)(m) == ControlFlow::Break(()) {
                ctx.stopped = true;
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }

    fn emit(&self, ctx: &mut Ctx<'_>, st: &Stream, pending: &[Pending]) -> ControlFlow<()> {
        let buf = &ctx.scratch.buf[..st.len];
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
                inner: ctx.inner.clone(),
                note: p.note.clone(),
            };
            if (ctx.sink)(m) == ControlFlow::Break(()) {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
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

/// State of one [`Detector::scan_reader`] call, threaded through nested archives.
pub(crate) struct Ctx<'a> {
    pub(crate) scratch: &'a mut Scratch,
    pub(crate) sink: &'a mut dyn FnMut(Match) -> ControlFlow<()>,
    pub(crate) errors: Vec<Error>,
    /// Streams cut at `max_file_bytes`.
    pub(crate) skipped: Vec<Skipped>,
    /// Member path chain inside nested archives.
    pub(crate) inner: Vec<String>,
    /// The name of the outermost stream.
    pub(crate) outer: String,
    /// Decompressed bytes left for nested archives, shared by every level.
    pub(crate) budget: &'a Budget,
    pub(crate) stopped: bool,
}

impl Ctx<'_> {
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
}

/// Counts bytes read from the caller's stream, for [`ScanOutcome::bytes`].
struct Counting<'a> {
    inner: &'a mut dyn Read,
    count: u64,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// `[0-9A-Za-z_]`: what `\b` (Unicode off) counts as a word byte.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Whether every match of `regex` starts with `keyword` right after a word boundary: the regex
/// is `\b`, then (possibly inside a group) literal bytes that begin with the keyword, and the
/// keyword starts with a word byte. Then a keyword hit preceded by a word byte cannot start a
/// match, and a match that holds such a hit also holds a hit at its own start.
fn starts_at_word_boundary(hir: Option<&Hir>, keyword: &str) -> bool {
    use regex_syntax::hir::{HirKind, Look};
    if !keyword.as_bytes().first().is_some_and(|&b| is_word_byte(b)) {
        return false;
    }
    let Some(hir) = hir else { return false };
    let HirKind::Concat(parts) = hir.kind() else { return false };
    let [first, rest @ ..] = parts.as_slice() else { return false };
    if !matches!(first.kind(), HirKind::Look(Look::WordAscii)) {
        return false;
    }
    let mut prefix = Vec::new();
    literal_prefix(rest, &mut prefix);
    prefix.len() >= keyword.len() && prefix[..keyword.len()].eq_ignore_ascii_case(keyword.as_bytes())
}

/// Appends the literal bytes every match of `parts` (a concatenation) starts with.
fn literal_prefix(parts: &[regex_syntax::hir::Hir], out: &mut Vec<u8>) {
    use regex_syntax::hir::HirKind;
    for h in parts {
        match h.kind() {
            HirKind::Literal(l) => out.extend_from_slice(&l.0),
            HirKind::Capture(c) => match c.sub.kind() {
                HirKind::Literal(l) => out.extend_from_slice(&l.0),
                HirKind::Concat(inner) => return literal_prefix(inner, out),
                _ => return,
            },
            _ => return,
        }
    }
}

/// Drops generic findings whose secret overlaps a span a provider rule matched: a generic rule
/// reports only what no provider rule recognises.
fn drop_claimed_generics(compiled: &[Compiled], claims: &[(usize, usize)], pending: &mut Vec<Pending>) {
    if claims.is_empty() {
        return;
    }
    pending.retain(|p| !compiled[p.rule].generic || !claims.iter().any(|&(s, e)| s < p.end && p.start < e));
}

#[cfg(test)]
mod word_boundary_tests {
    use super::{keyword_lead, parse};

    fn starts_at_word_boundary(re: &str, keyword: &str) -> bool {
        super::starts_at_word_boundary(parse(re).ok().as_ref(), keyword)
    }

    #[test]
    fn only_a_leading_boundary_and_literal_keyword_qualify() {
        assert!(starts_at_word_boundary(r"\b(sk_[0-9a-f]{48})\b", "sk_"));
        assert!(starts_at_word_boundary(r"\b(?:ser\.[0-9A-Za-z]{22})", "ser."));
        assert!(starts_at_word_boundary(r"\bAKIA[A-Z2-7]{16}", "akia"));
        assert!(!starts_at_word_boundary(r"\b(ma[rt]_[0-9A-Za-z]{30})", "mat_"), "a class is no literal");
        assert!(!starts_at_word_boundary(r"\b(?:sk|rk)_live_", "sk_"), "an alternation is no literal");
        assert!(!starts_at_word_boundary(r"(sk_[0-9a-f]{48})", "sk_"), "no boundary");
        assert!(
            !starts_at_word_boundary(r"\b(-us[0-9]{1,2})", "-us"),
            "the keyword starts with a non-word byte"
        );
        assert!(!starts_at_word_boundary(r"\b(s.k_x)", "sk_"));
        assert!(!starts_at_word_boundary(r"\b(sk_[a-z]{5}|zzzzz)", "sk_"), "an alternation in the group");
        assert!(
            !starts_at_word_boundary(r"(?i)\bsk_[a-z]{5}", "sk_"),
            "case-insensitive literals are classes"
        );
    }

    #[test]
    fn keyword_lead_is_the_furthest_first_keyword_in_the_prefixes() {
        let lead = |re: &str, kws: &[&str]| {
            let kws: Vec<String> = kws.iter().map(|k| k.to_string()).collect();
            keyword_lead(parse(re).ok().as_ref(), &kws)
        };
        assert_eq!(lead(r"\b(ghp_[0-9A-Za-z]{36})\b", &["ghp_"]), Some(0));
        assert_eq!(lead(r"\b(?:ghp|gho)_[0-9A-Za-z]{36}", &["ghp_", "gho_"]), Some(0));
        assert_eq!(lead(r"(?i)github[\w.-]{0,20}=([0-9a-f]{40})", &["github"]), Some(0), "case folded");
        assert_eq!(lead(r"(?i:client_|)GitHub_token=([0-9a-f]{40})", &["github"]), Some(7), "client_github");
        assert_eq!(
            lead(
                r"(?:(?i:github)[\w.-]{0,20}|(?i:gh)[_.-])(?i:secret)=([0-9a-f]{40})",
                &["github", "gh_", "gh-", "gh."]
            ),
            Some(0),
            "every mix of cases of a long prefix is one literal"
        );
        assert_eq!(lead(r"(?:api_key=)?(tok_[a-z]{8})", &["tok_"]), Some(8), "an optional context before");
        assert_eq!(lead(r"(?:ghp|gho)_[0-9A-Za-z]{36}", &["ghp_"]), None, "gho_ is no keyword");
        assert_eq!(lead(r"ghp_[0-9]{36}|gho_", &["ghp_"]), Some(0), "gho_ alone is a match no keyword gates");
        assert_eq!(lead(r"(?:xx|)gh[^a-z]{2}", &["ghp_"]), None, "a literal cut short in a keyword");
        assert_eq!(lead(r"(?:ab_)?zz[a-z]{2}", &["ghp_"]), None, "no literal holds a keyword");
        assert_eq!(lead(r"(?:ab_)?zz[a-z]{2}|(?:)", &["zz"]), Some(3), "the empty match holds no keyword");
        assert_eq!(lead(r"[a-z]+_tok", &["_tok"]), None, "no finite prefix");
        assert_eq!(lead(r"gh[a-z]+", &["ghp_"]), None, "a prefix shorter than the keyword");
        assert_eq!(lead(r"(", &["("]), None, "unparseable");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector(toml: &str) -> Detector {
        Detector::new(&RuleSet::from_toml(toml, "t").unwrap(), DetectOptions::default()).unwrap()
    }

    fn scan(d: &Detector, name: &str, data: &[u8]) -> Vec<Match> {
        let mut out = Vec::new();
        let o = d.scan_bytes(name.as_bytes(), data, &mut Scratch::new(), &mut |m| {
            out.push(m);
            ControlFlow::Continue(())
        });
        assert!(o.errors.is_empty(), "{:?}", o.errors);
        out
    }

    const TOKEN_RULE: &str =
        "[[rules]]\nid='tok'\nregex='''\\b(tk_[A-Za-z0-9]{20})\\b'''\nkeywords=['tk_']\n";

    #[test]
    fn max_match_len_is_bounded() {
        let len = |re: &str, cap| max_match_len(parse(re).ok().as_ref(), cap);
        assert_eq!(len("tk_[a-z]{20}", 4096), 23);
        assert_eq!(len("a+", 4096), 4096);
        assert_eq!(len("(", 100), 100);
    }

    #[test]
    fn line_and_column_are_one_based() {
        let d = detector(TOKEN_RULE);
        let ms = scan(&d, "a.txt", b"first\n  key = tk_Q9w8E7r6T5y4U3i2O1pZ\n");
        assert_eq!(ms.len(), 1);
        assert_eq!((ms[0].line, ms[0].column), (Some(2), Some(9)));
        assert_eq!(ms[0].offset, 14);
    }

    #[test]
    fn binary_files_have_no_line() {
        let d = detector(TOKEN_RULE);
        let ms = scan(&d, "a.bin", b"\0\x01 tk_Q9w8E7r6T5y4U3i2O1pZ \x02");
        assert_eq!(ms.len(), 1);
        assert_eq!(ms[0].line, None);
    }

    #[test]
    fn keywords_are_case_insensitive_and_regex_decides() {
        let d = detector("[[rules]]\nid='k'\nregex='''(?i)secret=([a-z0-9]{16})'''\nkeywords=['secret']\n");
        assert_eq!(scan(&d, "a", b"SECRET=q9w8e7r6t5y4u3i2").len(), 1);
        assert_eq!(scan(&d, "a", b"secrets everywhere").len(), 0);
    }

    #[test]
    fn path_rules_only_run_on_matching_paths() {
        let d = detector(
            "[[rules]]\nid='netrc'\nregex='''password\\s+(\\S+)'''\nkeywords=['password']\npath='''(^|/)\\.netrc$'''\n",
        );
        assert_eq!(scan(&d, "home/u/.netrc", b"machine h login u password Q9w8E7r6T5").len(), 1);
        assert_eq!(scan(&d, "home/u/notes", b"machine h login u password Q9w8E7r6T5").len(), 0);
    }

    #[test]
    fn generic_rules_are_entropy_gated() {
        let d = detector("[[rules]]\nid='generic-k'\nregex='''key=(\\S+)'''\nkeywords=['key=']\n");
        assert_eq!(scan(&d, "a", b"key=Q9w8E7r6T5y4U3").len(), 1);
        assert_eq!(scan(&d, "a", b"key=aabbaabbaabb").len(), 0);
        let strict = Detector::new(
            &RuleSet::from_toml(
                "[[rules]]\nid='generic-k'\nregex='''key=(\\S+)'''\nkeywords=['key=']\n",
                "t",
            )
            .unwrap(),
            DetectOptions { min_entropy: Some(5.0), ..DetectOptions::default() },
        )
        .unwrap();
        assert_eq!(scan(&strict, "a", b"key=Q9w8E7r6T5y4U3").len(), 0);
    }

    #[test]
    fn keywordless_rules_run_everywhere() {
        let d = detector(
            "[[rules]]\nid='nk'\nregex='''zz([0-9]{8})zz'''\nkeywords=[]\nnokeyword_reason='test'\n",
        );
        assert_eq!(scan(&d, "a", b"..zz90817263zz..").len(), 1);
    }

    #[test]
    fn sink_stop_ends_the_scan() {
        let d = detector(TOKEN_RULE);
        let data = b"tk_Q9w8E7r6T5y4U3i2O1pZ tk_P0o9I8u7Y6t5R4e3W2qA";
        let mut n = 0;
        let o = d.scan_bytes(b"a", data, &mut Scratch::new(), &mut |_| {
            n += 1;
            ControlFlow::Break(())
        });
        assert!(o.stopped);
        assert_eq!(n, 1);
    }

    #[test]
    fn one_scratch_serves_detectors_whose_rules_have_other_groups() {
        let two =
            detector("[[rules]]\nid='a'\nregex='''(tk_)([0-9]{4})'''\nkeywords=['tk_']\nsecretGroup=2\n");
        let four = detector(
            "[[rules]]\nid='b'\nregex='''(x)?(y)?(tk_)([0-9]{4})'''\nkeywords=['tk_']\nsecretGroup=4\n",
        );
        let mut scratch = Scratch::new();
        for d in [&two, &four, &two] {
            let mut found = Vec::new();
            d.scan_bytes(b"a", b"id tk_9183 end", &mut scratch, &mut |m| {
                found.push(m.secret);
                ControlFlow::Continue(())
            });
            assert_eq!(found, [b"9183".to_vec()]);
        }
    }

    #[test]
    fn file_byte_limit_is_a_note_not_an_error() {
        let rules = RuleSet::from_toml(TOKEN_RULE, "t").unwrap();
        let mut opts = DetectOptions::default();
        opts.limits.max_file_bytes = 10;
        let d = Detector::new(&rules, opts).unwrap();
        let o = d.scan_bytes(b"f", b"0123456789 tk_Q9w8E7r6T5y4U3i2O1pZ", &mut Scratch::new(), &mut |_| {
            ControlFlow::Continue(())
        });
        assert!(o.errors.is_empty(), "{:?}", o.errors);
        assert!(matches!(&o.skipped[..], [Skipped { scanned: 10, skipped: None, .. }]), "{:?}", o.skipped);
    }
}
