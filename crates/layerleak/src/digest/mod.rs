//! Content digests (OCI image spec, "Digests"), the readers that compute them while a stream is
//! read, and the hex helpers of the crate.
//!
//! The ground floor: `image`, `layer` and `detect` all name blobs and files by digest, and none
//! of them needs another to do so.
//!
//! # Security
//! Digests arrive in untrusted JSON, archive member names and registry headers. [`Digest::parse`]
//! checks the grammar once (and the hex length of the algorithms it computes), so a digest used
//! to build a blob path cannot hold `/`.

mod reader;

use std::cmp::Ordering;
use std::fmt;

use sha2::{Digest as _, Sha256};

pub(crate) use reader::DiffHasher;
pub(crate) use reader::HashingReader;

/// A digest algorithm (OCI image spec, "Digests": registered algorithms, and the grammar for
/// others). Only [`Algorithm::Sha256`] is computed over blobs; [`Algorithm::Sha512`] is checked
/// for registry manifests; any other parses and compares but never matches a computed digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// `sha256`: 64 lowercase hex digits.
    Sha256,
    /// `sha512`: 128 lowercase hex digits.
    Sha512,
    /// Any other algorithm the grammar admits (`[a-z0-9]+([+._-][a-z0-9]+)*`, leniently), its
    /// encoded part `[a-zA-Z0-9=_-]+`.
    Other(String),
}

impl Algorithm {
    /// The name as written before the `:`.
    pub fn as_str(&self) -> &str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
            Algorithm::Other(name) => name,
        }
    }

    /// The algorithm named `name`, if the grammar admits the name.
    fn from_name(name: &str) -> Option<Algorithm> {
        if name.is_empty()
            || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b))
        {
            return None;
        }
        Some(match name {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            _ => Algorithm::Other(name.to_string()),
        })
    }

    /// Whether `encoded` is a well-formed encoded part for this algorithm.
    fn admits(&self, encoded: &str) -> bool {
        let lower_hex =
            |n: usize| encoded.len() == n && encoded.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        match self {
            Algorithm::Sha256 => lower_hex(64),
            Algorithm::Sha512 => lower_hex(128),
            Algorithm::Other(_) => {
                !encoded.is_empty()
                    && encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b))
            }
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A content digest, `algorithm:encoded`, parsed once.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

impl Digest {
    /// Parses `algorithm:encoded`. The encoded part must be lowercase hex of the right length for
    /// sha256/sha512 and `[a-zA-Z0-9=_-]+` otherwise (OCI image spec, "Digests" grammar).
    pub fn parse(s: &str) -> Option<Digest> {
        let (name, hex) = s.split_once(':')?;
        let algorithm = Algorithm::from_name(name)?;
        algorithm.admits(hex).then(|| Digest { algorithm, hex: hex.to_string() })
    }

    /// A sha256 digest from its 32 raw bytes.
    pub fn from_sha256(bytes: [u8; 32]) -> Digest {
        Digest { algorithm: Algorithm::Sha256, hex: hex(&bytes) }
    }

    /// The sha256 digest of `data`.
    pub fn sha256_of(data: &[u8]) -> Digest {
        Digest::from_sha256(Sha256::digest(data).into())
    }

    /// The algorithm.
    pub fn algorithm(&self) -> &Algorithm {
        &self.algorithm
    }

    /// The encoded part (lowercase hex for sha256).
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// `sha256:` plus the first 12 hex digits, for people.
    pub fn short(&self) -> String {
        let n = self.hex.len().min(12);
        format!("{}:{}", self.algorithm, &self.hex[..n])
    }
}

/// Ordered as the text `algorithm:encoded` is (by algorithm name, then encoded part), so sorted
/// digests come out as they always did.
impl Ord for Digest {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.algorithm.as_str(), &self.hex).cmp(&(other.algorithm.as_str(), &other.hex))
    }
}

impl PartialOrd for Digest {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl std::str::FromStr for Digest {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::parse(s).ok_or_else(|| format!("not a digest: {s:?}"))
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Digest::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("not a digest: {s:?}")))
    }
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Lowercase hex SHA-256 of `bytes`: the `fingerprint` of a finding.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rejects_bad_digests() {
        assert!(Digest::parse("sha256:abc").is_none());
        assert!(Digest::parse("sha256").is_none());
        assert!(Digest::parse(&format!("sha256:{}", "A".repeat(64))).is_none());
        assert!(Digest::parse(&format!("SHA256:{}", "a".repeat(64))).is_none());
        let d = Digest::parse(&format!("sha256:{}", "a".repeat(64))).unwrap();
        assert_eq!(d.short(), "sha256:aaaaaaaaaaaa");
    }

    #[test]
    fn algorithm_is_typed_and_order_follows_the_text() {
        let a = Digest::parse(&format!("sha256:{}", "b".repeat(64))).unwrap();
        let b = Digest::parse(&format!("sha512:{}", "a".repeat(128))).unwrap();
        let c = Digest::parse("blake3:AZ_z-0=").unwrap();
        assert_eq!((a.algorithm(), b.algorithm()), (&Algorithm::Sha256, &Algorithm::Sha512));
        assert_eq!(c.algorithm(), &Algorithm::Other("blake3".into()));
        assert_eq!(c.to_string(), "blake3:AZ_z-0=");
        let mut sorted = vec![b.clone(), a.clone(), c.clone()];
        sorted.sort();
        assert_eq!(sorted, [c, a, b]);
        assert!(Digest::parse(&format!("sha512:{}", "a".repeat(64))).is_none());
        assert!(Digest::parse("x:a/b").is_none());
    }
}
