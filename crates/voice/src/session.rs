//! One RTP media session over UDP: it sends 20 ms G.711 frames on a fixed
//! schedule (a prompt, DTMF digits as RFC 4733 events, or silence), receives
//! the peer's audio through the jitter buffer and its digits through the
//! DTMF receiver, and exchanges RTCP reports on the next port up.
//!
//! NAT: RTP and RTCP go to the address the SDP gave until the peer's first
//! valid packet arrives; from then on they go where that packet came from
//! (symmetric RTP, RFC 4961), latched once so that a stray packet later
//! cannot steal the stream.

use crate::dtmf::{self, Digit, EventPacket};
use crate::g711::Law;
use crate::jitter::{FRAME_SAMPLES, Frame, JitterBuffer, Playout, SILENCE};
use crate::prompt::Prompt;
use crate::rtcp::{self, ReportBlock, RtcpStats};
use crate::rtp::{RtpPacket, Ssrc};
use crate::sdp::{Direction, Negotiated};
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use switchboard_service::metrics::CallFigures;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The packet interval.
pub const PTIME: Duration = Duration::from_millis(20);
/// How long each digit we send lasts.
const DIGIT_MS: u32 = 100;
/// Frames of normal audio between two digits we send (the inter-digit pause).
const DIGIT_GAP: u32 = 3;
/// Frames the schedule may fall behind before it skips ahead instead of bursting.
const MAX_BEHIND: u32 = 5;
/// Received frames held before playout (60 ms) and at most (200 ms).
const JITTER_TARGET: usize = 3;
const JITTER_DEPTH: usize = 10;
/// Events waiting for the owner; audio beyond this is dropped, never blocking the media loop.
const EVENT_QUEUE: usize = 512;

/// The two sockets of a session: RTP on an even port, RTCP on the next.
#[derive(Debug)]
pub struct MediaPorts {
    rtp: UdpSocket,
    rtcp: UdpSocket,
}

impl MediaPorts {
    /// Binds an even port and the odd one above it on `ip`.
    pub async fn bind(ip: IpAddr) -> std::io::Result<Self> {
        let mut last_error = None;
        for _ in 0..64 {
            let rtp = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
            let port = rtp.local_addr()?.port();
            // RFC 3550 §11: RTP on an even port; an odd one is skipped.
            if port % 2 != 0 || port == u16::MAX {
                continue;
            }
            match UdpSocket::bind(SocketAddr::new(ip, port + 1)).await {
                Ok(rtcp) => return Ok(MediaPorts { rtp, rtcp }),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| std::io::Error::other("no free even/odd port pair")))
    }

    /// Binds `port` (even) and the one above it on `ip`: a port from the
    /// configured range, which a firewall lets through.
    pub async fn bind_at(ip: IpAddr, port: u16) -> std::io::Result<Self> {
        if !port.is_multiple_of(2) || port == u16::MAX {
            return Err(std::io::Error::other("RTP takes an even port"));
        }
        let rtp = UdpSocket::bind(SocketAddr::new(ip, port)).await?;
        let rtcp = UdpSocket::bind(SocketAddr::new(ip, port + 1)).await?;
        Ok(MediaPorts { rtp, rtcp })
    }

    /// The RTP address, for the SDP.
    pub fn rtp_addr(&self) -> std::io::Result<SocketAddr> {
        self.rtp.local_addr()
    }
}

/// What a session needs from the negotiation.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Where to send until the peer's packets show where it really is.
    pub remote: SocketAddr,
    /// The codec.
    pub law: Law,
    /// Its payload type.
    pub payload_type: u8,
    /// The telephone-event payload type, if negotiated.
    pub telephone_event: Option<u8>,
    /// Whether we send, receive, both or neither.
    pub direction: Direction,
    /// Our SSRC.
    pub ssrc: Ssrc,
    /// Our RTCP canonical name.
    pub cname: String,
    /// The mean RTCP report interval (RFC 3550's minimum is 5 s); each
    /// report comes after 0.5 to 1.5 times it.
    pub rtcp_interval: Duration,
    /// Where the session counts what it received, lost and played late
    /// (told at each report and at its end), if anywhere.
    pub figures: Option<Arc<CallFigures>>,
}

