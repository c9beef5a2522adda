//! Client WebSockets for customers and agents.

use anyhow::Context;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A server out of file descriptors leaves new connections in its accept
/// backlog, unanswered: without a limit, opening would wait forever.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Frames are a few hundred bytes; the library's 128 KiB buffers per
/// socket would take this process gigabytes at 10,000 chats.
fn config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(4096)
}

/// Opens `url` (`ws://…`), with a bearer token when given. Nagle is off, as
/// browsers do: a message must not wait for the previous one's ACK.
pub async fn connect(url: &str, bearer: Option<&str>) -> anyhow::Result<Socket> {
    let mut request = url.into_client_request()?;
    if let Some(token) = bearer {
        request.headers_mut().insert("authorization", format!("Bearer {token}").parse()?);
    }
    let connecting = tokio_tungstenite::connect_async_with_config(request, Some(config()), true);
    let (socket, _) = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
        .await
        .with_context(|| format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()))??;
    Ok(socket)
}

/// `http://host:port` → `ws://host:port`.
pub fn ws_base(http_base: &str) -> String {
    http_base.replacen("http", "ws", 1)
}
