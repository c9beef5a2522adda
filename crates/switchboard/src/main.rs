//! `switchboard`: the one binary of the Switchboard contact center.

mod chart;
mod cli;
mod commands;
mod table;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", report(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The error and its causes, each said once. Library errors often show
/// their cause in their own message as well as exposing it as the source
/// (and sqlx's wrap a database error that repeats it again), so `{:#}`
/// printed the same words two or three times; a cause whose text is
/// already there is left out.
fn report(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let cause = cause.to_string();
        if text.contains(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}
