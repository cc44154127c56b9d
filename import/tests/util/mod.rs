//! Helpers of the flow-import integration tests: paths to the committed
//! connection-log samples. (`util/mod.rs`, not `util.rs`, so that cargo
//! does not build it as a second test binary.)

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

/// `testdata/golden/connlogs/<name>`: a connection-log sample, or
/// `expected.json` / `namespace.hash` beside them.
pub fn connlog(name: &str) -> PathBuf {
    fixture(&format!("golden/connlogs/{name}"))
}
