//! SIP over TCP (RFC 3261 §18), beside UDP on the same address and port.
//!
//! Every connection, accepted or opened by us, is one task reading it and
//! one writing it. What it reads is cut into messages by
//! [`crate::sip::stream`] and each goes through the per-source rate limit
//! and validation like a datagram; a stream that cannot be framed (no or a
//! bad Content-Length, headers or a message too large) is answered when a
//! request's headers can be read and the connection is closed, as where
//! the next message starts is unknown.
//!
//! Responses go back on the connection the request came on, and requests
//! to a peer that has a connection open (a phone that registered over TCP,
//! which behind NAT cannot be reached any other way) go on it too; only
//! when there is none do we connect. Connections are capped in total and
//! per source address, and one that has said nothing for
//! [`TcpLimits::idle`] is closed unless a call, leg or registration uses it.

use crate::agent::{Agent, phrase};
use crate::sip::message::{Message, response};
use crate::sip::stream::{FrameError, Framer};
pub use crate::sip::validate::Transport;
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::timeout;

/// Messages waiting to be written to one connection; past this the peer is
/// not reading and what we send it is dropped.
const QUEUE: usize = 64;
/// How long connecting to a peer may take.
const CONNECT: Duration = Duration::from_secs(5);
/// How long queued messages may take to go out once a connection is being closed.
const FLUSH: Duration = Duration::from_secs(2);

impl Transport {
    /// Its name in a Via header.
    pub fn via_name(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }

    /// The URI parameter naming it (UDP is the default and goes without).
    pub fn uri_param(self) -> &'static str {
        match self {
            Transport::Udp => "",
            Transport::Tcp => ";transport=tcp",
        }
    }
}

/// Where a SIP message comes from or goes: the transport and the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    pub transport: Transport,
    pub addr: SocketAddr,
}

impl Peer {
    pub fn udp(addr: SocketAddr) -> Peer {
        Peer { transport: Transport::Udp, addr }
    }

    pub fn tcp(addr: SocketAddr) -> Peer {
        Peer { transport: Transport::Tcp, addr }
    }

    /// Where a SIP URI points (`sip:alice@192.0.2.4:5062;transport=tcp`):
    /// its host must be an IP address (a phone's Contact is), the port
    /// defaults to 5060 and the transport to UDP.
    pub fn from_uri(uri: &str) -> Option<Peer> {
        let rest = uri.strip_prefix("sip:")?;
        let (hostport, params) = rest.split_once(';').unwrap_or((rest, ""));
        let hostport = hostport.rsplit_once('@').map_or(hostport, |(_, h)| h);
        let tcp = params.split(';').any(|p| p.eq_ignore_ascii_case("transport=tcp"));
        let addr = hostport.parse::<SocketAddr>().ok().or_else(|| {
            let ip = hostport.trim_start_matches('[').trim_end_matches(']');
            Some(SocketAddr::new(ip.parse::<IpAddr>().ok()?, 5060))
        })?;
        Some(if tcp { Peer::tcp(addr) } else { Peer::udp(addr) })
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} over {}", self.addr, self.transport.via_name())
    }
}

/// Bounds on SIP over TCP.
#[derive(Debug, Clone, Copy)]
pub struct TcpLimits {
    /// Connections open at once, ours and peers'.
    pub connections: usize,
    /// Connections from one IP address.
    pub per_ip: usize,
    /// How long a connection nothing uses may stay silent.
    pub idle: Duration,
}

impl Default for TcpLimits {
    fn default() -> Self {
        TcpLimits { connections: 1024, per_ip: 16, idle: Duration::from_secs(120) }
    }
}

/// The open connections, by the peer's address.
pub(crate) struct Connections {
    limits: TcpLimits,
    open: Mutex<Open>,
    /// Connections we must open, for the dialer (which can start their tasks).
    dial: mpsc::UnboundedSender<Dial>,
}

#[derive(Default)]
struct Open {
    by_addr: HashMap<SocketAddr, Connection>,
    next_id: u64,
}

