//! What a channel crate implements ([`ChannelAdapter`]) and how the binary
//! registers it ([`Channels`]). The service has no HTTP: a provider's
//! webhook reaches a channel as a [`HookRequest`], which the server builds
//! from `GET|POST /hooks/{endpoint}` without knowing the channel.

use super::messages::MessageBody;
use crate::Service;
use crate::endpoints::Endpoint;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use switchboard_core::attributes::Attributes;
use switchboard_core::channel::Channel;
use switchboard_core::ids::{ContactId, CustomerId, EndpointId, WorkspaceId};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a channel can carry; the desktop and the flow driver's renderers
/// read it (no typing mark where the provider has none, long answers cut).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    pub text: bool,
    pub html: bool,
    pub attachments: bool,
    pub typing: bool,
    pub read_receipts: bool,
    /// Messages name their recipients and subject (email): an agent may
    /// choose them for a reply.
    pub addressing: bool,
    /// The longest text one message may have, in characters.
    pub max_length: Option<usize>,
    /// Whether the customer is there live (chat, voice) or answers later
    /// (email, SMS): a real-time conversation left alone ends.
    pub realtime: bool,
}

impl Capabilities {
    /// Plain text of at most `max_length` characters, answered later: what
    /// SMS-like providers carry.
    pub const fn plain_text(max_length: usize) -> Self {
        Capabilities {
            text: true,
            html: false,
            attachments: false,
            typing: false,
            read_receipts: false,
            addressing: false,
            max_length: Some(max_length),
            realtime: false,
        }
    }
}

/// One message to deliver: an agent's or the bot's, committed as event
/// `message` of the contact.
#[derive(Clone, Debug)]
pub struct Outbound {
    pub workspace: WorkspaceId,
    pub contact: ContactId,
    pub customer: Option<CustomerId>,
    /// The id of the message's event: the same for every attempt, so a
    /// provider that takes an idempotency key can drop repeats.
    pub message: u64,
    /// The conversation's thread key (the customer's number, the mail
    /// thread…), as `inbound` was given it.
    pub thread: Option<String>,
    /// The sender's id (`IncomingMessage::client_id`) of the customer's
    /// latest message before this one, for channels that address their
    /// messages (an email's In-Reply-To); `None` for the others.
    pub in_reply_to: Option<String>,
    /// The contact's attributes: what the channel set when the
    /// conversation opened (an email's subject and addresses) and more.
    pub attributes: Attributes,
    pub body: MessageBody,
}

/// A send the provider took.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sent {
    /// The provider's id of the message, for its later delivery reports.
    pub provider_id: Option<String>,
}

/// A send that did not happen.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later (a timeout, a 5xx, a rate limit).
    #[error("{0}")]
    Retryable(String),
    /// Trying again will not help (a blocked number, a refused address).
    #[error("{0}")]
    Permanent(String),
}

/// A message that belongs to no conversation (the daily summary), sent
/// from an endpoint to people of the workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
}

/// A provider's request to `/hooks/{endpoint}`, as the server received it.
#[derive(Clone, Debug, Default)]
pub struct HookRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HookRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// The channel's answer to the provider.
#[derive(Clone, Debug)]
pub struct HookResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HookResponse {
    pub fn status(status: u16) -> Self {
        HookResponse { status, headers: Vec::new(), body: Vec::new() }
    }

    /// A refusal in the API's error shape (`{"error": {"code", "message"}}`),
    /// which the server's own answers at `/hooks` use.
    pub fn refused(status: u16, code: &str, message: &str) -> Self {
        let body = serde_json::json!({ "error": { "code": code, "message": message } });
        HookResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }
}

/// A channel: a crate that turns a provider's traffic into calls of the
/// conversation seam (`Service::inbound`, `Service::report_delivery`) and
/// delivers outbound messages.
pub trait ChannelAdapter: Send + Sync + 'static {
    /// The kind of contact it carries; one adapter per kind is registered.
    fn kind(&self) -> Channel;

    fn capabilities(&self) -> Capabilities;

    /// Delivers one message. Called by the service's delivery loop (see
    /// `delivery`), at least once per committed message, in order per channel.
    fn send(&self, message: Outbound) -> BoxFuture<'_, Result<Sent, SendError>>;

    /// Sends `notice` from `endpoint` (of this channel). Channels that
    /// cannot keep the default, which refuses.
    fn notify<'a>(&'a self, endpoint: &'a Endpoint, notice: Notice) -> BoxFuture<'a, Result<(), SendError>> {
        let _ = (endpoint, notice);
        Box::pin(async { Err(SendError::Permanent("this channel sends no notices".into())) })
    }

    /// A provider's webhook for `endpoint` (enabled, of this channel),
    /// which the server receives at `GET|POST /hooks/{endpoint}`. There is
    /// no auth header: the channel checks the provider's signature itself
    /// (with `Service::endpoint_credentials`). Channels without webhooks
    /// keep the default, which answers 405.
    fn hook<'a>(
        &'a self,
        service: &'a Service,
        endpoint: &'a Endpoint,
        request: HookRequest,
    ) -> BoxFuture<'a, HookResponse> {
        let _ = (service, endpoint, request);
        Box::pin(async { HookResponse::refused(405, "method_not_allowed", "this channel takes no webhooks") })
    }
}

/// The channels registered at start, by kind.
#[derive(Default)]
pub struct Channels {
    by_kind: RwLock<HashMap<Channel, Arc<dyn ChannelAdapter>>>,
}

impl Channels {
    /// Registers `adapter` for its kind, replacing an earlier one.
    pub fn register(&self, adapter: Arc<dyn ChannelAdapter>) {
        self.by_kind.write().expect("channels lock").insert(adapter.kind(), adapter);
    }

    pub fn get(&self, kind: Channel) -> Option<Arc<dyn ChannelAdapter>> {
        self.by_kind.read().expect("channels lock").get(&kind).cloned()
    }
}

impl Service {
    /// A provider's request to `/hooks/{endpoint}`, handed to the channel
    /// registered for the endpoint's channel: 404 for an endpoint that does
    /// not exist, 410 for a disabled one, 405 when its channel takes no
    /// webhooks (or none is registered).
    pub async fn hook(&self, endpoint: EndpointId, request: HookRequest) -> HookResponse {
        let found = match self.endpoint_by_id(endpoint).await {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(error = %e, endpoint = endpoint.0, "looking up a hook's endpoint");
                return HookResponse::refused(500, "internal", "internal error; see the server log");
            }
        };
        let Some(found) = found else { return HookResponse::refused(404, "not_found", "no such endpoint") };
        if !found.enabled {
            return HookResponse::refused(410, "gone", "this endpoint is disabled");
        }
        let Some(adapter) = self.channels().get(found.channel) else {
            return HookResponse::refused(405, "method_not_allowed", "this endpoint's channel takes no webhooks");
        };
        adapter.hook(self, &found, request).await
    }
}
