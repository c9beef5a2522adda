//! The history laid on the grid: every interval from the first day's local
//! midnight to the end of the last day, in order.

use super::grid::Grid;
use super::{ForecastError, Observation};
use crate::calendar::Calendar;
use crate::time::Timestamp;
use std::collections::HashMap;

#[derive(Clone, Debug, Default)]
pub(super) struct Series {
    pub starts: Vec<Timestamp>,
    pub slots: Vec<usize>,
    /// Contacts offered; `None` for an interval left out of the fit (a
    /// holiday of the calendar: it says nothing about an ordinary week).
    pub values: Vec<Option<f64>>,
    /// Average handle time where the history gives one.
    pub aht: Vec<Option<f64>>,
}

impl Series {
    /// Intervals of the grid the history does not name had no contacts:
    /// reports leave empty intervals out.
    pub fn new(grid: &Grid, history: &[Observation], calendar: Option<&Calendar>) -> Result<Series, ForecastError> {
        let (Some(first), Some(last)) = (history.first(), history.last()) else {
            return Err(ForecastError::NotEnoughHistory { days: 0 });
        };
        let mut by_start = HashMap::with_capacity(history.len());
        let mut previous: Option<Timestamp> = None;
        for (row, o) in history.iter().enumerate() {
            if !grid.on_grid(o.start) {
                return Err(ForecastError::OffGrid { row, start: o.start, minutes: grid.minutes() });
            }
            if previous.is_some_and(|p| p >= o.start) {
                return Err(ForecastError::Unordered { row, start: o.start });
            }
            if !o.offered.is_finite() || o.offered < 0.0 {
                return Err(ForecastError::Value { row, what: "offered", value: o.offered });
            }
            if let Some(aht) = o.aht_seconds
                && (!aht.is_finite() || aht < 0.0)
            {
                return Err(ForecastError::Value { row, what: "aht_seconds", value: aht });
            }
            previous = Some(o.start);
            by_start.insert(o.start, o);
        }
        let first_day = grid.date(first.start);
        let days = (grid.date(last.start) - first_day).num_days() + 1;
        let starts = grid.intervals(first_day, days as u32);
        let mut series = Series::default();
        for start in starts {
            let holiday = calendar.is_some_and(|c| c.holidays.iter().any(|h| h.date == grid.date(start)));
            let seen = by_start.get(&start);
            series.starts.push(start);
            series.slots.push(grid.slot(start));
            series.values.push(if holiday { None } else { Some(seen.map_or(0.0, |o| o.offered)) });
            series.aht.push(if holiday { None } else { seen.and_then(|o| o.aht_seconds) });
        }
        Ok(series)
    }

    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// The first `n` intervals.
    pub fn head(&self, n: usize) -> Series {
        Series {
            starts: self.starts[..n].to_vec(),
            slots: self.slots[..n].to_vec(),
            values: self.values[..n].to_vec(),
            aht: self.aht[..n].to_vec(),
        }
    }

    /// Index where each week begins: the slot wraps round to Monday.
    pub fn week_of_each(&self) -> Vec<usize> {
        let mut week = 0;
        let mut out = Vec::with_capacity(self.len());
        for (i, &slot) in self.slots.iter().enumerate() {
            if i > 0 && slot < self.slots[i - 1] {
                week += 1;
            }
            out.push(week);
        }
        out
    }
}
