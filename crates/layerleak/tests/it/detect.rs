//! Detection engine: built-in rule examples, window boundaries, nested archives, validators,
//! allowlists, rule loading.

use std::io::{Read, Write};
use std::ops::ControlFlow;

use layerleak::detect::{
    check_examples, DetectOptions, Detector, Match, RuleSet, Scratch, Validation, CATEGORIES,
};
use layerleak::{Error, LimitKind};

use crate::support::{gzip, tar_of};

/// Synthetic, format-valid (checksummed) GitHub token.
const GH: &str = "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";
/// The same token with a wrong checksum.
const GH_BAD: &str = "ghp_Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y3gm1IA";
const AKID: &str = "AKIAR6QMW4WXFOGO6MVN";
const AWS_SECRET: &str = "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";

/// A reader that returns at most `n` bytes per call, so window refills happen at every size.
struct Chunked<'a> {
    data: &'a [u8],
    n: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.n.min(buf.len()).min(self.data.len());
        buf[..k].copy_from_slice(&self.data[..k]);
        self.data = &self.data[k..];
        Ok(k)
    }
}

struct Scan {
    matches: Vec<Match>,
    errors: Vec<Error>,
}

fn scan_chunked(d: &Detector, name: &str, data: &[u8], chunk: usize) -> Scan {
    let mut matches = Vec::new();
    let mut r = Chunked { data, n: chunk };
    let o = d.scan_reader(name.as_bytes(), &mut r, &mut Scratch::new(), &mut |m| {
        matches.push(m);
        ControlFlow::Continue(())
    });
    Scan { matches, errors: o.errors }
}

fn scan(d: &Detector, name: &str, data: &[u8]) -> Scan {
    scan_chunked(d, name, data, usize::MAX)
}

/// Every match of a plain (non-archive) scan points at its own bytes.
fn assert_offsets(data: &[u8], matches: &[Match]) {
    for m in matches {
        let start = usize::try_from(m.offset).unwrap();
        assert_eq!(&data[start..start + m.secret.len()], &m.secret[..], "secret is not at its offset");
    }
}

fn builtin() -> Detector {
    Detector::new(&RuleSet::builtin(), DetectOptions::default()).unwrap()
}

fn ids(d: &Detector, matches: &[Match]) -> Vec<String> {
    matches.iter().map(|m| d.rules()[m.rule].id.clone()).collect()
}

