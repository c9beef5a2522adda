//! `create-workspace`: a workspace and its first administrator.

use super::open_store::{config, with_store};
use crate::cli::CreateWorkspaceArgs;
use switchboard_server::service::{NewUser, Service, system_clock};
use switchboard_store::Role;

pub fn run(args: CreateWorkspaceArgs) -> anyhow::Result<()> {
    let config = config(&args.server, "switchboard-data")?;
    with_store(&config, async |store, config| {
        let service = Service::new(store, system_clock(), config.session_hours).await?;
        let a = args;
        let admin = NewUser { email: a.admin_email, name: a.admin_name, role: Role::Admin, password: a.admin_password };
        let (ws, user) = service.create_workspace(&a.name, admin).await?;
        println!("created workspace {} ({}) with administrator {}", ws.name, ws.id, user.email);
        Ok(())
    })
}
