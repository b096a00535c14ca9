//! Packaged-file triage: images built here with real package database formats (dpkg status and
//! md5sums, apk installed, Python RECORD), and one built from this machine's own dpkg database.

use base64::Engine as _;
use layerleak::digest::Digest;
use layerleak::package::Manager;
use layerleak::report::{Finding, Report};
use layerleak::scan::ScannerBuilder;
use layerleak::Limits;
use md5::Digest as _;

use crate::support::gzip;

/// Synthetic, format-valid secrets (checksummed where the format has one).
const GH: &str = "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";
const SLACK: &str = "https://hooks.slack.com/services/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";
/// What the Slack webhook rule takes as the secret: the URL's path.
const SLACK_SECRET: &str = "T42CFSUOS/BG0WP8I8ZZX/NDVr4akFjno6McPGXNG2QI1B";
const AWS: &str = "AKIAQ3EGRT5LWZ2XH7NB";
const STRIPE: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcQ9vW2kXy";
const PG_PASSWORD: &str = "Xk29fQpL7vRt3mWz";
const PY_BIG_KEY: &str = "AIzaSyD4kQ8wE2rT6yU0iO3pA7sD1fG5hJ9kL2z";
const DATA_TOKEN: &str = "SG.Kq3vX9qLm2Tz7WbY4nHsAw.Rk3vX9qLm2Tz7WbY4nHsPq8vX9qLm2Tz7WbY4nHsAwE";

enum E<'a> {
    F(&'a str, Vec<u8>),
    D(&'a str),
    S(&'a str, &'a str),
    Wh(&'a str),
}

fn layer(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_mtime(0);
        match e {
            E::F(name, data) => {
                h.set_size(data.len() as u64);
                b.append_data(&mut h, name, &data[..]).expect("tar in memory");
            }
            E::D(name) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                b.append_data(&mut h, name, &b""[..]).expect("tar in memory");
            }
            E::S(name, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                b.append_link(&mut h, name, target).expect("tar in memory");
            }
            E::Wh(path) => {
                let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
                let wh = if dir.is_empty() { format!(".wh.{name}") } else { format!("{dir}/.wh.{name}") };
                h.set_size(0);
                b.append_data(&mut h, wh, &b""[..]).expect("tar in memory");
            }
        }
    }
    b.into_inner().expect("tar in memory")
}

/// A `docker save` archive of gzip layers.
fn archive(layers: &[Vec<u8>]) -> Vec<u8> {
    let diff_ids: Vec<String> = layers.iter().map(|l| format!("\"{}\"", Digest::sha256_of(l))).collect();
    let history: Vec<String> =
        (0..layers.len()).map(|i| format!(r#"{{"created_by":"RUN step {i}"}}"#)).collect();
    let config = format!(
        r#"{{"os":"linux","architecture":"amd64","config":{{}},"history":[{}],"rootfs":{{"type":"layers","diff_ids":[{}]}}}}"#,
        history.join(","),
        diff_ids.join(",")
    );
    let names: Vec<String> = (0..layers.len()).map(|i| format!("\"l{i}.tar.gz\"")).collect();
    let manifest = format!(
        r#"[{{"Config":"config.json","RepoTags":["test/packaged:1"],"Layers":[{}]}}]"#,
        names.join(",")
    );
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        b.append_data(&mut h, name, data).expect("tar in memory");
    };
    for (i, l) in layers.iter().enumerate() {
        add(&format!("l{i}.tar.gz"), &gzip(l));
    }
    add("config.json", config.as_bytes());
    add("manifest.json", manifest.as_bytes());
    b.into_inner().expect("tar in memory")
}

fn md5_hex(data: &[u8]) -> String {
    md5::Md5::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

fn sha1_b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(sha1::Sha1::digest(data))
}

fn sha256_b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(data))
}

fn scan(archive: &[u8], include: bool, limits: Limits) -> Report {
    scan_on(2, archive, include, limits)
}

