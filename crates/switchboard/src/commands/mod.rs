//! One module per subcommand; `run` dispatches.

mod backup;
mod create_workspace;
mod data_dir;
mod erlang;
mod open_store;
mod plan;
mod private_files;
mod replay;
mod serve;
mod simulate;
mod simulated;
mod staffing;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Erlang(args) => erlang::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Serve(args) => serve::serve(args, false),
        Command::Demo(args) => serve::serve(args, true),
        Command::CreateWorkspace(args) => create_workspace::run(args),
        Command::Backup(args) => backup::run(args),
    }
}

/// Writes a command's output to stdout. A reader that has gone away
/// (`switchboard erlang … | head -1`) is no error: the command ends quietly,
/// as Unix tools do, where `println!` would panic.
pub fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => Ok(result?),
    }
}
