//! SDP (RFC 4566) for one audio stream, and the offer/answer rules of
//! RFC 3264 for it: PCMU, PCMA, RFC 4733 telephone-event, ptime, direction
//! (re-INVITE hold) and the connection address. Anything else offered is
//! answered with port 0, the RFC 3264 way to decline a stream.

use crate::g711::Law;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use thiserror::Error;

/// Malformed or unanswerable SDP.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum SdpError {
    /// A line that is not `x=value`.
    #[error("SDP line {line}: not a `type=value` line")]
    Syntax {
        /// 1-based line number.
        line: usize,
    },
    /// A mandatory line (`v=`, `o=`, `s=`) is missing or out of order.
    #[error("SDP: missing or misplaced `{0}=` line")]
    Missing(char),
    /// A line whose value does not parse.
    #[error("SDP line {line}: invalid `{kind}=` value")]
    Invalid {
        /// 1-based line number.
        line: usize,
        /// The line type.
        kind: char,
    },
    /// A media stream with no connection address at either level.
    #[error("SDP media {0} has no connection address")]
    NoConnection(usize),
    /// Larger than anything a phone sends.
    #[error("SDP is over {MAX_SDP} bytes")]
    TooLarge,
    /// No audio stream with a codec in common: the whole offer fails (488).
    #[error("SDP offer has no audio stream with PCMU or PCMA")]
    NotAcceptable,
}

/// A bound well above any real audio offer, so parsing cost stays small.
pub const MAX_SDP: usize = 16 * 1024;

/// The media direction attribute (RFC 3264 §5.1, §8.4 for hold).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Both ways (the default).
    #[default]
    SendRecv,
    /// Only from the describer: the peer put us on hold.
    SendOnly,
    /// Only to the describer.
    RecvOnly,
    /// Neither way.
    Inactive,
}

impl Direction {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "sendrecv" => Direction::SendRecv,
            "sendonly" => Direction::SendOnly,
            "recvonly" => Direction::RecvOnly,
            "inactive" => Direction::Inactive,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction an answer gives to an offered one (RFC 3264 §6.1),
    /// when we would otherwise send and receive.
    pub fn answer(self) -> Self {
        match self {
            Direction::SendRecv => Direction::SendRecv,
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            Direction::Inactive => Direction::Inactive,
        }
    }

    /// Whether the describer of this direction will receive media.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// Whether the describer of this direction will send media.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }
}

/// An `a=rtpmap:` attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// The payload type it names.
    pub payload_type: u8,
    /// Encoding name as written (`PCMU`, `telephone-event`…).
    pub encoding: String,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Channel count, when given.
    pub channels: Option<u8>,
}

/// Origin (`o=`): who made the description and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// User name, `-` when none.
    pub username: String,
    /// Identifies the session.
    pub session_id: u64,
    /// Increases with every new offer or answer of the session.
    pub version: u64,
    /// The originator's address.
    pub address: IpAddr,
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// `audio`, `video`…
    pub kind: String,
    /// 0 = rejected or disabled stream.
    pub port: u16,
    /// Usually `RTP/AVP`.
    pub protocol: String,
    /// The format list, as written (payload types for RTP).
    pub formats: Vec<String>,
    /// Media-level connection address.
    pub connection: Option<IpAddr>,
    /// `a=rtpmap:` lines.
    pub rtpmaps: Vec<RtpMap>,
    /// `a=fmtp:` lines: payload type and parameters.
    pub fmtps: Vec<(u8, String)>,
    /// `a=ptime:` in milliseconds.
    pub ptime: Option<u32>,
    /// Media-level direction.
    pub direction: Option<Direction>,
    /// Other attributes, kept to be visible (not interpreted).
    pub other: Vec<String>,
}

/// A whole session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// `o=`.
    pub origin: Origin,
    /// `s=`.
    pub session_name: String,
    /// Session-level `c=`.
    pub connection: Option<IpAddr>,
    /// Session-level direction.
    pub direction: Option<Direction>,
    /// The streams in order (answers keep the offer's order).
    pub media: Vec<Media>,
}

