//! The interval grid in the workspace's local time.
//!
//! Contact volumes follow the local clock — Monday 09:00 is busy whatever
//! the UTC offset — so every interval is placed by its local start: its
//! *slot* is its place in the local week. Intervals themselves are stepped
//! in real (UTC) time from local midnight, so a day when the clocks go
//! forward has fewer intervals and one when they go back has more, and the
//! repeated local hour falls on the same slots twice.

use super::ForecastError;
use crate::time::Timestamp;
use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Tz;

const MINUTES_PER_DAY: u32 = 24 * 60;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid {
    time_zone: Tz,
    minutes: u32,
}

impl Grid {
    /// `minutes` must divide a day: 5, 10, 15, 20, 30, 60, … 1440.
    pub fn new(time_zone: Tz, minutes: u32) -> Result<Self, ForecastError> {
        if minutes < 5 || !MINUTES_PER_DAY.is_multiple_of(minutes) {
            return Err(ForecastError::Interval(minutes));
        }
        Ok(Grid { time_zone, minutes })
    }

    pub fn minutes(&self) -> u32 {
        self.minutes
    }

    pub fn time_zone(&self) -> Tz {
        self.time_zone
    }

    pub fn interval_millis(&self) -> i64 {
        i64::from(self.minutes) * 60_000
    }

    /// Slots in a week: one per interval of the local clock.
    pub fn per_week(&self) -> usize {
        (7 * MINUTES_PER_DAY / self.minutes) as usize
    }

    pub fn local(&self, at: Timestamp) -> NaiveDateTime {
        at.to_utc().with_timezone(&self.time_zone).naive_local()
    }

    /// The slot of the interval starting at `at`: Monday 00:00 is slot 0.
    pub fn slot(&self, at: Timestamp) -> usize {
        let local = self.local(at);
        let day = local.weekday().num_days_from_monday();
        let minute = local.hour() * 60 + local.minute();
        ((day * MINUTES_PER_DAY + minute) / self.minutes) as usize
    }

    /// Whether `at` starts an interval of this grid.
    pub fn on_grid(&self, at: Timestamp) -> bool {
        let local = self.local(at);
        at.0 % 60_000 == 0 && (local.hour() * 60 + local.minute()).is_multiple_of(self.minutes)
    }

    /// The first instant of a local day (the earliest, on a day that starts
    /// in a gap or twice).
    pub fn midnight(&self, date: NaiveDate) -> Timestamp {
        let mut time = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        // A zone may skip midnight itself: the day then starts at the
        // first minute that exists.
        for _ in 0..=MINUTES_PER_DAY {
            if let Some(t) = self.time_zone.from_local_datetime(&time).earliest() {
                return Timestamp(t.timestamp_millis());
            }
            time += chrono::Duration::minutes(1);
        }
        Timestamp(date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc().timestamp_millis())
    }

    pub fn date(&self, at: Timestamp) -> NaiveDate {
        self.local(at).date()
    }

    /// The starts of every interval of `days` local days from `first`.
    pub fn intervals(&self, first: NaiveDate, days: u32) -> Vec<Timestamp> {
        let end = self.midnight(first.checked_add_days(Days::new(u64::from(days))).unwrap_or(first));
        let mut at = self.midnight(first);
        let mut out = Vec::new();
        while at < end {
            out.push(at);
            at = Timestamp(at.0 + self.interval_millis());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin(minutes: u32) -> Grid {
        Grid::new("Europe/Berlin".parse().unwrap(), minutes).unwrap()
    }

    #[test]
    fn a_day_has_its_real_number_of_intervals() {
        let g = berlin(30);
        let spring = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        let autumn = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
        let plain = NaiveDate::from_ymd_opt(2026, 10, 26).unwrap();
        assert_eq!(g.intervals(spring, 1).len(), 46);
        assert_eq!(g.intervals(autumn, 1).len(), 50);
        assert_eq!(g.intervals(plain, 1).len(), 48);
    }

    #[test]
    fn the_repeated_hour_falls_on_the_same_slots() {
        let g = berlin(60);
        let autumn = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
        let slots: Vec<usize> = g.intervals(autumn, 1).iter().map(|&t| g.slot(t)).collect();
        // Sunday is day 6: its 02:00 slot comes twice, 03:00 follows.
        let two = 6 * 24 + 2;
        assert_eq!(slots.iter().filter(|&&s| s == two).count(), 2);
        assert_eq!(slots.len(), 25);
        assert_eq!(*slots.last().unwrap(), 6 * 24 + 23);
    }

    #[test]
    fn slots_start_on_monday_midnight_local() {
        let g = berlin(15);
        let monday = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let t = g.midnight(monday);
        assert_eq!(g.slot(t), 0);
        assert!(g.on_grid(t));
        assert!(!g.on_grid(Timestamp(t.0 + 60_000)));
        assert_eq!(g.per_week(), 7 * 96);
    }

    #[test]
    fn intervals_that_do_not_divide_a_day_are_refused() {
        assert!(Grid::new(Tz::UTC, 7).is_err());
        assert!(Grid::new(Tz::UTC, 0).is_err());
        assert!(Grid::new(Tz::UTC, 1440).is_ok());
    }
}
