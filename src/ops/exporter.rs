//! The Prometheus view of the counters: at each scrape the workers' tallies are
//! summed, the zones, the resolver's cache and counters and the journals are read,
//! and all of it is handed to the prometheus crate's text encoder as metric
//! families (the names are listed in the README).

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use prometheus::core::Collector;
use prometheus::proto::{
    Bucket, Counter, Gauge, Histogram, LabelPair, Metric, MetricFamily, MetricType,
};
use prometheus::{Encoder, TextEncoder};

use crate::journal::state::StatePaths;
use crate::metrics::histogram::{HistogramSnapshot, BOUNDS_SECONDS};
use crate::metrics::tally::{
    TallySum, COOKIE_LABELS, DROP_LABELS, KIND_LABELS, QTYPE_LABELS, RCODE_LABELS,
    RRL_ACTION_LABELS, RRL_CLASS_LABELS, TRANSPORT_LABELS, UPDATE_LABELS,
};
use crate::recursive::Resolver;
use crate::server::Server;
use crate::wire::name::to_presentation;

/// What a scrape reads. See the module doc.
pub struct Exporter {
    server: Arc<Server>,
    resolver: Option<Arc<Resolver>>,
    state_dir: Option<PathBuf>,
    process: prometheus::process_collector::ProcessCollector,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter").finish_non_exhaustive()
    }
}

/// One metric family being built.
struct Family(MetricFamily);

impl Family {
    fn new(name: &str, help: &str, kind: MetricType) -> Family {
        let mut f = MetricFamily::default();
        f.set_name(name.to_owned());
        f.set_help(help.to_owned());
        f.set_field_type(kind);
        Family(f)
    }

    fn labels(pairs: &[(&str, &str)]) -> Vec<LabelPair> {
        pairs
            .iter()
            .map(|(k, v)| {
                let mut l = LabelPair::default();
                l.set_name((*k).to_owned());
                l.set_value((*v).to_owned());
                l
            })
            .collect()
    }

    fn value(mut self, pairs: &[(&str, &str)], value: f64) -> Family {
        let mut m = Metric::default();
        m.set_label(Self::labels(pairs));
        if self.0.get_field_type() == MetricType::COUNTER {
            let mut c = Counter::default();
            c.set_value(value);
            m.set_counter(c);
        } else {
            let mut g = Gauge::default();
            g.set_value(value);
            m.set_gauge(g);
        }
        self.0.mut_metric().push(m);
        self
    }

    fn histogram(mut self, pairs: &[(&str, &str)], snapshot: &HistogramSnapshot) -> Family {
        let mut h = Histogram::default();
        h.set_sample_count(snapshot.count);
        h.set_sample_sum(snapshot.sum_seconds);
        h.set_bucket(
            BOUNDS_SECONDS
                .iter()
                .zip(snapshot.cumulative)
                .map(|(bound, count)| {
                    let mut b = Bucket::default();
                    b.set_upper_bound(*bound);
                    b.set_cumulative_count(count);
                    b
                })
                .collect(),
        );
        let mut m = Metric::default();
        m.set_label(Self::labels(pairs));
        m.set_histogram(h);
        self.0.mut_metric().push(m);
        self
    }
}

impl Exporter {
    /// An exporter of `server`'s counters, its resolver's, and the journals in
    /// `state_dir`.
    pub fn new(
        server: Arc<Server>,
        resolver: Option<Arc<Resolver>>,
        state_dir: Option<PathBuf>,
    ) -> Exporter {
        Exporter {
            server,
            resolver,
            state_dir,
            process: prometheus::process_collector::ProcessCollector::for_self(),
        }
    }

