//! `switchboard simulate --from-history DAY`: a past day of the data
//! directory's log replayed through the routing engine as it was staffed
//! and with `--agents` changed, next to the day's report (the service's
//! what-if, as the Planning page runs it).

use super::open_store::{config, with_store};
use crate::cli::SimulateArgs;
use crate::table::{Table, percent, seconds};
use anyhow::{Context, bail};
use std::fmt::Write;
use switchboard_core::ids::UserId;
use switchboard_server::auth::Principal;
use switchboard_server::service::planning::whatif::{Outcome, StaffingChange, WhatIf, WhatIfRequest};
use switchboard_server::service::{Service, system_clock};
use switchboard_store::{Role, Store};

pub fn run(args: &SimulateArgs, day: chrono::NaiveDate) -> anyhow::Result<()> {
    let config = config(&args.server, "switchboard-data")?;
    let result = with_store(&config, async |store, config| {
        let workspace = workspace(&store, args.workspace.as_deref()).await?;
        let queues = store.queues(workspace).await?;
        let agents = args
            .agents
            .iter()
            .map(|a| {
                let (name, change) =
                    a.split_once('=').with_context(|| format!("--agents {a}: expected QUEUE=CHANGE"))?;
                let queue = queues.iter().find(|q| q.name == name.trim()).with_context(|| {
                    let names: Vec<&str> = queues.iter().map(|q| q.name.as_str()).collect();
                    format!("--agents {a}: no queue '{name}' (there are {})", names.join(", "))
                })?;
                Ok(StaffingChange { queue: queue.id, change: change.parse().with_context(|| format!("--agents {a}"))? })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let service = Service::new(store, system_clock(), config.session_hours).await?;
        // The command line speaks for whoever may read the data directory.
        let admin = Principal { workspace, user: UserId(0), role: Role::Admin };
        Ok(service.what_if(&admin, &WhatIfRequest { day, agents, seeds: args.seeds }).await?)
    })?;
    if args.json {
        return super::emit(&format!("{}\n", serde_json::to_string_pretty(&result)?));
    }
    super::emit(&render(&result)?)
}

/// The workspace named (by id or name), or the only one.
async fn workspace(store: &Store, named: Option<&str>) -> anyhow::Result<switchboard_core::ids::WorkspaceId> {
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
