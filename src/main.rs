//! The `zonal` binary: the command line, `check-zone` and `check-config`; serving
//! is [`zonal::app::run`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use zonal::config::{Config, Overrides, ZoneOrigin};
use zonal::wire::name::to_presentation;
use zonal::zonefile::{load_zone, origin_from_text, LoadError};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// zonal: a high-performance authoritative DNS server.
///
/// With no arguments it serves the example zones of zones/ on 127.0.0.1:5353.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// TOML config file (see the README for every key).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to serve on, UDP and TCP; repeat for more (default 127.0.0.1:5353).
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Vec<String>,
    /// Folder of zone files: NAME.zone is zone NAME., root.zone is the root.
    #[arg(long, value_name = "DIR")]
    zone_dir: Option<PathBuf>,
    /// UDP worker threads per address (default: one per core).
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// A TSIG key file as tsig-keygen writes it; repeat for more.
    #[arg(long = "tsig-key", value_name = "FILE")]
    tsig_keys: Vec<PathBuf>,
    /// Let this key update every zone; repeat for more keys.
    #[arg(long, value_name = "KEY")]
    allow_update: Vec<String>,
    /// Folder for journals and saved zones of dynamic zones (default ./zonal-state).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Client network that may recurse (CIDR); repeat for more (default: loopback only).
    #[arg(long, value_name = "CIDR")]
    recursion_allow: Vec<String>,
    /// Answer for our zones only: no resolver.
    #[arg(long)]
    no_recursion: bool,
    /// Root hints in named.root format (default: the IANA hints built in).
    #[arg(long, value_name = "FILE")]
    root_hints: Option<PathBuf>,
    /// Serve /metrics (Prometheus), /healthz and /readyz over HTTP here.
    #[arg(long, value_name = "ADDR:PORT")]
    metrics: Option<String>,
    /// Client network that may transfer our zones (AXFR, IXFR); repeat for more.
    #[arg(long, value_name = "CIDR")]
    allow_transfer: Vec<String>,
    /// Folder of private DNSSEC keys (dnssec-keygen's files): updates to signed zones are signed online.
    #[arg(long, value_name = "DIR")]
    key_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate the config (and flags) and load every zone without serving; exit non-zero on any error.
    CheckConfig,
    /// Load one zone file with all load-time checks, print a summary, exit non-zero on error.
    CheckZone {
        /// The zone's origin, e.g. example.com (`.` for the root).
        origin: String,
        /// The zone file.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let overrides = Overrides {
        config: cli.config,
        listen: cli.listen,
        zone_dir: cli.zone_dir,
        workers: cli.workers,
        tsig_keys: cli.tsig_keys,
        allow_update: cli.allow_update,
        state_dir: cli.state_dir,
        recursion_allow: cli.recursion_allow,
        no_recursion: cli.no_recursion,
        root_hints: cli.root_hints,
        metrics: cli.metrics,
        allow_transfer: cli.allow_transfer,
        key_dir: cli.key_dir,
    };
    match cli.command {
        Some(Command::CheckZone { origin, file }) => check_zone(&origin, &file),
        Some(Command::CheckConfig) => check_config(&overrides),
        None => match zonal::app::run(&overrides) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("zonal: {message}");
                ExitCode::FAILURE
            }
        },
    }
}

/// `zonal check-zone ORIGIN FILE`.
fn check_zone(origin: &str, file: &std::path::Path) -> ExitCode {
    let loaded = origin_from_text(origin, file)
        .map_err(LoadError::from)
        .and_then(|origin| load_zone(&origin, file));
    match loaded {
        Ok(zone) => {
            for warning in zone.warnings.iter() {
                eprintln!("warning: {warning}");
            }
            eprintln!(
                "zone {}: loaded serial {}, {} records, {} names\nOK",
                to_presentation(&zone.origin),
                zone.serial(),
                zone.record_count,
                zone.node_count()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("zonal: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `zonal check-config`: the config is valid and every zone loads.
fn check_config(overrides: &Overrides) -> ExitCode {
    let config = match Config::load(overrides) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("zonal: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ZoneOrigin::Files(sources) = &config.zones else {
        eprintln!("config OK: built-in example zones\nOK");
        return ExitCode::SUCCESS;
    };
    let mut failed = 0usize;
    for source in sources {
        if let Err(e) = load_zone(&source.origin, &source.file) {
            eprintln!("zonal: {e}");
            failed += 1;
        }
    }
    if failed > 0 {
        eprintln!("{failed} of {} zones failed to load", sources.len());
        return ExitCode::FAILURE;
    }
    eprintln!(
        "config OK: {} listen addresses, {} zones\nOK",
        config.listen.len(),
        sources.len()
    );
    ExitCode::SUCCESS
}
