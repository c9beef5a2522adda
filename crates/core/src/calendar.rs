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
