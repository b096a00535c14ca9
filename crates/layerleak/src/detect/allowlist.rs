//! Allowlists: the built-in one (placeholders, documentation values, templates) and compiled
//! gitleaks-style ones (global and per rule).

use regex::bytes::Regex;

use super::rule::{compile, Allowlist, RegexTarget};

/// Documentation values published by vendors; never real.
const DOC_VALUES: &[&[u8]] = &[b"AKIAIOSFODNN7EXAMPLE", b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"];

/// Case-insensitive substrings that mark a placeholder.
const PLACEHOLDER_WORDS: &[&[u8]] =
    &[b"example", b"sample", b"dummy", b"placeholder", b"changeme", b"your_", b"your-", b"xxxx"];

/// Length of an ascending run (`abcdef`, `123456`) that marks a made-up value. A random base62
/// string holds one with probability about `len / 62^5`, which is negligible.
const SEQUENTIAL_RUN: usize = 6;

/// Generic rules ignore secrets shorter than this.
const GENERIC_MIN_LEN: usize = 8;

/// Whether the built-in allowlist drops `secret`.
pub(crate) fn builtin_allows(secret: &[u8], generic: bool) -> bool {
    if generic && secret.len() < GENERIC_MIN_LEN {
        return true;
    }
    if DOC_VALUES.contains(&secret) {
        return true;
    }
    let lower = secret.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.iter().any(|w| memchr::memmem::find(&lower, w).is_some()) {
        return true;
    }
    is_template(secret) || is_monotone(secret)
}

/// `${VAR}`, `$VAR`, `{{ var }}`, `<token>`, `%s`.
fn is_template(s: &[u8]) -> bool {
    let has = |needle: &[u8]| memchr::memmem::find(s, needle).is_some();
    if has(b"${") || has(b"{{") || has(b"%s") {
        return true;
    }
    if s.len() >= 2 && s[0] == b'<' && s[s.len() - 1] == b'>' {
        return true;
    }
    match s {
        [b'$', first, rest @ ..] => {
            (first.is_ascii_alphabetic() || *first == b'_')
                && rest.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        }
        _ => false,
    }
}

/// All the same character, or holding an ascending run, in the secret or in its body after a
/// `prefix_`.
fn is_monotone(s: &[u8]) -> bool {
    let body = match memchr::memrchr(b'_', s) {
        Some(i) if s.len() - i > GENERIC_MIN_LEN => &s[i + 1..],
        _ => s,
    };
    if body.len() >= 2 && body.iter().all(|&b| b == body[0]) {
        return true;
    }
    let mut run = 1;
    for pair in s.windows(2) {
        if pair[1] == pair[0].wrapping_add(1) && pair[1].is_ascii_alphanumeric() {
            run += 1;
            if run >= SEQUENTIAL_RUN {
                return true;
            }
        } else {
            run = 1;
        }
    }
    false
}

/// A gitleaks-style allowlist with its regexes compiled.
#[derive(Debug)]
pub(crate) struct CompiledAllowlist {
    regexes: Vec<Regex>,
    target: RegexTarget,
    stopwords: Vec<Vec<u8>>,
    paths: Vec<Regex>,
    all: bool,
}

/// What an allowlist can look at for one candidate finding.
pub(crate) struct Candidate<'a> {
    pub secret: &'a [u8],
    pub whole: &'a [u8],
    pub line: &'a [u8],
    pub path: &'a [u8],
}

impl CompiledAllowlist {
    pub(crate) fn new(a: &Allowlist) -> Result<CompiledAllowlist, regex::Error> {
        Ok(CompiledAllowlist {
            regexes: a.regexes.iter().map(|r| compile(r)).collect::<Result<_, _>>()?,
            target: a.regex_target,
            stopwords: a.stopwords.iter().map(|s| s.as_bytes().to_ascii_lowercase()).collect(),
            paths: a.paths.iter().map(|r| compile(r)).collect::<Result<_, _>>()?,
            all: a.all,
        })
    }

    /// Whether this allowlist drops the candidate.
    pub(crate) fn allows(&self, c: &Candidate<'_>) -> bool {
        let target = match self.target {
            RegexTarget::Secret => c.secret,
            RegexTarget::Match => c.whole,
            RegexTarget::Line => c.line,
        };
        let mut checks: Vec<bool> = Vec::with_capacity(3);
        if !self.regexes.is_empty() {
            checks.push(self.regexes.iter().any(|r| r.is_match(target)));
        }
        if !self.stopwords.is_empty() {
            let lower = c.secret.to_ascii_lowercase();
            checks.push(self.stopwords.iter().any(|w| memchr::memmem::find(&lower, w).is_some()));
        }
        if !self.paths.is_empty() {
            checks.push(self.paths.iter().any(|r| r.is_match(c.path)));
        }
        if self.all {
            !checks.is_empty() && checks.iter().all(|&b| b)
        } else {
            checks.iter().any(|&b| b)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_dropped() {
        for s in [
            &b"AKIAIOSFODNN7EXAMPLE"[..],
            b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            b"my-Sample-token-9f8e7d",
            b"ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            b"${GITHUB_TOKEN}",
            b"$API_KEY",
            b"{{ .Values.token }}",
            b"<your token>",
            b"token-%s",
            b"aaaaaaaaaaaaaaaa",
            b"abcdefghQ9",
            b"x1234567",
            b"CHANGEME-now-9f8e",
        ] {
            assert!(builtin_allows(s, false), "{}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn real_looking_secrets_pass() {
        assert!(!builtin_allows(b"Zq7mP2vX9kL4tR8wN3bY6cH1dF5gJ0", false));
        assert!(!builtin_allows(b"AKIAQ3EGRT5LWZ2XH7NB", false));
        assert!(builtin_allows(b"Zq7mP2v", true), "short generic secret");
        assert!(!builtin_allows(b"Zq7mP2v", false), "length only gates generic rules");
    }

    #[test]
    fn and_condition_needs_every_check() {
        let a = Allowlist {
            stopwords: vec!["test".into()],
            paths: vec![r"^fixtures/".into()],
            all: true,
            ..Allowlist::default()
        };
        let c = CompiledAllowlist::new(&a).unwrap();
        let cand = |secret: &'static [u8], path: &'static [u8]| Candidate {
            secret,
            whole: secret,
            line: secret,
            path,
        };
        assert!(c.allows(&cand(b"my-test-key", b"fixtures/a")));
        assert!(!c.allows(&cand(b"my-test-key", b"src/a")));
        let or = CompiledAllowlist::new(&Allowlist { all: false, ..a }).unwrap();
        assert!(or.allows(&cand(b"my-test-key", b"src/a")));
    }
}
