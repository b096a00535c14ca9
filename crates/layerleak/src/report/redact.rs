//! Redacting the texts of a report: every occurrence of a detected secret in any text that leaves
//! the library (step texts, paths, labels, image names, notes, error messages) is replaced by its
//! [`redact`] form, the same form a finding's `redacted` field shows.
//!
//! A build `ARG` leaks its value into `history[].created_by` of every later `RUN` step; that step
//! text is also the "added in" line of every finding in the layers those steps built. Redacting
//! only the finding that points at the history entry would still print the token once per
//! finding, so the report knows the secrets it found ([`Secrets`]) and redacts all its texts
//! with them ([`Texts`]).
//!
//! # Security
//!
//! The secret bytes are held in memory only, never serialized, never printed by `Debug`.
//!
//! [`redact`]: crate::detect::redact

use std::collections::BTreeMap;
use std::fmt;

use aho_corasick::{AhoCorasick, MatchKind};

use super::{
    ErrorRecord, Finding, HiddenRef, ImageReport, LayerRef, LayerReport, Location, Occurrence, Report,
};
use crate::image::{MediaType, Platform};

/// The secrets detected in an image or a report, and the matcher that finds them in a text.
#[derive(Clone, Default)]
pub(crate) struct Secrets {
    /// Each secret as UTF-8 text (lossily, as the report's texts are; never empty), with the
    /// [`redact`](crate::detect::redact) form of its bytes.
    texts: BTreeMap<String, String>,
    /// Built on first use after a change: one automaton over every secret.
    matcher: Option<Matcher>,
}

#[derive(Clone)]
struct Matcher {
    automaton: AhoCorasick,
    /// The [`redact`](crate::detect::redact) form of each pattern, by pattern index.
    replacements: Vec<String>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets({} redacted)", self.texts.len())
    }
}

impl Secrets {
    /// Adds one detected secret (its exact bytes) with its [`redact`](crate::detect::redact)
    /// form, computed once where the secret was found.
    pub(crate) fn insert(&mut self, secret: &[u8], redacted: &str) {
        if secret.is_empty() {
            return;
        }
        // The texts of a report are UTF-8: a secret that is not shows there in its lossy form.
        let text = String::from_utf8_lossy(secret);
        if !self.texts.contains_key(text.as_ref()) {
            self.texts.insert(text.into_owned(), redacted.to_string());
            self.matcher = None;
        }
    }

    /// Adds every secret of `other`; whether any was new.
    pub(crate) fn extend(&mut self, other: &Secrets) -> bool {
        let before = self.texts.len();
        self.texts.extend(other.texts.iter().map(|(t, r)| (t.clone(), r.clone())));
        let grew = self.texts.len() > before;
        if grew {
            self.matcher = None;
        }
        grew
    }

    pub(crate) fn len(&self) -> usize {
        self.texts.len()
    }

    /// Redacts every text of `item`. Nothing to do, and nothing built, without secrets.
    pub(crate) fn redact_texts(&mut self, item: &mut dyn Texts) {
        if self.texts.is_empty() {
            return;
        }
        let matcher = match self.matcher.take() {
            Some(m) => m,
            None => match Matcher::new(&self.texts) {
                Some(m) => m,
                None => return,
            },
        };
        item.texts(&mut |s| matcher.redact(s));
        self.matcher = Some(matcher);
    }
}

impl Matcher {
    /// `None` only when the automaton cannot be built (its size is bounded by the secrets, which
    /// are bounded by `max_findings` per image).
    fn new(texts: &BTreeMap<String, String>) -> Option<Matcher> {
        // Leftmost-longest: a secret that contains another is replaced whole.
        let automaton =
            AhoCorasick::builder().match_kind(MatchKind::LeftmostLongest).build(texts.keys()).ok()?;
        let replacements = texts.values().cloned().collect();
        Some(Matcher { automaton, replacements })
    }

    fn redact(&self, s: &mut String) {
        // Patterns and texts are both UTF-8, so every match starts and ends on a char boundary.
        if self.automaton.is_match(s.as_str()) {
            *s = self.automaton.replace_all(s, &self.replacements);
        }
    }
}

/// A report type whose texts can be visited: every `String` it carries except the secret
/// itself, its redacted form and its fingerprint (digests and enums hold no free text).
///
/// Each implementation destructures its type without `..`, so a new field does not compile
/// until it is listed here.
pub(crate) trait Texts {
    /// Calls `f` on every text.
    fn texts(&mut self, f: &mut dyn FnMut(&mut String));
}

impl Texts for Report {
    fn texts(&mut self, f: &mut dyn FnMut(&mut String)) {
        let Report { schema: _, tool, images, findings, errors, notes, stats: _, secrets: _ } = self;
        f(&mut tool.name);
        f(&mut tool.version);
        for i in images {
            i.texts(f);
        }
        for x in findings {
            x.texts(f);
        }
        for e in errors {
            e.texts(f);
        }
        notes.iter_mut().for_each(f);
    }
}

