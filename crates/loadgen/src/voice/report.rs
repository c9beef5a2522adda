//! The voice runs' results: a line per step as it finishes, a summary
//! with the ratios at the end, and one JSON line per step for scripts.

use super::{Held, HoldPlan, HoldTarget, P99_LIMIT_MS, SetUp, SetupPlan, SetupTarget};
use serde_json::json;

fn hold_name(t: HoldTarget) -> &'static str {
    match t {
        HoldTarget::Switchboard => "switchboard",
        HoldTarget::SippAnswerer => "sipp answerer",
    }
}

fn setup_name(t: SetupTarget) -> &'static str {
    match t {
        SetupTarget::Switchboard => "switchboard",
        SetupTarget::Kamailio => "kamailio sl",
    }
}

pub fn held_header(plan: &HoldPlan) {
    println!(
        "voice hold: callers {} ({} new a second), {} s settling + {} s measured; p99 limit {P99_LIMIT_MS} ms, loss 0{}",
        if plan.ivr { "in an IVR prompt" } else { "in the queue with hold music" },
        plan.rate,
        plan.settle.as_secs(),
        plan.measure.as_secs(),
        if plan.realtime { "; targets at real-time priority" } else { "" }
    );
    println!(
        "{:<14} {:>6} {:>7} {:>6} {:>8} {:>7} {:>7} {:>7} {:>9} {:>6} {:>8} {:>10} {:>8}  {:>22}  CPU % of machine: target / loadgen / other",
        "target",
        "calls",
        "streams",
        "failed",
        "p50 ms",
        "p99 ms",
        "max ms",
        "worst99",
        "lost",
        "dropped",
        "cores",
        "calls/core",
        "KiB/call",
        "RSS MiB idle / load",
    );
}

pub fn held_line(h: &Held) {
    let p = &h.pacing;
    println!(
        "{:<14} {:>6} {:>7} {:>6} {:>8.3} {:>7.3} {:>7.2} {:>7.2} {:>9} {:>6} {:>8.3} {:>10.0} {:>8.1}  {:>22}  {:.0} / {:.0} / {:.0}{}{}",
        hold_name(h.target),
        h.calls,
        p.streams,
        h.callers.failed,
        p.p50_ms,
        p.p99_ms,
        p.max_ms,
        p.worst_stream_p99_ms,
        format!("{} ({:.3} %)", p.lost, p.loss_percent),
        p.capture_dropped,
        h.cores,
        h.calls_per_core(),
        h.kib_per_call(),
        format!("{:.1} / {:.1}", h.rss_idle_kib as f64 / 1024.0, h.rss_load_kib as f64 / 1024.0),
        h.cpu.server,
        h.cpu.loadgen,
        h.cpu.other,
        h.waiting.map_or(String::new(), |w| format!("  queued {w}")),
        if h.passed() { "" } else { "  NOT HELD" },
    );
}

pub fn held_summary(rows: &[Held]) {
    for target in [HoldTarget::Switchboard, HoldTarget::SippAnswerer] {
        let best = rows.iter().filter(|r| r.target == target && r.passed()).max_by_key(|r| r.calls);
        match best {
            Some(r) => println!(
                "{}: most calls held {} on {:.3} cores: {:.0} calls per core",
                hold_name(target),
                r.calls,
                r.cores,
                r.calls_per_core()
            ),
            None if rows.iter().any(|r| r.target == target) => println!("{}: no step held", hold_name(target)),
            None => {}
        }
    }
    let ours = rows.iter().filter(|r| r.target == HoldTarget::Switchboard);
    for sb in ours {
        if let Some(peer) = rows.iter().find(|r| r.target == HoldTarget::SippAnswerer && r.calls == sb.calls) {
            println!(
                "{} calls: switchboard / sipp answerer calls per core {:.2}×, CPU {:.2}×",
                sb.calls,
                sb.calls_per_core() / peer.calls_per_core().max(f64::MIN_POSITIVE),
                sb.cores / peer.cores.max(f64::MIN_POSITIVE)
            );
        }
    }
    for r in rows {
        println!(
            "{}",
            json!({ "voice": "hold", "row": r, "calls_per_core": r.calls_per_core(), "kib_per_call": r.kib_per_call(), "held": r.passed() })
        );
    }
}

pub fn setup_header(plan: &SetupPlan) {
    println!(
        "voice setup: short calls (INVITE, 200, ACK, BYE) for {} s at each rate; Kamailio with {} workers",
        plan.seconds, plan.kamailio_workers
    );
    println!(
        "{:<12} {:>7} {:>7} {:>7} {:>9} {:>8} {:>11}  CPU % of machine: target / loadgen / other",
        "target", "rate", "calls", "failed", "calls/s", "CPU s", "calls/CPU-s",
    );
}

pub fn setup_line(s: &SetUp) {
    println!(
        "{:<12} {:>7} {:>7} {:>7} {:>9.1} {:>8.2} {:>11.0}  {:.0} / {:.0} / {:.0}",
        setup_name(s.target),
        s.rate,
        s.callers.successful,
        s.callers.failed,
        s.per_second(),
        s.cpu_seconds,
        s.per_cpu_second(),
        s.cpu.server,
        s.cpu.loadgen,
        s.cpu.other
    );
}

pub fn setup_summary(rows: &[SetUp]) {
    for sb in rows.iter().filter(|r| r.target == SetupTarget::Switchboard) {
        if let Some(k) = rows.iter().find(|r| r.target == SetupTarget::Kamailio && r.rate == sb.rate) {
            println!(
                "{} calls/s: switchboard / kamailio calls per CPU-second {:.3}×",
                sb.rate,
                sb.per_cpu_second() / k.per_cpu_second().max(f64::MIN_POSITIVE)
            );
        }
    }
    for r in rows {
        println!(
            "{}",
            json!({ "voice": "setup", "row": r, "per_second": r.per_second(), "per_cpu_second": r.per_cpu_second() })
        );
    }
}
