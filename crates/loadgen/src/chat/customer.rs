//! A customer: opens a chat, waits until an agent has it, then sends
//! messages at a steady, jittered pace and times each one until the
//! agent's echo comes back on its socket.
//!
//! Each message's `client_id` is `CHAT.SEQ.MICROS`, its send time in
//! microseconds of the run's [`Timeline`]; the agent echoes it as the text
//! `echo CLIENT_ID`, so the round trip needs no bookkeeping on either side.

use super::Timeline;
use super::jitter::Jitter;
use super::socket::{Socket, connect, ws_base};
use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::time::sleep_until;
use tokio_tungstenite::tungstenite::Message;

/// What the customer types first: the demo bot's flow hands off at once
/// when a message holds one of its `handoff_phrases` ("person" here).
const HANDOFF: &str = "talk to a person";

/// From the session's creation until an agent has accepted the chat.
const OPEN_TIMEOUT: Duration = Duration::from_secs(120);

/// Reconnections allowed per chat before it counts as lost.
const MAX_RECONNECTS: u64 = 3;

/// Silence while waiting for an agent after which the customer reconnects
/// to hear the status again. The server repeats the status every 5 s while
/// a chat waits, but not once an agent has it: if the event that says so
/// is skipped on the socket (docs/BENCHMARKS.md, "Chat"), a widget would
/// wait forever.
const RESYNC_AFTER: Duration = Duration::from_secs(15);

/// How a customer reaches an agent.
#[derive(Clone)]
pub enum Door {
    /// Switchboard's widget endpoints: a session, its socket, the bot, a
    /// hand-off, routing, an agent's accept.
    Widget { http: reqwest::Client, base: String, key: String },
    /// The relay peer: a socket already paired with its agent.
    Relay { base: String },
}

/// A frame from the server; only what the customer looks at.
#[derive(Deserialize)]
struct Frame {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    id: u64,
    from: Option<String>,
    text: Option<String>,
    state: Option<String>,
    message: Option<String>,
}

/// An open conversation.
pub struct Chat {
    id: u64,
    socket: Socket,
    /// The widget's socket URL, to reconnect after the last message seen.
    resume: Option<String>,
    last_id: u64,
    /// Reconnections to hear a status that never came.
    resyncs: u64,
}

/// Opens chat number `id` and returns once an agent has it.
pub async fn open(door: &Door, id: u64) -> anyhow::Result<Chat> {
    let opening = async {
        let mut chat = match door {
            Door::Widget { http, base, key } => {
                let session = start_session(http, base, key, id).await?;
                let url = format!("{}/chat/{key}/ws?session={session}", ws_base(base));
                let mut socket = connect(&url, None).await.context("the chat socket")?;
                socket.send(Message::text(json!({ "type": "message", "text": HANDOFF }).to_string())).await?;
                Chat { id, socket, resume: Some(url), last_id: 0, resyncs: 0 }
            }
            Door::Relay { base } => {
                let url = format!("{}/customer?chat={id}", ws_base(base));
                let socket = connect(&url, None).await.context("the relay socket")?;
                Chat { id, socket, resume: None, last_id: 0, resyncs: 0 }
            }
        };
        chat.until_connected().await?;
        Ok(chat)
    };
    tokio::time::timeout(OPEN_TIMEOUT, opening)
        .await
        .with_context(|| format!("no agent within {} s", OPEN_TIMEOUT.as_secs()))?
}

async fn start_session(http: &reqwest::Client, base: &str, key: &str, id: u64) -> anyhow::Result<String> {
    let resp = http
        .post(format!("{base}/chat/{key}/sessions"))
        .json(&json!({ "name": format!("Customer {id}") }))
        .send()
        .await
        .context("POST /chat/{key}/sessions")?;
    let status = resp.status();
    let body = resp.text().await?;
    if status != reqwest::StatusCode::CREATED {
        bail!("POST /chat/{{key}}/sessions: {status} {body}");
    }
    let v: serde_json::Value = serde_json::from_str(&body)?;
    v["session"].as_str().map(str::to_string).with_context(|| format!("no session in {body}"))
}

impl Chat {
    /// Reads frames until the status says an agent has the chat.
    async fn until_connected(&mut self) -> anyhow::Result<()> {
        loop {
            let msg = match tokio::time::timeout(RESYNC_AFTER, self.socket.next()).await {
                Ok(Some(msg)) => msg,
                Ok(None) => bail!("the socket closed before an agent had the chat"),
                Err(_) if self.resume.is_some() => {
                    self.resyncs += 1;
                    self.reconnect().await?;
                    continue;
                }
                Err(_) => continue,
            };
            let Message::Text(text) = msg? else { continue };
            let f: Frame = serde_json::from_str(&text).with_context(|| format!("not a frame: {text}"))?;
            self.last_id = self.last_id.max(f.id);
            match (f.kind.as_str(), f.state.as_deref()) {
                ("status", Some("connected")) => return Ok(()),
                ("status", Some("ended")) => bail!("the chat ended before an agent had it"),
                ("error", _) => bail!("server: {}", f.message.unwrap_or_default()),
                _ => {}
            }
        }
    }

    /// After a lost socket: the widget's way back, resuming after the last
    /// message seen so that nothing is missed (the relay has none).
    async fn reconnect(&mut self) -> anyhow::Result<()> {
        let Some(url) = &self.resume else { bail!("the socket closed") };
        self.socket = connect(&format!("{url}&after={}", self.last_id), None).await?;
        Ok(())
    }
}

