//! The `zonal` binary: command line, config, logging, start, wait for shutdown.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;
use zonal::auth::{SharedZones, Zone, ZoneSet};
use zonal::config::{Config, Overrides, ZoneOrigin};
use zonal::metrics::{unix_now, Metrics};
use zonal::net::{Listeners, TcpLimits};
use zonal::ops::exporter::Exporter;
use zonal::ops::reload::Reloader;
use zonal::recursive::Resolver;
use zonal::server::chaos::{ChaosText, Identity};
use zonal::server::{ClientAcl, Server, ServerOptions};
use zonal::transfer::catalog::{Catalog, CatalogProducer};
use zonal::transfer::notifier::Notifier;
use zonal::transfer::secondary::Secondaries;
use zonal::update::updater::Updater;
use zonal::wire::name::to_presentation;
use zonal::zonefile::{builtin_zones, load_zone, origin_from_text, LoadError};

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
        None => match run(&overrides) {
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

/// Starts the server and waits for SIGINT or SIGTERM. Errors are one line for the user.
fn run(overrides: &Overrides) -> Result<(), String> {
    let config = Config::load(overrides).map_err(|e| e.to_string())?;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.log))
        .map_err(|e| format!("config: log: {e}"))?;
    // Colour only for a person at a terminal: logs collected from a pipe, a file or
    // journald carry no escape codes.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if config.log_json {
        logs.json().init();
    } else {
        logs.init();
    }

    // Sockets first: a port in use is reported before any time goes into loading zones.
    let listeners = Listeners::bind(&config.listen, config.workers).map_err(|e| e.to_string())?;
    let metrics_listener = match config.metrics_listen {
        Some(addr) => Some(
            std::net::TcpListener::bind(addr)
                .and_then(|l| l.set_nonblocking(true).map(|()| l))
                .map_err(|e| format!("metrics: cannot listen on {addr}: {e}"))?,
        ),
        None => None,
    };
    let metrics = Arc::new(Metrics::default());
    let zones = load_zones(&config.zones, &metrics);
    // The zone set the server reads and the handlers replace: filled once the
    // zones are restored, below.
    let shared_zones = Arc::new(SharedZones::from_pointee(ZoneSet::default()));
    // Dynamic zones: the journal of each (and its saved copy) brought in before serving.
    let notifier = Arc::new(
        Notifier::new(
            config.notify.clone(),
            config.listen.iter().map(|a| a.ip()).collect(),
        )
        .with_zone_ns(config.notify_ns.then_some(53)),
    );
    let updater = Arc::new(
        Updater::new(config.update.clone(), shared_zones.clone()).with_notifier(notifier.clone()),
    );
    // Our own catalog, made again as zones come and go.
    let catalog = Arc::new(Catalog::new(
        config.catalog.as_deref().map(CatalogProducer::new),
        shared_zones.clone(),
        notifier.clone(),
    ));
    let mut zones = updater.restore(zones);
    // Secondary zones: the copies kept in the state folder, served at once.
    let secondaries = Arc::new(
        Secondaries::new(
            config.secondaries.clone(),
            config.update.state_dir.clone(),
            config.update.journal_keep,
            shared_zones.clone(),
            metrics.clone(),
        )
        .with_notifier(notifier.clone())
        .with_catalog_producer(catalog.clone()),
    );
    // Members of consumed catalogs too, from the catalog's copy and their own.
    for zone in secondaries.restore(&zones) {
        metrics.zone_loaded(&zone.origin, unix_now());
        zones.push(zone);
    }
    let zone_count = zones.len();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.workers.clamp(1, 4))
        .thread_name("zonal-tcp")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let options = ServerOptions {
        udp_max_payload: config.udp_max_payload,
        identity: Identity {
            version: ChaosText::new(&config.version),
            identity: ChaosText::new(&config.identity),
        },
        query_log: config.query_log,
    };
    shared_zones.store(Arc::new(ZoneSet::new(zones.into_iter().map(Arc::new))));
    let mut server = Server::with_zones(shared_zones.clone(), options);
    server.metrics = metrics;
    server.slow.transfers = config.transfers.clone();
    server.slow.journal_dir = Some(config.update.state_dir.clone());
    // UPDATE (refused for secondary zones), NOTIFY from the primaries, signed
    // queries answered by the server with the keys.
    server.slow.update = Some(updater.clone());
    if !secondaries.is_empty() {
        server.slow.notify = Some(secondaries.clone());
    }
    server.slow.keys = config.update.keys.clone();
    let mut resolver_for_metrics = None;
    if let Some(resolver_config) = &config.resolver {
        let resolver = Arc::new(
            Resolver::new(
                resolver_config.hints.clone(),
                resolver_config.settings.clone(),
            )
            .with_zones(shared_zones.clone(), config.udp_max_payload),
        );
        server.slow.recursive = Some(resolver.clone());
        server.slow.cached = Some(resolver.clone());
        resolver_for_metrics = Some(resolver.clone());
        resolver.start_prefetch(runtime.handle());
        tracing::info!(
            root_servers = resolver_config.hints.servers.len(),
            cache_mib = resolver_config.settings.cache_bytes >> 20,
            "resolver on for the allowed clients"
        );
        server.slow.recursion_clients = resolver_config.allow.clone();
        runtime.spawn(async move {
            match resolver.prime().await {
                Ok(count) => tracing::info!(root_servers = count, "resolver primed"),
                Err(e) => tracing::warn!(error = %e, "resolver priming failed: starting from the root hints"),
            }
        });
    } else {
        server.slow.recursion_clients = ClientAcl::default();
    }
    let server = Arc::new(server);
    let limits = TcpLimits {
        idle_timeout: config.tcp_idle_timeout,
        max_connections: config.tcp_max_connections,
    };
    listeners
        .serve(runtime.handle(), server.clone(), limits)
        .map_err(|e| format!("cannot start workers: {e}"))?;
    runtime.spawn(updater.clone().save_periodically());
    runtime.spawn(updater.clone().refresh_signatures());
    {
        let _entered = runtime.enter();
        catalog.refresh();
    }
    // RFC 1996: secondaries are told at start too (they may have missed changes).
    if !notifier.is_empty() {
        let zones = server.zones.load_full();
        let _entered = runtime.enter();
        for zone in zones.zones() {
            notifier.notify(zone);
        }
    }
    secondaries.start(runtime.handle());
    if let Some(listener) = metrics_listener {
        let state_dir = Some(config.update.state_dir.clone());
        let exporter = Arc::new(Exporter::new(
            server.clone(),
            resolver_for_metrics,
            state_dir,
        ));
        let _entered = runtime.enter();
        let listener =
            tokio::net::TcpListener::from_std(listener).map_err(|e| format!("metrics: {e}"))?;
        runtime.spawn(zonal::ops::http::serve(listener, exporter));
    }
    if let ZoneOrigin::Files(sources) = &config.zones {
        let reloader = Arc::new(Reloader::new(
            server.clone(),
            updater.clone(),
            catalog.clone(),
            overrides.clone(),
            sources,
        ));
        if let Err(e) = reloader.watch(runtime.handle(), sources, config.zone_dir.as_deref()) {
            tracing::warn!(error = %e, "zone files are not watched: reload with SIGHUP");
        }
        runtime.spawn(reload_on_sighup(reloader));
    }
    server.metrics.set_ready();
    let addrs: Vec<String> = config.listen.iter().map(ToString::to_string).collect();
    let metrics_at = config
        .metrics_listen
        .map_or_else(|| "off".to_owned(), |a| a.to_string());
    let recursion = if config.resolver.is_some() {
        "on for the allowed clients"
    } else {
        "off"
    };
    tracing::info!(zones = zone_count, listen = %addrs.join(" "), workers = config.workers,
        metrics = %metrics_at, recursion, "zonal ready");

    runtime.block_on(shutdown_signal());
    tracing::info!("shutting down: answering what is in flight");
    // TCP stops accepting; open connections answer what their clients sent and
    // close; requests on a slow path (resolution, updates) get their replies — all
    // within bounds.
    server.stopping.send_replace(true);
    runtime.block_on(async {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
        while server
            .metrics
            .tcp_open
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        server.slow.drain(std::time::Duration::from_secs(5)).await;
    });
    // Every acknowledged update is in a journal already; saving the changed zones
    // now makes the next start quick.
    runtime.block_on(updater.save_changed());
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    Ok(())
}

