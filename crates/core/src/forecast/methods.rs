//! The forecasting methods. Each fits the history and continues it over
//! the intervals that follow, given by their slots.

use super::series::Series;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Each interval as it was a week before: the baseline to beat.
    SeasonalNaive,
    /// Each interval as the mean of the same interval over the last four weeks.
    SeasonalMean,
    /// Additive Holt-Winters: level, trend and a weekly seasonal index per
    /// slot, smoothing constants chosen by the one-step error.
    HoltWinters,
    /// Week totals on a straight line through recent weeks, spread over the
    /// week by its recent profile (the share of a week each slot takes):
    /// peaks grow with the volume.
    WeeklyProfile,
}

impl Method {
    pub const ALL: [Method; 4] =
        [Method::SeasonalNaive, Method::SeasonalMean, Method::HoltWinters, Method::WeeklyProfile];

    /// Whether the history is long enough for the method to fit.
    pub(super) fn fits(self, weeks: usize) -> bool {
        match self {
            Method::SeasonalNaive | Method::SeasonalMean => weeks >= 1,
            Method::HoltWinters => weeks >= 2,
            Method::WeeklyProfile => weeks >= 1,
        }
    }

    pub(super) fn predict(self, train: &Series, horizon: &[usize], per_week: usize) -> Vec<f64> {
        match self {
            Method::SeasonalNaive => seasonal_mean(train, horizon, per_week, 1),
            Method::SeasonalMean => seasonal_mean(train, horizon, per_week, 4),
            Method::HoltWinters => holt_winters(train, horizon, per_week),
            Method::WeeklyProfile => weekly_profile(train, horizon, per_week),
        }
    }
}