/// One customer's run.
#[derive(Debug, Default)]
pub struct CustomerLog {
    /// Round trips in microseconds of the messages sent in the measured window.
    pub rtts: Vec<u32>,
    /// Messages sent in the measured window, and how many of them came back.
    pub sent: u64,
    pub answered: u64,
    pub reconnects: u64,
    pub resyncs: u64,
    /// The socket was lost for good before the run ended.
    pub lost: bool,
    pub errors: u64,
    pub first_error: Option<String>,
}

impl CustomerLog {
    fn error(&mut self, e: impl std::fmt::Display) {
        self.errors += 1;
        self.first_error.get_or_insert_with(|| e.to_string());
    }
}

/// Waits for the go, then talks: a message every `interval` × U(0.5, 1.5)
/// (the first after U(0, 1) × `interval`, so that chats spread evenly)
/// until the window ends, then waits up to `drain` for the last echoes.
pub async fn converse(mut chat: Chat, mut go: watch::Receiver<Option<Timeline>>) -> CustomerLog {
    let mut log = CustomerLog { resyncs: chat.resyncs, ..CustomerLog::default() };
    let mut jitter = Jitter::new(chat.id);
    let mut timeline: Option<Timeline> = None;
    let mut next: Option<Instant> = None;
    let (mut seq, mut outstanding) = (0u64, 0u64);
    loop {
        let now = Instant::now();
        let far = now + Duration::from_secs(86_400);
        let stop = match timeline {
            None => far,
            Some(t) if next.is_none() && outstanding == 0 => t.until(),
            Some(t) => t.until() + t.drain,
        };
        if timeline.is_some() && now >= stop {
            break;
        }
        tokio::select! {
            changed = go.changed(), if timeline.is_none() => {
                if changed.is_err() {
                    // The run was abandoned before it began.
                    return log;
                }
                if let Some(t) = *go.borrow_and_update() {
                    timeline = Some(t);
                    next = Some(t.go + t.interval.mul_f64(jitter.unit()));
                }
            }
            _ = sleep_until(next.unwrap_or(far).into()), if next.is_some() => {
                let Some(t) = timeline else { continue };
                let sent = Instant::now();
                seq += 1;
                let cid = format!("{}.{seq}.{}", chat.id, t.micros(sent));
                let frame = json!({ "type": "message", "text": format!("hello {cid}"), "client_id": cid });
                if let Err(e) = chat.socket.send(Message::text(frame.to_string())).await {
                    log.error(format!("sending: {e}"));
                }
                outstanding += 1;
                if t.counts(sent) {
                    log.sent += 1;
                }
                let gap = t.interval.mul_f64(0.5 + jitter.unit());
                next = Some(sent + gap).filter(|n| *n < t.until());
            }
            msg = chat.socket.next() => match msg {
                Some(Ok(Message::Text(text))) => on_frame(&mut chat, &text, timeline.as_ref(), &mut log, &mut outstanding),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                    let again = if log.reconnects < MAX_RECONNECTS { chat.reconnect().await } else { Err(anyhow::anyhow!("too many reconnects")) };
                    match again {
                        Ok(()) => log.reconnects += 1,
                        Err(e) => {
                            log.lost = true;
                            log.error(format!("socket lost: {e:#}"));
                            break;
                        }
                    }
                }
                Some(Ok(_)) => {}
            },
            _ = sleep_until(stop.into()), if timeline.is_some() => break,
        }
    }
    log
}

fn on_frame(chat: &mut Chat, text: &str, timeline: Option<&Timeline>, log: &mut CustomerLog, outstanding: &mut u64) {
    let f: Frame = match serde_json::from_str(text) {
        Ok(f) => f,
        Err(e) => return log.error(format!("not a frame ({e}): {text}")),
    };
    match f.kind.as_str() {
        "message" => {
            chat.last_id = chat.last_id.max(f.id);
            if f.from.as_deref() != Some("agent") {
                return;
            }
            let Some(cid) = f.text.as_deref().and_then(|t| t.strip_prefix("echo ")) else { return };
            match parse_client_id(cid) {
                Some((c, sent_us)) if c == chat.id => {
                    *outstanding = outstanding.saturating_sub(1);
                    if let Some(t) = timeline
                        && t.counts_micros(sent_us)
                    {
                        log.answered += 1;
                        let rtt = t.micros(Instant::now()).saturating_sub(sent_us);
                        log.rtts.push(u32::try_from(rtt).unwrap_or(u32::MAX));
                    }
                }
                _ => log.error(format!("chat {} got another chat's echo: {cid}", chat.id)),
            }
        }
        "error" => log.error(format!("server: {}", f.message.unwrap_or_default())),
        // Status, typing and read marks: nothing to time.
        _ => {}
    }
}

/// `CHAT.SEQ.MICROS` → (chat, micros).
fn parse_client_id(cid: &str) -> Option<(u64, u64)> {
    let mut parts = cid.split('.');
    let chat = parts.next()?.parse().ok()?;
    let _seq: u64 = parts.next()?.parse().ok()?;
    let micros = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((chat, micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids() {
        assert_eq!(parse_client_id("17.3.123456"), Some((17, 123456)));
        for bad in ["", "17", "17.3", "17.3.x", "17.3.1.2", "a.3.1"] {
            assert_eq!(parse_client_id(bad), None, "{bad}");
        }
    }
}
