//! `bitcraps testnet up` in the foreground, as real processes: Ctrl-C
//! stops everything cleanly, the state stays, and `up` again resumes it.
//!
//! 1. `testnet up --fresh` with standard input and output not a terminal
//!    (a pipe and /dev/null) and without `--no-tui`: it must not open the
//!    terminal UI, say so, and print the `tui` command to open it; it runs
//!    until Ctrl-C.
//! 2. Ctrl-C: SIGINT to `up`'s process group, as a terminal sends it (the
//!    nodes run in groups of their own, so it reaches `up` alone). `up`
//!    exits 0 after stopping every node with SIGTERM (none needs SIGKILL);
//!    every process it started is gone and the directory (layout, genesis,
//!    each node's data) is still there.
//! 3. `testnet up --no-tui` without `--fresh` on the same directory: the
//!    same chain resumes (every validator at or above the height reached
//!    before), and Ctrl-C stops it again.
//!
//! Ports: 29500–29899 (`base_port(29_500, 4)`), below the ephemeral range.

use std::io::{BufRead as _, BufReader};
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bitcraps_tests::{Tmux, bitcraps_binary, logs};
use node::client::ApiClient;
use testnet::layout::{Layout, Role};
use testnet::process::{self, PidRecord};

/// A foreground `testnet up` and everything it printed so far.
struct Foreground {
    child: Child,
    lines: mpsc::Receiver<String>,
    output: String,
}

impl Foreground {
    /// Starts `bitcraps testnet up <args>` in a process group of its own,
    /// standard input from /dev/null, standard output and error piped.
    fn start(args: &[&str]) -> Foreground {
        let mut child = Command::new(bitcraps_binary())
            .arg("testnet")
            .arg("up")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("the bitcraps binary runs");
        let (send, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        for reader in [
            Box::new(stdout) as Box<dyn std::io::Read + Send>,
            Box::new(stderr),
        ] {
            let send = send.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(reader).lines().map_while(Result::ok) {
                    let _ = send.send(line);
                }
            });
        }
        Foreground {
            child,
            lines,
            output: String::new(),
        }
    }

    /// Reads output until a line contains `text`; panics with the output
    /// and `dir`'s logs if `up` exits or `limit` passes first.
    fn wait_for(&mut self, text: &str, limit: Duration, dir: &std::path::Path) {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self
                .lines
                .recv_timeout(left.min(Duration::from_millis(500)))
            {
                Ok(line) => {
                    self.output.push_str(&line);
                    self.output.push('\n');
                    if line.contains(text) {
                        return;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) if !left.is_zero() => {}
                Err(_) => {
                    let status = self.child.try_wait().ok().flatten();
                    panic!(
                        "no {text:?} from testnet up (exited: {status:?}):\n{}\n{}",
                        self.output,
                        logs(dir)
                    );
                }
            }
        }
    }

    /// Ctrl-C: SIGINT to the process group; waits for `up` to exit and
    /// returns its exit code and everything it printed.
    fn interrupt(mut self, limit: Duration) -> (Option<i32>, String) {
        let group = format!("-{}", self.child.id());
        let sent = Command::new("kill")
            .args(["-INT", "--", &group])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -INT -- {group} failed");
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("waitpid") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!(
                    "testnet up still runs {limit:?} after SIGINT:\n{}",
                    self.output
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        // The readers end with the pipes.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.output.push_str(&line);
            self.output.push('\n');
        }
        (status.code(), self.output)
    }
}

/// Every node's running process, from its pid file.
fn running(layout: &Layout) -> Vec<(String, PidRecord)> {
    layout
        .nodes
        .iter()
        .filter_map(|node| process::live(&node.pid_file()).map(|r| (node.name.clone(), r)))
        .collect()
}

/// The lowest height among the validators' APIs (0 when one does not
/// answer).
fn lowest_validator_height(layout: &Layout) -> u64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut low = u64::MAX;
        for node in layout.nodes.iter().filter(|n| n.role == Role::Validator) {
            let client = ApiClient::new(&node.http_url()).expect("a loopback URL");
            let height = match client.status().await {
                Ok(status) => status.node.height.unwrap_or(0),
                Err(_) => 0,
            };
            low = low.min(height);
        }
        low
    })
}

