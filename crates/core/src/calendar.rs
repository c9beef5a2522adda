//! Business hours: a time zone, weekly opening hours and holidays.

use crate::time::Timestamp;
use chrono::{Datelike, NaiveDate, Timelike, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Opening hours of one day, `"08:00-17:30"`. An end at or before the start
/// runs past midnight (`"22:00-06:00"`); `"24:00"` is the end of the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hours {
    start: u32,
    end: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("bad opening hours '{0}': expected HH:MM-HH:MM, e.g. 08:00-17:30")]
pub struct BadHours(String);

fn minute_of_day(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

impl FromStr for Hours {
    type Err = BadHours;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadHours(s.to_string());
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let (start, end) = (minute_of_day(a).ok_or_else(bad)?, minute_of_day(b).ok_or_else(bad)?);
        if start == 24 * 60 {
            return Err(bad());
        }
        Ok(Hours { start, end })
    }
}

impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}-{:02}:{:02}", self.start / 60, self.start % 60, self.end / 60, self.end % 60)
    }
}

impl Serialize for Hours {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hours {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

impl Hours {
    /// Start and end as minutes after midnight.
    pub fn minutes(self) -> (u32, u32) {
        (self.start, self.end)
    }

    fn overnight(self) -> bool {
        self.end <= self.start
    }

    /// Open at `minute` of the day these hours belong to.
    fn covers_same_day(self, minute: u32) -> bool {
        minute >= self.start && (self.overnight() || minute < self.end)
    }

    /// Open at `minute` of the day after (the part past midnight).
    fn covers_next_day(self, minute: u32) -> bool {
        self.overnight() && minute < self.end
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weekly {
    #[serde(default)]
    pub mon: Vec<Hours>,
    #[serde(default)]
    pub tue: Vec<Hours>,
    #[serde(default)]
    pub wed: Vec<Hours>,
    #[serde(default)]
    pub thu: Vec<Hours>,
    #[serde(default)]
    pub fri: Vec<Hours>,
    #[serde(default)]
    pub sat: Vec<Hours>,
    #[serde(default)]
    pub sun: Vec<Hours>,
}

impl Weekly {
    fn day(&self, d: Weekday) -> &[Hours] {
        match d {
            Weekday::Mon => &self.mon,
            Weekday::Tue => &self.tue,
            Weekday::Wed => &self.wed,
            Weekday::Thu => &self.thu,
            Weekday::Fri => &self.fri,
            Weekday::Sat => &self.sat,
            Weekday::Sun => &self.sun,
        }
    }
}

/// A day with its own hours; no hours means closed all day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    pub date: NaiveDate,
    #[serde(default)]
    pub hours: Vec<Hours>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
}

/// How far ahead [`Calendar::open_until`] looks for open time.
pub const OPEN_TIME_HORIZON_DAYS: i64 = 400;
const DAY_MS: i64 = 86_400_000;
const QUARTER_HOUR_MS: i64 = 15 * 60_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calendar {
    #[serde(with = "tz_name")]
    pub time_zone: Tz,
    pub weekly: Weekly,
    #[serde(default)]
    pub holidays: Vec<Holiday>,
}

mod tz_name {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(tz.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(|_| {
            serde::de::Error::custom(format!("unknown time zone '{name}' (use an IANA name such as Europe/Berlin)"))
        })
    }
}

impl Calendar {
    fn hours_on(&self, date: NaiveDate) -> &[Hours] {
        match self.holidays.iter().find(|h| h.date == date) {
            Some(h) => &h.hours,
            None => self.weekly.day(date.weekday()),
        }
    }

    pub fn is_open(&self, at: Timestamp) -> bool {
        let local = at.to_utc().with_timezone(&self.time_zone);
        let date = local.date_naive();
        let minute = local.time().hour() * 60 + local.time().minute();
        if self.hours_on(date).iter().any(|h| h.covers_same_day(minute)) {
            return true;
        }
        date.pred_opt().is_some_and(|yesterday| self.hours_on(yesterday).iter().any(|h| h.covers_next_day(minute)))
    }

