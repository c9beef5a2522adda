//! Planning from the workspace's own history: a queue's forecast per
//! interval, the agents each interval needs, and shifts that cover them;
//! and what-if replays of a past day ([`whatif`]).
//!
//! The history is the reports' rollup of the event log (contacts offered
//! and handle time per interval), so the forecast starts from the same
//! figures the Reports page shows. The forecast and staffing are core's
//! (`forecast`, `plan`), the shifts `switchboard-planning`'s. Planners'
//! adjustments and shift templates are documents of the workspace: each
//! change is committed with an audit event.

mod history;
pub mod roster;
pub mod simulated;
mod simulation;
pub mod whatif;

use crate::auth::Principal;
use crate::documents::{DocumentBody, Stored};
use crate::reports::intervals::local_label;
use crate::settings::QueueSettings;
use crate::{Service, ServiceError, require};
use chrono::{LocalResult, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use switchboard_core::calendar::Calendar;
use switchboard_core::forecast::{self, Adjustment, Evaluation, Grid, Method, Observation};
use switchboard_core::ids::{QueueId, WorkspaceId};
use switchboard_core::plan::{self, Targets};
use switchboard_core::time::Timestamp;
use switchboard_planning::schedule;
pub use switchboard_planning::schedule::ShiftTemplate;
use switchboard_store::{QueueRecord, Role};

/// How long the shift search may take per request (it answers a page).
const SCHEDULE_BUDGET: Duration = Duration::from_secs(3);
/// Local times in adjustments: minutes, or seconds too.
const LOCAL_FORMATS: [&str; 2] = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"];

/// A planner's change to a queue's forecast: intervals starting in
/// `[from, to)` (local times of the workspace) get `change_percent` more.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanningAdjustment {
    /// The queue's id; every queue when left out.
    #[serde(default)]
    pub queue: Option<QueueId>,
    /// `2026-12-07T08:00`, in the workspace's time zone.
    pub from: String,
    pub to: String,
    /// +20 for 20 % more, −50 for half.
    pub change_percent: f64,
    #[serde(default)]
    pub note: String,
}

impl DocumentBody for PlanningAdjustment {
    const KIND: &'static str = "planning_adjustment";
    const PLURAL: &'static str = "adjustments";
    const WRITER: Role = Role::Supervisor;

    fn validate(&mut self) -> Result<(), ServiceError> {
        let from = local_time("from", &self.from)?;
        let to = local_time("to", &self.to)?;
        if to <= from {
            return Err(ServiceError::invalid("to", "must be after from"));
        }
        if !(self.change_percent.is_finite() && (-100.0..=1000.0).contains(&self.change_percent)) {
            return Err(ServiceError::invalid("change_percent", "a number from -100 to 1000"));
        }
        self.from = from.format(LOCAL_FORMATS[0]).to_string();
        self.to = to.format(LOCAL_FORMATS[0]).to_string();
        if !self.note.trim().is_empty() {
            self.note = crate::names::line("note", &self.note, 500)?;
        }
        Ok(())
    }
}

fn local_time(field: &str, text: &str) -> Result<NaiveDateTime, ServiceError> {
    LOCAL_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text.trim(), f).ok())
        .ok_or_else(|| ServiceError::invalid(field, "a local time such as 2026-12-07T08:00"))
}

/// The instant of a local time; in the hour the clocks skip, the first
/// minute after it; in the hour they repeat, the first.
fn instant(zone: Tz, local: NaiveDateTime) -> Timestamp {
    (0..=180)
        .find_map(|m| match zone.from_local_datetime(&(local + chrono::Duration::minutes(m))) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(Timestamp(t.timestamp_millis())),
            LocalResult::None => None,
        })
        .unwrap_or(Timestamp(local.and_utc().timestamp_millis()))
}

/// Shift templates are documents too: planners keep them.
impl DocumentBody for ShiftTemplate {
    const KIND: &'static str = "shift_template";
    const PLURAL: &'static str = "shifts";
    const WRITER: Role = Role::Supervisor;

    fn validate(&mut self) -> Result<(), ServiceError> {
        self.name = crate::names::line("name", &self.name, 200)?;
        // The finest grid a plan has: a template must fit it.
        self.check(15).map_err(|e| ServiceError::invalid("shift", e.to_string()))
    }

