//! Command-line interface.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about = "Open-source omnichannel contact center")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the contact center server.
    Serve(ServeArgs),
    /// Run the server with a ready-made demo workspace (created on first run).
    Demo(ServeArgs),
    /// Create a workspace and its first administrator.
    CreateWorkspace(CreateWorkspaceArgs),
    /// Copy the SQLite database while the server runs.
    Backup(BackupArgs),
    /// Staffing with Erlang C (or Erlang A with --patience): agents needed for a service-level target.
    Erlang(ErlangArgs),
    /// Simulate a day (or a year) of a contact center, driving the real routing engine.
    Simulate(SimulateArgs),
    /// Forecast contacts per interval from history and staff each interval for a service level.
    Plan(PlanArgs),
}

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct ErlangArgs {
    /// Contacts arriving per interval.
    #[arg(long)]
    pub calls: f64,
    /// Interval length in minutes.
    #[arg(long, default_value_t = 30.0)]
    pub interval_minutes: f64,
    /// Average handle time in seconds (talk + hold + wrap-up).
    #[arg(long)]
    pub aht: f64,
    #[command(flatten)]
    pub targets: TargetArgs,
    /// Evaluate exactly this many agents instead of searching for the minimum.
    #[arg(long)]
    pub agents: Option<u32>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// What staffing aims for, alike in `erlang` and `plan`.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Service-level target as a fraction, e.g. 0.8 for 80 % (the default; `plan --simulate`
    /// staffs each queue for its own target unless this is given).
    #[arg(long)]
    pub sl_target: Option<f64>,
    /// Service-level threshold T in seconds ("answered within T").
    #[arg(long, default_value_t = 20.0)]
    pub sl_seconds: f64,
    /// Share of paid time agents are not available (breaks, training), as a fraction.
    #[arg(long, default_value_t = 0.0)]
    pub shrinkage: f64,
    /// Highest acceptable occupancy, as a fraction.
    #[arg(long)]
    pub max_occupancy: Option<f64>,
    /// Mean customer patience in seconds: use Erlang A, which models abandonment.
    #[arg(long)]
    pub patience: Option<f64>,
}

