//! The regex dialects of foreign rule files, translated into the engine's syntax (`regex-syntax`
//! over bytes, Unicode off).
//!
//! - [`Dialect::Re2`]: Go's `regexp/syntax` (RE2), which gitleaks configurations are written in.
//!   It differs from the engine's syntax where RE2 reads a `{` that opens no counted repetition
//!   as a literal (`{{[^}]+}}`), in `\s` (no vertical tab), in octal escapes and `\Q…\E`, in
//!   classes (`[`, `&&`, `--` and `~~` are literal inside one), and in `\pN` classes (Unicode,
//!   which the engine turns on for them alone).
//! - [`Dialect::Pcre`]: the Hyperscan/PCRE subset that kingfisher and Nosey Parker rule packs
//!   use: extended mode `(?x)` with `#` comments (whitespace inside a class stays literal, unlike
//!   the engine's extended mode), `(?#…)` comments, `\h`, `\v` and `\R` (horizontal and vertical
//!   white space, ASCII), `\e`, `(?'name'…)`, and possessive quantifiers and atomic groups where
//!   they mean the same as a plain greedy repetition (the repeated set and what follows it share
//!   no byte, or nothing follows).
//!
//! What a dialect means but the engine cannot express (look-around, back-references, `\G`,
//! `\K`, `\Z`, conditionals, a possessive repetition that gives up a different match) is an
//! [`Untranslatable`] naming the construct and its byte offset; a syntax error of the source
//! dialect is one too.
//!
//! Both dialects read `.` and counted repetitions of classes as the engine does, by bytes, where
//! Go and PCRE in UTF-8 mode count characters, and fold case in ASCII only: the same on ASCII
//! text, which is what secrets are made of.
//!
//! # Security
//!
//! Patterns come from untrusted rule files: the translation is one pass over the pattern with
//! bounded lookahead, and its output goes through the same size-limited compilation as any rule.

use std::fmt;

/// The syntax a foreign rule file's regexes are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// Go's RE2 syntax (gitleaks).
    Re2,
    /// The Hyperscan/PCRE subset of kingfisher and Nosey Parker rule packs.
    Pcre,
}

/// A pattern in the engine's syntax, and what had to change to get there.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Translation {
    /// The pattern in the engine's syntax.
    pub(crate) regex: String,
    /// The constructs rewritten, each named once, in the order first met; empty when the pattern
    /// means the same in both syntaxes as written.
    pub(crate) constructs: Vec<&'static str>,
}

/// A construct the engine cannot express, or a syntax error of the source dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Untranslatable {
    /// What it is (`look-ahead (?=…)`).
    pub(crate) construct: String,
    /// Byte offset in the source pattern.
    pub(crate) at: usize,
    /// `true` when the source dialect itself accepts the construct (a rule the engine refuses);
    /// `false` for a pattern the source dialect rejects too (a bad rule).
    pub(crate) supported_by_source: bool,
}

impl fmt::Display for Untranslatable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.construct, self.at)
    }
}

/// Go's `\s`: no vertical tab, which the engine's `\s` has.
const RE2_SPACE: &str = r"\t\n\x0C\r\x20";
/// PCRE's `\h` in ASCII.
const PCRE_HSPACE: &str = r"\t\x20";
/// PCRE's `\v` in ASCII.
const PCRE_VSPACE: &str = r"\n\x0B\x0C\r";

/// Translates `pattern` from `dialect` into the engine's syntax.
pub(crate) fn translate(pattern: &str, dialect: Dialect) -> Result<Translation, Untranslatable> {
    let mut t = Translator {
        src: pattern.char_indices().collect(),
        len: pattern.len(),
        i: 0,
        out: String::with_capacity(pattern.len() + 8),
        dialect,
        constructs: Vec::new(),
        extended: false,
        groups: Vec::new(),
        last_atom: None,
        fold: false,
    };
    t.run()?;
    Ok(Translation { regex: t.out, constructs: t.constructs })
}

/// The last thing written that a quantifier may apply to.
#[derive(Debug, Clone)]
struct Atom {
    /// The bytes it matches when it is one byte wide (a literal, class or escape class), in the
    /// engine's syntax as a class body; `None` for a group.
    set: Option<String>,
}

struct Translator {
    src: Vec<(usize, char)>,
    len: usize,
    i: usize,
    out: String,
    dialect: Dialect,
    constructs: Vec<&'static str>,
    /// Extended mode (PCRE `x`) in effect.
    extended: bool,
    /// Per open group, the extended mode outside it.
    groups: Vec<bool>,
    last_atom: Option<Atom>,
    /// A case-insensitive flag was met: byte sets are compared with case folded.
    fold: bool,
}

