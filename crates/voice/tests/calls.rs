//! Calls from a real SIP peer, sipp (Debian `sip-tester`, installed by
//! scripts/test), to the user agent on a service with a voice number and
//! an IVR flow: keys by RFC 4733 (and by SIP INFO) through the menu and into the queue,
//! hang-ups in the IVR and in the queue, CANCEL, an unknown number, an
//! unknown dialog and a malformed INVITE.

#[path = "sipp/run.rs"]
mod sipp_run;
#[path = "../../service/tests/support/mod.rs"]
mod support;

use serde_json::json;
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::time::Duration;
use switchboard_core::channel::Channel;
use switchboard_core::expr::Value as AttrValue;
use switchboard_core::ids::QueueId;
use switchboard_service::auth::Principal;
use switchboard_service::conversation::SECRET;
use switchboard_service::flows::FlowUpdate;
use switchboard_service::secrets::SecretKey;
use switchboard_service::{ContactFilter, ContactRecord, ContactState, IdentityKind, Service};
use switchboard_voice::VoiceConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The number the tests dial (sipp's `-s`), without its +.
const DID: &str = "15550001000";

const IVR: &str = r##"{
  "start": "welcome",
  "blocks": {
    "welcome": {"type": "message", "text": "Welcome to Acme.", "next": "menu"},
    "menu": {"type": "buttons", "text": "What is it about?", "save_as": "topic",
             "options": [{"label": "billing", "value": "billing", "key": "1", "next": "order"},
                         {"label": "an agent", "value": "agent", "key": "0", "next": "agent"}]},
    "order": {"type": "input", "text": "Key in your order number, then hash.", "save_as": "order",
              "digits": {"min": 1, "max": 8}, "next": "agent"},
    "agent": {"type": "handoff", "text": "Connecting you."}
  }
}"##;

/// A PIN check: verified callers go to the number's queue, those who fail twice to "Security".
const VERIFY: &str = r##"{
  "start": "pin",
  "blocks": {
    "pin": {"type": "verify", "text": "Please key your PIN, then hash.", "check": "pin", "attempts": 2,
            "timeout_seconds": 5, "verified": "thanks", "queue": "Security"},
    "thanks": {"type": "handoff", "text": "Thank you."}
  }
}"##;

struct Line {
    service: Service,
    p: Principal,
    queue: QueueId,
    /// Where callers who fail verification go.
    security: QueueId,
    sip: SocketAddr,
    _stop: tokio::sync::watch::Sender<bool>,
}

async fn line(url: &str, answer_delay: Duration) -> Line {
    line_with(url, answer_delay, IVR).await
}

/// A line whose number runs `flow`.
async fn line_with(url: &str, answer_delay: Duration, flow: &str) -> Line {
    let service = support::service(url).await;
    let (p, queue) = support::workspace(&service, &["voice"]).await;
    let policy = service
        .put_policy(&p, None, "Security desk", vec![serde_json::from_value(json!({ "expr": "true" })).unwrap()])
        .await
        .unwrap();
    let settings = serde_json::from_value(json!({ "channels": ["voice"], "policy": policy.id })).unwrap();
    let security = service.put_queue(&p, None, "Security", settings).await.unwrap().id;
    let flow = service
        .put_flow(&p, None, FlowUpdate { name: Some("IVR".into()), definition: serde_json::from_str(flow).unwrap() })
        .await
        .unwrap();
    let input = serde_json::from_value(json!({
        "channel": "voice", "name": "Acme line", "address": format!("+{DID}"), "queue": queue, "flow": flow.id,
    }))
    .unwrap();
    service.create_endpoint(&p, input).await.unwrap();
    let dir = std::env::temp_dir().join(format!("switchboard-voice-{}", support::rand_suffix()));
    let mut config = VoiceConfig::new("127.0.0.1:0".parse().unwrap(), dir);
    config.answer_delay = answer_delay;
    config.rtp_ports = (free_port(), 0);
    config.rtp_ports.1 = config.rtp_ports.0 + 200;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let sip = switchboard_voice::listen(service.clone(), config, stopped).await.unwrap().addr;
    Line { service, p, queue, security, sip, _stop: stop }
}

/// A port the OS just had free (even, for RTP).
fn free_port() -> u16 {
    loop {
        let port = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        if port.is_multiple_of(2) && port < 60_000 {
            return port;
        }
    }
}

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sipp").join(name)
}

impl Line {
    /// Runs one call of `name` with sipp; its success and its error output.
    async fn sipp(&self, name: &str, service: &str) -> (bool, String) {
        self.sipp_with(name, service, &[]).await
    }

