//! NOTIFY (RFC 1996) to secondaries: when a zone changes (an update, a reload, a
//! signature refresh) and at start, each configured secondary of the zone is told
//! its new serial over UDP — the zone's SOA in the answer section (RFC 1996 3.7),
//! TSIG-signed when a key is configured — and asked again with back-off (1, 2, 4,
//! 8, 16 s) until it answers, as BIND and Knot DNS do. A newer change of the same
//! zone supersedes a notification still being retried. A secondary that refuses
//! (REFUSED, NOTAUTH, NOTIMP) is not asked again; it is logged.
//!
//! Changes are coalesced per zone, as BIND's `notify-delay` does: the first change
//! after a quiet spell is told at once; further changes within the delay
//! ([`Notifier::with_delay`]) wait for its end and are told together, with the
//! serial of the latest — so 200 updates in a second are a few NOTIFYs, not 200,
//! and a secondary is not sent refreshing faster than it can transfer.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dashmap::DashMap;
use tokio::net::UdpSocket;

use crate::auth::Zone;
use crate::tsig;
use crate::tsig::keys::TsigKey;
use crate::wire::header::{opcode, opcode_of};
use crate::wire::name::to_presentation;
use crate::wire::types;

/// Times a notification is sent before giving up.
const ATTEMPTS: u32 = 5;
/// The wait for an answer to the first attempt; doubled for each next one.
const FIRST_WAIT: Duration = Duration::from_secs(1);
/// The least time between two sets of notifications of one zone, by default.
pub const DEFAULT_NOTIFY_DELAY: Duration = Duration::from_secs(1);

/// Who is told about changes to which zones.
#[derive(Debug, Clone)]
pub struct NotifyTarget {
    /// The secondary's address and port.
    pub addr: SocketAddr,
    /// The zones (lowercase wire format) it is told about; `None`: every zone.
    pub zones: Option<Vec<Box<[u8]>>>,
    /// The TSIG key notifications to it are signed with.
    pub key: Option<TsigKey>,
}

impl NotifyTarget {
    fn serves(&self, origin: &[u8]) -> bool {
        self.zones
            .as_ref()
            .is_none_or(|zones| zones.iter().any(|z| z[..] == *origin))
    }
}

/// Sends the notifications. See the module doc.
#[derive(Debug, Default)]
pub struct Notifier {
    targets: Vec<NotifyTarget>,
    /// The address notifications are sent from, when we listen on one of a
    /// family (secondaries check that a NOTIFY comes from their primary).
    sources: Vec<IpAddr>,
    /// The port the zone's own name servers are told on, when they are (RFC 1996
    /// 3.6: the NS of the zone, less the primary named in the SOA): `None`, not.
    ns_port: Option<u16>,
    /// The latest notification per (zone, target): an older one still retrying stops.
    latest: DashMap<(Box<[u8]>, SocketAddr), u64>,
    next: AtomicU64,
    /// The least time between two sets of notifications of one zone.
    delay: Duration,
    /// Per zone (lowercase wire origin): when it was last told, and what waits.
    schedule: Mutex<HashMap<Box<[u8]>, Schedule>>,
}

/// One zone's notifications in time. See the module doc.
#[derive(Debug, Default)]
struct Schedule {
    /// When its last set was sent.
    last_sent: Option<tokio::time::Instant>,
    /// The set to send at the end of the delay: the latest change's.
    pending: Option<Batch>,
}

/// Notifications of one version of a zone: to whom, and the message.
#[derive(Debug)]
struct Batch {
    origin: Box<[u8]>,
    serial: u32,
    targets: Vec<NotifyTarget>,
    message: Vec<u8>,
}

/// How one notification ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyOutcome {
    /// The secondary answered NOERROR.
    Acknowledged,
    /// It answered with this rcode.
    Refused(u8),
    /// No answer after every attempt.
    Unanswered,
    /// A newer notification for the zone took over.
    Superseded,
}

impl Notifier {
    /// A notifier for `targets`, sending from the first of `sources` (the
    /// addresses we listen on) of the target's family that is not a wildcard.
    pub fn new(targets: Vec<NotifyTarget>, sources: Vec<IpAddr>) -> Notifier {
        Notifier {
            targets,
            sources: sources
                .into_iter()
                .filter(|ip| !ip.is_unspecified())
                .collect(),
            delay: DEFAULT_NOTIFY_DELAY,
            ..Notifier::default()
        }
    }

    /// The same, with `delay` as the least time between two sets of notifications
    /// of one zone (zero: every change told at once).
    pub fn with_delay(self, delay: Duration) -> Notifier {
        Notifier { delay, ..self }
    }

