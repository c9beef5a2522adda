//! A queue's history for the forecast, from the reports' rollup: contacts
//! offered and the average handle time per interval of the grid, by the
//! same definitions as the reports (core's `metrics`).

use crate::reports::counters;
use crate::reports::rollup::{BUCKET_MS, Key, Rollup};
use std::collections::BTreeMap;
use std::time::Duration;
use switchboard_core::channel::Channel;
use switchboard_core::forecast::{Grid, Observation};
use switchboard_core::ids::QueueId;
use switchboard_core::metrics::{Counters, DEFAULT_SHORT_ABANDON};
use switchboard_core::time::Timestamp;

/// The queue's intervals before `until` (today's first instant: today is
/// not over), in order. The history runs to the day before `until` even
/// when its last days were quiet, so the forecast starts today.
pub(super) fn of_queue(rollup: &Rollup, grid: &Grid, queue: QueueId, until: i64) -> Vec<Observation> {
    let mut by_interval: BTreeMap<i64, Counters> = BTreeMap::new();
    // Handle time does not depend on the service-level threshold.
    let sl = Duration::ZERO;
    for ((bucket, key), cell) in rollup.cells.range(..(until, Key::default())) {
        if key.queue != Some(queue) {
            continue;
        }
        let start = start_of(grid, *bucket);
        *by_interval.entry(start).or_default() += counters(cell, sl, DEFAULT_SHORT_ABANDON);
    }
    let mut history: Vec<Observation> = by_interval
        .into_iter()
        .filter(|(_, c)| c.offered > 0 || c.handled > 0)
        .map(|(start, c)| Observation {
            start: Timestamp(start),
            offered: c.offered as f64,
            aht_seconds: c.summary().aht_seconds,
        })
        .collect();
    // The last day of history is yesterday: an empty row there says so.
    let yesterday = grid.midnight(grid.date(Timestamp(until - 1)));
    if history.last().is_some_and(|o| o.start < yesterday) {
        history.push(Observation { start: yesterday, offered: 0.0, aht_seconds: None });
    }
    history
}

/// The start of the grid interval holding a rollup bucket: intervals step
/// from local midnight, and every bucket lies in exactly one.
fn start_of(grid: &Grid, bucket: i64) -> i64 {
    let midnight = grid.midnight(grid.date(Timestamp(bucket))).0;
    let width = grid.interval_millis();
    debug_assert!(width % BUCKET_MS == 0);
    midnight + (bucket - midnight).div_euclid(width) * width
}

/// How a queue's contacts split over its channels, with each channel's
/// handle time, over `[from, until)`.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct ChannelShare {
    pub channel: Channel,
    /// Of the queue's contacts offered.
    pub share: f64,
    /// Talk, hold and wrap-up per handled contact; `None` with none handled.
    pub aht_seconds: Option<f64>,
}

/// The queue's channels by their share of its contacts, largest first.
pub(super) fn channel_mix(rollup: &Rollup, queue: QueueId, from: i64, until: i64) -> Vec<ChannelShare> {
    let mut by_channel: BTreeMap<Channel, Counters> = BTreeMap::new();
    for ((_, key), cell) in rollup.cells.range((from, Key::default())..(until, Key::default())) {
        if let (Some(q), Some(channel)) = (key.queue, key.channel)
            && q == queue
        {
            *by_channel.entry(channel).or_default() += counters(cell, Duration::ZERO, DEFAULT_SHORT_ABANDON);
        }
    }
    let total: u64 = by_channel.values().map(|c| c.offered).sum();
    let mut mix: Vec<ChannelShare> = by_channel
        .into_iter()
        .filter(|(_, c)| c.offered > 0)
        .map(|(channel, c)| ChannelShare {
            channel,
            share: c.offered as f64 / total as f64,
            aht_seconds: c.summary().aht_seconds,
        })
        .collect();
    mix.sort_by(|a, b| b.share.total_cmp(&a.share));
    mix
}
