//! pcap files both ways: the caller's audio written for sipp to play, and
//! the capture of the audio under test read back.
//!
//! The format is libpcap's classic one (a 24-byte file header, then a
//! 16-byte header per packet); Ethernet framing, since that is what the
//! loopback interface captures as and what sipp reads.

use anyhow::{Context, bail};
use std::path::Path;
use switchboard_voice::g711::Law;
use switchboard_voice::hold::hold_music;
use switchboard_voice::rtp::{RtpPacket, Ssrc};

const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
const LINKTYPE_ETHERNET: u32 = 1;
const ETHERNET: usize = 14;
const UDP: usize = 8;
/// The port the packets are addressed to in the file; sipp replaces it with the call's.
const FILE_PORT: u16 = 6000;

/// `seconds` of G.711 µ-law in 20 ms RTP packets (the hold music's loop,
/// repeated), timed 20 ms apart: what sipp plays as the caller's voice.
pub fn write_caller_audio(path: &Path, seconds: u32) -> anyhow::Result<()> {
    let music = hold_music();
    let samples = music.samples();
    let mut out = file_header();
    for n in 0..seconds * 50 {
        let at = (n as usize * 160) % (samples.len() - 160);
        let payload = Law::Ulaw.encode(&samples[at..at + 160]);
        let packet = RtpPacket::new(0, n as u16, n * 160, Ssrc(0x5151_0001), payload).build()?;
        let frame = frame(&packet);
        let micros = u64::from(n) * 20_000;
        out.extend_from_slice(&((micros / 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&((micros % 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&frame);
    }
    std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))
}

fn file_header() -> Vec<u8> {
    let mut h = Vec::with_capacity(24);
    h.extend_from_slice(&MAGIC_MICROS.to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&4u16.to_le_bytes());
    h.extend_from_slice(&[0; 8]); // time zone and accuracy
    h.extend_from_slice(&65_535u32.to_le_bytes());
    h.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
    h
}

/// An Ethernet frame carrying `payload` in UDP over IPv4 on loopback.
fn frame(payload: &[u8]) -> Vec<u8> {
    let udp_len = (UDP + payload.len()) as u16;
    let ip_len = 20 + udp_len;
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&0x0800u16.to_be_bytes());
    let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1];
    ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
    let checksum = !fold(ip_sum(&ip)) as u16;
    ip[10..12].copy_from_slice(&checksum.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&FILE_PORT.to_be_bytes());
    f.extend_from_slice(&FILE_PORT.to_be_bytes());
    f.extend_from_slice(&udp_len.to_be_bytes());
    f.extend_from_slice(&[0, 0]); // no UDP checksum: sipp computes its own
    f.extend_from_slice(payload);
    f
}

fn ip_sum(header: &[u8]) -> u32 {
    header.chunks(2).map(|w| u32::from(u16::from_be_bytes([w[0], w[1]]))).sum()
}

fn fold(mut sum: u32) -> u32 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum
}

/// One captured RTP packet: when the interface saw it, its ports and its fixed header.
#[derive(Clone, Copy, Debug)]
pub struct Captured {
    pub nanos: u64,
    pub src_port: u16,
    pub dst_port: u16,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
}

/// The UDP packets of a capture that carry an RTP header (version 2); the
/// capture may cut packets after it (`tcpdump -s`).
pub fn read_rtp(path: &Path) -> anyhow::Result<Vec<Captured>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() < 24 {
        bail!("{}: not a pcap file (only {} bytes)", path.display(), bytes.len());
    }
    let word = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let per_unit = match word(0) {
        MAGIC_MICROS => 1_000,
        MAGIC_NANOS => 1,
        m => bail!("{}: not a little-endian pcap file (magic {m:#x})", path.display()),
    };
    if word(20) != LINKTYPE_ETHERNET {
        bail!("{}: link type {} (expected Ethernet, as loopback captures)", path.display(), word(20));
    }
    let mut packets = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let nanos = u64::from(word(at)) * 1_000_000_000 + u64::from(word(at + 4)) * per_unit;
        let len = word(at + 8) as usize;
        let data = bytes.get(at + 16..at + 16 + len).context("a packet cut short at the end of the capture")?;
        at += 16 + len;
        if let Some(p) = rtp_in(data, nanos) {
            packets.push(p);
        }
    }
    Ok(packets)
}

fn rtp_in(frame: &[u8], nanos: u64) -> Option<Captured> {
    if frame.get(12..14)? != [0x08, 0x00] {
        return None;
    }
    let ip = frame.get(ETHERNET..)?;
    let ihl = usize::from(ip.first()? & 0x0f) * 4;
    if ip.first()? >> 4 != 4 || *ip.get(9)? != 17 {
        return None;
    }
    let udp = ip.get(ihl..)?;
    let port = |at: usize| Some(u16::from_be_bytes([*udp.get(at)?, *udp.get(at + 1)?]));
    let rtp = udp.get(UDP..UDP + 12)?;
    if rtp[0] >> 6 != 2 {
        return None;
    }
    Some(Captured {
        nanos,
        src_port: port(0)?,
        dst_port: port(2)?,
        payload_type: rtp[1] & 0x7f,
        sequence: u16::from_be_bytes([rtp[2], rtp[3]]),
        timestamp: u32::from_be_bytes([rtp[4], rtp[5], rtp[6], rtp[7]]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_reads_back_20_ms_apart() {
        let path = std::env::temp_dir().join(format!("loadgen-pcap-{}.pcap", std::process::id()));
        write_caller_audio(&path, 1).unwrap();
        let packets = read_rtp(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(packets.len(), 50);
        assert_eq!(packets[1].nanos - packets[0].nanos, 20_000_000);
        assert_eq!((packets[49].sequence, packets[49].timestamp), (49, 49 * 160));
        assert_eq!((packets[0].src_port, packets[0].payload_type), (FILE_PORT, 0));
    }

    #[test]
    fn the_ip_checksum_verifies() {
        let f = frame(&[0x80; 12]);
        assert_eq!(fold(ip_sum(&f[ETHERNET..ETHERNET + 20])), 0xffff);
    }
}
