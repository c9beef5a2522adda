//! Real-time adherence: agents on a published shift who are not doing what
//! it asks (away or offline while scheduled to work, working through a
//! scheduled break) for longer than the workspace's threshold.
//!
//! The service's ticker looks every `CHECK_EVERY_MS` of its clock: each
//! agent's exceptions over the last day, by core's definition
//! (`adherence::exceptions`), against those the log holds as started and
//! not ended (the rollup folds `adherence_exception` events). One going on
//! that the log does not have is logged `started`; one the log has that no
//! longer goes on is logged `ended`, with when its stretch ended. Since the
//! log is the memory, a restart neither repeats an exception nor loses its
//! end. Supervisors read the ones going on (`adherence_now`) on the
//! wallboard.

use crate::auth::Principal;
use crate::kinds::Kind;
use crate::reports::adherence::{LONGEST_SHIFT_MS, schedules, state_changes};
use crate::{Service, ServiceError, require};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;
use switchboard_core::adherence::{self, Breach, Exception};
use switchboard_core::ids::{UserId, WorkspaceId};
use switchboard_core::time::Timestamp;
use switchboard_store::{Change, NewEvent, Role};

/// How often the ticker looks, on the service's clock: a threshold is
/// minutes, so an exception is logged at most this late.
const CHECK_EVERY_MS: i64 = 15_000;

/// When each workspace was last looked at (ms of the service's clock), and
/// whether it had shifts or open exceptions then: one with neither is not
/// looked at again until it has shifts, sparing the rollup's catch-up.
#[derive(Default)]
pub(crate) struct Checked(std::sync::Mutex<HashMap<WorkspaceId, (i64, bool)>>);

/// An agent out of adherence now.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct OutOfAdherence {
    pub agent: UserId,
    pub name: String,
    pub breach: Breach,
    /// When the stretch began (ms).
    pub since: i64,
    pub seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct AdherenceNow {
    pub at: i64,
    pub threshold_seconds: f64,
    /// Longest out first.
    pub agents: Vec<OutOfAdherence>,
}

/// What one look found.
struct Looked {
    /// The workspace's threshold.
    threshold: Duration,
    /// Per agent with a shift in the last day: the exceptions up to now.
    exceptions: BTreeMap<UserId, Vec<Exception>>,
    /// The log's exceptions started and not ended: their `since`.
    open: HashMap<UserId, i64>,
}

impl Service {
    /// Each agent's exceptions over the day to `now`; `None` without shifts
    /// in it when `quiet` (nothing was open at the last look), before the
    /// threshold or the rollup is read.
    async fn look(&self, ws: WorkspaceId, now: Timestamp, quiet: bool) -> Result<Option<Looked>, ServiceError> {
        let from = now.0 - LONGEST_SHIFT_MS;
        let shifts = self.store().roster(ws, Timestamp(from), Timestamp(now.0 + 1), None).await?;
        if quiet && shifts.is_empty() {
            return Ok(None);
        }
        let threshold = self.adherence_threshold(ws).await?;
        let schedules = schedules(&shifts);
        let rollup = self.rollup(ws).await?;
        let exceptions = schedules
            .iter()
            .map(|(agent, schedule)| {
                let timeline = rollup.timelines.get(agent).map_or(&[][..], |v| v);
                // Up to the end of this very millisecond: a change logged at
                // it ends a stretch now, not at the next look.
                let to = now.0 + 1;
                let (initial, changes) = state_changes(timeline, from, to);
                let found =
                    adherence::exceptions(schedule, initial, &changes, Timestamp(from), Timestamp(to), threshold);
                (*agent, found)
            })
            .collect();
        Ok(Some(Looked { threshold, exceptions, open: rollup.adherence_open.clone() }))
    }

