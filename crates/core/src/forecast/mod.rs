//! Forecasting contacts offered and handle time per interval from history.
//!
//! The history is the offered contacts (and, where known, the average
//! handle time) of each interval of a grid in the workspace's local time
//! ([`grid`]). Several methods ([`Method`]) are fitted on all but the last
//! week and scored on that held-out week ([`Accuracy`], WAPE and MAPE); the
//! best is refitted on the whole history and continued for the days asked.
//! The seasonal-naive method ("as last week") is always among them, so the
//! report says whether the chosen method beats it.
//!
//! A calendar's holidays are left out of the fit (a Christmas Day says
//! nothing about an ordinary Thursday), and intervals it has closed are
//! forecast empty. Planners' adjustments ("+20 % on Monday morning")
//! multiply the forecast where they apply and are reported with it.

mod accuracy;
pub mod grid;
mod methods;
mod series;

pub use accuracy::Accuracy;
pub use grid::Grid;
pub use methods::Method;

use crate::calendar::Calendar;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use series::Series;

/// Handle times are averaged over this many recent weeks.
const AHT_WEEKS: usize = 6;
/// Days held out to score the methods.
const HOLDOUT_DAYS: i64 = 7;

/// One interval of history.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// The interval's start, on the grid.
    pub start: Timestamp,
    pub offered: f64,
    #[serde(default)]
    pub aht_seconds: Option<f64>,
}

/// A planner's change: intervals starting in `[from, to)` get `factor`
/// times the forecast (1.2 for +20 %).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Adjustment {
    pub from: Timestamp,
    pub to: Timestamp,
    pub factor: f64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

