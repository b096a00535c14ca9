//! The detector: one keyword search over every rule, regex confirmation in bounded regions
//! around keyword hits, then entropy, allowlists and validation.
//!
//! [`Detector::new`] prepares the rules (the keyword automaton, each rule's bounds around a
//! keyword hit, see [`super::lead`]); [`Detector::scan_reader`] hands the stream to the archive
//! dispatcher ([`super::nested`]), which opens archives and passes every plain stream to the
//! window searcher ([`super::search`]), which applies the rules' policy ([`super::policy`]).
//!
//! # Security
//!
//! Input is untrusted: memory per scan is one window plus bookkeeping whatever the file's size
//! (bytes per file are capped only when [`crate::Limits::max_file_bytes`] is set), regex work is
//! bounded to regions around keyword hits, and read errors become [`Error`]s in
//! [`ScanOutcome::errors`], never panics.

use std::collections::HashMap;
use std::io::{self, Read};
use std::ops::ControlFlow;
use std::sync::{Arc, OnceLock};

use regex_automata::meta::Regex;
use regex_syntax::hir::Hir;

use super::allowlist::CompiledAllowlist;
use super::composite::Requirement;
use super::keywords::Keywords;
use super::lead::{keyword_lead, max_match_len, starts_at_word_boundary};
use super::nested::{self, Budget, Ctx};
use super::policy::Pairing;
use super::rule::{compile, parse, Rule, RuleSet, Validator};
pub use super::search::Scratch;
use super::search::{ScanState, CTX};
use super::validate::Validation;
use crate::error::Error;
use crate::{Limits, Skipped};

/// Default window: 1 MiB.
pub const DEFAULT_WINDOW: usize = 1 << 20;

/// Bumped whenever the engine can report other matches for the same bytes and rules (the
/// built-in allowlist, match caps, validators): cached results name it, so a result cache does
/// not serve what an earlier detector found. 2: key blocks judged by their body, 20 KiB cap.
/// 3: a hit is searched from the furthest its rule's keyword can lie in a match, not from the
/// rule's longest match before it, and a match's end sees the bytes after its region.
pub const DETECTOR_REVISION: u32 = 3;
/// Cap on the match length a rule is assumed to have when its regex is unbounded and it sets no
/// [`Rule::max_len`].
const DEFAULT_MAX_LEN: usize = 4 << 10;
/// Entropy floor of a generic rule that sets none.
const GENERIC_DEFAULT_ENTROPY: f64 = 3.0;
/// A rule whose keyword lies at most this far into its matches is searched by anchored attempts
/// at each start a hit allows (each ends within a few bytes where nothing matches) instead of over
/// the whole region around the hit.
const MAX_ANCHORED_LEAD: usize = 8;

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

/// One rule as the searcher runs it: its bounds around a keyword hit and its gates.
#[derive(Debug)]
pub(super) struct Compiled {
    /// The rule's regex, compiled on its first keyword hit (`None`: it did not compile, which a
    /// checked [`RuleSet`] rules out): most rules of a large catalogue never meet their keyword
    /// in an image, and compiling them all would cost every start seconds and tens of MB.
    pub(super) regex: OnceLock<Option<Regex>>,
    /// How far before a keyword hit a match may start ([`keyword_lead`]), at most `max_len`:
    /// where a hit's search begins.
    pub(super) lead: usize,
    /// `lead` is at most [`MAX_ANCHORED_LEAD`]: hits are searched by anchored attempts.
    pub(super) anchored: bool,
    pub(super) path: Option<regex::bytes::Regex>,
    pub(super) allowlists: Vec<CompiledAllowlist>,
    /// The longest match: the regex's own bound, capped at [`Rule::max_len`] (else 4 KiB).
    pub(super) max_len: usize,
    pub(super) floor: Option<f64>,
    pub(super) generic: bool,
    /// A generic password rule: its values may be passphrases of words.
    pub(super) passphrases: bool,
    pub(super) validator: Validator,
    pub(super) group: usize,
    /// The secret is the first group that took part with some text ([`Rule::first_group`]).
    pub(super) first_group: bool,
    /// What a composite rule requires near its matches.
    pub(super) required: Vec<Requirement>,
    /// Some composite rule requires this one: its matches are gathered for them.
    pub(super) component: bool,
}

impl Compiled {
    /// Prepares `rule` (`hir`: its parsed regex) under `opts`.
    fn new(rule: &Rule, hir: Option<&Hir>, opts: &DetectOptions) -> crate::Result<Compiled> {
        let bad = |e: regex::Error| Error::Rule { rule: rule.id.clone(), message: e.to_string() };
        let path = rule.path.as_deref().map(compile).transpose().map_err(bad)?;
        let generic = rule.is_generic();
        let floor = if generic {
            let own = rule.min_entropy.unwrap_or(GENERIC_DEFAULT_ENTROPY);
            Some(opts.min_entropy.map_or(own, |o| own.max(o)))
        } else {
            rule.min_entropy
        };
        let groups = hir.map_or(0, |h| h.properties().explicit_captures_len());
        let max_len = max_match_len(hir, rule.max_len.unwrap_or(DEFAULT_MAX_LEN));
        let lead = keyword_lead(hir, &rule.keywords);
        Ok(Compiled {
            max_len,
            lead: lead.map_or(max_len, |l| l.min(max_len)),
            anchored: lead.is_some_and(|l| l <= MAX_ANCHORED_LEAD),
            group: rule.secret_group.min(groups),
            first_group: rule.first_group,
            required: Vec::new(),
            component: false,
            regex: OnceLock::new(),
            path,
            allowlists: rule.allowlists.iter().map(CompiledAllowlist::new).collect(),
            floor,
            generic,
            passphrases: rule.takes_passphrases(),
            validator: rule.validator,
        })
    }
}

