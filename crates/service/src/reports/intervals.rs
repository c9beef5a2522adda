//! Report intervals in the workspace's local time: quarter hours, half
//! hours and hours from local midnight; days, weeks (from Monday) and
//! months from their local first instant. A day the clocks go forward has
//! 23 hours, one they go back 25, and its intervals follow the clock.

use chrono::{Datelike, NaiveDate, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// How a report's rows are grouped in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    #[serde(rename = "15m")]
    Minutes15,
    #[serde(rename = "30m")]
    Minutes30,
    #[serde(rename = "60m")]
    Minutes60,
    Day,
    Week,
    Month,
}

impl Interval {
    pub fn parse(s: &str) -> Option<Interval> {
        serde_json::from_value(serde_json::Value::String(s.into())).ok()
    }

    /// The start (ms) of the interval holding the bucket starting at `bucket`.
    pub fn start(self, zone: Tz, bucket: i64) -> i64 {
        let minutes = |m: i64| local_interval(zone, bucket, m * 60_000);
        match self {
            // Buckets are quarter hours already.
            Interval::Minutes15 => bucket,
            Interval::Minutes30 => minutes(30),
            Interval::Minutes60 => minutes(60),
            Interval::Day => day_start(zone, local_date(zone, bucket)),
            Interval::Week => {
                let d = local_date(zone, bucket);
                day_start(zone, d - chrono::Duration::days(d.weekday().num_days_from_monday() as i64))
            }
            Interval::Month => day_start(zone, local_date(zone, bucket).with_day(1).expect("every month has a 1st")),
        }
    }
}

/// The local date holding `at` (ms).
pub fn local_date(zone: Tz, at: i64) -> NaiveDate {
    zone.timestamp_millis_opt(at)
        .single()
        .map_or_else(|| Utc.timestamp_millis_opt(at).unwrap().date_naive(), |t| t.date_naive())
}

/// The first instant of local date `d`, ms. Where a day has no midnight
/// (clocks moved forward across it) it starts at its first existing minute.
pub fn day_start(zone: Tz, d: NaiveDate) -> i64 {
    let midnight = d.and_time(NaiveTime::MIN);
    (0..=180)
        .find_map(|m| zone.from_local_datetime(&(midnight + chrono::Duration::minutes(m))).earliest())
        .map_or(midnight.and_utc().timestamp_millis(), |t| t.timestamp_millis())
}

/// The local day of `zone` holding `at`: [its first instant, the next
/// day's first instant), in ms.
pub fn local_day(zone: Tz, at: i64) -> (i64, i64) {
    let date = local_date(zone, at);
    (day_start(zone, date), day_start(zone, date.succ_opt().unwrap_or(date)))
}

/// Where `start` (a bucket's start, ms) falls in intervals `width` ms wide
/// that begin at local midnight.
pub fn local_interval(zone: Tz, start: i64, width: i64) -> i64 {
    let offset =
        zone.timestamp_millis_opt(start).single().map_or(0, |t| i64::from(t.offset().fix().local_minus_utc()) * 1000);
    start - (start + offset).rem_euclid(width)
}

/// `at` (ms) as local time with its offset, e.g. `2026-03-29T03:00:00+02:00`.
pub fn local_label(zone: Tz, at: i64) -> String {
    zone.timestamp_millis_opt(at).single().map_or_else(|| at.to_string(), |t| t.to_rfc3339())
}

