//! The workspace's routing configuration as the simulator takes it, shared
//! by the what-if replays and the simulated staffing: the simulator numbers
//! queues from 1, and handle times from history already hold the wrap-up
//! (talk and wrap-up per handled contact), so the queues' and agents' own
//! wrap-up is not added again.

use crate::center::Replica;
use std::collections::HashMap;
use std::time::Duration;
use switchboard_core::agent::{AgentConfig, Membership};
use switchboard_core::ids::{AgentId, QueueId};
use switchboard_core::metrics::DEFAULT_SHORT_ABANDON;
use switchboard_core::policy::Policy;
use switchboard_core::queue::{OverflowAction, QueueConfig, WrapUp};
use switchboard_core::sim::Compiled;
use switchboard_core::time::Timestamp;

pub(super) struct SimConfig {
    /// In the replica's order, numbered from 1.
    pub queues: Vec<QueueConfig>,
    pub policies: Vec<Policy>,
    /// The workspace's queue id → the simulator's.
    index: HashMap<QueueId, QueueId>,
    /// The workspace's queue ids in the simulator's order.
    ids: Vec<QueueId>,
}

impl SimConfig {
    pub fn new(replica: &Replica) -> SimConfig {
        let index: HashMap<QueueId, QueueId> =
            replica.queues.iter().enumerate().map(|(i, q)| (q.id, QueueId(i as u64 + 1))).collect();
        let queues = replica
            .queues
            .iter()
            .map(|q| {
                let mut q = q.clone();
                q.id = index[&q.id];
                let moved = |a: OverflowAction| match a {
                    OverflowAction::Queue(t) => {
                        index.get(&t).copied().map_or(OverflowAction::Disconnect, OverflowAction::Queue)
                    }
                    other => other,
                };
                q.overflow = moved(q.overflow);
                q.after_hours = moved(q.after_hours);
                q.wrap_up = WrapUp::Fixed(Duration::ZERO);
                q
            })
            .collect();
        SimConfig {
            queues,
            policies: replica.policies.clone(),
            index,
            ids: replica.queues.iter().map(|q| q.id).collect(),
        }
    }

    /// The simulator's id of a workspace's queue.
    pub fn queue(&self, q: QueueId) -> Option<QueueId> {
        self.index.get(&q).copied()
    }

    /// The workspace's queue at a simulator's index (0-based).
    pub fn workspace_queue(&self, i: usize) -> QueueId {
        self.ids[i]
    }

    /// An agent with memberships in the simulator's numbers (those of
    /// queues the simulation does not have dropped) and no wrap-up of
    /// their own.
    pub fn agent(&self, a: &AgentConfig) -> AgentConfig {
        let mut a = a.clone();
        a.memberships = a
            .memberships
            .iter()
            .filter_map(|m| self.queue(m.queue).map(|queue| Membership { queue, ..m.clone() }))
            .collect();
        a.wrap_up = None;
        a
    }

    /// A run over `[start, end)` with neither agents nor contacts yet,
    /// going on for `drain` after the end to finish its contacts.
    pub fn run(&self, start: i64, end: i64, offset_minutes: i32, interval: Duration, drain: Duration) -> Compiled {
        Compiled {
            seed: 0,
            start: Timestamp(start),
            offset_minutes,
            end: Timestamp(end),
            interval,
            intervals: ((end - start).max(0) as u128).div_ceil(interval.as_millis()).max(1) as usize,
            warmup_end: Timestamp(start),
            drain_end: Timestamp(end) + drain,
            short_abandon: DEFAULT_SHORT_ABANDON,
            queue_names: self.queues.iter().map(|q| q.name.clone()).collect(),
            policies: self.policies.clone(),
            queues: self.queues.clone(),
            streams: Vec::new(),
            agents: Vec::new(),
            groups: Vec::new(),
            replay: Vec::new(),
        }
    }
}

/// Numbers a run's agents 1, 2, … as the simulator wants them.
pub(super) fn number_agents(c: &mut Compiled) {
    for (i, a) in c.agents.iter_mut().enumerate() {
        a.config.id = AgentId(i as u64 + 1);
    }
}
