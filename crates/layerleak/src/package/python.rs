//! A Python distribution's `<name>-<version>.dist-info/RECORD` (PyPA "Recording installed
//! projects"): CSV rows `path,sha256=<urlsafe base64, no padding>,size`, paths relative to the
//! directory holding the `.dist-info` (site-packages), possibly climbing out of it (`../../bin/x`).
//! Rows without a hash (the RECORD itself, bytecode) vouch for nothing.

use base64::Engine as _;

use super::{join_normalized, Manager, Package, PackageFiles, Sum};

pub(crate) fn parse_record(path: &[u8], bytes: &[u8]) -> Result<PackageFiles, String> {
    let path = std::str::from_utf8(path).map_err(|_| "path is not UTF-8".to_string())?;
    let dist_info = path.strip_suffix("/RECORD").unwrap_or(path);
    let (site, dir_name) = dist_info.rsplit_once('/').unwrap_or(("", dist_info));
    let stem = dir_name.strip_suffix(".dist-info").unwrap_or(dir_name);
    let (name, version) =
        stem.split_once('-').ok_or_else(|| format!("{dir_name} is not `<name>-<version>.dist-info`"))?;
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 at byte {}", e.valid_up_to()))?;
    let mut files = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |what: &str| format!("line {}: {what}", n + 1);
        let fields = csv_fields(line).ok_or_else(|| bad("unbalanced quotes"))?;
        let [file, hash, _size] = fields.as_slice() else {
            return Err(bad("a RECORD row has three fields"));
        };
        if hash.is_empty() {
            continue;
        }
        let Some((algo, b64)) = hash.split_once('=') else { return Err(bad("hash is not `algo=value`")) };
        let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(b64.trim_end_matches('='))
            .map_err(|_| bad("hash is not urlsafe base64"))?;
        let sum = match (algo, digest.len()) {
            ("sha256", 32) => Sum::Sha256(digest.try_into().map_err(|_| bad("bad sha256"))?),
            ("sha256", _) => return Err(bad("sha256 of the wrong length")),
            // Another algorithm (sha384, sha512) is allowed by the spec but vouches for nothing here.
            _ => continue,
        };
        let file = join_normalized(site, file).ok_or_else(|| bad("path climbs above the root"))?;
        files.push((file, sum));
    }
    Ok(PackageFiles {
        package: Package { manager: Manager::Python, name: name.to_string(), version: version.to_string() },
        files,
    })
}

/// The fields of one CSV row (RFC 4180 quoting); `None` when a quote is left open.
fn csv_fields(line: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => out.push(std::mem::take(&mut field)),
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return None;
    }
    out.push(field);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::FileSums;

    const SITE: &str = "usr/lib/python3.11/site-packages";

    #[test]
    fn record_rows_name_files_relative_to_site_packages() {
        let abc = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([
            0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
            0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
        ]);
        let record = format!(
            "jwt/__init__.py,sha256={abc},3\n\"jwt/a,b.py\",sha256={abc},3\n../../../bin/pyjwt,sha256={abc},3\n\
             jwt-2.8.0.dist-info/RECORD,,\njwt/__pycache__/x.cpython-311.pyc,,\n"
        );
        let path = format!("{SITE}/jwt-2.8.0.dist-info/RECORD");
        let got = parse_record(path.as_bytes(), record.as_bytes()).expect("parses");
        assert_eq!((got.package.name.as_str(), got.package.version.as_str()), ("jwt", "2.8.0"));
        let paths: Vec<&str> = got.files.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(
            paths,
            [&format!("{SITE}/jwt/__init__.py")[..], &format!("{SITE}/jwt/a,b.py"), "usr/bin/pyjwt"]
        );
        assert!(FileSums::of(b"abc").matches(&got.files[0].1));
    }

    #[test]
    fn malformed_records_are_refused_with_the_line() {
        let path = format!("{SITE}/jwt-2.8.0.dist-info/RECORD");
        for (bad, why) in [
            ("a.py,sha256=AAAA\n", "three fields"),
            ("\"a.py,sha256=AAAA,1\n", "unbalanced"),
            ("a.py,sha256=!!,1\n", "urlsafe"),
            ("a.py,sha256=AAAA,1\n", "wrong length"),
            ("a.py,nohash,1\n", "algo=value"),
        ] {
            let e = parse_record(path.as_bytes(), bad.as_bytes()).expect_err(bad);
            assert!(e.contains(why), "{bad:?}: {e}");
        }
        assert!(parse_record(b"x/nodash.dist-info/RECORD", b"").is_err());
    }
}