/// With `threads` > 1 a layer blob of 1 MiB or more is walked on one thread and scanned on
/// another (large files are then hashed by the walking thread); with 1, on one thread.
fn scan_on(threads: usize, archive: &[u8], include: bool, limits: Limits) -> Report {
    let scanner = ScannerBuilder::new()
        .threads(threads)
        .include_packaged(include)
        .limits(limits)
        .build()
        .expect("scanner");
    let Ok(report) = scanner.scan_reader("packaged.tar", &mut &archive[..], &mut layerleak::scan::NullSink);
    report
}

fn find<'r>(r: &'r Report, needle: &str) -> Option<&'r Finding> {
    r.findings.iter().find(|f| f.fingerprint == Digest::sha256_of(needle.as_bytes()).hex())
}

/// Files of the base layer of the dpkg images: what the packages installed.
struct Base {
    hook: Vec<u8>,
    readme: Vec<u8>,
    big: Vec<u8>,
    conf: Vec<u8>,
    key2: Vec<u8>,
    /// Large too, where packages seldom install: hashed by reading the layer again.
    data: Vec<u8>,
    py: Vec<u8>,
    pyc: Vec<u8>,
    record_file: Vec<u8>,
}

fn base_files() -> Base {
    // Larger than what a scan keeps whole, so its digest takes the second read.
    let mut big = Vec::with_capacity(5 << 20);
    while big.len() < (5 << 20) {
        big.extend_from_slice(b"\x7fELF archive member filler 0123456789 abcdefghijklmnopqrstuvwxyz\n");
    }
    big.extend_from_slice(format!("\ntest vector: aws_access_key_id = {AWS}\n").as_bytes());
    let mut data = big[..(4 << 20) + 1000].to_vec();
    data.extend_from_slice(format!("\nsample token {}\n", DATA_TOKEN).as_bytes());
    Base {
        data,
        hook: format!("# sample\nwebhook = {SLACK}\n").into_bytes(),
        readme: format!("Example token for the test suite: {GH}\n").into_bytes(),
        big,
        conf: b"# libfoo defaults\nport = 5432\n".to_vec(),
        key2: b"-----BEGIN TEST-----\nAKIAZ7VRSQ5TJN2XU6YD\n".to_vec(),
        py: format!("SAMPLE_KEY = '{STRIPE}'\n").into_bytes(),
        pyc: [&b"\xa7\x0d\x0d\x0a\0\0\0\0"[..], b"\xe3 sample ", STRIPE.as_bytes(), b" \x00"].concat(),
        record_file: format!("TEST_TOKEN = \"{}\"\n", "glpat-Rk3vX9qLm2Tz7WbY4nHs").into_bytes(),
    }
}

const SITE: &str = "usr/local/lib/python3.11/site-packages";

fn status(with_libfoo: bool, conf: &[u8]) -> Vec<u8> {
    let mut s = String::new();
    if with_libfoo {
        s += &format!(
            "Package: libfoo-dev\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\n\
             Version: 1.2-3\nConffiles:\n /etc/libfoo.conf {}\nDescription: test library\n more\n\n",
            md5_hex(conf)
        );
    }
    s += "Package: python3-foo\nStatus: install ok installed\nArchitecture: all\nVersion: 0.9-1\n\n\
          Package: oldpkg\nStatus: deinstall ok config-files\nArchitecture: all\nVersion: 1\n";
    s.into_bytes()
}

