//! Helpers shared by the query integration tests: paths to the committed
//! fixtures (the flow-tools golden corpus and symbol tables).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `testdata/<rel>` at the project root. The fixtures are committed with
/// the project: a missing one fails the test, saying what to provide,
/// instead of letting it pass without its input.
pub fn fixture(rel: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(rel);
    assert!(
        path.exists(),
        "testdata/{rel} missing (looked for {}): run from a full clone of the repository, \
         which commits the fixtures under testdata/",
        path.display()
    );
    path
}

/// `testdata/golden/flowtools/<rel>`, the flow-tools golden corpus
/// (`""` for the corpus directory itself).
pub fn golden(rel: &str) -> PathBuf {
    fixture(&format!("golden/flowtools/{rel}"))
}

/// `testdata/flowtools-sym`, flow-tools' symbol tables (what the golden
/// cases' `FLOWTOOLS_SYMDIR` points at).
pub fn sym_dir() -> PathBuf {
    fixture("flowtools-sym")
}
