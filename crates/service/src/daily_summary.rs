//! The daily summary: yesterday's totals per queue (offered, handled,
//! abandoned, service level, ASA, AHT, CSAT — the reports' figures, for the
//! workspace's local day) sent each day at a local time an admin sets, to
//! one of the workspace's webhooks (signed like every delivery) and/or by
//! email through an email endpoint's relay.
//!
//! A summary is an event of kind `daily_summary`, committed with the
//! workspace's `daily_summary_sent` document naming its day: the day is
//! sent once, even across restarts — a server that was down at the set
//! time sends it when it comes back, that same day. The webhook delivery
//! posts the event (its payload names the webhook); the email goes out
//! after the commit, at most once.

use crate::auth::Principal;
use crate::conversation::Notice;
use crate::kinds::Kind;
use crate::reports::intervals::Interval;
use crate::reports::{Bound, DEFAULT_FCR_WINDOW, Dimension, ReportRequest, Row};
use crate::{Service, ServiceError, audit, require};
use chrono::{NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use switchboard_core::channel::Channel;
use switchboard_core::ids::{EndpointId, WorkspaceId};
use switchboard_core::metrics::DEFAULT_SHORT_ABANDON;
use switchboard_core::time::Timestamp;
use switchboard_store::{Change, Document, NewEvent, Role, StoreError};

const SETTINGS_KIND: &str = "daily_summary_settings";
const SENT_KIND: &str = "daily_summary_sent";
/// One document of each kind per workspace.
const ID: u64 = 1;
/// Recipients of one summary at most.
const MAX_RECIPIENTS: usize = 20;
/// How often the server looks whether a summary is due.
const CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// A workspace's daily summary settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DailySummarySettings {
    pub enabled: bool,
    /// The local time to send at, `HH:MM` in the workspace's time zone.
    pub at: String,
    /// The webhook to post the summary to.
    #[serde(default)]
    pub webhook: Option<u64>,
    #[serde(default)]
    pub email: Option<SummaryEmail>,
}

/// Where the summary is mailed: through this email endpoint's relay, from its address.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryEmail {
    pub endpoint: EndpointId,
    pub to: Vec<String>,
}

impl Default for DailySummarySettings {
    fn default() -> Self {
        DailySummarySettings { enabled: false, at: "08:00".into(), webhook: None, email: None }
    }
}

fn parse_at(at: &str) -> Result<NaiveTime, ServiceError> {
    NaiveTime::parse_from_str(at.trim(), "%H:%M")
        .map_err(|_| ServiceError::invalid("at", "a local time as HH:MM, e.g. 07:30"))
}

/// The first instant of local `day` at or after `at`: on a day the clocks
/// skip `at` (02:30 when they jump from 02:00 to 03:00), the first minute
/// after the gap; on a day it happens twice, the first time.
pub fn send_instant(zone: Tz, day: NaiveDate, at: NaiveTime) -> Timestamp {
    let mut local = day.and_time(at);
    // A gap is at most a few hours; a minute at a time finds its end.
    for _ in 0..24 * 60 {
        if let Some(t) = zone.from_local_datetime(&local).earliest() {
            return Timestamp(t.timestamp_millis());
        }
        local += chrono::Duration::minutes(1);
    }
    Timestamp(zone.from_utc_datetime(&day.and_time(at)).timestamp_millis())
}

/// The day whose summary is due at `now`: yesterday (local), once today's
/// send time has come; `None` before it or when that day was `last` sent.
pub fn due_day(zone: Tz, at: NaiveTime, now: Timestamp, last: Option<NaiveDate>) -> Option<NaiveDate> {
    let today = zone.timestamp_millis_opt(now.0).single()?.date_naive();
    let day = today.pred_opt()?;
    (now >= send_instant(zone, today, at) && last.is_none_or(|l| l < day)).then_some(day)
}

/// One line of the summary: a queue's figures, or the totals'.
fn figures(row: &Row) -> Value {
    json!({
        "offered": row.offered,
        "handled": row.handled,
        "abandoned": row.abandoned,
        "service_level": row.service_level,
        "asa_seconds": row.asa_seconds,
        "aht_seconds": row.aht_seconds,
        "csat_mean": row.csat_mean,
        "csat_count": row.csat_count,
    })
}

fn percent(x: Option<f64>) -> String {
    x.map_or("–".into(), |v| format!("{:.1} %", v * 100.0))
}

fn seconds(x: Option<f64>) -> String {
    x.map_or("–".into(), |v| format!("{v:.0} s"))
}

/// The summary as the text of an email.
fn text_of(name: &str, date: NaiveDate, zone: Tz, rows: &[(String, &Row)]) -> String {
    let mut out = format!("{name}: {date} ({})\n\n", zone.name());
    if rows.is_empty() {
        out.push_str("No contacts that day.\n");
        return out;
    }
    out.push_str("queue                          offered handled abandoned     SL    ASA    AHT  CSAT\n");
    for (label, r) in rows {
        let csat = r.csat_mean.map_or("–".into(), |c| format!("{c:.2}"));
        out.push_str(&format!(
            "{:<30} {:>7} {:>7} {:>9} {:>7} {:>6} {:>6} {:>5}\n",
            label.chars().take(30).collect::<String>(),
            r.offered,
            r.handled,
            r.abandoned,
            percent(r.service_level),
            seconds(r.asa_seconds),
            seconds(r.aht_seconds),
            csat
        ));
    }
    out
}

