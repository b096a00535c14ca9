//! The README and `--help` agree, and what they show runs: every option of every `--help` is
//! named in the README's "Command line" section and every option named there exists; both list
//! the same exit statuses; every `layerleak` command of the README (code blocks and inline code)
//! and of the examples in `--help` runs against the demo image; and the demo output the README
//! shows is what the first command prints.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::common::{cmd, code, root, run, TEST_RULES};

/// Commands that cannot run here, by how they start, with why. A skip that matches no command is
/// stale, and fails the test.
const SKIPPED: &[(&str, &str)] = &[
    ("layerleak audit ", "needs a registry (audit runs against a local one in registry.rs)"),
    (
        "layerleak where --cache postgres:",
        "needs a PostgreSQL server (where runs against one in postgres_store.rs)",
    ),
    ("for host in ", "needs several machines and a PostgreSQL server"),
    ("layerleak scan ghcr.io/", "pulls from a registry"),
    ("layerleak scan alpine:", "pulls from a registry"),
    ("docker save ", "needs docker"),
    ("cargo install ", "installs the binary"),
    ("bash .ci/run", "the whole test suite"),
];

/// Inline code that names a command in prose rather than showing one to run.
const MENTIONS: &[&str] = &["layerleak rules check", "layerleak where", "layerleak where FINGERPRINT…"];

/// Placeholders of the README's prose, and what stands for them here.
const PLACEHOLDERS: &[(&str, &str)] = &[("IMAGE…", "app.tar"), ("IMAGE", "app.tar")];

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).expect("README.md")
}

/// The fenced code blocks of `text`: (language, body).
fn blocks(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(lang) = line.strip_prefix("```") else { continue };
        let body: Vec<&str> = lines.by_ref().take_while(|l| !l.starts_with("```")).collect();
        out.push((lang.trim().to_string(), body.join("\n") + "\n"));
    }
    out
}

/// The README's section under `## title`, up to the next `## `.
fn section<'a>(text: &'a str, title: &str) -> &'a str {
    let start = text.find(&format!("\n## {title}\n")).expect("the section exists");
    let rest = &text[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    &rest[..end]
}

/// The commands a reader can copy: each line of the `sh` blocks (comments cut off) and inline
/// code that starts with `layerleak ` or pipes into it, outside code blocks.
fn readme_commands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (lang, body) in blocks(text) {
        if lang != "sh" {
            continue;
        }
        for line in body.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let command = match line.find("  #").or_else(|| line.find(" # ")) {
                Some(i) => &line[..i],
                None => line,
            };
            out.push(command.trim().to_string());
        }
    }
    let mut prose = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    for (i, span) in prose.split('`').enumerate() {
        let span = span.replace("\\|", "|");
        if i % 2 == 1 && (span.starts_with("layerleak ") || span.contains("| layerleak ")) {
            out.push(span);
        }
    }
    out
}

/// The examples of every `--help`: the command of each line under `Examples:`, before the two
/// spaces that start its description.
fn help_commands() -> Vec<String> {
    let mut out = Vec::new();
    for sub in [&[][..], &["scan"], &["layers"], &["audit"], &["where"], &["rules"], &["rules", "check"]] {
        let help = run(&[sub, &["--help"][..]].concat());
        let text = String::from_utf8_lossy(&help.stdout).into_owned();
        let Some((_, examples)) = text.split_once("\nExamples:\n") else { continue };
        for line in examples.lines().take_while(|l| !l.trim().is_empty()) {
            let line = line.trim();
            out.push(line.split("  ").next().unwrap_or(line).trim().to_string());
        }
    }
    out
}

/// A directory holding what the commands read: the demo image as `app.tar`, the README's rule as
/// `my-rules.toml`, the test rules as `gitleaks.toml`, earlier reports of the image
/// (`before.sarif`, `old.json`) and `testdata/` (the first command names a fixture there).
fn workspace(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::copy(root().join("testdata/fixtures/demo.tar"), d.join("app.tar")).expect("copying the demo");
    std::fs::copy(root().join(TEST_RULES), d.join("gitleaks.toml")).expect("copying the rules");
    let rule = blocks(text).into_iter().find(|(lang, body)| lang == "toml" && body.contains("[[rules]]"));
    std::fs::write(d.join("my-rules.toml"), rule.expect("the README's rule example").1).expect("writing");
    std::os::unix::fs::symlink(root().join("testdata"), d.join("testdata")).expect("linking testdata");
    for (format, name) in [("sarif", "before.sarif"), ("json", "old.json")] {
        let out = cmd().current_dir(d).args(["scan", "app.tar", "-f", format, "-o", name]).output();
        assert_eq!(code(&out.expect("runs")), 1, "{name}");
    }
    dir
}

