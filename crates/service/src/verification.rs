//! Caller verification: the customer's PIN (kept as an argon2 hash, set
//! through the customer API and never shown back) and the check a flow's
//! `verify` block asks for. What an answer must be to match an attribute
//! is pure and lives in `switchboard_core::flow::verify`; the outcome is
//! recorded on the contact by the conversation seam (a `verification`
//! event and the `verified` attribute routing reads as `contact.verified`).
//!
//! PINs are `customer_pin` documents whose id is the customer's id.

use super::{Service, ServiceError, audit, auth, require};
use crate::auth::Principal;
use serde::{Deserialize, Serialize};
use switchboard_core::flow::verify::{self, Checked};
use switchboard_core::flow::{Check, DateOrder};
use switchboard_core::ids::{CustomerId, WorkspaceId};
use switchboard_store::{Change, Document, Role, StoreError};

const KIND: &str = "customer_pin";

/// The contact attribute that says a verification passed (`true`) or did
/// not (`false`); absent when none was attempted. Only the seam sets it: a
/// form field or a flow variable of that name is dropped, so a customer
/// cannot claim to be verified.
pub const VERIFIED_ATTRIBUTE: &str = "verified";

/// What a supervisor sets.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinUpdate {
    pub pin: String,
}

// Never print a PIN.
impl std::fmt::Debug for PinUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinUpdate").finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct Body {
    hash: String,
}

impl Service {
    /// Sets a customer's PIN (4 to 12 digits): supervisors and admins. Only
    /// its argon2 hash is kept; the audit entry names the customer.
    pub async fn put_customer_pin(&self, p: &Principal, id: CustomerId, update: PinUpdate) -> Result<(), ServiceError> {
        require(p, Role::Supervisor)?;
        if !verify::valid_pin(&update.pin) {
            return Err(ServiceError::invalid("pin", "4 to 12 digits"));
        }
        let customer = self.customer(p, id).await?.customer.id;
        let hash = tokio::task::spawn_blocking(move || auth::hash_password(&update.pin))
            .await
            .map_err(|e| ServiceError::invalid("pin", e.to_string()))?;
        let now = self.now();
        let doc = Document {
            workspace: p.workspace,
            kind: KIND.into(),
            id: customer.0,
            body: serde_json::to_value(Body { hash }).map_err(StoreError::from)?,
            updated_at: now,
        };
        let target = format!("customer/{}", customer.0);
        self.commit_and_publish(vec![Change::PutDocument(doc), audit::entry(p, now, "put_customer_pin", target)])
            .await?;
        Ok(())
    }

    /// Removes a customer's PIN: a PIN check then has nothing to check.
    pub async fn delete_customer_pin(&self, p: &Principal, id: CustomerId) -> Result<(), ServiceError> {
        require(p, Role::Supervisor)?;
        let customer = self.customer(p, id).await?.customer.id;
        if self.store().document(p.workspace, KIND, customer.0).await?.is_none() {
            return Err(ServiceError::NotFound(format!("PIN of customer {}", customer.0)));
        }
        let now = self.now();
        let target = format!("customer/{}", customer.0);
        self.commit_and_publish(vec![
            Change::DeleteDocument { workspace: p.workspace, kind: KIND.into(), id: customer.0 },
            audit::entry(p, now, "delete_customer_pin", target),
        ])
        .await?;
        Ok(())
    }

    /// Checks a `verify` block's `answer` for `customer` (of the contact):
    /// against the PIN's hash, or the attribute. No customer, no PIN set or
    /// no such attribute is [`Checked::Unavailable`].
    pub(crate) async fn check_answer(
        &self,
        ws: WorkspaceId,
        customer: Option<CustomerId>,
        check: Check,
        attribute: Option<&str>,
        order: DateOrder,
        answer: String,
    ) -> Result<Checked, ServiceError> {
        let Some(customer) = customer else { return Ok(Checked::Unavailable) };
        let Some(record) = self.surviving_customer(ws, customer).await? else { return Ok(Checked::Unavailable) };
        if check != Check::Pin {
            let stored = attribute.and_then(|a| record.attributes.get(a));
            return Ok(verify::compare(check, order, &answer, stored));
        }
        let Some(doc) = self.store().document(ws, KIND, record.id.0).await? else { return Ok(Checked::Unavailable) };
        let body: Body = serde_json::from_value(doc.body).map_err(StoreError::from)?;
        // argon2 takes tens of milliseconds of CPU: off the async threads.
        // A check that could not run is no match.
        let matched =
            tokio::task::spawn_blocking(move || auth::verify_password(&answer, &body.hash)).await.unwrap_or(false);
        Ok(if matched { Checked::Match } else { Checked::Mismatch })
    }
}
