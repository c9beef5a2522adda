//! The SMTP listener: accepts connections, limits them per source address,
//! upgrades to TLS on STARTTLS when a certificate is configured, and drives
//! a [`Session`] per connection, handing recipients and messages to the
//! [`Inbox`].

use crate::receive::Inbox;
use crate::session::{Limits, Session, Step};
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// How long a client may stay silent (RFC 5321 suggests 5 minutes).
const IDLE: Duration = Duration::from_secs(300);

/// A certificate chain and its private key, PEM files.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Clone, Debug)]
pub struct ListenerConfig {
    pub addr: SocketAddr,
    /// The name the listener greets with.
    pub hostname: String,
    pub limits: Limits,
    /// Open connections from one address.
    pub max_connections_per_ip: usize,
    /// STARTTLS is offered when set.
    pub tls: Option<TlsFiles>,
}

impl ListenerConfig {
    pub fn new(addr: SocketAddr) -> Self {
        ListenerConfig {
            addr,
            hostname: "localhost".into(),
            limits: Limits::default(),
            max_connections_per_ip: 10,
            tls: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("listening for SMTP on {0}: {1}")]
    Bind(SocketAddr, io::Error),
    #[error("the SMTP certificate or key: {0}")]
    Tls(String),
}

/// A running listener.
pub struct Listening {
    pub addr: SocketAddr,
    pub task: tokio::task::JoinHandle<()>,
}

/// Connections open per source address.
#[derive(Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

/// One counted connection; uncounted when dropped.
struct Counted<'a>(&'a PerAddress, IpAddr);

impl PerAddress {
    fn enter(&self, ip: IpAddr, max: usize) -> Option<Counted<'_>> {
        let mut open = self.0.lock().expect("connections lock");
        let n = open.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Counted(self, ip))
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        let mut open = self.0.0.lock().expect("connections lock");
        if let Some(n) = open.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.1);
            }
        }
    }
}

fn tls_acceptor(files: &TlsFiles) -> Result<TlsAcceptor, ListenError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|i| i.collect())
        .map_err(|e| ListenError::Tls(format!("{}: {e}", files.cert.display())))?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| ListenError::Tls(format!("{}: {e}", files.key.display())))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| ListenError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ListenError::Tls(e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Binds `config.addr` and serves until `stop` turns true.
pub async fn listen(
    inbox: Arc<Inbox>,
    config: ListenerConfig,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<Listening, ListenError> {
    let tls = config.tls.as_ref().map(tls_acceptor).transpose()?;
    let listener = TcpListener::bind(config.addr).await.map_err(|e| ListenError::Bind(config.addr, e))?;
    let addr = listener.local_addr().map_err(|e| ListenError::Bind(config.addr, e))?;
    let shared = Arc::new((config, tls, PerAddress::default()));
    let task = tokio::spawn(async move {
        loop {
            let (stream, peer) = tokio::select! {
                _ = stop.changed() => return,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of descriptors and the like: wait rather than spin.
                        tracing::warn!(error = %e, "accepting an SMTP connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let (inbox, shared) = (inbox.clone(), shared.clone());
            tokio::spawn(async move {
                let (config, tls, open) = &*shared;
                if let Err(e) = connection(stream, peer, &inbox, config, tls.as_ref(), open).await {
                    tracing::debug!(error = %e, peer = %peer, "SMTP connection ended");
                }
            });
        }
    });
    Ok(Listening { addr, task })
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    inbox: &Inbox,
    config: &ListenerConfig,
    tls: Option<&TlsAcceptor>,
    open: &PerAddress,
) -> io::Result<()> {
    let Some(_counted) = open.enter(peer.ip(), config.max_connections_per_ip) else {
        stream.write_all(b"421 4.7.0 too many connections from your address\r\n").await?;
        return Ok(());
    };
    let session = Session::new(&config.hostname, config.limits.clone(), tls.is_some(), false);
    if drive(&mut stream, session, inbox).await? == Ended::StartTls
        && let Some(acceptor) = tls
    {
        let mut secure = acceptor.accept(stream).await?;
        let session = Session::new(&config.hostname, config.limits.clone(), true, true);
        drive(&mut secure, session, inbox).await?;
        secure.shutdown().await?;
    }
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
enum Ended {
    Closed,
    StartTls,
}

/// Runs `session` over `stream` until it closes or asks for TLS.
async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    mut session: Session,
    inbox: &Inbox,
) -> io::Result<Ended> {
    let mut input: Vec<u8> = Vec::new();
    let mut at = 0;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let step = {
            let mut rest = &input[at..];
            let step = session.advance(&mut rest);
            at = input.len() - rest.len();
            step
        };
        match step {
            Step::Read => {
                stream.write_all(&session.take_output()).await?;
                input.clear();
                at = 0;
                let n = match tokio::time::timeout(IDLE, stream.read(&mut chunk)).await {
                    Ok(read) => read?,
                    Err(_) => {
                        stream.write_all(b"421 4.4.2 idle for too long\r\n").await?;
                        return Ok(Ended::Closed);
                    }
                };
                if n == 0 {
                    return Ok(Ended::Closed);
                }
                input.extend_from_slice(&chunk[..n]);
            }
            Step::Recipient(address) => session.recipient(inbox.accepts(&address).await),
            Step::Deliver(envelope, data) => {
                let reply = inbox.deliver(&envelope, data).await;
                session.delivered(reply);
            }
            Step::StartTls => {
                stream.write_all(&session.take_output()).await?;
                return Ok(Ended::StartTls);
            }
            Step::Close => {
                stream.write_all(&session.take_output()).await?;
                stream.flush().await?;
                return Ok(Ended::Closed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_limited_per_address() {
        let open = PerAddress::default();
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let first = open.enter(a, 2).unwrap();
        let _second = open.enter(a, 2).unwrap();
        assert!(open.enter(a, 2).is_none(), "a third from one address");
        assert!(open.enter(b, 2).is_some(), "others are not counted against it");
        drop(first);
        assert!(open.enter(a, 2).is_some(), "a closed connection frees its place");
    }
}
