//! The by-secret view of a multi-image input: `umoci.oci` holds two images sharing six layers
//! (tag `umoci` adds a seventh that deletes two of their secrets), so every secret is one entry
//! with a place in each image.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use layerleak::report::by_secret::{SecretIndex, SecretReport};
use layerleak::report::Report;
use layerleak::scan::{Scanner, ScannerBuilder};

fn umoci() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/fixtures/umoci.oci")
}

fn scanner(keep_secrets: bool) -> Scanner {
    ScannerBuilder::new().threads(2).keep_secrets(keep_secrets).build().expect("built-in rules compile")
}

fn by_secret(report: &Report) -> SecretReport {
    let mut index = SecretIndex::new();
    index.add_report(report);
    index.finish(report)
}

/// (rule, fingerprint, image, path) of every occurrence, from the per-image findings.
fn image_places(report: &Report) -> BTreeSet<(String, String, String, String)> {
    let mut out = BTreeSet::new();
    for f in &report.findings {
        let key = |path: &str| (f.rule.clone(), f.fingerprint.clone(), f.image.clone(), path.to_string());
        out.insert(key(&f.location.path));
        for o in &f.also_in {
            out.insert(key(&o.location.path));
        }
    }
    out
}

fn secret_places(r: &SecretReport) -> BTreeSet<(String, String, String, String)> {
    let mut out = BTreeSet::new();
    for s in &r.secrets {
        for p in r.places(s) {
            out.insert((s.rule.clone(), s.fingerprint.clone(), p.image.to_string(), p.path.to_string()));
        }
    }
    out
}

#[test]
fn two_images_of_one_base_give_one_entry_per_secret_with_a_place_in_each() {
    let report = scanner(false).scan_path(umoci());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let r = by_secret(&report);
    let distinct: BTreeSet<(&str, &str)> =
        report.findings.iter().map(|f| (f.rule.as_str(), f.fingerprint.as_str())).collect();
    assert_eq!(r.secrets.len(), distinct.len());
    assert_eq!(r.summary.secrets, distinct.len());
    assert_eq!(r.summary.findings, report.findings.len());
    assert_eq!((r.summary.images, r.summary.repositories, r.summary.tags), (2, 1, 2));
    assert_eq!(secret_places(&r), image_places(&report), "the same places, grouped");
    assert!(r.secrets.iter().all(|s| s.images() == 2), "every secret is in both images");

    // Still present in `v1`, deleted by `umoci`'s extra layer: present, in one image each way.
    let settings = r
        .secrets
        .iter()
        .find(|s| r.places(s).any(|p| p.path == "app/config/settings.json"))
        .expect("the settings.json token");
    assert_eq!((settings.visible_in, settings.hidden_in, settings.visible()), (1, 1, true));

    // Layer 1 introduces eight secrets in both images: one root cause, one group.
    let layer1 = report.images[0].layers[1].digest.as_ref().expect("a digest").to_string();
    let group = r.groups().find(|g| g.root.is_some_and(|l| l.digest == Some(layer1.as_str())));
    let group = group.expect("a group for layer 1");
    assert_eq!(group.secrets.len(), 8);
    let root = group.root.expect("a root cause");
    assert_eq!(root.images, 2);
    assert!(root.created_by.is_some_and(|s| s.starts_with("COPY")), "{:?}", root.created_by);

    // A config field has no introducing layer: no root cause, two config images.
    let env = r.secrets.iter().find(|s| r.places(s).any(|p| p.path == "config.Env[1]")).expect("Env[1]");
    assert!(r.root_cause(env).is_none());
    assert_eq!(r.config_images(env), 2);
    assert_eq!(env.places(), 4, "Env[1] and its history copy, in each image");

    // Sorted by blast radius: images times severity weight, never increasing.
    let radii: Vec<u64> = r.secrets.iter().map(|s| s.blast_radius()).collect();
    assert!(radii.windows(2).all(|w| w[0] >= w[1]), "{radii:?}");
}

#[test]
fn the_sink_gives_what_the_report_gives_and_nothing_shows_a_secret() {
    let scanner = scanner(false);
    let mut index = SecretIndex::new();
    let Ok(report) = scanner.scan_path_with(&umoci(), &mut index);
    let streamed = serde_json::to_value(index.finish(&report)).expect("serializes");
    let collected = serde_json::to_value(by_secret(&report)).expect("serializes");
    assert_eq!(streamed, collected);
    assert_eq!(streamed["schema"], 2);
    assert_eq!(streamed["group_by"], "secret");

    let text = serde_json::to_string(&streamed).expect("serializes");
    let shown = scanner_secrets();
    assert!(!shown.is_empty());
    for secret in &shown {
        assert!(!text.contains(secret.as_str()), "a secret leaked into the by-secret report");
    }
    let first = &streamed["secrets"][0];
    for field in ["fingerprint", "rule", "severity", "status", "visible_in", "hidden_in_images", "places"] {
        assert!(!first[field].is_null(), "{field} missing: {first}");
    }
    let place = &first["places"][0];
    for field in ["repository", "tag", "platform", "manifest_digest", "layer", "path", "status"] {
        assert!(place.get(field).is_some(), "{field} missing: {place}");
    }
}

/// The secrets of the fixture, from a scan that keeps them.
fn scanner_secrets() -> Vec<String> {
    let report = scanner(true).scan_path(umoci());
    let r = by_secret(&report);
    assert!(r.secrets.iter().all(|s| s.secret.is_some()));
    r.secrets.iter().filter_map(|s| s.secret.clone()).collect()
}