    fn unique(&self) -> Option<(&'static str, String)> {
        Some(("name", self.name.clone()))
    }
}

/// How far a plan goes: each step needs the one before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Depth {
    Forecast,
    Staffing,
    Schedule,
}

#[derive(Clone, Debug)]
pub struct PlanningRequest {
    pub queue: QueueId,
    /// Weeks to plan, from today.
    pub weeks: u32,
    /// 15, 30 or 60.
    pub interval_minutes: u32,
    /// The queue's own target (`sl_target_percent`) when not given.
    pub sl_target: Option<f64>,
    pub shrinkage: f64,
    pub depth: Depth,
}

impl PlanningRequest {
    fn check(&self) -> Result<(), ServiceError> {
        if !(1..=8).contains(&self.weeks) {
            return Err(ServiceError::invalid("weeks", "from 1 to 8"));
        }
        check_targets(self.interval_minutes, self.sl_target, self.shrinkage)
    }
}

/// The checks every plan's request shares.
fn check_targets(interval_minutes: u32, sl_target: Option<f64>, shrinkage: f64) -> Result<(), ServiceError> {
    if ![15, 30, 60].contains(&interval_minutes) {
        return Err(ServiceError::invalid("interval", "15m, 30m or 60m"));
    }
    if sl_target.is_some_and(|t| !(t > 0.0 && t < 1.0)) {
        return Err(ServiceError::invalid("sl_target", "a fraction between 0 and 1, e.g. 0.8"));
    }
    if !(0.0..0.95).contains(&shrinkage) {
        return Err(ServiceError::invalid("shrinkage", "a fraction from 0 to 0.95, e.g. 0.3"));
    }
    Ok(())
}

/// What a queue's forecast is made from.
struct ForecastInputs {
    settings: QueueSettings,
    calendar: Option<Calendar>,
    /// Its history, to yesterday.
    observations: Vec<Observation>,
    /// The planners' adjustments that apply to it, and as factors.
    adjustments: Vec<Stored<PlanningAdjustment>>,
    factors: Vec<Adjustment>,
}