    /// The same, also telling the name servers of each zone (its apex NS whose
    /// addresses are in the zone, but the SOA's primary and our own addresses) on
    /// `port`, as BIND's `notify yes` does.
    pub fn with_zone_ns(self, port: Option<u16>) -> Notifier {
        Notifier {
            ns_port: port,
            ..self
        }
    }

    /// Whether nobody is to be told anything.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty() && self.ns_port.is_none()
    }

    /// The zone's own name servers to tell (see [`Notifier::with_zone_ns`]).
    fn zone_ns(&self, zone: &Zone) -> Vec<NotifyTarget> {
        let Some(port) = self.ns_port else {
            return Vec::new();
        };
        let soa = zone.soa.rdatas().next().unwrap_or_default();
        let mname = soa
            .get(..crate::wire::writer::wire_name_len(soa))
            .unwrap_or_default();
        let Some(ns) = zone.apex().and_then(|a| a.rrset(types::NS)) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for target in ns.rdatas() {
            if target.eq_ignore_ascii_case(mname) {
                continue;
            }
            let Some(node) = zone.node_by_name(target) else {
                continue; // out of the zone: not looked up
            };
            for (rtype, len) in [(types::A, 4), (types::AAAA, 16)] {
                for rdata in node.rrset(rtype).into_iter().flat_map(|s| s.rdatas()) {
                    let ip: Option<IpAddr> = match len {
                        4 => <[u8; 4]>::try_from(rdata).ok().map(IpAddr::from),
                        _ => <[u8; 16]>::try_from(rdata).ok().map(IpAddr::from),
                    };
                    let Some(ip) = ip.filter(|ip| !self.sources.contains(ip)) else {
                        continue;
                    };
                    let addr = SocketAddr::new(ip, port);
                    if !self.targets.iter().any(|t| t.addr == addr)
                        && !found.iter().any(|t: &NotifyTarget| t.addr == addr)
                    {
                        found.push(NotifyTarget {
                            addr,
                            zones: None,
                            key: None,
                        });
                    }
                }
            }
        }
        found
    }

    /// Tells every secondary of `zone` its current serial, each in a task of its
    /// own on the current runtime: now, or at the end of the zone's delay with the
    /// latest version then (see the module doc).
    pub fn notify(self: &Arc<Self>, zone: &Zone) {
        let targets: Vec<NotifyTarget> = self
            .targets
            .iter()
            .filter(|t| t.serves(&zone.origin))
            .cloned()
            .chain(self.zone_ns(zone))
            .collect();
        if targets.is_empty() {
            return;
        }
        let batch = Batch {
            origin: zone.origin.clone(),
            serial: zone.serial(),
            targets,
            message: notify_message(zone, 0),
        };
        let now = tokio::time::Instant::now();
        let wait = {
            let Ok(mut schedule) = self.schedule.lock() else {
                return;
            };
            let entry = schedule.entry(zone.origin.clone()).or_default();
            let waiting = entry.pending.is_some();
            entry.pending = Some(batch);
            if waiting {
                // A set is due at the end of the delay: it will carry this version.
                tracing::debug!(zone = %to_presentation(&zone.origin), serial = zone.serial(), "NOTIFY coalesced with the one due");
                return;
            }
            entry.last_sent.map_or(Duration::ZERO, |sent| {
                (sent + self.delay).saturating_duration_since(now)
            })
        };
        let notifier = self.clone();
        let origin = zone.origin.clone();
        tokio::spawn(async move {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            let sent = tokio::time::Instant::now();
            let batch = {
                let Ok(mut schedule) = notifier.schedule.lock() else {
                    return;
                };
                let Some(entry) = schedule.get_mut(&origin) else {
                    return;
                };
                entry.last_sent = Some(sent);
                entry.pending.take()
            };
            if let Some(batch) = batch {
                notifier.send_batch(batch);
            }
            // Once the delay is over with nothing more to tell, the zone leaves the
            // schedule, so zones that come and go do not grow it.
            tokio::time::sleep(notifier.delay).await;
            if let Ok(mut schedule) = notifier.schedule.lock() {
                let quiet = schedule
                    .get(&origin)
                    .is_some_and(|e| e.pending.is_none() && e.last_sent == Some(sent));
                if quiet {
                    schedule.remove(&origin);
                }
            }
        });
    }

    /// Sends the notifications of `batch`, one task per secondary.
    fn send_batch(self: &Arc<Self>, batch: Batch) {
        for target in batch.targets {
            let generation = self.next.fetch_add(1, Ordering::Relaxed);
            self.latest
                .insert((batch.origin.clone(), target.addr), generation);
            let mut message = batch.message.clone();
            message[..2].copy_from_slice(&rand::random::<u16>().to_be_bytes());
            let (notifier, origin, serial) = (self.clone(), batch.origin.clone(), batch.serial);
            tokio::spawn(async move {
                let outcome = notifier.send(&target, &origin, message, generation).await;
                let (zone, to) = (to_presentation(&origin), target.addr);
                match outcome {
                    NotifyOutcome::Acknowledged => {
                        tracing::debug!(%zone, %to, serial, "NOTIFY acknowledged")
                    }
                    NotifyOutcome::Refused(rcode) => {
                        tracing::warn!(%zone, %to, serial, rcode, "NOTIFY refused by the secondary")
                    }
                    NotifyOutcome::Unanswered => {
                        tracing::warn!(%zone, %to, serial, attempts = ATTEMPTS, "NOTIFY not answered")
                    }
                    NotifyOutcome::Superseded => {}
                }
            });
        }
    }

    /// Sends `message` to `target` until it is answered, refused, or superseded.
    async fn send(
        &self,
        target: &NotifyTarget,
        origin: &[u8],
        message: Vec<u8>,
        generation: u64,
    ) -> NotifyOutcome {
        let wildcard: IpAddr = match target.addr {
            SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
            SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
        };
        let local = self
            .sources
            .iter()
            .copied()
            .find(|ip| ip.is_ipv4() == target.addr.is_ipv4())
            .unwrap_or(wildcard);
        let Ok(socket) = UdpSocket::bind((local, 0)).await else {
            return NotifyOutcome::Unanswered;
        };
        let id = [message[0], message[1]];
        let mut wait = FIRST_WAIT;
        let mut buf = vec![0u8; 4096];
        for _ in 0..ATTEMPTS {
            let current = self
                .latest
                .get(&(Box::from(origin), target.addr))
                .map(|g| *g);
            if current != Some(generation) {
                return NotifyOutcome::Superseded;
            }
            let mut signed = message.clone();
            if let Some(key) = &target.key {
                tsig::sign(&mut signed, key, None, 0, &[], tsig::now());
            }
            if socket.send_to(&signed, target.addr).await.is_err() {
                tokio::time::sleep(wait).await;
                wait *= 2;
                continue;
            }
            let deadline = tokio::time::Instant::now() + wait;
            while let Ok(Ok((len, from))) =
                tokio::time::timeout_at(deadline, socket.recv_from(&mut buf)).await
            {
                let Some(reply) = buf.get(..len) else {
                    continue;
                };
                // RFC 1996 4.7: the answer has our ID, QR set and opcode NOTIFY.
                if from != target.addr || len < 12 || reply[..2] != id || reply[2] & 0x80 == 0 {
                    continue;
                }
                if opcode_of(reply) != Some(opcode::NOTIFY) {
                    continue;
                }
                return match reply[3] & 0xF {
                    0 => NotifyOutcome::Acknowledged,
                    rcode => NotifyOutcome::Refused(rcode),
                };
            }
            wait *= 2;
        }
        NotifyOutcome::Unanswered
    }
}