/// After `up` stopped: it exited 0, said it stopped every node with
/// SIGTERM (none killed), every process in `before` is gone and no pid
/// file names a live one.
fn assert_stopped_cleanly(
    layout: &Layout,
    before: &[(String, PidRecord)],
    code: Option<i32>,
    output: &str,
) {
    assert_eq!(code, Some(0), "testnet up after SIGINT:\n{output}");
    assert!(output.contains("stopping the testnet"), "{output}");
    assert!(
        !output.contains("Killed"),
        "a node needed SIGKILL:\n{output}"
    );
    for (name, record) in before {
        assert!(
            output.contains(&format!("{name}: Terminated")),
            "{name} was not stopped with SIGTERM:\n{output}"
        );
        assert!(
            !process::is_alive(*record),
            "{name} (pid {}) still runs after Ctrl-C",
            record.pid
        );
    }
    assert!(running(layout).is_empty(), "{:?}", running(layout));
    assert!(
        process::live(&layout.supervisor_pid_file()).is_none(),
        "the supervisor's pid file outlived it"
    );
}

#[test]
fn ctrl_c_stops_every_node_keeps_the_state_and_up_resumes_it() {
    let started = Instant::now();
    let work = tempfile::tempdir().expect("a temporary directory");
    let (dir, dir_arg, manifest_arg) =
        testnet_files(work.path(), bitcraps_tests::base_port(29_500, 4));
    let (dir_arg, manifest_arg) = (dir_arg.as_str(), manifest_arg.as_str());
    // Whatever happens, nothing outlives the test.
    let _down = bitcraps_tests::Down(dir.clone());

    // 1. Not a terminal, no --no-tui: no UI, the command to open it.
    let mut up = Foreground::start(&[
        "--fresh",
        "--dir",
        dir_arg,
        "--manifest",
        manifest_arg,
        "--timeout",
        "120",
    ]);
    up.wait_for("Ctrl-C stops the testnet", Duration::from_secs(150), &dir);
    assert!(
        up.output
            .contains("not opening the terminal UI: standard input or output is not a terminal"),
        "{}",
        up.output
    );
    assert!(up.output.contains(" tui --api "), "{}", up.output);
    assert!(
        !up.output.contains("opening the terminal UI on"),
        "{}",
        up.output
    );
    assert!(
        !dir.join("up.log").exists(),
        "events went to up.log as if the UI had the terminal"
    );
    let layout = Layout::load(&dir).expect("the layout");
    let before = running(&layout);
    assert_eq!(
        before.len(),
        layout.nodes.len(),
        "not every node runs: {before:?}"
    );
    let reached = lowest_validator_height(&layout);
    let ready_after = started.elapsed();

    // 2. Ctrl-C.
    let interrupted = Instant::now();
    let (code, output) = up.interrupt(Duration::from_secs(60));
    let stop_took = interrupted.elapsed();
    assert_stopped_cleanly(&layout, &before, code, &output);
    for file in [dir.join("testnet.json"), layout.genesis_file()] {
        assert!(file.exists(), "{} is gone after Ctrl-C", file.display());
    }
    for node in &layout.nodes {
        assert!(
            node.dir.is_dir(),
            "{}'s directory {} is gone after Ctrl-C",
            node.name,
            node.dir.display()
        );
    }
    let genesis = std::fs::read(layout.genesis_file()).expect("the genesis");

    // 3. Up again, --no-tui, no --fresh: the same chain goes on.
    let mut up = Foreground::start(&["--no-tui", "--dir", dir_arg, "--timeout", "120"]);
    up.wait_for("Ctrl-C stops the testnet", Duration::from_secs(150), &dir);
    assert!(up.output.contains("reusing the testnet"), "{}", up.output);
    assert!(
        !up.output.contains("not opening the terminal UI"),
        "--no-tui needs no explanation:\n{}",
        up.output
    );
    assert_eq!(
        std::fs::read(layout.genesis_file()).expect("the genesis"),
        genesis,
        "up without --fresh rewrote the genesis"
    );
    let low = lowest_validator_height(&layout);
    assert!(
        low >= reached,
        "after up again a validator is at {low}, below the {reached} reached before Ctrl-C"
    );
    let before = running(&layout);
    assert_eq!(before.len(), layout.nodes.len(), "{before:?}");
    let (code, output) = up.interrupt(Duration::from_secs(60));
    assert_stopped_cleanly(&layout, &before, code, &output);
    eprintln!(
        "wall time: ready after {ready_after:?}, first stop {stop_took:?}, total {:?}",
        started.elapsed()
    );
}

