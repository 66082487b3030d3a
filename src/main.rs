//! The `dmarcflow` command: wiring of the workspace crates, nothing more.

mod parse_cmd;
mod report_writer;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "dmarcflow",
    version,
    about = "DMARC aggregate, DMARC failure and SMTP TLS report pipeline"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse files, directories, maildirs and mbox files; write one
    /// normalised JSON report per line to stdout.
    Parse(ParseArgs),
}

#[derive(clap::Args)]
pub struct ParseArgs {
    /// Files or directories (walked recursively): .eml, .mbox, maildirs,
    /// raw .xml/.gz/.zip/.json.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Write rejected inputs here (JSON lines) instead of to stderr.
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Most bytes one report may decompress to.
    #[arg(long, default_value_t = dmarcflow_parse::Limits::default().max_decompressed)]
    pub max_decompressed: u64,
    /// Most decompressed bytes per compressed byte.
    #[arg(long, default_value_t = dmarcflow_parse::Limits::default().max_ratio)]
    pub max_ratio: u64,
    /// Raw files larger than this are parsed as streams.
    #[arg(long, default_value_t = 64 << 20)]
    pub stream_threshold: u64,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Parse(args) => parse_cmd::run(&args),
    };
    match outcome {
        Ok(summary) if summary.rejected == 0 => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("dmarcflow: {e:#}");
            ExitCode::from(2)
        }
    }
}
