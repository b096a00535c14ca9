//! Text from an image, made safe to print for people. Paths, step texts, tags and error messages
//! are chosen by whoever built the image: printed raw, `\x1b]0;…\x07` sets the window title,
//! `\x1b[2J` clears the screen, `\x1b[31m` recolours what follows and U+202E reverses it. Every
//! human output (the table, `layers`, messages on stderr) goes through [`printable`]; JSON keeps
//! the exact text, escaped as JSON does.

use std::borrow::Cow;
use std::fmt::Write as _;

use layerleak::report::Report;

/// `s` with every character a terminal acts on or hides written as an escape: `\t`, `\n`, `\r`;
/// the other C0 controls and DEL as `\xNN` (as paths show bytes that are not UTF-8); C1 controls
/// (U+0080–U+009F) and invisible format characters (bidirectional overrides and isolates,
/// zero-width characters, line and paragraph separators) as `\u{NNNN}`.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if hidden(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Controls (C0, DEL, C1) and the format characters (Unicode category Cf, plus the line and
/// paragraph separators) that change how the text around them is shown without showing
/// themselves.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{ad}'
                | '\u{600}'..='\u{605}'
                | '\u{61c}'
                | '\u{6dd}'
                | '\u{70f}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{e0001}'
                | '\u{e0020}'..='\u{e007f}'
        )
}

/// A copy of `report` whose every text, the secret and its redacted form included, is
/// [`printable`]: what the table and `layers` print from.
pub fn for_people(report: &Report) -> Report {
    let mut r = report.clone();
    let escape = |t: &mut String| {
        if let Cow::Owned(p) = printable(t) {
            *t = p;
        }
    };
    r.for_each_text(escape);
    for f in &mut r.findings {
        escape(&mut f.redacted);
        if let Some(s) = &mut f.secret {
            escape(s);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn terminal_sequences_are_shown_not_run() {
        let title = "evil\x1b]0;pwned\x07\x1b[2J\x1b[31m.env";
        assert_eq!(printable(title), r"evil\x1b]0;pwned\x07\x1b[2J\x1b[31m.env");
        assert_eq!(printable("a\tb\nc\rd\x7f"), r"a\tb\nc\rd\x7f");
        assert_eq!(printable("\u{9b}31m"), r"\u{9b}31m");
        assert_eq!(printable("report\u{202e}txt.exe"), r"report\u{202e}txt.exe");
        assert_eq!(printable("zero\u{200b}width\u{feff}"), r"zero\u{200b}width\u{feff}");
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for s in
            ["RUN /bin/sh -c npm ci # buildkit", "opt/caf\u{e9}/menu.txt", "\u{4e2d}\u{6587} \u{1f600}", ""]
        {
            assert!(matches!(printable(s), std::borrow::Cow::Borrowed(b) if b == s), "{s}");
        }
    }
}
