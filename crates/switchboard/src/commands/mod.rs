//! One module per subcommand; `run` dispatches.

mod data_dir;
mod erlang;
mod serve;
mod simulate;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Erlang(args) => erlang::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Serve(args) => serve::serve(args, false),
        Command::Demo(args) => serve::serve(args, true),
        Command::CreateWorkspace(args) => serve::create_workspace(args),
        Command::Backup(args) => serve::backup(args),
    }
}