fn base_layer(b: &Base) -> Vec<u8> {
    let libfoo_sums = format!(
        "{}  lib/libfoo/test/hook.txt\n{}  usr/share/doc/libfoo-dev/README\n{}  usr/lib/libfoo/libfoo.a\n{}  lib/libfoo/test/key2.txt\n{}  var/lib/libfoo/sample.dat\n",
        md5_hex(&b.hook),
        md5_hex(&b.readme),
        md5_hex(&b.big),
        md5_hex(&b.key2),
        md5_hex(&b.data)
    );
    let py_sums = format!("{}  usr/lib/python3/dist-packages/foo/common.py\n", md5_hex(&b.py));
    // Large: hashed (MD5) as it streams by, then read again for the SHA-256 the RECORD needs.
    let py_big = [&b.big[..(4 << 20) + 10], format!("\nkey = {PY_BIG_KEY}\n").as_bytes()].concat();
    let record = format!(
        "barlib/testing.py,sha256={},{}\nbarlib/model.bin,sha256={},{}\nbarlib-2.8.0.dist-info/RECORD,,\n",
        sha256_b64url(&b.record_file),
        b.record_file.len(),
        sha256_b64url(&py_big),
        py_big.len()
    );
    layer(&[
        E::D("usr/"),
        E::D("usr/lib/"),
        E::D("usr/bin/"),
        E::S("lib", "usr/lib"),
        E::S("bin", "usr/bin"),
        E::F("etc/libfoo.conf", b.conf.clone()),
        E::F("usr/lib/libfoo/test/hook.txt", b.hook.clone()),
        E::F("usr/lib/libfoo/test/key2.txt", b.key2.clone()),
        E::F("usr/lib/libfoo/libfoo.a", b.big.clone()),
        E::F("var/lib/libfoo/sample.dat", b.data.clone()),
        // Incompressible, so the gzip blob is over 1 MiB and a two-thread scan pipelines it.
        E::F("usr/share/libfoo/noise.bin", crate::registry_harness::noise(3 << 19, 7)),
        E::F("usr/share/doc/libfoo-dev/README", b.readme.clone()),
        E::F("usr/lib/python3/dist-packages/foo/common.py", b.py.clone()),
        E::F("usr/lib/python3/dist-packages/foo/__pycache__/common.cpython-311.pyc", b.pyc.clone()),
        E::F(&format!("{SITE}/barlib/testing.py"), b.record_file.clone()),
        E::F(&format!("{SITE}/barlib/model.bin"), py_big),
        E::F(&format!("{SITE}/barlib-2.8.0.dist-info/RECORD"), record.into_bytes()),
        E::F("var/lib/dpkg/status", status(true, &b.conf)),
        E::F("var/lib/dpkg/info/libfoo-dev:amd64.md5sums", libfoo_sums.into_bytes()),
        E::F("var/lib/dpkg/info/python3-foo.md5sums", py_sums.into_bytes()),
    ])
}