impl Media {
    /// The payload types in the format list (RTP/AVP formats are numbers 0..=127).
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats.iter().filter_map(|f| f.parse::<u8>().ok().filter(|&p| p < 128))
    }

    fn rtpmap(&self, pt: u8) -> Option<&RtpMap> {
        self.rtpmaps.iter().find(|m| m.payload_type == pt)
    }

    /// The law a payload type carries: static 0/8, or dynamic by rtpmap name.
    pub fn law_of(&self, pt: u8) -> Option<Law> {
        match self.rtpmap(pt) {
            Some(m) if m.clock_rate != 8000 => None,
            Some(m) if m.encoding.eq_ignore_ascii_case("PCMU") => Some(Law::Ulaw),
            Some(m) if m.encoding.eq_ignore_ascii_case("PCMA") => Some(Law::Alaw),
            Some(_) => None,
            None => match pt {
                0 => Some(Law::Ulaw),
                8 => Some(Law::Alaw),
                _ => None,
            },
        }
    }

    /// The payload type of 8 kHz telephone-event, if offered.
    pub fn telephone_event(&self) -> Option<u8> {
        self.payload_types().find(|&pt| {
            self.rtpmap(pt).is_some_and(|m| m.encoding.eq_ignore_ascii_case("telephone-event") && m.clock_rate == 8000)
        })
    }
}

impl SessionDescription {
    /// The effective direction of stream `index`: media level over session level.
    pub fn direction_of(&self, index: usize) -> Direction {
        self.media.get(index).and_then(|m| m.direction).or(self.direction).unwrap_or_default()
    }

    /// Where stream `index` wants its RTP: its connection address and port.
    pub fn rtp_target(&self, index: usize) -> Option<SocketAddr> {
        let m = self.media.get(index)?;
        Some(SocketAddr::new(m.connection.or(self.connection)?, m.port))
    }

    /// Parses a description; strict on structure, lenient on line endings.
    pub fn parse(text: &str) -> Result<Self, SdpError> {
        if text.len() > MAX_SDP {
            return Err(SdpError::TooLarge);
        }
        let mut lines = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .enumerate()
            .filter(|(_, l)| !l.is_empty())
            .map(|(i, l)| {
                let b = l.as_bytes();
                if b.len() < 2 || b[1] != b'=' || !b[0].is_ascii_lowercase() {
                    return Err(SdpError::Syntax { line: i + 1 });
                }
                Ok((i + 1, b[0] as char, &l[2..]))
            })
            .peekable();
        let mut next_of = |kind: char| match lines.next() {
            Some(Ok((n, k, v))) if k == kind => Ok((n, v)),
            Some(Err(e)) => Err(e),
            _ => Err(SdpError::Missing(kind)),
        };
        let (n, version) = next_of('v')?;
        if version.trim() != "0" {
            return Err(SdpError::Invalid { line: n, kind: 'v' });
        }
        let (n, o) = next_of('o')?;
        let origin = parse_origin(o).ok_or(SdpError::Invalid { line: n, kind: 'o' })?;
        let (_, session_name) = next_of('s')?;
        let mut sd = SessionDescription {
            origin,
            session_name: session_name.to_string(),
            connection: None,
            direction: None,
            media: Vec::new(),
        };
        for line in lines {
            let (n, kind, value) = line?;
            let invalid = SdpError::Invalid { line: n, kind };
            match (kind, sd.media.last_mut()) {
                ('m', _) => sd.media.push(parse_media(value).ok_or(invalid)?),
                ('c', None) => sd.connection = Some(parse_connection(value).ok_or(invalid)?),
                ('c', Some(m)) => m.connection = Some(parse_connection(value).ok_or(invalid)?),
                ('a', m) => {
                    let (name, arg) = value.split_once(':').unwrap_or((value, ""));
                    match (name, m) {
                        (d, None) if Direction::parse(d).is_some() => sd.direction = Direction::parse(d),
                        (d, Some(m)) if Direction::parse(d).is_some() => m.direction = Direction::parse(d),
                        ("rtpmap", Some(m)) => m.rtpmaps.push(parse_rtpmap(arg).ok_or(invalid)?),
                        ("fmtp", Some(m)) => {
                            let (pt, params) = arg.split_once(' ').ok_or(invalid.clone())?;
                            let pt = pt.parse::<u8>().ok().filter(|&p| p < 128).ok_or(invalid)?;
                            m.fmtps.push((pt, params.trim().to_string()));
                        }
                        ("ptime", Some(m)) => {
                            m.ptime = Some(arg.trim().parse().ok().filter(|&p| (1..=1000).contains(&p)).ok_or(invalid)?)
                        }
                        (_, Some(m)) => m.other.push(value.to_string()),
                        (_, None) => {}
                    }
                }
                // Session-level lines we do not use (t=, b=, i=, u=, e=, p=, z=, k=, r=).
                _ => {}
            }
        }
        for (i, m) in sd.media.iter().enumerate() {
            if m.port != 0 && m.connection.or(sd.connection).is_none() {
                return Err(SdpError::NoConnection(i));
            }
        }
        Ok(sd)
    }
}

