//! A staffing plan: the agents each forecast interval needs to meet the
//! service-level target, by Erlang C (or Erlang A with a patience), then
//! the agents to schedule once shrinkage takes its share.

use crate::erlang::{ErlangError, StaffingInput};
use crate::forecast::{Forecast, Grid};
use crate::time::Timestamp;
use serde::Serialize;
use std::time::Duration;

/// The targets every interval is staffed for.
#[derive(Clone, Debug, PartialEq)]
pub struct Targets {
    pub sl_target: f64,
    pub sl_threshold: Duration,
    pub shrinkage: f64,
    pub max_occupancy: Option<f64>,
    pub patience: Option<Duration>,
    /// The handle time of intervals the forecast has none for.
    pub aht: Option<Duration>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanRow {
    pub start: Timestamp,
    pub offered: f64,
    pub aht_seconds: f64,
    /// On the phones (or chats) at once.
    pub agents: u32,
    /// Paid: agents plus shrinkage.
    pub scheduled_agents: u32,
    /// Predicted with `agents`; `None` with nothing offered.
    pub service_level: Option<f64>,
    pub occupancy: Option<f64>,
    pub abandon_rate: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan {
    pub interval_minutes: u32,
    pub rows: Vec<PlanRow>,
    /// Hours of agents on the phones, and paid, over the whole plan.
    pub agent_hours: f64,
    pub scheduled_hours: f64,
    pub peak_agents: u32,
    pub peak_scheduled_agents: u32,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PlanError {
    #[error("the history has no handle times: give an average handle time")]
    NoHandleTime,
    #[error("interval starting {start}: {source}")]
    Staffing { start: Timestamp, source: ErlangError },
}

pub fn staff(forecast: &Forecast, grid: &Grid, targets: &Targets) -> Result<Plan, PlanError> {
    let interval = Duration::from_secs(u64::from(grid.minutes()) * 60);
    let mut rows = Vec::with_capacity(forecast.intervals.len());
    for i in &forecast.intervals {
        let aht = match (i.aht_seconds, targets.aht) {
            (Some(secs), _) if secs > 0.0 => Duration::from_secs_f64(secs),
            (_, Some(aht)) => aht,
            _ => return Err(PlanError::NoHandleTime),
        };
        let mut row = PlanRow {
            start: i.start,
            offered: i.offered,
            aht_seconds: aht.as_secs_f64(),
            agents: 0,
            scheduled_agents: 0,
            service_level: None,
            occupancy: None,
            abandon_rate: None,
        };
        // Erlang needs contacts to staff for; an empty interval needs no one.
        if i.offered > 0.0 {
            let input = StaffingInput {
                calls: i.offered,
                interval,
                aht,
                sl_target: targets.sl_target,
                sl_threshold: targets.sl_threshold,
                shrinkage: targets.shrinkage,
                max_occupancy: targets.max_occupancy,
                patience: targets.patience,
            };
            let staffing = input.staff().map_err(|source| PlanError::Staffing { start: i.start, source })?;
            row.agents = staffing.agents;
            row.scheduled_agents = staffing.scheduled_agents;
            row.service_level = Some(staffing.service_level);
            row.occupancy = Some(staffing.occupancy);
            row.abandon_rate = staffing.abandon_rate;
        }
        rows.push(row);
    }
    let hours = f64::from(grid.minutes()) / 60.0;
    Ok(Plan {
        interval_minutes: grid.minutes(),
        agent_hours: rows.iter().map(|r| f64::from(r.agents) * hours).sum(),
        scheduled_hours: rows.iter().map(|r| f64::from(r.scheduled_agents) * hours).sum(),
        peak_agents: rows.iter().map(|r| r.agents).max().unwrap_or(0),
        peak_scheduled_agents: rows.iter().map(|r| r.scheduled_agents).max().unwrap_or(0),
        rows,
    })
}
