//! The committed `include/layerleak.h` is what cbindgen generates from the current source.

use std::path::Path;

/// Generates the header in memory from `src/lib.rs` and `cbindgen.toml`.
fn generate() -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml parses");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    out
}

#[test]
fn committed_header_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/layerleak.h");
    let fresh = generate();
    if std::env::var_os("LAYERLEAK_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("write include/layerleak.h");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/layerleak.h is stale (the C ABI in src/lib.rs or cbindgen.toml changed).\n\
         Regenerate it with: LAYERLEAK_BLESS=1 cargo test -p layerleak-ffi --test it header\n\
         and commit the result."
    );
}

#[test]
fn header_declares_every_entry_point_and_the_stability_promise() {
    let text = String::from_utf8(generate()).expect("header is UTF-8");
    for name in [
        "layerleak_scanner_new",
        "layerleak_scanner_free",
        "layerleak_scan_path",
        "layerleak_scan_fd",
        "layerleak_scan_path_report",
        "layerleak_string_free",
        "layerleak_last_error",
        "layerleak_version",
        "LayerleakFindingCallback",
        "#define LAYERLEAK_STOPPED 2",
        "ABI stability promise",
    ] {
        assert!(text.contains(name), "header lacks {name}:\n{text}");
    }
}