impl TargetArgs {
    /// The target given, else 80 %.
    pub fn sl_target(&self) -> f64 {
        self.sl_target.unwrap_or(0.8)
    }
}

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct PlanArgs {
    /// History as CSV with a header: start,offered[,aht_seconds]; start is RFC 3339
    /// (2026-11-02T09:30:00+01:00), local time in --time-zone (2026-11-02 09:30) or milliseconds
    /// since the epoch. A report's CSV (GET /api/v1/reports/queues?...&format=csv) is such a file.
    #[arg(required_unless_present_any = ["scenario", "simulate"], conflicts_with_all = ["scenario", "simulate"])]
    pub history: Option<PathBuf>,
    /// Staff a simulation scenario instead (see `simulate`): the fewest agents of each group per
    /// interval with which every queue meets --sl-target when the real engine routes its demand.
    #[arg(long, conflicts_with = "simulate")]
    pub scenario: Option<PathBuf>,
    /// Staff a day of a data directory's workspace on the simulator instead, as the Planning page
    /// does: every queue's forecast from its history, the agents configured alike as groups, the
    /// workspace's routing; each queue meets its own service-level target unless --sl-target.
    #[arg(long)]
    pub simulate: bool,
    /// With --simulate: the local day to staff, today to 13 days ahead (default: the first with
    /// contacts forecast).
    #[arg(long, requires = "simulate")]
    pub day: Option<chrono::NaiveDate>,
    /// With --simulate: the workspace (its id or name) when the store has several.
    #[arg(long, requires = "simulate")]
    pub workspace: Option<String>,
    /// With --simulate: seconds the search may take before it stops with what it has found.
    #[arg(long, default_value_t = 60.0)]
    pub search_seconds: f64,
    /// With --simulate: draft a roster of the week holding this day instead (nothing is stored),
    /// its shifts covering the --requirement; --search-seconds is then the whole week's.
    #[arg(long, value_name = "DAY", requires = "simulate", conflicts_with = "day")]
    pub roster: Option<chrono::NaiveDate>,
    /// With --roster: the agents per interval the shifts cover, each queue's Erlang C or every
    /// queue together on the simulator.
    #[arg(long, requires = "roster", default_value = "simulated", value_parser = ["erlang", "simulated"])]
    pub requirement: String,
    #[command(flatten)]
    pub server: ServeArgs,
    /// Only the history's rows with this name (a queue, an endpoint, a channel), for a report's
    /// CSV with a row per queue and interval.
    #[arg(long)]
    pub queue: Option<String>,
    /// Simulated days per evaluation with --scenario or --simulate (at most 20 with --simulate).
    #[arg(long, default_value_t = 20)]
    pub seeds: u32,
    /// The workspace's time zone (IANA name); intervals follow its clock. Default: that of
    /// --hours, else UTC.
    #[arg(long)]
    pub time_zone: Option<String>,
    /// Interval length in minutes (it must divide a day).
    #[arg(long, default_value_t = 30)]
    pub interval_minutes: u32,
    /// Days to forecast, from the day after the history's last.
    #[arg(long, default_value_t = 7)]
    pub days: u32,
    /// Business hours (TOML: time_zone, [weekly], [[holidays]]): holidays are left out of the
    /// fit and closed intervals forecast empty.
    #[arg(long)]
    pub hours: Option<PathBuf>,
    /// A planner's change, FROM/TO=CHANGE in local time, e.g.
    /// 2026-11-09T08:00/2026-11-09T12:00=+20% (or =1.2); may be repeated.
    #[arg(long = "adjust")]
    pub adjustments: Vec<String>,
    /// Forecast with this method instead of the best on the held-out week.
    #[arg(long, value_parser = ["seasonal_naive", "seasonal_mean", "holt_winters", "weekly_profile"])]
    pub method: Option<String>,
    /// Average handle time in seconds where the history has none.
    #[arg(long)]
    pub aht: Option<f64>,
    #[command(flatten)]
    pub targets: TargetArgs,
    /// Shift templates (TOML `[[shifts]]`: name, length_minutes, starts, breaks, days): schedule
    /// the plan with the fewest paid hours.
    #[arg(long)]
    pub shifts: Option<PathBuf>,
    /// Seconds of branch and bound for --shifts before the best schedule found is taken (its gap
    /// to the bound is printed either way).
    #[arg(long, default_value_t = 10.0)]
    pub schedule_seconds: f64,
    /// Print every interval, not only each day's totals.
    #[arg(long)]
    pub intervals: bool,
    /// Print one JSON object (forecast, evaluation and plan) instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Scenario file (TOML); see examples/. Not with --from-history.
    #[arg(required_unless_present = "from_history", conflicts_with = "from_history")]
    pub scenario: Option<PathBuf>,
    /// Replay this past day (YYYY-MM-DD in the workspace's time zone) of the data directory's
    /// history, as staffed and with --agents changed, next to what really happened.
    #[arg(long, value_name = "DAY")]
    pub from_history: Option<chrono::NaiveDate>,
    /// With --from-history: a queue's agents changed, QUEUE=+N, QUEUE=-N or QUEUE=N (the
    /// queue's name); may be repeated.
    #[arg(long = "agents", value_name = "QUEUE=CHANGE", requires = "from_history")]
    pub agents: Vec<String>,
    /// With --from-history: AGENT=QUEUE has the agent (their name or email) also serve the queue,
    /// AGENT=-QUEUE stop serving it; may be repeated.
    #[arg(long = "move", value_name = "AGENT=QUEUE", requires = "from_history")]
    pub moves: Vec<String>,
    /// With --from-history: AGENT=SKILL:LEVEL gives the agent a skill at a level (0 takes it
    /// away); may be repeated.
    #[arg(long = "skill", value_name = "AGENT=SKILL:LEVEL", requires = "from_history")]
    pub skills: Vec<String>,
    /// With --from-history: QUEUE=POLICY routes the queue by another of the workspace's routing
    /// policies (its name), QUEUE=ORDERING orders its agents otherwise (longest_idle,
    /// most_skilled, least_skilled, least_occupied, round_robin, random); may be repeated.
    #[arg(long = "route", value_name = "QUEUE=POLICY", requires = "from_history")]
    pub routing: Vec<String>,
    /// With --from-history: the workspace (its id or name) when the store has several.
    #[arg(long, requires = "from_history")]
    pub workspace: Option<String>,
    /// With --from-history: replays of each staffing, averaged.
    #[arg(long, default_value_t = 3)]
    pub seeds: u32,
    #[command(flatten)]
    pub server: ServeArgs,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write an SVG chart of service level and queue length over the day.
    #[arg(long)]
    pub chart: Option<PathBuf>,
    /// Print only the totals, not every interval.
    #[arg(long)]
    pub summary: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration file (TOML); SWITCHBOARD_* environment variables override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Directory for the SQLite database.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free one).
    #[arg(long)]
    pub http: Option<std::net::SocketAddr>,
    #[command(flatten)]
    pub smtp: SmtpArgs,
    #[command(flatten)]
    pub sip: SipArgs,
}

