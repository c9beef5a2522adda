//! The forecast on synthetic histories with a known pattern: it recovers
//! the pattern, beats "as last week", respects holidays, closed hours,
//! adjustments and daylight-saving days.

use chrono::{Datelike, NaiveDate, Timelike};
use chrono_tz::Tz;
use switchboard_core::calendar::{Calendar, Holiday};
use switchboard_core::forecast::{Adjustment, Forecast, ForecastError, Grid, Method, Observation, Request, forecast};
use switchboard_core::plan::{Targets, staff};
use switchboard_core::rng::Rng;
use switchboard_core::time::Timestamp;

/// Contacts expected in the 30-minute interval starting at `local`: open
/// 08:00–20:00 on weekdays with a morning and an afternoon peak, 10:00–16:00
/// on Saturdays, closed on Sundays; `growth` per week.
fn expected(grid: &Grid, at: Timestamp, week: f64, growth: f64) -> f64 {
    let local = grid.local(at);
    let hour = local.hour() as f64 + local.minute() as f64 / 60.0;
    let scale = (1.0 + growth).powf(week);
    let day = local.weekday().num_days_from_monday();
    let base = match day {
        0..=4 if (8.0..20.0).contains(&hour) => {
            let morning = (-((hour - 10.5) / 1.5_f64).powi(2)).exp();
            let afternoon = (-((hour - 15.0) / 2.0_f64).powi(2)).exp();
            8.0 + 40.0 * morning + 28.0 * afternoon + if day == 0 { 10.0 } else { 0.0 }
        }
        5 if (10.0..16.0).contains(&hour) => 12.0,
        _ => 0.0,
    };
    base * scale
}

fn poisson(rng: &mut Rng, mean: f64) -> f64 {
    if mean <= 0.0 {
        return 0.0;
    }
    let limit = (-mean).exp();
    let (mut k, mut p) = (0.0, 1.0);
    loop {
        p *= rng.next_f64();
        if p <= limit {
            return k;
        }
        k += 1.0;
    }
}

fn history(grid: &Grid, first: NaiveDate, days: u32, growth: f64, seed: u64) -> Vec<Observation> {
    let mut rng = Rng::seeded(seed);
    grid.intervals(first, days)
        .into_iter()
        .filter_map(|start| {
            let week = (grid.date(start) - first).num_days() as f64 / 7.0;
            let offered = poisson(&mut rng, expected(grid, start, week, growth));
            // Reports leave empty intervals out; so does this history.
            (offered > 0.0).then_some(Observation { start, offered, aht_seconds: Some(240.0 + rng.next_f64() * 120.0) })
        })
        .collect()
}

fn request<'a>(grid: Grid, history: &'a [Observation], days: u32) -> Request<'a> {
    Request { grid, history, days, calendar: None, adjustments: &[], method: None }
}

fn wape_against_truth(grid: &Grid, f: &Forecast, first: NaiveDate, growth: f64) -> f64 {
    let (mut error, mut total) = (0.0, 0.0);
    for i in &f.intervals {
        let week = (grid.date(i.start) - first).num_days() as f64 / 7.0;
        let truth = expected(grid, i.start, week, growth);
        error += (truth - i.offered).abs();
        total += truth;
    }
    error / total
}

fn berlin() -> Grid {
    Grid::new("Europe/Berlin".parse().unwrap(), 30).unwrap()
}

#[test]
fn recovers_a_known_weekly_pattern_and_beats_last_week() {
    let grid = berlin();
    let first = NaiveDate::from_ymd_opt(2026, 9, 7).unwrap();
    for seed in 1..=5 {
        let h = history(&grid, first, 8 * 7, 0.0, seed);
        let f = forecast(&request(grid, &h, 7)).unwrap();
        let evaluation = f.evaluation.as_ref().expect("eight weeks are enough to hold one out");
        let score = |m| evaluation.scores.iter().find(|s| s.method == m).unwrap().accuracy.wape.unwrap();
        let chosen = score(f.method);
        let naive = score(Method::SeasonalNaive);
        assert!(chosen < naive, "seed {seed}: {:?} at {chosen} does not beat the naive {naive}", f.method);
        let truth = wape_against_truth(&grid, &f, first, 0.0);
        // Poisson noise alone puts "as last week" about 17 % away from the
        // truth at these volumes; averaging weeks must do much better.
        assert!(truth < 0.08, "seed {seed}: {:?} is {truth} away from the true rates", f.method);
        assert_eq!(f.intervals.len(), 7 * 48);
        assert!(f.intervals.iter().all(|i| i.aht_seconds.is_some_and(|a| (240.0..=360.0).contains(&a))));
    }
}

