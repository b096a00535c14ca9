//! The rules' policy on what their regexes matched, as data: entropy floors, the built-in and
//! the rules' allowlists, validation ([`Detector::check`], per match), then per window the
//! composite rules' requirements, generic rules yielding to provider rules, pairing
//! ([`crate::detect::Pair`]) and one finding per span ([`Detector::settle`]). Nothing here names
//! a rule: what a rule needs is a field of it.

use super::allowlist::{builtin_allows, is_word_chain, Candidate, CompiledAllowlist};
use super::composite::satisfied;
use super::engine::{Compiled, Detector};
use super::entropy::shannon_entropy;
use super::redact::redact;
use super::rule::Validator;
use super::validate::{validate, Validation};

/// A match that passed its rule's gates, waiting for the window's policy and the sink.
#[derive(Debug, Clone)]
pub(super) struct Pending {
    pub(super) rule: usize,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) entropy: f64,
    pub(super) validation: Validation,
    pub(super) note: Option<String>,
}

/// A rule's [`crate::detect::Pair`], resolved to rule indices: a match of `rule` within `within`
/// bytes of a match of `with` is noted as paired with it.
#[derive(Debug)]
pub(super) struct Pairing {
    pub(super) rule: usize,
    pub(super) with: usize,
    pub(super) within: u64,
}

impl Detector {
    /// The allowlists that apply to rule `ri`: its own, then the file-wide ones that target it.
    pub(super) fn allowlists(&self, ri: usize) -> impl Iterator<Item = &CompiledAllowlist> {
        let id = &self.rules[ri].id;
        self.compiled[ri].allowlists.iter().chain(self.global.iter().filter(move |a| a.targets(id)))
    }

    /// Entropy, allowlists, validation. `None` when the candidate is dropped. `names`: the
    /// stream's name and, inside an archive, the outermost file's path.
    pub(super) fn check(
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

    /// The window's policy on its matches `pending`, in order: composite rules keep the matches
    /// their required rules' matches (`near`) lie close to, generic rules drop what a provider
    /// rule's span (`claims`) overlaps, pairings note their partners (`partners`: per pairing,
    /// the last partner of an earlier window), and one finding is kept per span. `pending` ends
    /// sorted by start. `buf` is the window, `base` its offset in the stream.
    pub(super) fn settle(
        &self,
        buf: &[u8],
        base: u64,
        near: &[(usize, usize)],
        claims: &[(usize, usize)],
        partners: &mut [Option<(u64, String)>],
        pending: &mut Vec<Pending>,
    ) {
        pending.retain(|p| {
            let req = &self.compiled[p.rule].required;
            req.is_empty() || satisfied(buf, p.start, req, near)
        });
        drop_claimed_generics(&self.compiled, claims, pending);
        pending.sort_by_key(|p| (p.start, p.rule));
        self.pair(buf, base, pending, partners);
        self.dedup_spans(pending);
    }

    /// Notes each match of a pairing's rule found within its distance of a match of the rule it
    /// pairs with, in this window or (`partners`) the last one of an earlier window.
    fn pair(&self, buf: &[u8], base: u64, pending: &mut [Pending], partners: &mut [Option<(u64, String)>]) {
        for (pairing, last) in self.pairs.iter().zip(partners) {
            let ids: Vec<(u64, String)> = pending
                .iter()
                .filter(|p| p.rule == pairing.with)
                .map(|p| (base + p.start as u64, redact(&buf[p.start..p.end])))
                .collect();
            for p in pending.iter_mut().filter(|p| p.rule == pairing.rule && p.note.is_none()) {
                let at = base + p.start as u64;
                let near = ids.iter().chain(last.iter()).find(|(o, _)| o.abs_diff(at) <= pairing.within);
                if let Some((_, id)) = near {
                    p.note = Some(format!("paired with {} {id}", self.rules[pairing.with].id));
                }
            }
            if let Some(l) = ids.into_iter().last() {
                *last = Some(l);
            }
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
}

/// Drops generic findings whose secret overlaps a span a provider rule matched: a generic rule
/// reports only what no provider rule recognises.
fn drop_claimed_generics(compiled: &[Compiled], claims: &[(usize, usize)], pending: &mut Vec<Pending>) {
    if claims.is_empty() {
        return;
    }
    pending.retain(|p| !compiled[p.rule].generic || !claims.iter().any(|&(s, e)| s < p.end && p.start < e));
}
