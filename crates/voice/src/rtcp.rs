//! RTCP (RFC 3550 §6): sender and receiver reports, source descriptions and
//! BYE, in compound packets, plus [`RtcpStats`], what one media session
//! counts to fill its reports and learns from its peer's.

use crate::rtp::{ReceiveStats, Ssrc, be32};
use thiserror::Error;

const SR: u8 = 200;
const RR: u8 = 201;
const SDES: u8 = 202;
const BYE: u8 = 203;
/// The SDES item type of a canonical name.
const CNAME: u8 = 1;
const REPORT_BLOCK: usize = 24;

/// Why bytes are not an RTCP compound packet.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RtcpError {
    /// A header or body shorter than declared.
    #[error("RTCP packet truncated at byte {0}")]
    Truncated(usize),
    /// Not version 2.
    #[error("RTCP version {0} (only 2 exists)")]
    Version(u8),
    /// A compound packet must start with a report (RFC 3550 §6.1).
    #[error("RTCP compound packet does not start with SR or RR")]
    NotReportFirst,
    /// Too many report blocks or items for the 5-bit count, or a long name.
    #[error("RTCP field out of range: {0}")]
    Field(&'static str),
}

/// What a receiver reports about one source (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportBlock {
    /// The source reported on.
    pub ssrc: Ssrc,
    /// Lost since the last report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative loss, a 24-bit signed number.
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub highest_sequence: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// The middle 32 bits of the last SR's NTP timestamp (0 = none).
    pub last_sr: u32,
    /// Delay since that SR in 1/65536 s.
    pub delay_since_last_sr: u32,
}

/// A sender's own figures (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderInfo {
    /// Wall clock as a 64-bit NTP timestamp.
    pub ntp: u64,
    /// The same instant on the RTP clock.
    pub rtp_timestamp: u32,
    /// Packets sent since the start.
    pub packets: u32,
    /// Payload octets sent since the start.
    pub octets: u32,
}

/// One packet of a compound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcpPacket {
    /// SR: the sender's figures and its reports on what it receives.
    SenderReport {
        /// The sender.
        ssrc: Ssrc,
        /// Its counts and clocks.
        info: SenderInfo,
        /// Up to 31 report blocks.
        reports: Vec<ReportBlock>,
    },
    /// RR: reports of a participant that has not sent lately.
    ReceiverReport {
        /// The reporter.
        ssrc: Ssrc,
        /// Up to 31 report blocks.
        reports: Vec<ReportBlock>,
    },
    /// SDES with each source's CNAME (other items are skipped).
    SourceDescription(Vec<(Ssrc, String)>),
    /// The sources leave.
    Bye(Vec<Ssrc>),
    /// A type this crate does not interpret (APP, feedback, XR…), kept as is.
    Other {
        /// Its packet type.
        packet_type: u8,
        /// The 5-bit count field.
        count: u8,
        /// The body after the 4-byte header.
        body: Vec<u8>,
    },
}

/// Parses a compound packet.
pub fn parse_compound(data: &[u8]) -> Result<Vec<RtcpPacket>, RtcpError> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < data.len() {
        if data.len() - at < 4 {
            return Err(RtcpError::Truncated(at));
        }
        let version = data[at] >> 6;
        if version != 2 {
            return Err(RtcpError::Version(version));
        }
        let padding = data[at] & 0x20 != 0;
        let count = data[at] & 0x1f;
        let packet_type = data[at + 1];
        let len = 4 * (usize::from(u16::from_be_bytes([data[at + 2], data[at + 3]])) + 1);
        if data.len() - at < len {
            return Err(RtcpError::Truncated(at));
        }
        let mut body = &data[at + 4..at + len];
        if padding {
            let pad = body.last().copied().map_or(0, usize::from);
            if pad == 0 || pad > body.len() {
                return Err(RtcpError::Truncated(at));
            }
            body = &body[..body.len() - pad];
        }
        out.push(parse_one(packet_type, count, body).ok_or(RtcpError::Truncated(at))?);
        at += len;
    }
    match out.first() {
        Some(RtcpPacket::SenderReport { .. } | RtcpPacket::ReceiverReport { .. }) => Ok(out),
        _ => Err(RtcpError::NotReportFirst),
    }
}