    /// The same with more of sipp's arguments (`-set rtp PORT`).
    async fn sipp_with(&self, name: &str, service: &str, more: &[&str]) -> (bool, String) {
        let mut args = vec![
            "-sf".to_string(),
            scenario(name).display().to_string(),
            "-m".into(),
            "1".into(),
            "-i".into(),
            "127.0.0.1".into(),
            "-p".into(),
            support::peer_port().to_string(),
            "-mi".into(),
            "127.0.0.1".into(),
            "-mp".into(),
            support::peer_port().to_string(),
            "-s".into(),
            service.into(),
            "-timeout".into(),
            "60s".into(),
            "-nostdin".into(),
        ];
        args.extend(more.iter().map(|a| a.to_string()));
        args.push(self.sip.to_string());
        sipp_run::sipp(args).await.unwrap()
    }

    async fn voice_contacts(&self) -> Vec<ContactRecord> {
        let filter = ContactFilter::default();
        let all = self.service.store().contacts(self.p.workspace, &filter, None, 100).await.unwrap();
        all.into_iter().filter(|c| c.channel == Channel::Voice).collect()
    }

    /// The single voice contact once `ready` holds for it (the call's task commits after sipp is told).
    async fn contact_when(&self, ready: impl Fn(&ContactRecord) -> bool) -> ContactRecord {
        for _ in 0..100 {
            if let [c] = self.voice_contacts().await.as_slice()
                && ready(c)
            {
                return c.clone();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no voice contact as expected: {:?}", self.voice_contacts().await);
    }
}

async fn keys_through_the_menu_into_the_queue_then_the_caller_hangs_up(url: String) {
    the_menu_keyed_into_the_queue(url, "ivr-dtmf-queue.xml", &[]).await;
}

/// The same call over TCP (sipp's `-t t1`: one connection for the whole call).
async fn over_tcp_keys_through_the_menu_into_the_queue(url: String) {
    the_menu_keyed_into_the_queue(url, "ivr-dtmf-queue.xml", &["-t", "t1"]).await;
}

/// The same menu keyed by SIP INFO: the flow sees the same keys (a retransmitted
/// INFO is not a second key; malformed, non-DTMF and out-of-dialog INFOs key nothing).
async fn keys_by_sip_info_walk_the_same_menu(url: String) {
    the_menu_keyed_into_the_queue(url, "ivr-info.xml", &[]).await;
}

/// sipp's `scenario` (with `more` of its arguments) answers the menu with 1, keys order number 45 and #,
/// waits in the queue and hangs up.
async fn the_menu_keyed_into_the_queue(url: String, scenario: &str, more: &[&str]) {
    let line = line(&url, Duration::from_millis(100)).await;
    let (ok, out) = line.sipp_with(scenario, DID, more).await;
    assert!(ok, "{out}");
    let c = line.contact_when(|c| c.state == ContactState::Abandoned).await;
    assert_eq!(c.queue, Some(line.queue), "it was handed to the queue");
    assert_eq!(c.attributes.get("order"), Some(&AttrValue::Str("45".into())), "{:?}", c.attributes);
    assert_eq!(c.attributes.get("topic"), Some(&AttrValue::Str("billing".into())));
    // The transcript: what the IVR said and what the caller keyed, as messages.
    let messages = line.service.messages(&line.p, c.id).await.unwrap().messages;
    let texts: Vec<(String, String)> = messages
        .iter()
        .map(|m| (m["from"].as_str().unwrap_or_default().into(), m["text"].as_str().unwrap_or_default().into()))
        .collect();
    for expected in [("bot", "Welcome to Acme."), ("customer", "1"), ("customer", "45"), ("bot", "Connecting you.")] {
        assert!(texts.iter().any(|(f, t)| f == expected.0 && t == expected.1), "{expected:?} missing from {texts:?}");
    }
    let caller = line.service.store().customer_by_identity(line.p.workspace, IdentityKind::Phone, "+15550100");
    assert_eq!(caller.await.unwrap().map(|c| c.id), c.customer, "the caller is the customer, by number");
}

async fn a_hang_up_in_the_ivr_abandons_the_contact_unqueued(url: String) {
    let line = line(&url, Duration::from_millis(100)).await;
    let (ok, out) = line.sipp("hang-up-in-ivr.xml", DID).await;
    assert!(ok, "{out}");
    let c = line.contact_when(|c| c.state == ContactState::Abandoned).await;
    assert_eq!(c.queue, None, "never queued");
}

async fn cancel_before_answer_gets_487_and_opens_nothing(url: String) {
    let line = line(&url, Duration::from_secs(3)).await;
    let (ok, out) = line.sipp("cancel.xml", DID).await;
    assert!(ok, "{out}");
    assert!(line.voice_contacts().await.is_empty());
}

async fn an_unknown_number_gets_404(url: String) {
    let line = line(&url, Duration::ZERO).await;
    let (ok, out) = line.sipp("unknown-number.xml", "15559999999").await;
    assert!(ok, "{out}");
    assert!(line.voice_contacts().await.is_empty());
}

/// A number on a trunk: a call from an address the trunk does not allow is
/// 403; with trunk credentials, our 407 is answered by sipp (`-au`/`-ap`) and
/// the call goes in, a wrong password is refused; a call from an allowed
/// source needs no challenge.
async fn a_trunk_refuses_strangers_and_takes_its_carrier_by_digest(url: String) {
    let line = line(&url, Duration::ZERO).await;
    line.service.set_secret_key(SecretKey::generate()).unwrap();
    let endpoint = line.service.endpoints(&line.p).await.unwrap().remove(0);
    let put = |settings: serde_json::Value| {
        let input = json!({ "name": "Acme line", "queue": line.queue, "flow": endpoint.flow, "settings": settings });
        line.service.update_endpoint(&line.p, endpoint.id, serde_json::from_value(input).unwrap())
    };
    put(json!({ "allowed_sources": ["192.0.2.0/24"] })).await.unwrap();
    let (ok, out) = line.sipp("trunk-refused.xml", DID).await;
    assert!(ok, "{out}");
    assert!(line.voice_contacts().await.is_empty());

    let trunk =
        json!({ "allowed_sources": ["192.0.2.0/24"], "trunk_username": "acme", "trunk_password": "carrier-secret" });
    put(trunk).await.unwrap();
    let (ok, _) = line.sipp_with("trunk-auth.xml", DID, &["-au", "acme", "-ap", "wrong-secret"]).await;
    assert!(!ok, "a wrong password is refused");
    assert!(line.voice_contacts().await.is_empty());
    let (ok, out) = line.sipp_with("trunk-auth.xml", DID, &["-au", "acme", "-ap", "carrier-secret", "-d", "500"]).await;
    assert!(ok, "{out}");
    assert_eq!(line.voice_contacts().await.len(), 1, "the carrier's call came in");

    put(json!({ "allowed_sources": ["127.0.0.0/8"], "trunk_username": "acme" })).await.unwrap();
    let (ok, out) = line.sipp_with("hang-up-in-ivr.xml", DID, &[]).await;
    assert!(ok, "an allowed source needs no challenge: {out}");
}

async fn a_bye_for_an_unknown_dialog_gets_481(url: String) {
    let line = line(&url, Duration::ZERO).await;
    let (ok, out) = line.sipp("unknown-dialog-bye.xml", DID).await;
    assert!(ok, "{out}");
}

async fn a_malformed_invite_gets_400_and_the_agent_keeps_serving(url: String) {
    let line = line(&url, Duration::ZERO).await;
    let (ok, out) = line.sipp("malformed.xml", DID).await;
    assert!(ok, "{out}");
    let (ok, out) = line.sipp("unknown-number.xml", "15559999999").await;
    assert!(ok, "still answering after it: {out}");
}

/// What the agent answers on a new TCP connection to `sip` that sends
/// `bytes`, up to its closing the connection, or the first message when it keeps it open.
async fn over_tcp(sip: SocketAddr, bytes: &[u8]) -> (String, bool) {
    let mut tcp = tokio::net::TcpStream::connect(sip).await.unwrap();
    // The agent may close before it has read everything; its answer is still there to read.
    let _ = tcp.write_all(bytes).await;
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tcp.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            return (String::from_utf8_lossy(&answer).into_owned(), true);
        }
        answer.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&answer).into_owned();
        if text.contains("\r\n\r\n") && text.contains("Content-Length: 0\r\n\r\n") && text.starts_with("SIP/2.0 200") {
            return (text, false);
        }
    }
}