    /// The instant at which `open` of this calendar's open time has passed
    /// since `start` — a response target counted in business hours, paused
    /// over nights, weekends and holidays, in local time across
    /// daylight-saving changes. `None` when the calendar does not open for
    /// that long within [`OPEN_TIME_HORIZON_DAYS`] (one that never opens).
    pub fn open_until(&self, start: Timestamp, open: std::time::Duration) -> Option<Timestamp> {
        let mut left = i64::try_from(open.as_millis()).unwrap_or(i64::MAX);
        let horizon = start.0.saturating_add(OPEN_TIME_HORIZON_DAYS * DAY_MS);
        let mut t = start.0;
        while t <= horizon {
            let next = self.next_edge(t);
            if self.is_open(Timestamp(t)) {
                if next - t >= left {
                    return Some(Timestamp(t + left));
                }
                left -= next - t;
            }
            t = next;
        }
        None
    }

    /// The next instant after `t` at which [`Calendar::is_open`] may change:
    /// a boundary of the local day's hours (or the day's end), or the next
    /// UTC quarter-hour, where a time zone's offset may change (offsets and
    /// their changes fall on quarter-hours). Between two edges the local
    /// time runs evenly and crosses no boundary, so openness holds still.
    fn next_edge(&self, t: i64) -> i64 {
        let local = Timestamp(t).to_utc().with_timezone(&self.time_zone);
        let date = local.date_naive();
        let into_day = i64::from(local.time().num_seconds_from_midnight()) * 1000
            + i64::from(local.timestamp_subsec_millis().min(999));
        let yesterday = date.pred_opt().map(|d| self.hours_on(d)).unwrap_or(&[]);
        let boundaries = self.hours_on(date).iter().chain(yesterday).flat_map(|h| [h.start, h.end]);
        let mut next = (t.div_euclid(QUARTER_HOUR_MS) + 1) * QUARTER_HOUR_MS;
        next = next.min(t + DAY_MS - into_day);
        for b in boundaries {
            let at = i64::from(b) * 60_000;
            if at > into_day {
                next = next.min(t + at - into_day);
            }
        }
        next
    }