#[test]
fn builtin_rule_examples() {
    let report = check_examples(&RuleSet::builtin(), true).unwrap();
    let failures: Vec<String> =
        report.failures.iter().map(|f| format!("{}: {}", f.rule, f.message)).collect();
    assert!(
        failures.is_empty(),
        "{} built-in rule example failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(report.positives >= 2 * RuleSet::builtin().rules().len());
}

/// Positions of the automaton a regex compiles to, roughly: a counted repetition copies its
/// body once per allowed repetition.
fn expanded_size(h: &regex_syntax::hir::Hir) -> u64 {
    use regex_syntax::hir::HirKind;
    match h.kind() {
        HirKind::Empty => 0,
        HirKind::Literal(l) => l.0.len() as u64,
        HirKind::Class(_) | HirKind::Look(_) => 1,
        HirKind::Repetition(r) => {
            let copies = u64::from(r.max.unwrap_or(r.min.saturating_add(1)).max(1));
            expanded_size(&r.sub).saturating_mul(copies)
        }
        HirKind::Capture(c) => expanded_size(&c.sub),
        HirKind::Concat(hs) | HirKind::Alternation(hs) => hs.iter().map(expanded_size).sum(),
    }
}

/// Most positions one built-in rule's regex may expand to. A regex of 16,384 positions (a key
/// body written `{32,16384}`) costs about 13 MB per copy, and one of 4,000 about 2.5 MB: a
/// thousand rules must stay small. Bodies and context spans of 100 bytes or more are written
/// unbounded with a `max_len` instead; the largest left (alternations of short literals) is
/// about 1,200.
const MAX_EXPANDED_SIZE: u64 = 1536;

#[test]
fn builtin_rule_regexes_stay_small() {
    // Long spans are written unbounded (`{64,}?`): the engine caps every match at its own
    // length bound, so a counted repetition buys nothing but memory.
    let mut big = Vec::new();
    for rule in RuleSet::builtin().rules() {
        let hir =
            regex_syntax::ParserBuilder::new().unicode(false).utf8(false).build().parse(&rule.regex).unwrap();
        let size = expanded_size(&hir);
        if size > MAX_EXPANDED_SIZE {
            big.push(format!("{}: {size}", rule.id));
        }
    }
    assert!(
        big.is_empty(),
        "rules whose regex expands past {MAX_EXPANDED_SIZE} positions:\n{}",
        big.join("\n")
    );
}

#[test]
fn max_len_lets_an_unbounded_rule_match_past_the_default_cap() {
    // Without `max_len` an unbounded rule is capped at 4 KiB: a 6,000-byte block is cut at the
    // cap and not found.
    let rules = |extra: &str| {
        let text = format!(
            "[[rules]]\nid='blk'\nregex='''(blkstart[a-z]{{100,}}?blkend)'''\nkeywords=['blkstart']\n{extra}"
        );
        RuleSet::from_toml(&text, "t").unwrap()
    };
    let body: String = (0..6000).map(|i| char::from(b'a' + (i * 7 % 26) as u8)).collect();
    let text = format!("{}\nblkstart{body}blkend\n", "x".repeat(50_000));
    let mut opts = DetectOptions::default();
    opts.window = 16 << 10;
    let long = Detector::new(&rules("max_len = 8192"), opts.clone()).unwrap();
    for chunk in [7, 4096, usize::MAX] {
        let found = scan_chunked(&long, "a.txt", text.as_bytes(), chunk).matches;
        assert_eq!(found.len(), 1, "reads of {chunk}");
        assert_eq!(found[0].secret.len(), 6000 + 14);
    }
    let capped = Detector::new(&rules(""), opts).unwrap();
    assert!(scan_chunked(&capped, "a.txt", text.as_bytes(), 4096).matches.is_empty());
}

#[test]
fn generic_rules_leave_provider_tokens_to_provider_rules() {
    // A generic rule reports only what no provider rule matched, even when the provider rule
    // dropped its match for a bad checksum: the bad token is no finding at all.
    let d = builtin();
    for text in
        [format!("GITHUB_TOKEN={GH}"), format!("GITHUB_TOKEN={GH_BAD}"), format!("api_key: \"{GH_BAD}\"")]
    {
        let found = ids(&d, &scan(&d, "app/.env", text.as_bytes()).matches);
        assert!(found.iter().all(|id| !id.starts_with("generic-")), "{text}: {found:?}");
    }
    let found = ids(&d, &scan(&d, "app/.env", b"AUTH_TOKEN=Vq8r2ZkLm4Xw9Tn1Bc7Hd3Pf\n").matches);
    assert_eq!(found, ["generic-token"], "a value no provider rule knows stays generic");
}

#[test]
fn builtin_rules_name_their_provider_and_category() {
    let known: Vec<&str> = CATEGORIES.iter().map(|(c, _)| *c).collect();
    let mut problems = Vec::new();
    for rule in RuleSet::builtin().rules() {
        match rule.category.as_deref() {
            Some(c) if known.contains(&c) => {}
            other => problems.push(format!("{}: category {other:?} is not one of {known:?}", rule.id)),
        }
        if !rule.is_generic() && rule.provider.is_none() {
            problems.push(format!("{}: no provider", rule.id));
        }
        if rule.examples.positive.len() < 2 {
            problems.push(format!("{}: fewer than two positive examples", rule.id));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn builtin_catalogue_is_broad() {
    let rules = RuleSet::builtin();
    let specific: Vec<_> = rules.rules().iter().filter(|r| !r.is_generic()).collect();
    let providers: std::collections::BTreeSet<&str> =
        specific.iter().filter_map(|r| r.provider.as_deref()).collect();
    assert!(specific.len() >= 500, "{} provider-specific rules", specific.len());
    assert!(providers.len() >= 350, "{} providers", providers.len());
}

/// Text with GitHub tokens at `offsets` (each token followed by a newline), filler elsewhere.
fn text_with_tokens(len: usize, offsets: &[usize]) -> Vec<u8> {
    let filler = b"lorem ipsum dolor sit amet, consectetur adipiscing elit\n";
    let mut data: Vec<u8> = filler.iter().cycle().take(len).copied().collect();
    for &o in offsets {
        data[o - 1] = b' ';
        data[o..o + GH.len()].copy_from_slice(GH.as_bytes());
        data[o + GH.len()] = b'\n';
    }
    data
}

fn check_boundaries(window: usize, len: usize) {
    let mut opts = DetectOptions::default();
    opts.window = window;
    let d = Detector::new(&RuleSet::builtin(), opts).unwrap();
    let w = d.window();
    // Buffer ends, given that each refill keeps at most w/2 bytes: secrets straddle each end and
    // sit around the report boundary just before it.
    let mut offsets = vec![1usize, 5000];
    let mut end = w;
    while end + 64 < len {
        for back in [20usize, 41, 300, 8_200, 8_230] {
            if end > back + 100 {
                offsets.push(end - back);
            }
        }
        end += w / 2;
    }
    offsets.sort_unstable();
    offsets.dedup_by(|a, b| a.abs_diff(*b) < GH.len() + 2);
    let offsets: Vec<usize> = offsets.into_iter().filter(|&o| o + GH.len() + 1 < len).collect();
    let data = text_with_tokens(len, &offsets);
    for chunk in [1, 7, 64, usize::MAX] {
        let s = scan_chunked(&d, "big.txt", &data, chunk);
        assert!(s.errors.is_empty(), "{:?}", s.errors);
        assert_offsets(&data, &s.matches);
        let found: Vec<usize> = s.matches.iter().map(|m| usize::try_from(m.offset).unwrap()).collect();
        assert_eq!(found, offsets, "window {w}, reads of {chunk} bytes: every token exactly once");
        for m in &s.matches {
            let o = usize::try_from(m.offset).unwrap();
            let line = 1 + data[..o].iter().filter(|&&b| b == b'\n').count() as u64;
            let col = o - data[..o].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1;
            assert_eq!((m.line, m.column), (Some(line), Some(col as u64)), "line/column at {o}");
        }
    }
}

#[test]
fn window_boundaries_smallest_window() {
    // Window 1 is raised to the minimum, so many refills happen within a small input.
    check_boundaries(1, 120_000);
}

#[test]
fn window_boundaries_default_window() {
    check_boundaries(layerleak::detect::DEFAULT_WINDOW, 2_300_000);
}

#[derive(Clone, Copy)]
enum Method {
    Stored,
    Deflate,
    /// Deflate with sizes in a data descriptor after the data (APPNOTE 4.3.9).
    DeflateDescriptor,
}

/// A minimal zip writer: local headers, data, central directory, end record.
fn zip(entries: &[(&str, &[u8], Method)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data, method) in entries {
        let crc = crc32fast::hash(data);
        let (code, body) = match method {
            Method::Stored => (0u16, data.to_vec()),
            Method::Deflate | Method::DeflateDescriptor => {
                let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(data).unwrap();
                (8u16, e.finish().unwrap())
            }
        };
        let descriptor = matches!(method, Method::DeflateDescriptor);
        let flags: u16 = if descriptor { 8 } else { 0 };
        let offset = out.len() as u32;
        let (hcrc, hc, hu) = if descriptor { (0, 0, 0) } else { (crc, body.len() as u32, data.len() as u32) };
        out.extend_from_slice(b"PK\x03\x04");
        for v in [20u16, flags, code, 0, 0] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in [hcrc, hc, hu] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&body);
        if descriptor {
            out.extend_from_slice(b"PK\x07\x08");
            for v in [crc, body.len() as u32, data.len() as u32] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        central.extend_from_slice(b"PK\x01\x02");
        for v in [20u16, 20, flags, code, 0, 0] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        for v in [crc, body.len() as u32, data.len() as u32] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        for v in [name.len() as u16, 0, 0, 0, 0] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        central.extend_from_slice(&0u32.to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06");
    for v in [0u16, 0, entries.len() as u16, entries.len() as u16] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn properties() -> Vec<u8> {
    format!("spring.application.name=demo\ngithub.token={GH}\n").into_bytes()
}

#[test]
fn jar_member_secret_names_the_member() {
    let d = builtin();
    for method in [Method::Stored, Method::Deflate, Method::DeflateDescriptor] {
        let props = properties();
        let jar = zip(&[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n", method),
            ("BOOT-INF/classes/", b"", Method::Stored),
            ("BOOT-INF/classes/application.properties", &props, method),
        ]);
        for chunk in [1, 7, 64, usize::MAX] {
            let s = scan_chunked(&d, "app/app.jar", &jar, chunk);
            assert!(s.errors.is_empty(), "{:?}", s.errors);
            assert_eq!(ids(&d, &s.matches), ["github-pat"]);
            let m = &s.matches[0];
            assert_eq!(m.inner, ["BOOT-INF/classes/application.properties"]);
            assert_eq!(&props[m.offset as usize..m.offset as usize + m.secret.len()], GH.as_bytes());
            assert_eq!((m.line, m.column), (Some(2), Some(14)));
        }
    }
}

#[test]
fn tar_gz_inside_zip() {
    let d = builtin();
    let tgz = gzip(&tar_of(&[("etc/app/config.env", format!("TOKEN={GH}\n").as_bytes())]));
    let outer = zip(&[("bundle/config.tar.gz", &tgz, Method::Stored)]);
    let s = scan(&d, "opt/release.zip", &outer);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert_eq!(ids(&d, &s.matches), ["github-pat"]);
    assert_eq!(s.matches[0].inner, ["bundle/config.tar.gz", "etc/app/config.env"]);
    assert_eq!(s.matches[0].offset, 6);
}

#[test]
fn plain_gzip_is_scanned_inflated() {
    let d = builtin();
    let s = scan(&d, "var/log/app.log.gz", &gzip(format!("x {AKID}\n").as_bytes()));
    assert_eq!(ids(&d, &s.matches), ["aws-access-key-id"]);
    assert_eq!(s.matches[0].inner, ["app.log"]);
}

#[test]
fn tar_and_tar_zst_members_are_walked() {
    let d = builtin();
    let plain = tar_of(&[("a/readme.txt", b"nothing here\n"), ("a/.env", format!("GH={GH}\n").as_bytes())]);
    let zst = zstd::stream::encode_all(&plain[..], 3).unwrap();
    for (name, blob) in [("backup.tar", &plain), ("backup.tar.zst", &zst)] {
        for chunk in [1, 7, 64, usize::MAX] {
            let s = scan_chunked(&d, name, blob, chunk);
            assert!(s.errors.is_empty(), "{name}: {:?}", s.errors);
            assert_eq!(ids(&d, &s.matches), ["github-pat"], "{name}");
            assert_eq!(s.matches[0].inner, ["a/.env"]);
            assert_eq!(s.matches[0].offset, 3);
        }
    }
}

#[test]
fn nesting_depth_is_capped() {
    let d = builtin();
    let props = properties();
    let mut blob = zip(&[("application.properties", &props, Method::Deflate)]);
    // Three levels of archive: found at the default depth limit of 3.
    for level in 0..2 {
        blob = zip(&[(&format!("lib/level{level}.jar"), &blob, Method::Deflate)]);
    }
    let s = scan(&d, "app.jar", &blob);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert_eq!(s.matches.len(), 1);
    assert_eq!(s.matches[0].inner, ["lib/level1.jar", "lib/level0.jar", "application.properties"]);
    // A fourth level is not opened, and that is reported.
    let blob = zip(&[("lib/level2.jar", &blob, Method::Deflate)]);
    let s = scan(&d, "app.jar", &blob);
    assert!(s.matches.is_empty());
    assert!(
        matches!(s.errors[..], [Error::Limit { limit: LimitKind::NestingDepth, max: 3, .. }]),
        "{:?}",
        s.errors
    );
}

#[test]
fn max_depth_zero_scans_archives_as_plain_bytes() {
    // Regression: depth 0 made every archive file a limit error and its bytes went unscanned.
    let mut opts = DetectOptions::default();
    opts.limits.max_nesting_depth = 0;
    let d = Detector::new(&RuleSet::builtin(), opts).unwrap();
    let blob = tar_of(&[("a/.env", format!("GH={GH}\n").as_bytes())]);
    let stored = zip(&[("app/.env", format!("GH={GH}\n").as_bytes(), Method::Stored)]);
    for (name, data) in [("backup.tar", &blob), ("app.jar", &stored)] {
        for chunk in [1, 7, 64, usize::MAX] {
            let s = scan_chunked(&d, name, data, chunk);
            assert!(s.errors.is_empty(), "{name}: {:?}", s.errors);
            assert_eq!(ids(&d, &s.matches), ["github-pat"], "{name}");
            assert!(s.matches[0].inner.is_empty(), "{name}: the archive is not opened");
            assert_offsets(data, &s.matches);
        }
    }
}

#[test]
fn zip_bomb_is_capped() {
    let mut opts = DetectOptions::default();
    opts.limits.max_nested_bytes = 1 << 20;
    let d = Detector::new(&RuleSet::builtin(), opts).unwrap();
    let zeros = vec![0u8; 16 << 20];
    for method in [Method::Deflate, Method::DeflateDescriptor] {
        let bomb = zip(&[("zeros.bin", &zeros, method), ("after.txt", GH.as_bytes(), Method::Stored)]);
        assert!(bomb.len() < zeros.len() / 100, "the fixture compresses");
        let s = scan(&d, "bomb.zip", &bomb);
        assert!(
            s.errors.iter().any(|e| matches!(e, Error::Limit { limit: LimitKind::NestedBytes, .. })),
            "{:?}",
            s.errors
        );
        assert!(s.matches.is_empty(), "the walk stops at the cap");
    }
}

#[test]
fn corrupt_zip_falls_back_to_raw_bytes() {
    let d = builtin();
    // A zip signature followed by an implausible header: not an archive after all.
    let mut data = b"PK\x03\x04\xff\xff\xff\xff garbage ".to_vec();
    data.extend_from_slice(format!("token={GH}\n").as_bytes());
    let s = scan(&d, "broken.jar", &data);
    assert_eq!(ids(&d, &s.matches), ["github-pat"]);
    assert!(s.matches[0].inner.is_empty());
    assert_offsets(&data, &s.matches);
}

/// The walk reads local headers only, so a cut inside the central directory loses nothing;
/// a cut anywhere before it is reported on the archive.
#[test]
fn truncated_zip_is_an_error_not_a_panic() {
    let d = builtin();
    let props = properties();
    let jar = zip(&[("a.properties", &props, Method::Deflate), ("b.properties", &props, Method::Deflate)]);
    let central = jar.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    // Inside the first name, inside the first member's data, just before the central directory.
    for cut in [35, 50, central - 5] {
        let s = scan(&d, "cut.jar", &jar[..cut]);
        assert!(!s.errors.is_empty(), "cut at {cut} must be reported");
        assert!(s
            .errors
            .iter()
            .all(|e| e.at().and_then(|a| a.path.as_deref()).is_some_and(|p| p.starts_with("cut.jar"))));
    }
}

#[test]
fn zip_slip_names_are_kept_as_data() {
    let d = builtin();
    let props = properties();
    let z = zip(&[("../../etc/secret.properties", &props, Method::Deflate)]);
    let s = scan(&d, "evil.zip", &z);
    assert_eq!(s.matches[0].inner, ["../../etc/secret.properties"]);
}

#[test]
fn validators_drop_invalid_unless_asked() {
    let d = builtin();
    let text = format!("a={GH}\nb={GH_BAD}\n");
    let s = scan(&d, "t.env", text.as_bytes());
    assert_eq!(s.matches.len(), 1);
    assert_eq!(s.matches[0].validation, Validation::Valid);
    let mut opts = DetectOptions::default();
    opts.include_invalid = true;
    let keep = Detector::new(&RuleSet::builtin(), opts).unwrap();
    let s = scan(&keep, "t.env", text.as_bytes());
    let v: Vec<Validation> = s.matches.iter().map(|m| m.validation).collect();
    assert_eq!(v, [Validation::Valid, Validation::Invalid]);
}

#[test]
fn placeholders_are_allowlisted() {
    let d = builtin();
    let text = "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n\
                aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n\
                aws_secret_access_key=${AWS_SECRET_ACCESS_KEY_FROM_VAULT_1234}\n\
                token=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n";
    let s = scan(&d, "docs/README.md", text.as_bytes());
    assert!(s.matches.is_empty(), "{:?}", ids(&d, &s.matches));
}

/// Text shapes that gave false positives on a layer of a Debian system's /etc, /usr and /opt:
/// identifiers in headers and generated clients, Go string tables, RFC 6749 example values,
/// `user:pass` test vectors and documentation URLs. None of them may give a finding.
#[test]
fn system_files_false_positives_stay_fixed() {
    let d = builtin();
    let cases: &[(&str, &[u8])] = &[
        ("usr/include/c++/12/bits/regex_scanner.tcc", b"  _M_token = _S_token_subexpr_lookahead_begin;\n"),
        (
            "usr/lib/python3/k8s/v1_pod_spec.py",
            b"'automount_service_account_token': 'automountServiceAccountToken',\n",
        ),
        (
            "usr/lib/k8s/v1_volume_projection.py",
            b"'service_account_token': 'V1ServiceAccountTokenProjection',\n",
        ),
        ("usr/bin/skopeo", b"\0Password=PhoenicianPluginSpecProcessingRIPEMD-160RST_STREAM \0"),
        ("usr/lib/botocore/paginators-1.json", b"\"input_token\": \"ExclusiveStartTableName\",\n"),
        ("usr/lib/jdk/src/TrustStoreManager.java", b"String password = storePassword;\n"),
        ("usr/share/locale/da/LC_MESSAGES/shadow.mo", b"Password: Adgangskode \0"),
        ("usr/bin/tool", b"\0invalid token=%vAPIGroupList password: %wreading\n"),
        ("usr/lib/gcloud/flags.py", b"--secret=projects/my-project/secrets/my-secret/versions/1\n"),
        ("usr/lib/gcloud/create.py", b"--password=password123 --db-password=fakepassword\n"),
        ("usr/lib/oauthlib/parameters.py", b"\"access_token\":\"2YotnFZFEjr1zCsicMWpAA\",\n"),
        ("usr/lib/oauthlib/base.py", b"Authorization: Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW\n"),
        ("usr/lib/urllib3/test_util.py", b"headers = {'authorization': 'Basic Zm9vOmJhcg=='}\n"),
        (
            "usr/lib/requests/test_utils.py",
            b"('http://user:{ENCODED_PASSWORD}@x.io', 'http://a:pass%20pass@x.io')\n",
        ),
        ("usr/share/man/man7/uri.7", b"ftp://fred:fredpassword@ftp.x.io/ http://u:Hunter2@x.io/\n"),
        ("usr/lib/requests/test_utils.cpython-312.pyc", b"\xfa\x1ahttp://a\x01b:\x02k9Xq2mZ7vB@x.io\0"),
        // Found once the catalogue grew: option values, header names, docstrings, templates.
        ("etc/java-17-openjdk/security/java.security", b"#jdk.security.krb5.default.initiate.credential=always-impersonate\n"),
        ("usr/lib/systemd/system/systemd-firstboot.service", b"LoadCredential=passwd.plaintext-password.root\n"),
        ("usr/lib/boto/provider.py", b"SERVER_SIDE_ENCRYPTION_KEY = 'server-side-encryption-header'\n"),
        ("usr/lib/gcloud/creds.cpython-312.pyc", b"  credentials: google.auth.credentials.Credentials.\n  x\0"),
        ("usr/lib/gcloud/connectors_v1.pyc", b"    oauth2ClientCredentials: Oauth2ClientCredentials.\n"),
        ("usr/lib/google/auth/_oauth2client.py", b"    oauth2client.client.OAuth2Credentials: _convert_oauth2_credentials,\n"),
        ("usr/lib/gsutil/signurl.py", b"'&x-goog-credential=fake_service_account_email%2F19000101%2Fus-'\n"),
        ("usr/lib/devappserver2/api_server_py3.py", b"      mail_smtp_password=options.smtp_password,\n"),
        ("usr/bin/kpt", b"kubectl create configmap my-config --from-literal=key1=config1 --from-literal=key2=config2\n"),
        ("usr/bin/kubectl", b"kubectl create secret generic my-secret --from-literal=key2=topsecret\\n\0"),
        ("usr/lib/libgcrypt.a", b"(private-key  (rsa(n%m)(e%m)(d%m)(p%m)(q%m)(u%m))) %S)\0 (d #C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721#)"),
    ];
    for (path, text) in cases {
        for chunk in [1, 7, 64, usize::MAX] {
            let s = scan_chunked(&d, path, text, chunk);
            assert!(s.matches.is_empty(), "{path} ({chunk}-byte reads): {:?}", ids(&d, &s.matches));
        }
    }
    // The fixes stop at the shapes above: a random value in the same places is still found.
    let text = "password = 'uXFGweU9l35qcif'\nhttps://deploy:k9Xq2mZ7vB@repo.acme.io\n\
                Authorization: Basic ZGVwbG95OkRHbFcqV3c3OHlsRURvaWxjMQ==\n";
    let s = scan(&d, "etc/app.conf", text.as_bytes());
    assert_eq!(ids(&d, &s.matches), ["generic-password", "basic-auth-url", "generic-basic-auth-header"]);
}

/// Generic rules took a whole query string (`tok&oauth_verifier=...`) as one secret, so the
/// reported value and fingerprint were wrong; the value ends before the next `&name=`.
#[test]
fn generic_value_stops_at_next_query_parameter() {
    let d = builtin();
    let text = b"GET /cb?oauth_token=Q7xk2Vb9mWz4Lp8R&oauth_verifier=w34o8967345 HTTP/1.1\n";
    for chunk in [1, 7, 64, usize::MAX] {
        let s = scan_chunked(&d, "usr/lib/oauthlib/test_session.py", text, chunk);
        let secrets: Vec<&[u8]> = s.matches.iter().map(|m| &m.secret[..]).collect();
        assert_eq!(secrets, [&b"Q7xk2Vb9mWz4Lp8R"[..]], "{chunk}-byte reads");
    }
}

#[test]
fn aws_secret_near_key_id_is_paired() {
    let d = builtin();
    let text = format!("[default]\naws_access_key_id = {AKID}\naws_secret_access_key = {AWS_SECRET}\n");
    let s = scan(&d, ".aws/credentials", text.as_bytes());
    assert_eq!(ids(&d, &s.matches), ["aws-access-key-id", "aws-secret-access-key"]);
    let note = s.matches[1].note.as_deref().unwrap();
    assert_eq!(note, "paired with aws-access-key-id AKIA*****");
    assert!(!note.contains(AKID) && !note.contains(AWS_SECRET));
}

const GITLEAKS: &str = r#"
title = "acme gitleaks config"

[extend]
useDefault = true

[allowlist]
description = "global allowlist"
paths = ['''(^|/)vendor/''']
regexes = ['''^itk_0000''']

[[rules]]
id = "acme-internal-token"
description = "ACME internal service token"
regex = '''(?i)\b(itk_[a-z0-9]{24})\b'''
keywords = ["itk_"]
entropy = 3.5
tags = ["internal", "token"]

[[rules.allowlists]]
description = "fixtures and revoked tokens"
paths = ['''(^|/)fixtures/''']
stopwords = ["revoked"]
"#;

#[test]
fn gitleaks_config_loads_and_extends_builtins() {
    let custom = RuleSet::from_toml(GITLEAKS, "acme.toml").unwrap();
    assert_eq!(custom.rules().len(), 1);
    assert_eq!(custom.rules()[0].title, "ACME internal service token");
    assert_eq!(custom.rules()[0].secret_group, 1);
    let mut rules = RuleSet::builtin();
    let n = rules.rules().len();
    rules.extend(custom).unwrap();
    assert_eq!(rules.rules().len(), n + 1);
    let d = Detector::new(&rules, DetectOptions::default()).unwrap();
    let text = format!("svc=itk_q9w8e7r6t5y4u3i2o1p0zmxn\ngh={GH}\n");
    assert_eq!(
        ids(&d, &scan(&d, "srv/app.env", text.as_bytes()).matches),
        ["acme-internal-token", "github-pat"]
    );
    assert_eq!(ids(&d, &scan(&d, "srv/fixtures/app.env", text.as_bytes()).matches), ["github-pat"]);
    assert!(scan(&d, "srv/vendor/app.env", text.as_bytes()).matches.is_empty());
    assert!(scan(&d, "a", b"itk_revokedq9w8e7r6t5y4u3i2o").matches.is_empty());
    assert!(scan(&d, "a", b"itk_0000q9w8e7r6t5y4u3i2o1p0").matches.is_empty());
}

#[test]
fn invalid_rules_name_the_rule() {
    let cases = [
        ("[[rules]]\nid='bad-re'\nregex='(unclosed'\n", "bad-re", "regex"),
        ("[[rules]]\ndescription='no id'\nregex='x'\n", "#1", "missing id"),
        ("[[rules]]\nid='no-re'\nkeywords=['x']\n", "no-re", "missing regex"),
        ("[[rules]]\nid='dup'\nregex='x'\n[[rules]]\nid='dup'\nregex='y'\n", "dup", "duplicate"),
        ("[[rules]]\nid='grp'\nregex='(a)b'\nsecretGroup=2\n", "grp", "secretGroup"),
        ("[[rules]]\nid='val'\nregex='x'\nvalidator='luhn'\n", "val", "validator"),
        ("[[rules]]\nid='ent'\nregex='x'\nentropy=9.5\n", "ent", "entropy"),
    ];
    for (text, id, what) in cases {
        let e = RuleSet::from_toml(text, "user.toml").expect_err(text);
        assert!(e.to_string().starts_with(&format!("user.toml: rule {id}: ")), "{e}");
        match e {
            Error::RulesFile { file, rule, message } => {
                assert_eq!((file.as_str(), rule.as_deref()), ("user.toml", Some(id)), "{text}");
                assert!(message.contains(what), "{message:?} should mention {what}");
            }
            other => panic!("{text}: expected a rules file error, got {other:?}"),
        }
    }
}

#[test]
fn detector_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Detector>();
    assert_send_sync::<RuleSet>();
    fn assert_send<T: Send>() {}
    assert_send::<Scratch>();
    assert_send::<Match>();
}

#[test]
fn scratch_is_reusable_across_files_and_detectors() {
    let a = builtin();
    let b = Detector::new(
        &RuleSet::from_toml("[[rules]]\nid='x'\nregex='''zz(q[0-9]{9})'''\nkeywords=['zz']\n", "t").unwrap(),
        DetectOptions::default(),
    )
    .unwrap();
    let mut scratch = Scratch::new();
    let mut n = 0;
    for (d, data) in [(&a, GH.as_bytes()), (&b, b"zzq123450987".as_slice()), (&a, GH.as_bytes())] {
        d.scan_bytes(b"f", data, &mut scratch, &mut |_| {
            n += 1;
            ControlFlow::Continue(())
        });
    }
    assert_eq!(n, 3);
}

#[test]
fn one_matched_span_is_one_finding() {
    // A GitHub token in .netrc is captured by github-pat, netrc-password and generic rules; the
    // report must carry it once, under the most specific rule.
    let d = builtin();
    let text = b"machine api.github.com login octocat password 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\n";
    let found = scan(&d, ".netrc", text);
    assert_eq!(ids(&d, &found.matches), vec!["github-pat".to_string()]);
}

#[test]
fn zip_raw_fallback_keeps_the_file_offset() {
    // Found by fuzzing: a member declaring 0 compressed bytes while its data follows sends the zip
    // walk into the data; the raw fallback reported the secret at offset 0 instead of its own.
    let token = b"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";
    let mut zip = Vec::new();
    zip.extend_from_slice(b"PK\x03\x04");
    zip.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, stored, time, date
    zip.extend_from_slice(&[0; 12]); // crc, compressed size 0, size 0
    zip.extend_from_slice(&[5, 0, 0, 0]); // name length, extra length
    zip.extend_from_slice(b"a.txt");
    zip.extend_from_slice(b"token = ");
    let at = zip.len() as u64;
    zip.extend_from_slice(token);
    zip.extend_from_slice(b"\n");
    let d = builtin();
    for chunk in [1, 7, 64, usize::MAX] {
        let found = scan_chunked(&d, "app.jar", &zip, chunk);
        let offsets: Vec<u64> =
            found.matches.iter().filter(|m| d.rules()[m.rule].id == "github-pat").map(|m| m.offset).collect();
        assert_eq!(offsets, vec![at], "read size {chunk}");
    }
}

#[test]
fn zip_data_descriptor_split_across_reads_is_consumed_whole() {
    // Seen on a real jar: the descriptor's optional signature was peeked from the read buffer,
    // which held fewer than 4 bytes when a read ended inside it, so the next member was misread.
    // The first member is big enough that its descriptor lies past the sniffed head, where the
    // reads are as small as the caller's.
    let mut seed = 7u32;
    let filler: Vec<u8> = (0..4096)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            b"0123456789 ,;:"[(seed >> 16) as usize % 14]
        })
        .collect();
    let props = properties();
    let jar = zip(&[
        ("META-INF/numbers.txt", &filler, Method::DeflateDescriptor),
        ("BOOT-INF/classes/application.properties", &props, Method::DeflateDescriptor),
    ]);
    let d = builtin();
    for chunk in [1, 2, 3, 5, 7, 64, usize::MAX] {
        let s = scan_chunked(&d, "app/app.jar", &jar, chunk);
        assert!(s.errors.is_empty(), "read size {chunk}: {:?}", s.errors);
        assert_eq!(ids(&d, &s.matches), ["github-pat"], "read size {chunk}");
        assert_eq!(s.matches[0].inner, ["BOOT-INF/classes/application.properties"]);
    }
}

#[test]
fn pgp_key_block_of_12_kib_is_found_once_across_windows() {
    // The match cap for key blocks was 8 KiB while the rule allows a 16 KiB body: a PGP secret key
    // with large subkeys was cut off and missed. Planted around window ends of the smallest
    // window, read in pieces of every size.
    let mut x = 0x2545_f491u32;
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut block = String::from("-----BEGIN PGP PRIVATE KEY BLOCK-----\nComment: build signing key\n\n");
    for _ in 0..192 {
        let line: String = (0..64)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                char::from(alphabet[(x >> 16) as usize % 64])
            })
            .collect();
        block.push_str(&line);
        block.push('\n');
    }
    block.push_str("=Xq2v\n-----END PGP PRIVATE KEY BLOCK-----");
    assert!(block.len() > 12 << 10);
    let mut opts = DetectOptions::default();
    opts.window = 1;
    let d = Detector::new(&RuleSet::builtin(), opts).unwrap();
    let w = d.window();
    for at in [0, w - 5000, w - 40, w + 17, 2 * w] {
        let mut data = vec![b'.'; at];
        data.push(b'\n');
        data.extend_from_slice(block.as_bytes());
        data.extend_from_slice(b"\n");
        data.resize(data.len() + w, b'.');
        for chunk in [1, 7, 64, usize::MAX] {
            let s = scan_chunked(&d, "keys/signing.asc", &data, chunk);
            assert!(s.errors.is_empty(), "{:?}", s.errors);
            assert_eq!(ids(&d, &s.matches), ["pgp-private-key"], "at {at}, reads of {chunk}");
            assert_eq!(s.matches[0].secret, block.as_bytes());
            assert_eq!(s.matches[0].offset, at as u64 + 1);
        }
    }
}
