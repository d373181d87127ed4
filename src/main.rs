//! The `nines` command: parse arguments, run, and map every error to an exit code in
//! one place (0 success, 1 the machine failed us, 2 the input is wrong).

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = nines::cli::Cli::parse();
    match nines::cli::execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
