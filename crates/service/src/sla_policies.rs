//! SLA policies: named sets of targets an automation rule puts a
//! conversation under (`apply_sla_policy`) when its conditions hold — a VIP
//! customer, an email, a subject — instead of its queue's response targets.
//!
//! A policy is a document of the workspace (`/sla-policies`, admins write
//! it). Applying one is a `sla_policy_applied` event on the contact that
//! carries the policy as it is then: the clocks (`sla.rs`)
//! follow that event, so editing a policy changes the conversations it is
//! applied to afterwards, never the running ones, and a restart reads the
//! same targets back from the log.

use crate::ServiceError;
use crate::documents::DocumentBody;
use crate::settings::{ResponseTargets, response_target};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use switchboard_core::calendar::Calendar;
use switchboard_core::rules::Action;

/// The longest description, in characters.
const MAX_DESCRIPTION: usize = 1_000;

/// An SLA policy as admins write it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaPolicy {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The longest the customer's first message may wait for an agent's reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_seconds: Option<f64>,
    /// The same for each customer message after an agent's reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_response_seconds: Option<f64>,
    /// The longest from the conversation's opening to its end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_seconds: Option<f64>,
    /// How long before any of the targets passes the conversation is at
    /// risk (one `sla_warning`); none for no warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning_seconds: Option<f64>,
    /// Counted in the conversation's queue's business hours (paused while
    /// it is closed) rather than around the clock.
    #[serde(default)]
    pub business_hours_only: bool,
}

impl SlaPolicy {
    /// The targets the clocks count with; `queue_hours` is the calendar of
    /// the conversation's queue, used when the policy says business hours.
    /// (Checked when the policy was saved; a value that no longer passes
    /// the checks sets no target.)
    pub fn response_targets(&self, queue_hours: Option<&Calendar>) -> ResponseTargets {
        let secs = |v: Option<f64>| v.and_then(|v| Duration::try_from_secs_f64(v).ok());
        ResponseTargets {
            first: secs(self.first_response_seconds),
            next: secs(self.next_response_seconds),
            resolution: secs(self.resolution_seconds),
            warning: secs(self.warning_seconds),
            calendar: if self.business_hours_only { queue_hours.cloned() } else { None },
        }
    }
}

impl DocumentBody for SlaPolicy {
    const KIND: &'static str = "sla_policy";
    const PLURAL: &'static str = "sla_policies";

    fn validate(&mut self) -> Result<(), ServiceError> {
        self.name = crate::names::name("name", &self.name)?;
        if !self.description.trim().is_empty() {
            self.description = crate::names::text("description", &self.description, MAX_DESCRIPTION)?;
        }
        let checked = |field, v| response_target(field, v).map_err(|e| ServiceError::invalid(e.field, e.message));
        let first = checked("first_response_seconds", self.first_response_seconds)?;
        let next = checked("next_response_seconds", self.next_response_seconds)?;
        let resolution = checked("resolution_seconds", self.resolution_seconds)?;
        checked("warning_seconds", self.warning_seconds)?;
        if first.is_none() && next.is_none() && resolution.is_none() {
            return Err(ServiceError::invalid(
                "first_response_seconds",
                "a policy needs a first-response, next-response or resolution target",
            ));
        }
        Ok(())
    }

    fn unique(&self) -> Option<(&'static str, String)> {
        Some(("name", self.name.clone()))
    }

    fn named_by(action: &Action) -> Option<u64> {
        match action {
            Action::ApplySlaPolicy { policy } => Some(*policy),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(body: serde_json::Value) -> SlaPolicy {
        serde_json::from_value(body).unwrap()
    }

    fn field(mut p: SlaPolicy) -> String {
        match p.validate() {
            Err(ServiceError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_policy_has_a_name_and_at_least_one_target_within_bounds() {
        let mut ok = policy(json!({ "name": " VIP ", "resolution_seconds": 86400 }));
        ok.validate().unwrap();
        assert_eq!(ok.name, "VIP");
        assert_eq!(field(policy(json!({ "name": "", "first_response_seconds": 600 }))), "name");
        assert_eq!(field(policy(json!({ "name": "Nothing" }))), "first_response_seconds");
        assert_eq!(field(policy(json!({ "name": "Fast", "first_response_seconds": 10 }))), "first_response_seconds");
        assert_eq!(field(policy(json!({ "name": "Fast", "next_response_seconds": -1 }))), "next_response_seconds");
        assert_eq!(
            field(policy(json!({ "name": "Fast", "resolution_seconds": 400.0 * 86400.0 }))),
            "resolution_seconds"
        );
        assert_eq!(
            field(policy(json!({ "name": "Fast", "first_response_seconds": 600, "warning_seconds": 0 }))),
            "warning_seconds"
        );
    }

    #[test]
    fn business_hours_come_from_the_queue_only_when_the_policy_asks() {
        let hours: Calendar = serde_json::from_value(json!({ "time_zone": "UTC", "weekly": {} })).unwrap();
        let mut t = policy(json!({ "name": "P", "first_response_seconds": 600 }));
        assert_eq!(t.response_targets(Some(&hours)).calendar, None);
        t.business_hours_only = true;
        let counted = t.response_targets(Some(&hours));
        assert_eq!((counted.first, counted.calendar), (Some(Duration::from_secs(600)), Some(hours)));
    }
}
