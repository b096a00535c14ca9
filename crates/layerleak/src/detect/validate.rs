//! Offline validators: checksums and structure a real secret of a kind must have.
//!
//! # Security
//!
//! Secrets are untrusted bytes; every decoder here works on bounded slices (a secret is at most
//! one rule match long) and returns `Invalid` rather than failing.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::Serialize;

use super::rule::Validator;

/// Result of the offline validation of a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Validation {
    /// The secret has the structure (checksum, encoding) a real one has.
    Valid,
    /// It does not: most likely a made-up or mangled value.
    Invalid,
    /// The rule has no validator, or the format cannot be checked offline.
    Unknown,
}

impl Validation {
    fn of(ok: bool) -> Validation {
        if ok {
            Validation::Valid
        } else {
            Validation::Invalid
        }
    }
}

/// What a validator concluded, plus a note worth reporting (never the secret itself).
pub(crate) struct Verdict {
    pub validation: Validation,
    pub note: Option<String>,
}

/// Runs `validator` on `secret`.
pub(crate) fn validate(validator: Validator, secret: &[u8]) -> Verdict {
    let plain = |validation| Verdict { validation, note: None };
    match validator {
        Validator::None => plain(Validation::Unknown),
        Validator::Github => plain(github(secret)),
        Validator::Npm => plain(match secret.strip_prefix(b"npm_") {
            Some(rest) => Validation::of(checksummed(rest)),
            None => Validation::Invalid,
        }),
        Validator::Jwt => plain(Validation::of(jwt(secret))),
        Validator::Pem => plain(Validation::of(pem(secret))),
        Validator::AwsKeyId => plain(Validation::of(aws_key_id(secret))),
        Validator::Base64Auth => match base64_auth(secret) {
            Some(user) => Verdict {
                validation: Validation::Valid,
                note: (!user.is_empty()).then(|| format!("decoded user: {user}")),
            },
            None => plain(Validation::Invalid),
        },
        Validator::Base64 => plain(Validation::of(base64_key(secret))),
        Validator::GrafanaSa => plain(Validation::of(grafana_sa(secret))),
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// CRC32 (IEEE) of `data`, base62-encoded, left-padded with `0` to 6 characters.
pub(crate) fn base62_crc32(data: &[u8]) -> [u8; 6] {
    let mut n = crc32fast::hash(data);
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// `body` is 30 base62 characters followed by their 6-character checksum.
fn checksummed(body: &[u8]) -> bool {
    body.len() == 36 && body.iter().all(u8::is_ascii_alphanumeric) && base62_crc32(&body[..30]) == body[30..]
}

fn github(secret: &[u8]) -> Validation {
    if secret.starts_with(b"github_pat_") {
        return Validation::Unknown;
    }
    match secret {
        [b'g', b'h', kind, b'_', rest @ ..] if b"pousr".contains(kind) => Validation::of(checksummed(rest)),
        _ => Validation::Invalid,
    }
}

fn decode_b64(data: &[u8]) -> Option<Vec<u8>> {
    for engine in [&URL_SAFE_NO_PAD, &URL_SAFE, &STANDARD_NO_PAD, &STANDARD] {
        if let Ok(v) = engine.decode(data) {
            return Some(v);
        }
    }
    None
}

fn json_object(data: &[u8]) -> Option<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_slice::<serde_json::Value>(&decode_b64(data)?) {
        Ok(serde_json::Value::Object(map)) => Some(map),
        _ => None,
    }
}

fn jwt(secret: &[u8]) -> bool {
    let mut parts = secret.split(|&b| b == b'.');
    let (Some(header), Some(payload), Some(_sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Some(header) = json_object(header) else { return false };
    matches!(header.get("alg"), Some(serde_json::Value::String(_))) && json_object(payload).is_some()
}

/// Keys issued as raw random bytes in base64 (Azure storage and Service Bus keys, Kubernetes
/// secret values): they decode, are at least 16 bytes long and are not one byte repeated.
fn base64_key(secret: &[u8]) -> bool {
    match decode_b64(secret) {
        Some(raw) => raw.len() >= 16 && raw.iter().any(|&b| b != raw[0]),
        None => false,
    }
}

/// Grafana service account tokens, `gl<service>_<secret>_<checksum>`: the checksum is the CRC32
/// (IEEE) of `gl<service>_<secret>`, its four bytes little-endian, in lowercase hex (Grafana's
/// `satokengen`).
fn grafana_sa(secret: &[u8]) -> bool {
    let Some(split) = memchr::memrchr(b'_', secret) else { return false };
    let (key, sum) = (&secret[..split], &secret[split + 1..]);
    if !key.starts_with(b"gl") || sum.len() != 8 {
        return false;
    }
    let expected = crc32fast::hash(key).to_le_bytes();
    let hex: Vec<u8> =
        expected.iter().flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]).collect();
    hex == sum
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn aws_key_id(secret: &[u8]) -> bool {
    secret.len() == 20
        && [&b"AKIA"[..], b"ASIA", b"ABIA", b"ACCA"].contains(&&secret[..4])
        && secret[4..].iter().all(|&b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
}

/// PEM (RFC 7468), OpenSSH, PGP armor (RFC 4880 section 6.2) and PuTTY key bodies.
fn pem(secret: &[u8]) -> bool {
    let text = String::from_utf8_lossy(secret);
    if text.starts_with("PuTTY-User-Key-File") {
        return putty(&text);
    }
    let mut lines = text.lines().map(str::trim);
    let Some(begin) = lines.by_ref().find(|l| l.starts_with("-----BEGIN")) else { return false };
    let mut body = String::new();
    for line in lines {
        if line.starts_with("-----END") {
            break;
        }
        // RFC 1421 headers (`Proc-Type: …`) and the PGP armor checksum (`=abcd`) are not body.
        if line.contains(':') || line.starts_with('=') || line.is_empty() {
            continue;
        }
        body.push_str(line);
    }
    let Ok(der) = STANDARD.decode(body.as_bytes()).or_else(|_| STANDARD_NO_PAD.decode(body.as_bytes()))
    else {
        return false;
    };
    let wrapped = ["ENCRYPTED", "OPENSSH", "PGP"].iter().any(|k| begin.contains(k));
    !der.is_empty() && (wrapped || der[0] == 0x30)
}

fn putty(text: &str) -> bool {
    let mut body = String::new();
    let mut lines = text.lines().map(str::trim);
    let Some(count) = lines.by_ref().find_map(|l| l.strip_prefix("Private-Lines:")) else { return false };
    let Ok(count) = count.trim().parse::<usize>() else { return false };
    for line in lines.take(count) {
        body.push_str(line);
    }
    !body.is_empty() && STANDARD.decode(body.as_bytes()).is_ok()
}

/// Returns the user name when `secret` is base64 of `user:password` with a non-empty password.
fn base64_auth(secret: &[u8]) -> Option<String> {
    let decoded = STANDARD.decode(secret).or_else(|_| STANDARD_NO_PAD.decode(secret)).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    if text.chars().any(char::is_control) {
        return None;
    }
    let (user, password) = text.split_once(':')?;
    (!is_placeholder_password(user, password)).then(|| user.to_string())
}

/// Passwords of the `user:pass`, `username:password`, `foo:bar` kind that client libraries use in
/// tests and docs: shorter than 4 bytes, equal to the user name, or a word that names a password.
fn is_placeholder_password(user: &str, password: &str) -> bool {
    const WORDS: &[&str] = &["pass", "passwd", "password", "secret", "changeme", "test"];
    password.len() < 4 || password == user || WORDS.iter().any(|w| password.eq_ignore_ascii_case(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(prefix: &str, random: &str) -> String {
        let sum = base62_crc32(random.as_bytes());
        format!("{prefix}{random}{}", std::str::from_utf8(&sum).unwrap())
    }

    #[test]
    fn github_checksums() {
        let good = token("ghp_", "Zq7mP2vX9kL4tR8wN3bY6cH1dF5gJ0");
        assert_eq!(validate(Validator::Github, good.as_bytes()).validation, Validation::Valid);
        let mut bad = good.clone().into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(validate(Validator::Github, &bad).validation, Validation::Invalid);
        assert_eq!(validate(Validator::Github, b"github_pat_11ABCDEFG").validation, Validation::Unknown);
        assert_eq!(validate(Validator::Github, b"ghx_short").validation, Validation::Invalid);
    }

    #[test]
    fn npm_checksums() {
        let good = token("npm_", "Wq8nV3xK7mB2pL9tR4sY6zH1cF5dG0");
        assert_eq!(validate(Validator::Npm, good.as_bytes()).validation, Validation::Valid);
        let bad = good.replace("npm_W", "npm_X");
        assert_eq!(validate(Validator::Npm, bad.as_bytes()).validation, Validation::Invalid);
    }

    #[test]
    fn base62_is_left_padded() {
        // Every output is 6 characters from the alphabet, whatever the CRC.
        for data in [&b""[..], b"a", b"Zq7mP2vX9kL4tR8wN3bY6cH1dF5gJ0"] {
            assert!(base62_crc32(data).iter().all(|b| BASE62.contains(b)));
        }
        assert_eq!(&base62_crc32(b""), b"000000");
    }

    #[test]
    fn jwt_structure() {
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let p = URL_SAFE_NO_PAD.encode(br#"{"sub":"1234","name":"test"}"#);
        let good = format!("{h}.{p}.c2lnbmF0dXJl");
        assert_eq!(validate(Validator::Jwt, good.as_bytes()).validation, Validation::Valid);
        let no_alg = format!("{}.{p}.sig", URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT"}"#));
        assert_eq!(validate(Validator::Jwt, no_alg.as_bytes()).validation, Validation::Invalid);
        assert_eq!(validate(Validator::Jwt, b"eyJhbGciOi.eyJzdWIi.x").validation, Validation::Invalid);
        assert_eq!(validate(Validator::Jwt, b"a.b").validation, Validation::Invalid);
    }

    #[test]
    fn pem_bodies() {
        let der = STANDARD.encode([0x30u8, 0x82, 0x01, 0x0a, 0x02, 0x01, 0x00]);
        let good = format!("-----BEGIN RSA PRIVATE KEY-----\n{der}\n-----END RSA PRIVATE KEY-----");
        assert_eq!(validate(Validator::Pem, good.as_bytes()).validation, Validation::Valid);
        let not_der = STANDARD.encode(b"hello world");
        let bad = format!("-----BEGIN RSA PRIVATE KEY-----\n{not_der}\n-----END RSA PRIVATE KEY-----");
        assert_eq!(validate(Validator::Pem, bad.as_bytes()).validation, Validation::Invalid);
        let ssh =
            format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{not_der}\n-----END OPENSSH PRIVATE KEY-----");
        assert_eq!(validate(Validator::Pem, ssh.as_bytes()).validation, Validation::Valid);
        let junk = "-----BEGIN PRIVATE KEY-----\n!!!not base64!!!\n-----END PRIVATE KEY-----";
        assert_eq!(validate(Validator::Pem, junk.as_bytes()).validation, Validation::Invalid);
        let putty = format!("PuTTY-User-Key-File-2: ssh-rsa\nPrivate-Lines: 1\n{not_der}\nPrivate-MAC: 00");
        assert_eq!(validate(Validator::Pem, putty.as_bytes()).validation, Validation::Valid);
    }

    #[test]
    fn base64_keys_decode_to_random_bytes() {
        let key = STANDARD.encode((0u8..64).map(|i| i.wrapping_mul(37) ^ 0x5a).collect::<Vec<_>>());
        assert_eq!(validate(Validator::Base64, key.as_bytes()).validation, Validation::Valid);
        let url = URL_SAFE_NO_PAD.encode([0xfbu8; 8].iter().chain(&[0xff; 12]).copied().collect::<Vec<_>>());
        assert_eq!(validate(Validator::Base64, url.as_bytes()).validation, Validation::Valid);
        let zeros = STANDARD.encode([0u8; 64]);
        assert_eq!(validate(Validator::Base64, zeros.as_bytes()).validation, Validation::Invalid);
        assert_eq!(validate(Validator::Base64, b"c2hvcnQ=").validation, Validation::Invalid, "too short");
        assert_eq!(validate(Validator::Base64, b"not*base64*at*all*here").validation, Validation::Invalid);
    }

    #[test]
    fn grafana_checksum_is_little_endian_hex_crc32() {
        let key = "glsa_Zq7mP2vX9kL4tR8wN3bY6cH1dF5gJ0Aa";
        let crc = crc32fast::hash(key.as_bytes()).to_le_bytes();
        let sum: String = crc.iter().map(|b| format!("{b:02x}")).collect();
        let good = format!("{key}_{sum}");
        assert_eq!(validate(Validator::GrafanaSa, good.as_bytes()).validation, Validation::Valid);
        let big_endian: String = crc.iter().rev().map(|b| format!("{b:02x}")).collect();
        let swapped = format!("{key}_{big_endian}");
        assert_eq!(validate(Validator::GrafanaSa, swapped.as_bytes()).validation, Validation::Invalid);
        assert_eq!(validate(Validator::GrafanaSa, b"glsa_short").validation, Validation::Invalid);
    }

    #[test]
    fn aws_key_ids() {
        assert_eq!(validate(Validator::AwsKeyId, b"AKIAQ3EGRT5LWZ2XH7NB").validation, Validation::Valid);
        assert_eq!(validate(Validator::AwsKeyId, b"AKIAQ3EGRT5LWZ2XH7N1").validation, Validation::Invalid);
        assert_eq!(validate(Validator::AwsKeyId, b"AKIAQ3EG").validation, Validation::Invalid);
    }

    #[test]
    fn base64_auth_needs_a_password() {
        let v = validate(Validator::Base64Auth, STANDARD.encode("alice:s3cr3t-pw").as_bytes());
        assert_eq!(v.validation, Validation::Valid);
        assert_eq!(v.note.as_deref(), Some("decoded user: alice"));
        let v = validate(Validator::Base64Auth, STANDARD.encode("alice:").as_bytes());
        assert_eq!(v.validation, Validation::Invalid);
        for placeholder in ["user:pass", "username:password", "foo:bar", "admin:admin", "u:Secret"] {
            let v = validate(Validator::Base64Auth, STANDARD.encode(placeholder).as_bytes());
            assert_eq!(v.validation, Validation::Invalid, "{placeholder}");
        }
        assert_eq!(validate(Validator::Base64Auth, b"%%%").validation, Validation::Invalid);
        assert_eq!(validate(Validator::None, b"x").validation, Validation::Unknown);
    }
}
