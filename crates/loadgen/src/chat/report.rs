//! The chat run's results: a table for people, one JSON line per server
//! for scripts.

use super::{Measured, Plan};
use serde_json::json;

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

pub fn table(plan: Plan, rows: &[Measured]) {
    let interval = plan.interval.as_secs_f64();
    println!(
        "chat: {} chats, {} agents, a message every {:.1} s per chat ({:.1}–{:.1} s), {:.0} s warm-up + {:.0} s measured",
        plan.chats,
        plan.agents,
        interval,
        interval * 0.5,
        interval * 1.5,
        plan.warmup.as_secs_f64(),
        plan.measure.as_secs_f64()
    );
    println!(
        "{:<12} {:>6} {:>7} {:>8} {:>7} {:>7} {:>7} {:>8} {:>10} {:>6}  {:>24} {:>9}  CPU % of machine: server / loadgen / other",
        "server",
        "chats",
        "open s",
        "msgs/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "unanswered",
        "errors",
        "RSS MiB before/open/load",
        "KiB/chat",
    );
    for m in rows {
        println!(
            "{:<12} {:>6} {:>7.1} {:>8.1} {:>7.2} {:>7.2} {:>7.2} {:>8.1} {:>10} {:>6}  {:>24} {:>9.1}  {:.0} / {:.0} / {:.0}",
            m.server,
            m.chats_connected,
            m.seconds_to_open,
            m.messages_per_second,
            m.rtt.p50_ms,
            m.rtt.p95_ms,
            m.rtt.p99_ms,
            m.rtt.max_ms,
            m.messages_sent - m.messages_answered.min(m.messages_sent),
            m.errors,
            format!("{:.1} / {:.1} / {:.1}", mib(m.rss_before_kib), mib(m.rss_connected_kib), mib(m.rss_load_kib)),
            m.kib_per_chat(),
            m.cpu.server,
            m.cpu.loadgen,
            m.cpu.other
        );
    }
    if let [sb, peer] = rows
        && peer.rtt.p50_ms > 0.0
    {
        println!(
            "RTT switchboard / relay: p50 {:.1}×, p95 {:.1}×, p99 {:.1}×",
            sb.rtt.p50_ms / peer.rtt.p50_ms,
            sb.rtt.p95_ms / peer.rtt.p95_ms.max(f64::MIN_POSITIVE),
            sb.rtt.p99_ms / peer.rtt.p99_ms.max(f64::MIN_POSITIVE)
        );
    }
    for m in rows {
        let limit = |l: Option<u64>| l.map_or("unknown".to_string(), |l| l.to_string());
        println!(
            "{}: {} of {} chats open at the end; {} customer and {} agent reconnects; {} offers accepted, {} echoes; open-file limits: server {}, loadgen {}",
            m.server,
            m.chats_open_at_end,
            m.chats_connected,
            m.customer_reconnects,
            m.agent_reconnects,
            m.offers_accepted,
            m.echoes_posted,
            limit(m.server_open_file_limit),
            limit(m.client_open_file_limit)
        );
        if let (Some(seen), Some(skipped)) = (m.events_seen, m.events_skipped) {
            println!(
                "{}: an admin's event socket got {seen} events and never got {skipped}; {} offers were found only by listing them, {} customers reconnected to hear their status",
                m.server, m.offers_polled, m.customer_resyncs
            );
        }
        if let Some(p) = &m.echo_post {
            println!(
                "{}: the agents' echo POSTs took p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.1} ms",
                m.server, p.p50_ms, p.p95_ms, p.p99_ms, p.max_ms
            );
        }
        if let Some(e) = &m.first_open_failure {
            println!("{}: {} chats failed to open; first: {e}", m.server, m.open_failures);
        }
        if let Some(e) = &m.first_error {
            println!("{}: first error: {e}", m.server);
        }
    }
}

pub fn json_line(plan: Plan, m: &Measured) -> String {
    json!({
        "mode": "chat",
        "chats": plan.chats,
        "agents": plan.agents,
        "interval_seconds": plan.interval.as_secs_f64(),
        "warmup_seconds": plan.warmup.as_secs_f64(),
        "seconds": plan.measure.as_secs_f64(),
        "kib_per_chat": m.kib_per_chat(),
        "kib_per_idle_chat": m.kib_per_idle_chat(),
        "result": m,
    })
    .to_string()
}
