//! Locating the built `liblayerleak_ffi.so` and the repository files the examples use.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `testdata/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    repo_root().join("testdata/fixtures").join(name)
}

/// The directory holding `liblayerleak_ffi.so` of the profile this test binary was built with.
///
/// The test binary is `<target>/<profile>/deps/it-<hash>`. Building the library for the test
/// writes every crate type, the cdylib included, next to it in `deps/` (it is copied up to
/// `<target>/<profile>/` only by a `cargo build` of the package itself, so that copy may be
/// stale). If it is missing, it is built with the same cargo, target directory and profile.
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("deps dir");
    if deps.join("liblayerleak_ffi.so").exists() {
        return deps.to_path_buf();
    }
    let profile_dir = deps.parent().expect("profile dir").to_path_buf();
    let lib = profile_dir.join("liblayerleak_ffi.so");
    if !lib.exists() {
        let target = profile_dir.parent().expect("target dir");
        let profile = profile_dir.file_name().and_then(|n| n.to_str()).unwrap_or("debug");
        let profile = if profile == "debug" { "dev" } else { profile };
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "layerleak-ffi", "--lib", "--profile", profile])
            .env("CARGO_TARGET_DIR", target)
            .current_dir(repo_root())
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build -p layerleak-ffi failed");
    }
    assert!(lib.exists(), "{} not found", lib.display());
    profile_dir
}