    /// A calendar open around the clock, every day.
    pub fn always_open() -> Self {
        let all = vec![Hours { start: 0, end: 24 * 60 }];
        Calendar {
            time_zone: Tz::UTC,
            weekly: Weekly {
                mon: all.clone(),
                tue: all.clone(),
                wed: all.clone(),
                thu: all.clone(),
                fri: all.clone(),
                sat: all.clone(),
                sun: all,
            },
            holidays: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp(chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis())
    }

    fn berlin() -> Calendar {
        toml::from_str(
            r#"
            time_zone = "Europe/Berlin"
            holidays = [{ date = "2026-12-25" }, { date = "2026-12-24", hours = ["08:00-12:00"] }]
            [weekly]
            mon = ["08:00-12:00", "13:00-17:00"]
            tue = ["08:00-17:00"]
            fri = ["22:00-06:00"]
            "#,
        )
        .unwrap()
    }

    #[test]
    fn weekly_hours_in_local_time() {
        let c = berlin();
        // Monday 2026-11-23, Berlin is UTC+1 in winter.
        assert!(c.is_open(ts("2026-11-23T07:00:00Z")));
        assert!(!c.is_open(ts("2026-11-23T06:59:00Z")));
        assert!(!c.is_open(ts("2026-11-23T11:30:00Z")), "lunch break");
        assert!(c.is_open(ts("2026-11-23T12:00:00Z")));
        assert!(!c.is_open(ts("2026-11-23T16:00:00Z")), "17:00 local is closed");
        assert!(!c.is_open(ts("2026-11-25T10:00:00Z")), "no Wednesday hours");
    }

    #[test]
    fn overnight_and_holidays() {
        let c = berlin();
        assert!(c.is_open(ts("2026-11-27T22:30:00Z")), "Friday 23:30 local");
        assert!(c.is_open(ts("2026-11-28T04:00:00Z")), "Saturday 05:00 local, from Friday's shift");
        assert!(!c.is_open(ts("2026-11-28T05:00:00Z")));
        assert!(!c.is_open(ts("2026-12-25T10:00:00Z")), "Christmas, a Friday, closed");
        assert!(c.is_open(ts("2026-12-24T08:00:00Z")), "Christmas Eve morning");
        assert!(!c.is_open(ts("2026-12-24T12:00:00Z")));
    }

    fn office() -> Calendar {
        toml::from_str(
            r#"
            time_zone = "Europe/Berlin"
            holidays = [{ date = "2026-12-24", hours = ["09:00-12:00"] }, { date = "2026-12-25" }]
            [weekly]
            mon = ["09:00-17:00"]
            tue = ["09:00-17:00"]
            wed = ["09:00-17:00"]
            thu = ["09:00-17:00"]
            fri = ["09:00-17:00", "22:00-02:00"]
            sun = ["00:00-06:00"]
            "#,
        )
        .unwrap()
    }

    fn mins(m: u64) -> std::time::Duration {
        std::time::Duration::from_secs(m * 60)
    }

    #[test]
    fn open_time_pauses_over_nights_weekends_and_holidays() {
        let c = office();
        // Tuesday 16:30 local (UTC+1) and an hour of open time: 30 minutes
        // today, the rest from Wednesday's opening.
        assert_eq!(c.open_until(ts("2026-11-24T15:30:00Z"), mins(60)), Some(ts("2026-11-25T08:30:00Z")));
        // Started while closed: the clock starts at the opening.
        assert_eq!(c.open_until(ts("2026-11-25T05:00:00Z"), mins(10)), Some(ts("2026-11-25T08:10:00Z")));
        // Friday 16:00: one hour on Friday, four in the night into
        // Saturday, six on Sunday morning, then Monday.
        assert_eq!(c.open_until(ts("2026-11-27T15:00:00Z"), mins(12 * 60)), Some(ts("2026-11-30T09:00:00Z")));
        // Christmas Eve's short hours, then Christmas closed (its Friday
        // night too), so the second hour is on Sunday morning.
        assert_eq!(c.open_until(ts("2026-12-24T10:00:00Z"), mins(120)), Some(ts("2026-12-27T00:00:00Z")));
        assert_eq!(c.open_until(ts("2026-11-24T10:00:00Z"), mins(0)), Some(ts("2026-11-24T10:00:00Z")));
        let closed = Calendar { weekly: Weekly::default(), holidays: Vec::new(), ..c };
        assert_eq!(closed.open_until(ts("2026-11-24T10:00:00Z"), mins(1)), None);
    }

    #[test]
    fn open_time_across_daylight_saving_changes() {
        let c = office();
        // Sunday 29 March 2026 the clocks skip 02:00-03:00: 00:00-06:00
        // local is five hours, so 5 h 30 min ends on Monday at 09:30 (UTC+2).
        assert_eq!(c.open_until(ts("2026-03-28T23:00:00Z"), mins(300)), Some(ts("2026-03-29T04:00:00Z")));
        assert_eq!(c.open_until(ts("2026-03-28T23:00:00Z"), mins(330)), Some(ts("2026-03-30T07:30:00Z")));
        // Sunday 25 October 2026 they repeat 02:00-03:00: seven hours.
        assert_eq!(c.open_until(ts("2026-10-24T22:00:00Z"), mins(420)), Some(ts("2026-10-25T05:00:00Z")));
        assert_eq!(c.open_until(ts("2026-10-24T22:00:00Z"), mins(450)), Some(ts("2026-10-26T08:30:00Z")));
    }

    #[test]
    fn open_time_agrees_with_counting_open_minutes() {
        // The reference: walk minute by minute with `is_open`.
        let c = office();
        let mut rng = crate::rng::Rng::seeded(7);
        for _ in 0..300 {
            let start = ts("2026-03-20T00:00:00Z").0 + (rng.next_u64() % (240 * 24 * 60)) as i64 * 60_000;
            let want = rng.next_u64() % (30 * 60);
            let due = c.open_until(Timestamp(start), mins(want)).unwrap();
            let (mut t, mut counted) = (start, 0);
            while counted < want || (want == 0 && !c.is_open(Timestamp(t))) {
                counted += u64::from(c.is_open(Timestamp(t)));
                t += 60_000;
            }
            assert_eq!(due.0, t, "start {} plus {want} open minutes", Timestamp(start));
        }
    }

    #[test]
    fn bad_input_is_named() {
        assert!("8-17".parse::<Hours>().is_err());
        assert!("08:00-25:00".parse::<Hours>().is_err());
        assert_eq!("00:00-24:00".parse::<Hours>().unwrap().to_string(), "00:00-24:00");
        let err = toml::from_str::<Calendar>("time_zone = \"Mars/Olympus\"\n[weekly]\n").unwrap_err();
        assert!(err.to_string().contains("unknown time zone"), "{err}");
        assert!(Calendar::always_open().is_open(ts("2026-01-01T00:00:00Z")));
    }
}
