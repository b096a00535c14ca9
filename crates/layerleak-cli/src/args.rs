//! Command-line arguments.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use layerleak::detect::Severity;
use layerleak::image::Platform;
use layerleak::Limits;

/// The exit statuses and the redaction promise, closing the help of `layerleak`, `scan` and
/// `audit` (a macro so that `concat!` can put examples before it).
macro_rules! exit_status {
    () => {
        "\
Exit status:
  0  nothing matching --fail-on was found
  1  findings matching --fail-on (default: any finding); --exit-code N makes it N
  2  something could not be read; findings from the readable parts are still printed.
     Also a bad rules or baseline file, and usage errors (an unknown flag or a bad value),
     which print `error:` and a usage line instead of `layerleak: error:`.
  3  nothing was scanned: no rule loaded, no image matched --platform, or no input or layer
     could be read at all
When several apply, 3 wins over 2 and 2 over findings: an image with findings and unreadable
parts exits 2, since the scan is incomplete.

Secrets are redacted in every output unless --show-secrets is given. Every finding carries a
fingerprint: the lowercase hex SHA-256 of the exact secret bytes. The table fits the terminal's
width (COLUMNS when set); piped or written to a file, its lines are whole."
    };
}

const AFTER_HELP: &str = exit_status!();

const SCAN_HELP: &str = concat!(
    "\
Examples:
  layerleak scan app.tar                               a `docker save` archive
  docker save app:1 | layerleak scan -                 the same from stdin
  layerleak scan alpine:3.20 --platform linux/arm64    one platform of a registry image
  layerleak scan app.tar -f sarif -o layerleak.sarif   a report for code scanning
  layerleak scan app.tar --fail-on present,high        fail only on visible high or critical
  layerleak scan app.tar --baseline old.json --show-suppressed

",
    exit_status!()
);

/// The examples and the report's shape, shared by `audit`'s short and long help.
macro_rules! audit_examples {
    () => {
        "\
Examples:
  layerleak audit registry.internal:5000 --repo 'team/*' --tags latest -f json -o audit.json
  layerleak audit http://127.0.0.1:5000 --cache none
  layerleak audit registry.internal:5000 --by-repository   counts per repository too
  layerleak audit registry.internal:5000 -f json --group-by image   per image (schema 1)
  layerleak audit registry.internal:5000 --cache postgres://audit@db/layerleak   on many machines

The report is by distinct secret: one entry per secret with every place it occurs, secrets
that one shared layer introduces grouped under it, the largest blast radius first."
    };
}

const AUDIT_HELP: &str = concat!(audit_examples!(), "\n\n", exit_status!());

const LAYERS_HELP: &str = "\
Examples:
  layerleak layers app.tar
  layerleak layers app.tar -f json -o layers.json";

const RULES_CHECK_HELP: &str = "\
Examples:
  layerleak rules check my-rules.toml              exit 2 naming the file, rule and problem
  layerleak rules check --lenient gitleaks.toml    the same problems as warnings, exit 0
  layerleak rules check --strict my-rules.toml     a rule layerleak cannot express fails too";

const RULES_HELP: &str = "\
Examples:
  layerleak rules                      every built-in rule, then the count per category
  layerleak rules -f json              the same for machines
  layerleak rules check my-rules.toml  exit 0 when valid, 2 naming the rule and the problem
  layerleak rules show github-pat      one rule in full";

