//! The results: a table for people, one JSON line per backend for scripts.

use crate::cpu::Shares;
use crate::drive::{Outcome, Plan};
use crate::stats::Summary;
use crate::websockets;
use serde::Serialize;
use serde_json::json;

/// One server's run.
#[derive(Debug, Serialize)]
pub struct Measured {
    #[serde(flatten)]
    pub summary: Summary,
    /// 201s over the whole run, warm-up included.
    pub acknowledged: u64,
    /// What the server holds afterwards (contacts waiting, or rows).
    pub kept: u64,
    pub first_error: Option<String>,
    /// Percent of the whole machine (all cores) over the measured window.
    pub cpu: Shares,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
}

impl Measured {
    pub fn new(outcome: Outcome, kept: u64, rss_before_kib: u64, rss_after_kib: u64) -> Measured {
        Measured {
            summary: outcome.summary,
            acknowledged: outcome.acknowledged,
            kept,
            first_error: outcome.first_error,
            cpu: outcome.cpu,
            rss_before_kib,
            rss_after_kib,
        }
    }
}

/// Switchboard and the peer on one backend.
pub struct Row {
    pub backend: &'static str,
    pub switchboard: Measured,
    pub peer: Measured,
    pub peer_connections: u32,
    /// PostgreSQL statistics refreshed during the warm-up.
    pub analyzed: bool,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.switchboard.summary.per_second / self.peer.summary.per_second.max(f64::MIN_POSITIVE)
    }
}

pub fn table(rows: &[Row]) {
    println!(
        "{:<9} {:<26} {:>10} {:>7} {:>7} {:>8} {:>6} {:>13} {:>7}  CPU % of machine: server / loadgen / other",
        "backend", "server", "contacts/s", "p50 ms", "p99 ms", "p99.9 ms", "errors", "acked/kept", "RSS MiB",
    );
    for row in rows {
        let peer = format!("bare axum+sqlx ({} conn)", row.peer_connections);
        for (name, m) in [("switchboard", &row.switchboard), (peer.as_str(), &row.peer)] {
            let (s, c) = (&m.summary, &m.cpu);
            println!(
                "{:<9} {:<26} {:>10.0} {:>7.2} {:>7.2} {:>8.2} {:>6} {:>13} {:>7.0}  {:.0} / {:.0} / {:.0}",
                row.backend,
                name,
                s.per_second,
                s.p50_ms,
                s.p99_ms,
                s.p999_ms,
                s.errors,
                format!("{}/{}", m.acknowledged, m.kept),
                m.rss_after_kib as f64 / 1024.0,
                c.server,
                c.loadgen,
                c.other
            );
        }
        println!("{:<9} {:<26} {:>9.2}×", row.backend, "ratio switchboard / peer", row.ratio());
        if row.analyzed {
            println!("{:<9} (statistics refreshed with ANALYZE during the warm-up)", row.backend);
        }
    }
    for row in rows {
        for (name, m) in [("switchboard", &row.switchboard), ("peer", &row.peer)] {
            if let Some(e) = &m.first_error {
                println!("{} {name}: first error: {e}", row.backend);
            }
            if m.kept < m.acknowledged {
                println!("{} {name}: LOST WRITES: {} acknowledged, {} kept", row.backend, m.acknowledged, m.kept);
            }
        }
    }
}

pub fn json_line(row: &Row, plan: Plan) -> String {
    json!({
        "backend": row.backend,
        "clients": plan.clients,
        "warmup_seconds": plan.warmup.as_secs_f64(),
        "seconds": plan.measure.as_secs_f64(),
        "switchboard": row.switchboard,
        "peer": row.peer,
        "peer_connections": row.peer_connections,
        "analyzed": row.analyzed,
        "ratio": row.ratio(),
    })
    .to_string()
}

pub fn websockets(r: &websockets::Report) {
    println!("idle event WebSockets: {} of {} opened in {:.1} s", r.opened, r.asked, r.seconds_to_open);
    if let Some(why) = &r.stopped_by {
        println!("  stopped: {why}");
    }
    println!(
        "  server RSS: {:.1} MiB before, {:.1} MiB after: {:.1} KiB per socket",
        r.rss_before_kib as f64 / 1024.0,
        r.rss_after_kib as f64 / 1024.0,
        r.kib_per_socket
    );
    let limit = |l: Option<u64>| l.map_or("unknown".to_string(), |l| l.to_string());
    println!(
        "  open-file limits: server {}, loadgen {}",
        limit(r.server_open_file_limit),
        limit(r.client_open_file_limit)
    );
    println!("  one event reached {} of {} sockets in {:.0} ms", r.received_event, r.opened, r.fan_out_ms);
    println!("{}", serde_json::to_string(r).unwrap_or_default());
}
