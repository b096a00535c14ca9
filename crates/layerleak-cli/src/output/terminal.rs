//! Text from an image, made safe to print for people. Paths, step texts, tags and error messages
//! are chosen by whoever built the image: printed raw, `\x1b]0;…\x07` sets the window title,
//! `\x1b[2J` clears the screen, `\x1b[31m` recolours what follows and U+202E reverses it. Every
//! human output (the table, `layers`, messages on stderr) goes through [`printable`]; JSON keeps
//! the exact text, escaped as JSON does.

use std::borrow::Cow;

pub use layerleak::report::printable;
use layerleak::report::Report;

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
