//! DTMF as RFC 4733 telephone-events: the 4-byte event payload, a receiver
//! that turns an event's many packets into one digit, and a sender that
//! emits the packets for one digit. Also keys signalled in SIP INFO bodies
//! ([`from_info`]), which many PBXs and trunks send instead of events.

use std::collections::VecDeque;
use thiserror::Error;

/// A keypad key: RFC 4733 events 0–15 (`0`–`9`, `*`, `#`, `A`–`D`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digit(u8);

impl Digit {
    /// The digit of an event code; events above 15 (flash, tones) are not digits.
    pub fn from_event(code: u8) -> Option<Self> {
        (code <= 15).then_some(Digit(code))
    }

    /// The digit of a key character.
    pub fn from_char(c: char) -> Option<Self> {
        Some(Digit(match c {
            '0'..='9' => c as u8 - b'0',
            '*' => 10,
            '#' => 11,
            'A'..='D' => c as u8 - b'A' + 12,
            'a'..='d' => c as u8 - b'a' + 12,
            _ => return None,
        }))
    }

    /// The RFC 4733 event code.
    pub fn event(self) -> u8 {
        self.0
    }

    /// The key as a character.
    pub fn as_char(self) -> char {
        match self.0 {
            0..=9 => (b'0' + self.0) as char,
            10 => '*',
            11 => '#',
            _ => (b'A' + self.0 - 12) as char,
        }
    }
}

/// Why a payload is not a telephone-event.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DtmfError {
    /// Fewer than four bytes.
    #[error("telephone-event payload of {0} bytes (4 needed)")]
    Short(usize),
    /// A redundancy (RFC 2198) header runs past the payload.
    #[error("redundant payload is malformed")]
    Redundancy,
}

/// Why a SIP INFO is not a key press we can read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum InfoError {
    /// A body type other than the two DTMF ones (answered 415).
    #[error("INFO body of type {0} is not DTMF")]
    Unsupported(String),
    /// A DTMF body we cannot read (answered 400).
    #[error("malformed DTMF in INFO: {0}")]
    Malformed(&'static str),
}

/// The key an INFO request signals, by its Content-Type and body:
/// `application/dtmf-relay` (`Signal=5` and `Duration=160` lines, as Cisco
/// phones and most PBXs send) or `application/dtmf` (the key alone). Keys
/// are `0`–`9`, `*`, `#`, `A`–`D`, or their event codes (`10` is `*`, `11`
/// is `#`); a hook flash (`16`) is read and is no key (`Ok(None)`), and so
/// is an INFO with no body at all (a keep-alive).
pub fn from_info(content_type: Option<&str>, body: &[u8]) -> Result<Option<Digit>, InfoError> {
    let kind = content_type.map(|t| t.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
    let text = std::str::from_utf8(body).map_err(|_| InfoError::Malformed("the body is not text"))?;
    match kind.as_deref() {
        None | Some("") if text.trim().is_empty() => Ok(None),
        Some("application/dtmf-relay") => {
            let mut signal = None;
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                let (name, value) = line.split_once('=').ok_or(InfoError::Malformed("a line without '='"))?;
                match name.trim().to_ascii_lowercase().as_str() {
                    "signal" if signal.is_some() => return Err(InfoError::Malformed("Signal twice")),
                    "signal" => signal = Some(value.trim()),
                    "duration" => {
                        value.trim().parse::<u32>().map_err(|_| InfoError::Malformed("Duration is not a number"))?;
                    }
                    // Other lines (some phones add their own) say nothing about the key.
                    _ => {}
                }
            }
            key(signal.ok_or(InfoError::Malformed("no Signal"))?)
        }
        Some("application/dtmf") => key(text.trim()),
        other => Err(InfoError::Unsupported(other.unwrap_or("none").to_string())),
    }
}

/// A key as INFO bodies write it: the character, or its event code.
fn key(value: &str) -> Result<Option<Digit>, InfoError> {
    let mut chars = value.chars();
    if let (Some(c), None) = (chars.next(), chars.next())
        && let Some(d) = Digit::from_char(c)
    {
        return Ok(Some(d));
    }
    match value.parse::<u8>() {
        Ok(16) => Ok(None),
        Ok(code) => Digit::from_event(code).map(Some).ok_or(InfoError::Malformed("not a key")),
        Err(_) => Err(InfoError::Malformed("not a key")),
    }
}

