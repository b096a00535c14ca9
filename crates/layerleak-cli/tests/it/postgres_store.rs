//! `layerleak audit --cache postgres://…` and `layerleak where` against a real PostgreSQL server
//! (Debian's `postgresql`: `initdb` and `pg_ctl` on a temp dir and a free loopback port, run as
//! the `postgres` user when the tests run as root, since the server refuses root) and the real
//! registry of the by-secret tests (33 tags sharing a base layer; 35 distinct layers).
//!
//! One server serves the tests of this binary, each in its own database; it is stopped and its
//! directory removed when the test process ends (a keeper shell, as for the registry). The test
//! that stops the server mid-audit starts its own.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::by_secret::{fingerprint, fixture, IMAGES, NPM, PAT, SLACK};
use crate::common::{self, code};
use crate::registry::layerleak;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Distinct layers of the fixture: the base, the cleanup layer and one top layer per tag.
const LAYERS: i64 = IMAGES as i64 + 2;

/// The newest installed server's binaries (`/usr/lib/postgresql/N/bin`).
fn pg_bin() -> PathBuf {
    let versions = std::fs::read_dir("/usr/lib/postgresql").into_iter().flatten().flatten();
    let newest = versions
        .filter_map(|e| Some((e.file_name().to_str()?.parse::<u32>().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").is_file())
        .max();
    match newest {
        Some((_, bin)) => bin,
        None => panic!("PostgreSQL is not installed; the tests need it: `apt-get install -y postgresql`"),
    }
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// A throwaway PostgreSQL server on 127.0.0.1 (no unix socket), trusting every local login.
struct PgServer {
    dir: PathBuf,
    port: u16,
}

impl PgServer {
    fn create() -> TestResult<PgServer> {
        let dir = tempfile::Builder::new().prefix("layerleak-pg").tempdir()?.keep();
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let server = PgServer { dir, port };
        if running_as_root() {
            let out = Command::new("chown").arg("postgres:").arg(&server.dir).output()?;
            if !out.status.success() {
                return Err(format!("chown: {}", String::from_utf8_lossy(&out.stderr)).into());
            }
        }
        let out = server
            .tool("initdb")
            .args(["-U", "layerleak", "--auth=trust", "--no-sync", "-E", "UTF8", "-D"])
            .arg(server.dir.join("data"))
            .output()?;
        if !out.status.success() {
            return Err(format!("initdb: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        server.start()?;
        Ok(server)
    }

    /// A server tool, as the `postgres` user when this process is root.
    fn tool(&self, name: &str) -> Command {
        let bin = pg_bin().join(name);
        let mut c = if running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin);
            c
        } else {
            Command::new(bin)
        };
        c.stdin(Stdio::null());
        c
    }

    fn start(&self) -> TestResult {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off -c max_connections=50",
            self.port
        );
        let out = self
            .tool("pg_ctl")
            .args(["-w", "-t", "60", "-o", &options, "-l"])
            .arg(self.dir.join("server.log"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .arg("start")
            .output()?;
        if !out.status.success() {
            let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            return Err(format!("pg_ctl start: {} {log}", String::from_utf8_lossy(&out.stderr)).into());
        }
        Ok(())
    }

    fn stop(&self) -> TestResult {
        let out = self
            .tool("pg_ctl")
            .args(["-w", "-m", "fast", "-D"])
            .arg(self.dir.join("data"))
            .arg("stop")
            .output()?;
        if !out.status.success() {
            return Err(format!("pg_ctl stop: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        Ok(())
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://layerleak@127.0.0.1:{}/{db}", self.port)
    }

    /// A new empty database, its URL.
    fn database(&self, name: &str) -> TestResult<String> {
        let mut client = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)?;
        client.batch_execute(&format!("CREATE DATABASE {name}"))?;
        Ok(self.url(name))
    }
}

/// The server shared by this binary's tests, with the shell that stops it when the process ends.
fn server() -> TestResult<&'static PgServer> {
    static SHARED: OnceLock<Result<(PgServer, Mutex<Child>), String>> = OnceLock::new();
    let started = SHARED.get_or_init(|| {
        let server = PgServer::create().map_err(|e| e.to_string())?;
        let stop = server.tool("pg_ctl");
        let keeper = Command::new("sh")
            .args(["-c", "cat >/dev/null; \"$@\"; rm -rf \"$DIR\"", "keeper"])
            .arg(stop.get_program())
            .args(stop.get_args())
            .args(["-m", "immediate", "-D"])
            .arg(server.dir.join("data"))
            .arg("stop")
            .env("DIR", &server.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        Ok((server, Mutex::new(keeper)))
    });
    match started {
        Ok((s, _)) => Ok(s),
        Err(e) => Err(e.clone().into()),
    }
}

/// `layerleak audit URL --cache CACHE -f json ARGS`, started (not waited for).
fn spawn_audit(url: &str, cache: &str, args: &[&str]) -> TestResult<Child> {
    let f = fixture()?;
    Ok(Command::new(env!("CARGO_BIN_EXE_layerleak"))
        .args(["audit", url, "--cache", cache, "-f", "json", "-j", "2"])
        .args(args)
        .env("HOME", &f.home)
        .env("XDG_CACHE_HOME", f.home.join("cache"))
        .env("DOCKER_CONFIG", f.home.join("docker"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?)
}

/// Waits for a spawned run (3 minutes at most: only a hung run takes that long).
fn finish(child: Child) -> TestResult<Output> {
    let pid = child.id();
    let done = Arc::new(AtomicBool::new(false));
    let watch = done.clone();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(180);
        while !watch.load(Ordering::Relaxed) {
            if Instant::now() > deadline {
                let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let out = child.wait_with_output()?;
    done.store(true, Ordering::Relaxed);
    Ok(out)
}

/// The report without what differs between processes: timings and per-process counters.
fn shared_part(out: &Output) -> TestResult<String> {
    let mut v: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("stdout is not JSON ({e}): {}", common::transcript(out)))?;
    if let Some(stats) = v.get_mut("stats").and_then(Value::as_object_mut) {
        for key in [
            "seconds",
            "layers_scanned",
            "layers_cached",
            "layers_reused",
            "files",
            "bytes_compressed",
            "bytes_uncompressed",
        ] {
            stats.remove(key);
        }
    }
    if let Some(summary) = v.get_mut("summary").and_then(Value::as_object_mut) {
        for key in ["layers_scanned", "layers_cached", "layers_reused"] {
            summary.remove(key);
        }
    }
    Ok(serde_json::to_string_pretty(&v)?)
}

/// Asserts two reports are the same, showing the lines that differ.
fn assert_same(a: &str, b: &str, what: &str) {
    let differ: Vec<(&str, &str)> = a.lines().zip(b.lines()).filter(|(x, y)| x != y).take(8).collect();
    assert!(a == b, "{what}: {} and {} lines, differing: {differ:#?}", a.lines().count(), b.lines().count());
}

/// The report of one process auditing with a fresh SQLite cache: what every shared audit must give.
fn reference(url: &str) -> TestResult<String> {
    let scratch = tempfile::tempdir()?;
    let cache = scratch.path().join("cache.sqlite");
    let out = finish(spawn_audit(url, cache.to_str().ok_or("non-UTF-8 temp dir")?, &[])?)?;
    assert_eq!(code(&out), 1, "{}", common::transcript(&out));
    shared_part(&out)
}

/// The layers a shared audit's process says it scanned itself.
fn scanned_here(out: &Output) -> TestResult<usize> {
    let err = String::from_utf8_lossy(&out.stderr);
    let count = err.split("this process scanned ").nth(1).and_then(|t| t.split(' ').next());
    Ok(count.and_then(|n| n.parse().ok()).ok_or_else(|| format!("no per-process count: {err}"))?)
}

/// `(layer, scans, done)` of every layer of every audit in the store.
fn scans(url: &str) -> TestResult<Vec<(String, i32, bool)>> {
    let mut client = postgres::Client::connect(url, postgres::NoTls)?;
    let rows = client.query("SELECT layer, scans, done FROM audit_layers ORDER BY layer", &[])?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
}

#[test]
fn three_processes_scan_each_layer_once_and_print_the_same_report_as_one() -> TestResult {
    let f = fixture()?;
    let url = server()?.database("three")?;
    let runs: Vec<Child> =
        (0..3).map(|_| spawn_audit(&f.url, &url, &["--lease", "5s"])).collect::<TestResult<_>>()?;
    let outs: Vec<Output> = runs.into_iter().map(finish).collect::<TestResult<_>>()?;
    let mut scanned = 0;
    for out in &outs {
        assert_eq!(code(out), 1, "{}", common::transcript(out));
        scanned += scanned_here(out)?;
    }
    assert_eq!(scanned, LAYERS as usize, "the processes together scanned each layer once");
    let layers = scans(&url)?;
    assert_eq!(layers.len() as i64, LAYERS);
    assert!(layers.iter().all(|(_, n, done)| *n == 1 && *done), "{layers:?}");

    let first = shared_part(&outs[0])?;
    for out in &outs[1..] {
        assert_same(&shared_part(out)?, &first, "every process prints the same report");
    }
    assert_same(&reference(&f.url)?, &first, "the shared audit reports what one process does");

    let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
    let versions: i64 = client.query_one("SELECT count(*) FROM layerleak_schema", &[])?.get(0);
    assert_eq!(versions, 1, "the schema was migrated once for three processes");

    // A rerun finds nothing to scan and prints the same report.
    let again = finish(spawn_audit(&f.url, &url, &[])?)?;
    assert!(String::from_utf8_lossy(&again.stderr).contains("this process scanned 0 layer(s)"));
    assert_same(&shared_part(&again)?, &first, "a rerun");
    Ok(())
}

#[test]
fn where_finds_every_place_of_a_secret_in_the_shared_and_the_sqlite_cache() -> TestResult {
    let f = fixture()?;
    let url = server()?.database("places")?;
    let out = finish(spawn_audit(&f.url, &url, &[])?)?;
    assert_eq!(code(&out), 1, "{}", common::transcript(&out));
    // The webhook's secret is its path: take its fingerprint from the report.
    let report: Value = serde_json::from_slice(&out.stdout)?;
    let secrets = report["secrets"].as_array().cloned().unwrap_or_default();
    let slack = secrets
        .iter()
        .find(|s| s["rule"] == "slack-webhook-url")
        .and_then(|s| s["fingerprint"].as_str())
        .ok_or("no webhook in the report")?
        .to_string();
    let scratch = tempfile::tempdir()?;
    let sqlite = scratch.path().join("cache.sqlite");
    let sqlite = sqlite.to_str().ok_or("non-UTF-8 temp dir")?;
    let out = finish(spawn_audit(&f.url, sqlite, &[])?)?;
    assert_eq!(code(&out), 1, "{}", common::transcript(&out));

    let host = f.url.trim_start_matches("http://");
    let all_tags: BTreeSet<String> = (0..20)
        .map(|i| format!("{host}/team/api:t{i:02}"))
        .chain((0..12).map(|i| format!("{host}/team/web:t{i:02}")))
        .chain([format!("{host}/team/web:special")])
        .collect();
    for cache in [url.as_str(), sqlite] {
        let places = |fp: &str| -> TestResult<Vec<Value>> {
            let out = layerleak(&["where", fp, "--cache", cache, "-f", "json"], &f.home, None)?;
            let v: Value = serde_json::from_slice(&out.stdout)
                .map_err(|e| format!("{e}: {}", common::transcript(&out)))?;
            Ok(v["secrets"][0]["places"].as_array().cloned().unwrap_or_default())
        };
        let images = |places: &[Value]| -> BTreeSet<String> {
            places.iter().filter_map(|p| p["image"].as_str().map(str::to_string)).collect()
        };
        let pat = places(&fingerprint(PAT))?;
        assert_eq!(images(&pat), all_tags, "{cache}");
        assert!(pat.iter().all(|p| p["status"] == "present" && p["layer"] == f.base.as_str()), "{pat:?}");
        assert!(pat.iter().all(|p| p["path"] == "etc/app/credentials" && p["platform"] == "linux/amd64"));
        let npm = places(&fingerprint(NPM))?;
        assert_eq!(images(&npm), all_tags);
        assert!(npm.iter().all(|p| p["status"] == "deleted"), "{npm:?}");
        let slack = places(&slack)?;
        assert_eq!(images(&slack), BTreeSet::from([format!("{host}/team/web:special")]));
        assert_eq!(slack[0]["tag"], "special");
        assert_eq!(slack[0]["layer"], f.special.as_str());
        assert!(places(&"0".repeat(64))?.is_empty(), "an unknown fingerprint is nowhere");

        let stdin = format!("{PAT}\n");
        let by_secret =
            layerleak(&["where", "--secret-stdin", "--cache", cache, "-f", "json"], &f.home, Some(&stdin))?;
        assert_eq!(code(&by_secret), 1, "{}", common::transcript(&by_secret));
        let v: Value = serde_json::from_slice(&by_secret.stdout)?;
        assert_eq!(v["secrets"][0]["fingerprint"], fingerprint(PAT));
        assert_eq!(v["secrets"][0]["places"].as_array().map(Vec::len), Some(pat.len()));
        assert!(!String::from_utf8_lossy(&by_secret.stdout).contains(PAT), "the secret is not printed");
    }
    let table = layerleak(&["where", &slack, &"0".repeat(64), "--cache", &url], &f.home, None)?;
    assert_eq!(code(&table), 1, "{}", common::transcript(&table));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains(&format!("{slack}: 1 place(s) in 1 image(s)")), "{text}");
    assert!(
        text.contains("team/web:special") && text.contains("app/.env") && text.contains("present"),
        "{text}"
    );
    assert!(text.contains(&format!("{}: 0 place(s) in 0 image(s)", "0".repeat(64))), "{text}");
    let none = layerleak(&["where", &"0".repeat(64), "--cache", &url], &f.home, None)?;
    assert_eq!(code(&none), 0, "{}", common::transcript(&none));

    // No secret bytes anywhere in the store, in text or in hex (bytea's text form).
    let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
    let mut dump = String::new();
    for table in ["layers", "places", "audit_layers", "layerleak_schema"] {
        for row in client.query(&format!("SELECT t::text FROM {table} t"), &[])? {
            dump.push_str(row.get::<_, &str>(0));
        }
    }
    assert!(dump.contains(&fingerprint(PAT)) && dump.len() > 10_000, "the dump holds the store");
    for secret in [PAT, NPM, SLACK] {
        let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
        assert!(!dump.contains(secret) && !dump.contains(&hex), "a secret is stored");
    }
    Ok(())
}

/// A proxy to `target` that answers every request on its own upstream connection, and holds
/// (never answers) the first `GET` whose path contains `stall`.
fn stalling_proxy(target: u16, stall: &str, delay: Duration) -> TestResult<(u16, Arc<AtomicUsize>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let stalled = Arc::new(AtomicUsize::new(0));
    let seen = stalled.clone();
    let stall = stall.to_string();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let (stall, seen) = (stall.clone(), seen.clone());
            std::thread::spawn(move || {
                let _ = relay(client, target, &stall, &seen, delay);
            });
        }
    });
    Ok((port, stalled))
}

fn relay(
    client: TcpStream,
    target: u16,
    stall: &str,
    seen: &AtomicUsize,
    delay: Duration,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            if line.to_ascii_lowercase().starts_with("connection:") {
                continue;
            }
            let end = line == "\r\n";
            if end {
                head.extend_from_slice(b"Connection: close\r\n");
            }
            head.extend_from_slice(line.as_bytes());
            if end {
                break;
            }
        }
        let first = String::from_utf8_lossy(&head).lines().next().unwrap_or_default().to_string();
        if first.starts_with("GET ") && first.contains(stall) && seen.fetch_add(1, Ordering::SeqCst) == 0 {
            std::thread::sleep(Duration::from_secs(3600));
        }
        std::thread::sleep(delay);
        let mut upstream = TcpStream::connect(("127.0.0.1", target))?;
        upstream.write_all(&head)?;
        let mut answer = Vec::new();
        upstream.read_to_end(&mut answer)?;
        let mut c = client.try_clone()?;
        c.write_all(&answer)?;
    }
}

/// Polls until `check` holds (60 s at most).
fn wait_for(what: &str, mut check: impl FnMut() -> TestResult<bool>) -> TestResult {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check()? {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

#[test]
fn a_killed_process_loses_nothing_its_lease_expires_and_another_redoes_the_layer() -> TestResult {
    let f = fixture()?;
    let registry: u16 = f.url.rsplit(':').next().ok_or("no port")?.parse()?;
    let special = f.special.trim_start_matches("sha256:").to_string();
    let (proxy, stalled) = stalling_proxy(registry, &special, Duration::ZERO)?;
    let through = format!("http://127.0.0.1:{proxy}");
    let url = server()?.database("killed")?;

    let mut doomed = spawn_audit(&through, &url, &["--lease", "2s"])?;
    wait_for("the first process to hang on a layer it holds", || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
        // The table appears with the first process's migration.
        let held = client
            .query(
                "SELECT 1 FROM audit_layers WHERE layer = $1 AND owner IS NOT NULL AND NOT done",
                &[&f.special],
            )
            .is_ok_and(|rows| !rows.is_empty());
        Ok(stalled.load(Ordering::SeqCst) > 0 && held)
    })?;
    doomed.kill()?;
    doomed.wait()?;

    let started = Instant::now();
    let out = finish(spawn_audit(&through, &url, &["--lease", "2s"])?)?;
    assert_eq!(code(&out), 1, "{}", common::transcript(&out));
    // The held layer waited for the lease (2 s, renewed every 0.67 s until the kill) to expire.
    assert!(started.elapsed() >= Duration::from_secs(1), "{:?}", started.elapsed());
    let layers = scans(&url)?;
    assert_eq!(layers.len() as i64, LAYERS);
    assert!(layers.iter().all(|(_, n, done)| *n == 1 && *done), "nothing lost or doubled: {layers:?}");
    assert_same(&shared_part(&out)?, &reference(&through)?, "after a kill");
    Ok(())
}

#[test]
fn a_database_stopped_mid_audit_is_a_clear_error_and_the_same_command_resumes() -> TestResult {
    let f = fixture()?;
    let registry: u16 = f.url.rsplit(':').next().ok_or("no port")?.parse()?;
    // Each request a little slow, so the audit is still running when the server stops.
    let (proxy, _) = stalling_proxy(registry, "never-requested", Duration::from_millis(50))?;
    let through = format!("http://127.0.0.1:{proxy}");
    let server = PgServer::create()?;
    let stopper = scopeguard(&server);
    let url = server.database("resume")?;

    let run = spawn_audit(&through, &url, &[])?;
    wait_for("some layers done", || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
        let done = client.query_one("SELECT count(*) FROM audit_layers WHERE done", &[]);
        Ok(done.is_ok_and(|row| row.get::<_, i64>(0) > 0))
    })?;
    server.stop()?;
    let out = finish(run)?;
    assert_eq!(code(&out), 2, "{}", common::transcript(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("run the same command again to resume it")
            && err.contains("postgres://layerleak@127.0.0.1"),
        "{err}"
    );

    server.start()?;
    let before = scans(&url)?.iter().filter(|l| l.2).count();
    let out = finish(spawn_audit(&through, &url, &[])?)?;
    assert_eq!(code(&out), 1, "{}", common::transcript(&out));
    let rescanned = scanned_here(&out)?;
    assert!(
        rescanned <= LAYERS as usize - before,
        "the rerun resumed: {rescanned} scanned after {before} done"
    );
    assert!(scans(&url)?.iter().all(|l| l.2));
    assert_same(&shared_part(&out)?, &reference(&through)?, "after a restart");
    drop(stopper);
    Ok(())
}

/// Stops and removes a test's own server when the test ends, however it ends.
fn scopeguard(server: &PgServer) -> impl Drop + '_ {
    struct Guard<'a>(&'a PgServer);
    impl Drop for Guard<'_> {
        fn drop(&mut self) {
            let _ = self
                .0
                .tool("pg_ctl")
                .args(["-m", "immediate", "-D"])
                .arg(self.0.dir.join("data"))
                .arg("stop")
                .output();
            let _ = std::fs::remove_dir_all(&self.0.dir);
        }
    }
    Guard(server)
}

#[test]
fn a_newer_schema_an_unknown_user_and_a_closed_port_are_clear_errors() -> TestResult {
    let f = fixture()?;
    let server = server()?;
    let url = server.database("newer")?;
    let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
    client.batch_execute(
        "CREATE TABLE layerleak_schema (version integer NOT NULL); INSERT INTO layerleak_schema VALUES (99)",
    )?;
    let out = layerleak(&["audit", &f.url, "--cache", &url], &f.home, None)?;
    assert_eq!(code(&out), 2, "{}", common::transcript(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("schema version 99") && err.contains("upgrade layerleak"), "{err}");

    let stranger = format!("postgres://stranger:hunter2@127.0.0.1:{}/newer", server.port);
    let out = layerleak(&["where", &"0".repeat(64), "--cache", &stranger], &f.home, None)?;
    assert_eq!(code(&out), 2, "{}", common::transcript(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stranger") && err.contains("does not exist") && !err.contains("hunter2"), "{err}");

    let closed = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let out = layerleak(
        &["audit", &f.url, "--cache", &format!("postgres://x@127.0.0.1:{closed}/db")],
        &f.home,
        None,
    )?;
    assert_eq!(code(&out), 2, "{}", common::transcript(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("connecting to the cache") && err.contains(&closed.to_string()), "{err}");
    Ok(())
}
