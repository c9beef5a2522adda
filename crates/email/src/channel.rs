//! The email channel as the service sees it: a [`ChannelAdapter`] whose
//! `send` submits an agent's or the bot's message through the relay of the
//! endpoint the customer wrote to.

use crate::receive::TO;
use crate::send::{Relay, compose, compose_notice, submit};
use switchboard_core::channel::Channel;
use switchboard_core::expr::Value as AttrValue;
use switchboard_service::conversation::{BoxFuture, Capabilities, ChannelAdapter, Notice, Outbound, SendError, Sent};
use switchboard_service::endpoints::Endpoint;
use switchboard_service::{Service, ServiceError};

pub struct EmailChannel {
    service: Service,
}

impl EmailChannel {
    pub fn new(service: Service) -> Self {
        EmailChannel { service }
    }

    async fn deliver(&self, message: Outbound) -> Result<Sent, SendError> {
        let Some(AttrValue::Str(address)) = message.attributes.get(TO) else {
            return Err(SendError::Permanent("this conversation did not come in by email".into()));
        };
        let endpoint = match self.service.endpoint_at(Channel::Email, address).await {
            Ok(Some(e)) if e.enabled => e,
            Ok(_) => return Err(SendError::Permanent(format!("the mailbox {address} is gone or disabled"))),
            Err(e) => return Err(SendError::Retryable(format!("looking up the mailbox: {e}"))),
        };
        let credentials = self
            .service
            .endpoint_credentials(endpoint.id)
            .await
            .map_err(|e| SendError::Retryable(format!("reading the mailbox's credentials: {e}")))?;
        let relay = Relay::of(&endpoint, &credentials)?;
        let mut files = Vec::new();
        for f in message.body.files() {
            let file = match self.service.contact_file(message.workspace, message.contact, f.id).await {
                Ok(file) => file,
                Err(ServiceError::NotFound(what)) => return Err(SendError::Permanent(format!("{what} is gone"))),
                Err(e) => return Err(SendError::Retryable(format!("reading an attachment: {e}"))),
            };
            files.push(file);
        }
        let mail = compose(&endpoint, &message, &files)?;
        submit(&relay, &mail).await?;
        // The Message-ID is what a bounce names: report_delivery finds the
        // message by it.
        Ok(Sent { provider_id: Some(mail.id) })
    }

    /// A notice through `endpoint`'s relay, one message per recipient.
    async fn mail_notice(&self, endpoint: &Endpoint, notice: Notice) -> Result<(), SendError> {
        let credentials = self
            .service
            .endpoint_credentials(endpoint.id)
            .await
            .map_err(|e| SendError::Retryable(format!("reading the mailbox's credentials: {e}")))?;
        let relay = Relay::of(endpoint, &credentials)?;
        for to in &notice.to {
            submit(&relay, &compose_notice(endpoint, to, &notice)?).await?;
        }
        Ok(())
    }
}

impl ChannelAdapter for EmailChannel {
    fn kind(&self) -> Channel {
        Channel::Email
    }

    fn capabilities(&self) -> Capabilities {
        // Text of any length with its HTML, files, recipients and a subject; answered later.
        Capabilities {
            html: true,
            attachments: true,
            addressing: true,
            max_length: None,
            ..Capabilities::plain_text(0)
        }
    }

    fn send(&self, message: Outbound) -> BoxFuture<'_, Result<Sent, SendError>> {
        Box::pin(self.deliver(message))
    }

    fn notify<'a>(&'a self, endpoint: &'a Endpoint, notice: Notice) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(self.mail_notice(endpoint, notice))
    }
}
