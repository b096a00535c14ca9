//! `--skip-path GLOB`: a global allowlist of path regexes, so the detector drops what it finds
//! in those files (archive members included: allowlist paths match the archive's own path).

/// Regex metacharacters that must be escaped to stand for themselves.
const META: &str = r"\.+*?()|[]{}^$#&-~";

/// The regex of one glob: `**` any run, `*` a run without `/`, `?` one character but `/`,
/// anchored at the start of the path (a leading `/` is ignored) and covering what is under a
/// matching directory.
fn glob_regex(glob: &str) -> String {
    let mut re = String::from("^");
    let mut chars = glob.trim_start_matches('/').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                    re.push_str("(?:.*/)?");
                } else {
                    re.push_str(".*");
                }
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            c if META.contains(c) => {
                re.push('\\');
                re.push(c);
            }
            c => re.push(c),
        }
    }
    re.push_str("(?:/.*)?$");
    re
}

/// A rules file holding one global allowlist of the globs' paths, or `None` without globs.
pub fn allowlist_toml(globs: &[String]) -> Option<String> {
    if globs.is_empty() {
        return None;
    }
    // JSON string syntax is valid TOML basic-string syntax.
    let paths: Vec<String> =
        globs.iter().map(|g| serde_json::Value::from(glob_regex(g)).to_string()).collect();
    Some(format!("[[allowlists]]\ndescription = \"--skip-path\"\npaths = [{}]\n", paths.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::glob_regex;

    #[test]
    fn globs_become_anchored_path_regexes() {
        assert_eq!(glob_regex("/usr/share/doc"), r"^usr/share/doc(?:/.*)?$");
        assert_eq!(glob_regex("app/*.env"), r"^app/[^/]*\.env(?:/.*)?$");
        assert_eq!(glob_regex("**/test?/x"), r"^(?:.*/)?test[^/]/x(?:/.*)?$");
        assert_eq!(glob_regex("a**"), r"^a.*(?:/.*)?$");
    }
}