#[test]
fn follows_a_trend() {
    let grid = berlin();
    let first = NaiveDate::from_ymd_opt(2026, 8, 3).unwrap();
    let growth = 0.05;
    let h = history(&grid, first, 10 * 7, growth, 7);
    let f = forecast(&request(grid, &h, 7)).unwrap();
    let truth = wape_against_truth(&grid, &f, first, growth);
    assert!(truth < 0.08, "{:?} is {truth} away from a growing truth", f.method);
    let forecast_total: f64 = f.intervals.iter().map(|i| i.offered).sum();
    let last_week: f64 =
        h.iter().rev().take_while(|o| grid.date(o.start) > first + chrono::Days::new(62)).map(|o| o.offered).sum();
    assert!(forecast_total > last_week, "growth carried forward: {forecast_total} after {last_week}");
}

#[test]
fn holidays_are_left_out_and_closed_hours_are_empty() {
    let grid = berlin();
    let first = NaiveDate::from_ymd_opt(2026, 9, 7).unwrap();
    let mut h = history(&grid, first, 5 * 7, 0.0, 3);
    // A Wednesday of the last week was a holiday: almost no one called.
    let holiday = NaiveDate::from_ymd_opt(2026, 10, 7).unwrap();
    h.retain(|o| grid.date(o.start) != holiday);
    let mut calendar: Calendar = toml::from_str(
        r#"
        time_zone = "Europe/Berlin"
        [weekly]
        mon = ["08:00-20:00"]
        tue = ["08:00-20:00"]
        wed = ["08:00-20:00"]
        thu = ["08:00-20:00"]
        fri = ["08:00-20:00"]
        sat = ["10:00-16:00"]
        "#,
    )
    .unwrap();
    let without = forecast(&Request { method: Some(Method::SeasonalNaive), ..request(grid, &h, 7) }).unwrap();
    calendar.holidays.push(Holiday { date: holiday, hours: vec![], name: "Founders' Day".into() });
    let coming = NaiveDate::from_ymd_opt(2026, 10, 15).unwrap();
    calendar.holidays.push(Holiday { date: coming, hours: vec![], name: "Closed".into() });
    let with =
        forecast(&Request { calendar: Some(&calendar), method: Some(Method::SeasonalNaive), ..request(grid, &h, 7) })
            .unwrap();
    let wednesday = |f: &Forecast| -> f64 {
        f.intervals.iter().filter(|i| grid.local(i.start).weekday() == chrono::Weekday::Wed).map(|i| i.offered).sum()
    };
    assert_eq!(wednesday(&without), 0.0, "without the calendar the holiday looks like a dead Wednesday");
    assert!(wednesday(&with) > 300.0, "with it, the Wednesday before stands in: {}", wednesday(&with));
    for i in &with.intervals {
        let open = calendar.is_open(i.start);
        assert_eq!(i.open, open);
        if !open {
            assert_eq!(i.offered, 0.0, "closed at {}", grid.local(i.start));
        }
        if grid.date(i.start) == coming {
            assert!(!i.open);
        }
    }
}

#[test]
fn adjustments_multiply_where_they_apply() {
    let grid = berlin();
    let first = NaiveDate::from_ymd_opt(2026, 9, 7).unwrap();
    let h = history(&grid, first, 3 * 7, 0.0, 5);
    let plain = forecast(&request(grid, &h, 7)).unwrap();
    let monday = NaiveDate::from_ymd_opt(2026, 9, 28).unwrap();
    let from = grid.midnight(monday);
    let to = Timestamp(from.0 + 12 * 3_600_000);
    let adjustments = [Adjustment { from, to, factor: 1.2, note: "campaign".into() }];
    let adjusted = forecast(&Request { adjustments: &adjustments, ..request(grid, &h, 7) }).unwrap();
    for (a, p) in adjusted.intervals.iter().zip(&plain.intervals) {
        if (from..to).contains(&a.start) {
            assert!((a.offered - 1.2 * p.offered).abs() < 1e-9);
            assert_eq!(a.adjusted, Some(1.2));
        } else {
            assert_eq!(a.offered, p.offered);
            assert_eq!(a.adjusted, None);
        }
    }
    let backwards = [Adjustment { from: to, to: from, factor: 1.2, note: String::new() }];
    assert!(matches!(
        forecast(&Request { adjustments: &backwards, ..request(grid, &h, 7) }),
        Err(ForecastError::Adjustment { index: 0, .. })
    ));
}

