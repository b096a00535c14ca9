//! The layer cache in one SQLite file: the default store of `layerleak audit`, for one machine.

use std::path::Path;
use std::sync::Mutex;

use super::{decode, encode, poisoned, unix_now, CacheKey, CachedLayer, LayerCache, Place};
use crate::{Error, Result};

/// The schema, one migration per version (`PRAGMA user_version`). Version 1 is the table every
/// earlier release created (hence `IF NOT EXISTS`); a file of a newer version is refused.
const MIGRATIONS: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS layers (
         layer TEXT NOT NULL,
         context TEXT NOT NULL,
         value BLOB NOT NULL,
         stored INTEGER NOT NULL,
         PRIMARY KEY (layer, context)
     );",
    "CREATE TABLE places (
         fingerprint TEXT NOT NULL,
         rule TEXT NOT NULL,
         image TEXT NOT NULL,
         tag TEXT NOT NULL,
         platform TEXT NOT NULL,
         manifest TEXT NOT NULL,
         layer TEXT NOT NULL,
         path TEXT NOT NULL,
         status TEXT NOT NULL,
         seen INTEGER NOT NULL,
         PRIMARY KEY (fingerprint, image, platform, manifest, layer, path, status, rule)
     );",
];

/// Brings the file to the schema this build knows, each step in one transaction that SQLite's
/// write lock serializes between processes.
fn migrate(conn: &mut rusqlite::Connection, name: &str) -> Result<()> {
    let fail = |e| sql_error(name, "migrating cache", e);
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(fail)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(fail)?;
    let known = MIGRATIONS.len();
    let start = usize::try_from(version).unwrap_or(usize::MAX);
    if start > known {
        return Err(super::newer_schema(name, version, known));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(start) {
        tx.execute_batch(sql).map_err(fail)?;
        tx.pragma_update(None, "user_version", i + 1).map_err(fail)?;
    }
    tx.commit().map_err(fail)
}

/// A cache in one SQLite file, shared between runs (`layerleak audit --cache PATH`). Each `put`
/// is its own transaction, so an interrupted run keeps every layer it finished.
pub struct SqliteCache {
    conn: Mutex<rusqlite::Connection>,
    path: String,
}

impl std::fmt::Debug for SqliteCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteCache").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SqliteCache {
    /// Opens (creating it and its directory when missing) the cache file at `path`.
    ///
    /// # Errors
    ///
    /// [`Error::Cache`] naming the file when it cannot be created or is not a layerleak cache.
    pub fn open(path: &Path) -> Result<SqliteCache> {
        let name = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::cache(&name, "creating cache directory", e))?;
        }
        let mut conn = rusqlite::Connection::open(path).map_err(|e| sql_error(&name, "opening cache", e))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| sql_error(&name, "opening cache", e))?;
        conn.execute_batch("PRAGMA journal_mode = WAL;")
            .map_err(|e| sql_error(&name, "preparing cache", e))?;
        migrate(&mut conn, &name)?;
        Ok(SqliteCache { conn: Mutex::new(conn), path: name })
    }

    /// The default location: `$XDG_CACHE_HOME/layerleak/cache.sqlite`, else
    /// `~/.cache/layerleak/cache.sqlite`; `None` when neither variable is set.
    pub fn default_path() -> Option<std::path::PathBuf> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| Path::new(&h).join(".cache"))
            })?;
        Some(base.join("layerleak").join("cache.sqlite"))
    }

    /// How many layers it holds (all contexts).
    ///
    /// # Errors
    ///
    /// [`Error::Cache`] when the file cannot be read.
    pub fn len(&self) -> Result<usize> {
        let conn = self.conn.lock().map_err(|_| poisoned())?;
        conn.query_row("SELECT COUNT(*) FROM layers", [], |r| r.get::<_, i64>(0))
            .map(|n| usize::try_from(n).unwrap_or(0))
            .map_err(|e| sql_error(&self.path, "counting cache entries", e))
    }

    /// Whether it holds nothing.
    ///
    /// # Errors
    ///
    /// As [`SqliteCache::len`].
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
}

fn sql_error(path: &str, what: &str, e: rusqlite::Error) -> Error {
    Error::cache(path, what, e)
}

impl LayerCache for SqliteCache {
    fn get(&self, key: &CacheKey) -> Result<Option<CachedLayer>> {
        let conn = self.conn.lock().map_err(|_| poisoned())?;
        let found: Option<Vec<u8>> = match conn.query_row(
            "SELECT value FROM layers WHERE layer = ?1 AND context = ?2",
            [key.layer.to_string(), key.context.clone()],
            |r| r.get(0),
        ) {
            Ok(v) => Some(v),
            Err(rusqlite::Error::QueryReturnedNoRows) => None,
            Err(e) => return Err(sql_error(&self.path, "reading cache", e)),
        };
        // Other workers may read while this entry is decoded.
        drop(conn);
        // A damaged or oversized entry is a miss: the layer is scanned again and overwritten.
        Ok(found.and_then(|v| decode(&v)))
    }