    /// Every metric family, now.
    pub fn gather(&self) -> Vec<MetricFamily> {
        use MetricType::{COUNTER, GAUGE, HISTOGRAM};
        let metrics = &self.server.metrics;
        let mut sum = TallySum::default();
        for tally in metrics.tallies() {
            tally.add_to(&mut sum);
        }
        metrics.shared.add_to(&mut sum);

        let mut queries = Family::new(
            "zonal_queries_total",
            "Requests answered, by transport, question type and rcode.",
            COUNTER,
        );
        for (t, transport) in TRANSPORT_LABELS.iter().enumerate() {
            for (q, qtype) in QTYPE_LABELS.iter().enumerate() {
                for (r, code) in RCODE_LABELS.iter().enumerate() {
                    let n = sum.queries[t][q][r];
                    if n > 0 {
                        queries = queries.value(
                            &[("transport", transport), ("qtype", qtype), ("rcode", code)],
                            n as f64,
                        );
                    }
                }
            }
        }
        let mut answers = Family::new("zonal_answers_total", "Replies by kind of answer.", COUNTER);
        for (k, kind) in KIND_LABELS.iter().enumerate() {
            answers = answers.value(&[("kind", kind)], sum.kinds[k] as f64);
        }
        let mut durations = Family::new(
            "zonal_response_duration_seconds",
            "Time from receipt to reply (UDP: per receive batch, shared among its replies).",
            HISTOGRAM,
        );
        for (t, transport) in TRANSPORT_LABELS.iter().enumerate() {
            durations = durations.histogram(&[("transport", transport)], &sum.durations[t]);
        }
        let mut dropped = Family::new(
            "zonal_dropped_total",
            "Requests given no reply, by reason.",
            COUNTER,
        );
        for (d, reason) in DROP_LABELS.iter().enumerate() {
            dropped = dropped.value(&[("reason", reason)], sum.dropped[d] as f64);
        }
        let mut updates = Family::new("zonal_updates_total", "Dynamic updates by result.", COUNTER);
        for (u, result) in UPDATE_LABELS.iter().enumerate() {
            updates = updates.value(&[("result", result)], sum.updates[u] as f64);
        }
        let mut cookies = Family::new(
            "zonal_cookies_total",
            "Requests answered that had a DNS COOKIE option, by what its server cookie was.",
            COUNTER,
        );
        for (c, result) in COOKIE_LABELS.iter().enumerate() {
            cookies = cookies.value(&[("result", result)], sum.cookies[c] as f64);
        }
        let mut families = vec![
            queries,
            answers,
            durations,
            Family::new("zonal_truncated_total", "Replies sent with TC=1.", COUNTER)
                .value(&[], sum.truncated as f64),
            Family::new(
                "zonal_malformed_total",
                "Requests answered FORMERR.",
                COUNTER,
            )
            .value(&[], sum.malformed as f64),
            dropped,
            Family::new(
                "zonal_slow_path_waiting",
                "Deferred requests (recursion, UPDATE, NOTIFY, signed queries) waiting for their slow path.",
                GAUGE,
            )
            .value(&[], self.server.slow.slots().taken() as f64),
            Family::new(
                "zonal_slow_path_over_share_total",
                "Deferred requests dropped: their client prefix held its fair share of the places.",
                COUNTER,
            )
            .value(&[], self.server.slow.slots().over_share() as f64),
            Family::new(
                "zonal_tcp_connections_open",
                "TCP connections open now.",
                GAUGE,
            )
            .value(&[], metrics.tcp_open.load(Ordering::Relaxed) as f64),
            Family::new(
                "zonal_tcp_connections_refused_total",
                "TCP connections closed at once, over the cap.",
                COUNTER,
            )
            .value(&[], metrics.tcp_refused.load(Ordering::Relaxed) as f64),
            Family::new(
                "zonal_tcp_connections_evicted_total",
                "TCP connections closed while idle to make room for a new one, at the cap.",
                COUNTER,
            )
            .value(&[], metrics.tcp_evicted.load(Ordering::Relaxed) as f64),
            updates,
            cookies,
            Family::new("zonal_badcookie_total", "Replies sent BADCOOKIE.", COUNTER)
                .value(&[], sum.badcookie as f64),
        ];
        if self.server.rrl.is_some() {
            let mut limited = Family::new(
                "zonal_rrl_responses_total",
                "UDP replies limited by response rate limiting, by class and action (slipped: sent truncated; dropped).",
                COUNTER,
            );
            for (c, class) in RRL_CLASS_LABELS.iter().enumerate() {
                for (a, action) in RRL_ACTION_LABELS.iter().enumerate() {
                    limited = limited.value(
                        &[("class", class), ("action", action)],
                        sum.rrl[c][a] as f64,
                    );
                }
            }
            families.push(limited);
        }
        families.extend(self.zone_families());
        families.extend(self.resolver_families(&sum));
        // The text format has no empty families (no journal yet, no query yet).
        families
            .into_iter()
            .map(|f| f.0)
            .chain(self.process.collect())
            .filter(|f| !f.get_metric().is_empty())
            .collect()
    }

