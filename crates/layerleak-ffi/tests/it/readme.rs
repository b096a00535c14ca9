//! The snippets of `examples/README.md` are the tested code: the Rust one is the crate doctest,
//! the C one an excerpt of `examples/c/scan.c`.

use crate::cdylib::repo_root;

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo_root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The lines of the first fenced block opened by `fence` (e.g. "```rust").
fn block<'a>(text: &'a str, fence: &str) -> Vec<&'a str> {
    text.lines().skip_while(|l| *l != fence).skip(1).take_while(|l| *l != "```").collect()
}

#[test]
fn readme_rust_snippet_is_the_crate_doctest() {
    let lib = read("crates/layerleak/src/lib.rs");
    let doc: Vec<String> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l).to_string())
        .collect();
    let doc_text = doc.join("\n");
    let doctest: Vec<&str> = block(&doc_text, "```").into_iter().filter(|l| !l.starts_with("# ")).collect();
    let readme = read("examples/README.md");
    let snippet: Vec<&str> =
        block(&readme, "```rust").into_iter().filter(|l| !l.starts_with("// In a function")).collect();
    assert!(!doctest.is_empty(), "lib.rs has no doctest");
    assert_eq!(snippet, doctest, "examples/README.md's Rust snippet differs from the lib.rs doctest");
}

#[test]
fn readme_c_snippet_is_an_excerpt_of_scan_c() {
    let source = read("examples/c/scan.c");
    let readme = read("examples/README.md");
    let snippet = block(&readme, "```c");
    assert!(snippet.len() > 10, "no C snippet in examples/README.md");
    let mut rest = source.lines();
    for line in snippet.iter().filter(|l| !l.trim_start().starts_with("/* ...") && !l.is_empty()) {
        assert!(
            rest.any(|s| s == *line),
            "examples/README.md's C snippet line is not in examples/c/scan.c (in order): {line:?}"
        );
    }
}