fn parse_one(packet_type: u8, count: u8, body: &[u8]) -> Option<RtcpPacket> {
    let count = usize::from(count);
    Some(match packet_type {
        SR => {
            let reports = report_blocks(body.get(24..)?, count)?;
            RtcpPacket::SenderReport {
                ssrc: Ssrc(be32(body.get(0..4)?)),
                info: SenderInfo {
                    ntp: (u64::from(be32(&body[4..8])) << 32) | u64::from(be32(&body[8..12])),
                    rtp_timestamp: be32(&body[12..16]),
                    packets: be32(&body[16..20]),
                    octets: be32(&body[20..24]),
                },
                reports,
            }
        }
        RR => RtcpPacket::ReceiverReport {
            ssrc: Ssrc(be32(body.get(0..4)?)),
            reports: report_blocks(body.get(4..)?, count)?,
        },
        SDES => RtcpPacket::SourceDescription(sdes_chunks(body, count)?),
        BYE => RtcpPacket::Bye(
            (0..count).map(|i| body.get(4 * i..4 * i + 4).map(|b| Ssrc(be32(b)))).collect::<Option<_>>()?,
        ),
        _ => RtcpPacket::Other { packet_type, count: count as u8, body: body.to_vec() },
    })
}

fn report_blocks(body: &[u8], count: usize) -> Option<Vec<ReportBlock>> {
    (0..count)
        .map(|i| {
            let b = body.get(i * REPORT_BLOCK..(i + 1) * REPORT_BLOCK)?;
            // Sign-extend the 24-bit cumulative loss.
            let lost = (i32::from_be_bytes([b[5], b[6], b[7], 0])) >> 8;
            Some(ReportBlock {
                ssrc: Ssrc(be32(&b[0..4])),
                fraction_lost: b[4],
                cumulative_lost: lost,
                highest_sequence: be32(&b[8..12]),
                jitter: be32(&b[12..16]),
                last_sr: be32(&b[16..20]),
                delay_since_last_sr: be32(&b[20..24]),
            })
        })
        .collect()
}

fn sdes_chunks(body: &[u8], count: usize) -> Option<Vec<(Ssrc, String)>> {
    let mut at = 0;
    let mut out = Vec::new();
    for _ in 0..count {
        let ssrc = Ssrc(be32(body.get(at..at + 4)?));
        at += 4;
        let mut cname = String::new();
        loop {
            let item = *body.get(at)?;
            if item == 0 {
                // The item list ends with a null octet, then pads to a word.
                at = (at + 4) & !3;
                break;
            }
            let len = usize::from(*body.get(at + 1)?);
            let text = body.get(at + 2..at + 2 + len)?;
            if item == CNAME {
                cname = String::from_utf8_lossy(text).into_owned();
            }
            at += 2 + len;
        }
        out.push((ssrc, cname));
    }
    Some(out)
}