fn parse_origin(v: &str) -> Option<Origin> {
    let f: Vec<&str> = v.split_whitespace().collect();
    let [username, id, version, "IN", _, address] = f.as_slice() else { return None };
    Some(Origin {
        username: username.to_string(),
        session_id: id.parse().ok()?,
        version: version.parse().ok()?,
        // Hosts may put a name here; an unresolved name is kept as unspecified.
        address: address.parse().unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
    })
}

fn parse_connection(v: &str) -> Option<IpAddr> {
    let f: Vec<&str> = v.split_whitespace().collect();
    let ["IN", family, address] = f.as_slice() else { return None };
    // Multicast addresses carry /ttl and /count; a phone call never uses them.
    let ip: IpAddr = address.parse().ok()?;
    match (*family, ip) {
        ("IP4", IpAddr::V4(_)) | ("IP6", IpAddr::V6(_)) => Some(ip),
        _ => None,
    }
}

fn parse_media(v: &str) -> Option<Media> {
    let mut f = v.split_whitespace();
    let kind = f.next()?.to_string();
    let port_field = f.next()?;
    // `port/count` (RFC 4566 §5.14): only the first port matters for one stream.
    let port = port_field.split('/').next()?.parse().ok()?;
    let protocol = f.next()?.to_string();
    let formats: Vec<String> = f.map(str::to_string).collect();
    if formats.is_empty() {
        return None;
    }
    Some(Media {
        kind,
        port,
        protocol,
        formats,
        connection: None,
        rtpmaps: Vec::new(),
        fmtps: Vec::new(),
        ptime: None,
        direction: None,
        other: Vec::new(),
    })
}

fn parse_rtpmap(v: &str) -> Option<RtpMap> {
    let (pt, rest) = v.split_once(' ')?;
    let mut parts = rest.trim().split('/');
    let encoding = parts.next().filter(|e| !e.is_empty())?.to_string();
    let clock_rate = parts.next()?.parse().ok().filter(|&r| r > 0)?;
    let channels = match parts.next() {
        Some(c) => Some(c.parse().ok()?),
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(RtpMap { payload_type: pt.parse().ok().filter(|&p| p < 128)?, encoding, clock_rate, channels })
}

impl fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let family = |ip: &IpAddr| if ip.is_ipv4() { "IP4" } else { "IP6" };
        let o = &self.origin;
        write!(
            f,
            "v=0\r\no={} {} {} IN {} {}\r\n",
            o.username,
            o.session_id,
            o.version,
            family(&o.address),
            o.address
        )?;
        write!(f, "s={}\r\n", if self.session_name.is_empty() { "-" } else { &self.session_name })?;
        if let Some(c) = &self.connection {
            write!(f, "c=IN {} {c}\r\n", family(c))?;
        }
        f.write_str("t=0 0\r\n")?;
        if let Some(d) = self.direction {
            write!(f, "a={}\r\n", d.as_str())?;
        }
        for m in &self.media {
            write!(f, "m={} {} {} {}\r\n", m.kind, m.port, m.protocol, m.formats.join(" "))?;
            if let Some(c) = &m.connection {
                write!(f, "c=IN {} {c}\r\n", family(c))?;
            }
            for r in &m.rtpmaps {
                write!(f, "a=rtpmap:{} {}/{}", r.payload_type, r.encoding, r.clock_rate)?;
                if let Some(ch) = r.channels {
                    write!(f, "/{ch}")?;
                }
                f.write_str("\r\n")?;
            }
            for (pt, p) in &m.fmtps {
                write!(f, "a=fmtp:{pt} {p}\r\n")?;
            }
            if let Some(p) = m.ptime {
                write!(f, "a=ptime:{p}\r\n")?;
            }
            if let Some(d) = m.direction {
                write!(f, "a={}\r\n", d.as_str())?;
            }
            for a in &m.other {
                write!(f, "a={a}\r\n")?;
            }
        }
        Ok(())
    }
}

