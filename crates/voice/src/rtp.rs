//! RTP packets (RFC 3550 §5) and the receive-side statistics of §A.1, §A.3
//! and §A.8: extended sequence numbers across wrap-around, loss and
//! interarrival jitter.

use thiserror::Error;

/// The fixed header's length; CSRCs and the extension follow it.
const FIXED_HEADER: usize = 12;

/// Why bytes are not an RTP packet.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RtpError {
    /// Shorter than the fixed header, or than the lengths it declares.
    #[error("RTP packet truncated: {needed} bytes needed, {got} present")]
    Truncated {
        /// Bytes the header says there are.
        needed: usize,
        /// Bytes received.
        got: usize,
    },
    /// Not version 2.
    #[error("RTP version {0} (only 2 exists)")]
    Version(u8),
    /// A padding count of zero or larger than the payload.
    #[error("RTP padding of {0} bytes is invalid")]
    Padding(u8),
    /// More than 15 CSRCs or a payload type above 127 when building.
    #[error("RTP field out of range: {0}")]
    Field(&'static str),
}

/// A header extension (RFC 3550 §5.3.1): a profile word and 32-bit words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// Defined by the profile that uses it.
    pub profile: u16,
    /// The extension body, a multiple of four bytes.
    pub data: Vec<u8>,
}

/// A synchronisation source identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ssrc(pub u32);

/// One RTP packet, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpPacket {
    /// Marks the first packet of a talk spurt (audio) or of an event (RFC 4733).
    pub marker: bool,
    /// 0..=127.
    pub payload_type: u8,
    /// Increments by one per packet, wrapping.
    pub sequence: u16,
    /// Sampling instant of the first payload octet (8 kHz for G.711).
    pub timestamp: u32,
    /// Who sends this stream.
    pub ssrc: Ssrc,
    /// Contributing sources (a mixer's inputs); at most 15.
    pub csrcs: Vec<u32>,
    /// The header extension, when the X bit is set.
    pub extension: Option<Extension>,
    /// The payload without padding.
    pub payload: Vec<u8>,
    /// Padding bytes to add when building (0 = none); set from the packet when parsing.
    pub padding: u8,
}

impl RtpPacket {
    /// A packet with no CSRC, extension or padding.
    pub fn new(payload_type: u8, sequence: u16, timestamp: u32, ssrc: Ssrc, payload: Vec<u8>) -> Self {
        RtpPacket {
            marker: false,
            payload_type,
            sequence,
            timestamp,
            ssrc,
            csrcs: Vec::new(),
            extension: None,
            payload,
            padding: 0,
        }
    }

    /// Parses a datagram.
    pub fn parse(data: &[u8]) -> Result<Self, RtpError> {
        let need = |needed: usize| {
            if data.len() < needed { Err(RtpError::Truncated { needed, got: data.len() }) } else { Ok(()) }
        };
        need(FIXED_HEADER)?;
        let version = data[0] >> 6;
        if version != 2 {
            return Err(RtpError::Version(version));
        }
        let has_padding = data[0] & 0x20 != 0;
        let has_extension = data[0] & 0x10 != 0;
        let csrc_count = usize::from(data[0] & 0x0f);
        let mut at = FIXED_HEADER + 4 * csrc_count;
        need(at)?;
        let csrcs = data[FIXED_HEADER..at].chunks_exact(4).map(be32).collect();
        let extension = if has_extension {
            need(at + 4)?;
            let profile = u16::from_be_bytes([data[at], data[at + 1]]);
            let words = usize::from(u16::from_be_bytes([data[at + 2], data[at + 3]]));
            let end = at + 4 + 4 * words;
            need(end)?;
            let ext = Extension { profile, data: data[at + 4..end].to_vec() };
            at = end;
            Some(ext)
        } else {
            None
        };
        let mut end = data.len();
        let mut padding = 0;
        if has_padding {
            padding = data[data.len() - 1];
            // The count includes itself, so zero is impossible, and it cannot eat the header.
            if padding == 0 || usize::from(padding) > data.len() - at {
                return Err(RtpError::Padding(padding));
            }
            end -= usize::from(padding);
        }
        Ok(RtpPacket {
            marker: data[1] & 0x80 != 0,
            payload_type: data[1] & 0x7f,
            sequence: u16::from_be_bytes([data[2], data[3]]),
            timestamp: be32(&data[4..8]),
            ssrc: Ssrc(be32(&data[8..12])),
            csrcs,
            extension,
            payload: data[at..end].to_vec(),
            padding,
        })
    }