impl Service {
    /// The workspace's daily summary settings (admins).
    pub async fn daily_summary(&self, p: &Principal) -> Result<DailySummarySettings, ServiceError> {
        require(p, Role::Admin)?;
        self.summary_settings(p.workspace).await
    }

    async fn summary_settings(&self, ws: WorkspaceId) -> Result<DailySummarySettings, ServiceError> {
        Ok(match self.store().document(ws, SETTINGS_KIND, ID).await? {
            Some(d) => serde_json::from_value(d.body).map_err(StoreError::from)?,
            None => DailySummarySettings::default(),
        })
    }

    /// Sets the daily summary, checking what it names.
    pub async fn set_daily_summary(
        &self,
        p: &Principal,
        mut s: DailySummarySettings,
    ) -> Result<DailySummarySettings, ServiceError> {
        require(p, Role::Admin)?;
        s.at = parse_at(&s.at)?.format("%H:%M").to_string();
        if let Some(id) = s.webhook
            && !self.store().webhooks(p.workspace).await?.iter().any(|w| w.id == id)
        {
            return Err(ServiceError::invalid("webhook", format!("no webhook {id}")));
        }
        if let Some(email) = &mut s.email {
            let endpoint = self.endpoint(p, email.endpoint).await.map_err(|e| match e {
                ServiceError::NotFound(m) => ServiceError::invalid("email.endpoint", format!("{m} not found")),
                other => other,
            })?;
            if endpoint.channel != Channel::Email || endpoint.settings.get("smtp_host").is_none() {
                return Err(ServiceError::invalid(
                    "email.endpoint",
                    "an email endpoint with an smtp_host to send through",
                ));
            }
            if email.to.is_empty() || email.to.len() > MAX_RECIPIENTS {
                return Err(ServiceError::invalid("email.to", format!("1 to {MAX_RECIPIENTS} addresses")));
            }
            for (i, to) in email.to.iter_mut().enumerate() {
                *to = crate::names::line(&format!("email.to[{i}]"), to, 254)?;
                let ok = to.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !to.contains(' '));
                if !ok {
                    return Err(ServiceError::invalid(format!("email.to[{i}]"), "an email address"));
                }
            }
        }
        if s.enabled && s.webhook.is_none() && s.email.is_none() {
            return Err(ServiceError::invalid("webhook", "name a webhook or an email to send the summary to"));
        }
        let now = self.now();
        self.commit_and_publish(vec![
            Change::PutDocument(Document {
                workspace: p.workspace,
                kind: SETTINGS_KIND.into(),
                id: ID,
                body: serde_json::to_value(&s).map_err(StoreError::from)?,
                updated_at: now,
            }),
            audit::entry(p, now, "set_daily_summary", "daily_summary".into()),
        ])
        .await?;
        Ok(s)
    }

    /// Sends every workspace's summary that is due at `now`; answers how
    /// many went. The server calls it every half minute with its clock.
    pub async fn send_daily_summaries(&self, now: Timestamp) -> Result<usize, ServiceError> {
        let mut sent = 0;
        for w in self.store().workspaces().await? {
            match self.send_daily_summary(w.id, now).await {
                Ok(true) => sent += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, workspace = %w.id, "sending the daily summary"),
            }
        }
        Ok(sent)
    }

    async fn send_daily_summary(&self, ws: WorkspaceId, now: Timestamp) -> Result<bool, ServiceError> {
        let settings = self.summary_settings(ws).await?;
        if !settings.enabled {
            return Ok(false);
        }
        let zone = self.time_zone(ws).await?;
        let last = match self.store().document(ws, SENT_KIND, ID).await? {
            Some(d) => d.body.get("date").and_then(Value::as_str).and_then(|s| s.parse::<NaiveDate>().ok()),
            None => None,
        };
        let Some(day) = due_day(zone, parse_at(&settings.at)?, now, last) else { return Ok(false) };
        let request = ReportRequest {
            from: Bound::Date(day),
            to: Bound::Date(day.succ_opt().unwrap_or(day)),
            interval: Interval::Day,
            dimension: Dimension::Queues,
            short_abandon: DEFAULT_SHORT_ABANDON,
            fcr_window: DEFAULT_FCR_WINDOW,
        };
        let queues = self.workspace_report(ws, &request).await?;
        let totals =
            self.workspace_report(ws, &ReportRequest { dimension: Dimension::Totals, ..request.clone() }).await?;
        let total = totals.rows.first();
        let name = self.workspace_record(ws).await?.name;
        let rows: Vec<Value> = queues
            .rows
            .iter()
            .map(|r| {
                let mut v = figures(r);
                v["queue"] = r.id.clone();
                v["name"] = json!(r.name);
                v
            })
            .collect();
        let payload = json!({
            "type": Kind::DailySummary.as_str(),
            "date": day.to_string(),
            "time_zone": zone.name(),
            "from": queues.from,
            "to": queues.to,
            "totals": total.map(figures),
            "queues": rows,
            "webhooks": settings.webhook.into_iter().collect::<Vec<_>>(),
            "email": settings.email.as_ref().map(|e| json!({ "endpoint": e.endpoint, "to": e.to })),
        });
        self.commit_and_publish(vec![
            Change::Append(NewEvent {
                workspace: ws,
                at: now,
                kind: Kind::DailySummary.as_str().into(),
                contact: None,
                agent: None,
                queue: None,
                customer: None,
                payload,
            }),
            Change::PutDocument(Document {
                workspace: ws,
                kind: SENT_KIND.into(),
                id: ID,
                body: json!({ "date": day.to_string() }),
                updated_at: now,
            }),
        ])
        .await?;
        if let Some(email) = settings.email {
            let mut lines: Vec<(String, &Row)> = queues.rows.iter().map(|r| (r.name.clone(), r)).collect();
            lines.extend(total.map(|t| ("All queues".to_string(), t)));
            let notice = Notice {
                to: email.to,
                subject: format!("{name}: daily summary for {day}"),
                text: text_of(&name, day, zone, &lines),
            };
            // Recorded as sent already: a failure is logged, not retried tomorrow.
            if let Err(e) = self.send_notice(email.endpoint, notice).await {
                tracing::warn!(error = %e, workspace = %ws, "mailing the daily summary");
            }
        }
        Ok(true)
    }

    /// Mails `notice` through an email endpoint's channel.
    async fn send_notice(&self, endpoint: EndpointId, notice: Notice) -> Result<(), ServiceError> {
        let found = self
            .endpoint_by_id(endpoint)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("endpoint {}", endpoint.0)))?;
        let adapter = self
            .channels()
            .get(found.channel)
            .ok_or_else(|| ServiceError::Unsupported(format!("no {} channel is running", found.channel.as_str())))?;
        adapter.notify(&found, notice).await.map_err(|e| ServiceError::Unsupported(e.to_string()))
    }

    /// Sends the daily summaries as they fall due, until `stop` changes.
    pub fn spawn_daily_summaries(self, mut stop: tokio::sync::watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(CHECK_EVERY);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.changed() => return,
                }
                if let Err(e) = self.send_daily_summaries(self.now()).await {
                    tracing::warn!(error = %e, "sending daily summaries");
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(zone: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> Timestamp {
        Timestamp(zone.with_ymd_and_hms(y, m, d, h, min, 0).earliest().unwrap().timestamp_millis())
    }

    #[test]
    fn a_day_is_due_once_its_next_morning_has_come() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let eight = NaiveTime::from_hms_opt(8, 0, 0).unwrap();
        let d = |day| NaiveDate::from_ymd_opt(2026, 3, day).unwrap();
        assert_eq!(due_day(berlin, eight, at(berlin, 2026, 3, 10, 7, 59), None), None);
        assert_eq!(due_day(berlin, eight, at(berlin, 2026, 3, 10, 8, 0), None), Some(d(9)));
        assert_eq!(due_day(berlin, eight, at(berlin, 2026, 3, 10, 23, 0), Some(d(9))), None, "sent already");
        assert_eq!(due_day(berlin, eight, at(berlin, 2026, 3, 10, 9, 0), Some(d(7))), Some(d(9)), "only yesterday");
    }

    #[test]
    fn send_times_follow_daylight_saving() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let half_two = NaiveTime::from_hms_opt(2, 30, 0).unwrap();
        // 29 March 2026: 02:00 becomes 03:00; 02:30 does not exist.
        let spring = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        assert_eq!(send_instant(berlin, spring, half_two), at(berlin, 2026, 3, 29, 3, 0));
        assert_eq!(due_day(berlin, half_two, at(berlin, 2026, 3, 29, 1, 59), None), None);
        assert_eq!(due_day(berlin, half_two, at(berlin, 2026, 3, 29, 3, 0), None), spring.pred_opt());
        // 25 October 2026: 03:00 becomes 02:00; 02:30 happens twice, the first one counts.
        let autumn = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
        let first = send_instant(berlin, autumn, half_two);
        assert_eq!(first.0, chrono::Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).unwrap().timestamp_millis());
        // The same local hour, eight hours apart in UTC, on either side.
        let eight = NaiveTime::from_hms_opt(8, 0, 0).unwrap();
        let summer = send_instant(berlin, NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(), eight);
        assert_eq!(summer.0, chrono::Utc.with_ymd_and_hms(2026, 7, 1, 6, 0, 0).unwrap().timestamp_millis());
    }

    #[test]
    fn a_day_without_contacts_says_so() {
        let text = text_of("Acme", NaiveDate::from_ymd_opt(2026, 3, 9).unwrap(), Tz::UTC, &[]);
        assert_eq!(text, "Acme: 2026-03-09 (UTC)\n\nNo contacts that day.\n");
    }
}