/// A directory and manifest for one test's testnet on `base_port`.
fn testnet_files(work: &std::path::Path, base_port: u16) -> (std::path::PathBuf, String, String) {
    let dir = work.join("net");
    let manifest = work.join("net.toml");
    std::fs::write(
        &manifest,
        format!("validators = 4\nplayers = 1\nbase_port = {base_port}\n"),
    )
    .expect("the manifest is written");
    let dir_arg = dir.to_str().expect("a UTF-8 path").to_owned();
    let manifest_arg = manifest.to_str().expect("a UTF-8 path").to_owned();
    (dir, dir_arg, manifest_arg)
}

/// The README's first command as a player runs it: `testnet up` in a
/// terminal (tmux) opens the UI on the player node, what happens goes to
/// `up.log` instead of tearing the screen, and `q` in the UI stops every
/// node and ends `up` with status 0. Ports: 30000–30200.
#[test]
fn up_in_a_terminal_opens_the_tui_and_q_stops_every_node() {
    let work = tempfile::tempdir().expect("a temporary directory");
    let (dir, dir_arg, manifest_arg) =
        testnet_files(work.path(), bitcraps_tests::base_port(30_000, 3));
    let _down = bitcraps_tests::Down(dir.clone());
    let binary = bitcraps_binary();
    let command = format!(
        "{} testnet up --fresh --dir {dir_arg} --manifest {manifest_arg} --timeout 120; \
         echo UP-EXIT=$?; sleep 60",
        binary.display()
    );
    let tmux = Tmux::start("up", &command);
    tmux.wait_for(&["connected · live"], Duration::from_secs(180))
        .unwrap_or_else(|e| panic!("{e}\n{}", logs(&dir)));
    let screen = tmux
        .wait_for(&["balance "], Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !screen.contains("starting ") && !screen.contains("waiting until"),
        "up's lines are on the UI's screen:\n{screen}"
    );
    assert!(
        dir.join("up.log").exists(),
        "with the UI open, events go to up.log"
    );
    let layout = Layout::load(&dir).expect("the layout");
    let before = running(&layout);
    assert_eq!(before.len(), layout.nodes.len(), "{before:?}");

    tmux.keys("q");
    let screen = tmux
        .wait_for(&["UP-EXIT="], Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("testnet up did not end after q: {e}"));
    assert!(screen.contains("UP-EXIT=0"), "{screen}");
    for (name, record) in &before {
        assert!(
            !process::is_alive(*record),
            "{name} (pid {}) still runs after q",
            record.pid
        );
    }
    assert!(running(&layout).is_empty(), "{:?}", running(&layout));
}

/// Ctrl-C while `up` is still starting the nodes: `up` stops the ones it
/// started (each runs in a process group of its own, so the terminal's
/// SIGINT reaches `up` alone) and exits with an error; none is left
/// running. Ports: 30300–30500.
#[test]
fn ctrl_c_while_starting_leaves_no_node_running() {
    let work = tempfile::tempdir().expect("a temporary directory");
    let (dir, dir_arg, manifest_arg) =
        testnet_files(work.path(), bitcraps_tests::base_port(30_300, 3));
    let _down = bitcraps_tests::Down(dir.clone());
    let mut up = Foreground::start(&[
        "--fresh",
        "--dir",
        &dir_arg,
        "--manifest",
        &manifest_arg,
        "--timeout",
        "120",
    ]);
    up.wait_for("starting ", Duration::from_secs(60), &dir);
    let (code, output) = up.interrupt(Duration::from_secs(60));
    assert_eq!(code, Some(1), "testnet up after an early SIGINT:\n{output}");
    assert!(output.contains("interrupted while"), "{output}");
    assert!(output.contains("stopping the testnet"), "{output}");
    let layout = Layout::load(&dir).expect("the layout");
    assert!(running(&layout).is_empty(), "{:?}", running(&layout));
}
