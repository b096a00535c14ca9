//! apk's installed database (`lib/apk/db/installed`, apk-tools' text format): one stanza per
//! package of `X:value` lines — `P:` name, `V:` version, `F:` a directory, `R:` a file in the
//! last `F:`, `Z:` that file's checksum (`Q1` + base64 SHA-1, `Q2` + base64 SHA-256).

use base64::Engine as _;

use super::{join_normalized, Manager, Package, PackageFiles, Sum};

pub(crate) fn parse_installed(bytes: &[u8]) -> Result<Vec<PackageFiles>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 at byte {}", e.valid_up_to()))?;
    let mut out = Vec::new();
    let mut cur = Stanza::default();
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        if line.is_empty() {
            cur.finish(&mut out, n)?;
            continue;
        }
        let (key, value) = match line.as_bytes() {
            [k, b':', ..] => (*k, &line[2..]),
            _ => return Err(format!("line {n}: not an `X:value` line")),
        };
        match key {
            b'P' => cur.name = Some(value.to_string()),
            b'V' => cur.version = Some(value.to_string()),
            b'F' => {
                cur.dir = Some(join_normalized("", value).ok_or_else(|| format!("line {n}: bad directory"))?);
                cur.file = None;
            }
            b'R' => {
                let dir = cur.dir.as_deref().unwrap_or("");
                let path = join_normalized(dir, value).ok_or_else(|| format!("line {n}: bad file name"))?;
                cur.file = Some(path);
            }
            b'Z' => {
                let Some(path) = cur.file.take() else {
                    return Err(format!("line {n}: a checksum with no file before it"));
                };
                if let Some(sum) = checksum(value).map_err(|e| format!("line {n}: {e}"))? {
                    cur.files.push((path, sum));
                }
            }
            _ => {}
        }
    }
    cur.finish(&mut out, text.lines().count() + 1)?;
    Ok(out)
}

#[derive(Default)]
struct Stanza {
    name: Option<String>,
    version: Option<String>,
    dir: Option<String>,
    file: Option<String>,
    files: Vec<(String, Sum)>,
}

impl Stanza {
    fn finish(&mut self, out: &mut Vec<PackageFiles>, n: usize) -> Result<(), String> {
        let s = std::mem::take(self);
        if s.name.is_none() && s.version.is_none() && s.files.is_empty() && s.dir.is_none() {
            return Ok(());
        }
        let name = s.name.ok_or_else(|| format!("line {n}: package without a P: name"))?;
        let version = s.version.ok_or_else(|| format!("line {n}: package {name} without a V: version"))?;
        out.push(PackageFiles { package: Package { manager: Manager::Apk, name, version }, files: s.files });
        Ok(())
    }
}

/// `Q1<base64 SHA-1>` or `Q2<base64 SHA-256>`; another kind is no sum (`None`).
fn checksum(value: &str) -> Result<Option<Sum>, String> {
    let Some(b64) = value.strip_prefix("Q1").or_else(|| value.strip_prefix("Q2")) else {
        return Ok(None);
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| "checksum is not base64".to_string())?;
    match (value.as_bytes()[1], bytes.len()) {
        (b'1', 20) => Ok(Some(Sum::Sha1(bytes.try_into().map_err(|_| "bad SHA-1")?))),
        (b'2', 32) => Ok(Some(Sum::Sha256(bytes.try_into().map_err(|_| "bad SHA-256")?))),
        _ => Err("checksum has the wrong length".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::FileSums;

    #[test]
    fn installed_lists_each_file_under_its_directory_with_its_sha1() {
        let sha1 = base64::engine::general_purpose::STANDARD.encode([7u8; 20]);
        let db = format!(
            "C:Q1abc=\nP:musl\nV:1.2.5-r0\nF:lib\nR:ld-musl-x86_64.so.1\na:0:0:755\nZ:Q1{sha1}\n\
             R:libc.musl-x86_64.so.1\n\nP:busybox\nV:1.36\nF:etc\nR:securetty\nZ:Q1{sha1}\n"
        );
        let got = parse_installed(db.as_bytes()).expect("parses");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].package.name, "musl");
        assert_eq!(got[0].files, vec![("lib/ld-musl-x86_64.so.1".to_string(), Sum::Sha1([7; 20]))]);
        assert_eq!(got[1].files[0].0, "etc/securetty");
        let abc = base64::engine::general_purpose::STANDARD.encode([
            0xa9u8, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e, 0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c,
            0x9c, 0xd0, 0xd8, 0x9d,
        ]);
        let one = parse_installed(format!("P:a\nV:1\nF:x\nR:y\nZ:Q1{abc}\n").as_bytes()).expect("parses");
        assert!(FileSums::of(b"abc").matches(&one[0].files[0].1));
    }

    #[test]
    fn malformed_installed_is_refused_with_the_line() {
        for (bad, why) in [
            ("P:a\nV:1\ngarbage\n", "line 3"),
            ("P:a\nV:1\nZ:Q1AAAA\n", "no file before"),
            ("P:a\nV:1\nR:x\nZ:Q1!!!\n", "not base64"),
            ("P:a\nV:1\nR:x\nZ:Q1AAAA\n", "wrong length"),
            ("V:1\nR:x\n", "without a P:"),
            ("P:a\nR:x\n\n", "without a V:"),
        ] {
            let e = parse_installed(bad.as_bytes()).expect_err(bad);
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }
}
