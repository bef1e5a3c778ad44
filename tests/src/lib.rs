//! # BitCraps integration tests
//!
//! Cross-crate tests live in `tests/tests/`: they drive real binaries and real
//! libraries together (the `bitcraps` CLI, and as they arrive many nodes over real
//! networking with faults) and check the invariants of DESIGN.md end to end.
//!
//! This library holds only shared harness code for those tests; it must not be a
//! dependency of any production crate.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use testnet::layout::Layout;

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

/// Runs `bitcraps testnet <args> --dir <dir>`; returns success and output.
pub fn testnet(dir: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(bitcraps_binary())
        .arg("testnet")
        .args(args)
        .arg("--dir")
        .arg(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// Stops the testnet however the test ends.
pub struct Down(pub PathBuf);

impl Drop for Down {
    fn drop(&mut self) {
        let _ = testnet(&self.0, &["down"]);
    }
}

/// The logs of every node, for a failure message.
pub fn logs(dir: &Path) -> String {
    let Ok(layout) = Layout::load(dir) else {
        return String::new();
    };
    let mut out = String::new();
    for node in &layout.nodes {
        let text = std::fs::read_to_string(node.log_file()).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(15).collect();
        out.push_str(&format!("---- {} ----\n", node.name));
        for line in tail.into_iter().rev() {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Writes `manifest` (TOML) beside `dir`, runs `testnet up --detach --fresh`
/// with it and returns what `up` printed; panics with every node's log
/// tail if it fails. Pair it with a [`Down`] made first.
pub fn up_detached(dir: &Path, manifest: &str) -> String {
    let file = dir.with_extension("toml");
    std::fs::write(&file, manifest).expect("the manifest is written");
    let (ok, output) = testnet(
        dir,
        &[
            "up",
            "--detach",
            "--fresh",
            "--timeout",
            "120",
            "--manifest",
            file.to_str().expect("a UTF-8 path"),
        ],
    );
    assert!(ok, "testnet up failed:\n{output}\n{}", logs(dir));
    output
}

/// The `bitcraps tui …` line `testnet up` printed for the player node.
pub fn tui_command(up_output: &str) -> String {
    up_output
        .lines()
        .map(str::trim)
        .find(|l| l.contains(" tui --api "))
        .unwrap_or_else(|| panic!("no tui command in:\n{up_output}"))
        .to_owned()
}

/// The value after `flag` (`--api`, `--cookie`) in a [`tui_command`].
pub fn flag_value(command: &str, flag: &str) -> String {
    command
        .split_whitespace()
        .skip_while(|w| *w != flag)
        .nth(1)
        .unwrap_or_else(|| panic!("no {flag} in {command}"))
        .to_owned()
}

/// A base port for a test's testnet: `first` plus one of `slots` slots of
/// 100 ports picked by the process id, so two runs of the suite rarely
/// collide. Keep every test's range disjoint from the others' and below
/// 32768, where Linux's ephemeral ports start (an outgoing connection can
/// hold any port above it: seen taking a bootstrap peer's port at 49901).
pub fn base_port(first: u16, slots: u16) -> u16 {
    let port = first + (std::process::id() % u32::from(slots)) as u16 * 100;
    assert!(
        port < 32_700,
        "testnet ports must stay below the ephemeral range"
    );
    port
}
