//! Content digests (OCI image spec, "Digests") and a reader that hashes what passes through it.

use std::fmt;
use std::io::{self, Read};

use sha2::{Digest as _, Sha256};

/// A content digest, `algorithm:hex`. Only `sha256` can be computed; other algorithms parse
/// and compare but never match a computed digest.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: String,
    hex: String,
}

impl Digest {
    /// Parses `algorithm:encoded`. The encoded part must be lowercase hex of the right length for
    /// sha256/sha512 and `[a-zA-Z0-9=_-]+` otherwise (OCI image spec, "Digests" grammar).
    pub fn parse(s: &str) -> Option<Digest> {
        let (algorithm, hex) = s.split_once(':')?;
        if algorithm.is_empty()
            || !algorithm
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b))
        {
            return None;
        }
        let ok = match algorithm {
            "sha256" => hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "sha512" => hex.len() == 128 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            _ => !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b)),
        };
        ok.then(|| Digest { algorithm: algorithm.to_string(), hex: hex.to_string() })
    }

    /// A sha256 digest from its 32 raw bytes.
    pub fn from_sha256(bytes: [u8; 32]) -> Digest {
        Digest { algorithm: "sha256".to_string(), hex: hex(&bytes) }
    }

    /// The sha256 digest of `data`.
    pub fn sha256_of(data: &[u8]) -> Digest {
        Digest::from_sha256(Sha256::digest(data).into())
    }

    /// The algorithm (`sha256`).
    pub fn algorithm(&self) -> &str {
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
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Lowercase hex SHA-256 of `bytes`: the `fingerprint` of a finding.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// A reader that computes the SHA-256 and the count of every byte read through it, so digests
/// are checked in the same pass that consumes the data.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        HashingReader { inner, hasher: Sha256::new(), count: 0 }
    }

    /// Bytes read so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Reads `inner` to its end (so the digest covers the whole stream, e.g. tar padding after
    /// the end-of-archive blocks) and returns the digest and byte count.
    pub fn finish(mut self) -> io::Result<(Digest, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((Digest::from_sha256(self.hasher.finalize().into()), self.count))
    }

    /// The digest of what was read so far, without draining.
    pub fn digest_so_far(&self) -> Digest {
        Digest::from_sha256(self.hasher.clone().finalize().into())
    }

    /// The wrapped reader.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
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
    fn hashing_reader_matches_one_shot_digest() {
        let data = b"hello layer".repeat(1000);
        let mut r = HashingReader::new(&data[..]);
        let mut buf = [0u8; 7];
        let _ = r.read(&mut buf).unwrap();
        let (d, n) = r.finish().unwrap();
        assert_eq!(n, data.len() as u64);
        assert_eq!(d, Digest::sha256_of(&data));
        assert_eq!(
            Digest::sha256_of(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