    fn zone_families(&self) -> Vec<Family> {
        use MetricType::{COUNTER, GAUGE};
        let metrics = &self.server.metrics;
        let zones = self.server.zones.load();
        let mut serial = Family::new("zonal_zone_serial", "SOA serial served, per zone.", GAUGE);
        let mut records = Family::new("zonal_zone_records", "Records in the zone.", GAUGE);
        let mut loaded = Family::new(
            "zonal_zone_last_load_timestamp_seconds",
            "When the zone was last loaded, Unix time.",
            GAUGE,
        );
        let mut journal = Family::new(
            "zonal_journal_bytes",
            "Size of the zone's journal of dynamic updates.",
            GAUGE,
        );
        for zone in zones.zones() {
            let name = to_presentation(&zone.origin);
            let label = [("zone", name.as_str())];
            serial = serial.value(&label, f64::from(zone.serial()));
            records = records.value(&label, zone.record_count as f64);
            loaded = loaded.value(&label, metrics.zone_events(&zone.origin).loaded_at as f64);
            if let Some(dir) = &self.state_dir {
                if let Ok(meta) = std::fs::metadata(StatePaths::new(dir, &zone.origin).journal) {
                    journal = journal.value(&label, meta.len() as f64);
                }
            }
        }
        let mut failures = Family::new(
            "zonal_zone_load_failures_total",
            "Loads and reloads of the zone's file that failed (what was served kept serving).",
            COUNTER,
        );
        for (origin, events) in metrics.zones_with_events() {
            failures = failures.value(
                &[("zone", to_presentation(&origin).as_str())],
                events.failures as f64,
            );
        }
        let mut transfers_in = Family::new(
            "zonal_transfers_in_total",
            "Refreshes of secondary zones from their primaries, by result (axfr, ixfr, or why it failed).",
            COUNTER,
        );
        for (origin, result, count) in metrics.transfers_in() {
            transfers_in = transfers_in.value(
                &[
                    ("zone", to_presentation(&origin).as_str()),
                    ("result", result),
                ],
                count as f64,
            );
        }
        let mut expired = Family::new(
            "zonal_zone_expired",
            "1 for a secondary zone past its SOA expire without contact with a primary (answered SERVFAIL).",
            GAUGE,
        );
        for zone in zones.zones().filter(|z| z.expired) {
            expired = expired.value(&[("zone", to_presentation(&zone.origin).as_str())], 1.0);
        }
        let count =
            Family::new("zonal_zones", "Zones served.", GAUGE).value(&[], zones.len() as f64);
        vec![
            count,
            serial,
            records,
            loaded,
            failures,
            journal,
            transfers_in,
            expired,
        ]
    }

