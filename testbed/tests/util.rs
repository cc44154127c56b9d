//! Helpers of the test bed's integration tests: the committed fixtures.

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
