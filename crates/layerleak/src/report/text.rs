//! Report texts for people: what every human output (the terminal table, the HTML report) does
//! with text from an image before showing it, and the short forms those outputs share.
//!
//! # Security
//!
//! Paths, step texts, tags and labels are chosen by whoever built the image. Shown raw,
//! `\x1b]0;…\x07` sets a terminal's window title and `\x1b[2J` clears its screen, and U+202E
//! reverses the text after it in a terminal and in a browser alike. [`printable`] writes every
//! such character as a visible escape; markup escaping is the business of each format.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::{Finding, Source};

/// `s` with every character a terminal acts on or a display hides written as an escape: `\t`,
/// `\n`, `\r`; the other C0 controls and DEL as `\xNN` (as paths show bytes that are not UTF-8);
/// C1 controls (U+0080–U+009F) and invisible format characters (bidirectional overrides and
/// isolates, zero-width characters, line and paragraph separators) as `\u{NNNN}`.
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

/// A Dockerfile step (or any one-line text) in at most `max` characters: runs of whitespace
/// become one space, the `/bin/sh -c ` and `#(nop) ` that docker records are dropped, and a cut
/// text ends in `…`.
pub fn shorten(s: &str, max: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let s = s.strip_prefix("/bin/sh -c ").unwrap_or(&s).to_string();
    let s = s.strip_prefix("#(nop) ").unwrap_or(&s).to_string();
    if s.chars().count() <= max {
        s
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// `n` bytes in binary units with one decimal: `512 B`, `1.5 KiB`, `2.0 GiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Where a finding is, as people read it: `/path!inner:line:col` or the config field.
pub fn place(f: &Finding) -> String {
    let loc = &f.location;
    let mut s = match loc.source {
        Source::File => format!("/{}", loc.path),
        _ => loc.path.clone(),
    };
    for i in &loc.inner {
        s.push('!');
        s.push_str(i);
    }
    match (loc.line, loc.column) {
        (Some(l), Some(c)) => {
            let _ = write!(s, ":{l}:{c}");
        }
        (Some(l), None) => {
            let _ = write!(s, ":{l}");
        }
        _ => {}
    }
    s
}

#[cfg(test)]
mod tests {
    use super::{human_bytes, printable, shorten};

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

    #[test]
    fn steps_lose_shell_noise_and_are_cut() {
        assert_eq!(shorten("/bin/sh -c #(nop)  ENV A=b", 70), "ENV A=b");
        assert_eq!(shorten("RUN abcdefgh", 5), "RUN …");
    }

    #[test]
    fn bytes_print_in_binary_units() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }
}