impl Open {
    /// A new connection's entry with `first` queued, and where its writer reads what to send.
    fn insert(&mut self, addr: SocketAddr, first: Option<Vec<u8>>) -> (u64, mpsc::Receiver<Vec<u8>>) {
        let (out, rx) = mpsc::channel(QUEUE);
        if let Some(bytes) = first {
            // The queue is new and empty: this cannot fail.
            let _ = out.try_send(bytes);
        }
        self.next_id += 1;
        self.by_addr.insert(addr, Connection { id: self.next_id, out });
        (self.next_id, rx)
    }
}

struct Connection {
    /// Tells this connection from a later one to the same address.
    id: u64,
    out: mpsc::Sender<Vec<u8>>,
}

/// A connection to open, with the first message already queued.
pub(crate) struct Dial {
    addr: SocketAddr,
    id: u64,
    out: mpsc::Receiver<Vec<u8>>,
}

impl Connections {
    /// The registry, and the receiving end of its requests to connect (for [`dial`]).
    pub(crate) fn new(limits: TcpLimits) -> (Connections, mpsc::UnboundedReceiver<Dial>) {
        let (dial, asks) = mpsc::unbounded_channel();
        (Connections { limits, open: Mutex::new(Open::default()), dial }, asks)
    }

    /// Queues `bytes` on the connection to `to`, asking for one when there is none.
    pub(crate) fn send(&self, bytes: &[u8], to: SocketAddr) {
        let mut open = self.open.lock().expect("connections lock");
        if let Some(c) = open.by_addr.get(&to) {
            if c.out.try_send(bytes.to_vec()).is_err() {
                tracing::warn!(%to, "SIP over TCP: the peer is not reading; message dropped");
            }
            return;
        }
        if open.by_addr.len() >= self.limits.connections {
            tracing::warn!(%to, "SIP over TCP: too many connections to open one; message dropped");
            return;
        }
        let (id, out) = open.insert(to, Some(bytes.to_vec()));
        let _ = self.dial.send(Dial { addr: to, id, out });
    }

    /// Whether a connection to `addr` is open (or being opened).
    pub(crate) fn is_open(&self, addr: SocketAddr) -> bool {
        self.open.lock().expect("connections lock").by_addr.contains_key(&addr)
    }

    /// An accepted connection's entry, unless it is one too many.
    fn admit(&self, addr: SocketAddr) -> Option<(u64, mpsc::Receiver<Vec<u8>>)> {
        let mut open = self.open.lock().expect("connections lock");
        let from_ip = open.by_addr.keys().filter(|a| a.ip() == addr.ip()).count();
        if open.by_addr.len() >= self.limits.connections || from_ip >= self.limits.per_ip {
            return None;
        }
        Some(open.insert(addr, None))
    }

    /// Forgets connection `id` (a newer one to the same address stays).
    fn close(&self, addr: SocketAddr, id: u64) {
        let mut open = self.open.lock().expect("connections lock");
        if open.by_addr.get(&addr).is_some_and(|c| c.id == id) {
            open.by_addr.remove(&addr);
        }
    }
}