/// The compiled detection engine. Immutable and `Send + Sync`: share one across threads, give
/// each thread its own [`Scratch`].
#[derive(Debug)]
pub struct Detector {
    pub(super) rules: Vec<Rule>,
    pub(super) compiled: Vec<Compiled>,
    pub(super) global: Vec<CompiledAllowlist>,
    pub(super) keywords: Keywords,
    /// For each keyword, the rules it gates, and whether that rule's every match starts with the
    /// keyword at a word boundary (so a hit right after a word byte, `task_` for `sk_`, is skipped).
    pub(super) keyword_rules: Vec<Vec<(usize, bool)>>,
    pub(super) keywordless: Vec<usize>,
    /// Rules with a path and no regex: each reports a file its path matches, whole.
    pub(super) path_only: Vec<usize>,
    /// The longest match of any rule: what a window keeps when it is refilled.
    pub(super) overlap: usize,
    pub(super) window: usize,
    /// The rules' pairings ([`Rule::pair`]) whose partner rule is loaded.
    pub(super) pairs: Vec<Pairing>,
    pub(crate) opts: DetectOptions,
    /// What a [`Scratch`] knows this detector by: its search caches are this detector's.
    pub(super) token: Arc<()>,
}

/// The keyword automaton's keywords, and for each the rules it gates.
#[derive(Default)]
struct Gates<'r> {
    keywords: Vec<String>,
    keyword_rules: Vec<Vec<(usize, bool)>>,
    index: HashMap<&'r str, usize>,
}

impl<'r> Gates<'r> {
    /// Rule `i`'s keywords gate it.
    fn add(&mut self, i: usize, rule: &'r Rule, hir: Option<&Hir>) {
        for kw in &rule.keywords {
            let gate = (i, starts_at_word_boundary(hir, kw));
            match self.index.get(kw.as_str()) {
                Some(&p) => self.keyword_rules[p].push(gate),
                None => {
                    self.index.insert(kw, self.keywords.len());
                    self.keywords.push(kw.clone());
                    self.keyword_rules.push(vec![gate]);
                }
            }
        }
    }
}

impl Detector {
    /// Prepares `rules` as an engine; each rule's regex is compiled on its first keyword hit.
    /// Fails with [`Error::Rule`] if a rule's path regex does not compile, a composite rule
    /// requires a rule that is not loaded, or the keyword automaton exceeds its size limits
    /// (impossible for a [`RuleSet`] built by its own constructors).
    pub fn new(rules: &RuleSet, opts: DetectOptions) -> crate::Result<Detector> {
        let mut compiled = Vec::with_capacity(rules.rules().len());
        let mut gates = Gates::default();
        let mut keywordless = Vec::new();
        let mut path_only = Vec::new();
        for (i, rule) in rules.rules().iter().enumerate() {
            let hir = parse(&rule.regex).ok();
            compiled.push(Compiled::new(rule, hir.as_ref(), &opts)?);
            if rule.is_path_only() {
                path_only.push(i);
                continue;
            }
            if rule.keywords.is_empty() {
                keywordless.push(i);
            }
            gates.add(i, rule, hir.as_ref());
        }
        link_composites(rules.rules(), &mut compiled)?;
        let keywords = Keywords::new(&gates.keywords)?;
        let global = rules.allowlists().iter().map(CompiledAllowlist::new).collect();
        let overlap = compiled
            .iter()
            .zip(rules.rules())
            .filter(|(_, r)| !r.is_path_only())
            .map(|(c, _)| c.max_len)
            .max()
            .unwrap_or(1);
        let window = opts.window.max(2 * (overlap + CTX) + 1);
        Ok(Detector {
            pairs: pairings(rules.rules()),
            rules: rules.rules().to_vec(),
            compiled,
            global,
            keywords,
            keyword_rules: gates.keyword_rules,
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
        let mut ctx = Ctx::new(ScanState::new(scratch, sink, name), &budget);
        let _ = nested::scan_stream(self, &mut ctx, 0, name, &mut counted);
        ctx.into_scan().finish(counted.count)
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
}

/// Marks the rules composite rules require, and gives each composite rule its requirements.
fn link_composites(rules: &[Rule], compiled: &mut [Compiled]) -> crate::Result<()> {
    for (i, rule) in rules.iter().enumerate() {
        for req in &rule.required {
            let Some(at) = rules.iter().position(|r| r.id == req.id) else {
                let message = format!("requires rule {:?}, which is not loaded", req.id);
                return Err(Error::Rule { rule: rule.id.clone(), message });
            };
            compiled[at].component = true;
            let (within_lines, within_columns) = (req.within_lines, req.within_columns);
            compiled[i].required.push(Requirement { rule: at, within_lines, within_columns });
        }
    }
    Ok(())
}

/// The rules' pairings whose partner rule is loaded (a partner disabled or overridden away
/// leaves its rule unpaired, not an error: pairing only adds a note).
fn pairings(rules: &[Rule]) -> Vec<Pairing> {
    let mut pairs = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let Some(pair) = &rule.pair else { continue };
        if let Some(with) = rules.iter().position(|r| r.id == pair.with) {
            pairs.push(Pairing { rule: i, with, within: pair.within });
        }
    }
    pairs
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
