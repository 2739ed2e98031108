//! The running server, put together: config → logging → sockets → zones (restored
//! from their state) → handlers (updater, secondaries, resolver, catalog) over one
//! shared zone set → the server and its workers → background tasks (saving,
//! signature refresh, NOTIFY, transfers in, reloads, metrics) → a clean stop on
//! SIGTERM/SIGINT: TCP stops accepting, open connections and slow paths finish
//! (each waited for until done, within bounds), changed zones are saved.

use std::sync::Arc;

use tracing_subscriber::EnvFilter;

use crate::auth::{SharedZones, Zone, ZoneSet};
use crate::config::{Config, Overrides, ZoneOrigin};
use crate::metrics::{unix_now, Metrics};
use crate::net::{Listeners, TcpLimits};
use crate::ops::exporter::Exporter;
use crate::ops::reload::Reloader;
use crate::recursive::Resolver;
use crate::server::chaos::{ChaosText, Identity};
use crate::server::{ClientAcl, Server, ServerOptions};
use crate::transfer::catalog::{Catalog, CatalogProducer};
use crate::transfer::notifier::Notifier;
use crate::transfer::secondary::Secondaries;
use crate::update::updater::Updater;
use crate::wire::name::to_presentation;
use crate::zonefile::{builtin_zones, load_zone};

/// Starts the server and waits for SIGINT or SIGTERM. Errors are one line for the user.
pub fn run(overrides: &Overrides) -> Result<(), String> {
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
    // Root is needed no more: before any zone, journal or state file is read or
    // made, become the configured user.
    if let Some((user, group)) = &config.run_as {
        let run_as =
            crate::ops::privileges::resolve(user, group.as_deref()).map_err(|e| e.to_string())?;
        crate::ops::privileges::drop_to(&run_as).map_err(|e| e.to_string())?;
        tracing::info!(user = %run_as.user, uid = run_as.uid, gid = run_as.gid, "running as an unprivileged user");
    }
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
        .with_zone_ns(config.notify_ns.then_some(53))
        .with_delay(config.notify_delay),
    );
    // Our own catalog, made again as zones come and go.
    let catalog = Arc::new(Catalog::new(
        config.catalog.as_deref().map(CatalogProducer::new),
        shared_zones.clone(),
        notifier.clone(),
    ));
    // Secondary zones: the copies kept in the state folder, served at once (below).
    let secondaries = Arc::new(
        Secondaries::new(
            config.secondaries.clone(),
            config.update.state_dir.clone(),
            config.update.journal,
            shared_zones.clone(),
            metrics.clone(),
        )
        .with_notifier(notifier.clone())
        .with_catalog_producer(catalog.clone()),
    );
    // UPDATEs to secondary zones are refused, also before their first copy comes.
    let is_secondary = {
        let secondaries = secondaries.clone();
        Arc::new(move |origin: &[u8]| secondaries.is_secondary(origin))
    };
    let updater = Arc::new(
        Updater::new(config.update.clone(), shared_zones.clone())
            .with_notifier(notifier.clone())
            .with_secondary_zones(is_secondary),
    );
    let mut zones = updater.restore(zones);
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
            nsid: config.nsid,
        },
        query_log: config.query_log,
        cookies: config.cookies,
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
            .with_zones(shared_zones.clone(), config.udp_max_payload)
            .with_nsid(config.nsid)
            .with_server_cookies(config.cookies.map(|c| c.secrets)),
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
    if let Some(settings) = &config.rrl {
        let limiter = crate::server::rrl::ResponseRateLimiter::new(settings.clone());
        tracing::info!(
            responses_per_second = settings.rates[0],
            slip = settings.slip,
            window_secs = settings.window_secs,
            accounts = limiter.accounts(),
            log_only = settings.log_only,
            "response rate limiting on for UDP"
        );
        server.rrl = Some(limiter);
    }
    let server = Arc::new(server);
    let limits = TcpLimits {
        idle_timeout: config.tcp_idle_timeout,
        max_connections: crate::net::descriptors::connection_cap(config.tcp_max_connections),
        max_connections_per_client: config.tcp_max_connections_per_client,
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
        runtime.spawn(crate::ops::http::serve(listener, exporter));
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
        server.tcp_closed(std::time::Duration::from_secs(2)).await;
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