const OPTIONS: &str = "OPTIONS sip:15550001000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKtcp1\r\nFrom: <sip:probe@127.0.0.1>;tag=p1\r\nTo: <sip:15550001000@127.0.0.1>\r\nCall-ID: tcp-probe\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n";

/// Over TCP, a request without Content-Length is 400 and the connection
/// closes (where the next message would start is unknown); bytes that are
/// not SIP close it without an answer; a message larger than we take is
/// 513 and closed, and so are headers that never end. Keep-alives before a
/// message are fine, and the agent answers the next connection, and sipp's call.
async fn over_tcp_garbage_and_oversized_messages_are_refused_and_the_agent_keeps_serving(url: String) {
    let line = line(&url, Duration::ZERO).await;
    let (answer, closed) = over_tcp(line.sip, format!("{OPTIONS}\r\n").as_bytes()).await;
    assert!(answer.starts_with("SIP/2.0 400 Bad Request\r\n") && closed, "{answer}");
    assert!(answer.contains("Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKtcp1"), "{answer}");

    let (answer, closed) = over_tcp(line.sip, b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03 not SIP\r\n\r\n").await;
    assert!(answer.is_empty() && closed, "{answer}");

    let oversized = format!("{OPTIONS}Content-Length: 100000\r\n\r\n{}", "x".repeat(100_000));
    let (answer, closed) = over_tcp(line.sip, oversized.as_bytes()).await;
    assert!(answer.starts_with("SIP/2.0 513 Message Too Large\r\n") && closed, "{answer}");

    let endless = format!("{OPTIONS}{}", "X-Padding: yes\r\n".repeat(2_000));
    let (answer, closed) = over_tcp(line.sip, endless.as_bytes()).await;
    assert!(answer.starts_with("SIP/2.0 513 ") && closed, "{answer}");

    let (answer, closed) = over_tcp(line.sip, format!("\r\n\r\n{OPTIONS}Content-Length: 0\r\n\r\n").as_bytes()).await;
    assert!(answer.starts_with("SIP/2.0 200 OK\r\n") && !closed, "{answer}");
    let (ok, out) = line.sipp_with("unknown-number.xml", "15559999999", &["-t", "t1"]).await;
    assert!(ok, "still answering calls over TCP: {out}");
}

impl Line {
    /// The caller of the sipp scenarios (+15550100) as a customer with the PIN 2468.
    async fn caller_with_pin(&self) {
        let new = serde_json::from_value(json!({ "identities": [{"kind": "phone", "value": "+15550100"}] })).unwrap();
        let caller = self.service.create_customer(&self.p, new).await.unwrap().customer.id;
        let pin = switchboard_service::verification::PinUpdate { pin: "2468".into() };
        self.service.put_customer_pin(&self.p, caller, pin).await.unwrap();
    }

    /// The contact's verification outcomes and what the caller keyed, as the transcript has them.
    async fn verification(&self, c: &ContactRecord) -> (Vec<String>, Vec<String>) {
        let events = self.service.store().contact_events(self.p.workspace, c.id, None).await.unwrap();
        let all = serde_json::to_string(&events.iter().map(|e| &e.payload).collect::<Vec<_>>()).unwrap();
        for secret in ["2468", "1234", "5678"] {
            assert!(!all.contains(&format!("\"{secret}")), "{secret} is in the log: {all}");
        }
        support::verification_log(&self.service, &self.p, c.id).await
    }
}

async fn a_caller_keys_their_pin_and_is_verified(url: String) {
    let line = line_with(&url, Duration::from_millis(100), VERIFY).await;
    line.caller_with_pin().await;
    let (ok, out) = line.sipp("verify-pass.xml", DID).await;
    assert!(ok, "{out}");
    let c = line.contact_when(|c| c.state == ContactState::Abandoned).await;
    assert_eq!(c.queue, Some(line.queue), "verified, it went on to the number's queue");
    assert_eq!(c.attributes.get("verified"), Some(&AttrValue::Bool(true)));
    let (outcomes, keyed) = line.verification(&c).await;
    assert_eq!(outcomes, ["pin verified"]);
    assert_eq!(keyed, [SECRET], "the PIN is masked in the transcript");
}

async fn a_wrong_pin_twice_is_locked_out_and_escalated(url: String) {
    let line = line_with(&url, Duration::from_millis(100), VERIFY).await;
    line.caller_with_pin().await;
    let (ok, out) = line.sipp("verify-fail.xml", DID).await;
    assert!(ok, "{out}");
    let c = line.contact_when(|c| c.state == ContactState::Abandoned).await;
    let events = line.service.store().contact_events(line.p.workspace, c.id, None).await.unwrap();
    let log: Vec<_> = events.iter().map(|e| &e.payload).collect();
    assert_eq!(c.queue, Some(line.security), "escalated to the block's queue: {log:?}");
    assert_eq!(c.attributes.get("verified"), Some(&AttrValue::Bool(false)));
    let (outcomes, keyed) = line.verification(&c).await;
    assert_eq!(outcomes, ["pin failed"]);
    assert_eq!(keyed, [SECRET, SECRET]);
    let handoff = line.service.store().contact_events(line.p.workspace, c.id, Some("bot_handoff")).await.unwrap();
    assert_eq!(handoff[0].payload["reason"], "verification");
}

/// A socket standing for the caller's media (its port, for sipp's `-set rtp`),
/// and the sequence number and timestamp of every RTP packet it hears until
/// the call's audio stops for good (5 s of nothing).
fn caller_rtp() -> (String, std::thread::JoinHandle<Vec<(u16, u32)>>) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port().to_string();
    let heard = std::thread::spawn(move || {
        socket.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut packets = Vec::new();
        let mut buf = [0u8; 2048];
        while let Ok(n) = socket.recv(&mut buf) {
            if n >= 12 {
                let sequence = u16::from_be_bytes([buf[2], buf[3]]);
                packets.push((sequence, u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]])));
            }
        }
        packets
    });
    (port, heard)
}

