//! The failure–repair farm of the engine benchmark, as a plain program for instruction
//! counting: `farm N TRIALS [engine|bare-calendar|binary-heap]` runs TRIALS one-year
//! trials of N independent components (exponential time to failure, mean 10,000 h;
//! repair, mean 10 h) on the engine or on one of the bench's yardsticks, and prints the
//! events fired. `scripts/instructions-per-event.sh` runs it under callgrind.

#[path = "../benches/farm/mod.rs"]
mod farm;

use farm::BareCalendar;
use nines::engine::Scheduler;
use nines::reliability::Dynamics;
use std::collections::BinaryHeap;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let trials: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let events: u64 = match args.next().as_deref().unwrap_or("engine") {
        "engine" => {
            let structure = farm::structure(n);
            let mut dynamics = Dynamics::new(&structure, &[], ());
            let mut scheduler = Scheduler::new(farm::HORIZON);
            (0..trials)
                .map(|trial| farm::engine_trial(&mut dynamics, &mut scheduler, trial))
                .sum()
        }
        "bare-calendar" => {
            let mut bare = BareCalendar::new(n);
            (0..trials).map(|trial| bare.trial(trial)).sum()
        }
        "binary-heap" => {
            let mut heap = BinaryHeap::with_capacity(n);
            let mut up = vec![true; n];
            (0..trials)
                .map(|trial| farm::binary_heap_trial(&mut heap, &mut up, trial))
                .sum()
        }
        other => {
            eprintln!("farm: unknown loop `{other}` (engine, bare-calendar or binary-heap)");
            return ExitCode::from(2);
        }
    };
    println!("{events}");
    ExitCode::SUCCESS
}
