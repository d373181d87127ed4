//! Where every random draw comes from.
//!
//! A run's randomness is a pure function of its seed: trial `i` draws from generators
//! seeded from `(seed, i, purpose)` alone, so a trial gives the same result whichever
//! thread, process or shard runs it. Each purpose has its own stream, so that drawing
//! more numbers for one purpose (an extra ride-through decision, say) leaves the others'
//! draws where they were.
//!
//! The generator is Xoshiro256++ (Blackman & Vigna), a named, portable algorithm whose
//! output is fixed by its specification. Its 256-bit state is filled by SplitMix64 from
//! a 64-bit key that mixes the seed, the trial index and the purpose.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The generator every simulation draw comes from.
pub type SimRng = Xoshiro256PlusPlus;

/// What a stream is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// Initial states, times to failure and times to repair.
    Lifetimes = 1,
    /// Whether a dependent rides through an input's outage (e.g. generators).
    RideThrough = 2,
    /// Where replicas and instances are placed when the world is built.
    Placement = 3,
}

/// The trial index used for draws that belong to the world rather than to a trial.
pub const WORLD: u64 = u64::MAX;

/// SplitMix64's output function: a bijective 64-bit mixer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The generator for `purpose` in trial `trial` of a run seeded with `seed`.
pub fn stream(seed: u64, trial: u64, purpose: Purpose) -> SimRng {
    let key = mix(mix(mix(seed) ^ trial) ^ (purpose as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    SimRng::seed_from_u64(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_pinned() {
        // Value stability: these numbers are part of the reproducibility promise; if
        // they change, every published result changes with them.
        let mut rng = stream(1, 0, Purpose::Lifetimes);
        let first: [u64; 3] = [rng.next_u64(), rng.next_u64(), rng.next_u64()];
        assert_eq!(first, PINNED);
    }

    const PINNED: [u64; 3] = [
        9839189902148484985,
        12242550809961279804,
        17737566116190118345,
    ];

    #[test]
    fn streams_differ_by_seed_trial_and_purpose() {
        let draw = |seed, trial, purpose| stream(seed, trial, purpose).next_u64();
        let base = draw(1, 0, Purpose::Lifetimes);
        assert_ne!(base, draw(2, 0, Purpose::Lifetimes));
        assert_ne!(base, draw(1, 1, Purpose::Lifetimes));
        assert_ne!(base, draw(1, 0, Purpose::RideThrough));
        assert_eq!(base, draw(1, 0, Purpose::Lifetimes));
    }
}
