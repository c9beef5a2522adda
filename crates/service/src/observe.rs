//! What `/metrics` reads from the service: the live state of the loaded
//! workspaces (contacts by state, queue depth, agents by state) and the
//! counters the service keeps.

use super::Service;
use crate::metrics::{AGENT_STATES, LIVE_STATES, Observed, QueueGauge, WorkspaceGauges};
use std::collections::BTreeMap;
use switchboard_core::agent::AgentState;
use switchboard_core::ids::{AgentId, QueueId};
use switchboard_store::ContactState;

impl Service {
    /// The service's counters and latency histograms.
    pub fn observed(&self) -> &Observed {
        &self.inner.observed
    }

    /// The loaded workspaces' live state, by workspace id. Each center is
    /// locked only while it is read.
    pub async fn gauges(&self) -> Vec<WorkspaceGauges> {
        let mut loaded: Vec<_> =
            self.inner.centers.lock().expect("centers lock").iter().map(|(ws, c)| (*ws, c.clone())).collect();
        loaded.sort_by_key(|(ws, _)| *ws);
        let now = self.now();
        let mut out = Vec::with_capacity(loaded.len());
        for (workspace, center) in loaded {
            let c = center.lock().await;
            let mut contacts: Vec<(ContactState, u64)> = LIVE_STATES.iter().map(|s| (*s, 0)).collect();
            for record in c.contacts.values() {
                match contacts.iter_mut().find(|(s, _)| *s == record.state) {
                    Some((_, n)) => *n += 1,
                    None => contacts.push((record.state, 1)),
                }
            }
            let mut ids: Vec<QueueId> = c.queues.keys().copied().collect();
            ids.sort();
            let queues = ids
                .into_iter()
                .filter_map(|q| c.engine.queue_snapshot(q).ok())
                .map(|s| QueueGauge {
                    queue: s.id,
                    waiting: s.waiting,
                    callbacks: s.callbacks,
                    oldest_wait_seconds: s.oldest_enqueued_at.map_or(0.0, |t| now.since(t).as_secs_f64()),
                })
                .collect();
            let mut agents: BTreeMap<AgentState, u64> = AGENT_STATES.iter().map(|s| (*s, 0)).collect();
            for user in c.agents.keys() {
                if let Ok(a) = c.engine.agent_snapshot(AgentId(user.0)) {
                    *agents.entry(a.state).or_default() += 1;
                }
            }
            out.push(WorkspaceGauges { workspace, contacts, queues, agents });
        }
        out
    }
}
