//! Redaction: what of a secret may be printed. The one form used everywhere: a finding's
//! `redacted` field, notes that name another secret, and every occurrence of a detected secret in
//! the other texts of a report ([`crate::report::Report::for_each_text`]).

/// The printable form of a secret: never more than a short, non-secret prefix.
///
/// - armored blocks (`-----BEGIN … -----`) keep their BEGIN line only: it names the key type;
/// - secrets of 20 bytes or more keep their first 4 bytes (a token prefix such as `ghp_` or
///   `AKIA` says what it is; 4 of 20+ characters leave the rest unguessable);
/// - shorter secrets keep nothing.
///
/// The mask has a fixed width, so the output does not reveal the secret's length.
pub fn redact(secret: &[u8]) -> String {
    const MASK: &str = "*****";
    if secret.starts_with(b"-----BEGIN ") {
        if let Some(end) = secret[11..].windows(5).position(|w| w == b"-----") {
            let header = String::from_utf8_lossy(&secret[..11 + end + 5]);
            return format!("{header}{MASK}");
        }
    }
    if secret.len() >= 20 {
        let prefix: String =
            secret[..4].iter().map(|&b| if b.is_ascii_graphic() { b as char } else { '?' }).collect();
        return format!("{prefix}{MASK}");
    }
    MASK.to_string()
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn long_tokens_keep_only_a_prefix() {
        let t = b"ghp_R8pQ2mZkW4vN7xC1bT5yH9jL3sD6fG0aE2kM";
        assert_eq!(redact(t), "ghp_*****");
    }

    #[test]
    fn short_secrets_keep_nothing() {
        assert_eq!(redact(b"hunter2pass"), "*****");
    }

    #[test]
    fn pem_blocks_keep_the_begin_line() {
        let k = b"-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----";
        assert_eq!(redact(k), "-----BEGIN RSA PRIVATE KEY-----*****");
    }

    #[test]
    fn non_printable_prefix_bytes_are_masked() {
        assert_eq!(redact(b"\x00\x01ab0123456789abcdefgh"), "??ab*****");
    }
}