impl SessionConfig {
    /// The configuration for what an offer/answer settled.
    pub fn from_negotiated(n: &Negotiated, ssrc: Ssrc, cname: impl Into<String>) -> Self {
        SessionConfig {
            remote: n.remote,
            law: n.law,
            payload_type: n.payload_type,
            telephone_event: n.telephone_event,
            direction: n.direction,
            ssrc,
            cname: cname.into(),
            rtcp_interval: Duration::from_secs(5),
            figures: None,
        }
    }
}

/// What the session tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// The peer pressed a key (once per key press).
    Digit(Digit),
    /// 20 ms of the peer's audio, after the jitter buffer (concealed frames included).
    Audio(Box<Frame>),
    /// The prompt being played has been sent to the end.
    PromptDone,
    /// The peer's latest RTCP report on our stream, with the round trip in
    /// 1/65536 s when it could be computed.
    PeerReport(ReportBlock, Option<u32>),
}

enum Command {
    Play(Prompt),
    Hush,
    Feed(Box<Frame>),
    Digits(Vec<Digit>),
    Direction(Direction),
}

/// A running session; dropping it (or [`MediaSession::stop`]) ends it.
#[derive(Debug)]
pub struct MediaSession {
    commands: mpsc::UnboundedSender<Command>,
    task: JoinHandle<()>,
    local: SocketAddr,
}

impl MediaSession {
    /// Starts the media loop on the current tokio runtime.
    pub fn start(ports: MediaPorts, config: SessionConfig) -> std::io::Result<(Self, mpsc::Receiver<MediaEvent>)> {
        let local = ports.rtp.local_addr()?;
        let (commands, rx) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::channel(EVENT_QUEUE);
        let media = Media::new(ports, config, events);
        let task = tokio::spawn(media.run(rx));
        Ok((MediaSession { commands, task, local }, events_rx))
    }

    /// Our RTP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Plays a prompt from its start, replacing one that is playing.
    pub fn play(&self, prompt: Prompt) {
        let _ = self.commands.send(Command::Play(prompt));
    }

    /// Stops the prompt playing (hold music once an agent answers), with no `PromptDone`.
    pub fn hush(&self) {
        let _ = self.commands.send(Command::Hush);
    }

    /// Sends 20 ms of live audio (the other leg of a bridge) in place of
    /// prompts: frames are queued (at most [`JITTER_DEPTH`], the oldest
    /// giving way) and sent on this session's own clock, so two sessions'
    /// clocks need not agree.
    pub fn feed(&self, frame: Box<Frame>) {
        let _ = self.commands.send(Command::Feed(frame));
    }

    /// Sends keys as RFC 4733 events, one after the other; characters that
    /// are not keys are skipped. Without a negotiated telephone-event nothing is sent.
    pub fn send_digits(&self, keys: &str) {
        let _ = self.commands.send(Command::Digits(keys.chars().filter_map(Digit::from_char).collect()));
    }

    /// Changes direction (hold and resume after a re-INVITE).
    pub fn set_direction(&self, direction: Direction) {
        let _ = self.commands.send(Command::Direction(direction));
    }

    /// Ends the session and waits for its loop to finish.
    pub async fn stop(self) {
        let MediaSession { commands, task, .. } = self;
        drop(commands);
        let _ = task.await;
    }
}

/// A fixed 20 ms schedule from a start instant: deadlines never drift with
/// how late a wake-up was, and after a long stall the schedule skips ahead
/// instead of sending a burst.
#[derive(Debug, Clone)]
pub struct Pacer {
    start: Instant,
    ticks: u64,
}

impl Pacer {
    /// A schedule whose first tick is at `start`.
    pub fn new(start: Instant) -> Self {
        Pacer { start, ticks: 0 }
    }