/// Find secrets in container images, including the ones a later layer deleted.
#[derive(Debug, Parser)]
#[command(name = "layerleak", version, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan images for secrets: docker-save archives, OCI layout directories, layer tarballs,
    /// `-` for an archive on stdin, or registry references (`alpine:3.20`, `host/repo@sha256:…`).
    /// An existing path is always read as a path.
    #[command(after_help = SCAN_HELP)]
    Scan(ScanArgs),
    /// The forensic timeline: one row per layer with files added, overwritten and deleted,
    /// secrets introduced and hidden, and bytes wasted.
    #[command(after_help = LAYERS_HELP)]
    Layers(LayersArgs),
    /// List the built-in rules, or check a rules file.
    #[command(after_help = RULES_HELP)]
    Rules(RulesArgs),
    /// Scan every image of a registry, each distinct layer once, with a per-layer result cache.
    #[command(after_help = AUDIT_HELP)]
    Audit(crate::audit::AuditArgs),
    /// Where secrets occur, from what audits and scans recorded in a cache: every image, tag,
    /// platform, layer, path and status of each fingerprint.
    Where(crate::places::WhereArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: still-present findings first, then hidden ones, then a summary.
    Table,
    /// One versioned JSON report (`"schema": 1`).
    Json,
    /// One JSON finding per line as found, then a summary line.
    Jsonl,
    /// SARIF 2.1.0.
    Sarif,
    /// One self-contained HTML page (no external loads): per image a layer timeline with each
    /// secret's life drawn across it, the findings table and a per-layer chart.
    Html,
}

/// How a report of several images is organised (`--group-by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GroupBy {
    /// One entry per distinct secret (rule and fingerprint) with every place it occurs.
    Secret,
    /// Image by image, each with its own findings (JSON `"schema": 1`).
    Image,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Exit 1 only for secrets still visible in the final filesystem or config.
    Present,
    /// Exit 1 for any finding, hidden ones included.
    Any,
    /// Never exit 1 for findings.
    None,
    /// Only for critical findings.
    Critical,
    /// Only for high or critical findings.
    High,
    /// Only for medium, high or critical findings.
    Medium,
    /// For findings of every severity.
    Low,
}

impl FailOn {
    fn severity(self) -> Option<Severity> {
        match self {
            FailOn::Critical => Some(Severity::Critical),
            FailOn::High => Some(Severity::High),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::Low => Some(Severity::Low),
            FailOn::Present | FailOn::Any | FailOn::None => None,
        }
    }
}

/// Which findings fail a scan, from `--fail-on`.
#[derive(Debug, Clone, Copy)]
pub struct Gate {
    never: bool,
    present_only: bool,
    /// The least severe severity that fails (severities order most severe first).
    min: Option<Severity>,
}

impl Gate {
    /// Whether `f` makes the exit status the findings status.
    pub fn fails(&self, f: &layerleak::report::Finding) -> bool {
        self.fails_on(f.visible, f.severity)
    }

    /// Whether a secret visible or not, of `severity`, makes the exit status the findings status.
    pub fn fails_on(&self, visible: bool, severity: Severity) -> bool {
        !self.never && (!self.present_only || visible) && self.min.is_none_or(|m| severity <= m)
    }
}

/// When the table and `layers` use colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set; also when piped if `CLICOLOR_FORCE` is set.
    Auto,
    /// Always, even piped or written to a file.
    Always,
    /// Never.
    Never,
}

/// A severity, for `--severity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Level {
    /// Full control of an account or infrastructure.
    Critical,
    /// A working credential.
    High,
    /// Limited scope or likely short-lived.
    Medium,
    /// Weak signal.
    Low,
}

