//! Agents on SIP phones: baresip (Debian `baresip`, installed by
//! scripts/test) is the agent's phone — it registers with digest, rings
//! when the agent is offered a call, answers by itself (`answermode=auto`)
//! and sends a 1 kHz tone (`ausine`); sipp is the caller, on a number with
//! no IVR. The caller's SDP names the test's own RTP socket, so the test
//! hears what the caller hears and finds the agent's tone in it (Goertzel).
//! Callers who get no agent leave voicemails (sipp playing its g711a.pcap)
//! that an agent then takes on the desktop.

#[path = "sipp/run.rs"]
mod sipp_run;
#[path = "../../service/tests/support/mod.rs"]
mod support;

use serde_json::json;
use sipp_run::sipp;
use std::io::Read;
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_core::agent::{AgentState, Presence};
use switchboard_core::channel::Channel;
use switchboard_core::events::TransferTarget;
use switchboard_core::expr::Value as AttrValue;
use switchboard_core::ids::{AgentId, QueueId, UserId};
use switchboard_core::time::Timestamp;
use switchboard_service::auth::Principal;
use switchboard_service::secrets::SecretKey;
use switchboard_service::sip_accounts::SipAccountUpdate;
use switchboard_service::{ContactFilter, ContactRecord, ContactState, NewUser, Role, Service};
use switchboard_voice::VoiceConfig;
use switchboard_voice::g711::Law;
use switchboard_voice::hold::hold_music;
use switchboard_voice::prompt::{PromptCache, SpeechEngine};

const DID: &str = "15550002000";
const PASSWORD: &str = "alice-phone-secret";
/// The tone baresip's `ausine` sends.
const TONE: f64 = 1000.0;

struct Office {
    service: Service,
    p: Principal,
    queue: QueueId,
    alice: UserId,
    sip: SocketAddr,
    /// The voice channel's data directory (recordings).
    dir: PathBuf,
    /// How far the service's clock is ahead of the wall clock, in milliseconds.
    ahead: Arc<AtomicI64>,
    _stop: tokio::sync::watch::Sender<bool>,
}

