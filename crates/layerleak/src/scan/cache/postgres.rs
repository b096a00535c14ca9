//! The layer cache in a PostgreSQL database, shared by any number of processes on any number of
//! machines: per-layer results and places as in [`super::SqliteCache`], plus the work queue of
//! cooperative audits ([`crate::scan::WorkQueue`]): every audit's layers, each claimed with a
//! lease (`SELECT … FOR UPDATE SKIP LOCKED`) that its holder renews while it scans and that
//! expires when the holder dies, so another process redoes the layer.
//!
//! # Security
//!
//! As every cache: fingerprints and redacted forms only, never secret bytes. The URL's password
//! never appears in errors or `Debug` output.

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{decode, encode, poisoned, CacheKey, CachedLayer, LayerCache, Place};
use crate::digest::Digest;
use crate::scan::{Work, WorkQueue};
use crate::{Error, Result};

/// The schema, one migration per version, applied in order under an advisory lock and recorded
/// in `layerleak_schema`; a database of a newer version is refused.
const MIGRATIONS: [&str; 1] = ["CREATE TABLE layers (
         layer text NOT NULL,
         context text NOT NULL,
         value bytea NOT NULL,
         stored timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (layer, context)
     );
     CREATE TABLE places (
         fingerprint text NOT NULL,
         rule text NOT NULL,
         image text NOT NULL,
         tag text NOT NULL,
         platform text NOT NULL,
         manifest text NOT NULL,
         layer text NOT NULL,
         path text NOT NULL,
         status text NOT NULL,
         seen timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (fingerprint, image, platform, manifest, layer, path, status, rule)
     );
     CREATE TABLE audit_layers (
         audit text NOT NULL,
         layer text NOT NULL,
         repository text NOT NULL,
         tag text NOT NULL,
         done boolean NOT NULL DEFAULT false,
         owner text,
         lease_until timestamptz,
         scans integer NOT NULL DEFAULT 0,
         scanned_by text,
         PRIMARY KEY (audit, layer)
     );"];

/// The advisory lock serializing migrations ("layerlea" in ASCII).
const MIGRATION_LOCK: i64 = 0x6c61_7965_726c_6561;

/// A cache (and cooperative audit queue) in PostgreSQL (`layerleak audit --cache
/// postgres://…`). One connection, shared by the scanner's workers; each write is its own
/// transaction, so whatever a process finished survives it.
pub struct PostgresCache {
    client: Mutex<postgres::Client>,
    name: String,
    owner: String,
    lease: Duration,
}

impl std::fmt::Debug for PostgresCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresCache")
            .field("name", &self.name)
            .field("owner", &self.owner)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

impl PostgresCache {
    /// Connects to `url` (`postgres://user:password@host:port/db?sslmode=…`, as libpq reads it;
    /// TLS through rustls with the webpki roots when the server offers it or `sslmode=require`),
    /// and brings the schema up to date. The lease of claimed layers is 30 s
    /// ([`PostgresCache::lease`]).
    ///
    /// # Errors
    ///
    /// [`Error::Cache`] naming the server (never the password) when the URL is bad, TLS cannot
    /// be set up, the server cannot be reached or refuses the login, or the database holds a
    /// schema newer than this build knows.
    pub fn open(url: &str) -> Result<PostgresCache> {
        let mut config = postgres::Config::from_str(url)
            .map_err(|e| pg_error("postgres://", "reading the cache URL", e))?;
        let name = display_name(&config);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let mut client =
            config.connect(tls(&name)?).map_err(|e| pg_error(&name, "connecting to the cache", e))?;
        migrate(&mut client, &name)?;
        let owner = format!(
            "{}:{}:{}",
            std::env::var("HOSTNAME").unwrap_or_default(),
            std::process::id(),
            super::unix_now()
        );
        Ok(PostgresCache { client: Mutex::new(client), name, owner, lease: Duration::from_secs(30) })
    }

    /// How long a claimed layer stays claimed without a renewal (default 30 s). The holder
    /// renews its leases every third of it; a process that dies holds its layers that long at
    /// most. Shorter recovers faster, longer tolerates longer stalls (a slow database, a paused
    /// machine) without a layer being scanned twice.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(100));
        self
    }

    /// The server and database, without credentials.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn with<T>(
        &self,
        what: &str,
        f: impl FnOnce(&mut postgres::Client) -> std::result::Result<T, postgres::Error>,
    ) -> Result<T> {
        let mut client = self.client.lock().map_err(|_| poisoned())?;
        f(&mut client).map_err(|e| pg_error(&self.name, what, e))
    }

    fn lease_secs(&self) -> f64 {
        self.lease.as_secs_f64()
    }
}