#[test]
fn vendor_files_are_packaged_and_what_the_image_changed_is_not() {
    let b = base_files();
    let l0 = base_layer(&b);
    let dsn = format!("postgres://app:{PG_PASSWORD}@db:5432/app");
    let l1 = layer(&[E::F("etc/libfoo.conf", [&b.conf[..], format!("dsn = {dsn}\n").as_bytes()].concat())]);
    let l2 = layer(&[E::F("usr/lib/libfoo/test/key2.txt", b"replaced: AKIAY3XQ7PLMN4RT2WVB\n".to_vec())]);
    let l3 = layer(&[E::D("app/"), E::F("app/hook.txt", b.hook.clone())]);
    let image = archive(&[l0, l1, l2, l3]);

    let r = scan(&image, false, Limits::default());
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let listed: Vec<(&str, &str)> =
        r.findings.iter().map(|f| (f.rule.as_str(), f.location.path.as_str())).collect();
    // Edited conffile, replacing file and a vendor file copied elsewhere: reported.
    assert!(find(&r, PG_PASSWORD).is_some_and(|f| f.location.path == "etc/libfoo.conf"), "{listed:?}");
    assert!(find(&r, "AKIAY3XQ7PLMN4RT2WVB").is_some(), "{listed:?}");
    let hook =
        find(&r, SLACK_SECRET).expect("a vendor file copied to /app is not vouched for by its content alone");
    assert!(hook.package.is_none());
    // Byte-identical vendor files: not listed, counted.
    for s in [GH, AWS, STRIPE, "glpat-Rk3vX9qLm2Tz7WbY4nHs", "AKIAZ7VRSQ5TJN2XU6YD", DATA_TOKEN, PY_BIG_KEY] {
        assert!(find(&r, s).is_none(), "{s} listed: {listed:?}");
    }
    assert_eq!(r.stats.findings_packaged, 7, "{listed:?}");
    assert!(r.findings.iter().all(|f| f.package.is_none()));
    assert_eq!(r.images[0].layers[0].secrets_packaged, 7);
    assert!(r.notes.iter().all(|n| !n.contains("package database")), "{:?}", r.notes);

    let all = scan(&image, true, Limits::default());
    let pkg = |s: &str| find(&all, s).and_then(|f| f.package.clone()).map(|p| (p.manager, p.name, p.version));
    let dpkg = |n: &str, v: &str| Some((Manager::Dpkg, n.to_string(), v.to_string()));
    assert_eq!(pkg(GH), dpkg("libfoo-dev", "1.2-3"));
    assert_eq!(pkg(AWS), dpkg("libfoo-dev", "1.2-3"), "the large file is hashed as it streams by");
    assert_eq!(pkg(DATA_TOKEN), dpkg("libfoo-dev", "1.2-3"), "a large file under var/ by a second read");
    assert_eq!(pkg("AKIAZ7VRSQ5TJN2XU6YD"), dpkg("libfoo-dev", "1.2-3"), "merged-/usr alias, shadowed copy");
    let stripe = find(&all, STRIPE).expect("listed with include_packaged");
    assert_eq!(stripe.also_in.len(), 1, "source and bytecode");
    assert_eq!(pkg(STRIPE), dpkg("python3-foo", "0.9-1"));
    let record = pkg("glpat-Rk3vX9qLm2Tz7WbY4nHs");
    assert_eq!(record, Some((Manager::Python, "barlib".to_string(), "2.8.0".to_string())));
    let big_record = pkg(PY_BIG_KEY);
    assert_eq!(big_record, record, "a large file's SHA-256 comes from a second read");
    assert_eq!(pkg(PG_PASSWORD), None);
    assert_eq!(all.stats.findings_packaged, 7);
    assert_eq!(all.findings.len(), r.findings.len() + 7);
    // Walked and scanned on one thread: the same classification.
    let serial = scan_on(1, &image, true, Limits::default());
    let classes = |r: &Report| -> Vec<(String, Option<String>)> {
        let mut v: Vec<_> = r
            .findings
            .iter()
            .map(|f| (f.fingerprint.clone(), f.package.as_ref().map(|p| p.name.clone())))
            .collect();
        v.sort();
        v
    };
    assert_eq!(classes(&serial), classes(&all));
    let json = serde_json::to_value(find(&all, GH)).expect("serializes");
    assert_eq!(
        json["package"],
        serde_json::json!({"manager": "dpkg", "name": "libfoo-dev", "version": "1.2-3"})
    );
}

#[test]
fn a_database_deleted_or_rewritten_later_vouches_for_nothing_written_after() {
    let b = base_files();
    let l0 = base_layer(&b);
    // The status no longer lists libfoo-dev; its README is written again, byte for byte.
    let l1 = layer(&[
        E::F("var/lib/dpkg/status", status(false, &b.conf)),
        E::F("usr/share/doc/libfoo-dev/README", b.readme.clone()),
    ]);
    // The whole dpkg database goes; the Python source is written again, byte for byte.
    let l2 = layer(&[
        E::D("var/lib/"),
        E::Wh("var/lib/dpkg"),
        E::F("usr/lib/python3/dist-packages/foo/common.py", b.py.clone()),
    ]);
    let r = scan(&archive(&[l0, l1, l2]), false, Limits::default());
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let readme =
        find(&r, GH).expect("the copy written after the status dropped the package is not vouched for");
    assert_eq!(readme.also_in.len(), 1);
    assert!(find(&r, STRIPE).is_some(), "the copy written after the database was deleted is not vouched for");
    // Untouched files keep the vouch of the database as it stood after their layer.
    assert!(find(&r, AWS).is_none());
    assert!(find(&r, "glpat-Rk3vX9qLm2Tz7WbY4nHs").is_none(), "RECORD unaffected");
}