/// A late-offer INVITE (no SDP): our offer in the 200, the caller's answer
/// in the ACK naming the test's socket, which hears the IVR; the contact is
/// the IVR's. An ACK without an answer gets our BYE.
async fn a_late_offer_is_answered_in_the_ack(url: String) {
    let line = line(&url, Duration::from_millis(100)).await;
    let (rtp, heard) = caller_rtp();
    let (ok, out) = line.sipp_with("late-offer.xml", DID, &["-set", "rtp", &rtp, "-d", "3000"]).await;
    assert!(ok, "{out}");
    let packets = heard.join().unwrap();
    println!("{} packets heard after the answer in the ACK", packets.len());
    assert!(packets.len() >= 100, "the IVR's audio reached the ACK's address: {} packets", packets.len());
    let c = line.contact_when(|c| c.state == ContactState::Abandoned).await;
    assert_eq!(c.queue, None, "hung up in the IVR");
    let (ok, out) = line.sipp("late-offer-no-answer.xml", DID).await;
    assert!(ok, "our BYE after an ACK with no answer: {out}");
}

/// The caller holds by re-INVITE (sendonly, then inactive) and resumes
/// (sendrecv): sipp checks each answer's direction and version; the
/// caller's RTP socket hears our audio stop while held and come back: one
/// step of the sequence number where the RTP clock moved on by the hold.
async fn a_caller_holds_and_resumes_by_reinvite(url: String) {
    let line = line(&url, Duration::from_millis(100)).await;
    let (rtp, heard) = caller_rtp();
    let (ok, out) = line.sipp_with("caller-hold.xml", DID, &["-set", "rtp", &rtp]).await;
    assert!(ok, "{out}");
    let packets = heard.join().unwrap();
    // RTP clock units between packets that follow each other: 160 (20 ms) but across the hold.
    let skips: Vec<(usize, u32)> = packets
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[1].0 == w[0].0.wrapping_add(1))
        .map(|(i, w)| (i, w[1].1.wrapping_sub(w[0].1)))
        .filter(|(_, step)| *step > 8000)
        .collect();
    println!("{} packets; steps of the RTP clock over a second at {skips:?}", packets.len());
    // Held for 3 s of the call (1.5 s sendonly, 1.5 s inactive): the clock went on, nothing was sent.
    assert_eq!(skips.len(), 1, "one silence, the hold: {skips:?}");
    let (at, step) = skips[0];
    assert!(step > 2 * 8000, "the silence lasted the hold: {step} units");
    assert!(
        at > 25 && packets.len() - at > 25,
        "audio before the hold and after the resume: {at} of {}",
        packets.len()
    );
}

support::on_both!(
    a_caller_holds_and_resumes_by_reinvite,
    a_late_offer_is_answered_in_the_ack,
    a_caller_keys_their_pin_and_is_verified,
    a_wrong_pin_twice_is_locked_out_and_escalated,
    keys_through_the_menu_into_the_queue_then_the_caller_hangs_up,
    over_tcp_keys_through_the_menu_into_the_queue,
    over_tcp_garbage_and_oversized_messages_are_refused_and_the_agent_keeps_serving,
    keys_by_sip_info_walk_the_same_menu,
    a_hang_up_in_the_ivr_abandons_the_contact_unqueued,
    cancel_before_answer_gets_487_and_opens_nothing,
    an_unknown_number_gets_404,
    a_trunk_refuses_strangers_and_takes_its_carrier_by_digest,
    a_bye_for_an_unknown_dialog_gets_481,
    a_malformed_invite_gets_400_and_the_agent_keeps_serving
);