/// Accepts connections until `stop`.
pub(crate) async fn accept(agent: Arc<Agent>, listener: TcpListener, stop: watch::Receiver<bool>) {
    let mut stopped = stop.clone();
    loop {
        let (stream, addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(r) => r,
                Err(e) => {
                    // Out of descriptors, mostly: wait rather than spin.
                    tracing::warn!(error = %e, "SIP over TCP: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stopped.changed() => return,
        };
        if !agent.allowed(addr.ip()) {
            tracing::debug!(%addr, "SIP rate limit: connection refused");
            continue;
        }
        let Some((id, out)) = agent.connections.admit(addr) else {
            tracing::info!(%addr, "SIP over TCP: too many connections; refused");
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(run(agent.clone(), stream, addr, id, out, stop.clone()));
    }
}

/// Opens the connections [`Connections::send`] asks for until `stop`.
pub(crate) async fn dial(agent: Arc<Agent>, mut asks: mpsc::UnboundedReceiver<Dial>, stop: watch::Receiver<bool>) {
    let mut stopped = stop.clone();
    loop {
        let ask = tokio::select! {
            a = asks.recv() => match a { Some(a) => a, None => return },
            _ = stopped.changed() => return,
        };
        let (agent, stop) = (agent.clone(), stop.clone());
        tokio::spawn(async move {
            match timeout(CONNECT, TcpStream::connect(ask.addr)).await {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    run(agent, stream, ask.addr, ask.id, ask.out, stop).await;
                }
                Ok(Err(e)) => {
                    tracing::warn!(addr = %ask.addr, error = %e, "SIP over TCP: cannot connect; message dropped");
                    agent.connections.close(ask.addr, ask.id);
                }
                Err(_) => {
                    tracing::warn!(addr = %ask.addr, "SIP over TCP: connecting timed out; message dropped");
                    agent.connections.close(ask.addr, ask.id);
                }
            }
        });
    }
}

/// One connection: messages read are handled as they come, those queued are written.
async fn run(
    agent: Arc<Agent>,
    stream: TcpStream,
    addr: SocketAddr,
    id: u64,
    out: mpsc::Receiver<Vec<u8>>,
    mut stop: watch::Receiver<bool>,
) {
    let (mut read, write) = stream.into_split();
    let mut writer = tokio::spawn(write_queued(write, out));
    let peer = Peer::tcp(addr);
    let mut framer = Framer::default();
    let mut buf = vec![0u8; 8192];
    let mut refused = false;
    'read: loop {
        let n = tokio::select! {
            r = timeout(agent.connections.limits.idle, read.read(&mut buf)) => match r {
                Ok(Ok(0) | Err(_)) => break,
                Ok(Ok(n)) => n,
                Err(_) if agent.in_use(peer) => continue,
                Err(_) => {
                    tracing::debug!(%addr, "SIP over TCP: idle connection closed");
                    break;
                }
            },
            _ = stop.changed() => break,
        };
        framer.push(&buf[..n]);
        loop {
            match framer.next_message() {
                Ok(None) => break,
                Ok(Some(message)) => {
                    if !agent.allowed(addr.ip()) {
                        tracing::debug!(%peer, "SIP rate limit: dropped");
                        continue;
                    }
                    crate::agent::receive(&agent, &message, peer).await;
                }
                Err(e) => {
                    tracing::info!(%peer, error = %e, "SIP stream cannot be framed: closing");
                    refuse(&agent, framer.head(), e, peer).await;
                    refused = true;
                    break 'read;
                }
            }
        }
    }
    // Forgetting the connection ends its queue: the writer sends what is in it (the refusal) and closes.
    agent.connections.close(addr, id);
    if timeout(FLUSH, &mut writer).await.is_err() {
        tracing::debug!(%addr, "SIP over TCP: closed with messages unsent");
        writer.abort();
    }
    if refused {
        // What the peer still sends is read and dropped for a moment, so that
        // closing with it unread (a reset) does not destroy our answer on its way.
        let drain = async { while matches!(read.read(&mut buf).await, Ok(n) if n > 0) {} };
        let _ = timeout(FLUSH, drain).await;
    }
}

async fn write_queued(mut write: OwnedWriteHalf, mut out: mpsc::Receiver<Vec<u8>>) {
    while let Some(bytes) = out.recv().await {
        if write.write_all(&bytes).await.is_err() {
            return;
        }
    }
    let _ = write.shutdown().await;
}

/// The answer to a request whose framing failed, when its headers say whom to answer.
async fn refuse(agent: &Agent, head: &[u8], e: FrameError, peer: Peer) {
    let Some(m) = Message::split(head).filter(|m| m.method().is_some() && m.header("via").is_some()) else { return };
    let status = e.status();
    let warning = [("Warning", format!("399 switchboard \"{e}\""))];
    agent.send(&response(&m, peer.addr, status, phrase(status), None, &warning, b""), peer).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contact_names_its_peer() {
        let tcp = Peer::from_uri("sip:alice@192.0.2.4:5062;transport=TCP;ob").unwrap();
        assert_eq!(tcp, Peer::tcp("192.0.2.4:5062".parse().unwrap()));
        assert_eq!(Peer::from_uri("sip:192.0.2.4"), Some(Peer::udp("192.0.2.4:5060".parse().unwrap())));
        assert_eq!(Peer::from_uri("sip:bob@[2001:db8::1]:5070").unwrap().addr.port(), 5070);
        assert_eq!(Peer::from_uri("sip:bob@phone.example.com"), None);
        assert_eq!(Peer::from_uri("tel:+15550100"), None);
    }
}
