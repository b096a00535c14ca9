//! Text from an image, made inert in HTML.
//!
//! # Security
//!
//! Every text of a report that came from an image (paths, step texts, labels, tags, names,
//! messages) is written through [`Esc`]: the five characters that end or start markup (`&`,
//! `<`, `>`, `"`, `'`) become character references, so the same form is safe in element text
//! and in a quoted attribute value, and a `<script>`, `</script>` or `]]>` in a path shows as
//! text. The characters [`printable`] escapes (controls, bidirectional overrides, zero-width
//! characters) are written as visible escapes first. Nothing from an image is written inside
//! `<script>` or `<style>`, where these references would not apply.

use std::fmt;

use crate::report::printable;

/// Displays a text escaped for HTML element content and double- or single-quoted attributes.
pub(super) struct Esc<'a>(pub(super) &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = printable(self.0);
        let mut rest = text.as_ref();
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::Esc;

    #[test]
    fn markup_in_image_texts_becomes_text() {
        let path = "app/<script>alert(1)</script>/x\" onload='y'&]]>";
        assert_eq!(
            Esc(path).to_string(),
            "app/&lt;script&gt;alert(1)&lt;/script&gt;/x&quot; onload=&#39;y&#39;&amp;]]&gt;"
        );
    }

    #[test]
    fn invisible_characters_are_escaped_before_markup() {
        assert_eq!(Esc("a\u{202e}<b\x1b[2J").to_string(), r"a\u{202e}&lt;b\x1b[2J");
        assert_eq!(Esc("plain caf\u{e9}").to_string(), "plain caf\u{e9}");
    }
}
