//! Two media sessions on loopback, over real UDP: prompts, digits, symmetric
//! RTP and RTCP, and a prompt spoken by the installed text-to-speech engine.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use switchboard_voice::g711::Law;
use switchboard_voice::jitter::Frame;
use switchboard_voice::prompt::{Prompt, PromptCache, SpeechEngine};
use switchboard_voice::rtp::Ssrc;
use switchboard_voice::sdp::{self, Direction, LocalMedia, SessionDescription};
use switchboard_voice::session::{MediaEvent, MediaPorts, MediaSession, SessionConfig};
use tokio::sync::mpsc;

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A 440 Hz tone at about a quarter of full scale.
fn tone(ms: usize) -> Prompt {
    Prompt::from_samples(
        (0..ms * 8).map(|i| ((i as f64 * 440.0 * std::f64::consts::TAU / 8000.0).sin() * 8000.0) as i16).collect(),
    )
}

fn rms(frames: &[Frame]) -> f64 {
    let n = frames.len() * frames.first().map_or(0, |f| f.len());
    let sum: f64 = frames.iter().flat_map(|f| f.iter()).map(|&s| f64::from(s).powi(2)).sum();
    if n == 0 { 0.0 } else { (sum / n as f64).sqrt() }
}

/// Negotiates like a call would: A offers, B answers; the sessions start on what was settled.
async fn pair(
    a_remote_override: Option<SocketAddr>,
) -> ((MediaSession, mpsc::Receiver<MediaEvent>), (MediaSession, mpsc::Receiver<MediaEvent>)) {
    let a_ports = MediaPorts::bind(LOOPBACK).await.unwrap();
    let b_ports = MediaPorts::bind(LOOPBACK).await.unwrap();
    let local =
        |addr, codecs| LocalMedia { address: addr, codecs, session_id: 1, version: 1, direction: Direction::SendRecv };
    let a_local = local(a_ports.rtp_addr().unwrap(), vec![Law::Alaw, Law::Ulaw]);
    let offer = SessionDescription::parse(&sdp::offer(&a_local).to_string()).unwrap();
    let (answer, b_neg) = sdp::answer(&offer, &local(b_ports.rtp_addr().unwrap(), vec![Law::Ulaw])).unwrap();
    let (_, a_neg) = sdp::answer(&SessionDescription::parse(&answer.to_string()).unwrap(), &a_local).unwrap();
    assert_eq!((a_neg.law, b_neg.law), (Law::Ulaw, Law::Ulaw));
    let mut a_config = SessionConfig::from_negotiated(&a_neg, Ssrc(0xa), "a@test");
    let mut b_config = SessionConfig::from_negotiated(&b_neg, Ssrc(0xb), "b@test");
    a_config.rtcp_interval = Duration::from_millis(300);
    b_config.rtcp_interval = Duration::from_millis(300);
    if let Some(wrong) = a_remote_override {
        a_config.remote = wrong;
    }
    let a = MediaSession::start(a_ports, a_config).unwrap();
    let b = MediaSession::start(b_ports, b_config).unwrap();
    (a, b)
}

/// Collects events until `done` says so or the time is up.
async fn collect(
    rx: &mut mpsc::Receiver<MediaEvent>,
    limit: Duration,
    mut done: impl FnMut(&[MediaEvent]) -> bool,
) -> Vec<MediaEvent> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    while !done(&got) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(e)) => got.push(e),
            _ => break,
        }
    }
    got
}

fn audio(events: &[MediaEvent]) -> Vec<Frame> {
    events.iter().filter_map(|e| if let MediaEvent::Audio(f) = e { Some(**f) } else { None }).collect()
}