/// The payload type we use for telephone-event in our own offers.
pub const OUR_TELEPHONE_EVENT: u8 = 101;

/// Our side of a negotiation.
#[derive(Debug, Clone)]
pub struct LocalMedia {
    /// Our RTP address.
    pub address: SocketAddr,
    /// Codecs in our order of preference.
    pub codecs: Vec<Law>,
    /// Our session id and version for `o=`.
    pub session_id: u64,
    /// Bumped by the caller for every new description of the session.
    pub version: u64,
    /// Whether we want to send and receive; `SendOnly` puts the peer on hold.
    pub direction: Direction,
}

/// What one negotiation settled for the audio stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// Where the peer wants RTP (symmetric RTP may correct this later).
    pub remote: SocketAddr,
    /// The codec both sides send.
    pub law: Law,
    /// Its payload type in the offer (static 0/8 or the offer's dynamic one).
    pub payload_type: u8,
    /// The telephone-event payload type, when both sides do RFC 4733.
    pub telephone_event: Option<u8>,
    /// Packetisation in milliseconds.
    pub ptime: u32,
    /// Our direction in the answer.
    pub direction: Direction,
}

fn audio_media(
    ours: &LocalMedia,
    formats: Vec<String>,
    rtpmaps: Vec<RtpMap>,
    te: Option<u8>,
    direction: Direction,
) -> Media {
    Media {
        kind: "audio".into(),
        port: ours.address.port(),
        protocol: "RTP/AVP".into(),
        formats,
        connection: None,
        rtpmaps,
        fmtps: te.map(|pt| vec![(pt, "0-16".to_string())]).unwrap_or_default(),
        ptime: Some(20),
        direction: Some(direction),
        other: Vec::new(),
    }
}

fn rtpmap_of(law: Law, payload_type: u8) -> RtpMap {
    let encoding = match law {
        Law::Ulaw => "PCMU",
        Law::Alaw => "PCMA",
    };
    RtpMap { payload_type, encoding: encoding.into(), clock_rate: 8000, channels: None }
}

fn te_rtpmap(pt: u8) -> RtpMap {
    RtpMap { payload_type: pt, encoding: "telephone-event".into(), clock_rate: 8000, channels: None }
}

fn description(ours: &LocalMedia, media: Vec<Media>) -> SessionDescription {
    SessionDescription {
        origin: Origin {
            username: "switchboard".into(),
            session_id: ours.session_id,
            version: ours.version,
            address: ours.address.ip(),
        },
        session_name: "switchboard".into(),
        connection: Some(ours.address.ip()),
        direction: None,
        media,
    }
}