async fn office(url: &str) -> Office {
    // The service's clock, which a test may move ahead (a callback's wait between attempts).
    let ahead = Arc::new(AtomicI64::new(0));
    let clock: switchboard_service::ClockFn = {
        let (ahead, system) = (ahead.clone(), switchboard_service::system_clock());
        Arc::new(move || Timestamp(system().0 + ahead.load(Ordering::SeqCst)))
    };
    let service = Service::open(url, clock, 12).await.unwrap();
    service.set_secret_key(SecretKey::generate()).unwrap();
    let (p, queue) = support::workspace(&service, &["voice"]).await;
    let input = serde_json::from_value(json!({
        "channel": "voice", "name": "Support line", "address": format!("+{DID}"), "queue": queue,
    }))
    .unwrap();
    service.create_endpoint(&p, input).await.unwrap();
    let alice = NewUser {
        email: format!("alice{}@example.com", support::rand_suffix()),
        name: "Alice".into(),
        role: Role::Agent,
        password: "alice-password".into(),
    };
    let alice = service.create_user(&p, alice).await.unwrap().id;
    let spec = json!({ "capacity": { "voice": 1 }, "queues": [{ "queue": queue }], "wrap_up": "until_ended" });
    service.put_agent(&p, alice, serde_json::from_value(spec).unwrap()).await.unwrap();
    let account = SipAccountUpdate { username: Some("alice".into()), password: PASSWORD.into() };
    assert_eq!(service.put_sip_account(&p, alice, account).await.unwrap().username, "alice");
    let dir = std::env::temp_dir().join(format!("switchboard-agents-{}", support::rand_suffix()));
    service.set_data_dir(dir.clone());
    let mut config = VoiceConfig::new("127.0.0.1:0".parse().unwrap(), dir.clone());
    config.answer_delay = Duration::from_millis(100);
    config.callback_ring = Duration::from_secs(3);
    config.rtp_ports = (free_port(), 0);
    config.rtp_ports.1 = config.rtp_ports.0 + 200;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let sip = switchboard_voice::listen(service.clone(), config, stopped.clone()).await.unwrap().addr;
    service.clone().spawn_ticker(stopped);
    Office { service, p, queue, alice, sip, dir, ahead, _stop: stop }
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

/// A baresip phone registering as `user` to the office; killed when dropped.
struct Phone {
    child: Child,
    output: Arc<Mutex<String>>,
    /// baresip's `ctrl_tcp` address: `menu`'s commands as JSON in netstrings.
    control: SocketAddr,
    /// Its configuration, and the WAV dumps of its calls.
    dir: PathBuf,
}

impl Phone {
    fn start(sip: SocketAddr, user: &str, password: &str, auto_answer: bool) -> Phone {
        Phone::sending(sip, user, password, auto_answer, TONE)
    }

    /// A phone whose `ausine` sends `tone` (Hz); what it hears is dumped as WAV files
    /// (baresip's `sndfile`) in its directory.
    fn sending(sip: SocketAddr, user: &str, password: &str, auto_answer: bool, tone: f64) -> Phone {
        Phone::configured(sip, user, password, auto_answer, tone, "")
    }

    /// A phone registering over TCP (and answering by itself): its account's URI says `;transport=tcp`.
    fn over_tcp(sip: SocketAddr, user: &str, password: &str) -> Phone {
        Phone::configured(sip, user, password, true, TONE, ";transport=tcp")
    }

    /// `uri_params` go in the account's SIP URI.
    fn configured(
        sip: SocketAddr,
        user: &str,
        password: &str,
        auto_answer: bool,
        tone: f64,
        uri_params: &str,
    ) -> Phone {
        let dir = std::env::temp_dir().join(format!("switchboard-baresip-{}", support::rand_suffix()));
        let control: SocketAddr = format!("127.0.0.1:{}", support::peer_port()).parse().unwrap();
        let sip_port = loop {
            let port = support::peer_port();
            if port != control.port() {
                break port;
            }
        };
        std::fs::create_dir_all(&dir).unwrap();
        let config = format!(
            "sip_listen 127.0.0.1:{}\naudio_player aubridge,out\naudio_source ausine,{}\naudio_alert aubridge,alert\n\
             ausrc_srate 48000\nausrc_channels 2\nauplay_srate 48000\nauplay_channels 2\nrtp_ports 30000-39998\n\
             module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule ausine.so\nmodule aubridge.so\nmodule sndfile.so\nsnd_path {}\nmodule_app account.so\nmodule_app menu.so\nmodule_app ctrl_tcp.so\nctrl_tcp_listen {control}\n",
            sip_port,
            tone as u32,
            dir.display(),
        );
        std::fs::write(dir.join("config"), config).unwrap();
        let answer = if auto_answer { ";answermode=auto" } else { "" };
        let account = format!("<sip:{user}@{sip}{uri_params}>;auth_pass={password};regint=600{answer}\n");
        std::fs::write(dir.join("accounts"), account).unwrap();
        let mut child = Command::new("baresip")
            // Loopback only: by default baresip would put the machine's own address in its SDP.
            .args(["-4", "-n", "127.0.0.1", "-f", dir.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("baresip is needed by these tests (scripts/test installs it): {e}"));
        let output = Arc::new(Mutex::new(String::new()));
        for mut stream in
            [Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>, Box::new(child.stderr.take().unwrap())]
        {
            let output = output.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        return;
                    }
                    output.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
        Phone { child, output, control, dir }
    }

    /// A `menu` command on the phone: `hangup`, `accept`.
    fn command(&self, name: &str) {
        self.command_with(name, "");
    }

    /// A `menu` command with its parameters (`transfer sip:bob@…`): baresip's response.
    fn command_with(&self, name: &str, params: &str) -> String {
        use std::io::Write;
        let command = format!(r#"{{"command":"{name}","params":"{params}","token":"1"}}"#);
        let mut tcp = std::net::TcpStream::connect(self.control).unwrap();
        tcp.write_all(format!("{}:{command},", command.len()).as_bytes()).unwrap();
        // Events come on the same connection: read up to the command's response.
        let mut answer = String::new();
        let mut buf = [0u8; 1024];
        while !answer.contains(r#""response":true"#) {
            let n = tcp.read(&mut buf).unwrap();
            assert!(n > 0, "baresip closed its control connection: {answer}");
            answer.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        assert!(answer.contains(r#""ok":true"#), "baresip refused {name}: {answer}");
        answer
    }

    /// Waits until the phone has no call (up to a minute). After a transfer it
    /// succeeded baresip hangs up by itself and, when its BYE crosses ours,
    /// prints nothing of it: its list of calls is what tells.
    async fn wait_idle(&self) {
        let mut calls = String::new();
        for _ in 0..600 {
            calls = self.command_with("listcalls", "");
            // "No active calls" before the first call, "Active calls (0)" after one.
            if calls.contains("No active calls") || calls.contains("Active calls (0)") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("baresip still has a call: {calls}\n{}", self.output());
    }

    /// What the phone heard in its last call (the decoder's output that
    /// `sndfile` dumped): the sample rate and the first channel's samples.
    fn heard(&self) -> (u32, Vec<i16>) {
        let dumps = std::fs::read_dir(&self.dir).unwrap().filter_map(|e| e.ok().map(|e| e.path()));
        let mut decoded: Vec<PathBuf> = dumps.filter(|p| p.to_string_lossy().ends_with("-dec.wav")).collect();
        decoded.sort();
        let wav = std::fs::read(decoded.last().expect("a dump of what the phone heard")).unwrap();
        // RIFF chunks: `fmt ` (channels at 10, rate at 12) and `data`.
        let (mut at, mut channels, mut rate) = (12, 1usize, 8000u32);
        while at + 8 <= wav.len() {
            let size = u32::from_le_bytes(wav[at + 4..at + 8].try_into().unwrap()) as usize;
            let body = &wav[at + 8..(at + 8 + size).min(wav.len())];
            match &wav[at..at + 4] {
                b"fmt " => {
                    channels = usize::from(u16::from_le_bytes([body[2], body[3]]));
                    rate = u32::from_le_bytes(body[4..8].try_into().unwrap());
                }
                b"data" => {
                    let samples = body.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]]));
                    return (rate, samples.step_by(channels.max(1)).collect());
                }
                _ => {}
            }
            at += 8 + size + size % 2;
        }
        panic!("no audio in the phone's dump");
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits until the phone has printed `text` (up to a minute; the test fails after that).
    async fn wait_for(&self, text: &str) {
        for _ in 0..600 {
            if self.output().contains(text) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("baresip never printed {text:?}:\n{}", self.output());
    }
}

impl Drop for Phone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sipp").join(name)
}

impl Office {
    /// Changes the queue's settings: `changes` over what it has.
    async fn set_queue(&self, changes: serde_json::Value) {
        let queues = self.service.store().queues(self.p.workspace).await.unwrap();
        let queue = queues.into_iter().find(|q| q.id == self.queue).unwrap();
        let mut settings = queue.settings;
        for (k, v) in changes.as_object().unwrap() {
            settings[k] = v.clone();
        }
        let settings = serde_json::from_value(settings).unwrap();
        self.service.put_queue(&self.p, Some(self.queue), &queue.name, settings).await.unwrap();
    }

    /// Alice's phone registered (answering by itself or not) and Alice
    /// available; the socket standing for the caller's media, and its port.
    async fn alice_ready(&self, answers: bool) -> (Phone, UdpSocket, u16) {
        self.alice_ready_on(Phone::start(self.sip, "alice", PASSWORD, answers)).await
    }

    /// The same with `phone` as Alice's.
    async fn alice_ready_on(&self, phone: Phone) -> (Phone, UdpSocket, u16) {
        phone.wait_for("200 OK").await;
        self.service.set_agent_state(&self.p, self.alice, Presence::Available).await.unwrap();
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let rtp = socket.local_addr().unwrap().port();
        (phone, socket, rtp)
    }

    /// One call with sipp's scenario `name`, hanging up (when it does) `talk_ms` after the answer,
    /// its SDP naming `rtp` as the caller's media address.
    fn call(&self, name: &str, rtp: u16, talk_ms: u32) -> tokio::task::JoinHandle<(bool, String)> {
        let args: Vec<String> = [
            "-sf",
            scenario(name).to_str().unwrap(),
            "-m",
            "1",
            "-i",
            "127.0.0.1",
            "-p",
            &support::peer_port().to_string(),
            "-mi",
            "127.0.0.1",
            "-mp",
            &support::peer_port().to_string(),
            "-s",
            DID,
            "-set",
            "rtp",
            &rtp.to_string(),
            "-d",
            &talk_ms.to_string(),
            "-timeout",
            "90s",
            "-nostdin",
            &self.sip.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        sipp(args)
    }

    async fn voice_contact_when(&self, ready: impl Fn(&ContactRecord) -> bool) -> ContactRecord {
        for _ in 0..300 {
            let all =
                self.service.store().contacts(self.p.workspace, &ContactFilter::default(), None, 10).await.unwrap();
            if let Some(c) = all.into_iter().find(|c| c.channel == Channel::Voice && ready(c)) {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no voice contact as expected");
    }

    /// Alice's phone answers sipp's `scenario` by itself (`talk_ms` its pause): the phone,
    /// the caller's media socket (kept open), sipp's run and the contact once the call is established.
    async fn answered(
        &self,
        scenario: &str,
        talk_ms: u32,
    ) -> (Phone, UdpSocket, tokio::task::JoinHandle<(bool, String)>, ContactRecord) {
        let (phone, socket, rtp) = self.alice_ready(true).await;
        let sipp = self.call(scenario, rtp, talk_ms);
        let c = self.voice_contact_when(|c| c.state == ContactState::Connected).await;
        phone.wait_for("Call established").await;
        (phone, socket, sipp, c)
    }

    /// Alice, signed in on the desktop.
    fn as_alice(&self) -> Principal {
        Principal { workspace: self.p.workspace, user: self.alice, role: Role::Agent }
    }

    /// The kinds of the contact's events, in order.
    /// The payloads of the contact's `recording` events once there is one: the call indexes
    /// its file as it ends, just after the contact has left the call.
    async fn recordings(&self, c: &ContactRecord) -> Vec<serde_json::Value> {
        for _ in 0..100 {
            let recorded =
                self.service.store().contact_events(self.p.workspace, c.id, Some("recording")).await.unwrap();
            if !recorded.is_empty() {
                return recorded.into_iter().map(|e| e.payload).collect();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the call was never indexed as recorded");
    }

    async fn kinds(&self, c: &ContactRecord) -> Vec<String> {
        let events = self.service.store().contact_events(self.p.workspace, c.id, None).await.unwrap();
        events.into_iter().map(|e| e.kind).collect()
    }

    async fn alice_state(&self) -> (AgentState, usize) {
        let agent = AgentId(self.alice.0);
        self.service
            .inspect(self.p.workspace, |c| {
                let s = c.engine.agent_snapshot(agent).unwrap();
                (s.state, s.contacts.len())
            })
            .await
            .unwrap()
    }
}

/// Everything the caller's socket received (PCMU payloads, decoded) until `done` is set.
fn listen_rtp(socket: UdpSocket, done: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<i16>> {
    std::thread::spawn(move || {
        socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        let mut samples = Vec::new();
        let mut buf = [0u8; 2048];
        while !done.load(Ordering::SeqCst) {
            if let Ok(n) = socket.recv(&mut buf)
                && n > 12
                && buf[1] & 0x7f == 0
            {
                samples.extend(Law::Ulaw.decode(&buf[12..n]));
            }
        }
        samples
    })
}

/// The share of a frame's energy at `freq` (Goertzel), 0 to about 1.
fn tone_share(frame: &[i16], freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / 8000.0;
    let (mut s1, mut s2) = (0.0, 0.0);
    for &x in frame {
        let s = f64::from(x) + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
    let energy: f64 = frame.iter().map(|&x| f64::from(x).powi(2)).sum();
    if energy < 1.0 { 0.0 } else { 2.0 * power / (energy * frame.len() as f64) }
}

/// A caller (sipp, `queue-to-agent.xml`, media at `rtp`) put through to
/// Alice's phone, which answers by itself, talks 4 s and hangs up: the
/// contact, in wrap-up with Alice, and what the caller's `socket` heard.
async fn talked_to_alice(office: &Office, phone: &Phone, socket: UdpSocket, rtp: u16) -> (ContactRecord, Vec<i16>) {
    let done = Arc::new(AtomicBool::new(false));
    let heard = listen_rtp(socket, done.clone());
    let (ok, out) = office.call("queue-to-agent.xml", rtp, 4000).await.unwrap();
    done.store(true, Ordering::SeqCst);
    assert!(ok, "{out}\n{}", phone.output());
    // Accepted by Alice through her phone, then the caller's BYE: wrap-up.
    let c = office.voice_contact_when(|c| c.state == ContactState::WrapUp).await;
    assert_eq!(c.agent, Some(office.alice));
    // The phone answered, then heard our BYE.
    phone.wait_for("Call established").await;
    phone.wait_for("terminated").await;
    (c, heard.join().unwrap())
}

async fn the_phone_answers_the_offer_and_the_caller_hears_the_agent(url: String) {
    let office = office(&url).await;
    let (phone, socket, rtp) = office.alice_ready(true).await;
    let (c, samples) = talked_to_alice(&office, &phone, socket, rtp).await;
    assert_eq!(office.alice_state().await, (AgentState::WrapUp, 1));
    let kinds = office.kinds(&c).await;
    assert!(kinds.iter().any(|k| k == "offer_accepted"), "{kinds:?}");
    // The tone Alice's phone sends reached the caller: 20 ms frames where 1 kHz carries most of the energy.
    let toned = samples.chunks(160).filter(|f| tone_share(f, TONE) > 0.6).count();
    let music = samples.chunks(160).filter(|f| tone_share(f, 440.0) > 0.6).count();
    println!(
        "{} frames heard, {toned} with the agent's 1 kHz tone, {music} of hold music at 440 Hz",
        samples.len() / 160
    );
    assert!(toned >= 50, "the agent's tone in only {toned} of {} frames", samples.len() / 160);

    // The recording: a `recording` event naming a stereo WAV whose right channel is the agent.
    let recorded = office.recordings(&c).await;
    assert_eq!(recorded.len(), 1, "one recording event");
    let path = office.dir.join(recorded[0]["path"].as_str().unwrap());
    let wav = std::fs::read(&path).unwrap();
    let (channels, samples) = wav_samples(&wav);
    assert_eq!(channels, 2, "stereo");
    let agent: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    let caller: Vec<i16> = samples.iter().step_by(2).copied().collect();
    let toned = agent.chunks(160).filter(|f| tone_share(f, TONE) > 0.6).count();
    let seconds = recorded[0]["seconds"].as_f64().unwrap();
    println!("recorded {seconds} s, {toned} agent frames with the tone");
    assert!(toned >= 50, "the agent's tone in {toned} recorded frames");
    // sipp sends no audio: the caller's side is silence.
    assert!(caller.iter().all(|&s| s == 0), "the caller's channel is silent");
    // Served to Alice, who took the call, and to the admin; not to another agent.
    let alice = office.as_alice();
    assert_eq!(office.service.recording(&alice, c.id).await.unwrap(), wav);
    assert_eq!(office.service.recording(&office.p, c.id).await.unwrap(), wav);
    let bob = office.agent_user("Bob").await;
    let bob = Principal { workspace: office.p.workspace, user: bob, role: Role::Agent };
    assert!(office.service.recording(&bob, c.id).await.is_err());
}

/// Alice's phone registers over TCP and answers a caller who came over UDP:
/// the INVITE reaches it on the connection it registered on (a phone
/// behind NAT could be reached no other way) and the caller hears her tone.
async fn a_phone_registered_over_tcp_answers_a_caller_over_udp(url: String) {
    let office = office(&url).await;
    let (phone, socket, rtp) = office.alice_ready_on(Phone::over_tcp(office.sip, "alice", PASSWORD)).await;
    assert!(phone.output().contains("{0/TCP/v4} 200 OK"), "registered over TCP: {}", phone.output());
    // Answered, then our BYE over the same connection ended the phone's call.
    let (_, samples) = talked_to_alice(&office, &phone, socket, rtp).await;
    let toned = samples.chunks(160).filter(|f| tone_share(f, TONE) > 0.6).count();
    println!("{} frames heard, {toned} with the agent's 1 kHz tone", samples.len() / 160);
    assert!(toned >= 50, "the agent's tone in only {toned} of {} frames", samples.len() / 160);
}

/// A phone registered over TCP whose connection is gone is called on a new
/// connection to its Contact (`;transport=tcp`): sipp registers over TCP
/// and leaves; sipp's answerer, over TCP at the Contact's port, takes the
/// offer and our BYE.
async fn a_phone_whose_connection_is_gone_is_called_at_its_contact(url: String) {
    let office = office(&url).await;
    let port = support::peer_port().to_string();
    let strings = |args: &[&str]| args.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    let (register, from, sip) =
        (scenario("register-tcp.xml"), support::peer_port().to_string(), office.sip.to_string());
    let registering = ["-sf", register.to_str().unwrap(), "-t", "t1", "-m", "1", "-i", "127.0.0.1", "-p", &from];
    let rest = ["-set", "phone", &port, "-timeout", "30s", "-nostdin", &sip];
    let (ok, out) = sipp(strings(&[&registering[..], &rest].concat())).await.unwrap();
    assert!(ok, "{out}");
    let media = support::peer_port().to_string();
    let answerer =
        ["-sn", "uas", "-t", "t1", "-m", "1", "-i", "127.0.0.1", "-p", &port, "-mi", "127.0.0.1", "-mp", &media];
    let phone = sipp(strings(&[&answerer[..], &["-timeout", "60s", "-nostdin"]].concat()));
    // The answerer is there once its port is taken.
    while std::net::TcpListener::bind(format!("127.0.0.1:{port}")).is_ok() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    office.service.set_agent_state(&office.p, office.alice, Presence::Available).await.unwrap();
    let caller_media = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp = caller_media.local_addr().unwrap().port();
    let (ok, out) = office.call("queue-to-agent.xml", rtp, 4000).await.unwrap();
    assert!(ok, "{out}");
    let (ok, out) = phone.await.unwrap();
    assert!(ok, "the phone took the call on a new connection and our BYE on it: {out}");
    let c = office.voice_contact_when(|c| c.state == ContactState::WrapUp).await;
    assert_eq!(c.agent, Some(office.alice));
}

async fn a_wrong_password_is_refused(url: String) {
    let office = office(&url).await;
    let phone = Phone::start(office.sip, "alice", "not-the-password", true);
    phone.wait_for("403 Forbidden").await;
    let stranger = Phone::start(office.sip, "mallory", PASSWORD, true);
    stranger.wait_for("403 Forbidden").await;
}

async fn a_caller_hanging_up_while_the_phone_rings_cancels_it(url: String) {
    let office = office(&url).await;
    let (phone, _socket, rtp) = office.alice_ready(false).await;
    let (ok, out) = office.call("queue-to-agent.xml", rtp, 3000).await.unwrap();
    assert!(ok, "{out}");
    let c = office.voice_contact_when(|c| c.state == ContactState::Abandoned).await;
    assert!(c.agent.is_none() || c.agent == Some(office.alice));
    // The phone was rung with the caller's name, then stopped by our CANCEL
    // (baresip, with no user interface loaded, says the session was reset).
    phone.wait_for("sip:Caller@").await;
    phone.wait_for("session closed").await;
    assert_eq!(office.alice_state().await, (AgentState::Available, 0), "Alice is free, not reserved");
}

/// Who hangs up first on the agent's side: the phone, or the desktop.
async fn the_agent_hangs_up(url: String, on_the_desktop: bool) {
    let office = office(&url).await;
    let (phone, _socket, sipp, c) = office.answered("agent-hangs-up.xml", 0).await;
    if on_the_desktop {
        let alice = office.as_alice();
        office.service.agent_ends_chat(&alice, c.id).await.unwrap();
    } else {
        phone.command("hangup");
    }
    // sipp passes only once it has our BYE (and answered it).
    let (ok, out) = sipp.await.unwrap();
    assert!(ok, "{out}\n{}", phone.output());
    // The phone's own BYE, or ours to it.
    phone.wait_for(if on_the_desktop { "session closed" } else { "terminate call" }).await;
    let c = office.voice_contact_when(|c| c.state == ContactState::WrapUp).await;
    assert_eq!(c.agent, Some(office.alice));
    assert_eq!(office.alice_state().await, (AgentState::WrapUp, 1));
    let ended =
        office.service.store().contact_events(office.p.workspace, c.id, Some("conversation_ended")).await.unwrap();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].payload["by"], "agent");
}

async fn the_agent_hangs_up_the_phone(url: String) {
    the_agent_hangs_up(url, false).await;
}

async fn the_agent_hangs_up_on_the_desktop(url: String) {
    the_agent_hangs_up(url, true).await;
}

/// sipp as a phone: challenged, a too-short expiry refused with Min-Expires,
/// registered for what it asked, then unregistered.
async fn expiry_is_bounded_and_expires_0_unregisters(url: String) {
    let office = office(&url).await;
    let args: Vec<String> = [
        "-sf",
        scenario("register.xml").to_str().unwrap(),
        "-m",
        "1",
        "-i",
        "127.0.0.1",
        "-p",
        &support::peer_port().to_string(),
        "-timeout",
        "30s",
        "-nostdin",
        &office.sip.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (ok, out) = sipp(args).await.unwrap();
    assert!(ok, "{out}");
}

/// The agent accepts on the desktop while the phone rings, then picks up:
/// the phone's answer bridges the call without a second accept.
async fn accepted_on_the_desktop_then_picked_up(url: String) {
    let office = office(&url).await;
    let (phone, _socket, rtp) = office.alice_ready(false).await;
    let sipp = office.call("queue-to-agent.xml", rtp, 5000);
    let c = office.voice_contact_when(|c| c.state == ContactState::Offered).await;
    phone.wait_for("Incoming call").await;
    let alice = office.as_alice();
    office.service.accept(&alice, c.id).await.unwrap();
    phone.command("accept");
    phone.wait_for("Call established").await;
    let (ok, out) = sipp.await.unwrap();
    assert!(ok, "{out}");
    let c = office.voice_contact_when(|c| c.state == ContactState::WrapUp).await;
    assert_eq!(c.agent, Some(office.alice));
    // Bridged: the call was recorded.
    let recorded = office.recordings(&c).await;
    assert_eq!(recorded.len(), 1);
}

/// The CSAT events of a contact, as scores.
async fn ratings(office: &Office, c: &ContactRecord) -> Vec<u64> {
    let events = office.service.store().contact_events(office.p.workspace, c.id, Some("csat")).await.unwrap();
    events.iter().map(|e| e.payload["score"].as_u64().unwrap()).collect()
}

/// A queue with the post-call survey; Alice answers sipp's `scenario` (`talk_ms` its pause) and hangs up
/// at once. The contact once sipp is done and Alice is in wrap-up.
async fn surveyed_call(office: &Office, scenario: &str, talk_ms: u32) -> ContactRecord {
    office.set_queue(json!({ "post_call_survey": true })).await;
    let (phone, _socket, sipp, _) = office.answered(scenario, talk_ms).await;
    phone.command("hangup");
    let (ok, out) = sipp.await.unwrap();
    assert!(ok, "{out}\n{}", phone.output());
    office.voice_contact_when(|c| c.state == ContactState::WrapUp).await
}

async fn the_caller_rates_the_call_after_the_agent_hangs_up(url: String) {
    let office = office(&url).await;
    // sipp keys 4 eight seconds after the answer, during the survey's question, and passes once it
    // has our BYE, after the thanks.
    let c = surveyed_call(&office, "survey.xml", 8000).await;
    assert_eq!(ratings(&office, &c).await, [4], "stored as CSAT, as a chat's rating");
    assert_eq!(c.attributes.get("csat"), Some(&switchboard_core::expr::Value::Num(4.0)));
    // The agent was free of the call (in wrap-up) while the caller rated it.
    assert_eq!(office.alice_state().await, (AgentState::WrapUp, 1));
    let ended =
        office.service.store().contact_events(office.p.workspace, c.id, Some("conversation_ended")).await.unwrap();
    assert_eq!((ended.len(), ended[0].payload["by"].as_str()), (1, Some("agent")));
}

async fn a_caller_who_hangs_up_instead_of_rating_records_nothing(url: String) {
    let office = office(&url).await;
    // The caller's BYE comes five seconds after the answer: while the survey asks.
    let c = surveyed_call(&office, "queue-to-agent.xml", 5000).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(ratings(&office, &c).await.is_empty(), "no rating without a key");
    assert_eq!(c.attributes.get("csat"), None);
}

/// asterisk#1386: announcements that silently stop. A caller waits 35 s
/// with no agent on a queue announcing every 10 s: the caller's audio has
/// the announcement three times, ten seconds apart, with music between.
async fn position_announcements_keep_coming_while_the_caller_waits(url: String) {
    let office = office(&url).await;
    office.set_queue(json!({ "announce_every_seconds": 10 })).await;
    // The announcement's first piece, spoken into the cache the call reads from.
    let engine = SpeechEngine::detect().expect("flite or espeak-ng (scripts/test installs them)");
    let cache = PromptCache::new(office.dir.join("prompt-cache")).unwrap();
    let piece = cache.speak("You are number", &engine).await.unwrap();
    // Its loudest 20 ms frame, as the caller receives it (µ-law both ways).
    let loudest =
        piece.samples().chunks_exact(160).max_by_key(|f| f.iter().map(|&s| i64::from(s).abs()).sum::<i64>()).unwrap();
    let marker = Law::Ulaw.decode(&Law::Ulaw.encode(loudest));
    let music: std::collections::HashSet<Vec<i16>> =
        hold_music().samples().chunks_exact(160).map(|f| Law::Ulaw.decode(&Law::Ulaw.encode(f))).collect();

    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp = socket.local_addr().unwrap().port();
    let done = Arc::new(AtomicBool::new(false));
    let heard = listen_rtp(socket, done.clone());
    let (ok, out) = office.call("queue-to-agent.xml", rtp, 35_000).await.unwrap();
    done.store(true, Ordering::SeqCst);
    assert!(ok, "{out}");
    office.voice_contact_when(|c| c.state == ContactState::Abandoned).await;
    let samples = heard.join().unwrap();
    let frames: Vec<&[i16]> = samples.chunks_exact(160).collect();
    let at: Vec<usize> = frames.iter().enumerate().filter(|(_, f)| **f == marker.as_slice()).map(|(i, _)| i).collect();
    let music_frames = frames.iter().filter(|f| music.contains(**f)).count();
    println!("{} frames heard, {music_frames} of music, the announcement at frames {at:?}", frames.len());
    assert_eq!(at.len(), 3, "one announcement every 10 s of a 35 s wait");
    for pair in at.windows(2) {
        let gap = (pair[1] - pair[0]) as f64 * 0.02;
        assert!((9.5..=12.0).contains(&gap), "{gap} s between two announcements");
    }
    assert!(music_frames > 500, "the music plays between announcements: {music_frames} frames");
}

/// Frames of audio, each with the phase of the test it arrived in.
type Phased = Mutex<Vec<(usize, Vec<i16>)>>;

/// The caller's audio, frame by frame, each tagged with the phase of the test it arrived in.
fn listen_phases(socket: UdpSocket, phase: Arc<AtomicUsize>) -> Arc<Phased> {
    let frames = Arc::new(Mutex::new(Vec::new()));
    let out = frames.clone();
    std::thread::spawn(move || {
        socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 2048];
        // Until the call's audio stops for good (10 s of nothing after its BYE).
        while let Ok(n) = socket.recv(&mut buf) {
            let law = match buf[1] & 0x7f {
                0 => Law::Ulaw,
                8 => Law::Alaw,
                _ => continue,
            };
            if n > 12 {
                out.lock().unwrap().push((phase.load(Ordering::SeqCst), law.decode(&buf[12..n])));
            }
        }
    });
    frames
}

/// How many frames of `phase` satisfy `is`.
fn frames_in(frames: &Phased, phase: usize, is: impl Fn(&[i16]) -> bool) -> usize {
    frames.lock().unwrap().iter().filter(|(p, f)| *p == phase && is(f)).count()
}

/// Waits until `n` frames of `phase` satisfy `is` (a minute at most, then fails).
async fn heard(frames: &Phased, phase: usize, n: usize, is: impl Fn(&[i16]) -> bool, what: &str) {
    for _ in 0..600 {
        if frames_in(frames, phase, &is) >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never {n} frames of {what} in phase {phase}: {}", frames_in(frames, phase, is));
}

/// What a test of a talking call holds: Alice's phone, the phase the caller's
/// frames are tagged with, those frames, sipp's run and the contact.
type Talking = (Phone, Arc<AtomicUsize>, Arc<Phased>, tokio::task::JoinHandle<(bool, String)>, ContactRecord);

impl Office {
    /// Alice's phone answers a caller who waits for our BYE (`agent-hangs-up.xml`);
    /// once her tone reaches the caller (phase 0).
    async fn talking_with_alice(&self) -> Talking {
        let (phone, socket, rtp) = self.alice_ready(true).await;
        let phase = Arc::new(AtomicUsize::new(0));
        let frames = listen_phases(socket, phase.clone());
        let sipp = self.call("agent-hangs-up.xml", rtp, 0);
        let c = self.voice_contact_when(|c| c.state == ContactState::Connected).await;
        phone.wait_for("Call established").await;
        heard(&frames, 0, 25, |f| tone_share(f, TONE) > 0.6, "Alice's tone").await;
        (phone, phase, frames, sipp, c)
    }
}

/// The agent holds the call (on the desktop, or on the phone by its re-INVITE) and resumes:
/// the caller hears the agent's tone, then the hold music and no tone, then the tone again;
/// `contact_held` and `contact_resumed` are on the contact, and `/metrics` counts the bridged call.
async fn the_agent_holds_and_resumes(url: String, on_the_phone: bool) {
    let office = office(&url).await;
    let music: std::collections::HashSet<Vec<i16>> =
        hold_music().samples().chunks_exact(160).map(|f| Law::Ulaw.decode(&Law::Ulaw.encode(f))).collect();
    let is_music = |f: &[i16]| music.contains(f);
    let is_tone = |f: &[i16]| tone_share(f, TONE) > 0.6;
    let (phone, phase, frames, sipp, c) = office.talking_with_alice().await;
    let metrics = || switchboard_service::metrics::render(&[], office.service.observed());
    assert!(metrics().contains("switchboard_calls{stage=\"bridged\"} 1\n"), "{}", metrics());

    let alice = Principal { workspace: office.p.workspace, user: office.alice, role: Role::Agent };
    phase.store(1, Ordering::SeqCst);
    if on_the_phone {
        phone.command("hold");
    } else {
        office.service.hold(&alice, c.id, true).await.unwrap();
        // Twice is a conflict, not a second hold.
        assert!(office.service.hold(&alice, c.id, true).await.is_err());
    }
    heard(&frames, 1, 100, is_music, "hold music").await;
    phase.store(2, Ordering::SeqCst);
    if on_the_phone {
        phone.command("resume");
    } else {
        office.service.hold(&alice, c.id, false).await.unwrap();
    }
    heard(&frames, 2, 25, is_tone, "the agent's tone after the resume").await;
    let toned_while_held = frames_in(&frames, 1, is_tone);
    println!(
        "held: {} frames of music, {toned_while_held} with the tone; resumed: {} with the tone",
        frames_in(&frames, 1, is_music),
        frames_in(&frames, 2, is_tone)
    );
    // What was already on its way when the hold came (the bridge queues at most 10 frames).
    assert!(toned_while_held <= 20, "the agent was heard on hold: {toned_while_held} frames");
    let by = if on_the_phone { "phone" } else { "desktop" };
    let events = office.service.store().contact_events(office.p.workspace, c.id, None).await.unwrap();
    let holds: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e.kind == "contact_held" || e.kind == "contact_resumed")
        .map(|e| (e.kind.as_str(), e.payload["by"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(holds, [("contact_held", by), ("contact_resumed", by)]);
    office.service.agent_ends_chat(&alice, c.id).await.unwrap();
    let (ok, out) = sipp.await.unwrap();
    assert!(ok, "{out}\n{}", phone.output());
    office.voice_contact_when(|c| c.state == ContactState::WrapUp).await;
    for _ in 0..100 {
        if metrics().contains("switchboard_calls{stage=\"bridged\"} 0\n") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(metrics().contains("switchboard_calls{stage=\"bridged\"} 0\n"), "{}", metrics());
    assert!(metrics().contains("switchboard_rtp_packets_received_total "), "{}", metrics());
}

async fn the_agent_holds_on_the_desktop(url: String) {
    the_agent_holds_and_resumes(url, false).await;
}

async fn the_agent_holds_on_the_phone(url: String) {
    the_agent_holds_and_resumes(url, true).await;
}

/// A 20 ms frame's RMS.
fn rms(frame: &[i16]) -> f64 {
    (frame.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / frame.len() as f64).sqrt()
}

/// A WAV's channel count and its samples (interleaved), checking the header covers the file.
fn wav_samples(wav: &[u8]) -> (u16, Vec<i16>) {
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(u32::from_le_bytes(wav[24..28].try_into().unwrap()), 8000, "8 kHz");
    let data = u32::from_le_bytes(wav[40..44].try_into().unwrap()) as usize;
    assert_eq!(data, wav.len() - 44, "the header covers the whole file");
    let samples = wav[44..].chunks(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
    (u16::from_le_bytes([wav[22], wav[23]]), samples)
}

impl Office {
    /// A caller who got no agent left a voicemail with sipp's `scenario`:
    /// the contact, back in the queue as a voicemail; its overflow's reason;
    /// the message's event, and the WAV holding the caller's speech, which
    /// Alice, offered the contact on the desktop, accepts and plays.
    async fn voicemail(&self, scenario: &str) -> (ContactRecord, String) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let rtp = socket.local_addr().unwrap().port();
        let (ok, out) = self.call(scenario, rtp, 0).await.unwrap();
        assert!(ok, "{out}");
        let voicemail = Some(switchboard_core::expr::Value::Bool(true));
        let c = self.voice_contact_when(|c| c.attributes.get("voicemail") == voicemail.as_ref()).await;
        assert_eq!(c.queue, Some(self.queue), "back in its queue");
        assert_eq!(c.state, ContactState::CallbackScheduled, "waiting for an agent as a callback");
        let events = self.service.store().contact_events(self.p.workspace, c.id, None).await.unwrap();
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        let overflow = events.iter().find(|e| e.kind == "contact_overflowed").expect("it left the line");
        assert_eq!(overflow.payload["action"], "voicemail");
        let at = |k: &str| kinds.iter().position(|x| *x == k).unwrap_or_else(|| panic!("no {k} in {kinds:?}"));
        assert!(at("contact_overflowed") < at("recording") && at("recording") < at("callback_scheduled"), "{kinds:?}");
        let recorded: Vec<_> = events.iter().filter(|e| e.kind == "recording").collect();
        assert_eq!(recorded.len(), 1);
        assert_eq!(recorded[0].payload["voicemail"], true);
        assert_eq!(recorded[0].payload["channels"], json!(["customer"]));
        let wav = std::fs::read(self.dir.join(recorded[0].payload["path"].as_str().unwrap())).unwrap();
        let (channels, samples) = wav_samples(&wav);
        assert_eq!(channels, 1, "mono");
        // sipp's g711a.pcap is speech: most of its frames are well above line noise.
        let spoken = samples.chunks(160).filter(|f| rms(f) > 500.0).count();
        let seconds = recorded[0].payload["seconds"].as_f64().unwrap();
        println!("voicemail of {seconds} s, {spoken} of {} frames with speech", samples.len() / 160);
        assert!(spoken >= 40, "the caller's audio in only {spoken} frames");
        // Routed like any contact: Alice, on the desktop with no phone, is offered it and plays it.
        let alice = self.as_alice();
        self.service.set_agent_state(&self.p, self.alice, Presence::Available).await.unwrap();
        self.voice_contact_when(|c| c.state == ContactState::Offered && c.agent == Some(self.alice)).await;
        self.service.accept(&alice, c.id).await.unwrap();
        assert_eq!(self.service.recording(&alice, c.id).await.unwrap(), wav);
        (c, overflow.payload["reason"].as_str().unwrap_or_default().to_string())
    }
}

async fn a_waiting_caller_presses_the_voicemail_key_and_leaves_a_message(url: String) {
    let office = office(&url).await;
    office.set_queue(json!({ "voicemail_key": "5" })).await;
    let (_, reason) = office.voicemail("voicemail-key.xml").await;
    assert_eq!(reason, "caller", "the caller chose to leave the line");
}

async fn after_hours_the_caller_leaves_a_voicemail_ended_by_pound(url: String) {
    let office = office(&url).await;
    // Never open; the after-hours action is voicemail by default.
    office.set_queue(json!({ "calendar": { "time_zone": "UTC", "weekly": {} } })).await;
    let (_, reason) = office.voicemail("voicemail-after-hours.xml").await;
    assert_eq!(reason, "closed");
}

async fn a_caller_who_says_nothing_after_the_beep_has_abandoned(url: String) {
    let office = office(&url).await;
    office.set_queue(json!({ "calendar": { "time_zone": "UTC", "weekly": {} } })).await;
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp = socket.local_addr().unwrap().port();
    // sipp sends no audio and hangs up 9 s after the answer: after the prompt and the beep.
    let (ok, out) = office.call("queue-to-agent.xml", rtp, 9000).await.unwrap();
    assert!(ok, "{out}");
    let c = office.voice_contact_when(|c| c.state == ContactState::Abandoned).await;
    let kinds = office.kinds(&c).await;
    assert!(kinds.iter().any(|k| k == "contact_left"), "counted as abandoned: {kinds:?}");
    assert!(!kinds.iter().any(|k| k == "recording" || k == "contact_queued"), "not routed: {kinds:?}");
    assert_eq!(c.attributes.get("voicemail"), None);
    let file = office.dir.join(format!("recordings/{}/{}-voicemail.wav", office.p.workspace.0, c.id.0));
    assert!(!file.exists(), "no file is kept of an empty message");
}

/// PCI: the agent pauses the recording for a while during the call. The
/// recording event names the paused span; there the agent's channel (the
/// phone's 1 kHz tone) is silent, and around it the tone is recorded.
async fn a_paused_span_of_the_recording_is_silence(url: String) {
    let office = office(&url).await;
    let (phone, _socket, sipp, c) = office.answered("queue-to-agent.xml", 9000).await;
    let alice = office.as_alice();
    tokio::time::sleep(Duration::from_secs(2)).await;
    office.service.pause_recording(&alice, c.id, true).await.unwrap();
    assert!(office.service.pause_recording(&alice, c.id, true).await.is_err(), "paused already");
    tokio::time::sleep(Duration::from_secs(3)).await;
    office.service.pause_recording(&alice, c.id, false).await.unwrap();
    let (ok, out) = sipp.await.unwrap();
    assert!(ok, "{out}\n{}", phone.output());
    let c = office.voice_contact_when(|c| c.state == ContactState::WrapUp).await;
    let recorded = office.recordings(&c).await;
    let payload = &recorded[0];
    let spans = payload["paused"].as_array().expect("the paused spans");
    assert_eq!(spans.len(), 1, "{payload}");
    let (from, to) = (spans[0][0].as_f64().unwrap(), spans[0][1].as_f64().unwrap());
    let wav = std::fs::read(office.dir.join(payload["path"].as_str().unwrap())).unwrap();
    let (channels, samples) = wav_samples(&wav);
    assert_eq!(channels, 2);
    let agent: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    let frame_at = |seconds: f64| (seconds / 0.02) as usize;
    let frames: Vec<&[i16]> = agent.chunks(160).collect();
    let paused = &frames[frame_at(from)..frame_at(to)];
    assert!(paused.iter().all(|f| f.iter().all(|&s| s == 0)), "silence while paused");
    let toned_before = frames[..frame_at(from)].iter().filter(|f| tone_share(f, TONE) > 0.6).count();
    let toned_after = frames[frame_at(to)..].iter().filter(|f| tone_share(f, TONE) > 0.6).count();
    println!(
        "paused {from} s to {to} s of {} s; the tone in {toned_before} frames before, {toned_after} after",
        payload["seconds"]
    );
    assert!(to - from > 1.0, "the pause lasted: {from}..{to}");
    assert!(toned_before >= 25 && toned_after >= 25, "{toned_before} and {toned_after} frames with the tone");
    let kinds = office.kinds(&c).await;
    assert!(kinds.iter().any(|k| k == "recording_paused") && kinds.iter().any(|k| k == "recording_resumed"));
}

/// A queue that does not record calls: bridged, but no recording.
async fn a_queue_that_does_not_record_keeps_no_recording(url: String) {
    let office = office(&url).await;
    office.set_queue(json!({ "record_calls": false })).await;
    let (phone, _socket, rtp) = office.alice_ready(true).await;
    let (ok, out) = office.call("queue-to-agent.xml", rtp, 3000).await.unwrap();
    assert!(ok, "{out}\n{}", phone.output());
    let c = office.voice_contact_when(|c| c.state == ContactState::WrapUp).await;
    assert_eq!(c.agent, Some(office.alice), "answered");
    let recorded = office.service.store().contact_events(office.p.workspace, c.id, Some("recording")).await.unwrap();
    assert!(recorded.is_empty());
    assert!(office.service.recording(&office.p, c.id).await.is_err());
}

/// The trunk's password on the Support line (sipp as the carrier checks our answer's username and realm).
const TRUNK_PASSWORD: &str = "trunk-secret-pass";

impl Office {
    /// The Support line's trunk: sipp as the carrier on `port`, with digest credentials.
    async fn trunk(&self, port: u16) {
        let endpoint = self.service.endpoints(&self.p).await.unwrap().into_iter().find(|e| e.channel == Channel::Voice);
        let settings = json!({
            "trunk_host": "127.0.0.1", "trunk_port": port, "trunk_username": "acme", "trunk_password": TRUNK_PASSWORD,
            // The carrier's calls (sipp as the caller) come from here.
            "allowed_sources": ["127.0.0.1/32"],
        });
        let input = json!({ "name": "Support line", "queue": self.queue, "settings": settings });
        let updated =
            self.service.update_endpoint(&self.p, endpoint.unwrap().id, serde_json::from_value(input).unwrap());
        let shown = serde_json::to_string(&updated.await.unwrap()).unwrap();
        assert!(!shown.contains(TRUNK_PASSWORD), "the trunk's password is never shown: {shown}");
    }

    /// sipp as the carrier's side of our outbound calls on `port`; for an answering scenario,
    /// `rtp` (its SDP's media port) and `talk_ms` (how long the customer talks).
    fn carrier(&self, name: &str, port: u16, answer: Option<(u16, u32)>) -> tokio::task::JoinHandle<(bool, String)> {
        let file = scenario(name);
        let mut args: Vec<String> = [
            "-sf",
            file.to_str().unwrap(),
            "-m",
            "1",
            "-i",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-mi",
            "127.0.0.1",
            "-mp",
            &support::peer_port().to_string(),
            "-timeout",
            "90s",
            "-nostdin",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if let Some((rtp, talk_ms)) = answer {
            args.extend(["-set".into(), "rtp".into(), rtp.to_string(), "-d".into(), talk_ms.to_string()]);
        }
        sipp(args)
    }

    /// A caller waiting in line with no agent presses the callback key and confirms their number
    /// (`callback-request.xml`): the contact, waiting as a callback.
    async fn callback_asked(&self) -> ContactRecord {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let (ok, out) = self.call("callback-request.xml", socket.local_addr().unwrap().port(), 0).await.unwrap();
        assert!(ok, "{out}");
        let c = self.voice_contact_when(|c| c.attributes.get("callback_number").is_some()).await;
        assert_eq!(c.attributes.get("callback_number"), Some(&AttrValue::Str("+15550100".into())));
        assert_eq!(c.state, ContactState::CallbackScheduled, "still in line, as a callback");
        let kinds = self.kinds(&c).await;
        assert!(kinds.iter().any(|k| k == "callback_scheduled"), "{kinds:?}");
        assert!(!kinds.iter().any(|k| k == "contact_left" || k == "conversation_ended"), "not abandoned: {kinds:?}");
        c
    }

    /// The contact's `callback_attempted` events: each outcome and what was to follow.
    async fn attempts(&self, c: &ContactRecord) -> Vec<(String, String)> {
        let events =
            self.service.store().contact_events(self.p.workspace, c.id, Some("callback_attempted")).await.unwrap();
        events
            .iter()
            .map(|e| {
                (e.payload["outcome"].as_str().unwrap().to_string(), e.payload["next"].as_str().unwrap().to_string())
            })
            .collect()
    }
}

/// A courtesy callback end to end: the caller asks for it and hangs up; when
/// Alice is available her phone rings ("Callback +15550100"), she answers and
/// hears the whisper, the customer is dialled through the trunk (sipp as the
/// carrier challenges with 407, then the customer answers) and hears Alice's
/// tone; the customer hangs up, and the call is recorded like an inbound one.
async fn a_caller_asks_for_a_callback_and_the_agent_calls_them_back(url: String) {
    let office = office(&url).await;
    office.set_queue(json!({ "callback_key": "1" })).await;
    let port = support::peer_port();
    office.trunk(port).await;
    let c = office.callback_asked().await;
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp = socket.local_addr().unwrap().port();
    let done = Arc::new(AtomicBool::new(false));
    let heard = listen_rtp(socket, done.clone());
    let carrier = office.carrier("carrier-answers.xml", port, Some((rtp, 4000)));
    let phone = Phone::start(office.sip, "alice", PASSWORD, true);
    phone.wait_for("200 OK").await;
    office.service.set_agent_state(&office.p, office.alice, Presence::Available).await.unwrap();
    let (ok, out) = carrier.await.unwrap();
    done.store(true, Ordering::SeqCst);
    assert!(ok, "{out}\n{}", phone.output());
    assert!(phone.output().contains("+15550100"), "the phone showed whom it calls back:\n{}", phone.output());
    let c = office.voice_contact_when(|x| x.id == c.id && x.state == ContactState::WrapUp).await;
    assert_eq!(c.agent, Some(office.alice));
    assert_eq!(office.attempts(&c).await, [("answered".to_string(), "talking".to_string())]);
    let ended =
        office.service.store().contact_events(office.p.workspace, c.id, Some("conversation_ended")).await.unwrap();
    assert_eq!(ended.last().unwrap().payload["by"], "customer");
    let samples = heard.join().unwrap();
    let toned = samples.chunks(160).filter(|f| tone_share(f, TONE) > 0.6).count();
    println!("the customer heard {} frames, {toned} with the agent's tone", samples.len() / 160);
    assert!(toned >= 50, "the agent's tone in only {toned} of {} frames", samples.len() / 160);
    let recorded = office.recordings(&c).await;
    assert_eq!(recorded.len(), 1, "the callback is recorded");
    let wav = std::fs::read(office.dir.join(recorded[0]["path"].as_str().unwrap())).unwrap();
    let (channels, samples) = wav_samples(&wav);
    let agent: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    assert_eq!(channels, 2);
    assert!(agent.chunks(160).filter(|f| tone_share(f, TONE) > 0.6).count() >= 50, "the agent's side is recorded");
}

/// Busy, then (after the retry interval, the service's clock moved on) no
/// answer within the ring timeout (our CANCEL): two attempts, the queue's
/// limit, and the callback ends with that outcome. Alice is freed after each.
async fn a_busy_then_unanswered_callback_is_retried_then_given_up(url: String) {
    let office = office(&url).await;
    office.set_queue(json!({ "callback_key": "1", "callback_attempts": 2, "callback_retry_seconds": 60 })).await;
    let port = support::peer_port();
    office.trunk(port).await;
    let c = office.callback_asked().await;
    let busy = office.carrier("carrier-busy.xml", port, None);
    let phone = Phone::start(office.sip, "alice", PASSWORD, true);
    phone.wait_for("200 OK").await;
    office.service.set_agent_state(&office.p, office.alice, Presence::Available).await.unwrap();
    let (ok, out) = busy.await.unwrap();
    assert!(ok, "{out}\n{}", phone.output());
    let waiting = office.voice_contact_when(|x| x.id == c.id && x.attributes.get("callback_attempts").is_some()).await;
    assert_eq!(waiting.state, ContactState::CallbackScheduled, "out of line until the retry");
    assert_eq!(office.attempts(&c).await, [("busy".to_string(), "retry".to_string())]);
    phone.wait_for("terminated").await;
    assert_eq!(office.alice_state().await.1, 0, "Alice is free at once");

    let unanswered = office.carrier("carrier-no-answer.xml", port, None);
    tokio::time::sleep(Duration::from_millis(500)).await;
    office.ahead.store(61_000, Ordering::SeqCst);
    let (ok, out) = unanswered.await.unwrap();
    assert!(ok, "{out}\n{}", phone.output());
    let c = office.voice_contact_when(|x| x.id == c.id && x.state == ContactState::Completed).await;
    assert_eq!(c.disposition.as_deref(), Some("callback_no_answer"));
    assert_eq!(
        office.attempts(&c).await,
        [("busy".to_string(), "retry".to_string()), ("no_answer".to_string(), "given_up".to_string())]
    );
    let ended =
        office.service.store().contact_events(office.p.workspace, c.id, Some("conversation_ended")).await.unwrap();
    assert_eq!(ended.last().unwrap().payload["by"], "system");
    assert_eq!(office.alice_state().await.1, 0);
}

/// The tone Bob's phone sends: apart from Alice's and from the hold music's notes.
const BOB_TONE: f64 = 1500.0;
const BOB_PASSWORD: &str = "bob-phone-secret";

impl Office {
    /// A new user with the agent role, named `name`.
    async fn agent_user(&self, name: &str) -> UserId {
        let user = NewUser {
            email: format!("{}{}@example.com", name.to_lowercase(), support::rand_suffix()),
            name: name.into(),
            role: Role::Agent,
            password: format!("{}-password", name.to_lowercase()),
        };
        self.service.create_user(&self.p, user).await.unwrap().id
    }

    /// Another queue serving voice, with the same routing as the first.
    async fn another_queue(&self, name: &str) -> QueueId {
        let queues = self.service.store().queues(self.p.workspace).await.unwrap();
        let first = queues.into_iter().find(|q| q.id == self.queue).unwrap();
        let settings = serde_json::from_value(first.settings).unwrap();
        self.service.put_queue(&self.p, None, name, settings).await.unwrap().id
    }

    /// Bob, an agent of `queue` with the SIP account `bob`, and his phone (sending
    /// `BOB_TONE`; answering by itself or not), registered; Bob available.
    async fn bob_ready(&self, queue: QueueId, answers: bool) -> (UserId, Phone) {
        let bob = self.agent_user("Bob").await;
        let spec = json!({ "capacity": { "voice": 1 }, "queues": [{ "queue": queue }], "wrap_up": "until_ended" });
        self.service.put_agent(&self.p, bob, serde_json::from_value(spec).unwrap()).await.unwrap();
        let account = SipAccountUpdate { username: Some("bob".into()), password: BOB_PASSWORD.into() };
        self.service.put_sip_account(&self.p, bob, account).await.unwrap();
        let phone = Phone::sending(self.sip, "bob", BOB_PASSWORD, answers, BOB_TONE);
        phone.wait_for("200 OK").await;
        self.service.set_agent_state(&self.p, bob, Presence::Available).await.unwrap();
        (bob, phone)
    }

    /// The contact's `contact_transferred` events' targets.
    async fn transfers(&self, c: &ContactRecord) -> Vec<serde_json::Value> {
        let events = self.service.store().contact_events(self.p.workspace, c.id, Some("contact_transferred")).await;
        events.unwrap().into_iter().map(|e| e.payload["target"].clone()).collect()
    }
}

/// asterisk#507: after a transfer the recording kept one side only. Alice
/// transfers the call on the desktop to the Sales queue: her phone is hung
/// up, the caller hears the hold music again, Bob's phone rings and he
/// answers; the caller then speaks (sipp's g711a.pcap) and hangs up. The one
/// recording has Alice's tone and then Bob's on the right, and the caller's
/// speech on the left while Bob is on.
async fn a_call_transferred_on_the_desktop_goes_to_the_next_agent_and_keeps_both_sides_recorded(url: String) {
    let office = office(&url).await;
    let sales = office.another_queue("Sales").await;
    let (bob, bob_phone) = office.bob_ready(sales, false).await;
    let (alice_phone, socket, rtp) = office.alice_ready(true).await;
    let music: std::collections::HashSet<Vec<i16>> =
        hold_music().samples().chunks_exact(160).map(|f| Law::Alaw.decode(&Law::Alaw.encode(f))).collect();
    let phase = Arc::new(AtomicUsize::new(0));
    let frames = listen_phases(socket, phase.clone());
    // The caller speaks 10 s after the answer (then with Bob), and hangs up 8 s later.
    let sipp = office.call("speak-later.xml", rtp, 10_000);
    let c = office.voice_contact_when(|c| c.state == ContactState::Connected).await;
    alice_phone.wait_for("Call established").await;
    heard(&frames, 0, 25, |f| tone_share(f, TONE) > 0.6, "Alice's tone").await;

    phase.store(1, Ordering::SeqCst);
    office.service.transfer(&office.as_alice(), c.id, TransferTarget::Queue(sales)).await.unwrap();
    alice_phone.wait_for("session closed").await;
    heard(&frames, 1, 50, |f| music.contains(f), "the hold music while waiting again").await;
    bob_phone.wait_for("Incoming call").await;
    phase.store(2, Ordering::SeqCst);
    bob_phone.command("accept");
    heard(&frames, 2, 50, |f| tone_share(f, BOB_TONE) > 0.6, "Bob's tone").await;
    let alice_after = frames_in(&frames, 1, |f| tone_share(f, TONE) > 0.6);
    assert!(alice_after <= 20, "Alice was heard after the transfer: {alice_after} frames");
    assert_eq!(frames_in(&frames, 2, |f| tone_share(f, TONE) > 0.6), 0, "Alice after Bob answered");

    let (ok, out) = sipp.await.unwrap();
    assert!(ok, "{out}\n{}\n{}", alice_phone.output(), bob_phone.output());
    let c = office.voice_contact_when(|c| c.state == ContactState::WrapUp).await;
    assert_eq!(c.agent, Some(bob), "Bob took it");
    assert_eq!(office.alice_state().await, (AgentState::WrapUp, 1), "Alice wraps up her part");
    assert_eq!(office.transfers(&c).await, [json!({ "to": "queue", "id": sales })]);

    let recorded = office.recordings(&c).await;
    assert_eq!(recorded.len(), 1, "one recording of the whole call");
    let wav = std::fs::read(office.dir.join(recorded[0]["path"].as_str().unwrap())).unwrap();
    let (channels, samples) = wav_samples(&wav);
    assert_eq!(channels, 2);
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    let at = |side: &[i16], is: &dyn Fn(&[i16]) -> bool| -> Vec<usize> {
        side.chunks(160).enumerate().filter(|(_, f)| is(f)).map(|(i, _)| i).collect()
    };
    let alice_frames = at(&right, &|f| tone_share(f, TONE) > 0.6);
    let bob_frames = at(&right, &|f| tone_share(f, BOB_TONE) > 0.6);
    let spoken = at(&left, &|f| rms(f) > 500.0);
    println!(
        "recorded {} s: Alice's tone in {} frames, Bob's in {} (from frame {:?}), the caller's speech in {} (from {:?})",
        recorded[0]["seconds"],
        alice_frames.len(),
        bob_frames.len(),
        bob_frames.first(),
        spoken.len(),
        spoken.first()
    );
    assert!(alice_frames.len() >= 25 && bob_frames.len() >= 100, "both agents on the right");
    assert!(alice_frames.last() < bob_frames.first(), "Alice, then Bob");
    assert!(spoken.len() >= 40, "the caller on the left: {} frames", spoken.len());
    assert!(spoken[0] > bob_frames[0], "the caller spoke to Bob, and is recorded so");
}

/// Alice's phone transfers the call by REFER (baresip's `transfer`) to
/// Bob's SIP username: 202, NOTIFY 100 then 200, our BYE to her phone, Bob's
/// phone rings and answers, and the caller hears Bob. Bob's phone then
/// REFERs to nobody: its NOTIFY says `404 Not Found` and nothing is
/// transferred (baresip hangs up after a failed transfer: the call ends by
/// the agent, our BYE to the caller).
async fn the_agents_phone_transfers_the_call_by_refer(url: String) {
    let office = office(&url).await;
    let (alice_phone, phase, frames, sipp, _) = office.talking_with_alice().await;
    // Bob is ready only now, or the caller might have rung him first.
    let (bob, bob_phone) = office.bob_ready(office.queue, true).await;

    phase.store(1, Ordering::SeqCst);
    alice_phone.command_with("transfer", &format!("sip:bob@{}", office.sip));
    bob_phone.wait_for("Call established").await;
    heard(&frames, 1, 50, |f| tone_share(f, BOB_TONE) > 0.6, "Bob's tone").await;
    alice_phone.wait_idle().await;
    let c = office.voice_contact_when(|c| c.state == ContactState::Connected && c.agent == Some(bob)).await;
    assert_eq!(office.transfers(&c).await, [json!({ "to": "agent", "id": bob })]);
    assert_eq!(office.alice_state().await, (AgentState::WrapUp, 1));

    bob_phone.command_with("transfer", &format!("sip:nobody@{}", office.sip));
    bob_phone.wait_for("transfer failed: 404 Not Found").await;
    let (ok, out) = sipp.await.unwrap();
    assert!(ok, "{out}\n{}\n{}", alice_phone.output(), bob_phone.output());
    let c = office.voice_contact_when(|c| c.state == ContactState::WrapUp).await;
    assert_eq!(c.agent, Some(bob));
    assert_eq!(office.transfers(&c).await.len(), 1, "nothing more was transferred");
}

/// Alice mutes herself on the desktop: the caller stops hearing her tone,
/// and her side of the recording is silence meanwhile; unmuted, both come back.
async fn a_muted_agent_is_not_heard_nor_recorded(url: String) {
    let office = office(&url).await;
    let is_tone = |f: &[i16]| tone_share(f, TONE) > 0.6;
    let (phone, phase, frames, sipp, c) = office.talking_with_alice().await;
    let alice = office.as_alice();
    phase.store(1, Ordering::SeqCst);
    office.service.mute(&alice, c.id, true).await.unwrap();
    assert!(office.service.mute(&alice, c.id, true).await.is_err(), "muted already");
    tokio::time::sleep(Duration::from_secs(3)).await;
    phase.store(2, Ordering::SeqCst);
    office.service.mute(&alice, c.id, false).await.unwrap();
    heard(&frames, 2, 25, is_tone, "Alice's tone after unmuting").await;
    let muted_frames = frames.lock().unwrap().iter().filter(|(p, _)| *p == 1).count();
    let toned = frames_in(&frames, 1, is_tone);
    println!("muted: {muted_frames} frames reached the caller, {toned} with Alice's tone");
    assert!(muted_frames > 100, "the caller still got audio (silence)");
    assert!(toned <= 20, "Alice was heard while muted: {toned} frames");
    office.service.agent_ends_chat(&alice, c.id).await.unwrap();
    let (ok, out) = sipp.await.unwrap();
    assert!(ok, "{out}\n{}", phone.output());

    let c = office.voice_contact_when(|c| c.state == ContactState::WrapUp).await;
    let kinds = office.kinds(&c).await;
    assert!(kinds.iter().any(|k| k == "contact_muted") && kinds.iter().any(|k| k == "contact_unmuted"), "{kinds:?}");
    let recorded = office.recordings(&c).await;
    let wav = std::fs::read(office.dir.join(recorded[0]["path"].as_str().unwrap())).unwrap();
    let (_, samples) = wav_samples(&wav);
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    // The longest run of silent frames on Alice's side is the mute (about 3 s).
    let (mut run, mut longest) = (0, 0);
    for f in right.chunks(160) {
        run = if f.iter().all(|&s| s == 0) { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let toned = right.chunks(160).filter(|f| is_tone(f)).count();
    println!("Alice's side: {toned} frames with the tone, {longest} silent frames in a row");
    assert!((120..=175).contains(&longest), "about 3 s of silence while muted: {longest} frames");
    assert!(toned >= 50);
}

/// While the agent holds the call, their phone hears the hold music (what
/// baresip received, dumped by its `sndfile`); before and after, the caller
/// (sipp, sending nothing) is silence.
async fn the_agent_hears_music_while_the_caller_is_held(url: String) {
    let office = office(&url).await;
    let (phone, _socket, sipp, c) = office.answered("agent-hangs-up.xml", 0).await;
    let alice = office.as_alice();
    tokio::time::sleep(Duration::from_secs(2)).await;
    office.service.hold(&alice, c.id, true).await.unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    office.service.hold(&alice, c.id, false).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    office.service.agent_ends_chat(&alice, c.id).await.unwrap();
    let (ok, out) = sipp.await.unwrap();
    assert!(ok, "{out}\n{}", phone.output());
    phone.wait_for("session closed").await;
    // The dump's header is written when baresip closes it, a moment after the call.
    let mut dumped = phone.heard();
    for _ in 0..50 {
        if !dumped.1.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        dumped = phone.heard();
    }
    let (rate, heard) = dumped;
    let window = rate as usize / 50;
    let loud = heard.chunks(window).filter(|f| rms(f) > 300.0).count();
    println!("Alice's phone heard {} s, {} s of it music", heard.len() / rate as usize, loud as f64 * 0.02);
    assert!((150..=230).contains(&loud), "about 4 s of music, and only then: {loud} frames");
}

support::on_both!(
    a_phone_registered_over_tcp_answers_a_caller_over_udp,
    a_phone_whose_connection_is_gone_is_called_at_its_contact,
    a_caller_asks_for_a_callback_and_the_agent_calls_them_back,
    a_busy_then_unanswered_callback_is_retried_then_given_up,
    a_call_transferred_on_the_desktop_goes_to_the_next_agent_and_keeps_both_sides_recorded,
    the_agents_phone_transfers_the_call_by_refer,
    a_muted_agent_is_not_heard_nor_recorded,
    the_agent_hears_music_while_the_caller_is_held,
    a_waiting_caller_presses_the_voicemail_key_and_leaves_a_message,
    after_hours_the_caller_leaves_a_voicemail_ended_by_pound,
    a_caller_who_says_nothing_after_the_beep_has_abandoned,
    a_paused_span_of_the_recording_is_silence,
    a_queue_that_does_not_record_keeps_no_recording,
    the_agent_holds_on_the_desktop,
    the_agent_holds_on_the_phone,
    the_caller_rates_the_call_after_the_agent_hangs_up,
    a_caller_who_hangs_up_instead_of_rating_records_nothing,
    position_announcements_keep_coming_while_the_caller_waits,
    accepted_on_the_desktop_then_picked_up,
    expiry_is_bounded_and_expires_0_unregisters,
    the_agent_hangs_up_the_phone,
    the_agent_hangs_up_on_the_desktop,
    the_phone_answers_the_offer_and_the_caller_hears_the_agent,
    a_wrong_password_is_refused,
    a_caller_hanging_up_while_the_phone_rings_cancels_it
);
