//! Allowlists: the built-in one (placeholders, documentation values, templates) and compiled
//! gitleaks-style ones (global and per rule).

use std::sync::OnceLock;

use regex::bytes::Regex;

use super::rule::{compile, Allowlist, RegexTarget};

/// Documentation values published by vendors and RFCs; never real. RFC 6749 (OAuth 2.0) sections
/// 2.3.1, 4.1.3 and 5.1 give the client credentials and tokens that OAuth libraries ship in their
/// tests and docstrings.
const DOC_VALUES: &[&[u8]] = &[
    b"AKIAIOSFODNN7EXAMPLE",
    b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    b"czZCaGRSa3F0MzpnWDFmQmF0M2JW",
    b"2YotnFZFEjr1zCsicMWpAA",
    b"tGzv3JOkF0XG5Qx2TlKWIA",
    // Stripe's API reference and quickstarts.
    b"sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    b"pk_test_TYooMQauvdEDq54NiTphI7jx",
    b"sk_test_BQokikJOvBiI2HlWgH4olfQ2",
    // GitHub's documentation of personal access tokens.
    b"ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    // The token jwt.io's debugger opens with.
    b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
];

/// Case-insensitive substrings that mark a placeholder.
const PLACEHOLDER_WORDS: &[&[u8]] = &[
    b"example",
    b"sample",
    b"dummy",
    b"placeholder",
    b"changeme",
    b"your_",
    b"your-",
    b"_here",
    b"-here",
    b"xxxx",
    b"redacted",
    b"replace_me",
    b"replaceme",
    b"...",
];

/// Length of an ascending or descending run (`abcdef`, `654321`) that marks a made-up value. A
/// random base62 string holds one with probability about `2 * len / 62^5`, which is negligible.
const SEQUENTIAL_RUN: usize = 6;

/// A run of one repeated character at least this long, and at least a third of the secret
/// (`AIzaaaaaaaaa…`, `hvb.cccc…`), marks a placeholder. Formats with a structural run of zeros
/// (`AAAAAAAAAA` in Dropbox and X bearer tokens) keep their run below a third of the token.
const REPEAT_RUN: usize = 8;

/// Generic rules ignore secrets shorter than this.
const GENERIC_MIN_LEN: usize = 8;

/// Entropy (bits per byte) below which a key block's base64 body is a placeholder (`xxxx…`,
/// `AAAA…`, `...`); a real key's body is above 5.
const BLOCK_MIN_ENTROPY: f64 = 4.0;

/// Whether the built-in allowlist drops `secret`. `generic`: the rule is a generic key-name rule;
/// `block`: the secret is a key block (a rule with the `pem` validator).
pub(crate) fn builtin_allows(secret: &[u8], generic: bool, block: bool) -> bool {
    if block {
        return placeholder_block(secret);
    }
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
    is_template(secret) || is_monotone(secret) || (generic && is_code_like(secret))
}

/// A key block whose base64 body is no key: under 16 characters or of low entropy. Placeholder
/// words are not looked for: a random body holds `xxxx` (any case) somewhere for about one RSA
/// key in 600, and armor headers may name `example.org`; such real keys must not be dropped.
fn placeholder_block(s: &[u8]) -> bool {
    let mut body = Vec::with_capacity(s.len());
    for line in s.split(|&b| b == b'\n') {
        let line = line.trim_ascii();
        if line.starts_with(b"-----") || line.starts_with(b"=") || line.contains(&b':') {
            continue;
        }
        body.extend(line.iter().filter(|b| b.is_ascii_alphanumeric() || b"+/".contains(b)));
    }
    body.len() < 16 || super::entropy::shannon_entropy(&body) < BLOCK_MIN_ENTROPY
}

