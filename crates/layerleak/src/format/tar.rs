//! Tar header blocks (POSIX.1-2001 pax, "ustar Interchange Format" and "pax Extended Header";
//! GNU tar's base-256 sizes and `ustar  ` variant).
//!
//! # Security
//! Header blocks are untrusted: every numeric field is parsed with overflow checks, string
//! fields are cut at their width, and a block whose checksum does not match is rejected.

use std::borrow::Cow;

/// Tar block size.
pub(crate) const BLOCK: u64 = 512;

/// Bytes of padding after `size` bytes of data, up to the next block.
pub(crate) fn padding(size: u64) -> u64 {
    (BLOCK - size % BLOCK) % BLOCK
}

/// Drops trailing NULs (GNU long names are NUL-terminated).
pub(crate) fn trim_nul(mut v: Vec<u8>) -> Vec<u8> {
    while v.last() == Some(&0) {
        v.pop();
    }
    v
}

/// Parses PAX records `"<len> <key>=<value>\n"` (POSIX pax "pax Extended Header"), calling `f`
/// for each; `None` if a record is malformed.
pub(crate) fn parse_pax(mut data: &[u8], mut f: impl FnMut(&[u8], &[u8])) -> Option<()> {
    while !data.is_empty() {
        let space = memchr::memchr(b' ', data)?;
        let len: usize = std::str::from_utf8(&data[..space]).ok()?.parse().ok()?;
        if len <= space + 1 || len > data.len() || data[len - 1] != b'\n' {
            return None;
        }
        let kv = &data[space + 1..len - 1];
        let eq = memchr::memchr(b'=', kv)?;
        f(&kv[..eq], &kv[eq + 1..]);
        data = &data[len..];
    }
    Some(())
}

/// A 512-byte tar header block (POSIX ustar layout; GNU variant where noted).
pub(crate) struct Header<'b>(pub(crate) &'b [u8; BLOCK as usize]);

impl Header<'_> {
    pub(crate) fn typeflag(&self) -> u8 {
        self.0[156]
    }

    /// GNU format (`ustar  \0` magic): its bytes 345.. are times and sparse maps, not a prefix.
    pub(crate) fn is_gnu(&self) -> bool {
        &self.0[257..265] == b"ustar  \0"
    }

    /// POSIX ustar (`ustar\0` magic): the name may continue in the prefix field.
    pub(crate) fn is_ustar(&self) -> bool {
        &self.0[257..263] == b"ustar\0"
    }

    /// Header checksum (POSIX ustar `chksum`): the sum of all bytes with the field itself as
    /// spaces; historic writers summed signed bytes, which is accepted too.
    pub(crate) fn checksum_ok(&self) -> bool {
        let Some(stored) = parse_octal(&self.0[148..156]) else { return false };
        let (mut unsigned, mut signed) = (0u64, 0i64);
        for (i, &b) in self.0.iter().enumerate() {
            let b = if (148..156).contains(&i) { b' ' } else { b };
            unsigned += u64::from(b);
            signed += i64::from(b as i8);
        }
        stored == unsigned || i64::try_from(stored).is_ok_and(|s| s == signed)
    }

    /// Declared data size: octal, or GNU base-256 when the high bit of the first byte is set.
    pub(crate) fn size(&self) -> Option<u64> {
        let field = &self.0[124..136];
        if field[0] & 0x80 != 0 {
            if field[0] == 0xff {
                return None;
            }
            let mut v = u64::from(field[0] & 0x7f);
            for &b in &field[1..] {
                v = v.checked_mul(256)?.checked_add(u64::from(b))?;
            }
            return Some(v);
        }
        parse_octal(field)
    }

    pub(crate) fn mode(&self) -> u32 {
        parse_octal(&self.0[100..108]).and_then(|m| u32::try_from(m).ok()).unwrap_or(0)
    }

    /// The name, joined to the POSIX prefix field when there is one (borrowed otherwise).
    pub(crate) fn ustar_name(&self) -> Cow<'_, [u8]> {
        let name = field_str(&self.0[0..100]);
        let prefix = if self.is_ustar() { field_str(&self.0[345..500]) } else { &[] };
        if prefix.is_empty() {
            return Cow::Borrowed(name);
        }
        let mut out = Vec::with_capacity(prefix.len() + 1 + name.len());
        out.extend_from_slice(prefix);
        out.push(b'/');
        out.extend_from_slice(name);
        Cow::Owned(out)
    }

    pub(crate) fn link_name(&self) -> Vec<u8> {
        field_str(&self.0[157..257]).to_vec()
    }
}

