//! Rules that prove themselves: every rule's positive examples must yield a finding of that rule
//! and its negative examples none, read whole and in small reads so window-boundary bugs show.
//! The built-in catalogue's test and `layerleak rules check` run the same check.

use std::io::Read;
use std::ops::ControlFlow;

use super::engine::{DetectOptions, Detector, Scratch};
use super::rule::RuleSet;

/// Read sizes every positive example is also scanned with: each must give the same matches as
/// one whole read.
const READ_SIZES: [usize; 3] = [1, 7, 64];

/// One example that did not behave as its rule says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExampleFailure {
    /// The rule's id.
    pub rule: String,
    /// What went wrong, with the example text.
    pub message: String,
}

/// What [`check_examples`] found.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ExampleReport {
    /// Positive examples run.
    pub positives: usize,
    /// Negative examples run.
    pub negatives: usize,
    /// Every failure, in rule order.
    pub failures: Vec<ExampleFailure>,
}

/// Runs every example of every rule in `rules`, each rule on its own terms: with one finding per
/// span, a provider rule would win a span that a credential-file rule also captures, so spans are
/// not deduplicated here. `require` also asks each rule for at least one positive and one
/// negative example and for keywords or a reason to have none (the built-in catalogue's bar).
pub fn check_examples(rules: &RuleSet, require: bool) -> crate::Result<ExampleReport> {
    let opts = DetectOptions { one_per_span: false, report_hidden: true, ..DetectOptions::default() };
    let d = Detector::new(rules, opts)?;
    let mut report = ExampleReport::default();
    let mut scratch = Scratch::new();
    for (ri, rule) in d.rules().iter().enumerate() {
        let mut fail = |message: String| {
            report.failures.push(ExampleFailure { rule: rule.id.clone(), message });
        };
        let ex = &rule.examples;
        if require && (ex.positive.is_empty() || ex.negative.is_empty()) {
            fail("needs at least one positive and one negative example".into());
        }
        if require && rule.keywords.is_empty() && rule.nokeyword_reason.as_deref().is_none_or(str::is_empty) {
            fail("no keywords and no nokeyword_reason".into());
        }
        for text in &ex.positive {
            let whole = run(&d, &ex.path, text.as_bytes(), usize::MAX, &mut scratch);
            // A path-only rule's secret is the file's digest, not bytes of it.
            let in_text = |m: &&Found| !d.rules()[m.0].is_path_only();
            if let Some(m) = whole.iter().filter(in_text).find(|m| !at_its_offset(text.as_bytes(), m)) {
                fail(format!("a match of {} is not at its offset in {text:?}", d.rules()[m.0].id));
            }
            if !whole.iter().any(|m| m.0 == ri) {
                fail(format!("positive example gave no finding: {text:?}"));
            }
            for size in READ_SIZES {
                if run(&d, &ex.path, text.as_bytes(), size, &mut scratch) != whole {
                    fail(format!("reads of {size} bytes find other matches than one read in {text:?}"));
                }
            }
        }
        for text in &ex.negative {
            if run(&d, &ex.path, text.as_bytes(), usize::MAX, &mut scratch).iter().any(|m| m.0 == ri) {
                fail(format!("negative example gave a finding: {text:?}"));
            }
        }
        report.positives += ex.positive.len();
        report.negatives += ex.negative.len();
    }
    Ok(report)
}

/// A match as (rule, offset, secret).
type Found = (usize, u64, Vec<u8>);

fn at_its_offset(data: &[u8], m: &Found) -> bool {
    usize::try_from(m.1).ok().and_then(|s| data.get(s..s.checked_add(m.2.len())?)) == Some(&m.2[..])
}

fn run(d: &Detector, name: &str, data: &[u8], size: usize, scratch: &mut Scratch) -> Vec<Found> {
    let mut found = Vec::new();
    let mut reader = Chunked { data, size };
    d.scan_reader(name.as_bytes(), &mut reader, scratch, &mut |m| {
        found.push((m.rule, m.offset, m.secret));
        ControlFlow::Continue(())
    });
    found
}

/// A reader that returns at most `size` bytes per call, so window refills happen at every size.
struct Chunked<'a> {
    data: &'a [u8],
    size: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.size.min(buf.len()).min(self.data.len());
        buf[..k].copy_from_slice(&self.data[..k]);
        self.data = &self.data[k..];
        Ok(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_examples_are_named() {
        let set = RuleSet::from_toml(
            r#"
[[rules]]
id = "t-token"
regex = '''\b(tt_[0-9a-z]{12})\b'''
keywords = ["tt_"]
[rules.examples]
positive = ["key = tt_q8w7e6r5t4y3", "key = tt_short"]
negative = ["tt_", "key = tt_z9x8c7v6b5n4"]
"#,
            "t.toml",
        )
        .unwrap();
        let report = check_examples(&set, true).unwrap();
        assert_eq!((report.positives, report.negatives), (2, 2));
        let messages: Vec<&str> = report.failures.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].starts_with("positive example gave no finding") && messages[0].contains("tt_short")
        );
        assert!(messages[1].starts_with("negative example gave a finding"));
    }

    #[test]
    fn the_builtin_bar_asks_for_examples_and_keywords() {
        let set = RuleSet::from_toml("[[rules]]\nid='bare'\nregex='\\w{2}[0-9]{4}'\n", "t").unwrap();
        assert_eq!(check_examples(&set, false).unwrap().failures, []);
        let failures = check_examples(&set, true).unwrap().failures;
        assert_eq!(failures.len(), 2, "{failures:?}");
    }
}
