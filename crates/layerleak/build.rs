//! Embeds every `rules/*.toml` file, so a new rule file needs no code change.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=rules");
    let dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR")).join("rules");
    let mut files: Vec<PathBuf> = match fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect(),
        Err(_) => Vec::new(),
    };
    // Sorted, so the rule order (and `RuleSet::hash`) does not depend on the file system.
    files.sort();
    let mut out = String::from("/// Every built-in rule file: (file name, contents).\n");
    out.push_str("pub(crate) static BUILTIN_RULE_FILES: &[(&str, &str)] = &[\n");
    for f in &files {
        let name = f.file_name().expect("read_dir yields named entries").to_string_lossy();
        out.push_str(&format!("    ({:?}, include_str!({:?})),\n", name, f.display().to_string()));
    }
    out.push_str("];\n");
    let dest = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("builtin_rules.rs");
    fs::write(dest, out).expect("OUT_DIR is writable");
}