/// Runs `command` with `sh` in `dir`, the `layerleak` under test first in `PATH`.
fn shell(dir: &Path, command: &str, columns: Option<&str>) -> std::process::Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_layerleak")).parent().expect("the binary's directory");
    let path = std::env::join_paths(
        std::iter::once(bin.to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .expect("a PATH");
    let mut c = Command::new("sh");
    c.arg("-c").arg(command).current_dir(dir).env("PATH", path);
    for var in ["NO_COLOR", "CLICOLOR_FORCE", "COLUMNS"] {
        c.env_remove(var);
    }
    if let Some(columns) = columns {
        c.env("COLUMNS", columns);
    }
    c.output().expect("sh runs")
}

/// Runs every command; returns what went wrong. Each part of an `&&` chain runs on its own and
/// must exit 0 (the chain would stop otherwise), the last 0 or 1 (findings).
fn run_all(dir: &Path, commands: &[String], used: &mut BTreeSet<&'static str>) -> Vec<String> {
    let mut problems = Vec::new();
    for command in commands {
        if MENTIONS.contains(&command.as_str()) {
            continue;
        }
        if let Some((prefix, _why)) = SKIPPED.iter().find(|(p, _)| command.starts_with(p)) {
            used.insert(prefix);
            continue;
        }
        let mut command = command.replace("cargo run --release -q -p layerleak-cli -- ", "layerleak ");
        for (placeholder, value) in PLACEHOLDERS {
            command = command.replace(placeholder, value);
        }
        let parts: Vec<&str> = command.split(" && ").collect();
        for (i, part) in parts.iter().enumerate() {
            let out = shell(dir, part, None);
            let status = out.status.code().unwrap_or(-1);
            let last = i + 1 == parts.len();
            if status > 1 || (!last && status != 0) {
                problems.push(format!(
                    "`{part}` (of `{command}`) exited {status}{}: {}",
                    if last { "" } else { ", which stops the chain" },
                    String::from_utf8_lossy(&out.stderr)
                ));
                break;
            }
        }
    }
    problems
}

#[test]
fn every_command_of_the_readme_and_of_help_runs() {
    let text = readme();
    let dir = workspace(&text);
    let mut used = BTreeSet::new();
    let readme = readme_commands(&text);
    assert!(readme.len() >= 15, "the README's commands were found: {readme:#?}");
    let mut problems = run_all(dir.path(), &readme, &mut used);
    let help = help_commands();
    assert!(help.len() >= 10, "the examples of --help were found: {help:#?}");
    problems.extend(run_all(dir.path(), &help, &mut used));
    for (prefix, why) in SKIPPED {
        if !used.contains(prefix) {
            problems.push(format!("the skip of `{prefix}` ({why}) matches no command any more"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_demo_output_is_what_the_first_command_prints() {
    let text = readme();
    let intro =
        "On an 80-column terminal the first command prints (exit status 1: secrets found):\n\n```text\n";
    let start = text.find(intro).expect("the README shows the demo output") + intro.len();
    let shown = &text[start..start + text[start..].find("```").expect("the block ends")];
    let out = shell(&root(), "layerleak scan testdata/fixtures/demo.tar", Some("80"));
    assert_eq!(out.status.code(), Some(1));
    let printed = String::from_utf8_lossy(&out.stdout);
    let seconds = readme_seconds(&printed);
    assert_eq!(seconds, shown, "README.md's demo output is out of date");
}

/// The table with its scan times (`0 errors, 0.1 s`) written as `0.0 s`, as the README shows them.
fn readme_seconds(table: &str) -> String {
    let mut out = String::new();
    for line in table.split_inclusive('\n') {
        match line.rsplit_once("errors, ") {
            Some((head, tail)) if tail.trim_end().ends_with(" s") => {
                out.push_str(head);
                out.push_str("errors, 0.0 s");
                out.push_str(if line.ends_with('\n') { "\n" } else { "" });
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// Every long option `text` names, `--help` and `--version` aside.
fn long_options(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (i, _) in text.match_indices("--") {
        let name: String = text[i + 2..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
            .collect();
        if name.len() > 1
            && name.as_bytes()[0].is_ascii_lowercase()
            && !["help", "version"].contains(&name.as_str())
        {
            found.insert(format!("--{}", name.trim_end_matches('-')));
        }
    }
    found
}

#[test]
fn the_readme_command_line_section_and_help_name_the_same_options() {
    let text = readme();
    let documented = long_options(section(&text, "Command line"));
    let mut offered = BTreeSet::new();
    for sub in [
        &["scan"][..],
        &["layers"],
        &["audit"],
        &["where"],
        &["rules"],
        &["rules", "check"],
        &["rules", "show"],
    ] {
        let help = run(&[sub, &["--help"][..]].concat());
        offered.extend(long_options(&String::from_utf8_lossy(&help.stdout)));
    }
    let missing: Vec<&String> = offered.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "options of --help the README's Command line section does not name: {missing:?}"
    );
    let unknown: Vec<&String> = documented.difference(&offered).collect();
    assert!(unknown.is_empty(), "options the README names that no --help offers: {unknown:?}");
}

#[test]
fn the_readme_and_help_list_the_same_exit_statuses() {
    let text = readme();
    let readme: BTreeSet<String> = section(&text, "Exit status")
        .lines()
        .filter_map(|l| {
            l.strip_prefix("| ")?.split(' ').next().filter(|c| c.parse::<u8>().is_ok()).map(String::from)
        })
        .collect();
    let help = String::from_utf8_lossy(&run(&["scan", "--help"]).stdout).into_owned();
    let (_, statuses) = help.split_once("\nExit status:\n").expect("scan --help lists the exit statuses");
    let help: BTreeSet<String> = statuses
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| {
            l.trim_start().split(' ').next().filter(|c| c.parse::<u8>().is_ok()).map(String::from)
        })
        .collect();
    assert_eq!(readme, help);
    assert_eq!(readme.len(), 4, "{readme:?}");
}
