//! Runs trials of a scenario on one thread, for profiling and instruction counts:
//! `trials SCENARIO [TRIALS]` prints the trials run and the events fired.

use nines::trial::TrialRunner;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: trials SCENARIO [TRIALS]");
    let trials: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let world = nines::scenario::load(std::path::Path::new(&path)).expect("a valid scenario");
    let mut runner = TrialRunner::new(&world);
    let events: u64 = (0..trials).map(|t| runner.run(1, t).events).sum();
    println!("{trials} trials, {events} events");
}