impl Translator {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.src.get(self.i + ahead).map(|&(_, c)| c)
    }

    fn at(&self) -> usize {
        self.src.get(self.i).map_or(self.len, |&(at, _)| at)
    }

    fn note(&mut self, construct: &'static str) {
        if !self.constructs.contains(&construct) {
            self.constructs.push(construct);
        }
    }

    /// The source text from the current position on.
    fn rest(&self) -> String {
        self.src[self.i..].iter().map(|&(_, c)| c).collect()
    }

    fn refuse(&self, construct: impl Into<String>, at: usize) -> Untranslatable {
        Untranslatable { construct: construct.into(), at, supported_by_source: true }
    }

    fn invalid(&self, construct: impl Into<String>, at: usize) -> Untranslatable {
        Untranslatable { construct: construct.into(), at, supported_by_source: false }
    }

    fn run(&mut self) -> Result<(), Untranslatable> {
        while let Some(c) = self.peek(0) {
            let at = self.at();
            match c {
                _ if self.extended && c.is_whitespace() => self.i += 1,
                '#' if self.extended => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.i += 1;
                    }
                }
                '\\' => {
                    let set = self.escape(false)?;
                    self.last_atom = Some(Atom { set });
                }
                '[' => {
                    let set = self.class()?;
                    self.last_atom = Some(Atom { set: Some(set) });
                }
                '(' => self.open_group()?,
                ')' => {
                    self.i += 1;
                    let Some(extended) = self.groups.pop() else {
                        return Err(self.invalid("unopened `)`", at));
                    };
                    self.extended = extended;
                    self.out.push(')');
                    self.last_atom = Some(Atom { set: None });
                }
                '{' => self.brace()?,
                '*' | '+' | '?' => {
                    self.i += 1;
                    self.out.push(c);
                    self.after_quantifier(at)?;
                }
                '|' => {
                    self.i += 1;
                    self.out.push('|');
                    self.last_atom = None;
                }
                '^' | '$' | '.' => {
                    self.i += 1;
                    self.out.push(c);
                    let set = (c == '.').then(|| r"\x00-\x09\x0B-\xFF".to_string());
                    self.last_atom = Some(Atom { set });
                }
                _ => {
                    self.i += 1;
                    push_literal(&mut self.out, c);
                    self.last_atom = Some(Atom { set: Some(class_literal(c)) });
                }
            }
        }
        if !self.groups.is_empty() {
            return Err(self.invalid("unclosed `(`", self.len));
        }
        Ok(())
    }

    /// After `*`, `+`, `?` or a counted repetition: a lazy `?` passes, a possessive `+` (PCRE)
    /// becomes greedy where that means the same.
    fn after_quantifier(&mut self, at: usize) -> Result<(), Untranslatable> {
        match self.peek(0) {
            Some('?') => {
                self.i += 1;
                self.out.push('?');
            }
            Some('+') if self.dialect == Dialect::Pcre => {
                self.i += 1;
                let set = self.last_atom.as_ref().and_then(|a| a.set.clone());
                if !self.gives_up_nothing(set.as_deref()) {
                    return Err(self.refuse(
                        "possessive quantifier whose repeated set shares a byte with what follows \
                         (it would give up other matches without backtracking control)",
                        at,
                    ));
                }
                self.note("possessive quantifier (nothing to give back)");
            }
            Some('*' | '+') => return Err(self.invalid("nested repetition", self.at())),
            _ => {}
        }
        self.last_atom = None;
        Ok(())
    }

    /// Whether a greedy repetition of `set` (a one-byte-wide atom) before the rest of the source
    /// gives the same matches as a possessive one: nothing follows in its group, or the next atom
    /// is one byte wide and disjoint from `set`, so a match can never give a repeated byte back.
    fn gives_up_nothing(&self, set: Option<&str>) -> bool {
        let Some(set) = set else { return false };
        let next = self.next_atom_set();
        match next {
            NextAtom::End => true,
            NextAtom::Set(next) => disjoint(set, &next, self.fold),
            NextAtom::Other => false,
        }
    }

    /// The byte set of the atom after the current position, skipping extended-mode blanks and
    /// comments.
    fn next_atom_set(&self) -> NextAtom {
        let mut probe = Translator {
            src: self.src.clone(),
            len: self.len,
            i: self.i,
            out: String::new(),
            dialect: self.dialect,
            constructs: Vec::new(),
            extended: self.extended,
            groups: Vec::new(),
            last_atom: None,
            fold: self.fold,
        };
        loop {
            match probe.peek(0) {
                None => return NextAtom::End,
                Some(c) if probe.extended && c.is_whitespace() => probe.i += 1,
                Some('#') if probe.extended => {
                    while probe.peek(0).is_some_and(|c| c != '\n') {
                        probe.i += 1;
                    }
                }
                // Only the end of the whole pattern ends every way on: the end of a group or a
                // branch leaves what follows the group to decide. `$` may stand before a newline
                // (multi-line mode), so it counts as one.
                Some('$') => return NextAtom::Set(r"\x0A".into()),
                Some('\\') if probe.peek(1) == Some('z') => {
                    probe.i += 2;
                    if probe.peek(0).is_none() {
                        return NextAtom::End;
                    }
                    return NextAtom::Other;
                }
                Some('\\') => {
                    return match probe.escape(false) {
                        Ok(Some(set)) if !matches!(probe.peek(0), Some('*' | '?' | '{')) => {
                            NextAtom::Set(set)
                        }
                        _ => NextAtom::Other,
                    };
                }
                Some('[') => {
                    return match probe.class() {
                        Ok(set) if !matches!(probe.peek(0), Some('*' | '?' | '{')) => NextAtom::Set(set),
                        _ => NextAtom::Other,
                    };
                }
                Some(c) if !"()|{}*+?^$.".contains(c) => {
                    probe.i += 1;
                    return if matches!(probe.peek(0), Some('*' | '?' | '{')) {
                        NextAtom::Other
                    } else {
                        NextAtom::Set(class_literal(c))
                    };
                }
                Some(_) => return NextAtom::Other,
            }
        }
    }

    fn open_group(&mut self) -> Result<(), Untranslatable> {
        let at = self.at();
        self.i += 1;
        if self.peek(0) != Some('?') {
            self.groups.push(self.extended);
            self.out.push('(');
            self.last_atom = None;
            return Ok(());
        }
        let rest = self.rest();
        let body = &rest[1..];
        let pcre = self.dialect == Dialect::Pcre;
        if pcre && body.starts_with('#') {
            let Some(end) = body.find(')') else { return Err(self.invalid("unclosed comment `(?#`", at)) };
            self.i += 1 + body[..=end].chars().count();
            self.note("inline comment (?#…)");
            return Ok(());
        }
        for (prefix, what) in [
            ("=", "look-ahead (?=…)"),
            ("!", "negative look-ahead (?!…)"),
            ("<=", "look-behind (?<=…)"),
            ("<!", "negative look-behind (?<!…)"),
            ("|", "branch reset (?|…)"),
            ("(", "conditional (?(…)…)"),
            ("R", "recursion (?R)"),
            ("&", "subroutine call (?&…)"),
            ("P=", "back-reference (?P=…)"),
            ("P>", "subroutine call (?P>…)"),
        ] {
            if body.starts_with(prefix) {
                return Err(if pcre { self.refuse(what, at) } else { self.invalid(what, at) });
            }
        }
        let signed = body.strip_prefix(['+', '-']).unwrap_or(body);
        if signed.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(if pcre {
                self.refuse("subroutine call (?N)", at)
            } else {
                self.invalid("(?N)", at)
            });
        }
        if body.starts_with('>') {
            if !pcre {
                return Err(self.invalid("atomic group (?>…)", at));
            }
            return self.atomic_group(at);
        }
        for (open, close) in [("P<", '>'), ("<", '>'), ("'", '\'')] {
            if let Some(name_and_rest) = body.strip_prefix(open) {
                if open == "'" && !pcre {
                    return Err(self.invalid("named group (?'…')", at));
                }
                let Some(end) = name_and_rest.find(close) else {
                    return Err(self.invalid("unclosed group name", at));
                };
                let name = &name_and_rest[..end];
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(self.invalid(format!("bad group name {name:?}"), at));
                }
                if open != "P<" {
                    self.note("named group (?<name>…)");
                }
                self.i += 1 + open.chars().count() + name.chars().count() + 1;
                self.groups.push(self.extended);
                self.out.push_str("(?P<");
                self.out.push_str(name);
                self.out.push('>');
                self.last_atom = None;
                return Ok(());
            }
        }
        self.flags(at, body)
    }

    /// `(?flags)` or `(?flags:…)`.
    fn flags(&mut self, at: usize, body: &str) -> Result<(), Untranslatable> {
        let allowed = match self.dialect {
            Dialect::Re2 => "imsU",
            Dialect::Pcre => "imsxU",
        };
        let Some(end) = body.find([')', ':']) else { return Err(self.invalid("unclosed flag group", at)) };
        let flags = &body[..end];
        let mut negated = false;
        let mut extended = self.extended;
        for c in flags.chars() {
            match c {
                '-' if !negated => negated = true,
                'x' if allowed.contains('x') => extended = !negated,
                'i' if !negated => self.fold = true,
                c if allowed.contains(c) => {}
                c => {
                    let what = format!("flag `{c}` in (?{flags}…)");
                    return Err(if self.dialect == Dialect::Pcre && "nJ^".contains(c) {
                        self.refuse(what, at)
                    } else {
                        self.invalid(what, at)
                    });
                }
            }
        }
        self.i += 1 + flags.chars().count() + 1;
        self.out.push_str("(?");
        self.out.push_str(flags);
        if body[end..].starts_with(':') {
            self.groups.push(self.extended);
            self.out.push(':');
        } else {
            self.out.push(')');
        }
        self.extended = extended;
        self.last_atom = None;
        Ok(())
    }

    /// `(?>X)` where `X` is one repeated byte set and what follows gives nothing back: the same
    /// as `(?:X)`.
    fn atomic_group(&mut self, at: usize) -> Result<(), Untranslatable> {
        self.i += 2;
        self.groups.push(self.extended);
        self.out.push_str("(?:");
        self.last_atom = None;
        let atom_start = self.i;
        // One atom, one quantifier, then `)`.
        let set = match self.peek(0) {
            Some('\\') => self.escape(false)?,
            Some('[') => Some(self.class()?),
            Some(c) if !"()|{}*+?^$.".contains(c) => {
                self.i += 1;
                push_literal(&mut self.out, c);
                Some(class_literal(c))
            }
            _ => None,
        };
        let quantified = match self.peek(0) {
            Some(c @ ('*' | '+' | '?')) => {
                self.i += 1;
                self.out.push(c);
                true
            }
            Some('{') => self.counted().is_some(),
            _ => false,
        };
        if self.i == atom_start || !quantified || self.peek(0) != Some(')') {
            return Err(self.refuse("atomic group (?>…) other than one repeated set", at));
        }
        self.i += 1;
        self.groups.pop();
        self.out.push(')');
        if !self.gives_up_nothing(set.as_deref()) {
            return Err(self.refuse(
                "atomic group whose repeated set shares a byte with what follows (it would give \
                 up other matches without backtracking control)",
                at,
            ));
        }
        self.note("atomic group (nothing to give back)");
        self.last_atom = None;
        Ok(())
    }

    /// A `{` that opens a counted repetition, or a literal `{` (both dialects read one that
    /// opens none as a literal; the engine would refuse it).
    fn brace(&mut self) -> Result<(), Untranslatable> {
        let at = self.at();
        if self.counted().is_some() {
            if self.last_atom.is_none() {
                return Err(self.invalid("repetition of nothing", at));
            }
            return self.after_quantifier(at);
        }
        self.i += 1;
        self.out.push_str(r"\{");
        self.note("literal `{`");
        self.last_atom = Some(Atom { set: Some(r"\{".into()) });
        Ok(())
    }

    /// Consumes and writes `{n}`, `{n,}` or `{n,m}` when one starts here.
    fn counted(&mut self) -> Option<()> {
        let rest = self.rest();
        let body = rest.strip_prefix('{')?;
        let end = body.find('}')?;
        let inner = &body[..end];
        let (min, max) = match inner.split_once(',') {
            Some((min, max)) => (min, Some(max)),
            None => (inner, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(min) || max.is_some_and(|m| !m.is_empty() && !digits(m)) {
            return None;
        }
        self.i += inner.chars().count() + 2;
        self.out.push('{');
        self.out.push_str(inner);
        self.out.push('}');
        Some(())
    }

    /// An escape outside (`in_class` false) or inside a class; writes its translation. Returns
    /// the byte set it matches, as a class body, when it matches one byte.
    fn escape(&mut self, in_class: bool) -> Result<Option<String>, Untranslatable> {
        let at = self.at();
        let Some(c) = self.peek(1) else { return Err(self.invalid("trailing `\\`", at)) };
        self.i += 2;
        let pcre = self.dialect == Dialect::Pcre;
        let set = |s: &str| Some(s.to_string());
        let class = |t: &mut Translator, body: &str, negated: bool| {
            let neg = if negated { "^" } else { "" };
            if in_class && !negated {
                t.out.push_str(body);
            } else {
                t.out.push_str(&format!("[{neg}{body}]"));
            }
            (!negated).then(|| body.to_string())
        };
        Ok(match c {
            'd' | 'w' => {
                self.out.push('\\');
                self.out.push(c);
                set(if c == 'd' { "0-9" } else { "0-9A-Za-z_" })
            }
            'D' | 'W' => {
                self.out.push('\\');
                self.out.push(c);
                None
            }
            's' | 'S' if !pcre => {
                self.note("`\\s` without vertical tab (RE2)");
                class(self, RE2_SPACE, c == 'S')
            }
            's' | 'S' => {
                self.out.push('\\');
                self.out.push(c);
                (c == 's').then(|| r"\t\n\x0B\x0C\r\x20".to_string())
            }
            'h' | 'H' if pcre => {
                self.note("`\\h` (horizontal space)");
                class(self, PCRE_HSPACE, c == 'H')
            }
            'v' | 'V' if pcre => {
                self.note("`\\v` (vertical space)");
                class(self, PCRE_VSPACE, c == 'V')
            }
            'R' if pcre && !in_class => {
                self.note("`\\R` (line break)");
                self.out.push_str(r"(?:\r\n|[\n\x0B\x0C\r])");
                None
            }
            'e' if pcre => {
                self.note("`\\e` (escape)");
                self.out.push_str(r"\x1B");
                set(r"\x1B")
            }
            'b' if in_class && pcre => {
                self.note("`\\b` in a class (backspace)");
                self.out.push_str(r"\x08");
                set(r"\x08")
            }
            'a' | 'f' | 't' | 'n' | 'r' | 'v' => {
                self.out.push('\\');
                self.out.push(c);
                let byte = match c {
                    'a' => 7,
                    'f' => 12,
                    't' => 9,
                    'n' => 10,
                    'r' => 13,
                    _ => 11,
                };
                Some(format!(r"\x{byte:02X}"))
            }
            'b' | 'B' | 'A' | 'z' if !in_class => {
                self.out.push('\\');
                self.out.push(c);
                None
            }
            'x' => Some(self.hex(at)?),
            'p' | 'P' => {
                let name = match self.peek(0) {
                    Some('{') => {
                        let rest = self.rest();
                        let Some(end) = rest.find('}') else {
                            return Err(self.invalid("unclosed `\\p{`", at));
                        };
                        self.i += rest[..=end].chars().count();
                        rest[..=end].to_string()
                    }
                    Some(n) if n.is_ascii_alphabetic() => {
                        self.i += 1;
                        n.to_string()
                    }
                    _ => return Err(self.invalid("bad `\\p`", at)),
                };
                self.note("Unicode class `\\p`");
                let text = format!("\\{c}{name}");
                if in_class {
                    // The enclosing class is wrapped in `(?u:…)` by `class`.
                    self.out.push_str(&text);
                } else {
                    self.out.push_str(&format!("(?u:{text})"));
                }
                None
            }
            'Q' => {
                self.note("quoted text \\Q…\\E");
                let rest = self.rest();
                let (quoted, skip) = match rest.find(r"\E") {
                    Some(end) => (&rest[..end], end + 2),
                    None => (&rest[..], rest.len()),
                };
                self.i += rest[..skip].chars().count();
                let mut last = None;
                for q in quoted.chars() {
                    push_quoted(&mut self.out, q);
                    last = Some(class_literal(q));
                }
                if quoted.chars().count() == 1 {
                    last
                } else {
                    None
                }
            }
            'E' => None,
            '0'..='9' => Some(self.octal_or_backref(c, in_class, at)?),
            'o' if pcre && self.peek(0) == Some('{') => {
                let rest = self.rest();
                let Some(end) = rest.find('}') else { return Err(self.invalid("unclosed `\\o{`", at)) };
                let value = u32::from_str_radix(&rest[1..end], 8)
                    .ok()
                    .filter(|&v| v <= 0xFF)
                    .ok_or_else(|| self.invalid("bad octal `\\o{…}`", at))?;
                self.i += rest[..=end].chars().count();
                self.note("octal escape");
                self.out.push_str(&format!(r"\x{value:02X}"));
                Some(format!(r"\x{value:02X}"))
            }
            'c' if pcre => {
                let Some(ctrl) = self.peek(0).filter(char::is_ascii) else {
                    return Err(self.invalid("bad `\\c`", at));
                };
                self.i += 1;
                let value = (ctrl.to_ascii_uppercase() as u8) ^ 0x40;
                self.note("control escape `\\c`");
                self.out.push_str(&format!(r"\x{value:02X}"));
                Some(format!(r"\x{value:02X}"))
            }
            'G' | 'K' | 'Z' | 'X' | 'C' | 'g' | 'k' | 'N' if pcre => {
                let what = match c {
                    'G' => "`\\G` (end of the previous match)",
                    'K' => "`\\K` (match start reset)",
                    'Z' => "`\\Z` (end or before a final newline)",
                    'X' => "`\\X` (extended grapheme cluster)",
                    'C' => "`\\C` (one code unit)",
                    'N' => "`\\N`",
                    _ => "back-reference",
                };
                return Err(self.refuse(what, at));
            }
            ' ' => {
                self.out.push_str(r"\x20");
                set(r"\x20")
            }
            '<' | '>' => {
                // The engine reads `\<` and `\>` as word boundaries; both dialects as literals.
                self.note("escaped `<` or `>`");
                self.out.push(c);
                Some(class_literal(c))
            }
            c if c.is_ascii_punctuation() => {
                self.out.push('\\');
                self.out.push(c);
                Some(class_literal(c))
            }
            c if pcre && !c.is_ascii_alphanumeric() => {
                push_literal(&mut self.out, c);
                Some(class_literal(c))
            }
            c => return Err(self.invalid(format!("escape `\\{c}`"), at)),
        })
    }

    /// `\xHH` or `\x{H…}` (the `\x` consumed).
    fn hex(&mut self, at: usize) -> Result<String, Untranslatable> {
        let rest = self.rest();
        let (digits, skip) = if let Some(body) = rest.strip_prefix('{') {
            let Some(end) = body.find('}') else { return Err(self.invalid("unclosed `\\x{`", at)) };
            (&body[..end], end + 2)
        } else {
            let n = rest.chars().take(2).take_while(char::is_ascii_hexdigit).count();
            if n < 2 && self.dialect == Dialect::Re2 {
                return Err(self.invalid("bad `\\x`", at));
            }
            (&rest[..n], n)
        };
        let value = u32::from_str_radix(digits, 16).map_err(|_| self.invalid("bad `\\x`", at))?;
        self.i += rest[..skip].chars().count();
        let text = if value <= 0xFF { format!(r"\x{value:02X}") } else { format!(r"\x{{{value:X}}}") };
        self.out.push_str(&text);
        Ok(text)
    }

    /// `\N…` with a digit: octal (RE2 `\0`, `\0NN`, `\NNN` of two or more octal digits; PCRE `\0NN`
    /// anywhere and any `\N` in a class) or a back-reference, which neither the engine nor RE2 has.
    fn octal_or_backref(&mut self, first: char, in_class: bool, at: usize) -> Result<String, Untranslatable> {
        let more: String = self.rest().chars().take(2).take_while(|c| ('0'..='7').contains(c)).collect();
        let octal = match self.dialect {
            Dialect::Re2 => first == '0' || (first <= '7' && !more.is_empty()),
            Dialect::Pcre => first == '0' || (in_class && first <= '7'),
        };
        if !octal {
            return Err(match self.dialect {
                Dialect::Re2 => self.invalid("back-reference", at),
                Dialect::Pcre => self.refuse("back-reference", at),
            });
        }
        self.i += more.chars().count();
        let value = u32::from_str_radix(&format!("{first}{more}"), 8).unwrap_or(0);
        self.note("octal escape");
        let text = format!(r"\x{value:02X}");
        self.out.push_str(&text);
        Ok(text)
    }

    /// A bracketed class; writes its translation and returns its body.
    fn class(&mut self) -> Result<String, Untranslatable> {
        let at = self.at();
        self.i += 1;
        let start = self.out.len();
        self.out.push('[');
        if self.peek(0) == Some('^') {
            self.i += 1;
            self.out.push('^');
        }
        let body_start = self.out.len();
        let mut first = true;
        let mut last_dash = false;
        loop {
            let Some(c) = self.peek(0) else { return Err(self.invalid("unclosed class `[`", at)) };
            let dash = c == '-';
            match c {
                ']' if !first => {
                    self.i += 1;
                    break;
                }
                '[' if self.peek(1) == Some(':') => {
                    let rest = self.rest();
                    let Some(end) = rest.find(":]") else { return Err(self.invalid("unclosed `[:`", at)) };
                    self.i += rest[..end + 2].chars().count();
                    self.out.push_str(&rest[..end + 2]);
                }
                '\\' => {
                    self.escape(true)?;
                }
                // The engine reads `[` in a class as a nested class, and `&&` and `~~` as set
                // operations; the source dialects read them as literals.
                '[' => {
                    self.i += 1;
                    self.out.push_str(r"\[");
                    self.note("`[`, `&&` or `~~` in a class");
                }
                '&' | '~' if self.peek(1) == Some(c) => {
                    self.i += 1;
                    self.out.push('\\');
                    self.out.push(c);
                    self.note("`[`, `&&` or `~~` in a class");
                }
                '-' if last_dash => {
                    self.i += 1;
                    self.out.push_str(r"\-");
                    self.note("`--` in a class");
                }
                c if self.extended && (c.is_whitespace() || c == '#') => {
                    self.i += 1;
                    push_quoted(&mut self.out, c);
                    self.note("white space or `#` in an extended-mode class");
                }
                c => {
                    self.i += 1;
                    push_literal(&mut self.out, c);
                }
            }
            first = false;
            last_dash = dash;
        }
        let body = self.out[body_start..].to_string();
        self.out.push(']');
        if body.contains(r"\p") || body.contains(r"\P") {
            self.out.insert_str(start, "(?u:");
            self.out.push(')');
        }
        let negated = self.out[start..].starts_with("[^") || self.out[start..].starts_with("(?u:[^");
        Ok(if negated || body.contains(r"\p") || body.contains(r"\P") { String::new() } else { body })
    }
}

enum NextAtom {
    /// Nothing follows: the end of the pattern.
    End,
    /// A one-byte-wide atom, not repeated, as a class body.
    Set(String),
    /// Anything else.
    Other,
}

/// Writes `c`, which is no operator where it stands in the source, as a literal of the engine's
/// syntax. Outside extended mode, and outside a class, the engine reads such a character as the
/// source does.
fn push_literal(out: &mut String, c: char) {
    out.push(c);
}

/// Writes `c` from quoted text (`\Q…\E`) as a literal wherever it stands.
fn push_quoted(out: &mut String, c: char) {
    if c.is_ascii() && !c.is_ascii_alphanumeric() {
        out.push_str(&format!(r"\x{:02X}", c as u32));
    } else {
        out.push(c);
    }
}

/// `c` as a class body of the engine's syntax.
fn class_literal(c: char) -> String {
    if c.is_ascii_alphanumeric() || !c.is_ascii() {
        c.to_string()
    } else {
        format!(r"\x{:02X}", c as u32)
    }
}

/// Whether two class bodies share no byte (an empty or unparseable body counts as sharing).
fn disjoint(a: &str, b: &str, fold: bool) -> bool {
    let flags = if fold { "(?is:" } else { "(?s:" };
    let bytes = |body: &str| -> Option<[bool; 256]> {
        if body.is_empty() {
            return None;
        }
        use regex_syntax::hir::{Class, HirKind};
        let hir = super::rule::parse(&format!("{flags}[{body}])")).ok()?;
        let mut set = [false; 256];
        match hir.kind() {
            HirKind::Class(Class::Bytes(class)) => {
                for r in class.iter() {
                    for b in r.start()..=r.end() {
                        set[usize::from(b)] = true;
                    }
                }
            }
            HirKind::Literal(lit) if lit.0.len() == 1 => set[usize::from(lit.0[0])] = true,
            _ => return None,
        }
        Some(set)
    };
    match (bytes(a), bytes(b)) {
        (Some(a), Some(b)) => a.iter().zip(b.iter()).all(|(x, y)| !(x & y)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::rule::compile;

    /// Differential cases: what the source dialect means, as inputs its pattern matches (whole)
    /// and inputs it does not match anywhere. Each translation must agree on every input.
    const CASES: &[(Dialect, &str, &[&str], &[&str])] = &[
        // RE2 reads a `{` that opens no counted repetition, and the `}` after it, as literals.
        (Dialect::Re2, r"^\$?{{[^}]+}}$", &["{{ .Values.key }}", "${{x}}"], &["{x}", "{{}}", "xx"]),
        (Dialect::Re2, r"^\${[A-Z_]+}$", &["${API_KEY}"], &["$API_KEY", "${}"]),
        (Dialect::Re2, r"^a{,3}$", &["a{,3}"], &["aaa", "a"]),
        (Dialect::Re2, r"^a{2}b{1,}c{1,2}$", &["aabcc", "aabbbc"], &["abc", "aab{1,}c"]),
        // RE2's `\s` has no vertical tab; the engine's has.
        (Dialect::Re2, r"^a\sb$", &["a b", "a\tb", "a\nb", "a\x0Cb"], &["a\x0Bb", "ab"]),
        (Dialect::Re2, r"^a\Sb$", &["axb", "a\x0Bb"], &["a b"]),
        (Dialect::Re2, r"^[\s=]+$", &[" = \t"], &["\x0B"]),
        (Dialect::Re2, r"^[^\sa]$", &["b", "\x0B"], &["a", " "]),
        // Octal escapes and quoted text.
        (Dialect::Re2, r"^\101\0$", &["A\0"], &["a"]),
        (Dialect::Re2, r"^\Q.*+{\E$", &[".*+{"], &["abc"]),
        // Inside an RE2 class, `[`, `&&`, `--` and `~~` are literals.
        (Dialect::Re2, r"^[[a]+$", &["[a[", "a"], &["]"]),
        (Dialect::Re2, r"^[a&&b]$", &["a", "&", "b"], &["c"]),
        (Dialect::Re2, r"^[a~~b]$", &["~"], &["c"]),
        (Dialect::Re2, r"^[!--]$", &["!", "-", "\""], &["a"]),
        (Dialect::Re2, r"^[[:alpha:]]+$", &["abcXYZ"], &["a1"]),
        // Unicode classes are Unicode; the rest stays bytes.
        (Dialect::Re2, r"^\pL\d$", &["é1", "a1"], &["11"]),
        (Dialect::Re2, r"^[\pN_]+$", &["1_٣"], &["a"]),
        // Named groups, flags, `\z`, escaped `<`.
        (Dialect::Re2, r"(?P<k>ab)(?i)c\z", &["abC"], &["ABc", "abcd"]),
        (Dialect::Re2, r"^x(?<v>\<[0-9]\>)$", &["x<1>"], &["x1"]),
        (Dialect::Re2, r"^p8e-(?i)[a-z]{2}$", &["p8e-AB"], &["P8E-ab"]),
        // PCRE extended mode: blanks and comments go, but not inside a class.
        (Dialect::Pcre, "(?x) ^ a b # a comment with ( [ {\n c $", &["abc"], &["a b c"]),
        (Dialect::Pcre, "(?x)^[a #]+$", &["a #", "#"], &["b"]),
        (Dialect::Pcre, r"(?x)^a\ b\#$", &["a b#"], &["ab#"]),
        (Dialect::Pcre, r"^a(?#note)b$", &["ab"], &["a(?#note)b"]),
        (Dialect::Pcre, r"^(?xi: a b )c$", &["ABc"], &["ABC", "a bc"]),
        // `\h`, `\v`, `\R`, `\e`, `\s` with vertical tab.
        (Dialect::Pcre, r"^a\hb\H$", &["a b!", "a\tbx"], &["a\nbx", "a b "]),
        (Dialect::Pcre, r"^a\vb\Rc$", &["a\nb\r\nc", "a\x0Bb\nc"], &["a b\nc"]),
        (Dialect::Pcre, r"^[\h=]+$", &[" =\t"], &["\n"]),
        (Dialect::Pcre, r"^\e\s$", &["\x1B\x0B"], &["e "]),
        (Dialect::Pcre, r"^(?'key'[a-z]+)=\o{101}$", &["k=A"], &["k=a"]),
        // Possessive and atomic forms where nothing can be given back.
        (Dialect::Pcre, r"^[a-z]++=[0-9]*+$", &["key=123", "key="], &["=1", "key=x"]),
        (Dialect::Pcre, r"^(?>\d+)x$", &["123x"], &["x", "12"]),
        (Dialect::Pcre, r"^\w{2,4}+-$", &["ab-", "abcd-"], &["abcde-"]),
    ];

    #[test]
    fn translations_match_what_the_source_dialect_means() {
        for (dialect, pattern, yes, no) in CASES {
            let t = translate(pattern, *dialect).unwrap_or_else(|e| panic!("{pattern}: {e}"));
            let re = compile(&t.regex).unwrap_or_else(|e| panic!("{pattern} -> {}: {e}", t.regex));
            for input in *yes {
                let m = re.find(input.as_bytes()).map(|m| m.as_bytes());
                assert_eq!(m, Some(input.as_bytes()), "{pattern} -> {} on {input:?}", t.regex);
            }
            for input in *no {
                assert!(!re.is_match(input.as_bytes()), "{pattern} -> {} matched {input:?}", t.regex);
            }
        }
    }

    #[test]
    fn a_pattern_both_syntaxes_read_alike_is_unchanged() {
        for pattern in [
            r"\b((?:A3T[A-Z0-9]|AKIA)[A-Z2-7]{16})\b",
            r"(?i)[\w.-]{0,50}?(?:key)(?:[ \t\w.-]{0,20})[\x60'\x22=]{0,5}([a-z0-9]{32})(?:$)",
            r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----",
            r"[a-z]{3}-[^\n]+}x",
        ] {
            let t = translate(pattern, Dialect::Re2).unwrap();
            assert_eq!((t.regex.as_str(), t.constructs.len()), (pattern, 0), "{pattern}");
        }
    }

    #[test]
    fn translated_constructs_are_named_once() {
        let t = translate(r"{{\s}}\s{x", Dialect::Re2).unwrap();
        assert_eq!(t.constructs, ["literal `{`", "`\\s` without vertical tab (RE2)"]);
    }

    #[test]
    fn what_cannot_be_expressed_is_named_with_its_offset() {
        for (dialect, pattern, construct, at, supported) in [
            (Dialect::Pcre, "ab(?=c)", "look-ahead", 2, true),
            (Dialect::Pcre, "(?<!x)y", "negative look-behind", 0, true),
            (Dialect::Pcre, r"(a)\1", "back-reference", 3, true),
            (Dialect::Pcre, r"a\Kb", "`\\K`", 1, true),
            (Dialect::Pcre, r"ab\Z", "`\\Z`", 2, true),
            (Dialect::Pcre, r"x[a-z]++[a-f]", "possessive quantifier", 6, true),
            (Dialect::Pcre, r"(?>ab|a)c", "atomic group", 0, true),
            (Dialect::Re2, "a(?=b)", "look-ahead", 1, false),
            (Dialect::Re2, r"(a)\1", "back-reference", 3, false),
            (Dialect::Re2, r"a\hb", "escape `\\h`", 1, false),
            (Dialect::Re2, "(?x)a", "flag `x`", 0, false),
            (Dialect::Re2, "[ab", "unclosed class", 0, false),
            (Dialect::Re2, "(ab", "unclosed `(`", 3, false),
        ] {
            let e = translate(pattern, dialect).expect_err(pattern);
            assert!(e.construct.starts_with(construct), "{pattern}: {e}");
            assert_eq!((e.at, e.supported_by_source), (at, supported), "{pattern}: {e}");
        }
    }

    #[test]
    fn translation_never_panics_on_broken_patterns() {
        for pattern in
            ["\\", "(?", "(?P<", "[", "[[:", "\\x{", "\\p{", "a{1", "(?#", "\\Q", "\\o{9}", "(?'", "\\c"]
        {
            for dialect in [Dialect::Re2, Dialect::Pcre] {
                let _ = translate(pattern, dialect);
            }
        }
    }
}
