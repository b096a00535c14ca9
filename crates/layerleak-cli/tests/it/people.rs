//! Output for people: `-f`, `-q` on every subcommand, one summary line on stderr when the report
//! goes to a file, an `Examples` section in each subcommand's help, and tables that fit the
//! terminal's width.

use crate::common::{cmd, code, root, run, scan, snapshot, TEST_RULES};

const DEMO: &str = "testdata/fixtures/demo.tar";

#[test]
fn f_is_short_for_format_everywhere() {
    let short = scan(&["-f", "sarif", DEMO]);
    assert_eq!(code(&short), 1);
    assert!(String::from_utf8_lossy(&short.stdout).contains("\"$schema\""), "SARIF, not the table");
    assert_eq!(
        crate::common::table_text(&scan(&["-f", "table", DEMO])),
        crate::common::table_text(&scan(&["--format", "table", DEMO]))
    );
    assert_eq!(
        run(&["layers", "-f", "json", DEMO]).stdout,
        run(&["layers", "--format", "json", DEMO]).stdout
    );
    assert_eq!(run(&["rules", "-f", "json"]).stdout, run(&["rules", "--format", "json"]).stdout);
}

#[test]
fn q_keeps_stderr_empty_on_every_subcommand() {
    let bad = "testdata/fixtures/bad/corrupt-gzip.tar";
    let layers = run(&["layers", "-q", bad]);
    assert_eq!(code(&layers), 2);
    assert!(layers.stderr.is_empty(), "{}", String::from_utf8_lossy(&layers.stderr));
    let failing = "crates/layerleak-cli/tests/it/data/failing-examples.toml";
    let loud = run(&["rules", "check", failing]);
    let quiet = run(&["rules", "-q", "check", failing]);
    let quiet_after = run(&["rules", "check", "-q", failing]);
    assert_eq!(code(&quiet), code(&loud), "the status is kept");
    assert!(!loud.stderr.is_empty());
    assert!(quiet.stderr.is_empty() && quiet_after.stderr.is_empty());
}

#[test]
fn report_to_a_file_leaves_one_summary_line_on_stderr() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = cmd()
        .current_dir(dir.path())
        .args(["scan", "--no-builtin-rules", "--rules"])
        .arg(root().join(TEST_RULES))
        .args(["-f", "json", "-o", "report.json"])
        .arg(root().join(DEMO))
        .output()
        .expect("runs");
    assert_eq!(code(&out), 1);
    snapshot("people_output_file_summary", &out);
    let quiet = scan(&["-q", "-o", &dir.path().join("q.json").to_string_lossy(), DEMO]);
    assert!(quiet.stderr.is_empty(), "-q silences it");
}

#[test]
fn every_subcommand_help_has_examples() {
    for sub in ["scan", "layers", "rules", "audit"] {
        let out = run(&[sub, "--help"]);
        assert_eq!(code(&out), 0);
        assert!(String::from_utf8_lossy(&out.stdout).contains("\nExamples:\n"), "{sub}");
    }
    snapshot("people_layers_help", &run(&["layers", "--help"]));
    snapshot("people_rules_help", &run(&["rules", "--help"]));
}

#[test]
fn compact_prints_one_line_per_finding() {
    let out = crate::common::scan(&["--compact", "--color", "never", "testdata/fixtures/demo.tar"]);
    assert_eq!(crate::common::code(&out), 1);
    crate::common::snapshot("people_compact_demo", &out);
}

/// Runs `layerleak ARGS` as on a terminal `columns` wide (`COLUMNS`).
fn at_width(columns: &str, args: &[&str]) -> std::process::Output {
    cmd().env("COLUMNS", columns).args(args).output().expect("the layerleak binary runs")
}

/// Every line of stdout fits `columns` (characters: the tables write no wide ones).
fn assert_fits(what: &str, out: &std::process::Output, columns: usize) {
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.is_empty(), "{what}: no output");
    for line in text.lines() {
        assert!(line.chars().count() <= columns, "{what}: {} columns: {line:?}", line.chars().count());
    }
}