    /// When the next tick is due.
    pub fn deadline(&self) -> Instant {
        self.start + PTIME * self.ticks as u32
    }

    /// Takes the due tick at `now`; returns how many ticks were skipped
    /// (0 normally), so the RTP clock can move on by as many frames.
    pub fn tick(&mut self, now: Instant) -> u32 {
        let due = (now.saturating_duration_since(self.start).as_micros() / PTIME.as_micros()) as u64;
        let skipped = if due > self.ticks + u64::from(MAX_BEHIND) { (due - self.ticks) as u32 } else { 0 };
        self.ticks += u64::from(skipped) + 1;
        skipped
    }
}

struct Media {
    ports: MediaPorts,
    config: SessionConfig,
    events: mpsc::Sender<MediaEvent>,
    remote: SocketAddr,
    remote_rtcp: SocketAddr,
    latched: bool,
    rtcp_latched: bool,
    start: Instant,
    sequence: u16,
    timestamp: u32,
    marker: bool,
    prompt: Option<(Prompt, usize)>,
    /// Live frames to send, and whether enough have come to start (see `next_samples`).
    live: VecDeque<Frame>,
    live_flowing: bool,
    digits: VecDeque<Digit>,
    event: VecDeque<EventPacket>,
    gap: u32,
    jitter: JitterBuffer,
    dtmf: dtmf::Receiver,
    stats: RtcpStats,
    /// What was told to `config.figures` so far: the source, its packets received and lost, late frames.
    told: (Option<Ssrc>, u64, u64, u64),
}

fn random_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded per process from the OS; enough for sequence and timestamp starts.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64));
    h.finish() as u32
}