/// One telephone-event (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// Event code (0–15 are DTMF).
    pub code: u8,
    /// The E bit: the event has ended.
    pub end: bool,
    /// Power level in −dBm0 (0–63).
    pub volume: u8,
    /// Duration so far, in timestamp units.
    pub duration: u16,
}

impl Event {
    /// Parses the first event of a payload.
    pub fn parse(payload: &[u8]) -> Result<Self, DtmfError> {
        let [code, flags, d1, d2, ..] = *payload else { return Err(DtmfError::Short(payload.len())) };
        Ok(Event { code, end: flags & 0x80 != 0, volume: flags & 0x3f, duration: u16::from_be_bytes([d1, d2]) })
    }

    /// The 4-byte payload.
    pub fn build(&self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [self.code, if self.end { 0x80 } else { 0 } | (self.volume & 0x3f), d[0], d[1]]
    }
}

/// How many recent events the receiver remembers to recognise their late
/// retransmissions and redundant copies.
const REMEMBERED: usize = 16;

/// Turns telephone-event packets into digits: one digit per event, whatever
/// number of updates, end retransmissions or redundant copies carry it.
///
/// An event is identified by its RTP timestamp (RFC 4733 §2.5.1.2: all its
/// packets share the start timestamp), so the digit is reported on the first
/// packet seen for a timestamp; the start packet may be lost and the digit
/// still comes from any later one.
#[derive(Debug, Default)]
pub struct Receiver {
    seen: VecDeque<u32>,
}

impl Receiver {
    /// A receiver that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// A telephone-event packet with its RTP timestamp.
    pub fn receive(&mut self, timestamp: u32, payload: &[u8]) -> Result<Option<Digit>, DtmfError> {
        let event = Event::parse(payload)?;
        Ok(self.event(timestamp, event))
    }

    fn event(&mut self, timestamp: u32, event: Event) -> Option<Digit> {
        let digit = Digit::from_event(event.code)?;
        if self.seen.contains(&timestamp) {
            return None;
        }
        if self.seen.len() == REMEMBERED {
            self.seen.pop_front();
        }
        self.seen.push_back(timestamp);
        Some(digit)
    }

    /// An RFC 2198 redundant packet whose blocks carry telephone-events with
    /// payload type `event_pt` (RFC 4733 §2.6); digits in the order sent.
    pub fn receive_redundant(&mut self, timestamp: u32, payload: &[u8], event_pt: u8) -> Result<Vec<Digit>, DtmfError> {
        let mut blocks = Vec::new();
        let mut at = 0;
        // Headers: F=1 → 4 bytes (PT, 14-bit timestamp offset, 10-bit length); F=0 → 1 byte, the primary.
        loop {
            let first = *payload.get(at).ok_or(DtmfError::Redundancy)?;
            if first & 0x80 == 0 {
                blocks.push((first & 0x7f, 0u32, None));
                at += 1;
                break;
            }
            let h = payload.get(at..at + 4).ok_or(DtmfError::Redundancy)?;
            let offset = (u32::from(h[1]) << 6) | (u32::from(h[2]) >> 2);
            let len = (usize::from(h[2] & 0x03) << 8) | usize::from(h[3]);
            blocks.push((first & 0x7f, offset, Some(len)));
            at += 4;
        }
        let mut digits = Vec::new();
        for (pt, offset, len) in blocks {
            let data = match len {
                Some(len) => payload.get(at..at + len).ok_or(DtmfError::Redundancy)?,
                None => &payload[at..],
            };
            at += data.len();
            if pt != event_pt {
                continue;
            }
            // A block may pack several 4-byte events of the same start time.
            for chunk in data.chunks_exact(4) {
                if let Some(d) = self.event(timestamp.wrapping_sub(offset), Event::parse(chunk)?) {
                    digits.push(d);
                }
            }
        }
        Ok(digits)
    }
}

