//! A test SMS provider written the way a channel crate would write one,
//! with nothing but the service's public seam: it takes its provider's
//! webhook (a form signed with a header of its own, answered with TwiML-like
//! XML), opens or continues conversations with `Service::inbound`, and
//! keeps every message the delivery loop sends — or fails sends on demand.
//! The loopback test and the server's hook test both drive it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use switchboard_core::channel::Channel;
use switchboard_service::conversation::{
    BoxFuture, Capabilities, ChannelAdapter, HookRequest, HookResponse, Inbound, IncomingMessage, Outbound, SendError,
    Sender, Sent, Thread,
};
use switchboard_service::endpoints::Endpoint;
use switchboard_service::{IdentityValue, Service};
use switchboard_store::IdentityKind;

/// The header the provider signs with, and the one value it accepts.
pub const SIGNATURE: (&str, &str) = ("x-test-signature", "good");

#[derive(Default)]
pub struct TestSms {
    pub sent: Mutex<Vec<Outbound>>,
    /// This many sends fail (retryably) before one goes through.
    pub failures: AtomicU32,
    /// Every send fails for good.
    pub refuse: AtomicBool,
}

impl ChannelAdapter for TestSms {
    fn kind(&self) -> Channel {
        Channel::Sms
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::plain_text(1600)
    }

    fn send(&self, message: Outbound) -> BoxFuture<'_, Result<Sent, SendError>> {
        Box::pin(async move {
            if self.refuse.load(Ordering::SeqCst) {
                return Err(SendError::Permanent("the number does not take messages".into()));
            }
            if self.failures.load(Ordering::SeqCst) > 0 {
                self.failures.fetch_sub(1, Ordering::SeqCst);
                return Err(SendError::Retryable("provider busy".into()));
            }
            let mut sent = self.sent.lock().unwrap();
            sent.push(message);
            Ok(Sent { provider_id: Some(format!("sms-{}", sent.len())) })
        })
    }

    /// `from`, `text` and `id` posted as a form.
    fn hook<'a>(
        &'a self,
        service: &'a Service,
        endpoint: &'a Endpoint,
        request: HookRequest,
    ) -> BoxFuture<'a, HookResponse> {
        Box::pin(async move {
            if request.method != "POST" {
                return HookResponse::status(405);
            }
            if request.header(SIGNATURE.0) != Some(SIGNATURE.1) {
                return HookResponse::status(401);
            }
            let form: Vec<(String, String)> = form_urlencoded::parse(&request.body).into_owned().collect();
            let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
            let inbound = text(&field("from"), &field("text"), &field("id"));
            match service.inbound(endpoint.id, Thread::Key(field("from")), inbound).await {
                Ok(_) => HookResponse {
                    status: 200,
                    headers: vec![("content-type".into(), "text/xml".into())],
                    body: b"<Response/>".to_vec(),
                },
                Err(_) => HookResponse::status(500),
            }
        })
    }
}

/// A text from the number `from`, with the provider's message id.
pub fn text(from: &str, body: &str, id: &str) -> Inbound {
    Inbound {
        sender: Sender { identity: Some(IdentityValue { kind: IdentityKind::Phone, value: from.into() }), name: None },
        message: Some(IncomingMessage { text: body.into(), client_id: Some(id.into()), ..Default::default() }),
        ..Default::default()
    }
}