pub struct Request<'a> {
    pub grid: Grid,
    /// Ordered by start; intervals it does not name had no contacts.
    pub history: &'a [Observation],
    /// Local days to forecast, from the day after the history's last.
    pub days: u32,
    pub calendar: Option<&'a Calendar>,
    pub adjustments: &'a [Adjustment],
    /// Use this method instead of the best on the held-out week.
    pub method: Option<Method>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Forecast {
    pub method: Method,
    /// How each method did on the held-out week; `None` with less than two
    /// weeks of history.
    pub evaluation: Option<Evaluation>,
    pub intervals: Vec<Interval>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    pub holdout_from: Timestamp,
    pub holdout_to: Timestamp,
    pub scores: Vec<Score>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Score {
    pub method: Method,
    #[serde(flatten)]
    pub accuracy: Accuracy,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Interval {
    pub start: Timestamp,
    pub offered: f64,
    /// Average handle time forecast; `None` when the history had none.
    pub aht_seconds: Option<f64>,
    /// Closed by the calendar: nothing is forecast.
    pub open: bool,
    /// The product of the adjustments that apply, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adjusted: Option<f64>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ForecastError {
    #[error("an interval of {0} minutes does not divide a day (use 15, 30 or 60)")]
    Interval(u32),
    #[error("at least 7 days of history are needed, got {days}")]
    NotEnoughHistory { days: i64 },
    #[error("row {row}: {start} does not start a {minutes}-minute interval in the time zone")]
    OffGrid { row: usize, start: Timestamp, minutes: u32 },
    #[error("row {row}: {start} is not after the row before it")]
    Unordered { row: usize, start: Timestamp },
    #[error("row {row}: {what} must be a number of at least 0, got {value}")]
    Value { row: usize, what: &'static str, value: f64 },
    #[error("adjustment {index}: {reason}")]
    Adjustment { index: usize, reason: &'static str },
    #[error("forecast between 1 and 366 days, not {0}")]
    Days(u32),
    #[error("{method:?} needs more history than {weeks} weeks")]
    MethodNeedsHistory { method: Method, weeks: usize },
}

pub fn forecast(request: &Request) -> Result<Forecast, ForecastError> {
    if request.days == 0 || request.days > 366 {
        return Err(ForecastError::Days(request.days));
    }
    for (index, a) in request.adjustments.iter().enumerate() {
        if a.to <= a.from {
            return Err(ForecastError::Adjustment { index, reason: "it must end after it starts" });
        }
        if !a.factor.is_finite() || a.factor < 0.0 {
            return Err(ForecastError::Adjustment { index, reason: "its factor must be a number of at least 0" });
        }
    }
    let grid = &request.grid;
    let series = Series::new(grid, request.history, request.calendar)?;
    let first = grid.date(series.starts[0]);
    let last = grid.date(*series.starts.last().unwrap_or(&series.starts[0]));
    let days = (last - first).num_days() + 1;
    if days < 7 {
        return Err(ForecastError::NotEnoughHistory { days });
    }
    let weeks = (days / 7) as usize;
    let per_week = grid.per_week();

    let evaluation = (days >= 7 + HOLDOUT_DAYS).then(|| {
        let holdout_day = last - chrono::Days::new(HOLDOUT_DAYS as u64 - 1);
        let split = series.starts.partition_point(|&t| grid.date(t) < holdout_day);
        let train = series.head(split);
        let train_weeks = weeks - 1;
        let scores = Method::ALL
            .into_iter()
            .filter(|m| m.fits(train_weeks))
            .map(|method| {
                let predicted = method.predict(&train, &series.slots[split..], per_week);
                Score { method, accuracy: Accuracy::measure(&series.values[split..], &predicted) }
            })
            .collect();
        Evaluation {
            holdout_from: series.starts[split],
            holdout_to: grid.midnight(last + chrono::Days::new(1)),
            scores,
        }
    });
    let method = match request.method {
        Some(m) if !m.fits(weeks) => return Err(ForecastError::MethodNeedsHistory { method: m, weeks }),
        Some(m) => m,
        None => evaluation
            .as_ref()
            .and_then(|e| {
                e.scores
                    .iter()
                    .filter_map(|s| s.accuracy.wape.map(|w| (s.method, w)))
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .map(|(m, _)| m)
            })
            .unwrap_or(Method::SeasonalMean),
    };

    let starts = grid.intervals(last + chrono::Days::new(1), request.days);
    let slots: Vec<usize> = starts.iter().map(|&t| grid.slot(t)).collect();
    let offered = method.predict(&series, &slots, per_week);
    let aht = handle_times(&series, per_week);
    let intervals = starts
        .iter()
        .zip(&slots)
        .zip(offered)
        .map(|((&start, &slot), offered)| {
            let open = request.calendar.is_none_or(|c| c.is_open(start));
            let factors: Vec<f64> =
                request.adjustments.iter().filter(|a| a.from <= start && start < a.to).map(|a| a.factor).collect();
            let adjusted = (!factors.is_empty()).then(|| factors.iter().product::<f64>());
            Interval {
                start,
                offered: if open { offered * adjusted.unwrap_or(1.0) } else { 0.0 },
                aht_seconds: aht.as_ref().map(|a| a[slot]),
                open,
                adjusted,
            }
        })
        .collect();
    Ok(Forecast { method, evaluation, intervals })
}

/// Each slot's handle time over recent weeks, weighted by contacts; a slot
/// with none takes the average of all. `None` when the history has none.
fn handle_times(series: &Series, per_week: usize) -> Option<Vec<f64>> {
    let weeks = series.week_of_each();
    let newest = *weeks.last()?;
    let mut by_slot = vec![(0.0, 0.0); per_week];
    let (mut all_time, mut all_count) = (0.0, 0.0);
    for i in 0..series.len() {
        if let (Some(aht), Some(n)) = (series.aht[i], series.values[i])
            && newest - weeks[i] < AHT_WEEKS
            && n > 0.0
        {
            by_slot[series.slots[i]].0 += aht * n;
            by_slot[series.slots[i]].1 += n;
            all_time += aht * n;
            all_count += n;
        }
    }
    if all_count == 0.0 {
        return None;
    }
    let overall = all_time / all_count;
    Some(by_slot.iter().map(|&(t, n)| if n > 0.0 { t / n } else { overall }).collect())
}
