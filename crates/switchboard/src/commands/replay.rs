//! `switchboard simulate --from-history DAY`: a past day of the data
//! directory's log replayed through the routing engine as it was staffed
//! and with `--agents` changed, next to the day's report (the service's
//! what-if, as the Planning page runs it).

use super::open_store::{config, with_store};
use crate::cli::{ServeArgs, SimulateArgs};
use crate::table::{Table, percent, seconds};
use anyhow::{Context, bail};
use std::fmt::Write;
use switchboard_core::ids::UserId;
use switchboard_core::ids::{PolicyId, QueueId, WorkspaceId};
use switchboard_core::queue::OrderingKind;
use switchboard_core::skills::Proficiency;
use switchboard_server::auth::Principal;
use switchboard_server::service::planning::whatif::{
    AgentMove, Outcome, RoutingChange, StaffingChange, WhatIf, WhatIfRequest,
};
use switchboard_server::service::{Service, system_clock};
use switchboard_store::{Role, Store};

pub fn run(args: &SimulateArgs, day: chrono::NaiveDate) -> anyhow::Result<()> {
    let result = as_admin(&args.server, args.workspace.as_deref(), async |service, admin| {
        let names = Names::read(service.store(), admin.workspace).await?;
        let agents = args
            .agents
            .iter()
            .map(|a| {
                let (name, change) =
                    a.split_once('=').with_context(|| format!("--agents {a}: expected QUEUE=CHANGE"))?;
                let queue = names.queue(name).with_context(|| format!("--agents {a}"))?;
                Ok(StaffingChange { queue, change: change.parse().with_context(|| format!("--agents {a}"))? })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let request = WhatIfRequest {
            day,
            agents,
            moves: names.moves(&args.moves, &args.skills)?,
            routing: names.routing(&args.routing)?,
            seeds: args.seeds,
        };
        Ok(service.what_if(&admin, &request).await?)
    })?;
    if args.json {
        return super::emit(&format!("{}\n", serde_json::to_string_pretty(&result)?));
    }
    super::emit(&render(&result)?)
}

/// Runs `f` on a service over the data directory's store, as an admin of
/// its workspace: the command line speaks for whoever may read the data
/// directory.
pub(super) fn as_admin<T>(
    server: &ServeArgs,
    workspace: Option<&str>,
    f: impl AsyncFnOnce(Service, Principal) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let config = config(server, "switchboard-data")?;
    with_store(&config, async |store, config| {
        let workspace = workspace_of(&store, workspace).await?;
        let service = Service::new(store, system_clock(), config.session_hours).await?;
        f(service, Principal { workspace, user: UserId(0), role: Role::Admin }).await
    })
}

/// The workspace's queues, agents and policies by name, for the flags.
struct Names {
    queues: Vec<(String, QueueId)>,
    /// Agents by name and by email.
    agents: Vec<(String, String, UserId)>,
    policies: Vec<(String, PolicyId)>,
}

impl Names {
    async fn read(store: &Store, ws: WorkspaceId) -> anyhow::Result<Names> {
        let users = store.users(ws).await?;
        let agents = store
            .agents(ws)
            .await?
            .into_iter()
            .filter_map(|a| users.iter().find(|u| u.id == a.user).map(|u| (u.name.clone(), u.email.clone(), u.id)))
            .collect();
        Ok(Names {
            queues: store.queues(ws).await?.into_iter().map(|q| (q.name, q.id)).collect(),
            agents,
            policies: store.policies(ws).await?.into_iter().map(|p| (p.name, p.id)).collect(),
        })
    }

    fn queue(&self, name: &str) -> anyhow::Result<QueueId> {
        let name = name.trim();
        self.queues.iter().find(|q| q.0 == name).map(|q| q.1).with_context(|| {
            let all: Vec<&str> = self.queues.iter().map(|q| q.0.as_str()).collect();
            format!("no queue '{name}' (there are {})", all.join(", "))
        })
    }

    fn agent(&self, name: &str) -> anyhow::Result<UserId> {
        let name = name.trim();
        self.agents.iter().find(|a| a.0 == name || a.1.eq_ignore_ascii_case(name)).map(|a| a.2).with_context(|| {
            let all: Vec<&str> = self.agents.iter().map(|a| a.0.as_str()).collect();
            format!("no agent '{name}' (there are {})", all.join(", "))
        })
    }

    /// `--move AGENT=[-]QUEUE` and `--skill AGENT=SKILL:LEVEL`, one move per agent.
    fn moves(&self, moves: &[String], skills: &[String]) -> anyhow::Result<Vec<AgentMove>> {
        let mut by_agent: Vec<AgentMove> = Vec::new();
        fn of(by_agent: &mut Vec<AgentMove>, agent: UserId) -> &mut AgentMove {
            let i = by_agent.iter().position(|m| m.agent == agent).unwrap_or_else(|| {
                by_agent.push(AgentMove { agent, join: vec![], leave: vec![], skills: Default::default() });
                by_agent.len() - 1
            });
            &mut by_agent[i]
        }
        let mut moved = Vec::new();
        for m in moves {
            let (agent, queue) = m.split_once('=').with_context(|| format!("--move {m}: expected AGENT=QUEUE"))?;
            let agent = self.agent(agent).with_context(|| format!("--move {m}"))?;
            let (leave, queue) = match queue.trim().strip_prefix('-') {
                Some(q) => (true, q),
                None => (false, queue),
            };
            moved.push((agent, leave, self.queue(queue).with_context(|| format!("--move {m}"))?));
        }
        for (agent, leave, queue) in moved {
            let m = of(&mut by_agent, agent);
            if leave { m.leave.push(queue) } else { m.join.push(queue) }
        }
        let mut given = Vec::new();
        for s in skills {
            let parsed = s.split_once('=').and_then(|(a, rest)| rest.split_once(':').map(|(k, l)| (a, k, l)));
            let (agent, skill, level) = parsed.with_context(|| format!("--skill {s}: expected AGENT=SKILL:LEVEL"))?;
            let level: u8 = level.trim().parse().with_context(|| format!("--skill {s}: the level is 0 to 10"))?;
            given.push((self.agent(agent).with_context(|| format!("--skill {s}"))?, skill.trim().to_string(), level));
        }
        for (agent, skill, level) in given {
            of(&mut by_agent, agent).skills.insert(skill, Proficiency::Level(level));
        }
        Ok(by_agent)
    }

    /// `--route QUEUE=POLICY` or `QUEUE=ORDERING`.
    fn routing(&self, routes: &[String]) -> anyhow::Result<Vec<RoutingChange>> {
        routes
            .iter()
            .map(|r| {
                let (queue, how) = r.split_once('=').with_context(|| format!("--route {r}: expected QUEUE=POLICY"))?;
                let queue = self.queue(queue).with_context(|| format!("--route {r}"))?;
                let how = how.trim();
                if let Ok(ordering) = serde_json::from_value::<OrderingKind>(serde_json::json!(how)) {
                    return Ok(RoutingChange { queue, policy: None, ordering: Some(ordering) });
                }
                let policy = self.policies.iter().find(|p| p.0 == how).map(|p| p.1).with_context(|| {
                    let all: Vec<&str> = self.policies.iter().map(|p| p.0.as_str()).collect();
                    format!("--route {r}: no policy or ordering '{how}' (the policies are {})", all.join(", "))
                })?;
                Ok(RoutingChange { queue, policy: Some(policy), ordering: None })
            })
            .collect()
    }
}

/// The workspace named (by id or name), or the only one.
async fn workspace_of(store: &Store, named: Option<&str>) -> anyhow::Result<switchboard_core::ids::WorkspaceId> {
    let all = store.workspaces().await?;
    let list = || all.iter().map(|w| format!("{} ({})", w.name, w.id)).collect::<Vec<_>>().join(", ");
    match named {
        Some(n) => all
            .iter()
            .find(|w| w.name == n || w.id.0.to_string() == n || w.id.to_string() == n)
            .map(|w| w.id)
            .with_context(|| format!("no workspace '{n}' (there are {})", list())),
        None if all.len() == 1 => Ok(all[0].id),
        None if all.is_empty() => bail!("the data directory has no workspace"),
        None => bail!("the data directory has {} workspaces: pick one with --workspace ({})", all.len(), list()),
    }
}

fn render(w: &WhatIf) -> anyhow::Result<String> {
    let mut out = String::new();
    writeln!(out, "{} ({}): {} contacts replayed, {} times each staffing\n", w.day, w.time_zone, w.contacts, w.seeds)?;
    let mut t = Table::new(&["queue", "", "agents", "offered", "handled", "abandoned", "SL", "ASA (s)", "AHT (s)"]);
    for q in &w.queues {
        let row = |what: &str, agents: String, o: &Outcome| {
            vec![
                q.name.clone(),
                what.to_string(),
                agents,
                format!("{:.1}", o.offered),
                format!("{:.1}", o.handled),
                format!("{:.1}", o.abandoned),
                percent(o.service_level),
                seconds(o.asa_seconds),
                seconds(o.aht_seconds),
            ]
        };
        t.row(row("actual", q.agents.to_string(), &q.actual));
        t.row(row("replayed", q.agents.to_string(), &q.replayed));
        t.row(row("what if", q.agents_what_if.to_string(), &q.what_if));
    }
    write!(out, "{}", t.render())?;
    Ok(out)
}