    fn resolver_families(&self, sum: &TallySum) -> Vec<Family> {
        use MetricType::{COUNTER, GAUGE, HISTOGRAM};
        let Some(resolver) = &self.resolver else {
            return Vec::new();
        };
        let c = &resolver.counters;
        let read = |i: usize| c.upstream[i].load(Ordering::Relaxed) as f64;
        let mut rtt = HistogramSnapshot::default();
        c.rtt.add_to(&mut rtt);
        let mut cookies = Family::new(
            "zonal_resolver_upstream_cookies_total",
            "Upstream replies to queries with a DNS cookie, by what the cookie said.",
            COUNTER,
        );
        for (i, result) in ["valid", "absent", "forged", "missing", "badcookie"]
            .iter()
            .enumerate()
        {
            cookies = cookies.value(
                &[("result", *result)],
                c.cookies[i].load(Ordering::Relaxed) as f64,
            );
        }
        vec![
            Family::new(
                "zonal_resolver_cache_hits_total",
                "Recursive questions answered from the cache.",
                COUNTER,
            )
            .value(&[], sum.resolver_hits as f64),
            Family::new(
                "zonal_resolver_cache_misses_total",
                "Recursive questions that went to the resolver.",
                COUNTER,
            )
            .value(&[], sum.resolver_misses as f64),
            Family::new(
                "zonal_resolver_cache_entries",
                "Entries in the cache.",
                GAUGE,
            )
            .value(&[], resolver.cache.len() as f64),
            Family::new(
                "zonal_resolver_cache_bytes",
                "Bytes the cache counts against its budget.",
                GAUGE,
            )
            .value(&[], resolver.cache.bytes() as f64),
            Family::new(
                "zonal_resolver_cache_evictions_total",
                "Entries evicted for space.",
                COUNTER,
            )
            .value(&[], resolver.cache.evictions() as f64),
            Family::new(
                "zonal_resolver_upstream_queries_total",
                "Queries sent to upstream servers, by result.",
                COUNTER,
            )
            .value(
                &[("result", "answer")],
                read(crate::recursive::UPSTREAM_ANSWER),
            )
            .value(
                &[("result", "timeout")],
                read(crate::recursive::UPSTREAM_TIMEOUT),
            )
            .value(
                &[("result", "error")],
                read(crate::recursive::UPSTREAM_ERROR),
            ),
            Family::new(
                "zonal_resolver_upstream_rtt_seconds",
                "Upstream round-trip time.",
                HISTOGRAM,
            )
            .histogram(&[], &rtt),
            Family::new(
                "zonal_resolver_coalesced_total",
                "Questions that waited for an identical one in flight.",
                COUNTER,
            )
            .value(&[], c.coalesced.load(Ordering::Relaxed) as f64),
            Family::new(
                "zonal_resolver_unwanted_replies_total",
                "Upstream UDP replies that did not match the query (ID or question).",
                COUNTER,
            )
            .value(&[], c.unwanted_replies.load(Ordering::Relaxed) as f64),
            Family::new(
                "zonal_resolver_spoofing_fallbacks_total",
                "Upstream queries re-asked over TCP after too many unwanted replies.",
                COUNTER,
            )
            .value(&[], c.spoofing_fallbacks.load(Ordering::Relaxed) as f64),
            Family::new(
                "zonal_resolver_client_limited_total",
                "Recursive questions answered SERVFAIL at once: their client address or prefix had its most in flight.",
                COUNTER,
            )
            .value(
                &[("limit", "address")],
                c.client_limited[0].load(Ordering::Relaxed) as f64,
            )
            .value(
                &[("limit", "prefix")],
                c.client_limited[1].load(Ordering::Relaxed) as f64,
            ),
            Family::new(
                "zonal_resolver_server_rate_limited_total",
                "Upstream queries not sent: the server had been asked max_server_qps this second.",
                COUNTER,
            )
            .value(&[], c.server_rate_limited.load(Ordering::Relaxed) as f64),
            cookies,
            Family::new(
                "zonal_resolver_refused_total",
                "Recursive questions refused: client not allowed.",
                COUNTER,
            )
            .value(&[], sum.resolver_refused as f64),
            Family::new(
                "zonal_resolver_servfail_total",
                "Recursive questions answered SERVFAIL.",
                COUNTER,
            )
            .value(&[], sum.resolver_servfail as f64),
        ]
    }

    /// Whether the server is ready (zones loaded, sockets bound).
    pub fn is_ready(&self) -> bool {
        self.server.metrics.is_ready()
    }

    /// Every metric in the Prometheus text format.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.gather(), &mut out)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}