#[test]
fn table_layers_and_rules_fit_80_columns() {
    let rules = ["--no-builtin-rules", "--rules", TEST_RULES];
    let scan80 = at_width("80", &[&["scan"][..], &rules, &[DEMO]].concat());
    assert_eq!(code(&scan80), 1);
    assert_fits("scan", &scan80, 80);
    snapshot("people_demo_80_columns", &scan80);
    let compact = at_width("80", &[&["scan", "--compact"][..], &rules, &[DEMO]].concat());
    assert_fits("scan --compact", &compact, 80);
    let hostile = at_width("80", &[&["scan"][..], &rules, &["testdata/fixtures/hostile.tar"]].concat());
    assert_fits("scan of hostile.tar", &hostile, 80);
    let layers = at_width("80", &["layers", DEMO]);
    assert_fits("layers", &layers, 80);
    snapshot("people_layers_80_columns", &layers);
    assert_fits("rules", &at_width("80", &["rules"]), 80);
    assert_fits("rules show", &at_width("80", &["rules", "show", "private-key"]), 80);
    // Two images of one base: by distinct secret.
    let umoci = "testdata/fixtures/umoci.oci";
    let by_secret = at_width("80", &[&["scan", "--by-repository"][..], &rules, &[umoci]].concat());
    assert_eq!(code(&by_secret), 1);
    assert_fits("scan by secret", &by_secret, 80);
    snapshot("people_by_secret_80_columns", &by_secret);
    let all = at_width("80", &[&["scan", "--all-places", "--compact"][..], &rules, &[umoci]].concat());
    assert_fits("scan by secret --all-places --compact", &all, 80);
}

#[test]
fn wide_terminals_and_files_keep_whole_lines() {
    let rules = ["--no-builtin-rules", "--rules", TEST_RULES];
    let args = [&["scan"][..], &rules, &[DEMO]].concat();
    let whole = crate::common::table_text(&run(&args));
    assert_eq!(crate::common::table_text(&at_width("300", &args)), whole, "nothing to wrap at 300");
    assert!(whole.lines().any(|l| l.chars().count() > 120), "no limit without a terminal");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("report.txt");
    let file_arg = file.to_string_lossy();
    let to_file = [&args[..], &["-o", &file_arg]].concat();
    assert_eq!(code(&at_width("80", &to_file)), 1);
    let written = std::fs::read_to_string(&file).expect("the report was written");
    assert_eq!(crate::common::strip_table_seconds(&written), whole, "a file is never wrapped");
    // The wide `layers` layout once the line has room for every column.
    let layers = String::from_utf8_lossy(&at_width("140", &["layers", DEMO]).stdout).into_owned();
    assert!(layers.contains("  #  DIGEST                     SIZE   ADDED  OVERWR"), "{layers}");
}

/// `s` without the colour sequences the table writes.
fn plain(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('\x1b') {
        out.push_str(&rest[..i]);
        rest = rest[i..].find('m').map_or("", |j| &rest[i + j + 1..]);
    }
    out.push_str(rest);
    out
}

#[test]
fn color_always_and_clicolor_force_paint_the_table_and_no_color_wins() {
    let args = ["scan", "--no-builtin-rules", "--rules", TEST_RULES, "--compact", DEMO];
    let always = cmd().args(args).args(["--color", "always"]).output().expect("runs");
    assert_eq!(code(&always), 1);
    let painted = crate::common::table_text(&always);
    assert!(painted.contains("\x1b[1;31mSTILL PRESENT (4)\x1b[0m"), "{painted}");
    snapshot("people_color_always", &always);
    let forced = cmd().env("CLICOLOR_FORCE", "1").args(args).output().expect("runs");
    assert_eq!(crate::common::table_text(&forced), painted, "CLICOLOR_FORCE paints a pipe");
    let no_color = cmd().env("CLICOLOR_FORCE", "1").env("NO_COLOR", "1").args(args).output().expect("runs");
    assert_eq!(crate::common::table_text(&no_color), plain(&painted), "NO_COLOR wins");
    let never =
        cmd().env("CLICOLOR_FORCE", "1").args(args).args(["--color", "never"]).output().expect("runs");
    assert!(!String::from_utf8_lossy(&never.stdout).contains('\x1b'));
    // Colours take no room: a painted table fits 80 columns as a plain one does.
    let narrow = at_width("80", &[&args[..], &["--color", "always"]].concat());
    for line in String::from_utf8_lossy(&narrow.stdout).lines() {
        assert!(plain(line).chars().count() <= 80, "{line:?}");
    }
}
