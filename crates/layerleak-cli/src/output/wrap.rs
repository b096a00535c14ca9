//! Fitting text for people to a width: the table of `scan` and `audit`, `layers` and `rules` are
//! wrapped (or, for Dockerfile steps, rule titles and descriptions, shortened) to the width of
//! the terminal they are printed on, so that they read on 80 columns.
//!
//! The width: `COLUMNS` when set to a number (also when stdout is a pipe, so a script can ask for
//! one), else the terminal's when stdout is one, else none: text piped on or written to a file
//! (`-o`) keeps every line whole. Never narrower than [`MIN_WIDTH`].

use std::ffi::OsStr;
use std::io::IsTerminal;

use unicode_width::UnicodeWidthChar;

/// Narrower widths are taken as this one: below it, wrapping would not make the text readable.
pub const MIN_WIDTH: usize = 40;

/// The width to fit stdout to (`None`: no limit). `to_stdout` is false when the report goes to a
/// file, which is never wrapped.
pub fn detect(to_stdout: bool) -> Option<usize> {
    let stdout = std::io::stdout();
    let terminal = if stdout.is_terminal() {
        terminal_size::terminal_size_of(&stdout).map(|(w, _)| usize::from(w.0))
    } else {
        None
    };
    decide(to_stdout, std::env::var_os("COLUMNS").as_deref(), terminal)
}

fn decide(to_stdout: bool, columns: Option<&OsStr>, terminal: Option<usize>) -> Option<usize> {
    if !to_stdout {
        return None;
    }
    let columns = columns.and_then(OsStr::to_str).and_then(|c| c.trim().parse::<usize>().ok());
    columns.filter(|&c| c > 0).or(terminal).map(|w| w.max(MIN_WIDTH))
}

/// The columns `s` takes on a terminal: wide characters count two, and the colour sequences the
/// table writes (`ESC [ … m`) none.
pub fn width(s: &str) -> usize {
    let mut n = 0;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // Text from images is escaped before it is printed, so an ESC here starts one of
            // our own colour sequences.
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
            continue;
        }
        n += c.width().unwrap_or(0);
    }
    n
}

/// `line` broken at spaces into lines of at most `max` columns, every line after the first
/// indented by `indent` spaces; a word wider than a line on its own is broken where the line
/// ends. Unchanged when `max` is `None` or the line fits.
pub fn wrap(line: &str, max: Option<usize>, indent: usize) -> String {
    let Some(max) = max.filter(|&m| width(line) > m) else { return line.to_string() };
    let indent = indent.min(max / 2);
    let mut out = String::new();
    let mut cur = String::new();
    let mut cur_w = 0;
    // Whether `cur` holds more than its indentation.
    let mut started = false;
    for (i, piece) in line.split(' ').enumerate() {
        let (gap, w) = (usize::from(i > 0), width(piece));
        if started && cur_w + gap + w > max {
            out.push_str(cur.trim_end());
            out.push('\n');
            cur = " ".repeat(indent);
            cur_w = indent;
            started = false;
        } else if i > 0 {
            cur.push(' ');
            cur_w += 1;
        }
        if piece.is_empty() {
            continue;
        }
        if cur_w + w <= max {
            cur.push_str(piece);
            cur_w += w;
        } else {
            // A word wider than the room there is: cut it where each line ends.
            for c in piece.chars() {
                let cw = c.width().unwrap_or(0);
                if cur_w + cw > max && cur_w > indent {
                    out.push_str(&cur);
                    out.push('\n');
                    cur = " ".repeat(indent);
                    cur_w = indent;
                }
                cur.push(c);
                cur_w += cw;
            }
        }
        started = true;
    }
    out.push_str(cur.trim_end());
    out
}

/// `text` cut into lines of exactly `max - indent` columns (the last one shorter), each but the
/// first indented: for text whose every character matters, such as a regex.
pub fn cut(text: &str, max: Option<usize>, indent: usize) -> String {
    let Some(max) = max.filter(|&m| indent + width(text) > m) else { return text.to_string() };
    let room = max.saturating_sub(indent).max(1);
    let mut out = String::new();
    let mut w = 0;
    for c in text.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw > room {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            w = 0;
        }
        out.push(c);
        w += cw;
    }
    out
}

/// What is left of `max` after `used` columns, for text that is shortened to fit (a step, a
/// title), but never less than `floor`: a shorter text would say nothing. `None` stays `None`.
pub fn room(max: Option<usize>, used: usize, floor: usize) -> Option<usize> {
    max.map(|m| m.saturating_sub(used).max(floor))
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::*;

    #[test]
    fn columns_wins_then_the_terminal_then_no_limit() {
        assert_eq!(decide(true, Some(OsStr::new("100")), Some(80)), Some(100));
        assert_eq!(decide(true, None, Some(80)), Some(80));
        assert_eq!(decide(true, Some(OsStr::new("wide")), Some(90)), Some(90));
        assert_eq!(decide(true, None, None), None);
        assert_eq!(decide(true, Some(OsStr::new("12")), None), Some(MIN_WIDTH));
        assert_eq!(decide(false, Some(OsStr::new("80")), Some(80)), None, "a file keeps whole lines");
    }

    #[test]
    fn width_skips_colours_and_counts_wide_characters_twice() {
        assert_eq!(width("\x1b[1;31mHIGH\x1b[0m x"), 6);
        assert_eq!(width("日本"), 4);
    }

    #[test]
    fn lines_break_at_spaces_and_keep_their_indentation() {
        let line = "      fix       rotate this secret now and remove it from the build context";
        assert_eq!(wrap(line, None, 16), line);
        let wrapped = wrap(line, Some(40), 16);
        assert_eq!(
            wrapped,
            "      fix       rotate this secret now\n                and remove it from the\n                build context"
        );
        assert!(wrapped.lines().all(|l| width(l) <= 40));
        // The spacing inside a line is kept.
        assert_eq!(wrap("  a  b", Some(40), 2), "  a  b");
    }

    #[test]
    fn a_word_wider_than_the_line_is_cut_where_the_line_ends() {
        let line = format!("at {}", "x".repeat(50));
        let wrapped = wrap(&line, Some(40), 4);
        assert!(wrapped.lines().all(|l| width(l) <= 40), "{wrapped}");
        assert_eq!(wrapped.replace(['\n', ' '], ""), line.replace(' ', ""));
        assert_eq!(cut("abcdefgh", Some(8), 4), "abcd\n    efgh");
    }
}