fn digits(events: &[MediaEvent]) -> String {
    events.iter().filter_map(|e| if let MediaEvent::Digit(d) = e { Some(d.as_char()) } else { None }).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompt_and_digits_cross_between_two_sessions() {
    let ((a, mut a_rx), (b, mut b_rx)) = pair(None).await;
    a.play(tone(600));
    // Digits while the prompt plays: audio pauses for each event, then goes on.
    a.send_digits("1234567890*#ABCD");
    let events = collect(&mut b_rx, Duration::from_secs(10), |e| digits(e).len() >= 16 && audio(e).len() >= 40).await;
    assert_eq!(digits(&events), "1234567890*#ABCD", "every key exactly once, in order");
    let loud = audio(&events).iter().filter(|f| rms(&[**f]) > 1000.0).count();
    assert!(loud >= 10, "the tone arrived ({loud} loud frames)");
    // Nothing more: no digit is reported twice from the end retransmissions.
    let later = collect(&mut b_rx, Duration::from_millis(400), |_| false).await;
    assert_eq!(digits(&later), "");
    let a_events = collect(&mut a_rx, Duration::from_secs(3), |e| {
        e.iter().any(|x| matches!(x, MediaEvent::PromptDone))
            && e.iter().any(|x| matches!(x, MediaEvent::PeerReport(..)))
    })
    .await;
    assert!(a_events.iter().any(|x| matches!(x, MediaEvent::PromptDone)));
    let report =
        a_events.iter().find_map(|x| if let MediaEvent::PeerReport(r, rtt) = x { Some((*r, *rtt)) } else { None });
    let (report, _rtt) = report.expect("B's RTCP report on A's stream reached A");
    assert_eq!(report.ssrc, Ssrc(0xa));
    assert!(report.cumulative_lost <= 0, "no loss on loopback: {report:?}");
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symmetric_rtp_answers_where_the_packets_come_from() {
    // A is told a dead address for B (as behind a NAT); B's packets show A the way.
    let dead = tokio::net::UdpSocket::bind((LOOPBACK, 0)).await.unwrap();
    let ((a, mut a_rx), (b, mut b_rx)) = pair(Some(dead.local_addr().unwrap())).await;
    b.play(tone(400));
    let events =
        collect(&mut a_rx, Duration::from_secs(5), |e| audio(e).iter().filter(|f| rms(&[**f]) > 1000.0).count() >= 5)
            .await;
    assert!(audio(&events).iter().filter(|f| rms(&[**f]) > 1000.0).count() >= 5, "A hears B");
    a.send_digits("9");
    let events = collect(&mut b_rx, Duration::from_secs(5), |e| !digits(e).is_empty()).await;
    assert_eq!(digits(&events), "9", "B hears A, who now sends to B's real address");
    drop(dead);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_stops_our_audio_and_resume_brings_it_back() {
    let ((a, _a_rx), (b, mut b_rx)) = pair(None).await;
    a.set_direction(Direction::Inactive);
    // Let packets already in flight drain, then expect silence on the wire.
    tokio::time::sleep(Duration::from_millis(300)).await;
    while b_rx.try_recv().is_ok() {}
    a.play(tone(300));
    let held = collect(&mut b_rx, Duration::from_millis(500), |_| false).await;
    assert!(audio(&held).iter().all(|f| rms(&[*f]) < 1.0), "nothing from A while on hold");
    a.set_direction(Direction::SendRecv);
    a.play(tone(300));
    let resumed = collect(&mut b_rx, Duration::from_secs(3), |e| audio(e).iter().any(|f| rms(&[*f]) > 1000.0)).await;
    assert!(audio(&resumed).iter().any(|f| rms(&[*f]) > 1000.0));
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoken_prompt_arrives_as_speech_not_silence() {
    let engine = SpeechEngine::detect().expect("scripts/test installs flite or espeak-ng");
    let dir = std::env::temp_dir().join(format!("switchboard-voice-prompts-{}", std::process::id()));
    let cache = PromptCache::new(&dir).unwrap();
    let text = "Thank you for calling. Please hold.";
    let prompt = cache.speak(text, &engine).await.unwrap();
    assert!(prompt.duration() > Duration::from_millis(800), "{:?}", prompt.duration());
    // The second time comes from the cache: same samples, one file.
    assert_eq!(cache.speak(text, &engine).await.unwrap(), prompt);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);

    let ((a, mut a_rx), (b, mut b_rx)) = pair(None).await;
    // Start from a quiet line: drop B's frames from before the prompt.
    tokio::time::sleep(Duration::from_millis(200)).await;
    while b_rx.try_recv().is_ok() {}
    a.play(prompt.clone());
    let done = collect(&mut a_rx, prompt.duration() + Duration::from_secs(3), |e| {
        e.iter().any(|x| matches!(x, MediaEvent::PromptDone))
    })
    .await;
    assert!(done.iter().any(|x| matches!(x, MediaEvent::PromptDone)));
    // B's frames stay queued in its channel (far below its bound) until read here.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut heard = Vec::new();
    while let Ok(e) = b_rx.try_recv() {
        heard.push(e);
    }
    let frames = audio(&heard);
    let sent: Vec<Frame> = prompt.samples().chunks_exact(160).map(|c| c.try_into().unwrap()).collect();
    let (sent_rms, heard_rms) = (rms(&sent), rms(&frames));
    eprintln!(
        "{} frames heard for a {:?} prompt; RMS sent {sent_rms:.0}, heard {heard_rms:.0}",
        frames.len(),
        prompt.duration()
    );
    assert!(frames.len() as u32 * 20 >= prompt.duration().as_millis() as u32, "{} frames", frames.len());
    assert!(heard_rms > 300.0, "speech, not silence: rms {heard_rms:.0}");
    // G.711 keeps the energy within a few percent; the frames around the prompt are silent.
    let loud = frames.iter().filter(|f| rms(&[**f]) > 100.0).count();
    assert!(loud * 20 > 500, "{loud} frames of speech");
    assert!(heard_rms > sent_rms * 0.5 && heard_rms < sent_rms * 1.5, "sent {sent_rms:.0}, heard {heard_rms:.0}");
    a.stop().await;
    b.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A peer sends sequence numbers 0 to 54 but 20 to 24 (50 packets), then
/// packet 10 again long after its turn: the figures `/metrics` shows count
/// 51 received, the 5 lost (less the repeat, as RFC 3550 counts) and the late one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn received_lost_and_late_packets_reach_the_figures() {
    let ports = MediaPorts::bind(LOOPBACK).await.unwrap();
    let ours = ports.rtp_addr().unwrap();
    let peer = std::net::UdpSocket::bind((LOOPBACK, 0)).unwrap();
    let figures = std::sync::Arc::new(switchboard_service::metrics::CallFigures::default());
    let mut config = SessionConfig::from_negotiated(
        &sdp::Negotiated {
            remote: peer.local_addr().unwrap(),
            law: Law::Ulaw,
            payload_type: 0,
            telephone_event: None,
            ptime: 20,
            direction: Direction::SendRecv,
        },
        Ssrc(5),
        "figures@test",
    );
    config.figures = Some(figures.clone());
    let (session, mut events) = MediaSession::start(ports, config).unwrap();
    let packet = |seq: u16| {
        let p = switchboard_voice::rtp::RtpPacket::new(0, seq, u32::from(seq) * 160, Ssrc(9), vec![0xff; 160]);
        p.build().unwrap()
    };
    for seq in (0u16..55).filter(|s| !(20..25).contains(s)) {
        peer.send_to(&packet(seq), ours).unwrap();
        // Paced like a phone, so the jitter buffer plays them in turn.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Wait until the buffer has played past the gap, then send packet 10 again, long after its turn.
    let heard = collect(&mut events, Duration::from_secs(5), |e| audio(e).len() >= 45).await;
    assert!(audio(&heard).len() >= 45);
    peer.send_to(&packet(10), ours).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    session.stop().await;
    let (received, lost, late) = figures.packets();
    println!("received {received}, lost {lost}, late {late}");
    // The repeated packet counts as received and makes RFC 3550's cumulative loss one less.
    assert_eq!((received, lost + 1, late), (51, 5, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_packets_a_second_without_drift_and_a_sender_report() {
    use switchboard_voice::rtcp::{RtcpPacket, parse_compound};
    use switchboard_voice::rtp::RtpPacket;
    // The peer is two bare sockets (RTP on an even port, RTCP above it), reading what the session sends.
    let peer = MediaPorts::bind(LOOPBACK).await.unwrap();
    let peer_addr = peer.rtp_addr().unwrap();
    drop(peer);
    let rtp = tokio::net::UdpSocket::bind(peer_addr).await.unwrap();
    let rtcp = tokio::net::UdpSocket::bind(SocketAddr::new(LOOPBACK, peer_addr.port() + 1)).await.unwrap();
    let config = SessionConfig {
        remote: peer_addr,
        law: Law::Alaw,
        payload_type: 8,
        telephone_event: Some(101),
        direction: Direction::SendRecv,
        ssrc: Ssrc(77),
        cname: "pace@test".into(),
        rtcp_interval: Duration::from_secs(1),
        figures: None,
    };
    let (session, _events) = MediaSession::start(MediaPorts::bind(LOOPBACK).await.unwrap(), config).unwrap();
    let mut buf = [0u8; 1500];
    let mut packets = Vec::new();
    let started = tokio::time::Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(100), rtp.recv(&mut buf)).await {
            packets.push((tokio::time::Instant::now(), RtpPacket::parse(&buf[..n]).unwrap()));
        }
    }
    let n = packets.len();
    assert!((147..=151).contains(&n), "{n} packets in 3 s");
    for pair in packets.windows(2) {
        let (a, b) = (&pair[0].1, &pair[1].1);
        assert_eq!(b.sequence, a.sequence.wrapping_add(1));
        assert_eq!(b.timestamp, a.timestamp.wrapping_add(160));
        assert_eq!((b.payload_type, b.payload.len()), (8, 160));
    }
    // Wall time over the run against the RTP clock: the schedule does not drift.
    let (first, last) = (&packets[0], &packets[n - 1]);
    let wall = last.0 - first.0;
    let media = Duration::from_micros(u64::from(last.1.timestamp.wrapping_sub(first.1.timestamp)) * 125);
    let drift = wall.abs_diff(media);
    eprintln!("{n} packets, wall {wall:?} vs RTP clock {media:?}: drift {drift:?}");
    assert!(drift < Duration::from_millis(15), "drift {drift:?}");
    // Reports come every 0.5–1.5 s; one sent after the run counts at least what the run sent.
    let report = loop {
        let n = tokio::time::timeout(Duration::from_secs(2), rtcp.recv(&mut buf)).await.unwrap().unwrap();
        let report = parse_compound(&buf[..n]).unwrap();
        if matches!(&report[0], RtcpPacket::SenderReport { info, .. } if info.packets >= 150) {
            break report;
        }
    };
    let RtcpPacket::SenderReport { ssrc, info, .. } = &report[0] else { panic!("{report:?}") };
    assert_eq!(*ssrc, Ssrc(77));
    assert_eq!(info.octets, info.packets * 160);
    assert!(matches!(&report[1], RtcpPacket::SourceDescription(c) if c[0].1 == "pace@test"));
    session.stop().await;
}