impl Level {
    fn severity(self) -> Severity {
        match self {
            Level::Critical => Severity::Critical,
            Level::High => Severity::High,
            Level::Medium => Severity::Medium,
            Level::Low => Severity::Low,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ScanArgs {
    /// Images: docker-save archive, OCI layout directory, layer tarball, `-` for stdin, or a
    /// registry reference.
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
    /// Per-layer result cache, as for `audit`: a SQLite file or a `postgres://` URL; it also
    /// records where each secret was seen, for `layerleak where`. Default: none.
    #[arg(long, value_name = "PATH|URL")]
    pub cache: Option<String>,
    #[command(flatten)]
    pub opts: ScanOpts,
}

/// What `scan` and `audit` share: output, registry access, rules and detection, resources.
#[derive(Debug, Clone, Args)]
pub struct ScanOpts {
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Colours in the table.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Print secrets in full instead of redacted.
    #[arg(long)]
    pub show_secrets: bool,
    /// Only these platforms of multi-platform images (e.g. linux/arm64, linux/arm/v7); repeatable.
    #[arg(long = "platform", value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Vec<String>,
    /// Extra rules: layerleak or gitleaks TOML, kingfisher or Nosey Parker YAML packs (.yml,
    /// .yaml), or a directory of them; repeatable. A rule with a built-in id replaces it; a rule
    /// whose regex layerleak cannot express is left out with a warning.
    #[arg(long, value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Use only the rules given with --rules.
    #[arg(long)]
    pub no_builtin_rules: bool,
    /// Raise the entropy floor (bits per byte) of generic rules.
    #[arg(long, value_name = "BITS")]
    pub min_entropy: Option<f64>,
    /// Keep findings that offline validation proves invalid (e.g. a bad token checksum).
    #[arg(long)]
    pub include_invalid: bool,
    /// Also list packaged findings: those in files exactly as the image's package databases (dpkg,
    /// apk, Python RECORD) record them, such as a library's test keys. They never fail --fail-on.
    #[arg(long)]
    pub include_packaged: bool,
    /// Table output: one line per finding (severity, rule, place, status, layers, secret,
    /// fingerprint prefix) instead of a block.
    #[arg(long)]
    pub compact: bool,
    /// `secret`: one entry per distinct secret with every place it occurs (the default of
    /// `audit`, and of the table of several images); `image`: each image with its own findings.
    #[arg(long, value_enum, value_name = "secret|image")]
    pub group_by: Option<GroupBy>,
    /// By secret: every place of each secret in the table, not the first few.
    #[arg(long)]
    pub all_places: bool,
    /// By secret: counts per repository in the table (images, tags, secrets, places).
    #[arg(long)]
    pub by_repository: bool,
    /// Do not check findings against the image's package databases (no finding is packaged).
    #[arg(long, conflicts_with = "include_packaged")]
    pub no_package_triage: bool,
    #[command(flatten)]
    pub suppress: SuppressArgs,
    /// Which findings make the exit status 1: `any`, `present` or `none`, a minimum severity,
    /// or both comma-separated (`--fail-on present,high`).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "any", value_name = "WHICH")]
    pub fail_on: Vec<FailOn>,
    /// Report only findings of these severities, comma-separated (`--severity critical,high`).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "LEVELS")]
    pub severity: Vec<Level>,
    /// Exit status for findings matching --fail-on (0 to report without failing).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub exit_code: u8,
    /// Worker threads and parallel downloads (0: one per core).
    #[arg(long, short, default_value_t = 0, value_name = "N")]
    pub jobs: usize,
    /// Scan only the first SIZE bytes of each file, e.g. 256M (default: every byte); what is
    /// skipped is listed as a note.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,
    /// Depth of archives inside archives to open (default 3); 0 opens none and scans archive
    /// files as plain bytes.
    #[arg(long, value_name = "N")]
    pub max_depth: Option<usize>,
    /// Print nothing on stderr but fatal errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// No progress bar (it is shown only when stderr is a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
}

impl ScanOpts {
    pub fn limits(&self) -> Limits {
        let mut l = Limits::default();
        if let Some(n) = self.max_file_size {
            l.max_file_bytes = n;
        }
        if let Some(d) = self.max_depth {
            l.max_nesting_depth = d;
        }
        l
    }

    /// The `--fail-on` gate; at most one of `any`, `present`, `none` and one severity, and no
    /// severity with `none`.
    pub fn gate(&self) -> Result<Gate> {
        let scopes: Vec<FailOn> = self.fail_on.iter().copied().filter(|f| f.severity().is_none()).collect();
        let levels: Vec<Severity> = self.fail_on.iter().filter_map(|f| f.severity()).collect();
        if scopes.len() > 1 || levels.len() > 1 || (scopes == [FailOn::None] && !levels.is_empty()) {
            let given: Vec<String> = self.fail_on.iter().map(|f| format!("{f:?}").to_lowercase()).collect();
            bail!(
                "--fail-on {}: give at most one of any, present and none, and at most one severity \
                 (not with none), e.g. --fail-on present,high",
                given.join(",")
            );
        }
        Ok(Gate {
            never: scopes == [FailOn::None],
            present_only: scopes == [FailOn::Present],
            min: levels.first().copied(),
        })
    }

    /// Whether findings of `severity` are reported (`--severity`).
    pub fn reports(&self, severity: Severity) -> bool {
        self.severity.is_empty() || self.severity.iter().any(|l| l.severity() == severity)
    }

    pub fn show_progress(&self) -> bool {
        !self.quiet && !self.no_progress
    }
}

/// What leaves findings out of the report and the exit status (`scan` and `audit`).
#[derive(Debug, Clone, Default, Args)]
pub struct SuppressArgs {
    /// Leave out findings (same rule and fingerprint) already in this earlier layerleak report
    /// (JSON, JSONL or SARIF).
    #[arg(long, value_name = "REPORT")]
    pub baseline: Option<PathBuf>,
    /// Leave out the findings this file lists (default: `.layerleakignore` in the current
    /// directory, when there is one): one fingerprint per line, or `fingerprint:rule` or
    /// `fingerprint:rule:path`; `#` starts a comment line.
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,
    /// List the findings left out by --baseline or the ignore file, and why.
    #[arg(long)]
    pub show_suppressed: bool,
    /// Report nothing from files at paths matching GLOB inside images (`*` within a path
    /// segment, `**` across segments, `?` one character; a directory covers what is under it,
    /// an archive its members); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub skip_path: Vec<String>,
}

/// How registries are reached.
#[derive(Debug, Clone, Default, Args)]
pub struct RegistryArgs {
    /// Speak plain HTTP to this registry host (`host` or `host:port`); repeatable.
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure_registry: Vec<String>,
    /// Registry user name (else $LAYERLEAK_REGISTRY_USERNAME, else ~/.docker/config.json).
    #[arg(long, value_name = "USER")]
    pub username: Option<String>,
    /// Read the registry password or token from stdin (else $LAYERLEAK_REGISTRY_PASSWORD).
    #[arg(long)]
    pub password_stdin: bool,
}

impl RegistryArgs {
    /// The options, reading the password from stdin when asked (once, first line).
    pub fn options(&self) -> Result<layerleak::image::registry::RegistryOptions> {
        let mut o = layerleak::image::registry::RegistryOptions::default();
        o.insecure = self.insecure_registry.clone();
        o.username = self.username.clone().or_else(|| std::env::var("LAYERLEAK_REGISTRY_USERNAME").ok());
        o.password = if self.password_stdin {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            Some(line.trim_end_matches(['\r', '\n']).to_string())
        } else {
            std::env::var("LAYERLEAK_REGISTRY_PASSWORD").ok()
        };
        if o.username.is_some() != o.password.is_some() {
            bail!("a registry user name needs a password (--password-stdin or $LAYERLEAK_REGISTRY_PASSWORD) and the other way round");
        }
        Ok(o)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayersFormat {
    /// Aligned columns for people.
    Table,
    /// JSON for machines.
    Json,
}

#[derive(Debug, Args)]
pub struct LayersArgs {
    /// Images: docker-save archive, OCI layout directory, layer tarball, or `-` for stdin.
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = LayersFormat::Table)]
    pub format: LayersFormat,
    /// Write to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Colours in the table.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Only these platforms; repeatable.
    #[arg(long = "platform", value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Vec<String>,
    /// Extra rules files or directories (TOML or YAML packs); repeatable.
    #[arg(long, value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Worker threads (0: one per core).
    #[arg(long, short, default_value_t = 0, value_name = "N")]
    pub jobs: usize,
    /// Print nothing on stderr but fatal errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

impl LayersArgs {
    pub fn show_progress(&self) -> bool {
        !self.quiet && !self.no_progress
    }
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub command: Option<RulesCommand>,
    /// Output format of the list and of `rules show`.
    #[arg(long, short, global = true, value_enum, default_value_t = LayersFormat::Table)]
    pub format: LayersFormat,
    /// Print nothing on stderr but fatal errors (`rules check`: not each failing example).
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Check rules files (layerleak or gitleaks TOML, kingfisher or Nosey Parker YAML packs, or
    /// directories of them): exit 0 when valid, 2 naming the file, the rule and the problem when
    /// not. Prints per file the rules loaded (and how many of those had their regexes translated
    /// from RE2 or PCRE syntax), refused and the examples run. Errors: a file that does not load,
    /// unknown keys, a file without rules, a rule none of whose keywords its regex can contain,
    /// failing examples. Warnings: a rule refused because its regex means what layerleak cannot
    /// express (look-around, back-references; it is left out), gitleaks keys layerleak ignores,
    /// one keyword of several the regex cannot contain.
    #[command(after_help = RULES_CHECK_HELP)]
    Check {
        /// The rules files or directories.
        #[arg(required = true, value_name = "PATH")]
        files: Vec<PathBuf>,
        /// Report unknown keys, a file without rules, unreachable keywords and failing examples
        /// as warnings (exit 0); a file that does not load is still an error.
        #[arg(long, conflicts_with = "strict")]
        lenient: bool,
        /// Report every warning as an error, a refused rule first of all.
        #[arg(long)]
        strict: bool,
    },
    /// Print one built-in rule: its metadata, keywords, regex and remediation.
    Show {
        /// The rule id (`layerleak rules` lists them).
        id: String,
    },
}

/// The `--platform` values.
pub fn platforms(platform: &[String]) -> Result<Vec<Platform>> {
    platform
        .iter()
        .map(|p| match Platform::parse(p) {
            Some(p) => Ok(p),
            None => bail!("--platform {p:?}: expected OS/ARCH or OS/ARCH/VARIANT, e.g. linux/arm64"),
        })
        .collect()
}

/// `1234`, `64K`, `256M`, `2G` (binary multiples).
fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return Err(format!("unknown size suffix in {s:?} (use K, M or G)")),
            };
            (&s[..i], m)
        }
        _ => (s, 1),
    };
    let n: u64 = num.parse().map_err(|_| format!("not a size: {s:?}"))?;
    n.checked_mul(mult).ok_or_else(|| format!("size too large: {s:?}"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{parse_size, Cli, Command};

    #[test]
    fn size_and_depth_flags_reach_the_limits() {
        let cli =
            Cli::try_parse_from(["layerleak", "scan", "--max-file-size", "1K", "--max-depth", "1", "x.tar"])
                .expect("valid arguments");
        let Command::Scan(a) = cli.command else { panic!("scan parsed as another command") };
        let l = a.opts.limits();
        assert_eq!(l.max_file_bytes, 1024);
        assert_eq!(l.max_nesting_depth, 1);
    }

    #[test]
    fn audit_takes_the_detection_options_of_scan() {
        let args =
            ["layerleak", "audit", "reg:5000", "--max-depth", "2", "--include-invalid", "--min-entropy", "4"];
        let cli = Cli::try_parse_from(args).expect("valid arguments");
        let Command::Audit(a) = cli.command else { panic!("audit parsed as another command") };
        assert_eq!(a.registry, "reg:5000");
        assert_eq!(a.opts.limits().max_nesting_depth, 2);
        assert!(a.opts.include_invalid);
        assert_eq!(a.opts.min_entropy, Some(4.0));
        let args = [
            "layerleak",
            "audit",
            "reg:5000",
            "--baseline",
            "b.json",
            "--ignore-file",
            "i",
            "--skip-path",
            "a",
        ];
        let Command::Audit(a) = Cli::try_parse_from(args).expect("valid arguments").command else {
            panic!("audit parsed as another command")
        };
        assert!(a.opts.suppress.baseline.is_some() && a.opts.suppress.ignore_file.is_some());
        assert_eq!(a.opts.suppress.skip_path, ["a"]);
    }

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("1234"), Ok(1234));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert!(parse_size("12X").is_err());
        assert!(parse_size("99999999999G").is_err());
    }
}
