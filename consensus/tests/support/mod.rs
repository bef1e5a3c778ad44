//! What the kill-and-reopen tests share: the writing child is the test
//! binary itself, re-executed to run one test with an environment variable
//! naming its database; the parent waits for its "ready" line and kills it
//! at moments a seeded generator picks.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

/// A xorshift64* generator: enough to spread kill times, reproducible by seed.
pub struct Rng(pub u64);

impl Rng {
    /// The next number below `bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound
    }
}

/// Re-executes this test binary to run only `test` as the child, with
/// `env` set to `db`; its stdout is piped, its stderr appended to `log`.
pub fn spawn_child(test: &str, env: &str, db: &Path, log: &Path) -> Child {
    let log = std::fs::File::options()
        .create(true)
        .append(true)
        .open(log)
        .expect("open the child's log");
    Command::new(std::env::current_exe().expect("the test binary's path"))
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(env, db)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("spawn the child")
}

/// Waits for the child's "ready" line. The harness prints its own text
/// first, on the same line (`test crash_child ... ready`). Reads on a
/// thread so that a silent child cannot hang the test.
pub fn wait_until_ready(stdout: ChildStdout, timeout: Duration) -> bool {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let ready = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.ends_with("ready"));
        let _ = tx.send(ready);
    });
    rx.recv_timeout(timeout).unwrap_or(false)
}