#[cfg(test)]
mod tests {
    use super::super::rollup::BUCKET_MS;
    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp_millis()
    }

    #[test]
    fn a_day_starts_at_local_midnight() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let (start, end) = local_day(berlin, ms("2026-11-22T23:30:00Z"));
        assert_eq!((start, end), (ms("2026-11-23T00:00:00+01:00"), ms("2026-11-24T00:00:00+01:00")));
        // The day the clocks go forward has 23 hours, the day they go back 25.
        let (start, end) = local_day(berlin, ms("2026-03-29T12:00:00+02:00"));
        assert_eq!(end - start, 23 * 3_600_000);
        let (start, end) = local_day(berlin, ms("2026-10-25T12:00:00+01:00"));
        assert_eq!(end - start, 25 * 3_600_000);
        assert_eq!(local_day(Tz::UTC, ms("2026-11-22T10:00:00Z")).0, ms("2026-11-22T00:00:00Z"));
    }

    #[test]
    fn a_day_without_midnight_starts_at_its_first_minute() {
        // Brazil moved its clocks from 00:00 to 01:00 on 4 November 2018.
        let sao_paulo: Tz = "America/Sao_Paulo".parse().unwrap();
        let (start, _) = local_day(sao_paulo, ms("2018-11-04T12:00:00-02:00"));
        assert_eq!(start, ms("2018-11-04T01:00:00-02:00"));
    }

    #[test]
    fn hours_are_local_hours() {
        // India is 5:30 ahead: its hours begin at half past in UTC.
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap();
        let quarter = ms("2026-11-22T04:45:00Z"); // 10:15 local
        assert_eq!(local_interval(kolkata, quarter, 3_600_000), ms("2026-11-22T04:30:00Z"));
        assert_eq!(local_interval(Tz::UTC, quarter, 3_600_000), ms("2026-11-22T04:00:00Z"));
    }

    /// The distinct interval starts of the buckets of the local day holding `at`.
    fn starts_of_day(zone: Tz, at: i64, interval: Interval) -> Vec<i64> {
        let (start, end) = local_day(zone, at);
        let mut out: Vec<i64> = (start..end).step_by(BUCKET_MS as usize).map(|b| interval.start(zone, b)).collect();
        out.dedup();
        out
    }

    #[test]
    fn half_hours_across_the_changes_of_clock() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // Spring forward: 02:00 becomes 03:00, so 46 half hours, and 03:00 follows 01:30.
        let spring = starts_of_day(berlin, ms("2026-03-29T12:00:00+02:00"), Interval::Minutes30);
        assert_eq!(spring.len(), 46);
        assert_eq!(spring[0], ms("2026-03-29T00:00:00+01:00"));
        assert_eq!(spring[3], ms("2026-03-29T01:30:00+01:00"));
        assert_eq!(spring[4], ms("2026-03-29T03:00:00+02:00"));
        assert_eq!(local_label(berlin, spring[4]), "2026-03-29T03:00:00+02:00");
        // Fall back: 02:00–03:00 runs twice, so 50 half hours.
        let autumn = starts_of_day(berlin, ms("2026-10-25T12:00:00+01:00"), Interval::Minutes30);
        assert_eq!(autumn.len(), 50);
        assert_eq!(autumn[4], ms("2026-10-25T02:00:00+02:00"));
        assert_eq!(autumn[6], ms("2026-10-25T02:00:00+01:00"));
        assert!(autumn.windows(2).all(|w| w[1] - w[0] == 30 * 60_000));
        // Hours: 23 and 25.
        assert_eq!(starts_of_day(berlin, ms("2026-03-29T12:00:00+02:00"), Interval::Minutes60).len(), 23);
        assert_eq!(starts_of_day(berlin, ms("2026-10-25T12:00:00+01:00"), Interval::Minutes60).len(), 25);
        // The whole day is one day.
        assert_eq!(starts_of_day(berlin, ms("2026-10-25T12:00:00+01:00"), Interval::Day).len(), 1);
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first_local_midnight() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // Sunday 29 March 2026, after the change: its week began Monday 23 March, in winter time.
        let b = bucket(ms("2026-03-29T12:00:00+02:00"));
        assert_eq!(Interval::Week.start(berlin, b), ms("2026-03-23T00:00:00+01:00"));
        assert_eq!(Interval::Month.start(berlin, b), ms("2026-03-01T00:00:00+01:00"));
        // 00:10 local on 1 April is still the day before in UTC.
        let b = bucket(ms("2026-04-01T00:10:00+02:00"));
        assert_eq!(Interval::Month.start(berlin, b), ms("2026-04-01T00:00:00+02:00"));
        assert_eq!(Interval::parse("30m"), Some(Interval::Minutes30));
        assert_eq!(Interval::parse("week"), Some(Interval::Week));
        assert_eq!(Interval::parse("7m"), None);
    }

    fn bucket(at: i64) -> i64 {
        super::super::rollup::bucket_of(at)
    }
}