/// `postgres://user@host:port/db`, the form errors name the store by.
fn display_name(config: &postgres::Config) -> String {
    let host = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            postgres::config::Host::Tcp(h) => h.clone(),
            postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .collect::<Vec<_>>()
        .join(",");
    let port = config.get_ports().first().map(|p| format!(":{p}")).unwrap_or_default();
    let user = config.get_user().map(|u| format!("{u}@")).unwrap_or_default();
    format!("postgres://{user}{host}{port}/{}", config.get_dbname().unwrap_or(""))
}

fn pg_error(name: &str, what: &str, e: postgres::Error) -> Error {
    Error::cache(name, what, e)
}

fn tls(name: &str) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::cache(name, "setting up TLS", e))?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// Applies the migrations this database lacks, once, however many processes start together.
fn migrate(client: &mut postgres::Client, name: &str) -> Result<()> {
    let fail = |e| pg_error(name, "migrating the cache schema", e);
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).map_err(fail)?;
    let result = apply_migrations(client, name);
    let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).map_err(fail);
    result.and(unlocked.map(|_| ()))
}

fn apply_migrations(client: &mut postgres::Client, name: &str) -> Result<()> {
    let fail = |e| pg_error(name, "migrating the cache schema", e);
    client
        .batch_execute("CREATE TABLE IF NOT EXISTS layerleak_schema (version integer NOT NULL)")
        .map_err(fail)?;
    let row =
        client.query_one("SELECT coalesce(max(version), 0) FROM layerleak_schema", &[]).map_err(fail)?;
    let version: i32 = row.get(0);
    let known = MIGRATIONS.len();
    let start = usize::try_from(version).unwrap_or(0);
    if start > known {
        return Err(super::newer_schema(name, i64::from(version), known));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(start) {
        let mut tx = client.transaction().map_err(fail)?;
        tx.batch_execute(sql).map_err(fail)?;
        let v = i32::try_from(i + 1).unwrap_or(i32::MAX);
        tx.execute("INSERT INTO layerleak_schema (version) VALUES ($1)", &[&v]).map_err(fail)?;
        tx.commit().map_err(fail)?;
    }
    Ok(())
}

impl LayerCache for PostgresCache {
    fn get(&self, key: &CacheKey) -> Result<Option<CachedLayer>> {
        let row = self.with("reading cache", |c| {
            c.query_opt(
                "SELECT value FROM layers WHERE layer = $1 AND context = $2",
                &[&key.layer.to_string(), &key.context],
            )
        })?;
        Ok(row.and_then(|r| decode(r.get::<_, &[u8]>(0))))
    }

    fn put(&self, key: &CacheKey, layer: &CachedLayer) -> Result<()> {
        let value = encode(layer, &self.name)?;
        self.with("writing cache", |c| {
            c.execute(
                "INSERT INTO layers (layer, context, value) VALUES ($1, $2, $3)
                 ON CONFLICT (layer, context) DO UPDATE SET value = excluded.value, stored = now()",
                &[&key.layer.to_string(), &key.context, &value],
            )
        })?;
        Ok(())
    }

    fn record(&self, places: &[Place]) -> Result<()> {
        // One statement per batch of images: columns as parallel arrays.
        let mut cols: [Vec<&str>; 9] = Default::default();
        for p in places {
            for (col, v) in cols.iter_mut().zip(p.columns()) {
                col.push(v);
            }
        }
        let [fingerprint, rule, image, tag, platform, manifest, layer, path, status] = &cols;
        self.with("recording places", |c| {
            c.execute(
                "INSERT INTO places (fingerprint, rule, image, tag, platform, manifest, layer, path, status)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                                      $6::text[], $7::text[], $8::text[], $9::text[])
                 ON CONFLICT (fingerprint, image, platform, manifest, layer, path, status, rule)
                 DO UPDATE SET seen = now()",
                &[fingerprint, rule, image, tag, platform, manifest, layer, path, status],
            )
        })?;
        Ok(())
    }

    fn places(&self, fingerprint: &str) -> Result<Vec<Place>> {
        let rows = self.with("reading places", |c| {
            c.query(
                "SELECT fingerprint, rule, image, tag, platform, manifest, layer, path, status
                 FROM places WHERE fingerprint = $1",
                &[&fingerprint],
            )
        })?;
        let mut out: Vec<Place> = rows
            .iter()
            .map(|r| {
                let mut c: [String; 9] = Default::default();
                for (i, v) in c.iter_mut().enumerate() {
                    *v = r.get(i);
                }
                Place::from_columns(c)
            })
            .collect();
        out.sort();
        Ok(out)
    }
}

/// The free layers among `candidates`, or any free layer when `None`: not done, never claimed or
/// with an expired lease, and not locked by a concurrent claim (`SKIP LOCKED`: claimers never
/// wait for each other). The row lock makes the lease check see the winner's update.
const CLAIM: &str = "UPDATE audit_layers SET owner = $2, lease_until = now() + make_interval(secs => $3)
     WHERE audit = $1 AND layer IN (
         SELECT layer FROM audit_layers
         WHERE audit = $1 AND NOT done AND (lease_until IS NULL OR lease_until < now())
           AND ($4::text[] IS NULL OR layer = ANY($4))
         ORDER BY layer LIMIT $5
         FOR UPDATE SKIP LOCKED)
     RETURNING layer, repository, tag";

impl WorkQueue for PostgresCache {
    fn register(&self, audit: &str, context: &str, work: &[Work]) -> Result<()> {
        let layers: Vec<String> = work.iter().map(|w| w.layer.to_string()).collect();
        let repos: Vec<&str> = work.iter().map(|w| w.repository.as_str()).collect();
        let tags: Vec<&str> = work.iter().map(|w| w.tag.as_str()).collect();
        // A layer some earlier audit already stored is done before it starts.
        self.with("registering layers", |c| {
            c.execute(
                "INSERT INTO audit_layers (audit, layer, repository, tag, done)
                 SELECT $1, l, r, t, EXISTS (SELECT 1 FROM layers WHERE layers.layer = l AND layers.context = $2)
                 FROM unnest($3::text[], $4::text[], $5::text[]) AS u(l, r, t)
                 ON CONFLICT (audit, layer) DO NOTHING",
                &[&audit, &context, &layers, &repos, &tags],
            )
        })?;
        Ok(())
    }

    fn claim(&self, audit: &str, among: Option<&[Digest]>, max: usize) -> Result<Vec<Work>> {
        let among: Option<Vec<String>> = among.map(|a| a.iter().map(ToString::to_string).collect());
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        let rows = self.with("claiming layers", |c| {
            c.query(CLAIM, &[&audit, &self.owner, &self.lease_secs(), &among, &max])
        })?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let layer = Digest::parse(r.get::<_, &str>(0))?;
                Some(Work { layer, repository: r.get(1), tag: r.get(2) })
            })
            .collect())
    }

    fn done(&self, audit: &str, layer: &Digest) -> Result<()> {
        self.with("finishing a layer", |c| {
            c.execute(
                "UPDATE audit_layers SET done = true, owner = NULL, lease_until = NULL,
                     scans = scans + 1, scanned_by = $3
                 WHERE audit = $1 AND layer = $2",
                &[&audit, &layer.to_string(), &self.owner],
            )
        })?;
        Ok(())
    }

    fn renew(&self, audit: &str) -> Result<()> {
        self.with("renewing leases", |c| {
            c.execute(
                "UPDATE audit_layers SET lease_until = now() + make_interval(secs => $3)
                 WHERE audit = $1 AND owner = $2 AND NOT done",
                &[&audit, &self.owner, &self.lease_secs()],
            )
        })?;
        Ok(())
    }

    fn outstanding(&self, audit: &str) -> Result<u64> {
        let row = self.with("counting layers left", |c| {
            c.query_one("SELECT count(*) FROM audit_layers WHERE audit = $1 AND NOT done", &[&audit])
        })?;
        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }

    fn poll(&self) -> Duration {
        (self.lease / 10).clamp(Duration::from_millis(50), Duration::from_secs(2))
    }

    fn renew_every(&self) -> Duration {
        self.lease / 3
    }
}
