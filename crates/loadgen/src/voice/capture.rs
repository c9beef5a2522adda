//! The pacing of the audio under test, seen from outside the process that
//! sends it: tcpdump captures the loopback interface (the kernel stamps each
//! packet as the sender hands it over), and the capture is read afterwards.

use super::pcap::{Captured, read_rtp};
use crate::stats::percentile;
use anyhow::{Context, bail};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The packet interval every stream should keep.
const PTIME_MICROS: u32 = 20_000;
/// 8 kHz samples in 20 ms.
const FRAME_SAMPLES: u32 = 160;

/// tcpdump on loopback, keeping the UDP packets sent from a port range.
pub struct Capture {
    child: Child,
    file: PathBuf,
    log: PathBuf,
}

impl Capture {
    /// Starts capturing packets whose source port is in `ports` (both
    /// ends included); returns once tcpdump listens.
    pub async fn start(dir: &Path, label: &str, ports: (u16, u16)) -> anyhow::Result<Capture> {
        let file = dir.join(format!("{label}.pcap"));
        let log = dir.join(format!("{label}.tcpdump.log"));
        let err = std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        // Headers only (64 bytes reach the RTP header), a 64 MiB kernel buffer so
        // that tcpdump falling behind for a moment loses nothing, and no name lookups.
        let filter = format!("udp and src portrange {}-{}", ports.0, ports.1);
        let child = Command::new("tcpdump")
            .args(["-i", "lo", "-nn", "-s", "64", "-B", "65536", "-w"])
            .arg(&file)
            .arg(filter)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .context("starting tcpdump (Debian `tcpdump`; it needs the right to capture)")?;
        let mut capture = Capture { child, file, log };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !capture.log_text().contains("listening on") {
            if let Some(status) = capture.child.try_wait()? {
                bail!("tcpdump exited ({status}): {}", capture.log_text());
            }
            if Instant::now() > deadline {
                bail!("tcpdump did not start listening within 10 s: {}", capture.log_text());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(capture)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops tcpdump as Ctrl-C would (so it writes out what it holds and
    /// says what the kernel dropped) and reads the pacing from the capture.
    pub async fn stop(mut self) -> anyhow::Result<Pacing> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-INT", &pid]).status().context("running kill")?;
        if !sent.success() {
            bail!("could not interrupt tcpdump (pid {pid})");
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                bail!("tcpdump did not stop within 30 s of SIGINT");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let log = self.log_text();
        let dropped = log
            .lines()
            .find(|l| l.contains("dropped by kernel"))
            .and_then(|l| l.split_whitespace().next()?.parse().ok())
            .with_context(|| format!("tcpdump did not say what it dropped: {log}"))?;
        let packets = read_rtp(&self.file)?;
        let mut pacing = Pacing::of(&packets);
        pacing.capture_dropped = dropped;
        let _ = std::fs::remove_file(&self.file);
        Ok(pacing)
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How evenly the captured streams were paced, and what they lost.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Pacing {
    /// Streams seen (a stream is a source and destination port pair).
    pub streams: usize,
    pub packets: u64,
    /// |gap − 20 ms| between neighbouring packets of a stream (sequence and
    /// RTP timestamp one frame apart), over every stream, in milliseconds.
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// The worst stream's own p99.
    pub worst_stream_p99_ms: f64,
    /// Frames missing inside the captured span: sequence numbers skipped,
    /// and frames the sender's clock skipped (RTP timestamp jumps).
    pub lost: u64,
    pub loss_percent: f64,
    /// Packets tcpdump itself lost: when not 0, `lost` may be the capture's.
    pub capture_dropped: u64,
}

impl Pacing {
    /// The pacing of `packets` (in capture order), G.711 audio only.
    pub fn of(packets: &[Captured]) -> Pacing {
        let mut streams: HashMap<(u16, u16), Stream> = HashMap::new();
        for p in packets.iter().filter(|p| matches!(p.payload_type, 0 | 8)) {
            streams.entry((p.src_port, p.dst_port)).or_default().add(p);
        }
        let mut all = Vec::new();
        let (mut lost, mut received, mut worst) = (0u64, 0u64, 0u32);
        for s in streams.values_mut() {
            s.deviations.sort_unstable();
            worst = worst.max(percentile(&s.deviations, 0.99));
            all.extend_from_slice(&s.deviations);
            lost += s.lost;
            received += s.received;
        }
        all.sort_unstable();
        let ms = |micros: u32| f64::from(micros) / 1000.0;
        let expected = (received + lost).max(1);
        Pacing {
            streams: streams.len(),
            packets: received,
            p50_ms: ms(percentile(&all, 0.50)),
            p99_ms: ms(percentile(&all, 0.99)),
            p999_ms: ms(percentile(&all, 0.999)),
            max_ms: ms(percentile(&all, 1.0)),
            worst_stream_p99_ms: ms(worst),
            lost,
            loss_percent: 100.0 * lost as f64 / expected as f64,
            capture_dropped: 0,
        }
    }
}

#[derive(Default)]
struct Stream {
    last: Option<Captured>,
    deviations: Vec<u32>,
    received: u64,
    lost: u64,
}

impl Stream {
    fn add(&mut self, p: &Captured) {
        self.received += 1;
        if let Some(last) = self.last {
            let seq = p.sequence.wrapping_sub(last.sequence);
            let frames = p.timestamp.wrapping_sub(last.timestamp) / FRAME_SAMPLES;
            // A step back or far ahead is a new source (a player starting over): not a gap.
            if (1..1000).contains(&seq) && frames < 50_000 {
                let skipped = u64::from(seq - 1).max(u64::from(frames.saturating_sub(1)));
                self.lost += skipped;
                if skipped == 0 {
                    let gap = (p.nanos.saturating_sub(last.nanos) / 1000) as u32;
                    self.deviations.push(gap.abs_diff(PTIME_MICROS));
                }
            }
        }
        self.last = Some(*p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(ms: u64, sequence: u16, timestamp: u32, src_port: u16) -> Captured {
        Captured { nanos: ms * 1_000_000, src_port, dst_port: 9, payload_type: 0, sequence, timestamp }
    }

    #[test]
    fn deviations_and_losses() {
        let packets = [
            packet(0, 10, 1600, 1),
            packet(20, 11, 1760, 1),
            packet(43, 12, 1920, 1), // 3 ms late
            packet(60, 13, 2080, 1),
            packet(100, 15, 2400, 1), // one sequence number skipped
            packet(140, 16, 2720, 1), // the clock skipped one frame
            packet(0, 100, 0, 2),
            packet(20, 101, 160, 2),
        ];
        let p = Pacing::of(&packets);
        assert_eq!((p.streams, p.packets, p.lost), (2, 8, 2));
        assert_eq!(p.max_ms, 3.0);
        assert_eq!(p.worst_stream_p99_ms, 3.0);
        assert!((p.loss_percent - 20.0).abs() < 1e-9);
    }

    #[test]
    fn a_player_starting_over_is_not_a_loss() {
        let p = Pacing::of(&[packet(0, 500, 80_000, 1), packet(20, 0, 0, 1), packet(40, 1, 160, 1)]);
        assert_eq!((p.lost, p.packets), (0, 3));
    }
}
