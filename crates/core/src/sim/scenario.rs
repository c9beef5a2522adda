//! Scenario files: what to simulate, in TOML. See `examples/*.toml`.

use super::dist::Dist;
use crate::agent::{AgentConfig, Capacity, Membership};
use crate::attributes::Attributes;
use crate::calendar::{Calendar, Hours};
use crate::channel::{Channel, ChannelSet};
use crate::expr::Value;
use crate::ids::{AgentId, PolicyId, QueueId};
use crate::policy::{self, Policy, PolicyError, StepSpec};
use crate::queue::{
    DECLINE_COOLDOWN_RANGE, OFFER_TIMEOUT_RANGE, OrderingKind, OverflowAction, QueueConfig, WrapUp, seconds_within,
};
use crate::skills::{Proficiency, SkillRegistry};
use crate::time::Timestamp;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default)]
    pub seed: u64,
    /// RFC 3339; interval labels use its UTC offset.
    #[serde(default = "default_start")]
    pub start: String,
    pub duration_hours: f64,
    #[serde(default = "default_interval")]
    pub interval_minutes: u32,
    /// Contacts arriving in the first minutes are simulated but not counted,
    /// so that steady-state figures start from a loaded system.
    #[serde(default)]
    pub warmup_minutes: f64,
    /// How long after the last arrival the run may go on to empty the queues.
    #[serde(default = "default_drain")]
    pub drain_hours: f64,
    #[serde(default = "default_short_abandon")]
    pub short_abandon_seconds: f64,
    pub queues: Vec<QueueSpec>,
    pub arrivals: Vec<ArrivalSpec>,
    pub agents: Vec<AgentGroupSpec>,
}

fn default_start() -> String {
    "2026-01-05T08:00:00Z".into()
}
fn default_interval() -> u32 {
    30
}
fn default_drain() -> f64 {
    2.0
}
fn default_short_abandon() -> f64 {
    5.0
}
fn default_sl() -> f64 {
    20.0
}
fn default_offer_timeout() -> f64 {
    30.0
}
fn default_decline_cooldown() -> f64 {
    crate::queue::DEFAULT_DECLINE_COOLDOWN.as_secs_f64()
}
fn default_count() -> u32 {
    1
}
fn default_channels() -> Vec<Channel> {
    vec![Channel::Voice]
}
fn default_steps() -> Vec<StepSpec> {
    vec![StepSpec { expr: "true".into(), wait: None, skip_if_unstaffed: false }]
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    pub name: String,
    #[serde(default = "default_channels")]
    pub channels: Vec<Channel>,
    #[serde(default = "default_sl")]
    pub sl_seconds: f64,
    #[serde(default)]
    pub ordering: OrderingKind,
    #[serde(default)]
    pub wrap_up_seconds: f64,
    #[serde(default = "default_offer_timeout")]
    pub offer_timeout_seconds: f64,
    #[serde(default = "default_decline_cooldown")]
    pub decline_cooldown_seconds: f64,
    pub max_wait_seconds: Option<f64>,
    pub max_length: Option<u32>,
    #[serde(default)]
    pub overflow: OverflowSpec,
    #[serde(default)]
    pub sticky_seconds: f64,
    #[serde(default = "default_steps")]
    pub steps: Vec<StepSpec>,
    pub calendar: Option<Calendar>,
    #[serde(default = "voicemail")]
    pub after_hours: OverflowSpec,
}

fn voicemail() -> OverflowSpec {
    OverflowSpec::Action(OverflowKeyword::Voicemail)
}

/// `"callback"`, `"voicemail"`, `"disconnect"` or `{ queue = "name" }`.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum OverflowSpec {
    Action(OverflowKeyword),
    Queue { queue: String },
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverflowKeyword {
    Callback,
    Voicemail,
    Disconnect,
}

