//! What the calls go to: the real `switchboard serve --sip` with a voice
//! number on a queue nobody serves (callers hear hold music, or an IVR
//! prompt first), and Kamailio as a stateless replier.

use crate::process::Server;
use crate::switchboard::{Api, billing_queue, command, text};
use anyhow::{Context, bail};
use serde_json::json;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use switchboard_voice::hold::hold_music;

const EMAIL: &str = "admin@voice-load.example";
const PASSWORD: &str = "voice-load-password";
/// The number called (sipp's `-s`), as the endpoint stores it.
pub const NUMBER: &str = "+15550001000";
/// Our calls' RTP ports: 5,000 calls' worth, outside Linux's ephemeral range.
pub const RTP_PORTS: (u16, u16) = (20_000, 29_999);
/// The recording an IVR caller hears (`prompts/NAME.wav` in the data directory).
const IVR_PROMPT: &str = "load-welcome";

/// `switchboard serve` taking calls.
pub struct VoiceSwitchboard {
    pub server: Server,
    pub sip: SocketAddr,
    token: String,
}

impl VoiceSwitchboard {
    /// A workspace with the number on a voice queue without agents; with
    /// `ivr_seconds`, the number first plays a recording that long.
    pub async fn start(binary: &Path, dir: &Path, ivr_seconds: Option<u32>) -> anyhow::Result<VoiceSwitchboard> {
        let args = ["create-workspace", "--name", "Voice load", "--admin-email", EMAIL, "--admin-password", PASSWORD];
        let out = command(binary, dir, None, &args).output().context("running create-workspace")?;
        if !out.status.success() {
            bail!("create-workspace failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        if let Some(seconds) = ivr_seconds {
            write_prompt(&dir.join("prompts").join(format!("{IVR_PROMPT}.wav")), seconds)?;
        }
        let sip = free_udp_port()?;
        let rtp = format!("{}-{}", RTP_PORTS.0, RTP_PORTS.1);
        let server = Server::start(&dir.join("server.log"), |port| {
            let http = format!("127.0.0.1:{port}");
            // One source sends every call: the per-source limit must not be what is measured.
            let args = ["serve", "--http", &http, "--sip", &sip.to_string(), "--rtp-ports", &rtp];
            let mut cmd = command(binary, dir, None, &args);
            cmd.args(["--sip-source-rate", "1000000", "--sip-source-burst", "1000000"]);
            cmd
        })
        .await?;
        let api = Api::new(&server.base);
        let login = api.call("/api/v1/auth/login", None, json!({ "email": EMAIL, "password": PASSWORD })).await?;
        let token = text(&login, "token")?;
        let queue = billing_queue(&api, &token, "voice").await?;
        let mut endpoint = json!({ "channel": "voice", "name": "Load line", "address": NUMBER, "queue": queue });
        if ivr_seconds.is_some() {
            let flow = json!({ "name": "Welcome", "definition": {
                "start": "welcome",
                "blocks": {
                    "welcome": { "type": "message", "text": "Welcome.", "audio": IVR_PROMPT, "next": "queue" },
                    "queue": { "type": "handoff", "text": "Connecting you." }
                }
            }});
            let flow = api.call("/api/v1/flows", Some(&token), flow).await?;
            endpoint["flow"] = flow["id"].clone();
        }
        api.call("/api/v1/endpoints", Some(&token), endpoint).await?;
        Ok(VoiceSwitchboard { server, sip, token })
    }

    /// Callers waiting in the queue, by the engine's count.
    pub async fn waiting(&self) -> anyhow::Result<u64> {
        let stats = Api::new(&self.server.base).get("/api/v1/stats/queues", &self.token).await?;
        stats["queues"][0]["waiting"].as_u64().with_context(|| format!("no waiting count in {stats}"))
    }
}

/// A mono 8 kHz 16-bit WAV of the hold music's loop, `seconds` long: a
/// recording the IVR plays.
fn write_prompt(path: &Path, seconds: u32) -> anyhow::Result<()> {
    let music = hold_music();
    let samples: Vec<i16> = music.samples().iter().copied().cycle().take(seconds as usize * 8000).collect();
    let data = (samples.len() * 2) as u32;
    let mut wav = Vec::with_capacity(44 + data as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    for field in [16u32.to_le_bytes(), [1, 0, 1, 0], 8000u32.to_le_bytes(), 16_000u32.to_le_bytes(), [2, 0, 16, 0]] {
        wav.extend_from_slice(&field);
    }
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data.to_le_bytes());
    for s in samples {
        wav.extend_from_slice(&s.to_le_bytes());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, wav).with_context(|| format!("writing {}", path.display()))
}

/// A UDP port on loopback nobody holds right now.
pub fn free_udp_port() -> anyhow::Result<SocketAddr> {
    let socket = UdpSocket::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
    Ok(socket.local_addr()?)
}

/// Kamailio answering every INVITE and BYE with a stateless 200 (`sl`):
/// no transaction, no dialog, nothing kept. Killed when dropped.
pub struct Kamailio {
    child: Child,
    pub sip: SocketAddr,
    log: PathBuf,
}

/// Where Debian puts Kamailio's modules.
const KAMAILIO_MODULES: &str = "/usr/lib/x86_64-linux-gnu/kamailio/modules";

impl Kamailio {
    /// Starts it with `workers` UDP worker processes.
    pub async fn start(dir: &Path, workers: u32) -> anyhow::Result<Kamailio> {
        let sip = free_udp_port()?;
        let cfg = dir.join("kamailio.cfg");
        let config = format!(
            r#"#!KAMAILIO
debug=0
log_stderror=yes
children={workers}
listen=udp:{sip}
mpath="{KAMAILIO_MODULES}"
loadmodule "sl.so"

request_route {{
    if (method == "ACK") {{
        exit;
    }}
    sl_send_reply("200", "OK");
    exit;
}}
"#
        );
        std::fs::write(&cfg, config).with_context(|| format!("writing {}", cfg.display()))?;
        let run = dir.join("kamailio-run");
        std::fs::create_dir_all(&run)?;
        let log = dir.join("kamailio.log");
        let out = std::fs::File::create(&log)?;
        // -DD: no daemon, the first process stays our child; -E: log to stderr.
        let child = Command::new("kamailio")
            .arg("-f")
            .arg(&cfg)
            .args(["-DD", "-E", "-m", "64", "-M", "8", "-Y"])
            .arg(&run)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .context("starting kamailio (Debian `kamailio`)")?;
        let mut k = Kamailio { child, sip, log };
        // It binds and forks its workers in well under a second.
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Some(status) = k.child.try_wait()? {
            bail!("kamailio exited ({status}): {}", std::fs::read_to_string(&k.log).unwrap_or_default());
        }
        Ok(k)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        // Its workers follow the main process down.
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}
