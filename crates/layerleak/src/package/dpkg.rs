//! dpkg's database (deb-control(5) stanzas in `status`, `info/<pkg>.md5sums` as md5sum(1) prints
//! it): which packages are installed, at which version, and the MD5 of each file they installed.
//! Conffiles are not in the `.md5sums`; their sums are in the status stanza's `Conffiles:` field.

use serde::{Deserialize, Serialize};

use super::{join_normalized, unhex, Sum};

/// One installed package of a dpkg status file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Installed {
    pub name: String,
    pub arch: Option<String>,
    pub version: String,
    pub conffiles: Vec<(String, Sum)>,
}

/// Parses a status file; `stanza_file` is a distroless `status.d/` file, whose stanzas carry no
/// `Status:` field and are installed by being there. Packages not fully installed are left out.
pub(crate) fn parse_status(bytes: &[u8], stanza_file: bool) -> Result<Vec<Installed>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 at byte {}", e.valid_up_to()))?;
    let mut out = Vec::new();
    let mut stanza: Vec<(usize, &str)> = Vec::new();
    for (n, line) in text.lines().enumerate().chain([(usize::MAX, "")]) {
        if line.trim().is_empty() {
            if !stanza.is_empty() {
                if let Some(p) = stanza_package(&stanza, stanza_file)? {
                    out.push(p);
                }
                stanza.clear();
            }
            continue;
        }
        stanza.push((n + 1, line));
    }
    Ok(out)
}

fn stanza_package(lines: &[(usize, &str)], stanza_file: bool) -> Result<Option<Installed>, String> {
    let mut name = None;
    let mut arch = None;
    let mut version = None;
    let mut status = None;
    let mut conffiles = Vec::new();
    let mut field = "";
    for &(n, line) in lines {
        if line.starts_with([' ', '\t']) {
            if field.is_empty() {
                return Err(format!("line {n}: continuation line before any field"));
            }
            if field.eq_ignore_ascii_case("Conffiles") {
                conffiles.extend(conffile(line, n)?);
            }
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(format!("line {n}: not a `Field: value` line"));
        };
        field = key;
        let value = value.trim();
        match key.to_ascii_lowercase().as_str() {
            "package" => name = Some(value.to_string()),
            "architecture" => arch = Some(value.to_string()),
            "version" => version = Some(value.to_string()),
            "status" => status = Some(value.to_string()),
            _ => {}
        }
    }
    let first = lines.first().map_or(0, |l| l.0);
    let name = name.ok_or_else(|| format!("line {first}: stanza without a Package field"))?;
    let version = version.ok_or_else(|| format!("line {first}: package {name} without a Version field"))?;
    let installed = match status {
        Some(s) => s.split_whitespace().last() == Some("installed"),
        None if stanza_file => true,
        None => return Err(format!("line {first}: package {name} without a Status field")),
    };
    Ok(installed.then_some(Installed { name, arch, version, conffiles }))
}

/// ` /etc/foo.conf 0123…cdef [obsolete|remove-on-upgrade]`
/// `None` for `newconffile` (dpkg's mark for a conffile not configured yet): no sum to vouch with.
fn conffile(line: &str, n: usize) -> Result<Option<(String, Sum)>, String> {
    let mut words = line.split_whitespace().collect::<Vec<_>>();
    while matches!(words.last(), Some(&"obsolete" | &"remove-on-upgrade")) {
        words.pop();
    }
    let bad = || format!("line {n}: a conffile line is `path md5`");
    let (sum, path) = match words.as_slice() {
        [path @ .., sum] if !path.is_empty() => (sum, path.join(" ")),
        _ => return Err(bad()),
    };
    if *sum == "newconffile" {
        return Ok(None);
    }
    let sum = unhex::<16>(sum.as_bytes()).map(Sum::Md5).ok_or_else(bad)?;
    let path = join_normalized("", &path).ok_or_else(bad)?;
    Ok(Some((path, sum)))
}

/// `<md5 hex>  <path>` lines.
pub(crate) fn parse_md5sums(bytes: &[u8]) -> Result<Vec<(String, Sum)>, String> {
    let mut out = Vec::new();
    for (n, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let bad = || format!("line {}: an md5sums line is `md5  path`", n + 1);
        let (sum, rest) = line.split_at_checked(32).ok_or_else(bad)?;
        let sum = unhex::<16>(sum).ok_or_else(bad)?;
        let path = std::str::from_utf8(rest).map_err(|_| bad())?.trim_start_matches([' ', '*']);
        if path.is_empty() || !rest.starts_with(b" ") {
            return Err(bad());
        }
        out.push((join_normalized("", path).ok_or_else(bad)?, Sum::Md5(sum)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Package: base-files\nStatus: install ok installed\nVersion: 12.4\n\
        Architecture: amd64\nConffiles:\n /etc/issue 3b2e0e9d3e9aff1d5f3f4f0a0f6a5c1d\n \
        /etc/old.conf 0123456789abcdef0123456789abcdef obsolete\nDescription: x\n more text\n\n\
        Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n";

    #[test]
    fn status_keeps_installed_packages_and_their_conffile_sums() {
        let got = parse_status(STATUS.as_bytes(), false).expect("parses");
        assert_eq!(got.len(), 1, "the config-files package is not installed");
        let p = &got[0];
        assert_eq!(
            (p.name.as_str(), p.version.as_str(), p.arch.as_deref()),
            ("base-files", "12.4", Some("amd64"))
        );
        assert_eq!(p.conffiles.len(), 2);
        assert_eq!(p.conffiles[0].0, "etc/issue");
        assert_eq!(p.conffiles[1].0, "etc/old.conf");
    }

    #[test]
    fn malformed_status_is_refused_with_the_line() {
        for (bad, why) in [
            ("Package: a\nStatus: install ok installed\nnot a field\n", "line 3"),
            ("Status: install ok installed\nVersion: 1\n", "without a Package"),
            ("Package: a\nVersion: 1\n", "without a Status"),
            (" Conffiles:\n", "continuation line before"),
            ("Package: a\nStatus: install ok installed\nVersion: 1\nConffiles:\n justapath\n", "conffile"),
        ] {
            let e = parse_status(bad.as_bytes(), false).expect_err(bad);
            assert!(e.contains(why), "{bad:?}: {e}");
        }
        assert!(parse_status(b"\xff\xfe", false).is_err());
        let distroless = parse_status(b"Package: tzdata\nVersion: 2024a\n", true).expect("stanza file");
        assert_eq!(distroless[0].name, "tzdata");
    }

    #[test]
    fn md5sums_lines_parse_and_bad_ones_are_refused() {
        let ok = b"d41d8cd98f00b204e9800998ecf8427e  usr/share/doc/a b/README\r\n\n";
        let got = parse_md5sums(ok).expect("parses");
        assert_eq!(got[0].0, "usr/share/doc/a b/README");
        for bad in [
            &b"d41d8cd98f00b204e9800998ecf8427e"[..],
            b"xyz  usr/x",
            b"d41d8cd98f00b204e9800998ecf8427eusr/x",
        ] {
            assert!(parse_md5sums(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
