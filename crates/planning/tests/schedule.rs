//! Shift schedules cover the plan, with the fewest paid hours the solver
//! can prove or a reported gap to the bound.

use chrono::{NaiveDate, Weekday};
use std::time::Duration;
use switchboard_core::forecast::Grid;
use switchboard_core::rng::Rng;
use switchboard_core::time::Timestamp;
use switchboard_planning::schedule::{
    Break, Method, Schedule, ScheduleError, ShiftTemplate, generate as generate_within,
};

fn grid(minutes: u32) -> Grid {
    Grid::new("Europe/Berlin".parse().unwrap(), minutes).unwrap()
}

fn template(name: &str, length_minutes: u32, starts: &str) -> ShiftTemplate {
    ShiftTemplate { name: name.into(), length_minutes, starts: starts.parse().unwrap(), breaks: vec![], days: vec![] }
}

/// `agents(local hour)` for every interval of `days` days from `first`.
fn required(g: &Grid, first: NaiveDate, days: u32, agents: impl Fn(NaiveDate, u32) -> u32) -> Vec<(Timestamp, u32)> {
    g.intervals(first, days)
        .into_iter()
        .map(|t| {
            let local = g.local(t);
            let minute = chrono::Timelike::hour(&local) * 60 + chrono::Timelike::minute(&local);
            (t, agents(local.date(), minute))
        })
        .collect()
}

/// Two seconds of branch and bound: enough for these, and a bound on a
/// test's time.
fn generate(g: &Grid, need: &[(Timestamp, u32)], templates: &[ShiftTemplate]) -> Result<Schedule, ScheduleError> {
    generate_within(g, need, templates, Duration::from_secs(2))
}

fn monday() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

#[test]
fn a_flat_day_takes_whole_shifts() {
    let g = grid(30);
    let need = required(&g, monday(), 1, |_, m| if (9 * 60..17 * 60).contains(&m) { 3 } else { 0 });
    let s = generate(&g, &need, &[template("day", 480, "09:00-09:00")]).unwrap();
    assert_eq!(s.method, Method::RoundedRelaxation, "the relaxation is already whole");
    assert_eq!(s.shifts.len(), 1);
    assert_eq!(s.shifts[0].agents, 3);
    assert_eq!(s.paid_hours, 24.0);
    assert!(s.gap.abs() < 1e-9);
}

#[test]
fn an_unpaid_lunch_is_not_work_and_not_paid() {
    let g = grid(30);
    let need = required(&g, monday(), 1, |_, m| if (9 * 60..17 * 60).contains(&m) { 2 } else { 0 });
    let mut full = template("full", 510, "08:30-09:00");
    full.breaks = vec![Break { after_minutes: 240, minutes: 30, paid: false }];
    let s = generate(&g, &need, &[full, template("cover", 60, "12:00-14:00")]).unwrap();
    for c in &s.coverage {
        assert!(c.scheduled >= c.required, "{c:?}");
    }
    let full: Vec<_> = s.shifts.iter().filter(|a| a.template == "full").collect();
    assert_eq!(full.iter().map(|a| a.agents).sum::<u32>(), 2);
    assert!(full.iter().all(|a| a.paid_hours == 8.0), "8.5 hours less the unpaid half hour");
    // Two full shifts (16 paid hours) starting half an hour apart, so one
    // hour's cover from 12:30 takes both lunches.
    assert_eq!(s.paid_hours, 17.0);
    assert!(s.paid_hours >= s.lower_bound_hours - 1e-9);
}