/// A queue's plan: the forecast, and as deep as asked the staffing and the
/// shifts.
#[derive(Debug, Serialize)]
pub struct Planning {
    pub queue: QueueId,
    pub queue_name: String,
    pub time_zone: String,
    pub interval_minutes: u32,
    /// The history the forecast is fitted on: [from, to), ms.
    pub history_from: i64,
    pub history_to: i64,
    pub method: Method,
    /// Each method on the held-out last week of history (WAPE, MAPE, bias).
    pub evaluation: Option<Evaluation>,
    /// Staffing targets: SL within `sl_seconds` (the queue's threshold).
    pub sl_target: f64,
    pub sl_seconds: f64,
    pub shrinkage: f64,
    pub intervals: Vec<PlanInterval>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totals: Option<Totals>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleView>,
    /// The adjustments that apply to this queue.
    pub adjustments: Vec<Stored<PlanningAdjustment>>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct PlanInterval {
    pub start: i64,
    pub start_local: String,
    pub offered: f64,
    pub aht_seconds: Option<f64>,
    /// False where the queue's calendar is closed: nothing is forecast.
    pub open: bool,
    /// The product of the adjustments applied, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adjusted: Option<f64>,
    /// Agents on the phones (or chats) the service-level target needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agents: Option<u32>,
    /// Agents to schedule: `agents` plus shrinkage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_level: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occupancy: Option<f64>,
    /// Agents the shifts put to work (not on a break).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled: Option<u32>,
    /// `scheduled − required`: over (positive) or under (negative).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub over_under: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct Totals {
    pub offered: f64,
    pub agent_hours: f64,
    /// Paid hours of the requirement (with shrinkage).
    pub required_hours: f64,
    pub peak_agents: u32,
    pub peak_required: u32,
}

#[derive(Debug, Serialize)]
pub struct ScheduleView {
    /// `None` when the workspace has no shift templates or no schedule
    /// covers the plan: `problem` says why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    pub shifts: Vec<ShiftView>,
    pub paid_hours: f64,
    /// No schedule can do with fewer paid hours.
    pub lower_bound_hours: f64,
    pub gap: f64,
    pub method: Option<schedule::Method>,
    /// Intervals needing agents that no shift template can work (they stay
    /// under); the shifts cover the rest.
    pub uncovered: Vec<IntervalView>,
}

#[derive(Debug, Serialize)]
pub struct IntervalView {
    pub start: i64,
    pub start_local: String,
}

#[derive(Debug, Serialize)]
pub struct ShiftView {
    pub template: String,
    pub start: i64,
    pub start_local: String,
    pub agents: u32,
    pub paid_hours: f64,
}

impl Service {
    /// A queue's plan (supervisors and admins).
    pub async fn planning(&self, p: &Principal, r: &PlanningRequest) -> Result<Planning, ServiceError> {
        require(p, Role::Supervisor)?;
        r.check()?;
        let ws = p.workspace;
        let zone = self.time_zone(ws).await?;
        let queue = self
            .store()
            .queues(ws)
            .await?
            .into_iter()
            .find(|q| q.id == r.queue)
            .ok_or_else(|| ServiceError::NotFound(format!("queue {}", r.queue.0)))?;
        let grid = Grid::new(zone, r.interval_minutes).map_err(|e| ServiceError::invalid("interval", e.to_string()))?;
        let today = crate::reports::intervals::local_day(zone, self.now().0).0;
        let ForecastInputs { settings, calendar, observations, adjustments, factors } =
            self.forecast_inputs(ws, &queue, &grid, today).await?;
        let templates: Vec<ShiftTemplate> = match r.depth {
            Depth::Schedule => self.documents::<ShiftTemplate>(ws).await?.into_iter().map(|t| t.body).collect(),
            _ => Vec::new(),
        };
        let (history_from, history_to) =
            (observations.first().map_or(today, |o| grid.midnight(grid.date(o.start)).0), today);
        let sl_seconds = settings.sl_seconds;
        let sl_target = r.sl_target.unwrap_or(settings.sl_target());
        let targets = Targets {
            sl_target,
            sl_threshold: Duration::from_secs_f64(sl_seconds.max(0.0)),
            shrinkage: r.shrinkage,
            max_occupancy: None,
            patience: None,
            aht: Some(Duration::from_secs_f64(settings.expected_handle_seconds.max(1.0))),
        };
        let (request, depth, days) = (r.clone(), r.depth, r.weeks * 7);
        // Fitting, Erlang and the shift search are CPU work: off the runtime.
        let computed = tokio::task::spawn_blocking(move || {
            let forecast = forecast::forecast(&forecast::Request {
                grid,
                history: &observations,
                days,
                calendar: calendar.as_ref(),
                adjustments: &factors,
                method: None,
            })
            .map_err(|e| ServiceError::invalid("history", format!("queue '{}': {e}", queue.name)))?;
            let plan = (depth >= Depth::Staffing)
                .then(|| plan::staff(&forecast, &grid, &targets))
                .transpose()
                .map_err(|e| ServiceError::invalid("staffing", e.to_string()))?;
            let schedule = match (&plan, depth) {
                (Some(plan), Depth::Schedule) => Some(shifts(&grid, plan, &templates)),
                _ => None,
            };
            Ok::<_, ServiceError>((forecast, plan, schedule, queue.name))
        })
        .await
        .map_err(|e| ServiceError::Unsupported(format!("planning failed: {e}")))??;
        let (forecast, plan, schedule, queue_name) = computed;
        let coverage = schedule.as_ref().and_then(|s| s.as_ref().ok()).map(|s| &s.coverage);
        let intervals = forecast
            .intervals
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let row = plan.as_ref().map(|p| &p.rows[i]);
                let scheduled = coverage.map(|c| c[i].scheduled);
                PlanInterval {
                    start: f.start.0,
                    start_local: local_label(zone, f.start.0),
                    offered: f.offered,
                    aht_seconds: f.aht_seconds,
                    open: f.open,
                    adjusted: f.adjusted,
                    agents: row.map(|r| r.agents),
                    required: row.map(|r| r.scheduled_agents),
                    service_level: row.and_then(|r| r.service_level),
                    occupancy: row.and_then(|r| r.occupancy),
                    scheduled,
                    over_under: scheduled.zip(row).map(|(s, r)| i64::from(s) - i64::from(r.scheduled_agents)),
                }
            })
            .collect();
        Ok(Planning {
            queue: request.queue,
            queue_name,
            time_zone: zone.name().to_string(),
            interval_minutes: request.interval_minutes,
            history_from,
            history_to,
            method: forecast.method,
            evaluation: forecast.evaluation,
            sl_target,
            sl_seconds,
            shrinkage: request.shrinkage,
            intervals,
            totals: plan.as_ref().map(|p| Totals {
                offered: p.rows.iter().map(|r| r.offered).sum(),
                agent_hours: p.agent_hours,
                required_hours: p.scheduled_hours,
                peak_agents: p.peak_agents,
                peak_required: p.peak_scheduled_agents,
            }),
            schedule: schedule.map(|s| schedule_view(zone, s)),
            adjustments,
        })
    }
}

