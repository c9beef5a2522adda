//! How long reports take over a year of the demo's generated history: the
//! first report after a start (which folds the whole log) and a year's
//! report after that. Not run by default; docs/BENCHMARKS.md has its numbers:
//! `cargo test --release -p switchboard-service --test reports_speed -- --ignored --nocapture`.

// The benchmark needs only part of the shared support.
#[allow(dead_code, unused_imports, unused_macros)]
mod support;

use std::time::{Duration, Instant};
use switchboard_core::metrics::DEFAULT_SHORT_ABANDON;
use switchboard_service::demo;
use switchboard_service::reports::intervals::Interval;
use switchboard_service::reports::{Bound, DEFAULT_FCR_WINDOW, Dimension, ReportRequest};

async fn a_year_of_reports(url: String) {
    let service = support::service(&url).await;
    let started = Instant::now();
    let admin = demo::ensure_with_history(&service, None, 365).await.unwrap().admin;
    let seeded = started.elapsed();
    let events = service.store().events(admin.workspace, 0, u32::MAX).await.unwrap().len();
    let today = chrono::Utc::now().date_naive();
    let year = |interval, dimension| ReportRequest {
        from: Bound::Date(today - chrono::Duration::days(365)),
        to: Bound::Date(today),
        interval,
        dimension,
        short_abandon: DEFAULT_SHORT_ABANDON,
        fcr_window: DEFAULT_FCR_WINDOW,
    };
    // A restart: a new service on the same database folds the log again.
    let service = support::service(&url).await;
    let t = Instant::now();
    let first = service.report(&admin, &year(Interval::Month, Dimension::Totals)).await.unwrap();
    let first_time = t.elapsed();
    let handled: u64 = first.rows.iter().map(|r| r.handled).sum();
    let mut timings: Vec<(String, Duration, usize)> = Vec::new();
    for (interval, dimension, name) in [
        (Interval::Month, Dimension::Totals, "totals by month"),
        (Interval::Day, Dimension::Queues, "queues by day"),
        (Interval::Day, Dimension::Agents, "agents by day"),
        (Interval::Week, Dimension::Channels, "channels by week"),
        (Interval::Minutes30, Dimension::Totals, "totals by 30 minutes"),
    ] {
        let t = Instant::now();
        let rows = service.report(&admin, &year(interval, dimension)).await.unwrap().rows.len();
        timings.push((name.to_string(), t.elapsed(), rows));
    }
    println!("{url}");
    println!("seeded 365 days: {events} events, {handled} handled, in {seeded:.1?}");
    println!("first report after a start (folds the log): {first_time:.1?}");
    for (name, d, rows) in timings {
        println!("a year, {name}: {rows} rows in {d:.1?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn a_year_of_reports_on_sqlite() {
    a_year_of_reports(support::sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn a_year_of_reports_on_postgres() {
    a_year_of_reports(support::postgres_url().await).await;
}
