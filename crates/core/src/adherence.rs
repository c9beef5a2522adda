//! Schedule adherence: what an agent was scheduled to do against what the
//! agent did, instant by instant.
//!
//! - Scheduled: **working** (on a shift, not on a break), on a **break**,
//!   or **off** (no shift).
//! - Actual: **working** when available, on a contact or in wrap-up (ready
//!   for or doing contact work); **not working** when away (whatever the
//!   reason) or offline.
//! - In adherence: working while scheduled to work, not working while
//!   scheduled for a break. Adherence = time in adherence / scheduled time
//!   (working + break). Time off the schedule counts in neither; working
//!   then is reported apart (`unscheduled_work_ms`).
//! - An **exception**: a stretch out of adherence for one reason (not
//!   working while scheduled to work, or working through a scheduled
//!   break) that lasts at least the workspace's threshold — what a
//!   supervisor is told of, as it happens and in reports.

use crate::agent::AgentState;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::ops::AddAssign;
use std::time::Duration;

/// What a span of the schedule asks of the agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Planned {
    Work,
    Break,
}

/// `[start, end)` of a schedule, of one activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: Timestamp,
    pub end: Timestamp,
    pub planned: Planned,
}

/// Whether an agent in `state` is doing contact work.
pub fn working(state: AgentState) -> bool {
    matches!(state, AgentState::Available | AgentState::OnContact | AgentState::WrapUp)
}

/// Additive times (ms) over a stretch of time; the ratio is derived.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Adherence {
    pub scheduled_work_ms: u64,
    pub scheduled_break_ms: u64,
    pub in_adherence_ms: u64,
    /// Working while scheduled off.
    pub unscheduled_work_ms: u64,
    /// Working at all, scheduled or not.
    pub worked_ms: u64,
}

impl AddAssign for Adherence {
    fn add_assign(&mut self, o: Adherence) {
        self.scheduled_work_ms += o.scheduled_work_ms;
        self.scheduled_break_ms += o.scheduled_break_ms;
        self.in_adherence_ms += o.in_adherence_ms;
        self.unscheduled_work_ms += o.unscheduled_work_ms;
        self.worked_ms += o.worked_ms;
    }
}

impl Adherence {
    pub fn scheduled_ms(&self) -> u64 {
        self.scheduled_work_ms + self.scheduled_break_ms
    }

    pub fn out_of_adherence_ms(&self) -> u64 {
        self.scheduled_ms() - self.in_adherence_ms
    }

    /// Time in adherence / scheduled time; `None` with nothing scheduled.
    pub fn adherence(&self) -> Option<f64> {
        let scheduled = self.scheduled_ms();
        (scheduled > 0).then(|| self.in_adherence_ms as f64 / scheduled as f64)
    }
}

/// Why an agent is out of adherence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Breach {
    /// Away or offline while scheduled to work.
    NotWorking,
    /// Available or on contacts during a scheduled break.
    WorkingOnBreak,
}

/// A stretch out of adherence for one reason that lasted at least the
/// threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Exception {
    pub start: Timestamp,
    /// `None` while it goes on at the end of the time looked at.
    pub end: Option<Timestamp>,
    pub breach: Breach,
}

/// A stretch of time with one planned activity (or none) and one state.
struct Piece {
    start: Timestamp,
    end: Timestamp,
    planned: Option<Planned>,
    state: AgentState,
}

/// `[from, to)` cut at every change of either the schedule or the state.
fn pieces(
    schedule: &[Span],
    initial: AgentState,
    changes: &[(Timestamp, AgentState)],
    from: Timestamp,
    to: Timestamp,
) -> Vec<Piece> {
    if to <= from {
        return Vec::new();
    }
    let mut cuts: Vec<Timestamp> = vec![from, to];
    cuts.extend(schedule.iter().flat_map(|s| [s.start, s.end]).filter(|t| from < *t && *t < to));
    cuts.extend(changes.iter().map(|c| c.0).filter(|t| from < *t && *t < to));
    cuts.sort_unstable();
    cuts.dedup();
    let mut state = initial;
    let mut next_change = 0;
    let mut span = 0;
    cuts.windows(2)
        .map(|piece| {
            let (start, end) = (piece[0], piece[1]);
            while next_change < changes.len() && changes[next_change].0 <= start {
                state = changes[next_change].1;
                next_change += 1;
            }
            while span < schedule.len() && schedule[span].end <= start {
                span += 1;
            }
            let planned = schedule.get(span).filter(|s| s.start <= start).map(|s| s.planned);
            Piece { start, end, planned, state }
        })
        .collect()
}

/// Adherence over `[from, to)`. `schedule` holds spans in order that do not
/// overlap (a break lies outside the work spans around it); `changes` holds
/// the agent's state changes in order, `(at, new state)`; before the first,
/// the agent is in `initial`.
pub fn measure(
    schedule: &[Span],
    initial: AgentState,
    changes: &[(Timestamp, AgentState)],
    from: Timestamp,
    to: Timestamp,
) -> Adherence {
    let mut out = Adherence::default();
    for Piece { start, end, planned, state } in pieces(schedule, initial, changes, from, to) {
        let ms = (end.0 - start.0) as u64;
        let busy = working(state);
        if busy {
            out.worked_ms += ms;
        }
        match planned {
            Some(Planned::Work) => {
                out.scheduled_work_ms += ms;
                if busy {
                    out.in_adherence_ms += ms;
                }
            }
            Some(Planned::Break) => {
                out.scheduled_break_ms += ms;
                if !busy {
                    out.in_adherence_ms += ms;
                }
            }
            None if busy => out.unscheduled_work_ms += ms,
            None => {}
        }
    }
    out
}