impl Service {
    /// A queue's settings, calendar, history and adjustments: what its
    /// forecast is made from.
    async fn forecast_inputs(
        &self,
        ws: WorkspaceId,
        queue: &QueueRecord,
        grid: &Grid,
        today: i64,
    ) -> Result<ForecastInputs, ServiceError> {
        let zone = grid.time_zone();
        let settings: QueueSettings =
            serde_json::from_value(queue.settings.clone()).map_err(switchboard_store::StoreError::from)?;
        let calendar = match settings.business_hours {
            Some(id) => Some(self.document::<crate::documents::BusinessHours>(ws, id).await?.body.calendar),
            None => settings.calendar.clone(),
        };
        let observations = {
            let rollup = self.rollup(ws).await?;
            history::of_queue(&rollup, grid, queue.id, today)
        };
        let adjustments: Vec<Stored<PlanningAdjustment>> = self
            .documents::<PlanningAdjustment>(ws)
            .await?
            .into_iter()
            .filter(|a| a.body.queue.is_none_or(|q| q == queue.id))
            .collect();
        let factors: Vec<Adjustment> = adjustments
            .iter()
            .map(|a| {
                let at = |t: &str| local_time("adjustment", t).map(|l| instant(zone, l));
                Ok(Adjustment {
                    from: at(&a.body.from)?,
                    to: at(&a.body.to)?,
                    factor: 1.0 + a.body.change_percent / 100.0,
                    note: a.body.note.clone(),
                })
            })
            .collect::<Result<_, ServiceError>>()?;
        Ok(ForecastInputs { settings, calendar, observations, adjustments, factors })
    }
}

/// Shifts covering the plan's agents to schedule, or why there are none.
fn shifts(grid: &Grid, plan: &plan::Plan, templates: &[ShiftTemplate]) -> Result<schedule::Schedule, String> {
    if templates.is_empty() {
        return Err("the workspace has no shift templates (POST /api/v1/planning/shifts)".into());
    }
    let required: Vec<(Timestamp, u32)> = plan.rows.iter().map(|r| (r.start, r.scheduled_agents)).collect();
    schedule::generate(grid, &required, templates, SCHEDULE_BUDGET).map_err(|e| e.to_string())
}

fn schedule_view(zone: Tz, s: Result<schedule::Schedule, String>) -> ScheduleView {
    match s {
        Err(problem) => ScheduleView {
            problem: Some(problem),
            shifts: Vec::new(),
            paid_hours: 0.0,
            lower_bound_hours: 0.0,
            gap: 0.0,
            method: None,
            uncovered: Vec::new(),
        },
        Ok(s) => ScheduleView {
            problem: None,
            shifts: s
                .shifts
                .into_iter()
                .map(|a| ShiftView {
                    start_local: local_label(zone, a.start.0),
                    start: a.start.0,
                    template: a.template,
                    agents: a.agents,
                    paid_hours: a.paid_hours,
                })
                .collect(),
            paid_hours: s.paid_hours,
            lower_bound_hours: s.lower_bound_hours,
            gap: s.gap,
            method: Some(s.method),
            uncovered: s
                .uncovered
                .into_iter()
                .map(|t| IntervalView { start: t.0, start_local: local_label(zone, t.0) })
                .collect(),
        },
    }
}
