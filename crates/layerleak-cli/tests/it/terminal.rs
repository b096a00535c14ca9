//! Text from an image printed for people cannot drive the terminal: the paths, step text, label
//! key, tag and error messages of `hostile.tar` (ESC and BEL sequences, a C1 CSI, a right-to-left
//! override) show their control characters escaped in the table of `scan` and `audit`, in
//! `layers` and on stderr, while JSON keeps the exact text.

use crate::common::{code, json, run, scan, snapshot, transcript, TEST_RULES};
use crate::registry::layerleak;
use crate::served;

const HOSTILE: &str = "testdata/fixtures/hostile.tar";

/// The characters of `bytes` a terminal would act on or hide (a newline is the table's own).
fn raw_controls(bytes: &[u8]) -> Vec<char> {
    let text = String::from_utf8_lossy(bytes);
    let mut found: Vec<char> = text
        .chars()
        .filter(|&c| {
            (c.is_control() && c != '\n') || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}')
        })
        .collect();
    found.dedup();
    found
}

fn assert_escaped(what: &str, out: &std::process::Output) {
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let raw = raw_controls(bytes);
        assert!(raw.is_empty(), "{what}: raw {raw:?} on {stream}: {}", transcript(out));
    }
}

#[test]
fn hostile_paths_steps_and_tag_are_escaped_in_the_table_and_layers() {
    // Regression: a file name or RUN step from the image set the window title, cleared the
    // screen and recoloured the rest of the report.
    let table = scan(&[HOSTILE]);
    assert_eq!(code(&table), 1);
    assert_escaped("scan", &table);
    snapshot("scan_hostile_table", &table);
    let layers = run(&["layers", "--rules", TEST_RULES, HOSTILE]);
    assert_eq!(code(&layers), 0);
    assert_escaped("layers", &layers);
    snapshot("layers_hostile_table", &layers);
    let shown = scan(&["--show-secrets", HOSTILE]);
    assert_escaped("scan --show-secrets", &shown);
}

#[test]
fn hostile_paths_in_notes_are_escaped_for_people() {
    // Every file is cut at 8 bytes: each note names the file's path and the image's tag.
    let table = scan(&["--format", "table", "--max-file-size", "8", HOSTILE]);
    assert_eq!(code(&table), 0, "{}", transcript(&table));
    assert_escaped("scan --max-file-size", &table);
    let shown = transcript(&table);
    assert!(shown.contains(r"path app/evil\x1b]0;pwned\x07\x1b[2J\x1b[31m.env:"), "{shown}");
    assert!(shown.contains(r"image layerleak/hostile:v1\x1b]0;owned\x07,"), "{shown}");
    // JSON on stdout keeps the exact text; stderr is for people.
    let json_out = scan(&["--format", "json", "--max-file-size", "8", HOSTILE]);
    let raw = raw_controls(&json_out.stderr);
    assert!(raw.is_empty(), "raw {raw:?} on stderr");
    let notes = json(&json_out)["notes"].as_array().cloned().unwrap_or_default();
    let exact = "path app/evil\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[31m.env:";
    assert!(notes.iter().any(|n| n.as_str().is_some_and(|t| t.contains(exact))), "{notes:?}");
}

#[test]
fn json_formats_keep_the_exact_text() {
    let out = scan(&["--format", "json", HOSTILE]);
    let report = json(&out);
    assert_eq!(report["images"][0]["name"], "layerleak/hostile:v1\u{1b}]0;owned\u{7}");
    let paths: Vec<&str> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["location"]["path"].as_str())
        .collect();
    assert!(paths.contains(&"app/evil\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[31m.env"), "{paths:?}");
    assert!(paths.contains(&"srv/report\u{202e}txt.exe"), "{paths:?}");
    let step = report["images"][0]["layers"][1]["created_by"].as_str().unwrap_or_default();
    assert_eq!(step, "RUN /bin/sh -c echo \u{1b}[2J\u{1b}[1;1Hall clean \u{9b}0m\u{202e} # buildkit");
    for format in ["json", "jsonl", "sarif"] {
        let out = scan(&["--format", format, HOSTILE]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(r"\u001b[2J"), "{format}: JSON escapes ESC as \\u001b: {text}");
        assert!(!out.stdout.contains(&0x1b) && !out.stdout.contains(&0x07), "{format}: a raw ESC or BEL");
    }
}

#[test]
fn audit_table_of_a_hostile_image_is_escaped() {
    let fixtures = [HOSTILE.to_string()];
    let (url, served) = served::serve(&fixtures).expect("the scripted registry serves the fixture");
    assert_eq!(served, fixtures);
    let home = tempfile::tempdir().expect("temp dir");
    let out = layerleak(&["audit", &url, "--rules", TEST_RULES, "--cache", "none"], home.path(), None)
        .expect("layerleak runs");
    assert_eq!(code(&out), 1, "{}", transcript(&out));
    assert_escaped("audit", &out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(r"/app/evil\x1b]0;pwned\x07\x1b[2J\x1b[31m.env:1:14"), "{stdout}");
}

#[test]
fn color_flag_and_clicolor_force_decide_colours() {
    let esc = |out: &std::process::Output| out.stdout.contains(&0x1b);
    let demo = "testdata/fixtures/demo.tar";
    assert!(!esc(&scan(&[demo])), "piped: no colours");
    assert!(esc(&scan(&["--color", "always", demo])));
    assert!(!esc(&scan(&["--color", "never", demo])));
    let forced = crate::common::cmd()
        .args(["scan", "--no-builtin-rules", "--rules", TEST_RULES, demo])
        .env("CLICOLOR_FORCE", "1")
        .output()
        .expect("runs");
    assert!(esc(&forced), "CLICOLOR_FORCE colours a pipe");
    let both = crate::common::cmd()
        .args(["scan", "--no-builtin-rules", "--rules", TEST_RULES, demo])
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    assert!(!esc(&both), "NO_COLOR wins");
    assert!(esc(&run(&["layers", "--color", "always", "--rules", TEST_RULES, demo])));
}
