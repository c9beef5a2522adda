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

use crate::agent::AgentState;
use crate::time::Timestamp;
use serde::Serialize;
use std::ops::AddAssign;

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
    if to <= from {
        return out;
    }
    // The stretch is cut at every change of either side; each piece has one
    // planned activity (or none) and one state.
    let mut cuts: Vec<Timestamp> = vec![from, to];
    cuts.extend(schedule.iter().flat_map(|s| [s.start, s.end]).filter(|t| from < *t && *t < to));
    cuts.extend(changes.iter().map(|c| c.0).filter(|t| from < *t && *t < to));
    cuts.sort_unstable();
    cuts.dedup();
    let mut state_at = initial;
    let mut next_change = 0;
    let mut span = 0;
    for piece in cuts.windows(2) {
        let (start, end) = (piece[0], piece[1]);
        while next_change < changes.len() && changes[next_change].0 <= start {
            state_at = changes[next_change].1;
            next_change += 1;
        }
        while span < schedule.len() && schedule[span].end <= start {
            span += 1;
        }
        let planned = schedule.get(span).filter(|s| s.start <= start).map(|s| s.planned);
        let ms = (end.0 - start.0) as u64;
        let busy = working(state_at);
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
}
