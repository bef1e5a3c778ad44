//! # BitCraps integration tests
//!
//! Cross-crate tests live in `tests/tests/`: they drive real binaries and real
//! libraries together (the `bitcraps` CLI, and as they arrive many nodes over real
//! networking with faults) and check the invariants of DESIGN.md end to end.
//!
//! This library holds only shared harness code for those tests; it must not be a
//! dependency of any production crate.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The `bitcraps` binary the tests run: `$BITCRAPS_BIN` if set, else the
/// workspace's own, built first (`cargo build -p bitcraps-cli`) so it is
/// never stale. Panics with the build's output if it does not build.
pub fn bitcraps_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("BITCRAPS_BIN") {
                return PathBuf::from(path);
            }
            // A test runs from <target>/<profile>/deps/<test>.
            let exe = std::env::current_exe().expect("the test knows its own path");
            let profile_dir = exe
                .parent()
                .and_then(|deps| deps.parent())
                .expect("tests run from <target>/<profile>/deps")
                .to_path_buf();
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut build = Command::new(cargo);
            build.args([
                "build",
                "--quiet",
                "-p",
                "bitcraps-cli",
                "--bin",
                "bitcraps",
            ]);
            if profile_dir
                .file_name()
                .is_some_and(|name| name == "release")
            {
                build.arg("--release");
            }
            let output = build.output().expect("cargo runs");
            assert!(
                output.status.success(),
                "cannot build the bitcraps binary:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let binary = profile_dir.join("bitcraps");
            assert!(binary.exists(), "no binary at {}", binary.display());
            binary
        })
        .clone()
}