/// Our offer: one audio stream with our codecs and telephone-event.
pub fn offer(ours: &LocalMedia) -> SessionDescription {
    let mut formats: Vec<String> = ours.codecs.iter().map(|l| l.payload_type().to_string()).collect();
    formats.push(OUR_TELEPHONE_EVENT.to_string());
    let mut maps: Vec<RtpMap> = ours.codecs.iter().map(|&l| rtpmap_of(l, l.payload_type())).collect();
    maps.push(te_rtpmap(OUR_TELEPHONE_EVENT));
    description(ours, vec![audio_media(ours, formats, maps, Some(OUR_TELEPHONE_EVENT), ours.direction)])
}

/// Answers an offer (RFC 3264 §6): the first audio stream with a codec we
/// take is accepted with the codec we prefer most among those offered, and
/// telephone-event when offered; every other stream gets port 0.
pub fn answer(offer: &SessionDescription, ours: &LocalMedia) -> Result<(SessionDescription, Negotiated), SdpError> {
    let mut chosen: Option<Negotiated> = None;
    let mut media = Vec::with_capacity(offer.media.len());
    for (i, m) in offer.media.iter().enumerate() {
        let pick = (chosen.is_none() && m.port != 0 && m.kind == "audio" && m.protocol == "RTP/AVP")
            .then(|| {
                ours.codecs
                    .iter()
                    .find_map(|&law| m.payload_types().find(|&pt| m.law_of(pt) == Some(law)).map(|pt| (law, pt)))
            })
            .flatten();
        let Some((law, pt)) = pick else {
            // Declined: same formats, port 0 (RFC 3264 §6).
            media.push(Media {
                port: 0,
                connection: None,
                rtpmaps: Vec::new(),
                fmtps: Vec::new(),
                ptime: None,
                direction: None,
                other: Vec::new(),
                ..m.clone()
            });
            continue;
        };
        let te = m.telephone_event();
        let remote = offer.rtp_target(i).ok_or(SdpError::NoConnection(i))?;
        let offered = match offer.direction_of(i) {
            // RFC 2543 hold (RFC 3264 §8.4): address 0.0.0.0 means "do not send to me".
            d if remote.ip().is_unspecified() && d.sends() => Direction::SendOnly,
            _ if remote.ip().is_unspecified() => Direction::Inactive,
            d => d,
        };
        let direction = match (offered, ours.direction) {
            (offered, Direction::SendRecv) => offered.answer(),
            // We hold: we only send, and only if the peer receives.
            (offered, _) if offered.receives() => Direction::SendOnly,
            _ => Direction::Inactive,
        };
        let mut formats = vec![pt.to_string()];
        let mut maps = vec![rtpmap_of(law, pt)];
        if let Some(te) = te {
            formats.push(te.to_string());
            maps.push(te_rtpmap(te));
        }
        chosen = Some(Negotiated {
            remote,
            law,
            payload_type: pt,
            telephone_event: te,
            ptime: m.ptime.unwrap_or(20),
            direction,
        });
        media.push(audio_media(ours, formats, maps, te, direction));
    }
    let negotiated = chosen.ok_or(SdpError::NotAcceptable)?;
    Ok((description(ours, media), negotiated))
}