/// The mean of the last `weeks` values seen in each slot; a slot never
/// seen (a holiday in a one-week history) takes the mean of all.
fn seasonal_mean(train: &Series, horizon: &[usize], per_week: usize, weeks: usize) -> Vec<f64> {
    let mut recent: Vec<Vec<f64>> = vec![Vec::new(); per_week];
    for (i, &slot) in train.slots.iter().enumerate().rev() {
        if let Some(v) = train.values[i]
            && recent[slot].len() < weeks
        {
            recent[slot].push(v);
        }
    }
    let seen: Vec<f64> = train.values.iter().flatten().copied().collect();
    let overall = mean(&seen).unwrap_or(0.0);
    horizon.iter().map(|&slot| mean(&recent[slot]).unwrap_or(overall)).collect()
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

struct Smoothing {
    alpha: f64,
    beta: f64,
    gamma: f64,
}

/// The state after running through the history, and its one-step error.
struct HoltState {
    level: f64,
    trend: f64,
    season: Vec<f64>,
    sse: f64,
}

fn holt_run(train: &Series, per_week: usize, s: &Smoothing) -> HoltState {
    // Start from the first two weeks: the level is week one's mean, the
    // trend the step from week one to week two, each slot's index its mean
    // distance from the two weeks' mean.
    let weeks = train.week_of_each();
    let (mut sums, mut counts) = ([0.0; 2], [0u32; 2]);
    let mut by_slot = vec![(0.0, 0u32); per_week];
    for (i, v) in train.values.iter().enumerate() {
        if let (Some(v), w @ 0..=1) = (*v, weeks[i]) {
            sums[w] += v;
            counts[w] += 1;
            by_slot[train.slots[i]].0 += v;
            by_slot[train.slots[i]].1 += 1;
        }
    }
    let week_mean = |w: usize| if counts[w] > 0 { sums[w] / f64::from(counts[w]) } else { 0.0 };
    let both = (sums[0] + sums[1]) / f64::from((counts[0] + counts[1]).max(1));
    let mut state = HoltState {
        level: week_mean(0),
        trend: (week_mean(1) - week_mean(0)) / per_week as f64,
        season: by_slot.iter().map(|&(sum, n)| if n > 0 { sum / f64::from(n) - both } else { 0.0 }).collect(),
        sse: 0.0,
    };
    for (i, v) in train.values.iter().enumerate() {
        let slot = train.slots[i];
        let expected = state.level + state.trend + state.season[slot];
        let Some(v) = *v else {
            state.level += state.trend;
            continue;
        };
        if weeks[i] >= 2 {
            state.sse += (v - expected.max(0.0)).powi(2);
        }
        let level = s.alpha * (v - state.season[slot]) + (1.0 - s.alpha) * (state.level + state.trend);
        state.trend = s.beta * (level - state.level) + (1.0 - s.beta) * state.trend;
        state.season[slot] = s.gamma * (v - level) + (1.0 - s.gamma) * state.season[slot];
        state.level = level;
    }
    state
}

fn holt_winters(train: &Series, horizon: &[usize], per_week: usize) -> Vec<f64> {
    // A small grid is enough: the error surface is flat near its minimum,
    // and 48 runs over a few thousand intervals take milliseconds.
    let mut best: Option<HoltState> = None;
    for alpha in [0.01, 0.03, 0.1, 0.3] {
        for beta in [0.0, 1e-4, 1e-3] {
            for gamma in [0.05, 0.1, 0.2, 0.4] {
                let state = holt_run(train, per_week, &Smoothing { alpha, beta, gamma });
                if best.as_ref().is_none_or(|b| state.sse < b.sse) {
                    best = Some(state);
                }
            }
        }
    }
    let Some(state) = best else { return vec![0.0; horizon.len()] };
    horizon
        .iter()
        .enumerate()
        .map(|(h, &slot)| (state.level + (h + 1) as f64 * state.trend + state.season[slot]).max(0.0))
        .collect()
}

/// Weeks whose profile counts: the most recent complete ones.
const PROFILE_WEEKS: usize = 6;
/// Each week older counts this much less in the profile.
const PROFILE_DECAY: f64 = 0.85;
/// Weeks the trend line is drawn through.
const TREND_WEEKS: usize = 8;

fn weekly_profile(train: &Series, horizon: &[usize], per_week: usize) -> Vec<f64> {
    let weeks = train.week_of_each();
    let count = weeks.last().map_or(0, |w| w + 1);
    // Per week: the sum per slot, whether every slot was there, and the total.
    let mut cells = vec![vec![0.0; per_week]; count];
    let mut seen = vec![vec![false; per_week]; count];
    let mut missing = vec![false; count];
    for (i, v) in train.values.iter().enumerate() {
        match v {
            Some(v) => {
                cells[weeks[i]][train.slots[i]] += v;
                seen[weeks[i]][train.slots[i]] = true;
            }
            None => missing[weeks[i]] = true,
        }
    }
    let complete: Vec<usize> =
        (0..count).filter(|&w| !missing[w] && seen[w].iter().all(|&s| s)).rev().take(PROFILE_WEEKS).collect();
    if complete.is_empty() {
        return seasonal_mean(train, horizon, per_week, 4);
    }
    let mut profile = vec![0.0; per_week];
    let mut weight_total = 0.0;
    for (age, &w) in complete.iter().enumerate() {
        let total: f64 = cells[w].iter().sum();
        if total <= 0.0 {
            continue;
        }
        let weight = PROFILE_DECAY.powi(age as i32);
        weight_total += weight;
        for (p, c) in profile.iter_mut().zip(&cells[w]) {
            *p += weight * c / total;
        }
    }
    if weight_total == 0.0 {
        return vec![0.0; horizon.len()];
    }
    profile.iter_mut().for_each(|p| *p /= weight_total);
    // Each week's total, scaled up by the share of the profile it covers
    // when some of it is missing (a holiday, the first partial week).
    let totals: Vec<(f64, f64)> = (0..count)
        .filter_map(|w| {
            let covered: f64 = (0..per_week).filter(|&k| seen[w][k]).map(|k| profile[k]).sum();
            (covered >= 0.5).then(|| (w as f64, cells[w].iter().sum::<f64>() / covered))
        })
        .collect();
    let recent = &totals[totals.len().saturating_sub(TREND_WEEKS)..];
    let line = straight_line(recent);
    let mut week = count.saturating_sub(1) as f64;
    let mut previous = train.slots.last().copied().unwrap_or(0);
    horizon
        .iter()
        .map(|&slot| {
            if slot < previous {
                week += 1.0;
            }
            previous = slot;
            (line(week) * profile[slot]).max(0.0)
        })
        .collect()
}

/// Least squares through (x, y); flat at the mean with fewer than three
/// points, where a slope would be noise.
fn straight_line(points: &[(f64, f64)]) -> impl Fn(f64) -> f64 {
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n.max(1.0);
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n.max(1.0);
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let slope = if points.len() >= 3 && sxx > 0.0 { sxy / sxx } else { 0.0 };
    move |x| mean_y + slope * (x - mean_x)
}
