//! Composite rules (gitleaks `[[rules.required]]`): a rule's match is reported only when a match
//! of each rule it requires lies near it, within `withinLines` lines and `withinColumns` columns
//! of its start (either bound alone, or anywhere when it sets neither).
//!
//! Near means inside the detector's window, whose bytes are all the engine holds: a required
//! match more than a window (1 MiB by default) before the primary one, or after it, is not seen.
//! A required rule's matches are gathered whether or not the window reports them (those before
//! its report boundary were reported by the window before), so one at a window's edge still
//! counts.

/// One requirement of a composite rule, resolved to the required rule's index.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Requirement {
    pub(crate) rule: usize,
    pub(crate) within_lines: Option<u64>,
    pub(crate) within_columns: Option<u64>,
}

/// Whether a match starting at `at` in `buf` has, for every requirement, a match of the required
/// rule among `near` (rule, start) close enough.
pub(crate) fn satisfied(
    buf: &[u8],
    at: usize,
    requirements: &[Requirement],
    near: &[(usize, usize)],
) -> bool {
    requirements
        .iter()
        .all(|req| near.iter().any(|&(rule, start)| rule == req.rule && close(buf, at, start, req)))
}

fn close(buf: &[u8], a: usize, b: usize, req: &Requirement) -> bool {
    if let Some(lines) = req.within_lines {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        if memchr::memchr_iter(b'\n', &buf[lo..hi]).count() as u64 > lines {
            return false;
        }
    }
    if let Some(columns) = req.within_columns {
        if column(buf, a).abs_diff(column(buf, b)) > columns {
            return false;
        }
    }
    true
}

/// Bytes since the line's start (0-based; the window's start counts as a line's start).
fn column(buf: &[u8], at: usize) -> u64 {
    (at - memchr::memrchr(b'\n', &buf[..at]).map_or(0, |i| i + 1)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_bound_the_distance() {
        let buf = b"user=alice\npass=secret\n\n\nother=x";
        let req = |within_lines, within_columns| Requirement { rule: 7, within_lines, within_columns };
        let pass = 11 + 5;
        let user = 5;
        let far = buf.len() - 1;
        assert!(satisfied(buf, pass, &[req(Some(1), None)], &[(7, user)]));
        assert!(!satisfied(buf, far, &[req(Some(1), None)], &[(7, user)]), "four lines apart");
        assert!(satisfied(buf, far, &[req(None, None)], &[(7, user)]), "no bound: anywhere");
        assert!(satisfied(buf, pass, &[req(Some(1), Some(0))], &[(7, user)]), "same column");
        assert!(satisfied(buf, far, &[req(None, Some(1))], &[(7, user)]), "columns 6 and 5");
        assert!(!satisfied(buf, far, &[req(None, Some(0))], &[(7, user)]), "columns 6 and 5");
        assert!(!satisfied(buf, pass, &[req(None, None)], &[(8, user)]), "another rule");
    }
}
