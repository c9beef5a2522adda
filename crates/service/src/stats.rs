//! Live figures for the wallboard and the API: per queue and per agent.
//! Each operation takes the caller's principal, checks its role, and
//! works inside its workspace only.

use super::{Service, ServiceError};
use crate::auth::Principal;
use serde::Serialize;
use std::collections::BTreeMap;
use switchboard_core::agent::{AgentState, Presence};
use switchboard_core::ids::{AgentId, ContactId, QueueId, UserId};
use switchboard_store::Role;

#[derive(Clone, Debug, Serialize)]
pub struct QueueStats {
    pub queue: QueueId,
    pub name: String,
    pub waiting: u32,
    pub callbacks: u32,
    pub oldest_wait_seconds: Option<f64>,
    pub agents: BTreeMap<AgentState, u32>,
    /// The queue's service-level threshold.
    pub sl_seconds: f64,
    /// Open contacts whose running first- or next-response target has
    /// passed without an agent's reply, or whose SLA policy's resolution
    /// target has passed.
    pub sla_breached_now: u64,
    /// Open contacts at risk: warned that a running target is about to pass
    /// (`sla_warning`), none breached.
    pub sla_at_risk_now: u64,
    /// Since midnight UTC, from the event log.
    #[serde(flatten)]
    pub today: super::today::QueueToday,
}

#[derive(Clone, Debug, Serialize)]
pub struct AgentStats {
    pub agent: UserId,
    pub presence: Presence,
    pub state: AgentState,
    pub seconds_in_state: f64,
    pub contacts: Vec<ContactId>,
    /// Contacts accepted since midnight UTC.
    pub handled_today: u64,
    /// Contacts this agent rejected or missed and is not offered again until
    /// the queue's decline cooldown ends, soonest first: why an available
    /// agent may sit idle beside a waiting contact.
    pub cooldowns: Vec<Cooldown>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Cooldown {
    pub contact: ContactId,
    pub seconds_left: f64,
}

impl Service {
    pub async fn queue_stats(&self, p: &Principal) -> Result<Vec<QueueStats>, ServiceError> {
        let (today, _) = self.today_by_queue(p.workspace).await?;
        self.load_response_clocks(p.workspace).await?;
        self.inspect(p.workspace, |c| {
            let now = self.now();
            let passing = self.passing_now(c);
            let mut out = Vec::new();
            let mut ids: Vec<_> = c.queues.keys().copied().collect();
            ids.sort();
            for q in ids {
                let snap = c.engine.queue_snapshot(q)?;
                let day = today.get(&Some(q)).cloned().unwrap_or_default();
                let sl_seconds = c.queues[&q].settings.get("sl_seconds").and_then(|v| v.as_f64()).unwrap_or(20.0);
                out.push(QueueStats {
                    queue: q,
                    name: c.queues[&q].name.clone(),
                    waiting: snap.waiting,
                    callbacks: snap.callbacks,
                    oldest_wait_seconds: snap.oldest_enqueued_at.map(|t| now.since(t).as_secs_f64()),
                    agents: snap.agents,
                    sl_seconds,
                    sla_breached_now: passing.get(&q).map_or(0, |n| n.0),
                    sla_at_risk_now: passing.get(&q).map_or(0, |n| n.1),
                    today: day,
                });
            }
            Ok(out)
        })
        .await?
    }

    pub async fn agent_stats(&self, p: &Principal) -> Result<Vec<AgentStats>, ServiceError> {
        let own = (p.role == Role::Agent).then_some(p.user);
        let (_, handled) = self.today_by_queue(p.workspace).await?;
        let now = self.now();
        self.inspect(p.workspace, move |c| {
            let mut ids: Vec<_> = c.agents.keys().copied().filter(|u| own.is_none_or(|o| o == *u)).collect();
            ids.sort();
            ids.into_iter()
                .map(|u| {
                    let s = c.engine.agent_snapshot(AgentId(u.0))?;
                    let cooldowns = c.engine.cooldowns(AgentId(u.0), now)?;
                    Ok(AgentStats {
                        agent: u,
                        presence: s.presence,
                        state: s.state,
                        seconds_in_state: now.since(s.state_since).as_secs_f64(),
                        contacts: s.contacts.iter().map(|x| x.0).collect(),
                        handled_today: handled.get(&u).copied().unwrap_or(0),
                        cooldowns: cooldowns
                            .into_iter()
                            .map(|(contact, until)| Cooldown { contact, seconds_left: until.since(now).as_secs_f64() })
                            .collect(),
                    })
                })
                .collect()
        })
        .await?
    }
}