/// A NUL-terminated (or full-width) header string field.
pub(crate) fn field_str(field: &[u8]) -> &[u8] {
    match memchr::memchr(0, field) {
        Some(i) => &field[..i],
        None => field,
    }
}

/// An octal numeric field: optional leading spaces, digits, then NULs or spaces. Empty is 0.
fn parse_octal(field: &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    let mut i = 0;
    while i < field.len() && field[i] == b' ' {
        i += 1;
    }
    while i < field.len() && (b'0'..=b'7').contains(&field[i]) {
        v = v.checked_mul(8)?.checked_add(u64::from(field[i] - b'0'))?;
        i += 1;
    }
    field[i..].iter().all(|&b| b == 0 || b == b' ').then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_with(f: impl FnOnce(&mut [u8; 512])) -> [u8; 512] {
        let mut b = [0u8; 512];
        b[..4].copy_from_slice(b"name");
        b[257..265].copy_from_slice(b"ustar  \0");
        f(&mut b);
        b[148..156].fill(b' ');
        let sum: u32 = b.iter().map(|&x| u32::from(x)).sum();
        let cks = format!("{sum:06o}\0 ");
        b[148..156].copy_from_slice(cks.as_bytes());
        b
    }

    #[test]
    fn octal_fields_are_parsed_leniently_but_bounded() {
        assert_eq!(parse_octal(b"0000644\0"), Some(0o644));
        assert_eq!(parse_octal(b"  644 \0\0"), Some(0o644));
        assert_eq!(parse_octal(b"\0\0\0"), Some(0));
        assert_eq!(parse_octal(b"0008"), None);
        assert_eq!(parse_octal(b"77777777777777777777777"), None);
    }

    #[test]
    fn sizes_in_octal_and_base_256() {
        let b = block_with(|b| b[124..136].copy_from_slice(b"00000001000\0"));
        assert_eq!(Header(&b).size(), Some(512));
        let b = block_with(|b| {
            b[124] = 0x80;
            b[124..136][6] = 0x01; // 2^40
        });
        assert_eq!(Header(&b).size(), Some(1 << 40));
        let b = block_with(|b| b[124..136].fill(0xff));
        assert_eq!(Header(&b).size(), None);
    }

    #[test]
    fn checksum_is_verified() {
        let mut b = block_with(|_| {});
        assert!(Header(&b).checksum_ok());
        assert!(Header(&b).is_gnu() && !Header(&b).is_ustar());
        b[0] ^= 1;
        assert!(!Header(&b).checksum_ok());
    }

    #[test]
    fn ustar_prefix_joins_the_name() {
        let b = block_with(|b| {
            b[257..265].copy_from_slice(b"ustar\x0000");
            b[345..348].copy_from_slice(b"pre");
        });
        assert_eq!(&Header(&b).ustar_name()[..], b"pre/name");
    }

    #[test]
    fn pax_records_parse_and_malformed_ones_are_refused() {
        let mut seen = Vec::new();
        assert!(
            parse_pax(b"16 path=a/b/cde\n11 size=42\n", |k, v| seen.push((k.to_vec(), v.to_vec()))).is_some()
        );
        assert_eq!(seen, [(b"path".to_vec(), b"a/b/cde".to_vec()), (b"size".to_vec(), b"42".to_vec())]);
        assert!(parse_pax(b"99 path=x\n", |_, _| {}).is_none());
        assert!(parse_pax(b"9 pathx\n", |_, _| {}).is_none());
        assert!(parse_pax(b"x path=1\n", |_, _| {}).is_none());
        assert!(parse_pax(b"2 ", |_, _| {}).is_none());
    }

    #[test]
    fn padding_and_trim() {
        assert_eq!(padding(0), 0);
        assert_eq!(padding(1), 511);
        assert_eq!(padding(512), 0);
        assert_eq!(trim_nul(b"ab\0\0".to_vec()), b"ab");
    }
}