impl Media {
    fn new(ports: MediaPorts, config: SessionConfig, events: mpsc::Sender<MediaEvent>) -> Self {
        let remote = config.remote;
        Media {
            ports,
            events,
            remote,
            remote_rtcp: SocketAddr::new(remote.ip(), remote.port().wrapping_add(1)),
            latched: false,
            rtcp_latched: false,
            start: Instant::now(),
            // RFC 3550 §5.1: random starts make known-plaintext attacks harder.
            sequence: random_u32() as u16,
            timestamp: random_u32(),
            marker: true,
            prompt: None,
            live: VecDeque::new(),
            live_flowing: false,
            digits: VecDeque::new(),
            event: VecDeque::new(),
            gap: 0,
            jitter: JitterBuffer::new(JITTER_TARGET, JITTER_DEPTH),
            dtmf: dtmf::Receiver::new(),
            stats: RtcpStats::new(config.ssrc, config.cname.clone()),
            told: (None, 0, 0, 0),
            config,
        }
    }

    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut pacer = Pacer::new(self.start);
        let mut next_rtcp = self.start + rtcp_delay(self.config.rtcp_interval);
        let mut rtp_buf = vec![0u8; 2048];
        let mut rtcp_buf = vec![0u8; 2048];
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    None => break,
                    Some(Command::Play(p)) => self.prompt = Some((p, 0)),
                    Some(Command::Hush) => self.prompt = None,
                    Some(Command::Feed(frame)) => {
                        if self.live.len() >= JITTER_DEPTH {
                            self.live.pop_front();
                        }
                        self.live.push_back(*frame);
                    }
                    Some(Command::Digits(d)) => {
                        if self.config.telephone_event.is_some() {
                            self.digits.extend(d);
                        }
                    }
                    Some(Command::Direction(d)) => self.config.direction = d,
                },
                received = self.ports.rtp.recv_from(&mut rtp_buf) => {
                    // Errors on an unconnected UDP socket are transient (an ICMP report); keep going.
                    if let Ok((n, from)) = received {
                        self.on_rtp(&rtp_buf[..n], from);
                    }
                }
                received = self.ports.rtcp.recv_from(&mut rtcp_buf) => {
                    if let Ok((n, from)) = received {
                        self.on_rtcp(&rtcp_buf[..n], from);
                    }
                }
                () = tokio::time::sleep_until(pacer.deadline()) => {
                    let skipped = pacer.tick(Instant::now());
                    self.timestamp = self.timestamp.wrapping_add(skipped * FRAME_SAMPLES as u32);
                    self.on_tick().await;
                }
                () = tokio::time::sleep_until(next_rtcp) => {
                    next_rtcp += rtcp_delay(self.config.rtcp_interval);
                    self.send_rtcp().await;
                    self.tell(true);
                }
            }
        }
        self.tell(false);
    }

    /// Adds what was received, lost and late since the last time to the
    /// figures; with `jitter`, the interarrival jitter now too.
    fn tell(&mut self, jitter: bool) {
        let Some(figures) = &self.config.figures else { return };
        let late = self.jitter.counts().late;
        let (ssrc, received, lost, stats_jitter) = match &self.stats.remote {
            Some((ssrc, s)) => (Some(*ssrc), s.received(), s.cumulative_lost().max(0) as u64, Some(s.jitter())),
            None => (None, 0, 0, None),
        };
        // A new source counts from nothing.
        let (told_ssrc, told_received, told_lost, told_late) = self.told;
        let (from_received, from_lost) = if told_ssrc == ssrc { (told_received, told_lost) } else { (0, 0) };
        figures.media(
            received.saturating_sub(from_received),
            lost.saturating_sub(from_lost),
            late.saturating_sub(told_late),
        );
        if jitter && let Some(j) = stats_jitter {
            // RTP units of the 8 kHz clock: 125 µs each.
            figures.jitter(Duration::from_micros(u64::from(j) * 125));
        }
        self.told = (ssrc, received.max(from_received), lost.max(from_lost), late);
    }

    /// Our clock in RTP units (8 kHz), for jitter.
    fn arrival(&self) -> u32 {
        (self.start.elapsed().as_micros() * 8 / 1000) as u32
    }

    fn on_rtp(&mut self, data: &[u8], from: SocketAddr) {
        let Ok(packet) = RtpPacket::parse(data) else { return };
        let is_event = Some(packet.payload_type) == self.config.telephone_event;
        if packet.payload_type != self.config.payload_type && !is_event {
            return;
        }
        if !self.latched {
            self.latched = true;
            self.remote = from;
            if !self.rtcp_latched {
                self.remote_rtcp = SocketAddr::new(from.ip(), from.port().wrapping_add(1));
            }
        }
        self.stats.received(packet.ssrc, packet.sequence, packet.timestamp, self.arrival());
        if !self.config.direction.receives() {
            return;
        }
        if is_event {
            if let Ok(Some(d)) = self.dtmf.receive(packet.timestamp, &packet.payload) {
                let _ = self.events.try_send(MediaEvent::Digit(d));
            }
            return;
        }
        // Frames other than 20 ms are cut or padded to 20 ms (ptime 20 is what we offer and answer).
        let mut frame = SILENCE;
        for (o, s) in frame.iter_mut().zip(self.config.law.decode(&packet.payload)) {
            *o = s;
        }
        self.jitter.push(packet.sequence, frame);
    }

    fn on_rtcp(&mut self, data: &[u8], from: SocketAddr) {
        let Ok(packets) = rtcp::parse_compound(data) else { return };
        if !self.rtcp_latched {
            self.rtcp_latched = true;
            self.remote_rtcp = from;
        }
        let before = self.stats.peer_report;
        self.stats.on_compound(&packets, now_ntp());
        if let Some(report) = self.stats.peer_report
            && Some(report) != before
        {
            let _ = self.events.try_send(MediaEvent::PeerReport(report, self.stats.round_trip));
        }
    }

    async fn on_tick(&mut self) {
        if let Playout::Audio(frame) | Playout::Concealed(frame) = self.jitter.pop() {
            // A full queue means the owner is not reading: drop audio rather than stall the clock.
            let _ = self.events.try_send(MediaEvent::Audio(frame));
        }
        let timestamp = self.timestamp;
        self.timestamp = self.timestamp.wrapping_add(FRAME_SAMPLES as u32);
        if !self.config.direction.sends() {
            return;
        }
        if let Some(te) = self.config.telephone_event {
            if self.event.is_empty()
                && self.gap == 0
                && let Some(d) = self.digits.pop_front()
            {
                self.event = dtmf::send(d, timestamp, DIGIT_MS).into();
            }
            if let Some(p) = self.event.pop_front() {
                if self.event.is_empty() {
                    self.gap = DIGIT_GAP;
                }
                self.send_rtp(te, p.marker, p.timestamp, p.payload.to_vec()).await;
                return;
            }
            self.gap = self.gap.saturating_sub(1);
        }
        let samples = self.next_samples();
        let payload = self.config.law.encode(&samples);
        let marker = std::mem::take(&mut self.marker);
        self.send_rtp(self.config.payload_type, marker, timestamp, payload).await;
    }

    /// The next 20 ms of live audio, else of the prompt (padded at its end), else silence.
    fn next_samples(&mut self) -> Frame {
        // Two frames are held before live audio flows (and again after it ran
        // dry), so the feeder's clock wandering against ours does not cut every other frame.
        self.live_flowing = if self.live_flowing { !self.live.is_empty() } else { self.live.len() >= 2 };
        if self.live_flowing
            && let Some(frame) = self.live.pop_front()
        {
            return frame;
        }
        let mut frame = SILENCE;
        if let Some((prompt, at)) = &mut self.prompt {
            let rest = &prompt.samples()[*at..];
            let n = rest.len().min(FRAME_SAMPLES);
            frame[..n].copy_from_slice(&rest[..n]);
            *at += n;
            if *at >= prompt.samples().len() {
                self.prompt = None;
                let _ = self.events.try_send(MediaEvent::PromptDone);
            }
        }
        frame
    }

    async fn send_rtp(&mut self, payload_type: u8, marker: bool, timestamp: u32, payload: Vec<u8>) {
        let mut packet = RtpPacket::new(payload_type, self.sequence, timestamp, self.config.ssrc, payload);
        packet.marker = marker;
        self.sequence = self.sequence.wrapping_add(1);
        let Ok(bytes) = packet.build() else { return };
        // A send error (no route yet, buffer full) loses one frame; the schedule goes on.
        if self.ports.rtp.send_to(&bytes, self.remote).await.is_ok() {
            self.stats.sent(packet.payload.len());
        }
    }

    async fn send_rtcp(&mut self) {
        let packets = self.stats.report(now_ntp(), self.timestamp);
        if let Ok(bytes) = rtcp::build_compound(&packets) {
            let _ = self.ports.rtcp.send_to(&bytes, self.remote_rtcp).await;
        }
    }
}

/// The interval times a random factor in [0.5, 1.5) (RFC 3550 §6.3.5), so
/// that sessions started together do not report in lockstep.
fn rtcp_delay(interval: Duration) -> Duration {
    interval.mul_f64(0.5 + f64::from(random_u32()) / f64::from(u32::MAX).next_up())
}

fn now_ntp() -> u64 {
    rtcp::ntp_from_unix(SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_schedule_does_not_drift_and_skips_a_stall() {
        let start = Instant::now();
        let mut p = Pacer::new(start);
        for n in 0..1000u32 {
            tokio::time::sleep_until(p.deadline()).await;
            // Wake-ups are late by a varying amount; the deadlines stay on the grid.
            tokio::time::advance(Duration::from_micros(u64::from(n % 7) * 900)).await;
            assert_eq!(p.tick(Instant::now()), 0);
        }
        assert_eq!(p.deadline(), start + PTIME * 1000);
        // A one-second stall: the frames are skipped, not sent in a burst.
        tokio::time::advance(Duration::from_secs(1)).await;
        let skipped = p.tick(Instant::now());
        assert_eq!(skipped, 49, "the frames due during the stall");
        assert!(p.deadline() > Instant::now());
    }
}