    /// Serialises the packet.
    pub fn build(&self) -> Result<Vec<u8>, RtpError> {
        if self.csrcs.len() > 15 {
            return Err(RtpError::Field("more than 15 CSRCs"));
        }
        if self.payload_type > 127 {
            return Err(RtpError::Field("payload type above 127"));
        }
        let ext_len = self.extension.as_ref().map_or(0, |e| 4 + e.data.len());
        if let Some(e) = &self.extension
            && (e.data.len() % 4 != 0 || e.data.len() / 4 > usize::from(u16::MAX))
        {
            return Err(RtpError::Field("extension length is not a 16-bit count of words"));
        }
        let mut out = Vec::with_capacity(FIXED_HEADER + 4 * self.csrcs.len() + ext_len + self.payload.len() + 4);
        out.push(
            0x80 | if self.padding > 0 { 0x20 } else { 0 }
                | if self.extension.is_some() { 0x10 } else { 0 }
                | self.csrcs.len() as u8,
        );
        out.push(if self.marker { 0x80 } else { 0 } | self.payload_type);
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.0.to_be_bytes());
        for c in &self.csrcs {
            out.extend_from_slice(&c.to_be_bytes());
        }
        if let Some(e) = &self.extension {
            out.extend_from_slice(&e.profile.to_be_bytes());
            out.extend_from_slice(&((e.data.len() / 4) as u16).to_be_bytes());
            out.extend_from_slice(&e.data);
        }
        out.extend_from_slice(&self.payload);
        if self.padding > 0 {
            out.extend(std::iter::repeat_n(0, usize::from(self.padding) - 1));
            out.push(self.padding);
        }
        Ok(out)
    }
}

pub(crate) fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// A sequence number jump larger than this is a restart, not loss (RFC 3550 §A.1).
const MAX_DROPOUT: u16 = 3000;
/// Packets this far behind are old duplicates or reordering (RFC 3550 §A.1).
const MAX_MISORDER: u16 = 100;

/// What the receiver made of one packet's sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// In order or a little late: counted, with its extended sequence number.
    Accepted(u64),
    /// A large jump: the source probably restarted; counted once two in a row agree.
    Probation,
}

/// Receive statistics of one source: the extended highest sequence number,
/// expected and received counts and the interarrival jitter (RFC 3550 §A.8).
#[derive(Debug, Clone)]
pub struct ReceiveStats {
    started: bool,
    base_seq: u64,
    max_seq: u16,
    cycles: u64,
    bad_seq: Option<u16>,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
    /// Jitter in timestamp units, scaled by 16 as §A.8 keeps it for integer math.
    jitter_q4: u64,
    last_transit: Option<i64>,
}

impl ReceiveStats {
    /// Tracking starts at the first packet recorded.
    pub fn new() -> Self {
        ReceiveStats {
            started: false,
            base_seq: 0,
            max_seq: 0,
            cycles: 0,
            bad_seq: None,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            jitter_q4: 0,
            last_transit: None,
        }
    }

    /// Counts from `sequence` afresh (the first packet, or a source that restarted).
    fn restart(&mut self, sequence: u16) {
        self.started = true;
        self.base_seq = u64::from(sequence);
        self.max_seq = sequence;
        self.cycles = 0;
        self.bad_seq = None;
        self.received = 0;
        self.expected_prior = 0;
        self.received_prior = 0;
    }

