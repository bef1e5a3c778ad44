//! # BitCraps integration tests
//!
//! Cross-crate tests live in `tests/tests/`: they drive real binaries and real
//! libraries together (the `bitcraps` CLI, and as they arrive many nodes over real
//! networking with faults) and check the invariants of DESIGN.md end to end.
//!
//! This library holds only shared harness code for those tests; it must not be a
//! dependency of any production crate.

use std::fmt::Display;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use node::client::ApiClient;
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

/// Runs `bitcraps <args>`; returns success and its output (standard
/// output, then standard error).
pub fn bitcraps(args: &[&str]) -> (bool, String) {
    let (code, stdout, stderr) = run_bitcraps(args, &[], None);
    (code == 0, format!("{stdout}{stderr}"))
}

/// Runs `bitcraps <args>` with `env` set, no wallet password inherited
/// from the test's environment, and `input` (if any) on standard input;
/// returns the exit code (-1 if a signal ended it), standard output and
/// standard error.
pub fn run_bitcraps(
    args: &[&str],
    env: &[(&str, &str)],
    input: Option<&str>,
) -> (i32, String, String) {
    let mut child = Command::new(bitcraps_binary())
        .args(args)
        .env_remove("BITCRAPS_WALLET_PASSWORD")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the bitcraps binary runs");
    let mut stdin = child.stdin.take().expect("a piped standard input");
    if let Some(input) = input {
        // A command may refuse its input and exit before reading it all;
        // its exit code and output say so.
        let _ = stdin.write_all(input.as_bytes());
    }
    drop(stdin);
    let output = child.wait_with_output().expect("the bitcraps binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs `bitcraps testnet <args> --dir <dir>`; returns success and output.
pub fn testnet(dir: &Path, args: &[&str]) -> (bool, String) {
    let dir = dir.to_str().expect("a UTF-8 path");
    let mut line = vec!["testnet"];
    line.extend_from_slice(args);
    line.extend_from_slice(&["--dir", dir]);
    bitcraps(&line)
}

/// Stops the testnet in the directory however the test ends. A
/// [`LiveTestnet`] holds one; make one directly only around a command
/// that starts a testnet ([`up_detached`], `testnet chaos --up`).
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

/// A local testnet of real processes for one test, in a temporary
/// directory of its own: started by [`LiveTestnet::start`] (`testnet up
/// --detach --fresh`), stopped (`testnet down`) and its directory removed
/// when dropped, however the test ends.
pub struct LiveTestnet {
    layout: Layout,
    up_output: String,
    // Dropped in this order: the testnet goes down, then its directory.
    down: Down,
    _work: tempfile::TempDir,
}

impl LiveTestnet {
    /// Starts the testnet `manifest` (TOML) describes in a new temporary
    /// directory and waits until `up` reports it ready; panics with every
    /// node's log tail if it does not start (what did start is brought
    /// down again).
    pub fn start(manifest: &str) -> LiveTestnet {
        let work = tempfile::tempdir().expect("a temporary directory");
        let down = Down(work.path().join("net"));
        let up_output = up_detached(&down.0, manifest);
        let layout = Layout::load(&down.0)
            .unwrap_or_else(|e| panic!("no layout after testnet up: {e}\n{up_output}"));
        LiveTestnet {
            layout,
            up_output,
            down,
            _work: work,
        }
    }

    /// The testnet's directory (its layout, genesis, wallets and logs).
    pub fn dir(&self) -> &Path {
        &self.down.0
    }

    /// The testnet's nodes, as `up` wrote them.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// What `testnet up` printed.
    pub fn up_output(&self) -> &str {
        &self.up_output
    }

    /// The `bitcraps tui …` command `up` printed for the player node.
    pub fn tui_command(&self) -> String {
        tui_command(&self.up_output)
    }

    /// Runs `bitcraps testnet <args>` on this testnet; returns success and
    /// output.
    pub fn testnet(&self, args: &[&str]) -> (bool, String) {
        testnet(self.dir(), args)
    }

    /// A client of node `name`'s API; panics if there is no such node.
    pub fn client(&self, name: &str) -> ApiClient {
        let node = self.layout.node(name).unwrap_or_else(|e| panic!("{e}"));
        ApiClient::new(&node.http_url()).expect("the layout's API address is valid")
    }

    /// Every node's log tail, for a failure message.
    pub fn logs(&self) -> String {
        logs(self.dir())
    }

    /// Fails the test with `error` and every node's log tail.
    pub fn fail(&self, error: impl Display) -> ! {
        panic!("{error}\n{}", self.logs())
    }
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

/// A tmux server of the test's own (`-L`), so nothing else is touched,
/// with one session, `tui`, whose pane the test reads and types into.
/// The server is killed when dropped.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// A server named after this process and `name`, running `command`
    /// (a shell line) in its `tui` session, a 100×30 terminal.
    pub fn start(name: &str, command: &str) -> Tmux {
        let tmux = Tmux {
            socket: format!("bitcraps-test-{}-{name}", std::process::id()),
        };
        let (ok, _) = tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "tui",
            "-x",
            "100",
            "-y",
            "30",
            command,
        ]);
        assert!(ok, "tmux could not start {command:?}");
        tmux
    }

    /// Runs a tmux command on this server: whether it succeeded, and its
    /// standard output.
    fn run(&self, args: &[&str]) -> (bool, String) {
        let output = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux is installed (scripts/setup installs it)");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    }

    /// The `tui` session's screen as text.
    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "tui"]).1
    }

    /// Types `keys` (tmux key names: `Enter`, `Space`, `q`…).
    pub fn keys(&self, keys: &str) {
        let (ok, _) = self.run(&["send-keys", "-t", "tui", keys]);
        assert!(ok, "tmux send-keys {keys} failed");
    }

    /// Waits until the screen shows one of `texts`; returns the screen.
    pub fn wait_for(&self, texts: &[&str], limit: Duration) -> Result<String, String> {
        let deadline = Instant::now() + limit;
        loop {
            let screen = self.screen();
            if texts.iter().any(|t| screen.contains(t)) {
                return Ok(screen);
            }
            if Instant::now() >= deadline {
                return Err(format!("the screen never showed {texts:?}:\n{screen}"));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}