#[test]
fn apk_installed_vouches_for_alpine_files() {
    let test_txt = format!("test vector {GH}\n").into_bytes();
    let conf = b"# libbar\nlevel = 1\n".to_vec();
    let installed = format!(
        "C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nP:libbar\nV:1.0-r0\nA:x86_64\nF:usr/share/libbar\nR:test.txt\nZ:Q1{}\n\
         F:etc\nR:libbar.conf\na:0:0:644\nZ:Q1{}\n\n",
        sha1_b64(&test_txt),
        sha1_b64(&conf)
    );
    let l0 = layer(&[
        E::F("lib/apk/db/installed", installed.into_bytes()),
        E::F("usr/share/libbar/test.txt", test_txt),
        E::F("etc/libbar.conf", conf.clone()),
    ]);
    let dsn = format!("postgres://bar:{PG_PASSWORD}@db/bar\n");
    let l1 = layer(&[E::F("etc/libbar.conf", [&conf[..], dsn.as_bytes()].concat())]);
    let r = scan(&archive(&[l0, l1]), true, Limits::default());
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let gh = find(&r, GH).and_then(|f| f.package.clone()).expect("packaged and listed");
    assert_eq!((gh.manager, gh.name.as_str(), gh.version.as_str()), (Manager::Apk, "libbar", "1.0-r0"));
    assert!(find(&r, PG_PASSWORD).is_some_and(|f| f.package.is_none()), "the edited file is reported");
}

#[test]
fn malformed_or_oversized_databases_give_a_note_and_no_classification() {
    let b = base_files();
    let mut bad_status = status(true, &b.conf);
    bad_status.extend_from_slice(b"\nPackage: broken\nthis line is not a field\n");
    let base = base_layer(&b);
    let l1 = layer(&[
        E::F("var/lib/dpkg/status", bad_status),
        E::F(&format!("{SITE}/barlib-2.8.0.dist-info/RECORD"), b"\"unterminated,sha256=x,1\n".to_vec()),
        E::F("usr/share/doc/libfoo-dev/README", b.readme.clone()),
        E::F(&format!("{SITE}/barlib/testing.py"), b.record_file.clone()),
    ]);
    let r = scan(&archive(&[base.clone(), l1]), false, Limits::default());
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert!(find(&r, GH).is_some(), "rewritten under a status that cannot be read: reported");
    assert!(find(&r, "glpat-Rk3vX9qLm2Tz7WbY4nHs").is_some());
    let notes = r.notes.join("\n");
    assert!(notes.contains("var/lib/dpkg/status not used: line"), "{notes}");
    assert!(notes.contains("RECORD not used: line 1: unbalanced quotes"), "{notes}");

    let mut limits = Limits::default();
    limits.max_package_db_bytes = 200;
    let r = scan(&archive(&[base]), false, limits);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.stats.findings_packaged, 2, "only the RECORD fits (two files); the status does not");
    assert!(
        r.notes.iter().any(|n| n.contains("larger than max_package_db_bytes (200 bytes)")),
        "{:?}",
        r.notes
    );

    let none = scan(
        &archive(&[layer(&[E::F("app/.env", format!("T={GH}\n").into_bytes())])]),
        false,
        Limits::default(),
    );
    assert!(none.notes.iter().any(|n| n.contains("no package database found")), "{:?}", none.notes);
}