impl Texts for ImageReport {
    fn texts(&mut self, f: &mut dyn FnMut(&mut String)) {
        let ImageReport {
            input,
            kind: _,
            name,
            tags,
            platform,
            manifest_digest: _,
            config_digest: _,
            layers,
            findings: _,
            findings_packaged: _,
        } = self;
        f(input);
        f(name);
        tags.iter_mut().for_each(&mut *f);
        platform_texts(platform, f);
        for l in layers {
            l.texts(f);
        }
    }
}

impl Texts for LayerReport {
    fn texts(&mut self, f: &mut dyn FnMut(&mut String)) {
        let LayerReport {
            index: _,
            digest: _,
            diff_id: _,
            digest_verified: _,
            diff_id_verified: _,
            media_type,
            compression: _,
            compressed_size: _,
            uncompressed_size: _,
            created_by,
            history: _,
            entries: _,
            files_added: _,
            files_overwritten: _,
            paths_deleted: _,
            bytes_wasted: _,
            secrets_introduced: _,
            secrets_hidden: _,
            secrets_packaged: _,
            complete: _,
        } = self;
        if let Some(MediaType::Other(m)) = media_type {
            f(m);
        }
        created_by.iter_mut().for_each(f);
    }
}

impl Texts for Finding {
    fn texts(&mut self, f: &mut dyn FnMut(&mut String)) {
        let Finding {
            rule,
            title,
            severity: _,
            fingerprint: _,
            redacted: _,
            secret: _,
            validation: _,
            entropy: _,
            image,
            platform,
            location,
            introduced_in,
            hidden_in,
            status: _,
            visible: _,
            also_in,
            note,
            remediation,
            package,
        } = self;
        f(rule);
        if let Some(p) = package {
            f(&mut p.name);
            f(&mut p.version);
        }
        f(title);
        f(image);
        platform_texts(platform, f);
        location.texts(f);
        if let Some(l) = introduced_in {
            l.texts(f);
        }
        if let Some(HiddenRef { layer, how: _ }) = hidden_in {
            layer.texts(f);
        }
        for Occurrence { location, layer: _, status: _, hidden_by: _ } in also_in {
            location.texts(f);
        }
        note.iter_mut().for_each(&mut *f);
        f(remediation);
    }
}

impl Texts for Location {
    fn texts(&mut self, f: &mut dyn FnMut(&mut String)) {
        let Location { source: _, path, inner, offset: _, line: _, column: _, aliases } = self;
        f(path);
        inner.iter_mut().for_each(&mut *f);
        aliases.iter_mut().for_each(f);
    }
}

impl Texts for LayerRef {
    fn texts(&mut self, f: &mut dyn FnMut(&mut String)) {
        let LayerRef { index: _, digest: _, diff_id: _, created_by } = self;
        created_by.iter_mut().for_each(f);
    }
}

impl Texts for ErrorRecord {
    fn texts(&mut self, f: &mut dyn FnMut(&mut String)) {
        let ErrorRecord { kind, message, at } = self;
        f(kind);
        f(message);
        let crate::At { image, layer: _, layer_digest: _, path, offset: _ } = at;
        image.iter_mut().for_each(&mut *f);
        path.iter_mut().for_each(f);
    }
}

fn platform_texts(platform: &mut Option<Platform>, f: &mut dyn FnMut(&mut String)) {
    if let Some(Platform { os, architecture, variant }) = platform {
        f(os);
        f(architecture);
        variant.iter_mut().for_each(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::redact;

    fn redacted(secrets: &[&[u8]], text: &str) -> String {
        let mut set = Secrets::default();
        for s in secrets {
            set.insert(s, &redact(s));
        }
        let mut e = ErrorRecord { kind: "io".into(), message: text.into(), at: crate::At::none() };
        set.redact_texts(&mut e);
        e.message
    }

    #[test]
    fn every_occurrence_is_replaced_by_the_findings_redacted_form() {
        let npm = b"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";
        let step = "|1 NPM_TOKEN=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 /bin/sh -c echo \
                    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 > .npmrc";
        assert_eq!(redacted(&[npm], step), "|1 NPM_TOKEN=npm_***** /bin/sh -c echo npm_***** > .npmrc");
        assert_eq!(redacted(&[npm], "nothing here"), "nothing here");
    }

    #[test]
    fn a_secret_containing_another_is_replaced_whole() {
        let outer = b"postgres-password-0123456789";
        let inner = b"password";
        assert_eq!(redacted(&[inner, outer], "x postgres-password-0123456789 y"), "x post***** y");
        assert_eq!(redacted(&[inner, outer], "a password b"), "a ***** b");
    }

    #[test]
    fn a_secret_that_is_not_utf8_is_found_in_its_lossy_form() {
        let s = b"\xffsecret-bytes-0123456789";
        let text = format!("path {}", String::from_utf8_lossy(s));
        assert_eq!(redacted(&[s], &text), "path ?sec*****");
    }

    #[test]
    fn debug_never_shows_the_secrets() {
        let mut set = Secrets::default();
        let token = b"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";
        set.insert(token, &redact(token));
        assert_eq!(format!("{set:?}"), "Secrets(1 redacted)");
    }
}