impl Default for OverflowSpec {
    fn default() -> Self {
        OverflowSpec::Action(OverflowKeyword::Disconnect)
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrivalSpec {
    pub queue: String,
    /// Defaults to the queue's first channel.
    pub channel: Option<Channel>,
    /// Contacts per interval, the same all day.
    pub per_interval: Option<f64>,
    /// Contacts per interval, one value per interval of the run.
    pub profile: Option<Vec<f64>>,
    pub handle_time: Dist,
    /// How long customers wait before hanging up; none = for ever.
    pub patience: Option<Dist>,
    #[serde(default)]
    pub priority: i32,
    #[serde(default)]
    pub attributes: BTreeMap<String, Value>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentGroupSpec {
    #[serde(default = "default_count")]
    pub count: u32,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub skills: BTreeMap<String, Proficiency>,
    pub capacity: Option<Capacity>,
    pub queues: Vec<MembershipSpec>,
    /// Local clock hours on the start day, e.g. "08:00-16:00"; none = all run.
    pub shift: Option<Hours>,
    /// Ring time before a simulated agent accepts an offer.
    #[serde(default)]
    pub answer_seconds: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum MembershipSpec {
    Name(String),
    Full {
        queue: String,
        #[serde(default = "one")]
        priority: u8,
        #[serde(default)]
        delay_seconds: f64,
    },
}

fn one() -> u8 {
    1
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{0}")]
    Parse(String),
    #[error("{context}: unknown queue '{name}'")]
    UnknownQueue { context: String, name: String },
    #[error("queue '{queue}': {source}")]
    Policy { queue: String, source: PolicyError },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid { field: field.into(), message: message.into() }
}

fn secs(field: &str, v: f64) -> Result<Duration, ScenarioError> {
    Duration::try_from_secs_f64(v)
        .map_err(|_| invalid(field, format!("must be a non-negative number of seconds, got {v}")))
}

fn within(field: &str, v: f64, range: &std::ops::RangeInclusive<f64>) -> Result<Duration, ScenarioError> {
    seconds_within(v, range).map_err(|message| invalid(field, message))
}

/// A scenario checked and turned into engine configuration.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub seed: u64,
    pub start: Timestamp,
    /// UTC offset of `start`, for interval labels and shifts.
    pub offset_minutes: i32,
    pub end: Timestamp,
    pub interval: Duration,
    pub intervals: usize,
    pub warmup_end: Timestamp,
    pub drain_end: Timestamp,
    pub short_abandon: Duration,
    pub queue_names: Vec<String>,
    pub policies: Vec<Policy>,
    pub queues: Vec<QueueConfig>,
    pub streams: Vec<Stream>,
    pub agents: Vec<SimAgentSpec>,
    /// Each agent group as one agent of it (id 0): the staffing search
    /// makes as many as it wants of each.
    pub groups: Vec<GroupTemplate>,
    /// Contacts that arrive at given times with given handle times (a day
    /// of history replayed), besides the streams' Poisson arrivals.
    pub replay: Vec<Replayed>,
}

/// One contact of a replayed history.
#[derive(Clone, Debug, PartialEq)]
pub struct Replayed {
    pub at: Timestamp,
    pub queue: QueueId,
    pub channel: Channel,
    /// Talk and hold once answered (the queue's wrap-up follows).
    pub handle: Duration,
    /// How long the customer waits at least before leaving; `None` for
    /// ever. A customer who left waited exactly this; one who was answered
    /// would have waited at least as long as they did.
    pub patience: Option<Duration>,
    /// Drawn and added to `patience`: what is not known of an answered
    /// customer's patience.
    pub more_patience: Option<Dist>,
}

#[derive(Clone, Debug)]
pub struct GroupTemplate {
    pub name: String,
    pub agent: SimAgentSpec,
}

#[derive(Clone, Debug)]
pub struct Stream {
    pub queue: QueueId,
    pub channel: Channel,
    /// Contacts per interval.
    pub counts: Vec<f64>,
    pub handle_time: Dist,
    pub patience: Option<Dist>,
    pub priority: i32,
    /// Shared by every contact of the stream.
    pub attributes: Attributes,
}

#[derive(Clone, Debug)]
pub struct SimAgentSpec {
    pub config: AgentConfig,
    pub shift: Option<(Timestamp, Timestamp)>,
    /// Spans within the shift when the agent is away (breaks, lunch).
    pub away: Vec<(Timestamp, Timestamp)>,
    pub answer: Duration,
}

impl Compiled {
    /// The local start of interval `i`, "HH:MM", by the start's UTC offset.
    pub fn interval_label(&self, i: usize) -> String {
        let local = self.start.0 + i as i64 * self.interval.as_millis() as i64 + self.offset_minutes as i64 * 60_000;
        Timestamp(local).to_utc().format("%H:%M").to_string()
    }

    /// The same scenario with `agents[group][interval]` agents of each group
    /// on duty instead of the groups' counts and shifts: one simulated agent
    /// per unbroken run of intervals in which its group has at least that
    /// many; those on at the last interval stay on to drain the queues.
    pub fn with_staffing(&self, agents: &[Vec<u32>]) -> Compiled {
        let at = |i: usize| if i >= self.intervals { self.drain_end } else { self.start + self.interval * i as u32 };
        let mut on_duty = Vec::new();
        for (template, counts) in self.groups.iter().zip(agents) {
            let most = counts.iter().copied().max().unwrap_or(0);
            for k in 0..most {
                let mut i = 0;
                while i < counts.len() {
                    if counts[i] <= k {
                        i += 1;
                        continue;
                    }
                    let from = i;
                    while i < counts.len() && counts[i] > k {
                        i += 1;
                    }
                    let mut agent = template.agent.clone();
                    agent.config.id = AgentId(on_duty.len() as u64 + 1);
                    agent.shift = Some((at(from), at(i)));
                    on_duty.push(agent);
                }
            }
        }
        Compiled { agents: on_duty, ..self.clone() }
    }
}

impl Scenario {
    pub fn from_toml(text: &str) -> Result<Scenario, ScenarioError> {
        toml::from_str(text).map_err(|e| ScenarioError::Parse(e.to_string()))
    }

    pub fn compile(&self) -> Result<Compiled, ScenarioError> {
        let start_dt = chrono::DateTime::parse_from_rfc3339(&self.start)
            .map_err(|e| invalid("start", format!("'{}' is not an RFC 3339 time ({e})", self.start)))?;
        let start = Timestamp(start_dt.timestamp_millis());
        let offset_minutes = start_dt.offset().local_minus_utc() / 60;
        if !(self.duration_hours.is_finite() && self.duration_hours > 0.0) {
            return Err(invalid("duration_hours", format!("must be positive, got {}", self.duration_hours)));
        }
        if self.interval_minutes == 0 {
            return Err(invalid("interval_minutes", "must be at least 1"));
        }
        let duration = secs("duration_hours", self.duration_hours * 3600.0)?;
        let interval = Duration::from_secs(self.interval_minutes as u64 * 60);
        let intervals = (duration.as_secs_f64() / interval.as_secs_f64()).ceil() as usize;
        let end = start + duration;
        if self.queues.is_empty() {
            return Err(invalid("queues", "a scenario needs at least one queue"));
        }

        let mut skills = SkillRegistry::new();
        for g in &self.agents {
            for name in g.skills.keys() {
                skills.intern(name);
            }
        }
        let queue_id = |context: &str, name: &str| -> Result<QueueId, ScenarioError> {
            self.queues
                .iter()
                .position(|q| q.name == name)
                .map(|i| QueueId(i as u64 + 1))
                .ok_or_else(|| ScenarioError::UnknownQueue { context: context.into(), name: name.into() })
        };
        let overflow = |context: &str, spec: &OverflowSpec| -> Result<OverflowAction, ScenarioError> {
            Ok(match spec {
                OverflowSpec::Queue { queue } => OverflowAction::Queue(queue_id(context, queue)?),
                OverflowSpec::Action(OverflowKeyword::Callback) => OverflowAction::Callback,
                OverflowSpec::Action(OverflowKeyword::Voicemail) => OverflowAction::Voicemail,
                OverflowSpec::Action(OverflowKeyword::Disconnect) => OverflowAction::Disconnect,
            })
        };

        let mut policies = Vec::new();
        let mut queues = Vec::new();
        for (i, q) in self.queues.iter().enumerate() {
            let id = QueueId(i as u64 + 1);
            let field = |f: &str| format!("queues.{}.{f}", q.name);
            if self.queues[..i].iter().any(|o| o.name == q.name) {
                return Err(invalid(field("name"), "two queues have this name"));
            }
            if q.channels.is_empty() {
                return Err(invalid(field("channels"), "a queue needs at least one channel"));
            }
            let policy = policy::compile(PolicyId(id.0), &q.steps, &skills)
                .map_err(|source| ScenarioError::Policy { queue: q.name.clone(), source })?;
            policies.push(policy);
            let mut cfg =
                QueueConfig::new(id, q.name.clone(), ChannelSet::of(q.channels.iter().copied()), PolicyId(id.0));
            cfg.ordering = q.ordering;
            cfg.sl_threshold = secs(&field("sl_seconds"), q.sl_seconds)?;
            cfg.wrap_up = WrapUp::Fixed(secs(&field("wrap_up_seconds"), q.wrap_up_seconds)?);
            cfg.offer_timeout = within(&field("offer_timeout_seconds"), q.offer_timeout_seconds, &OFFER_TIMEOUT_RANGE)?;
            cfg.decline_cooldown =
                within(&field("decline_cooldown_seconds"), q.decline_cooldown_seconds, &DECLINE_COOLDOWN_RANGE)?;
            cfg.max_wait = q.max_wait_seconds.map(|s| secs(&field("max_wait_seconds"), s)).transpose()?;
            cfg.max_length = q.max_length;
            cfg.overflow = overflow(&field("overflow"), &q.overflow)?;
            cfg.after_hours = overflow(&field("after_hours"), &q.after_hours)?;
            cfg.sticky = secs(&field("sticky_seconds"), q.sticky_seconds)?;
            cfg.calendar = q.calendar.clone();
            queues.push(cfg);
        }

        let mut streams = Vec::new();
        for (i, a) in self.arrivals.iter().enumerate() {
            let field = |f: &str| format!("arrivals[{i}].{f}");
            let queue = queue_id(&field("queue"), &a.queue)?;
            let qspec = &self.queues[queue.0 as usize - 1];
            let channel = a.channel.unwrap_or(qspec.channels[0]);
            if !qspec.channels.contains(&channel) {
                return Err(invalid(field("channel"), format!("queue '{}' does not serve {channel}", qspec.name)));
            }
            let counts = match (&a.per_interval, &a.profile) {
                (Some(n), None) => vec![*n; intervals],
                (None, Some(p)) if p.len() == intervals => p.clone(),
                (None, Some(p)) => {
                    return Err(invalid(
                        field("profile"),
                        format!("has {} values, the run has {intervals} intervals", p.len()),
                    ));
                }
                _ => return Err(invalid(field("per_interval"), "give exactly one of per_interval and profile")),
            };
            if let Some(bad) = counts.iter().find(|c| !(c.is_finite() && **c >= 0.0)) {
                return Err(invalid(field("profile"), format!("contacts per interval must be >= 0, got {bad}")));
            }
            a.handle_time.validate().map_err(|m| invalid(field("handle_time"), m))?;
            if let Some(p) = &a.patience {
                p.validate().map_err(|m| invalid(field("patience"), m))?;
            }
            streams.push(Stream {
                queue,
                channel,
                counts,
                handle_time: a.handle_time,
                patience: a.patience,
                priority: a.priority,
                attributes: Attributes::from(a.attributes.clone()),
            });
        }

        let day_start = {
            let local = start_dt.date_naive().and_hms_opt(0, 0, 0).expect("midnight exists");
            Timestamp((local.and_utc().timestamp() - offset_minutes as i64 * 60) * 1000)
        };
        let mut agents = Vec::new();
        let mut groups = Vec::new();
        for (g, group) in self.agents.iter().enumerate() {
            let field = |f: &str| format!("agents[{g}].{f}");
            let memberships = group
                .queues
                .iter()
                .map(|m| {
                    Ok(match m {
                        MembershipSpec::Name(name) => Membership::new(queue_id(&field("queues"), name)?),
                        MembershipSpec::Full { queue, priority, delay_seconds } => Membership {
                            queue: queue_id(&field("queues"), queue)?,
                            priority: *priority,
                            delay: secs(&field("delay_seconds"), *delay_seconds)?,
                        },
                    })
                })
                .collect::<Result<Vec<_>, ScenarioError>>()?;
            let shift = group.shift.map(|h| {
                let (from, to) = h.minutes();
                let to = if to <= from { to + 24 * 60 } else { to };
                let at = |m: u32| day_start + Duration::from_secs(m as u64 * 60);
                (at(from), at(to))
            });
            let mut config = AgentConfig::new(AgentId(0));
            for (name, p) in &group.skills {
                config.skills.set(skills.intern(name), p.level());
            }
            config.capacity = group.capacity.clone().unwrap_or_default();
            config.memberships = memberships;
            let template = SimAgentSpec {
                config,
                shift,
                away: Vec::new(),
                answer: secs(&field("answer_seconds"), group.answer_seconds)?,
            };
            for _ in 0..group.count {
                let mut agent = template.clone();
                agent.config.id = AgentId(agents.len() as u64 + 1);
                agents.push(agent);
            }
            let name = if group.name.is_empty() { format!("group {}", g + 1) } else { group.name.clone() };
            groups.push(GroupTemplate { name, agent: template });
        }

        Ok(Compiled {
            seed: self.seed,
            start,
            offset_minutes,
            end,
            interval,
            intervals,
            warmup_end: start + secs("warmup_minutes", self.warmup_minutes * 60.0)?,
            drain_end: end + secs("drain_hours", self.drain_hours * 3600.0)?,
            short_abandon: secs("short_abandon_seconds", self.short_abandon_seconds)?,
            queue_names: self.queues.iter().map(|q| q.name.clone()).collect(),
            policies,
            queues,
            streams,
            agents,
            groups,
            replay: Vec::new(),
        })
    }
}