/// The SIP user agent taking calls to voice endpoints' numbers (docs/VOICE.md).
#[derive(Debug, Args)]
pub struct SipArgs {
    /// Address to take calls on (UDP and TCP), e.g. 0.0.0.0:5060; `demo` listens on 127.0.0.1:5060 unless told.
    #[arg(long, env = "SWITCHBOARD_SIP")]
    pub sip: Option<std::net::SocketAddr>,
    /// The address put in SDP and Contact when --sip is a wildcard (0.0.0.0).
    #[arg(long, env = "SWITCHBOARD_SIP_PUBLIC_IP")]
    pub sip_public_ip: Option<std::net::IpAddr>,
    /// UDP ports for the calls' audio, START-END (RTP on even ports, RTCP on the odd one above).
    #[arg(long, env = "SWITCHBOARD_RTP_PORTS", default_value = "20000-20999", value_parser = port_range)]
    pub rtp_ports: (u16, u16),
    /// SIP messages one source address may send per second (a token bucket; beyond it they are
    /// dropped unread). A trunk sends every call from one address: raise it for a busy trunk.
    #[arg(long, env = "SWITCHBOARD_SIP_SOURCE_RATE", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub sip_source_rate: u32,
    /// SIP messages one source address may send at once, before the rate applies.
    #[arg(long, env = "SWITCHBOARD_SIP_SOURCE_BURST", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub sip_source_burst: u32,
}

fn port_range(s: &str) -> Result<(u16, u16), String> {
    let (a, b) = s.split_once('-').ok_or("expected START-END, e.g. 20000-20999")?;
    let (a, b): (u16, u16) =
        (a.trim().parse().map_err(|e| format!("{e}"))?, b.trim().parse().map_err(|e| format!("{e}"))?);
    if a > b || b - a < 1 {
        return Err("START must be below END".into());
    }
    Ok((a, b))
}

/// The SMTP listener taking mail for email endpoints (docs/EMAIL.md).
#[derive(Debug, Args)]
pub struct SmtpArgs {
    /// Address to take mail on, e.g. 0.0.0.0:25; `demo` listens on 127.0.0.1:2525 unless told.
    #[arg(long, env = "SWITCHBOARD_SMTP")]
    pub smtp: Option<std::net::SocketAddr>,
    /// The name the SMTP listener greets with (its MX host name).
    #[arg(long, env = "SWITCHBOARD_SMTP_HOSTNAME", default_value = "localhost")]
    pub smtp_hostname: String,
    /// The largest message taken, in bytes.
    #[arg(long, env = "SWITCHBOARD_SMTP_MAX_SIZE", default_value_t = 25 * 1024 * 1024)]
    pub smtp_max_size: usize,
    /// Connections open at once from one address: raise it when a relay
    /// (Postfix, a provider) sends all the mail.
    #[arg(long, env = "SWITCHBOARD_SMTP_CONNECTIONS_PER_IP", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub smtp_connections_per_ip: u32,
    /// Messages one sender may send in 10 minutes before being deferred
    /// (450): what cuts a mail loop.
    #[arg(long, env = "SWITCHBOARD_SMTP_SENDER_LIMIT", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    pub smtp_sender_limit: u32,
    /// Certificate chain (PEM) for STARTTLS; with --smtp-tls-key.
    #[arg(long, env = "SWITCHBOARD_SMTP_TLS_CERT", requires = "smtp_tls_key")]
    pub smtp_tls_cert: Option<PathBuf>,
    /// Private key (PEM) for STARTTLS.
    #[arg(long, env = "SWITCHBOARD_SMTP_TLS_KEY", requires = "smtp_tls_cert")]
    pub smtp_tls_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CreateWorkspaceArgs {
    #[command(flatten)]
    pub server: ServeArgs,
    /// The workspace's name.
    #[arg(long)]
    pub name: String,
    /// The administrator's email (the login).
    #[arg(long)]
    pub admin_email: String,
    /// The administrator's name.
    #[arg(long, default_value = "Administrator")]
    pub admin_name: String,
    /// The administrator's password; read from SWITCHBOARD_ADMIN_PASSWORD if not given.
    #[arg(long, env = "SWITCHBOARD_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: String,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub server: ServeArgs,
    /// Where to write the copy (must not exist).
    pub to: PathBuf,
}
