//! `examples/python/scan.py` loads the built shared library with ctypes and scans the demo image.

use std::process::Command;

use crate::cdylib::{fixture, lib_dir, repo_root};

#[test]
fn python_example_lists_the_demo_findings() {
    let lib = lib_dir().join("liblayerleak_ffi.so");
    let out = Command::new("python3")
        .arg(repo_root().join("examples/python/scan.py"))
        .arg(fixture("demo.tar"))
        .env("LAYERLEAK_LIB", &lib)
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "findings exit 1\nstdout:\n{stdout}\nstderr:\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let has = |want: &str| lines.iter().any(|l| l.starts_with(want));
    assert!(has("private-key deleted layer 1 root/.ssh/id_rsa hidden by layer 2 (whiteout)"), "{stdout}");
    assert!(has("github-pat present layer 4 app/config/settings.json"), "{stdout}");
    assert!(has("aws-access-key-id present config config.Env[1]"), "{stdout}");
    assert!(stdout.contains(&format!("layerleak {}: ", env!("CARGO_PKG_VERSION"))), "{stdout}");
}

#[test]
fn python_example_takes_the_library_path_as_an_argument_and_reports_errors() {
    let lib = lib_dir().join("liblayerleak_ffi.so");
    let out = Command::new("python3")
        .arg(repo_root().join("examples/python/scan.py"))
        .arg("--lib")
        .arg(&lib)
        .arg(fixture("no-such-image.tar"))
        .env_remove("LAYERLEAK_LIB")
        .output()
        .expect("run python3");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no-such-image.tar"), "{stderr}");
}