    /// The ticker's look at one workspace (see the module's comment): the
    /// exceptions started and ended since the last, committed.
    pub(crate) async fn check_adherence(&self, ws: WorkspaceId) -> Result<(), ServiceError> {
        let now = self.now();
        let quiet = {
            let checked = self.inner.adherence_checked.0.lock().expect("adherence lock");
            match checked.get(&ws) {
                Some((at, _)) if (0..CHECK_EVERY_MS).contains(&(now.0 - at)) => return Ok(()),
                Some((_, busy)) => !busy,
                None => false,
            }
        };
        let looked = self.look(ws, now, quiet).await?;
        let busy = looked.as_ref().is_some_and(|l| !l.exceptions.is_empty() || !l.open.is_empty());
        self.inner.adherence_checked.0.lock().expect("adherence lock").insert(ws, (now.0, busy));
        let Some(Looked { exceptions, open, .. }) = looked else { return Ok(()) };
        let agents: BTreeSet<UserId> = exceptions.keys().chain(open.keys()).copied().collect();
        let mut changes = Vec::new();
        for agent in agents {
            let list = exceptions.get(&agent).map_or(&[][..], |v| v);
            let going = list.last().filter(|e| e.end.is_none());
            let logged = open.get(&agent).copied();
            if let Some(since) = logged
                && going.is_none_or(|g| g.start.0 != since)
            {
                // Its stretch's end; now when the shift it was on is gone.
                let was = list.iter().find(|e| e.start.0 == since);
                let until = was.and_then(|e| e.end).unwrap_or(now).0;
                let mut payload = json!({
                    "type": Kind::AdherenceException.as_str(),
                    "phase": "ended",
                    "since": since,
                    "until": until,
                    "seconds": (until - since) as f64 / 1000.0,
                });
                if let Some(e) = was {
                    payload["breach"] = json!(e.breach);
                }
                changes.push(event(ws, now, agent, payload));
            }
            if let Some(g) = going
                && logged != Some(g.start.0)
            {
                let payload = json!({
                    "type": Kind::AdherenceException.as_str(),
                    "phase": "started",
                    "since": g.start.0,
                    "breach": g.breach,
                });
                changes.push(event(ws, now, agent, payload));
            }
        }
        if !changes.is_empty() {
            self.commit_and_publish(changes).await?;
        }
        Ok(())
    }

    /// The agents out of adherence past the threshold now, longest first
    /// (supervisors): the wallboard's list. Counted afresh, so it does not
    /// wait for the ticker.
    pub async fn adherence_now(&self, p: &Principal) -> Result<AdherenceNow, ServiceError> {
        require(p, Role::Supervisor)?;
        let ws = p.workspace;
        let now = self.now();
        let (threshold, exceptions) = match self.look(ws, now, true).await? {
            Some(looked) => (looked.threshold, looked.exceptions),
            None => (self.adherence_threshold(ws).await?, BTreeMap::new()),
        };
        let names: HashMap<UserId, String> =
            self.store().users(ws).await?.into_iter().map(|u| (u.id, u.name)).collect();
        let mut agents: Vec<OutOfAdherence> = exceptions
            .into_iter()
            .filter_map(|(agent, list)| {
                let going = list.last().filter(|e| e.end.is_none())?;
                Some(OutOfAdherence {
                    agent,
                    name: names.get(&agent).cloned().unwrap_or_default(),
                    breach: going.breach,
                    since: going.start.0,
                    seconds: (now.0 - going.start.0) as f64 / 1000.0,
                })
            })
            .collect();
        agents.sort_by_key(|a| (a.since, a.agent.0));
        Ok(AdherenceNow { at: now.0, threshold_seconds: threshold.as_secs_f64(), agents })
    }
}

fn event(ws: WorkspaceId, at: Timestamp, agent: UserId, payload: serde_json::Value) -> Change {
    Change::Append(NewEvent {
        workspace: ws,
        at,
        kind: Kind::AdherenceException.as_str().into(),
        contact: None,
        agent: Some(agent),
        queue: None,
        customer: None,
        payload,
    })
}