/// A value a generic key-name rule catches in code, docs and binaries rather than a secret: a
/// word or identifier without digits (`checkIsHttpToken`, `_S_token_bracket_begin`, `Optional.`,
/// translated words in `.mo` files), or a slash-separated resource name
/// (`projects/p/secrets/s/versions/1`). A random token of 8 or more base62 characters holds no
/// digit with probability `(52/62)^8`, about 24%, so this is for generic rules only: their
/// entropy floor already treats short letter-only values as words.
fn is_code_like(s: &[u8]) -> bool {
    let word = s.strip_suffix(b".").unwrap_or(s);
    if !word.is_empty() && word.iter().all(|&b| b.is_ascii_alphabetic() || b == b'_') {
        return true;
    }
    if camel_words(s) >= CAMEL_WORDS {
        return true;
    }
    let mut segments = s.split(|&b| b == b'/');
    let first = segments.next().unwrap_or_default();
    let rest: Vec<&[u8]> = segments.collect();
    rest.len() >= 2
        && !first.is_empty()
        && first.iter().all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && rest.iter().all(|seg| {
            !seg.is_empty() && seg.iter().all(|&b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        })
}

/// Words of letters joined by `.`, `-` or `_`, an optional `.` after (`always-impersonate`,
/// `server-side-encryption-header`, `firstboot.locale-messages`, `google.auth.Credentials.`):
/// an option value, header name or dotted name where a generic rule's key name stands, never a
/// machine-made key. Passwords may be such words (`correct-horse-battery-staple`), so the
/// generic password rules do not ask.
pub(crate) fn is_word_chain(s: &[u8]) -> bool {
    let s = s.strip_suffix(b".").unwrap_or(s);
    let mut words = s.split(|&b| b"._-".contains(&b));
    words.clone().count() >= 2 && words.all(|w| !w.is_empty() && w.iter().all(u8::is_ascii_alphabetic))
}

/// `${VAR}`, `$VAR`, `$(cmd)`, `{{ var }}`, `{VAR}`, `<token>`, `%s`, `%(name)s`, and a value
/// opening with a printf or Go format verb (`%v`, `%w`, `%d`, ...), which is how string tables in
/// Go binaries read.
fn is_template(s: &[u8]) -> bool {
    let has = |needle: &[u8]| memchr::memmem::find(s, needle).is_some();
    if has(b"${") || has(b"$(") || has(b"{{") || has(b"%s") || has(b"%(") {
        return true;
    }
    let enclosed = |open: u8, close: u8| s.len() >= 2 && s[0] == open && s[s.len() - 1] == close;
    if enclosed(b'<', b'>') {
        return true;
    }
    if enclosed(b'{', b'}') && s[1..s.len() - 1].iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_') {
        return true;
    }
    if let [b'%', verb, ..] = s {
        if b"vwdqxXTt".contains(verb) {
            return true;
        }
    }
    match s {
        [b'$', first, rest @ ..] => {
            (first.is_ascii_alphabetic() || *first == b'_')
                && rest.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        }
        _ => false,
    }
}

/// All the same character (in the secret or in its body after a `prefix_`), a long run of one
/// character, or an ascending or descending run.
fn is_monotone(s: &[u8]) -> bool {
    let body = match memchr::memrchr(b'_', s) {
        Some(i) if s.len() - i > GENERIC_MIN_LEN => &s[i + 1..],
        _ => s,
    };
    if body.len() >= 2 && body.iter().all(|&b| b == body[0]) {
        return true;
    }
    let (mut up, mut down, mut same, mut longest_same) = (1, 1, 1, 1);
    for pair in s.windows(2) {
        let alnum = pair[1].is_ascii_alphanumeric();
        up = if alnum && pair[1] == pair[0].wrapping_add(1) { up + 1 } else { 1 };
        down = if alnum && pair[1] == pair[0].wrapping_sub(1) { down + 1 } else { 1 };
        same = if pair[1] == pair[0] { same + 1 } else { 1 };
        longest_same = longest_same.max(same);
        if up >= SEQUENTIAL_RUN || down >= SEQUENTIAL_RUN {
            return true;
        }
    }
    longest_same >= REPEAT_RUN && longest_same * 3 >= s.len()
}

/// Consecutive capitalized words (`ServiceAccountToken`) that mark an identifier or a run of
/// identifiers in a binary's string table. One such word (`[A-Z][a-z]{3,}`) starts at a given
/// place of a random base62 string with probability about `(26/62)^4`, 3%, so three in a row
/// are rare enough to cost generic rules nothing.
const CAMEL_WORDS: usize = 3;

/// The longest run of consecutive `[A-Z][a-z]{3,}` words in `s`.
fn camel_words(s: &[u8]) -> usize {
    let (mut best, mut run, mut i) = (0, 0, 0);
    while i < s.len() {
        let lower = s[i + 1..].iter().take_while(|b| b.is_ascii_lowercase()).count();
        if s[i].is_ascii_uppercase() && lower >= 3 {
            // A version may end a word (`Oauth2ClientCredentials`): digits after three letters.
            let digits = s[i + 1 + lower..].iter().take_while(|b| b.is_ascii_digit()).count();
            run += 1;
            best = best.max(run);
            i += 1 + lower + digits;
        } else {
            run = 0;
            i += 1;
        }
    }
    best
}

/// A gitleaks-style allowlist, its regexes compiled when it first judges a candidate: the
/// catalogue has hundreds of allowlists, and only those of rules that match are ever asked.
#[derive(Debug)]
pub(crate) struct CompiledAllowlist {
    source: Allowlist,
    /// The regexes and path regexes (`None`: one did not compile, which a checked rule set
    /// rules out; the allowlist then drops nothing).
    compiled: OnceLock<Option<(Vec<Regex>, Vec<Regex>)>>,
    stopwords: Vec<Vec<u8>>,
}