#[test]
fn a_forecast_across_the_clock_change_keeps_the_local_pattern() {
    let grid = Grid::new("Europe/Berlin".parse::<Tz>().unwrap(), 60).unwrap();
    // Five weeks ending on the Saturday before the clocks go back.
    let first = NaiveDate::from_ymd_opt(2026, 9, 20).unwrap();
    let h = history(&grid, first, 5 * 7, 0.0, 11);
    let f = forecast(&request(grid, &h, 2)).unwrap();
    let sunday = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
    assert_eq!(grid.date(f.intervals[0].start), sunday);
    assert_eq!(f.intervals.len(), 25 + 24, "the long Sunday, then Monday");
    // Monday's peak stays at its local hour, whatever the UTC offset.
    let monday: Vec<_> = f.intervals.iter().filter(|i| grid.local(i.start).weekday() == chrono::Weekday::Mon).collect();
    let peak = monday.iter().max_by(|a, b| a.offered.total_cmp(&b.offered)).unwrap();
    let true_peak = monday
        .iter()
        .max_by(|a, b| expected(&grid, a.start, 0.0, 0.0).total_cmp(&expected(&grid, b.start, 0.0, 0.0)))
        .unwrap();
    assert_eq!(grid.local(peak.start).hour(), grid.local(true_peak.start).hour());
    assert_eq!(grid.local(peak.start).hour(), 11);
}

#[test]
fn bad_history_is_refused_with_its_row() {
    let grid = berlin();
    let start = grid.midnight(NaiveDate::from_ymd_opt(2026, 9, 7).unwrap());
    let off = [Observation { start: Timestamp(start.0 + 60_000), offered: 1.0, aht_seconds: None }];
    assert!(matches!(forecast(&request(grid, &off, 7)), Err(ForecastError::OffGrid { row: 0, .. })));
    let short = [Observation { start, offered: 1.0, aht_seconds: None }];
    assert!(matches!(forecast(&request(grid, &short, 7)), Err(ForecastError::NotEnoughHistory { days: 1 })));
    let later = Timestamp(start.0 + 8 * 86_400_000);
    let unordered = [
        Observation { start: later, offered: 1.0, aht_seconds: None },
        Observation { start, offered: 1.0, aht_seconds: None },
    ];
    assert!(matches!(forecast(&request(grid, &unordered, 7)), Err(ForecastError::Unordered { row: 1, .. })));
    let negative = [
        Observation { start, offered: -1.0, aht_seconds: None },
        Observation { start: later, offered: 1.0, aht_seconds: None },
    ];
    assert!(matches!(forecast(&request(grid, &negative, 7)), Err(ForecastError::Value { row: 0, .. })));
    let nan = [
        Observation { start, offered: 1.0, aht_seconds: Some(f64::NAN) },
        Observation { start: later, offered: 1.0, aht_seconds: None },
    ];
    assert!(matches!(forecast(&request(grid, &nan, 7)), Err(ForecastError::Value { row: 0, .. })));
    assert!(matches!(forecast(&request(grid, &nan, 0)), Err(ForecastError::Days(0))));
}

#[test]
fn the_plan_staffs_every_interval_and_none_when_empty() {
    let grid = berlin();
    let first = NaiveDate::from_ymd_opt(2026, 9, 7).unwrap();
    let h = history(&grid, first, 4 * 7, 0.0, 2);
    let f = forecast(&request(grid, &h, 7)).unwrap();
    let targets = Targets {
        sl_target: 0.8,
        sl_threshold: std::time::Duration::from_secs(20),
        shrinkage: 0.3,
        max_occupancy: None,
        patience: None,
        aht: None,
    };
    let plan = staff(&f, &grid, &targets).unwrap();
    assert_eq!(plan.rows.len(), f.intervals.len());
    for (row, i) in plan.rows.iter().zip(&f.intervals) {
        if i.offered == 0.0 {
            assert_eq!((row.agents, row.service_level), (0, None));
        } else {
            assert!(row.service_level.unwrap() >= 0.8);
            assert!(row.scheduled_agents as f64 >= row.agents as f64 / 0.7 - 1e-9);
            let traffic = i.offered * row.aht_seconds / 1800.0;
            assert!(row.agents as f64 > traffic);
        }
    }
    assert!(plan.peak_agents > 10 && plan.scheduled_hours > plan.agent_hours);
}
