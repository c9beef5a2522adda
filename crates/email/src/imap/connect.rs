//! Getting to a mailbox: TCP, TLS (implicit or after STARTTLS, verified
//! against the machine's trust store), the login, and the folder selected.

use super::ImapError;
use super::settings::{MailboxSettings, Tls};
use async_imap::{Client, Session};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::ServerName;

/// The longest any one exchange with the server may take (IDLE aside).
pub const EXCHANGE: Duration = Duration::from_secs(60);

/// The connection under the IMAP client: plain (tests, a server on this
/// machine) or TLS.
pub enum Wire {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl std::fmt::Debug for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Wire::Plain(_) => "Wire::Plain",
            Wire::Tls(_) => "Wire::Tls",
        })
    }
}

impl AsyncRead for Wire {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Wire::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Wire::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Wire {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Wire::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Wire::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Wire::Plain(s) => Pin::new(s).poll_flush(cx),
            Wire::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Wire::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Wire::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

pub type ImapSession = Session<Wire>;

/// `what` bounded by [`EXCHANGE`].
pub async fn timed<T>(doing: &'static str, what: impl Future<Output = Result<T, ImapError>>) -> Result<T, ImapError> {
    tokio::time::timeout(EXCHANGE, what).await.map_err(|_| ImapError::Timeout(doing))?
}

/// A logged-in session on `settings`' server.
pub async fn login(settings: &MailboxSettings) -> Result<ImapSession, ImapError> {
    let client = timed("connecting", open(settings)).await?;
    let session = timed("logging in", async {
        client
            .login(&settings.username, &settings.password)
            .await
            .map_err(|(e, _)| ImapError::Login(super::server_words(&e)))
    })
    .await?;
    Ok(session)
}

/// The connection, greeted and (when asked) encrypted, before the login.
async fn open(settings: &MailboxSettings) -> Result<Client<Wire>, ImapError> {
    let tcp = TcpStream::connect((settings.host.as_str(), settings.port))
        .await
        .map_err(|e| ImapError::Connect(format!("{}:{}: {e}", settings.host, settings.port)))?;
    let _ = tcp.set_nodelay(true);
    match settings.tls {
        Tls::None => greeted(Client::new(Wire::Plain(tcp))).await,
        Tls::Implicit => greeted(Client::new(Wire::Tls(Box::new(tls(&settings.host, tcp).await?)))).await,
        Tls::StartTls => {
            let mut client = greeted(Client::new(Wire::Plain(tcp))).await?;
            client
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .map_err(|e| ImapError::Tls(format!("the server refused STARTTLS: {e}")))?;
            let Wire::Plain(tcp) = client.into_inner() else { unreachable!("the connection is plain before STARTTLS") };
            // No greeting after STARTTLS (RFC 3501 6.2.1).
            Ok(Client::new(Wire::Tls(Box::new(tls(&settings.host, tcp).await?))))
        }
    }
}

/// Reads the server's greeting off a new connection.
async fn greeted(mut client: Client<Wire>) -> Result<Client<Wire>, ImapError> {
    match client.read_response().await {
        Ok(Some(_)) => Ok(client),
        Ok(None) => Err(ImapError::Connect("the server closed the connection before its greeting".into())),
        Err(e) => Err(ImapError::Connect(format!("reading the greeting: {e}"))),
    }
}

async fn tls(host: &str, tcp: TcpStream) -> Result<TlsStream<TcpStream>, ImapError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let config = ClientConfig::builder()
        .with_platform_verifier()
        .map_err(|e| ImapError::Tls(format!("the machine's trust store: {e}")))?
        .with_no_client_auth();
    let name =
        ServerName::try_from(host.to_string()).map_err(|_| ImapError::Tls(format!("'{host}' is not a host name")))?;
    TlsConnector::from(Arc::new(config)).connect(name, tcp).await.map_err(|e| ImapError::Tls(e.to_string()))
}
