//! `--cache`: which store keeps per-layer results and the places of secrets. A
//! `postgres://`/`postgresql://` URL names a PostgreSQL database shared by many processes; `none`
//! none; anything else a SQLite file.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use layerleak::scan::{LayerCache, PostgresCache, SqliteCache};

/// What `--cache` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    None,
    Sqlite(PathBuf),
    Postgres(String),
}

impl Spec {
    /// `--cache` read; `default` when not given (`None` when there is no default location).
    pub fn of(arg: Option<&str>, default: Option<PathBuf>) -> Spec {
        match arg {
            Some("none") => Spec::None,
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Spec::Postgres(url.to_string())
            }
            Some(path) => Spec::Sqlite(PathBuf::from(path)),
            None => default.map_or(Spec::None, Spec::Sqlite),
        }
    }
}

/// Connects to a PostgreSQL store; failing is an error (the user asked for a shared store).
pub fn postgres(url: &str, lease: Duration) -> Result<Arc<PostgresCache>> {
    let cache = PostgresCache::open(url).context("opening the shared cache")?;
    Ok(Arc::new(cache.lease(lease)))
}

/// Opens the store `where` reads; a missing SQLite file is an error, not an empty new cache.
pub fn open_for_reading(spec: &Spec) -> Result<Arc<dyn LayerCache>> {
    match spec {
        Spec::None => bail!("`where` needs a cache: --cache PATH or --cache postgres://…"),
        Spec::Sqlite(path) => {
            if !path.is_file() {
                bail!("no cache at {}: audit or scan with --cache {} first", path.display(), path.display());
            }
            Ok(Arc::new(SqliteCache::open(path).context("opening the cache")?))
        }
        Spec::Postgres(url) => Ok(postgres(url, Duration::from_secs(30))?),
    }
}

/// `--lease`: `30s`, `2m`, `500ms`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (number, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len()));
    let n: f64 =
        number.parse().map_err(|_| format!("expected a duration like 30s, 2m or 500ms, not {s:?}"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("unknown unit {unit:?} in {s:?}: use ms, s, m or h")),
    };
    if !(0.1..=86_400.0).contains(&secs) {
        return Err(format!("{s:?} is out of range (100ms to 24h)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_arguments_name_their_store() {
        assert_eq!(Spec::of(Some("none"), None), Spec::None);
        assert_eq!(Spec::of(Some("postgres://u@h/db"), None), Spec::Postgres("postgres://u@h/db".into()));
        assert_eq!(Spec::of(Some("postgresql://h/db"), None), Spec::Postgres("postgresql://h/db".into()));
        assert_eq!(Spec::of(Some("c.sqlite"), None), Spec::Sqlite("c.sqlite".into()));
        assert_eq!(Spec::of(None, Some("d.sqlite".into())), Spec::Sqlite("d.sqlite".into()));
        assert_eq!(Spec::of(None, None), Spec::None);
    }

    #[test]
    fn leases_parse_with_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("").is_err());
    }
}
