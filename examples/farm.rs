//! The failure–repair farm of the engine benchmark, as a plain program for instruction
//! counting: `farm N TRIALS` runs TRIALS one-year trials of N independent components
//! (exponential time to failure, mean 10,000 h; repair, mean 10 h) and prints the
//! events fired. `scripts/instructions-per-event.sh` runs it under callgrind.

use nines::engine::{self, Scheduler};
use nines::laws::Law;
use nines::reliability::{Dynamics, InitialState, Process, Requirement, StructureBuilder};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let trials: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let process = Process {
        up: Law::exponential(10_000.0).expect("valid"),
        down: Law::exponential(10.0).expect("valid"),
    };
    let mut builder = StructureBuilder::new();
    for _ in 0..n {
        builder.add(
            &builder.len().to_string(),
            Some(process.clone()),
            Requirement::All,
            &[],
        );
    }
    let structure = builder.build();
    let mut dynamics = Dynamics::new(&structure, &[], ());
    let mut scheduler = Scheduler::new(8760.0);
    let mut events = 0;
    for trial in 0..trials {
        scheduler.reset(8760.0);
        dynamics.start(&mut scheduler, InitialState::AllNew, 1, trial);
        events += engine::run(&mut dynamics, &mut scheduler);
    }
    println!("{events}");
}