/// Serialises packets into one compound (the caller puts a report first).
pub fn build_compound(packets: &[RtcpPacket]) -> Result<Vec<u8>, RtcpError> {
    let mut out = Vec::new();
    for p in packets {
        let start = out.len();
        out.extend_from_slice(&[0x80, 0, 0, 0]);
        let (packet_type, count) = match p {
            RtcpPacket::SenderReport { ssrc, info, reports } => {
                out.extend_from_slice(&ssrc.0.to_be_bytes());
                out.extend_from_slice(&info.ntp.to_be_bytes());
                out.extend_from_slice(&info.rtp_timestamp.to_be_bytes());
                out.extend_from_slice(&info.packets.to_be_bytes());
                out.extend_from_slice(&info.octets.to_be_bytes());
                write_blocks(&mut out, reports);
                (SR, reports.len())
            }
            RtcpPacket::ReceiverReport { ssrc, reports } => {
                out.extend_from_slice(&ssrc.0.to_be_bytes());
                write_blocks(&mut out, reports);
                (RR, reports.len())
            }
            RtcpPacket::SourceDescription(chunks) => {
                for (ssrc, cname) in chunks {
                    let len = u8::try_from(cname.len()).map_err(|_| RtcpError::Field("CNAME over 255 bytes"))?;
                    out.extend_from_slice(&ssrc.0.to_be_bytes());
                    out.extend_from_slice(&[CNAME, len]);
                    out.extend_from_slice(cname.as_bytes());
                    // At least one null octet ends the items, then pad to a word.
                    out.push(0);
                    while !(out.len() - start).is_multiple_of(4) {
                        out.push(0);
                    }
                }
                (SDES, chunks.len())
            }
            RtcpPacket::Bye(sources) => {
                for s in sources {
                    out.extend_from_slice(&s.0.to_be_bytes());
                }
                (BYE, sources.len())
            }
            RtcpPacket::Other { packet_type, count, body } => {
                if !body.len().is_multiple_of(4) {
                    return Err(RtcpError::Field("body is not a multiple of four bytes"));
                }
                out.extend_from_slice(body);
                (*packet_type, usize::from(*count))
            }
        };
        if count > 31 {
            return Err(RtcpError::Field("more than 31 items"));
        }
        let words = u16::try_from((out.len() - start) / 4 - 1).map_err(|_| RtcpError::Field("packet too long"))?;
        out[start] |= count as u8;
        out[start + 1] = packet_type;
        out[start + 2..start + 4].copy_from_slice(&words.to_be_bytes());
    }
    Ok(out)
}

fn write_blocks(out: &mut Vec<u8>, reports: &[ReportBlock]) {
    for r in reports {
        out.extend_from_slice(&r.ssrc.0.to_be_bytes());
        out.push(r.fraction_lost);
        out.extend_from_slice(&r.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff).to_be_bytes()[1..]);
        out.extend_from_slice(&r.highest_sequence.to_be_bytes());
        out.extend_from_slice(&r.jitter.to_be_bytes());
        out.extend_from_slice(&r.last_sr.to_be_bytes());
        out.extend_from_slice(&r.delay_since_last_sr.to_be_bytes());
    }
}

