//! One module per subcommand; `run` dispatches.

mod erlang;
mod simulate;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Erlang(args) => erlang::run(args),
        Command::Simulate(args) => simulate::run(args),
    }
}