    fn put(&self, key: &CacheKey, layer: &CachedLayer) -> Result<()> {
        let value = encode(layer, &self.path)?;
        let now = unix_now();
        let conn = self.conn.lock().map_err(|_| poisoned())?;
        conn.execute(
            "INSERT OR REPLACE INTO layers (layer, context, value, stored) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![key.layer.to_string(), key.context, value, now],
        )
        .map_err(|e| sql_error(&self.path, "writing cache", e))?;
        Ok(())
    }

    fn record(&self, places: &[Place]) -> Result<()> {
        let now = unix_now();
        let mut conn = self.conn.lock().map_err(|_| poisoned())?;
        let tx = conn.transaction().map_err(|e| sql_error(&self.path, "recording places", e))?;
        for p in places {
            let [fingerprint, rule, image, tag, platform, manifest, layer, path, status] = p.columns();
            tx.execute(
                "INSERT INTO places (fingerprint, rule, image, tag, platform, manifest, layer, path, status, seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT DO UPDATE SET seen = excluded.seen",
                rusqlite::params![fingerprint, rule, image, tag, platform, manifest, layer, path, status, now],
            )
            .map_err(|e| sql_error(&self.path, "recording places", e))?;
        }
        tx.commit().map_err(|e| sql_error(&self.path, "recording places", e))
    }

    fn places(&self, fingerprint: &str) -> Result<Vec<Place>> {
        let conn = self.conn.lock().map_err(|_| poisoned())?;
        let mut stmt = conn
            .prepare(
                "SELECT fingerprint, rule, image, tag, platform, manifest, layer, path, status FROM places
                 WHERE fingerprint = ?1",
            )
            .map_err(|e| sql_error(&self.path, "reading places", e))?;
        let rows = stmt
            .query_map([fingerprint], |r| {
                let mut c: [String; 9] = Default::default();
                for (i, v) in c.iter_mut().enumerate() {
                    *v = r.get(i)?;
                }
                Ok(Place::from_columns(c))
            })
            .map_err(|e| sql_error(&self.path, "reading places", e))?;
        let mut out = rows
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| sql_error(&self.path, "reading places", e))?;
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;
    use crate::digest::Digest;
    use crate::At;

    #[test]
    fn sqlite_cache_persists_and_treats_damage_as_a_miss() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io(At::none(), "tempdir", e))?;
        let path = dir.path().join("sub/cache.sqlite");
        let key = CacheKey { layer: Digest::sha256_of(b"blob"), context: "ctx".into() };
        {
            let cache = SqliteCache::open(&path)?;
            assert!(cache.is_empty()?);
            cache.put(&key, &sample())?;
        }
        let cache = SqliteCache::open(&path)?;
        assert_eq!(cache.get(&key)?, Some(sample()));
        assert_eq!(cache.len()?, 1);
        {
            let conn = cache.conn.lock().map_err(|_| poisoned())?;
            conn.execute("UPDATE layers SET value = x'7b6e6f'", [])
                .map_err(|e| sql_error("test", "damaging", e))?;
        }
        assert_eq!(cache.get(&key)?, None, "a damaged entry is a miss");
        Ok(())
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_an_error() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io(At::none(), "tempdir", e))?;
        let path = dir.path().join("cache.sqlite");
        std::fs::write(&path, vec![b'x'; 4096]).map_err(|e| Error::io(At::none(), "write", e))?;
        match SqliteCache::open(&path) {
            Err(Error::Cache { store, .. }) => assert_eq!(store, path.display().to_string()),
            other => panic!("{other:?}"),
        }
        Ok(())
    }

    #[test]
    fn a_cache_of_a_newer_schema_is_refused_by_name() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io(At::none(), "tempdir", e))?;
        let path = dir.path().join("cache.sqlite");
        {
            let conn = rusqlite::Connection::open(&path).map_err(|e| sql_error("test", "open", e))?;
            conn.pragma_update(None, "user_version", 99).map_err(|e| sql_error("test", "pragma", e))?;
        }
        let err = SqliteCache::open(&path).map(|_| ()).unwrap_err().to_string();
        assert!(err.contains("schema version 99") && err.contains("knows 2"), "{err}");
        Ok(())
    }

    #[test]
    fn places_are_recorded_once_and_found_by_fingerprint() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io(At::none(), "tempdir", e))?;
        let cache = SqliteCache::open(&dir.path().join("cache.sqlite"))?;
        let place = super::super::tests::place("ab");
        cache.record(&[place.clone(), place.clone()])?;
        cache.record(std::slice::from_ref(&place))?;
        assert_eq!(cache.places("ab")?, vec![place]);
        assert!(cache.places("cd")?.is_empty());
        Ok(())
    }
}