    /// Records a packet: its sequence number, RTP timestamp and arrival time in
    /// timestamp units (8 kHz ticks of the receiver's clock).
    pub fn record(&mut self, sequence: u16, timestamp: u32, arrival: u32) -> Arrival {
        let delta = sequence.wrapping_sub(self.max_seq);
        let accepted = if !self.started {
            self.restart(sequence);
            true
        } else if delta < MAX_DROPOUT {
            if sequence < self.max_seq {
                self.cycles += 1 << 16;
            }
            self.max_seq = sequence;
            true
        } else if delta <= u16::MAX - MAX_MISORDER {
            // A big jump: accept it only when the next packet follows it (a restart).
            if self.bad_seq == Some(sequence) {
                self.restart(sequence);
                true
            } else {
                self.bad_seq = Some(sequence.wrapping_add(1));
                false
            }
        } else {
            // Duplicate or reordered: counted as received, the maximum stays.
            true
        };
        if !accepted {
            return Arrival::Probation;
        }
        self.received += 1;
        // Transit differences only need to be consistent, so wrapping 32-bit math is enough.
        let transit = i64::from(arrival.wrapping_sub(timestamp) as i32);
        if let Some(last) = self.last_transit {
            let d = (transit - last).unsigned_abs();
            // J += (|D| - J/16), kept scaled by 16.
            self.jitter_q4 = self.jitter_q4 + d.min(u64::from(u32::MAX)) - ((self.jitter_q4 + 8) >> 4);
        }
        self.last_transit = Some(transit);
        Arrival::Accepted(self.extended(sequence))
    }

    fn extended(&self, sequence: u16) -> u64 {
        // A late packet from before the last wrap belongs to the previous cycle.
        let cycles = if sequence > self.max_seq && self.cycles > 0 && sequence - self.max_seq > 0x8000 {
            self.cycles - (1 << 16)
        } else {
            self.cycles
        };
        cycles + u64::from(sequence)
    }

    /// The highest extended sequence number seen.
    pub fn extended_max(&self) -> u64 {
        self.cycles + u64::from(self.max_seq)
    }

    /// Packets expected from the first to the highest.
    pub fn expected(&self) -> u64 {
        if !self.started {
            return 0;
        }
        (self.extended_max() + 1).saturating_sub(self.base_seq)
    }

    /// Packets received (duplicates included, as RFC 3550 counts them).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Cumulative loss; negative when duplicates outnumber losses, clamped to
    /// the 24-bit signed range a report carries.
    pub fn cumulative_lost(&self) -> i32 {
        (self.expected() as i64 - self.received as i64).clamp(-0x80_0000, 0x7f_ffff) as i32
    }

    /// Interarrival jitter in timestamp units.
    pub fn jitter(&self) -> u32 {
        (self.jitter_q4 >> 4).min(u64::from(u32::MAX)) as u32
    }

    /// The fraction lost since the previous call, in 1/256 (RFC 3550 §A.3);
    /// call once per report.
    pub fn take_fraction_lost(&mut self) -> u8 {
        let expected = self.expected();
        let interval_expected = expected - self.expected_prior.min(expected);
        let interval_received = self.received - self.received_prior.min(self.received);
        self.expected_prior = expected;
        self.received_prior = self.received;
        if interval_expected == 0 || interval_received >= interval_expected {
            0
        } else {
            (((interval_expected - interval_received) << 8) / interval_expected).min(255) as u8
        }
    }
}

impl Default for ReceiveStats {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip_with_everything() {
        let mut p = RtpPacket::new(0, 65535, 0xdead_beef, Ssrc(7), vec![1, 2, 3]);
        p.marker = true;
        p.csrcs = vec![1, 2];
        p.extension = Some(Extension { profile: 0xbede, data: vec![9; 8] });
        p.padding = 5;
        let bytes = p.build().unwrap();
        assert_eq!(bytes.len(), 12 + 8 + 12 + 3 + 5);
        assert_eq!(RtpPacket::parse(&bytes).unwrap(), p);
    }