/// The middle 32 bits of an NTP timestamp, as LSR and round trips use them.
fn ntp_middle(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// One session's RTCP state: what it sent, what it receives, and what its
/// peer said about us.
#[derive(Debug, Clone)]
pub struct RtcpStats {
    /// Our source.
    pub ssrc: Ssrc,
    /// Our canonical name (SDES CNAME).
    pub cname: String,
    /// Packets we sent.
    pub packets_sent: u32,
    /// Payload octets we sent.
    pub octets_sent: u32,
    /// The peer's source and its receive statistics, once it sent.
    pub remote: Option<(Ssrc, ReceiveStats)>,
    /// The last SR of the peer: its NTP middle bits and our NTP time of arrival.
    last_sr: Option<(u32, u64)>,
    /// The peer's latest report on our stream.
    pub peer_report: Option<ReportBlock>,
    /// Round trip from the peer's last report, in 1/65536 s.
    pub round_trip: Option<u32>,
}

impl RtcpStats {
    /// Fresh figures for our source.
    pub fn new(ssrc: Ssrc, cname: impl Into<String>) -> Self {
        RtcpStats {
            ssrc,
            cname: cname.into(),
            packets_sent: 0,
            octets_sent: 0,
            remote: None,
            last_sr: None,
            peer_report: None,
            round_trip: None,
        }
    }

    /// Counts a packet we sent.
    pub fn sent(&mut self, payload_len: usize) {
        self.packets_sent = self.packets_sent.wrapping_add(1);
        self.octets_sent = self.octets_sent.wrapping_add(payload_len as u32);
    }

    /// Counts an RTP packet from the peer; `arrival` is on the RTP clock.
    pub fn received(&mut self, ssrc: Ssrc, sequence: u16, timestamp: u32, arrival: u32) {
        match &mut self.remote {
            Some((s, stats)) if *s == ssrc => {
                stats.record(sequence, timestamp, arrival);
            }
            _ => {
                // A new source (first packet, or the peer changed SSRC): count afresh.
                let mut stats = ReceiveStats::new();
                stats.record(sequence, timestamp, arrival);
                self.remote = Some((ssrc, stats));
            }
        }
    }

    /// Learns from the peer's compound packet; `now_ntp` is our wall clock.
    pub fn on_compound(&mut self, packets: &[RtcpPacket], now_ntp: u64) {
        for p in packets {
            let (reports, sr) = match p {
                RtcpPacket::SenderReport { info, reports, .. } => (reports, Some(info.ntp)),
                RtcpPacket::ReceiverReport { reports, .. } => (reports, None),
                _ => continue,
            };
            if let Some(ntp) = sr {
                self.last_sr = Some((ntp_middle(ntp), now_ntp));
            }
            if let Some(r) = reports.iter().find(|r| r.ssrc == self.ssrc) {
                self.peer_report = Some(*r);
                if r.last_sr != 0 {
                    // RFC 3550 §6.4.1: A − LSR − DLSR.
                    self.round_trip =
                        Some(ntp_middle(now_ntp).wrapping_sub(r.last_sr).wrapping_sub(r.delay_since_last_sr));
                }
            }
        }
    }

    /// Our report: SR when we have sent anything, RR otherwise, then SDES.
    /// `rtp_now` is the RTP timestamp matching `now_ntp`.
    pub fn report(&mut self, now_ntp: u64, rtp_now: u32) -> Vec<RtcpPacket> {
        let mut reports = Vec::new();
        if let Some((ssrc, stats)) = &mut self.remote {
            let (last_sr, delay) = match self.last_sr {
                Some((lsr, at)) => (lsr, ntp_middle(now_ntp.saturating_sub(at))),
                None => (0, 0),
            };
            reports.push(ReportBlock {
                ssrc: *ssrc,
                fraction_lost: stats.take_fraction_lost(),
                cumulative_lost: stats.cumulative_lost(),
                highest_sequence: stats.extended_max() as u32,
                jitter: stats.jitter(),
                last_sr,
                delay_since_last_sr: delay,
            });
        }
        let first = if self.packets_sent > 0 {
            RtcpPacket::SenderReport {
                ssrc: self.ssrc,
                info: SenderInfo {
                    ntp: now_ntp,
                    rtp_timestamp: rtp_now,
                    packets: self.packets_sent,
                    octets: self.octets_sent,
                },
                reports,
            }
        } else {
            RtcpPacket::ReceiverReport { ssrc: self.ssrc, reports }
        };
        vec![first, RtcpPacket::SourceDescription(vec![(self.ssrc, self.cname.clone())])]
    }
}

/// Converts a duration since the Unix epoch to a 64-bit NTP timestamp.
pub fn ntp_from_unix(since_epoch: std::time::Duration) -> u64 {
    // NTP counts from 1900; the Unix epoch is 70 years (17 leap days) later.
    const OFFSET: u64 = 2_208_988_800;
    let secs = since_epoch.as_secs() + OFFSET;
    let frac = (u64::from(since_epoch.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn block(ssrc: u32, lost: i32) -> ReportBlock {
        ReportBlock {
            ssrc: Ssrc(ssrc),
            fraction_lost: 12,
            cumulative_lost: lost,
            highest_sequence: 70_000,
            jitter: 33,
            last_sr: 0x1234_5678,
            delay_since_last_sr: 65_536,
        }
    }

    #[test]
    fn compound_round_trip() {
        let packets = vec![
            RtcpPacket::SenderReport {
                ssrc: Ssrc(1),
                info: SenderInfo { ntp: 0x0102_0304_0506_0708, rtp_timestamp: 160, packets: 3, octets: 480 },
                reports: vec![block(2, -5), block(3, 0x7f_ffff)],
            },
            RtcpPacket::SourceDescription(vec![(Ssrc(1), "a@example".into()), (Ssrc(9), String::new())]),
            RtcpPacket::Bye(vec![Ssrc(1)]),
            RtcpPacket::Other { packet_type: 204, count: 1, body: vec![1, 2, 3, 4] },
        ];
        let bytes = build_compound(&packets).unwrap();
        assert_eq!(bytes.len() % 4, 0);
        assert_eq!(parse_compound(&bytes).unwrap(), packets);
        let rr = vec![RtcpPacket::ReceiverReport { ssrc: Ssrc(4), reports: vec![] }];
        assert_eq!(parse_compound(&build_compound(&rr).unwrap()).unwrap(), rr);
    }

    #[test]
    fn a_compound_starts_with_a_report() {
        let bytes = build_compound(&[RtcpPacket::Bye(vec![Ssrc(1)])]).unwrap();
        assert_eq!(parse_compound(&bytes), Err(RtcpError::NotReportFirst));
        assert_eq!(parse_compound(&[0x80, 201, 0, 5, 0, 0]), Err(RtcpError::Truncated(0)));
    }

    #[test]
    fn stats_give_an_rr_then_an_sr_with_round_trip() {
        let mut a = RtcpStats::new(Ssrc(10), "a");
        let mut b = RtcpStats::new(Ssrc(20), "b");
        for seq in 0..50u16 {
            if seq != 7 {
                a.received(Ssrc(20), seq, u32::from(seq) * 160, u32::from(seq) * 160);
            }
            b.sent(160);
        }
        // b sends an SR at t = 1 s; a answers 0.5 s later; b receives it at 2 s.
        let t = |s: f64| ((s * 65536.0) as u64) << 16;
        let sr = b.report(t(1.0), 8000);
        assert!(matches!(sr[0], RtcpPacket::SenderReport { .. }));
        a.on_compound(&sr, t(1.0));
        let rr = a.report(t(1.5), 0);
        let RtcpPacket::ReceiverReport { reports, .. } = &rr[0] else { panic!("{rr:?}") };
        assert_eq!(reports[0].cumulative_lost, 1);
        assert_eq!(reports[0].highest_sequence, 49);
        assert_eq!(reports[0].fraction_lost, (256 / 50) as u8);
        b.on_compound(&parse_compound(&build_compound(&rr).unwrap()).unwrap(), t(2.0));
        assert_eq!(b.round_trip, Some(32_768), "the report took half a second back");
        assert_eq!(b.peer_report.unwrap().cumulative_lost, 1);
    }

    #[test]
    fn ntp_epoch() {
        assert_eq!(ntp_from_unix(std::time::Duration::ZERO) >> 32, 2_208_988_800);
        assert_eq!(ntp_from_unix(std::time::Duration::from_millis(500)) & 0xffff_ffff, 1 << 31);
    }

    proptest! {
        #![proptest_config(crate::proptest_config())]
        #[test]
        fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(packets) = parse_compound(&data) {
                // What parsed builds again (SDES may lose non-CNAME items, so compare parses).
                if let Ok(bytes) = build_compound(&packets) {
                    prop_assert_eq!(parse_compound(&bytes).unwrap(), packets);
                }
            }
        }

        #[test]
        fn blocks_round_trip(lost in -0x80_0000i32..0x80_0000, hs in any::<u32>(), j in any::<u32>(), f in any::<u8>()) {
            let b = ReportBlock { fraction_lost: f, cumulative_lost: lost, highest_sequence: hs, jitter: j, ..block(5, 0) };
            let p = vec![RtcpPacket::ReceiverReport { ssrc: Ssrc(1), reports: vec![b] }];
            prop_assert_eq!(parse_compound(&build_compound(&p).unwrap()).unwrap(), p);
        }
    }
}