/// One packet of an outgoing event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket {
    /// Set on the first packet of the event.
    pub marker: bool,
    /// The event's start timestamp, the same in every packet.
    pub timestamp: u32,
    /// The telephone-event payload.
    pub payload: [u8; 4],
}

/// The power level we send tones at (−10 dBm0, a common phone level).
const VOLUME: u8 = 10;
/// Timestamp units per 20 ms packet at 8 kHz.
const FRAME: u16 = 160;

/// The packets of one digit lasting `duration_ms` (rounded up to 20 ms, at
/// least 40 ms), one to send every 20 ms: a start packet with the marker,
/// updates with the growing duration, and the final duration three times
/// with the E bit (RFC 4733 §2.5.1.4), all with `timestamp`.
pub fn send(digit: Digit, timestamp: u32, duration_ms: u32) -> Vec<EventPacket> {
    // Durations are 16-bit: at most 8 s of one event at 8 kHz.
    let frames = duration_ms.div_ceil(20).clamp(2, u32::from(u16::MAX / FRAME)) as u16;
    let mut out: Vec<EventPacket> = (1..=frames)
        .map(|n| EventPacket {
            marker: n == 1,
            timestamp,
            payload: Event { code: digit.event(), end: false, volume: VOLUME, duration: n * FRAME }.build(),
        })
        .collect();
    let end = Event { code: digit.event(), end: true, volume: VOLUME, duration: frames * FRAME }.build();
    // The last update becomes the first of three end packets.
    out.pop();
    out.extend((0..3).map(|_| EventPacket { marker: false, timestamp, payload: end }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn digits_and_characters() {
        for c in "0123456789*#ABCD".chars() {
            let d = Digit::from_char(c).unwrap();
            assert_eq!(d.as_char(), c);
            assert_eq!(Digit::from_event(d.event()), Some(d));
        }
        assert_eq!(Digit::from_char('x'), None);
        assert_eq!(Digit::from_event(16), None, "flash is not a digit");
    }

    #[test]
    fn keys_in_info_bodies() {
        let relay = Some("application/dtmf-relay");
        let read = |t: Option<&str>, b: &str| from_info(t, b.as_bytes()).map(|d| d.map(Digit::as_char));
        assert_eq!(read(relay, "Signal=5\r\nDuration=160\r\n"), Ok(Some('5')));
        assert_eq!(read(Some("Application/DTMF-Relay; x=y"), "signal= #\nduration = 250"), Ok(Some('#')));
        assert_eq!(read(relay, "Signal=10\r\n"), Ok(Some('*')));
        assert_eq!(read(relay, "Signal=11\r\nDuration=100\r\n"), Ok(Some('#')));
        assert_eq!(read(relay, "Signal=16\r\nDuration=100\r\n"), Ok(None), "a flash");
        assert_eq!(read(Some("application/dtmf"), "4\r\n"), Ok(Some('4')));
        assert_eq!(read(None, ""), Ok(None), "an empty INFO is a keep-alive");
        assert_eq!(read(relay, "Duration=160"), Err(InfoError::Malformed("no Signal")));
        assert_eq!(read(relay, "Signal=x"), Err(InfoError::Malformed("not a key")));
        assert_eq!(read(relay, "Signal=5\r\nDuration=long"), Err(InfoError::Malformed("Duration is not a number")));
        assert_eq!(read(relay, "Signal=5\r\nSignal=6"), Err(InfoError::Malformed("Signal twice")));
        assert_eq!(read(relay, "garbage"), Err(InfoError::Malformed("a line without '='")));
        assert_eq!(read(Some("application/dtmf"), "12x"), Err(InfoError::Malformed("not a key")));
        assert_eq!(read(Some("application/dtmf"), "17"), Err(InfoError::Malformed("not a key")));
        assert!(matches!(read(Some("text/plain"), "5"), Err(InfoError::Unsupported(_))));
        assert_eq!(from_info(relay, &[0xff, 0xfe]), Err(InfoError::Malformed("the body is not text")));
    }

    #[test]
    fn a_digit_is_start_updates_and_three_ends() {
        let packets = send(Digit::from_char('5').unwrap(), 4242, 100);
        assert_eq!(packets.len(), 7);
        assert!(packets[0].marker && packets[1..].iter().all(|p| !p.marker));
        assert!(packets.iter().all(|p| p.timestamp == 4242));
        let events: Vec<Event> = packets.iter().map(|p| Event::parse(&p.payload).unwrap()).collect();
        assert_eq!(events.iter().map(|e| e.duration).collect::<Vec<_>>(), [160, 320, 480, 640, 800, 800, 800]);
        assert_eq!(events.iter().filter(|e| e.end).count(), 3);
        assert!(events.iter().all(|e| e.code == 5 && e.volume == 10));
    }

    #[test]
    fn one_digit_per_event_whatever_arrives() {
        let mut r = Receiver::new();
        let mut got = Vec::new();
        for (ts, key) in [(1000u32, '1'), (3000, '1'), (5000, '#')] {
            let packets = send(Digit::from_char(key).unwrap(), ts, 120);
            // Lose the start packet of the second event; repeat the ends of the first.
            let skip = usize::from(ts == 3000);
            for p in packets.iter().skip(skip).chain(packets.iter().rev().take(if ts == 1000 { 3 } else { 0 })) {
                got.extend(r.receive(p.timestamp, &p.payload).unwrap());
            }
        }
        assert_eq!(got.iter().map(|d| d.as_char()).collect::<String>(), "11#");
        assert_eq!(r.receive(0, &[1, 2]), Err(DtmfError::Short(2)));
    }

    #[test]
    fn redundant_blocks_give_each_digit_once() {
        let mut r = Receiver::new();
        // Primary '2' at ts 2000, redundant copy of '1' that started 800 units earlier.
        let one = Event { code: 1, end: true, volume: 10, duration: 640 }.build();
        let two = Event { code: 2, end: false, volume: 10, duration: 160 }.build();
        let mut payload = vec![0x80 | 101, (800u32 >> 6) as u8, (((800u32 & 0x3f) << 2) as u8), 4];
        payload.push(101);
        payload.extend_from_slice(&one);
        payload.extend_from_slice(&two);
        let digits = r.receive_redundant(2000, &payload, 101).unwrap();
        assert_eq!(digits.iter().map(|d| d.as_char()).collect::<String>(), "12");
        // The same again (a retransmission) yields nothing.
        assert!(r.receive_redundant(2000, &payload, 101).unwrap().is_empty());
        assert_eq!(r.receive_redundant(0, &[0x80 | 101, 0, 0], 101), Err(DtmfError::Redundancy));
    }

    proptest! {
        #![proptest_config(crate::proptest_config())]
        #[test]
        fn info_bodies_never_panic(kind in "[a-z/;=-]{0,30}", body in proptest::collection::vec(any::<u8>(), 0..64), text in "[SsDd0-9=\r\n a-z#*]{0,40}") {
            for t in [None, Some(kind.as_str()), Some("application/dtmf-relay"), Some("application/dtmf")] {
                let _ = from_info(t, &body);
                let _ = from_info(t, text.as_bytes());
            }
        }

        #[test]
        fn receiving_never_panics(ts in any::<u32>(), payload in proptest::collection::vec(any::<u8>(), 0..64), pt in 0u8..128) {
            let mut r = Receiver::new();
            let _ = r.receive(ts, &payload);
            let _ = r.receive_redundant(ts, &payload, pt);
        }

        #[test]
        fn any_digit_sequence_is_received_exactly(keys in "[0-9*#A-D]{1,20}", duration in 0u32..400) {
            let mut r = Receiver::new();
            let mut ts = 0u32;
            let mut got = String::new();
            for k in keys.chars() {
                for p in send(Digit::from_char(k).unwrap(), ts, duration) {
                    got.extend(r.receive(p.timestamp, &p.payload).unwrap().map(|d| d.as_char()));
                }
                ts = ts.wrapping_add(8000);
            }
            prop_assert_eq!(got, keys);
        }
    }
}
