//! What a channel keeps per endpoint besides its settings: its place in
//! the provider's data (an IMAP mailbox's UIDVALIDITY and last UID), stored
//! as a document so a restart goes on where it stopped; and the health of
//! the connection it keeps to the provider, in memory, which admins see and
//! which raises an alert event when it has failed for too long.
//!
//! Health is per process: after a restart an endpoint has no health until
//! its channel reports, and a failure that outlasts the restart alerts
//! again once the threshold has passed anew.

use super::{Service, ServiceError, require};
use crate::auth::Principal;
use crate::endpoints::Endpoint;
use crate::kinds::Kind;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use switchboard_core::ids::EndpointId;
use switchboard_core::time::Timestamp;
use switchboard_store::{Change, Document, NewEvent, Role};

/// The document kind of a channel's place; its id is the endpoint's.
const STATE_KIND: &str = "channel_state";

/// How an endpoint's link to its provider is doing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EndpointHealth {
    /// The last time the channel got through to the provider.
    pub last_success: Option<Timestamp>,
    /// What went wrong last, without credentials, and when.
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
    /// Since when every attempt has failed; `None` while it works.
    pub failing_since: Option<Timestamp>,
    /// Whether the alert for the current failure has been raised.
    pub alerted: bool,
}

/// Every endpoint's health, by id.
#[derive(Default)]
pub(crate) struct Healths(std::sync::Mutex<HashMap<EndpointId, EndpointHealth>>);

impl Service {
    /// The place a channel stored for `endpoint`, if any.
    pub async fn channel_state(&self, endpoint: &Endpoint) -> Result<Option<Value>, ServiceError> {
        Ok(self.store().document(endpoint.workspace, STATE_KIND, endpoint.id.0).await?.map(|d| d.body))
    }

    /// Stores the channel's place for `endpoint`, durable when this returns.
    pub async fn put_channel_state(&self, endpoint: &Endpoint, state: Value) -> Result<(), ServiceError> {
        let doc = Document {
            workspace: endpoint.workspace,
            kind: STATE_KIND.into(),
            id: endpoint.id.0,
            body: state,
            updated_at: self.now(),
        };
        self.store().commit(vec![Change::PutDocument(doc)]).await?;
        Ok(())
    }

    /// The enabled and disabled endpoints of `channel` in every workspace,
    /// from memory: what a channel that connects out (polls a mailbox)
    /// looks at to know what to run.
    pub fn endpoints_of_channel(
        &self,
        channel: switchboard_core::channel::Channel,
    ) -> Result<Vec<Endpoint>, ServiceError> {
        let records: Vec<_> = {
            let index = self.inner.endpoints.read().expect("endpoints lock");
            index.records().filter(|r| r.channel == channel).cloned().collect()
        };
        records.into_iter().map(|r| self.endpoint_view(r)).collect()
    }

    /// The health of the workspace's endpoint `id`, for admins; `None` when
    /// its channel has not reported (it keeps no connection, or has not
    /// tried yet).
    pub async fn endpoint_health(&self, p: &Principal, id: EndpointId) -> Result<Option<EndpointHealth>, ServiceError> {
        require(p, Role::Admin)?;
        self.endpoint(p, id).await?;
        Ok(self.health_of(id))
    }

    pub(crate) fn health_of(&self, id: EndpointId) -> Option<EndpointHealth> {
        self.inner.healths.0.lock().expect("health lock").get(&id).cloned()
    }

    /// A channel got through to `endpoint`'s provider. After an alert, the
    /// recovery is appended as an event.
    pub async fn endpoint_working(&self, endpoint: &Endpoint) -> Result<(), ServiceError> {
        let now = self.now();
        let alerted = {
            let mut all = self.inner.healths.0.lock().expect("health lock");
            let h = all.entry(endpoint.id).or_default();
            h.last_success = Some(now);
            if !h.alerted {
                h.failing_since = None;
            }
            h.alerted.then_some(h.failing_since).flatten()
        };
        // The health changes only once the event is committed: a failed
        // commit leaves the alert standing, to be recovered next time.
        if let Some(since) = alerted {
            self.health_event(endpoint, Kind::EndpointRecovered, now, json!({ "failed_since": since })).await?;
            self.update_health(endpoint.id, |h| {
                h.alerted = false;
                h.failing_since = None;
            });
        }
        Ok(())
    }

    /// A channel could not get through to `endpoint`'s provider; `error`
    /// must not hold a credential. Once it has failed for `alert_after`
    /// without a success between, an alert event is appended, once.
    pub async fn endpoint_failing(
        &self,
        endpoint: &Endpoint,
        error: &str,
        alert_after: Duration,
    ) -> Result<(), ServiceError> {
        let now = self.now();
        let due = {
            let mut all = self.inner.healths.0.lock().expect("health lock");
            let h = all.entry(endpoint.id).or_default();
            h.last_error = Some(error.to_string());
            h.last_error_at = Some(now);
            let since = *h.failing_since.get_or_insert(now);
            let after = i64::try_from(alert_after.as_millis()).unwrap_or(i64::MAX);
            (!h.alerted && now.0.saturating_sub(since.0) >= after).then_some(since)
        };
        if let Some(since) = due {
            let payload = json!({ "error": error, "failing_since": since });
            self.health_event(endpoint, Kind::EndpointFailing, now, payload).await?;
            self.update_health(endpoint.id, |h| h.alerted = true);
        }
        Ok(())
    }

    fn update_health(&self, id: EndpointId, change: impl FnOnce(&mut EndpointHealth)) {
        change(self.inner.healths.0.lock().expect("health lock").entry(id).or_default());
    }

    /// Forgets `endpoint`'s health: its channel no longer connects for it
    /// (disabled, deleted, its provider settings removed).
    pub fn forget_endpoint_health(&self, endpoint: EndpointId) {
        self.inner.healths.0.lock().expect("health lock").remove(&endpoint);
    }

    async fn health_event(
        &self,
        endpoint: &Endpoint,
        kind: Kind,
        at: Timestamp,
        mut payload: Value,
    ) -> Result<(), ServiceError> {
        payload["type"] = json!(kind.as_str());
        payload["endpoint"] = json!(endpoint.id);
        payload["channel"] = json!(endpoint.channel);
        payload["address"] = json!(endpoint.address);
        let event = NewEvent {
            workspace: endpoint.workspace,
            at,
            kind: kind.as_str().to_string(),
            contact: None,
            agent: None,
            queue: endpoint.queue,
            customer: None,
            payload,
        };
        self.commit_and_publish(vec![Change::Append(event)]).await?;
        Ok(())
    }
}