    #[test]
    fn rejects_bad_headers() {
        assert_eq!(RtpPacket::parse(&[0x80; 11]), Err(RtpError::Truncated { needed: 12, got: 11 }));
        assert_eq!(RtpPacket::parse(&[0x40; 12]), Err(RtpError::Version(1)));
        let mut p = RtpPacket::new(8, 1, 1, Ssrc(1), vec![]).build().unwrap();
        p[0] |= 0x20;
        p.push(0);
        assert_eq!(RtpPacket::parse(&p), Err(RtpError::Padding(0)));
        let mut q = RtpPacket::new(8, 1, 1, Ssrc(1), vec![]).build().unwrap();
        q[0] |= 0x0f;
        assert!(matches!(RtpPacket::parse(&q), Err(RtpError::Truncated { .. })));
    }

    #[test]
    fn sequence_wraps_into_the_extended_number() {
        let mut s = ReceiveStats::new();
        assert_eq!(s.record(65534, 0, 0), Arrival::Accepted(65534));
        assert_eq!(s.record(65535, 160, 160), Arrival::Accepted(65535));
        assert_eq!(s.record(1, 480, 480), Arrival::Accepted(65537));
        // Late packet from before the wrap.
        assert_eq!(s.record(0, 320, 500), Arrival::Accepted(65536));
        assert_eq!(s.extended_max(), 65537);
        assert_eq!(s.expected(), 4);
        assert_eq!(s.cumulative_lost(), 0);
    }

    #[test]
    fn loss_and_fraction() {
        let mut s = ReceiveStats::new();
        for seq in (100..200u16).filter(|q| q % 4 != 0) {
            s.record(seq, u32::from(seq) * 160, u32::from(seq) * 160);
        }
        assert_eq!(s.expected(), 99);
        assert_eq!(s.cumulative_lost(), 24);
        assert_eq!(s.take_fraction_lost(), (24 * 256 / 99) as u8);
        assert_eq!(s.take_fraction_lost(), 0);
        assert_eq!(s.jitter(), 0);
    }

    #[test]
    fn restart_needs_two_packets_in_a_row() {
        let mut s = ReceiveStats::new();
        s.record(10, 0, 0);
        assert_eq!(s.record(40_000, 0, 0), Arrival::Probation);
        assert_eq!(s.record(40_001, 0, 0), Arrival::Accepted(40_001));
        assert_eq!(s.expected(), 1);
    }

    #[test]
    fn jitter_follows_a_constant_delay_variation() {
        let mut s = ReceiveStats::new();
        // Arrivals alternate 0 and 80 ticks late: |D| = 80 every packet.
        for i in 0..400u32 {
            s.record(i as u16, i * 160, i * 160 + if i % 2 == 0 { 0 } else { 80 });
        }
        assert!((75..=80).contains(&s.jitter()), "{}", s.jitter());
    }

    proptest! {
        #![proptest_config(crate::proptest_config())]
        #[test]
        fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(p) = RtpPacket::parse(&data) {
                let again = RtpPacket::parse(&p.build().unwrap()).unwrap();
                prop_assert_eq!(again, p);
            }
        }

        #[test]
        fn build_parse_round_trip(
            marker in any::<bool>(), pt in 0u8..128, seq in any::<u16>(), ts in any::<u32>(), ssrc in any::<u32>(),
            csrcs in proptest::collection::vec(any::<u32>(), 0..16),
            ext in proptest::option::of((any::<u16>(), proptest::collection::vec(any::<[u8; 4]>(), 0..4))),
            payload in proptest::collection::vec(any::<u8>(), 0..64), padding in any::<u8>(),
        ) {
            let p = RtpPacket {
                marker, payload_type: pt, sequence: seq, timestamp: ts, ssrc: Ssrc(ssrc), csrcs,
                extension: ext.map(|(profile, words)| Extension { profile, data: words.concat() }),
                payload, padding,
            };
            prop_assert_eq!(RtpPacket::parse(&p.build().unwrap()).unwrap(), p);
        }

        #[test]
        fn stats_never_panic(seqs in proptest::collection::vec((any::<u16>(), any::<u32>(), any::<u32>()), 0..100)) {
            let mut s = ReceiveStats::new();
            for (q, ts, at) in seqs {
                s.record(q, ts, at);
                s.take_fraction_lost();
                let _ = (s.cumulative_lost(), s.jitter());
            }
        }
    }
}