/// Runs a reload pass over every zone at each SIGHUP.
async fn reload_on_sighup(reloader: Arc<Reloader>) {
    #[cfg(unix)]
    {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            return;
        };
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP: re-reading the config's zones and every zone file");
            reloader.reload(true).await;
        }
    }
}

/// Loads every zone; one that fails is logged with its file:line and left out.
fn load_zones(origin: &ZoneOrigin, metrics: &Metrics) -> Vec<Zone> {
    match origin {
        ZoneOrigin::BuiltIn => builtin_zones().unwrap_or_else(|e| {
            tracing::error!(error = %e, "built-in zone failed to load");
            Vec::new()
        }),
        ZoneOrigin::Files(sources) => sources
            .iter()
            .filter_map(|source| {
                let started = std::time::Instant::now();
                match load_zone(&source.origin, &source.file) {
                    Ok(zone) => {
                        metrics.zone_loaded(&zone.origin, unix_now());
                        for warning in zone.warnings.iter() {
                            tracing::warn!(zone = %to_presentation(&zone.origin), "{warning}");
                        }
                        tracing::info!(
                            zone = %to_presentation(&zone.origin),
                            serial = zone.serial(),
                            records = zone.record_count,
                            ms = started.elapsed().as_millis() as u64,
                            "zone loaded"
                        );
                        Some(zone)
                    }
                    Err(e) => {
                        metrics.zone_failed(&source.origin);
                        tracing::error!(zone = %to_presentation(&source.origin), error = %e, "zone not loaded");
                        None
                    }
                }
            })
            .collect(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