/// What an allowlist can look at for one candidate finding.
pub(crate) struct Candidate<'a> {
    pub secret: &'a [u8],
    pub whole: &'a [u8],
    pub line: &'a [u8],
    pub path: &'a [u8],
    /// The path of the outermost file, when `path` names a member of an archive in it.
    pub outer: Option<&'a [u8]>,
}

impl CompiledAllowlist {
    pub(crate) fn new(a: &Allowlist) -> CompiledAllowlist {
        CompiledAllowlist {
            stopwords: a.stopwords.iter().map(|s| s.as_bytes().to_ascii_lowercase()).collect(),
            source: a.clone(),
            compiled: OnceLock::new(),
        }
    }

    /// Whether this (file-wide) allowlist applies to rule `id`: it names no rules, or names it.
    pub(crate) fn targets(&self, id: &str) -> bool {
        self.source.target_rules.is_empty() || self.source.target_rules.iter().any(|r| r == id)
    }

    /// Whether this allowlist drops the candidate.
    pub(crate) fn allows(&self, c: &Candidate<'_>) -> bool {
        let compiled = self.compiled.get_or_init(|| {
            let all = |res: &[String]| res.iter().map(|r| compile(r)).collect::<Result<Vec<_>, _>>().ok();
            Some((all(&self.source.regexes)?, all(&self.source.paths)?))
        });
        let Some((regexes, paths)) = compiled else { return false };
        let target = match self.source.regex_target {
            RegexTarget::Secret => c.secret,
            RegexTarget::Match => c.whole,
            RegexTarget::Line => c.line,
        };
        let mut checks: Vec<bool> = Vec::with_capacity(3);
        if !regexes.is_empty() {
            checks.push(regexes.iter().any(|r| r.is_match(target)));
        }
        if !self.stopwords.is_empty() {
            let lower = c.secret.to_ascii_lowercase();
            checks.push(self.stopwords.iter().any(|w| memchr::memmem::find(&lower, w).is_some()));
        }
        if !paths.is_empty() {
            let outer = |r: &Regex| c.outer.is_some_and(|o| r.is_match(o));
            checks.push(paths.iter().any(|r| r.is_match(c.path) || outer(r)));
        }
        if self.source.all {
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
    fn word_chains_are_words_joined_by_separators() {
        for s in [
            &b"always-impersonate"[..],
            b"server-side-encryption-header",
            b"passwd.plaintext-password.root",
            b"google.auth.credentials.Credentials.",
        ] {
            assert!(is_word_chain(s), "{}", String::from_utf8_lossy(s));
        }
        for s in
            [&b"alwaysimpersonate"[..], b"k9Xq-2mZ7-vB4n", b"abc-", b"-abc", b"a..b", b"Zq7mP2vX.9kL4tR8wN"]
        {
            assert!(!is_word_chain(s), "{}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn a_version_may_end_a_camel_word() {
        assert_eq!(camel_words(b"Oauth2ClientCredentials"), 3);
        assert_eq!(camel_words(b"Xk3dPq9aBn4rTz7w"), 0, "one or two letters before a digit are no word");
    }

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
            b"{ENCODED_PASSWORD}",
            b"%wreading",
            b"%vtext/javascript",
            b"2YotnFZFEjr1zCsicMWpAA",
        ] {
            assert!(builtin_allows(s, false, false), "{}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn repeated_character_runs_are_placeholders() {
        for s in [
            &b"AIzaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"[..],
            b"hvb.cccccccccccccccccccccccccccccccc",
            b"AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ",
            b"sk_live_00000000000000000000000000",
        ] {
            assert!(builtin_allows(s, false, false), "{}", String::from_utf8_lossy(s));
        }
        // A structural run of zeros that is a small part of the token is no placeholder.
        let x_bearer = b"AAAAAAAAAAAAAAAAAAAAAJq7mP2vX9kL4tR8wN3bY6cH1dF5gJ0Zq7mP2vX9kL4tR8wN3bY6cH1dF5gJ0Zq7mP2vX9kL4tR8wN3bY6cH1d";
        assert!(!builtin_allows(x_bearer, false, false));
        assert!(!builtin_allows(b"Zq7mP2vvvvX9kL4tR8wN3bY6", false, false), "a short run");
    }

    #[test]
    fn descending_runs_are_placeholders() {
        for s in [&b"sk_live_zyxwvutsrq9Km"[..], b"key-987654Zq7mP2vX9kL4", b"Zq7mFEDCBAvX9kL4"] {
            assert!(builtin_allows(s, false, false), "{}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn template_syntaxes_are_placeholders() {
        for s in
            [&b"%(db_password)s"[..], b"$(cat /run/secrets/token)", b"{{ secret }}", b"${{ secrets.TOKEN }}"]
        {
            assert!(builtin_allows(s, false, false), "{}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn placeholder_words_and_documentation_values_are_dropped() {
        for s in [
            &b"your_api_token_here"[..],
            b"put-the-key-here",
            b"REDACTED-9f8e7d6c",
            b"replace_me_Zq7mP2v",
            b"sk-proj-Zq7mP2vX...",
            b"sk_test_4eC39HqLyjWDarjtT1zdp7dc",
            b"pk_test_TYooMQauvdEDq54NiTphI7jx",
            b"ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        ] {
            assert!(builtin_allows(s, false, false), "{}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn real_looking_secrets_pass() {
        assert!(!builtin_allows(b"Zq7mP2vX9kL4tR8wN3bY6cH1dF5gJ0", false, false));
        assert!(!builtin_allows(b"AKIAQ3EGRT5LWZ2XH7NB", false, false));
        assert!(builtin_allows(b"Zq7mP2v", true, false), "short generic secret");
        assert!(!builtin_allows(b"Zq7mP2v", false, false), "length only gates generic rules");
        assert!(!builtin_allows(b"%41bc9Xz7Qp", false, false), "a percent-encoded value is no format verb");
        assert!(!builtin_allows(b"{Zq7mP2vX9kL4tR8wN}x", false, false), "braces that enclose nothing");
    }

    #[test]
    fn key_blocks_are_judged_by_their_body_not_by_words() {
        // A body that holds `xxxx` by chance, and a header naming example.org: real keys.
        let body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7xxxxQ5pYkR2mN8vT3bW";
        let key = format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----");
        assert!(builtin_allows(key.as_bytes(), false, false), "the word test alone drops it");
        assert!(!builtin_allows(key.as_bytes(), false, true));
        let pgp = format!(
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nComment: Alice <alice@example.org>\n\n{body}\n=Xq2v\n-----END PGP PRIVATE KEY BLOCK-----"
        );
        assert!(!builtin_allows(pgp.as_bytes(), false, true));
        for placeholder in
            ["xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "abc"]
        {
            let block = format!(
                "-----BEGIN OPENSSH PRIVATE KEY-----\n{placeholder}\n-----END OPENSSH PRIVATE KEY-----"
            );
            assert!(builtin_allows(block.as_bytes(), false, true), "{placeholder}");
        }
    }

    #[test]
    fn code_like_values_are_dropped_by_generic_rules_only() {
        for s in [
            &b"checkIsHttpToken"[..],
            b"_S_token_bracket_begin",
            b"Optional.",
            b"Adgangskode",
            b"projects/my-project/secrets/my-secret/versions/2",
            b"V1ServiceAccountTokenProjection",
            b"PhoenicianPluginSpecProcessingRIPEMD-160RST_STREAM",
            b"AmazonLookoutMetrics-.+",
        ] {
            assert!(builtin_allows(s, true, false), "{}", String::from_utf8_lossy(s));
            assert!(!builtin_allows(s, false, false), "{}", String::from_utf8_lossy(s));
        }
        for s in [
            &b"uXFGweU9l35qcif"[..],
            b"Ac&roBWg-C&*",
            b"Zq7mP2vX/9kL4tR8/wN3bY6",
            b"Kq7/mP2v/X9kL",
            b"Zq7mPassvXRoot9kLWord",
        ] {
            assert!(!builtin_allows(s, true, false), "{}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn and_condition_needs_every_check() {
        let a = Allowlist {
            stopwords: vec!["test".into()],
            paths: vec![r"^fixtures/".into()],
            all: true,
            ..Allowlist::default()
        };
        let c = CompiledAllowlist::new(&a);
        let cand = |secret: &'static [u8], path: &'static [u8]| Candidate {
            secret,
            whole: secret,
            line: secret,
            path,
            outer: None,
        };
        assert!(c.allows(&cand(b"my-test-key", b"fixtures/a")));
        assert!(!c.allows(&cand(b"my-test-key", b"src/a")));
        let or = CompiledAllowlist::new(&Allowlist { all: false, ..a });
        assert!(or.allows(&cand(b"my-test-key", b"src/a")));
    }

    #[test]
    fn paths_match_the_archive_a_member_is_in() {
        // Regression: a `^usr/share/doc/` allowlist missed secrets in the `.gz` files there,
        // whose findings are named after the member inside.
        let c = CompiledAllowlist::new(&Allowlist {
            paths: vec![r"^usr/share/doc/".into()],
            ..Allowlist::default()
        });
        let member = |outer: Option<&'static [u8]>| Candidate {
            secret: b"k9Xq2mZ7vB4n",
            whole: b"k9Xq2mZ7vB4n",
            line: b"k9Xq2mZ7vB4n",
            path: b"changelog",
            outer,
        };
        assert!(c.allows(&member(Some(b"usr/share/doc/x/changelog.gz"))));
        assert!(!c.allows(&member(Some(b"app/changelog.gz"))));
        assert!(!c.allows(&member(None)));
    }
}
