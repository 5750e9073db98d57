//! `tessera-link`: record linkage for migrating a legacy PAS extract.
//!
//!   tessera-link --config mapping.toml --left a.csv --right b.csv --out pairs.csv
//!   tessera-link --config mapping.toml --dedupe a.csv --out pairs.csv [--clusters c.csv]
//!   tessera-link generate --records 10000 --seed 1 --out people.csv [--left l.csv --right r.csv]
//!   tessera-link evaluate --truth people.csv --pairs pairs.csv [--right-truth r.csv]
//!
//! Same matcher as the MPI (`tessera-matching`); weights learned from the files themselves.
use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod evaluate;
mod generate;
mod link;
mod mapping;

#[derive(Parser)]
#[command(name = "tessera-link", about = "Link or deduplicate patient extracts")]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: link::RunArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Write a labelled synthetic population (column `cluster` is the truth).
    Generate(generate::GenerateArgs),
    /// Precision, recall and F1 of a pairs file against labelled data.
    Evaluate(evaluate::EvaluateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Generate(a)) => generate::run(&a),
        Some(Command::Evaluate(a)) => evaluate::run(&a),
        None => link::run(&cli.run),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tessera-link: {e}");
            ExitCode::FAILURE
        }
    }
}