/// Packages of this machine whose files hold vendor test keys, sample tokens and the like.
const HOST_PACKAGES: &[&str] = &[
    "libxmlsec1-dev",
    "libnet-ssleay-perl",
    "python3-jwt",
    "python3-lazr.restfulclient",
    "base-passwd",
    "passwd",
    "git",
    "docker-registry",
    "libgnutls28-dev",
    "libgcrypt20-dev",
    "libio-socket-ssl-perl",
];

/// The stanzas of `wanted` packages in this machine's dpkg status, verbatim, with their names
/// as the info files spell them (`name` or `name:arch`).
fn host_stanzas(status: &str, wanted: &[&str]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for stanza in status.split("\n\n") {
        let field = |k: &str| stanza.lines().find_map(|l| l.strip_prefix(k)).map(str::trim);
        let (Some(name), Some(arch)) = (field("Package:"), field("Architecture:")) else { continue };
        if !wanted.contains(&name) || !field("Status:").is_some_and(|s| s.ends_with(" installed")) {
            continue;
        }
        let info =
            if field("Multi-Arch:") == Some("same") { format!("{name}:{arch}") } else { name.to_string() };
        out.push((info, format!("{}\n\n", stanza.trim_end())));
    }
    out
}

#[test]
fn this_machines_debian_packages_scanned_with_their_dpkg_database_are_all_packaged() {
    let status =
        std::fs::read_to_string("/var/lib/dpkg/status").expect("a Debian machine: /var/lib/dpkg/status");
    let stanzas = host_stanzas(&status, HOST_PACKAGES);
    assert!(stanzas.len() >= 4, "install some of {HOST_PACKAGES:?} (.ci/run does): {}", stanzas.len());
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    let mut new_status = String::new();
    for (info, stanza) in &stanzas {
        new_status += stanza;
        let sums_path = format!("/var/lib/dpkg/info/{info}.md5sums");
        let sums = std::fs::read_to_string(&sums_path).expect("md5sums of an installed package");
        entries.push((format!("var/lib/dpkg/info/{info}.md5sums"), sums.clone().into_bytes()));
        for line in sums.lines() {
            let Some((sum, path)) = line.split_once("  ") else { continue };
            // Programs are large and hold no samples; the rest is what such packages ship.
            if path.starts_with("usr/bin/")
                || path.contains("/git-core/")
                || path.starts_with("usr/share/man/")
            {
                continue;
            }
            let Ok(real) = std::fs::canonicalize(format!("/{path}")) else { continue };
            let Ok(data) = std::fs::read(&real) else { continue };
            // A file changed on this machine is rightly not packaged; leave it out.
            if data.len() > 8 << 20 || md5_hex(&data) != sum {
                continue;
            }
            let stored = real.to_string_lossy().trim_start_matches('/').to_string();
            entries.push((stored, data));
        }
    }
    entries.push(("var/lib/dpkg/status".into(), new_status.into_bytes()));
    // The machine's merged-/usr links, as its base image would carry them.
    let links: Vec<(&str, String)> = ["lib", "bin", "sbin", "lib64"]
        .into_iter()
        .filter_map(|l| Some((l, std::fs::read_link(format!("/{l}")).ok()?.to_string_lossy().into_owned())))
        .collect();
    let mut layer_entries: Vec<E> = links.iter().map(|(l, t)| E::S(l, t)).collect();
    layer_entries.extend(entries.iter().map(|(p, d)| E::F(p, d.clone())));
    let image = archive(&[layer(&layer_entries)]);

    let r = scan(&image, true, Limits::default());
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let unpackaged: Vec<String> = r
        .findings
        .iter()
        .filter(|f| f.package.is_none())
        .map(|f| format!("{} {}", f.rule, f.location.path))
        .collect();
    assert!(unpackaged.is_empty(), "findings in unchanged package files not packaged: {unpackaged:#?}");
    assert!(
        r.stats.findings_packaged >= 3,
        "the chosen packages hold samples: {}",
        r.stats.findings_packaged
    );
    assert!(r.findings.iter().all(|f| f.package.as_ref().is_some_and(|p| p.manager == Manager::Dpkg)));
}
