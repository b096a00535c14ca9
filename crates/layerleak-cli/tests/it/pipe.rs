//! A closed stdout (`layerleak scan ... | head -1`) is success, with nothing on stderr.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use crate::common::{root, TEST_RULES};

#[test]
fn broken_pipe_is_success() {
    for format in ["jsonl", "json", "table", "sarif"] {
        // Enough inputs that the output cannot fit in a pipe buffer: the writer must see EPIPE.
        let inputs = vec!["testdata/fixtures/lifecycle.oci"; 20];
        let mut child = Command::new(env!("CARGO_BIN_EXE_layerleak"))
            .current_dir(root())
            // Image by image: the same image given 20 times is one image by secret.
            .args(["scan", "--no-builtin-rules", "--rules", TEST_RULES, "--format", format])
            .args(["--group-by", "image"])
            .args(&inputs)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns");
        let stdout = child.stdout.take().expect("stdout piped");
        let mut first = String::new();
        BufReader::new(stdout).read_line(&mut first).expect("reads a line");
        assert!(!first.is_empty(), "{format}: a first line");
        // The reader is dropped here: stdout is closed like `head -1` does.
        let mut stderr = String::new();
        child.stderr.take().expect("stderr piped").read_to_string(&mut stderr).expect("reads stderr");
        let status = child.wait().expect("exits");
        assert_eq!(status.code(), Some(0), "{format}: broken pipe is success; stderr: {stderr}");
        assert!(stderr.is_empty(), "{format}: no error message: {stderr}");
    }
}
