//! Replays the committed fuzz corpora (`fuzz/corpus/`) through the fuzz targets'
//! bodies in `nines::fuzzing`, so that every input that once found a bug or new
//! coverage stays checked without cargo-fuzz or a nightly toolchain (see
//! `fuzz/README.md`).

use std::path::{Path, PathBuf};

/// The files of `fuzz/corpus/<target>/`, sorted; fails if there are none.
fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join("corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the corpus {} is empty", dir.display());
    files
}

/// Runs `body` on every file of the corpus of `target`, naming the file that panics.
fn replay(target: &str, body: fn(&[u8])) {
    for path in corpus(target) {
        let bytes = std::fs::read(&path).expect("a readable corpus file");
        if std::panic::catch_unwind(|| body(&bytes)).is_err() {
            panic!(
                "fuzz target `{target}` panics on {} (reproduce: cd fuzz && \
                 RUSTC_BOOTSTRAP=1 cargo fuzz run {target} {})",
                path.display(),
                path.display()
            );
        }
    }
}

#[test]
fn the_load_corpus_replays_without_panics() {
    replay("load", nines::fuzzing::load);
}

#[test]
fn the_simulate_corpus_replays_without_panics() {
    replay("simulate", nines::fuzzing::simulate);
}

#[test]
fn the_simulate_corpus_reaches_the_simulation() {
    // Some inputs must validate and be small enough to simulate, or the target tests
    // nothing beyond the loader.
    let simulated = corpus("simulate")
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            nines::scenario::from_str(&text).is_ok_and(|world| nines::fuzzing::small_enough(&world))
        })
        .count();
    assert!(
        simulated > 0,
        "no input of the simulate corpus is simulated"
    );
}
