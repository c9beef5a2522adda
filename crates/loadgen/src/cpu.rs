//! Where the machine's CPU went during a measured window: the server
//! process, this load generator, and everything else (the database server,
//! the kernel's loopback work on other threads, other processes).
//!
//! Client and server share the machine, so a server figure means little
//! without knowing how much of the CPU the clients took.

use serde::Serialize;

/// Cumulative CPU counters at one instant, in clock ticks.
#[derive(Clone, Copy, Debug, Default)]
pub struct Snapshot {
    busy: u64,
    total: u64,
    server: u64,
    client: u64,
}

/// Shares of all cores over a window, in percent of the whole machine.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Shares {
    pub machine_busy: f64,
    pub server: f64,
    pub loadgen: f64,
    pub other: f64,
}

impl Snapshot {
    /// Reads /proc; zeros where it cannot (the shares then say nothing).
    pub fn take(server_pid: u32) -> Snapshot {
        let (busy, total) = machine().unwrap_or_default();
        Snapshot { busy, total, server: tree(server_pid), client: process("self").unwrap_or_default() }
    }

    pub fn shares_until(self, end: Snapshot) -> Shares {
        let total = end.total.saturating_sub(self.total).max(1) as f64;
        let pct = |a: u64, b: u64| 100.0 * b.saturating_sub(a) as f64 / total;
        let busy = pct(self.busy, end.busy);
        let server = pct(self.server, end.server);
        let loadgen = pct(self.client, end.client);
        Shares { machine_busy: busy, server, loadgen, other: (busy - server - loadgen).max(0.0) }
    }
}

/// Busy and total ticks of all cores, from the `cpu` line of /proc/stat.
fn machine() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = text.lines().next()?.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3)? + fields.get(4)?;
    Some((total - idle, total))
}

/// User + system ticks of a process, all its threads (/proc/PID/stat).
fn process(pid: &str) -> Option<u64> {
    Some(stat(pid)?.1)
}

/// Ticks of a process and of its live descendants: a server may work in
/// several processes (Kamailio's workers are children of its first process).
fn tree(pid: u32) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else { return 0 };
    let all: Vec<(u32, u32, u64)> = dir
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let (parent, ticks) = stat(&name)?;
            Some((name.parse().ok()?, parent, ticks))
        })
        .collect();
    let mut members = vec![pid];
    let mut total = 0;
    while let Some(p) = members.pop() {
        for &(child, parent, ticks) in &all {
            if child == p {
                total += ticks;
            }
            if parent == p {
                members.push(child);
            }
        }
    }
    total
}

/// A process's parent and its user + system ticks, all its threads (/proc/PID/stat).
fn stat(pid: &str) -> Option<(u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after it do not.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // ppid is field 4 of the line, utime and stime 14 and 15: indices 1, 11 and 12 from the state on.
    let parent = fields.get(1)?.parse().ok()?;
    Some((parent, fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?))
}