/// The exceptions over `[from, to)` (arguments as [`measure`]'s): every
/// stretch out of adherence for one reason lasting at least `threshold`,
/// in order. One still going on at `to` has no end; it is listed once it
/// has lasted the threshold by then.
pub fn exceptions(
    schedule: &[Span],
    initial: AgentState,
    changes: &[(Timestamp, AgentState)],
    from: Timestamp,
    to: Timestamp,
    threshold: Duration,
) -> Vec<Exception> {
    let mut stretches: Vec<(Timestamp, Timestamp, Breach)> = Vec::new();
    for p in pieces(schedule, initial, changes, from, to) {
        let breach = match (p.planned, working(p.state)) {
            (Some(Planned::Work), false) => Breach::NotWorking,
            (Some(Planned::Break), true) => Breach::WorkingOnBreak,
            _ => continue,
        };
        match stretches.last_mut() {
            Some(last) if last.1 == p.start && last.2 == breach => last.1 = p.end,
            _ => stretches.push((p.start, p.end, breach)),
        }
    }
    let least = i64::try_from(threshold.as_millis()).unwrap_or(i64::MAX);
    stretches
        .into_iter()
        .filter(|(start, end, _)| end.0 - start.0 >= least)
        .map(|(start, end, breach)| Exception { start, end: (end < to).then_some(end), breach })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn at(minutes: i64) -> Timestamp {
        Timestamp(minutes * MIN)
    }

    fn span(a: i64, b: i64, planned: Planned) -> Span {
        Span { start: at(a), end: at(b), planned }
    }

    /// 09:00–13:00 work, a break to 13:30, work to 17:30 (minutes of the day).
    fn day() -> Vec<Span> {
        vec![span(540, 780, Planned::Work), span(780, 810, Planned::Break), span(810, 1050, Planned::Work)]
    }

    #[test]
    fn a_day_as_scheduled_is_all_in_adherence() {
        let changes = [
            (at(540), AgentState::Available),
            (at(600), AgentState::OnContact),
            (at(610), AgentState::WrapUp),
            (at(615), AgentState::Available),
            (at(780), AgentState::Away),
            (at(810), AgentState::Available),
            (at(1050), AgentState::Offline),
        ];
        let a = measure(&day(), AgentState::Offline, &changes, at(0), at(1440));
        assert_eq!(a.scheduled_work_ms, 480 * MIN as u64);
        assert_eq!(a.scheduled_break_ms, 30 * MIN as u64);
        assert_eq!(a.in_adherence_ms, a.scheduled_ms());
        assert_eq!(a.adherence(), Some(1.0));
        assert_eq!(a.unscheduled_work_ms, 0);
    }

    #[test]
    fn late_in_early_break_and_overtime_are_counted() {
        let changes = [
            (at(555), AgentState::Available), // 15 minutes late
            (at(760), AgentState::Away),      // break 20 minutes early, back on time
            (at(810), AgentState::Available),
            (at(1080), AgentState::Offline), // 30 minutes over
        ];
        let a = measure(&day(), AgentState::Offline, &changes, at(0), at(1440));
        let out = (15 + 20) * MIN as u64;
        assert_eq!(a.out_of_adherence_ms(), out);
        assert_eq!(a.unscheduled_work_ms, 30 * MIN as u64);
        assert_eq!(a.adherence(), Some(1.0 - out as f64 / (510 * MIN) as f64));
        // Measured over the morning alone, starting in the state it was in.
        let morning = measure(&day(), AgentState::Offline, &changes, at(540), at(780));
        assert_eq!(morning.scheduled_work_ms, 240 * MIN as u64);
        assert_eq!(morning.in_adherence_ms, (240 - 35) * MIN as u64);
    }

    #[test]
    fn nothing_scheduled_has_no_adherence() {
        let a = measure(&[], AgentState::Available, &[], at(0), at(60));
        assert_eq!(a.adherence(), None);
        assert_eq!(a.unscheduled_work_ms, 60 * MIN as u64);
        assert_eq!(measure(&day(), AgentState::Offline, &[], at(60), at(60)), Adherence::default());
    }

    #[test]
    fn exceptions_are_stretches_out_of_adherence_past_the_threshold() {
        let five = Duration::from_secs(300);
        let changes = [
            (at(543), AgentState::Available), // 3 minutes late: under the threshold
            (at(700), AgentState::Away),      // away 10 minutes while scheduled to work
            (at(710), AgentState::Available),
            (at(780), AgentState::OnContact), // works through the break's first 8 minutes
            (at(788), AgentState::Away),
            (at(810), AgentState::Available),
            (at(1000), AgentState::Offline), // leaves 50 minutes early
        ];
        let all = exceptions(&day(), AgentState::Offline, &changes, at(0), at(1440), five);
        assert_eq!(
            all,
            [
                Exception { start: at(700), end: Some(at(710)), breach: Breach::NotWorking },
                Exception { start: at(780), end: Some(at(788)), breach: Breach::WorkingOnBreak },
                Exception { start: at(1000), end: Some(at(1050)), breach: Breach::NotWorking },
            ]
        );
        // Looked at while the agent is still gone: it goes on, with no end.
        let now = exceptions(&day(), AgentState::Offline, &changes, at(0), at(1010), five);
        assert_eq!(now.last(), Some(&Exception { start: at(1000), end: None, breach: Breach::NotWorking }));
        // Four minutes in, it is not one yet.
        let early = exceptions(&day(), AgentState::Offline, &changes, at(0), at(1004), five);
        assert_eq!(early.last().map(|e| e.start), Some(at(780)));
    }
}