/// Reads the answer to our [`offer`] (RFC 3264 §7): the first audio stream
/// not refused (port 0) with the first of its codecs we offered.
pub fn answered(answer: &SessionDescription, ours: &LocalMedia) -> Result<Negotiated, SdpError> {
    for (i, m) in answer.media.iter().enumerate() {
        if m.port == 0 || m.kind != "audio" {
            continue;
        }
        let Some((pt, law)) =
            m.payload_types().find_map(|pt| m.law_of(pt).filter(|l| ours.codecs.contains(l)).map(|l| (pt, l)))
        else {
            continue;
        };
        let remote = answer.rtp_target(i).ok_or(SdpError::NoConnection(i))?;
        return Ok(Negotiated {
            remote,
            law,
            payload_type: pt,
            telephone_event: m.telephone_event(),
            ptime: m.ptime.unwrap_or(20),
            // What the answerer does, seen from our side.
            direction: answer.direction_of(i).answer(),
        });
    }
    Err(SdpError::NotAcceptable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PHONE_OFFER: &str = "v=0\r\n\
        o=alice 2890844526 2890844526 IN IP4 198.51.100.7\r\n\
        s=-\r\n\
        c=IN IP4 198.51.100.7\r\n\
        t=0 0\r\n\
        m=audio 49170 RTP/AVP 8 0 18 101\r\n\
        a=rtpmap:8 PCMA/8000\r\n\
        a=rtpmap:0 PCMU/8000\r\n\
        a=rtpmap:18 G729/8000\r\n\
        a=fmtp:18 annexb=no\r\n\
        a=rtpmap:101 telephone-event/8000\r\n\
        a=fmtp:101 0-15\r\n\
        a=ptime:20\r\n\
        a=sendrecv\r\n\
        m=video 51372 RTP/AVP 96\r\n\
        a=rtpmap:96 H264/90000\r\n";

    fn ours(codecs: Vec<Law>) -> LocalMedia {
        LocalMedia {
            address: "192.0.2.1:30000".parse().unwrap(),
            codecs,
            session_id: 7,
            version: 1,
            direction: Direction::SendRecv,
        }
    }

    #[test]
    fn answers_by_our_preference_with_telephone_event() {
        let offer = SessionDescription::parse(PHONE_OFFER).unwrap();
        let (answer, n) = answer(&offer, &ours(vec![Law::Ulaw, Law::Alaw])).unwrap();
        assert_eq!((n.law, n.payload_type, n.telephone_event), (Law::Ulaw, 0, Some(101)));
        assert_eq!(n.remote, "198.51.100.7:49170".parse().unwrap());
        assert_eq!(answer.media.len(), 2, "an answer has as many streams as the offer");
        assert_eq!(answer.media[0].formats, ["0", "101"]);
        assert_eq!(answer.media[1].port, 0, "video declined");
        let text = answer.to_string();
        assert!(text.contains("m=audio 30000 RTP/AVP 0 101\r\n"), "{text}");
        assert!(text.contains("a=fmtp:101 0-16\r\n"), "{text}");
        assert!(text.contains("m=video 0 RTP/AVP 96\r\n"), "{text}");
        assert_eq!(SessionDescription::parse(&text).unwrap(), answer);
    }

    #[test]
    fn hold_and_resume_directions() {
        let held = PHONE_OFFER.replace("a=sendrecv", "a=sendonly");
        let (_, n) = answer(&SessionDescription::parse(&held).unwrap(), &ours(vec![Law::Alaw])).unwrap();
        assert_eq!((n.law, n.direction), (Law::Alaw, Direction::RecvOnly));
        let old_style = PHONE_OFFER.replace("c=IN IP4 198.51.100.7", "c=IN IP4 0.0.0.0");
        let (_, n) = answer(&SessionDescription::parse(&old_style).unwrap(), &ours(vec![Law::Alaw])).unwrap();
        assert_eq!(n.direction, Direction::RecvOnly, "c=0.0.0.0 is hold too");
        let inactive = PHONE_OFFER.replace("a=sendrecv", "a=inactive");
        let (_, n) = answer(&SessionDescription::parse(&inactive).unwrap(), &ours(vec![Law::Alaw])).unwrap();
        assert_eq!(n.direction, Direction::Inactive);
        let mut we_hold = ours(vec![Law::Ulaw]);
        we_hold.direction = Direction::SendOnly;
        let (_, n) = answer(&SessionDescription::parse(PHONE_OFFER).unwrap(), &we_hold).unwrap();
        assert_eq!(n.direction, Direction::SendOnly);
    }

    #[test]
    fn media_level_ipv6_and_dynamic_pcmu() {
        let offer = "v=0\no=- 1 1 IN IP6 2001:db8::1\ns=x\nt=0 0\na=recvonly\n\
            m=audio 4000 RTP/AVP 97\nc=IN IP6 2001:db8::2\na=rtpmap:97 pcmu/8000\n";
        let sd = SessionDescription::parse(offer).unwrap();
        let (_, n) = answer(&sd, &ours(vec![Law::Ulaw])).unwrap();
        assert_eq!((n.payload_type, n.telephone_event, n.direction), (97, None, Direction::SendOnly));
        assert_eq!(n.remote, "[2001:db8::2]:4000".parse().unwrap());
    }

    #[test]
    fn rejected_or_unacceptable() {
        let zero = PHONE_OFFER.replace("m=audio 49170", "m=audio 0");
        assert_eq!(
            answer(&SessionDescription::parse(&zero).unwrap(), &ours(vec![Law::Ulaw])).unwrap_err(),
            SdpError::NotAcceptable
        );
        let g729 = PHONE_OFFER.replace("RTP/AVP 8 0 18 101", "RTP/AVP 18");
        assert_eq!(
            answer(&SessionDescription::parse(&g729).unwrap(), &ours(vec![Law::Ulaw])).unwrap_err(),
            SdpError::NotAcceptable
        );
    }

    #[test]
    fn malformed_is_a_typed_error() {
        use SdpError::*;
        let cases: &[(&str, SdpError)] = &[
            ("", Missing('v')),
            ("v=1\r\n", Invalid { line: 1, kind: 'v' }),
            ("v=0\r\ns=x\r\n", Missing('o')),
            ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n", Missing('s')),
            ("v=0\r\no=- x 1 IN IP4 1.2.3.4\r\ns=x\r\n", Invalid { line: 2, kind: 'o' }),
            ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=x\r\nbogus\r\n", Syntax { line: 4 }),
            ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=x\r\nc=IN IP4 ::1\r\n", Invalid { line: 4, kind: 'c' }),
            ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=x\r\nm=audio 70000 RTP/AVP 0\r\n", Invalid { line: 4, kind: 'm' }),
            ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=x\r\nm=audio 5 RTP/AVP\r\n", Invalid { line: 4, kind: 'm' }),
            ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=x\r\nm=audio 5 RTP/AVP 0\r\n", NoConnection(0)),
            (
                "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=x\r\nc=IN IP4 1.2.3.4\r\nm=audio 5 RTP/AVP 0\r\na=rtpmap:300 X/8000\r\n",
                Invalid { line: 6, kind: 'a' },
            ),
            (
                "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=x\r\nc=IN IP4 1.2.3.4\r\nm=audio 5 RTP/AVP 0\r\na=ptime:0\r\n",
                Invalid { line: 6, kind: 'a' },
            ),
        ];
        for (text, err) in cases {
            assert_eq!(&SessionDescription::parse(text).unwrap_err(), err, "{text:?}");
        }
        assert_eq!(SessionDescription::parse(&"a".repeat(MAX_SDP + 1)).unwrap_err(), TooLarge);
    }

    #[test]
    fn our_offer_is_answerable() {
        let us = ours(vec![Law::Alaw, Law::Ulaw]);
        let o = SessionDescription::parse(&offer(&us).to_string()).unwrap();
        let (_, n) = answer(&o, &ours(vec![Law::Ulaw])).unwrap();
        assert_eq!((n.law, n.telephone_event), (Law::Ulaw, Some(OUR_TELEPHONE_EVENT)));
    }

    proptest! {
        #![proptest_config(crate::proptest_config())]
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
            if let Ok(sd) = SessionDescription::parse(&text) {
                let _ = answer(&sd, &ours(vec![Law::Ulaw, Law::Alaw]));
            }
        }

        #[test]
        fn mutated_offers_never_panic(cut in 0usize..PHONE_OFFER.len(), byte in any::<u8>(), at in 0usize..PHONE_OFFER.len()) {
            let mut bytes = PHONE_OFFER.as_bytes().to_vec();
            bytes[at] = byte;
            bytes.truncate(cut.max(at + 1));
            if let Ok(sd) = SessionDescription::parse(&String::from_utf8_lossy(&bytes))
                && let Ok((a, _)) = answer(&sd, &ours(vec![Law::Ulaw]))
            {
                prop_assert_eq!(SessionDescription::parse(&a.to_string()).unwrap(), a);
            }
        }
    }
}
