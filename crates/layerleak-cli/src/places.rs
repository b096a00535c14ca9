//! `layerleak where FINGERPRINT…`: every place the cache has seen each secret (image, tag,
//! platform, layer, path, status), from the fingerprint of a report or from the secret itself.

use std::io::{Read, Write};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use layerleak::scan::{Place, SqliteCache};
use serde::Serialize;

use crate::output::{self, terminal::printable};
use crate::store::{self, Spec};

pub const WHERE_HELP: &str = "\
Examples:
  printf %s \"$TOKEN\" | layerleak where --secret-stdin --cache scans.sqlite
  layerleak where --cache postgres://audit@db/layerleak -f json FINGERPRINT…

Answers from what audits and scans with the same --cache recorded: an image scanned since is
shown as it was then. The secret given with --secret-stdin is hashed here and never sent.

Exit status:
  0  no place of any of the secrets is recorded
  1  places found
  2  the cache could not be read, or a fingerprint is not 64 hex digits";

/// `layerleak where` arguments.
#[derive(Debug, Args)]
#[command(after_help = WHERE_HELP)]
pub struct WhereArgs {
    /// Fingerprints (lowercase hex SHA-256 of the secret, as every report gives them).
    #[arg(value_name = "FINGERPRINT", required_unless_present = "secret_stdin")]
    pub fingerprints: Vec<String>,
    /// Read one secret from stdin (one trailing newline dropped) and look up its fingerprint.
    #[arg(long)]
    pub secret_stdin: bool,
    /// The cache audits and scans wrote: a SQLite file or a `postgres://` URL. Default: the
    /// default cache of `audit`.
    #[arg(long, value_name = "PATH|URL")]
    pub cache: Option<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = WhereFormat::Table)]
    pub format: WhereFormat,
    /// Write to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

/// How `where` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WhereFormat {
    /// One block per fingerprint, one line per place.
    Table,
    /// `{"schema": 1, "secrets": [{"fingerprint", "places": [...]}]}`.
    Json,
}

#[derive(Serialize)]
struct Answer<'a> {
    schema: u32,
    secrets: &'a [Secret],
}

#[derive(Serialize)]
struct Secret {
    fingerprint: String,
    places: Vec<Place>,
}

/// Looks the fingerprints up; exit 1 when any place is found, 0 when none.
pub fn run(args: WhereArgs) -> Result<u8> {
    let mut fingerprints = Vec::new();
    for f in &args.fingerprints {
        let f = f.to_ascii_lowercase();
        if f.len() != 64 || !f.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!("{} is not a fingerprint (64 hex digits)", printable(&f));
        }
        fingerprints.push(f);
    }
    if args.secret_stdin {
        let mut secret = Vec::new();
        std::io::stdin().read_to_end(&mut secret).context("reading the secret from stdin")?;
        let secret = secret.strip_suffix(b"\n").unwrap_or(&secret);
        let secret = secret.strip_suffix(b"\r").unwrap_or(secret);
        fingerprints.push(layerleak::digest::Digest::sha256_of(secret).hex().to_string());
    }
    let cache = store::open_for_reading(&Spec::of(args.cache.as_deref(), SqliteCache::default_path()))?;
    let mut secrets = Vec::new();
    for fingerprint in fingerprints {
        let places = cache.places(&fingerprint).context("reading the cache")?;
        secrets.push(Secret { fingerprint, places });
    }
    let mut out = output::open(args.output.as_deref())?;
    match args.format {
        WhereFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &Answer { schema: 1, secrets: &secrets })?;
            writeln!(out)?;
        }
        WhereFormat::Table => table(&mut out, &secrets)?,
    }
    out.flush()?;
    Ok(u8::from(secrets.iter().any(|s| !s.places.is_empty())))
}

const COLUMNS: [&str; 6] = ["IMAGE", "TAG", "PLATFORM", "LAYER", "PATH", "STATUS"];

fn table(out: &mut dyn Write, secrets: &[Secret]) -> Result<()> {
    for (i, s) in secrets.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let images: std::collections::BTreeSet<&str> = s.places.iter().map(|p| p.image.as_str()).collect();
        writeln!(out, "{}: {} place(s) in {} image(s)", s.fingerprint, s.places.len(), images.len())?;
        if s.places.is_empty() {
            continue;
        }
        let rows: Vec<[String; 6]> = s
            .places
            .iter()
            .map(|p| {
                let text = |s: &str| printable(s).into_owned();
                let opt = |o: &Option<String>| text(o.as_deref().unwrap_or("-"));
                [text(&p.image), opt(&p.tag), opt(&p.platform), opt(&p.layer), text(&p.path), text(&p.status)]
            })
            .collect();
        let mut widths = COLUMNS.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(unicode_width::UnicodeWidthStr::width(cell.as_str()));
            }
        }
        let line = |cells: [&str; 6]| {
            let mut text = String::from(" ");
            for (cell, w) in cells.iter().zip(widths) {
                let pad = w.saturating_sub(unicode_width::UnicodeWidthStr::width(*cell));
                text.push(' ');
                text.push_str(cell);
                text.push_str(&" ".repeat(pad + 1));
            }
            text.trim_end().to_string()
        };
        writeln!(out, "{}", line(COLUMNS))?;
        for row in &rows {
            writeln!(out, "{}", line(row.each_ref().map(String::as_str)))?;
        }
    }
    Ok(())
}