/// A NOTIFY for `zone` with `id`: AA, the zone's SOA question, its SOA as the
/// answer.
fn notify_message(zone: &Zone, id: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + zone.origin.len() * 2);
    out.extend_from_slice(&id.to_be_bytes());
    out.push(opcode::NOTIFY << 3 | 0x04); // opcode NOTIFY, AA
    out.push(0);
    out.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 0]);
    out.extend_from_slice(&zone.origin);
    out.extend_from_slice(&types::SOA.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    let soa = zone.soa.rdatas().next().unwrap_or_default();
    out.extend_from_slice(&zone.origin);
    out.extend_from_slice(&types::SOA.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&zone.soa.ttl.to_be_bytes());
    out.extend_from_slice(&(soa.len() as u16).to_be_bytes());
    out.extend_from_slice(soa);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::auth::zone::tests::build;
    use crate::wire::message::Message;

    #[test]
    fn a_notify_carries_the_question_and_the_soa() {
        let zone = build("");
        let packet = notify_message(&zone, 0x1234);
        let message = Message::parse(&packet).unwrap();
        assert_eq!((packet[0], packet[1], packet[2]), (0x12, 0x34, 0x24));
        assert_eq!(message.questions.len(), 1);
        assert_eq!(message.questions[0].qtype, types::SOA);
        assert_eq!(message.answers.len(), 1);
        assert_eq!(message.answers[0].rtype, types::SOA);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_zone_ns_are_told_but_the_primary_and_ourselves() {
        let secondary = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        secondary
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        let port = secondary.local_addr().unwrap().port();
        // ns (the SOA's primary) and ns3 (ourselves) are not told; ns2 is.
        let zone = build("@ NS ns2\n@ NS ns3\nns2 A 127.0.0.1\nns3 A 127.0.0.3\n");
        let notifier = Arc::new(
            Notifier::new(Vec::new(), vec!["127.0.0.3".parse().unwrap()]).with_zone_ns(Some(port)),
        );
        let targets: Vec<SocketAddr> = notifier.zone_ns(&zone).iter().map(|t| t.addr).collect();
        assert_eq!(targets, [SocketAddr::from(([127, 0, 0, 1], port))]);
        notifier.notify(&zone);
        let mut buf = [0u8; 512];
        let (len, _) = secondary.recv_from(&mut buf).unwrap();
        assert_eq!(opcode_of(&buf), Some(opcode::NOTIFY), "{len} bytes");
    }

    /// The zone example. at `serial`.
    fn at_serial(serial: u32) -> Zone {
        let text = format!("$TTL 300\n@ SOA ns hm {serial} 2 3 4 60\n@ NS ns\nns A 192.0.2.53\n");
        crate::zonefile::load_zone_text(
            crate::auth::zone::tests::ORIGIN,
            text.as_bytes(),
            std::path::Path::new("t.zone"),
        )
        .unwrap()
    }

    /// The serial a NOTIFY carries, answered NOERROR so it is not sent again.
    fn take_notify(secondary: &std::net::UdpSocket) -> Option<u32> {
        let mut buf = [0u8; 512];
        let (len, from) = secondary.recv_from(&mut buf).ok()?;
        let message = Message::parse(&buf[..len]).unwrap();
        let soa = message.answers[0].rdata(&buf[..len]);
        let serial_at = crate::wire::writer::wire_name_len(soa);
        let serial_at = serial_at + crate::wire::writer::wire_name_len(&soa[serial_at..]);
        let serial = u32::from_be_bytes(soa[serial_at..serial_at + 4].try_into().unwrap());
        buf[2] |= 0x80;
        secondary.send_to(&buf[..len], from).unwrap();
        Some(serial)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn changes_within_the_delay_are_told_together_with_the_latest_serial() {
        let secondary = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        secondary
            .set_read_timeout(Some(Duration::from_millis(1500)))
            .unwrap();
        let notifier = Arc::new(
            Notifier::new(
                vec![NotifyTarget {
                    addr: secondary.local_addr().unwrap(),
                    zones: None,
                    key: None,
                }],
                vec!["127.0.0.1".parse().unwrap()],
            )
            .with_delay(Duration::from_millis(600)),
        );
        // The first change after a quiet spell: told at once.
        let started = std::time::Instant::now();
        notifier.notify(&at_serial(1));
        let secondary = Arc::new(secondary);
        let taking = secondary.clone();
        let first = tokio::task::spawn_blocking(move || take_notify(&taking))
            .await
            .unwrap();
        assert_eq!(first, Some(1));
        assert!(started.elapsed() < Duration::from_millis(500));
        // Fifty more within the delay: one NOTIFY at its end, with the last serial.
        for serial in 2..=51 {
            notifier.notify(&at_serial(serial));
        }
        let taking = secondary.clone();
        let told = tokio::task::spawn_blocking(move || {
            let mut told = Vec::new();
            while let Some(serial) = take_notify(&taking) {
                told.push(serial);
            }
            told
        })
        .await
        .unwrap();
        assert_eq!(told, [51], "coalesced into one");
        assert!(started.elapsed() >= Duration::from_millis(600));
        // Quiet for a delay after its last set: the zone has left the schedule.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        while !notifier.schedule.lock().unwrap().is_empty() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the schedule keeps a quiet zone"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn retries_until_answered_and_stops_when_refused() {
        let secondary = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        secondary
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let notifier = Arc::new(Notifier::new(
            vec![NotifyTarget {
                addr: secondary.local_addr().unwrap(),
                zones: None,
                key: None,
            }],
            vec!["0.0.0.0".parse().unwrap(), "127.0.0.1".parse().unwrap()],
        ));
        let zone = build("");
        notifier.notify(&zone);
        let mut buf = [0u8; 512];
        // Not answered the first time: it comes again.
        let (first, _) = secondary.recv_from(&mut buf).unwrap();
        let first = buf[..first].to_vec();
        let (len, from) = secondary.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..len], &first[..], "the same NOTIFY again");
        // Refused: not sent again.
        buf[2] |= 0x80;
        buf[3] = 5;
        secondary.send_to(&buf[..len], from).unwrap();
        secondary
            .set_read_timeout(Some(Duration::from_millis(2500)))
            .unwrap();
        assert!(
            secondary.recv_from(&mut buf).is_err(),
            "no more after REFUSED"
        );
    }
}