#[test]
fn a_shift_only_works_its_days() {
    let g = grid(60);
    let tuesday = monday().succ_opt().unwrap();
    let need = required(&g, monday(), 2, |d, m| u32::from(d == tuesday && m == 10 * 60));
    let mut mondays = template("mondays", 240, "08:00-12:00");
    mondays.days = vec![Weekday::Mon];
    let s = generate(&g, &need, &[mondays]).unwrap();
    let tuesday_ten = need.iter().find(|&&(_, n)| n > 0).unwrap().0;
    assert_eq!(s.uncovered, vec![tuesday_ten], "the Tuesday interval is reported, not scheduled");
    assert!(s.shifts.is_empty() && s.paid_hours == 0.0);
    let row = s.coverage.iter().find(|c| c.start == tuesday_ten).unwrap();
    assert_eq!((row.required, row.scheduled), (1, 0), "it stays under");
}

#[test]
fn intervals_outside_every_template_leave_the_rest_scheduled() {
    let g = grid(60);
    // Two agents 06:00-07:00 (before the earliest start) and 09:00-11:00.
    let need = required(&g, monday(), 1, |_, m| if m == 6 * 60 || (9 * 60..11 * 60).contains(&m) { 2 } else { 0 });
    let s = generate(&g, &need, &[template("morning", 240, "08:00-10:00")]).unwrap();
    assert_eq!(s.uncovered.len(), 1);
    for c in &s.coverage {
        if s.uncovered.contains(&c.start) {
            assert_eq!(c.scheduled, 0);
        } else {
            assert!(c.scheduled >= c.required, "{c:?}");
        }
    }
    assert_eq!(s.paid_hours, 8.0, "two agents on one four-hour shift");
}

#[test]
fn templates_off_the_grid_are_refused() {
    let g = grid(30);
    let need = required(&g, monday(), 1, |_, _| 1);
    for (t, needle) in [
        (template("odd", 100, "08:00-09:00"), "length_minutes"),
        (template("backwards", 240, "10:00-09:00"), "starts"),
        (template("ragged", 240, "08:15-09:00"), "starts"),
        (
            ShiftTemplate {
                breaks: vec![Break { after_minutes: 210, minutes: 60, paid: true }],
                ..template("late", 240, "08:00-08:00")
            },
            "break ends after",
        ),
    ] {
        let err = generate(&g, &need, &[t]).unwrap_err().to_string();
        assert!(err.contains(needle), "{err}");
    }
}

#[test]
fn random_weeks_are_covered_and_never_beat_the_bound() {
    for (seed, minutes, wide) in [(1, 30, false), (2, 60, false), (3, 15, true), (4, 30, true)] {
        let g = grid(minutes);
        let mut rng = Rng::seeded(seed);
        let peaks: Vec<u32> = (0..7).map(|_| 5 + rng.below(20) as u32).collect();
        // The week of the clock change, so one day has 25 hours.
        let first = NaiveDate::from_ymd_opt(2026, 10, 19).unwrap();
        let need = required(&g, first, 7, |d, m| {
            let peak = peaks[chrono::Datelike::weekday(&d).num_days_from_monday() as usize];
            let hour = m as f64 / 60.0;
            if (7.0..21.0).contains(&hour) {
                (peak as f64 * (1.0 - ((hour - 13.0) / 8.0).powi(2))).ceil() as u32
            } else {
                0
            }
        });
        let starts = if wide { "00:00-23:00" } else { "06:00-14:00" };
        let mut full = template("full", 480, starts);
        full.breaks = vec![Break { after_minutes: 240, minutes: 60, paid: false }];
        let s = generate(&g, &need, &[full, template("part", 240, "07:00-17:00")]).unwrap();
        for c in &s.coverage {
            assert!(c.scheduled >= c.required, "seed {seed}: {c:?}");
        }
        assert!(s.paid_hours + 1e-6 >= s.lower_bound_hours, "seed {seed}");
        let required_hours: f64 = need.iter().map(|&(_, n)| f64::from(n)).sum::<f64>() * f64::from(minutes) / 60.0;
        assert!(s.lower_bound_hours + 1e-6 >= required_hours * 0.999, "seed {seed}: the bound covers the requirement");
        assert!(s.gap < 0.15, "seed {seed}: gap {} with {:?}", s.gap, s.method);
    }
}
