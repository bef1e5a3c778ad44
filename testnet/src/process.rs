//! # The process supervisor
//!
//! Every node of a testnet is a real child process: the `bitcraps` binary
//! with its arguments, its standard output and error appended to a log
//! file, its pid in a pid file. Control is by signal only, so the same
//! operations work from the `testnet up` process that started the node and
//! from any later `bitcraps testnet …` command that only has the pid file:
//!
//! | operation | signals |
//! |---|---|
//! | [`stop`] | SIGTERM, then SIGKILL if it is still alive after the grace period |
//! | [`kill`] | SIGKILL (waits until it is gone) |
//! | [`pause`] / [`resume`] | SIGSTOP / SIGCONT |
//!
//! **Pid files** hold the pid and, on Linux, the process's start time (in
//! clock ticks since boot, from `/proc/<pid>/stat`): a pid file whose pid
//! now belongs to another process is recognised as stale and that process
//! is never signalled. A process that has exited but not been reaped yet
//! (a zombie) counts as gone.
//!
//! Children are started in their own process group, so a Ctrl-C in the
//! terminal reaches only the supervisor, which then stops the nodes in an
//! orderly way.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;

/// How often a process is polled while waiting for it to exit.
const POLL: Duration = Duration::from_millis(50);

/// How long [`kill`] waits for the process to disappear.
const KILL_WAIT: Duration = Duration::from_secs(10);

/// How long [`pause`] waits for every thread to stop.
const STOP_WAIT: Duration = Duration::from_secs(5);

/// Why a process operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The program could not be started.
    #[error("cannot start {name} ({program}): {source}")]
    Spawn {
        /// The node.
        name: String,
        /// The program.
        program: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A log or pid file could not be written.
    #[error("cannot write {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The node is not running (no pid file, or its process is gone).
    #[error("{name} is not running (no live process in {pid_file}); start it first")]
    NotRunning {
        /// The node.
        name: String,
        /// Its pid file.
        pid_file: PathBuf,
    },
    /// The node is already running.
    #[error("{name} is already running as pid {pid}; stop it first")]
    AlreadyRunning {
        /// The node.
        name: String,
        /// Its pid.
        pid: i32,
    },
    /// A signal could not be sent.
    #[error("cannot send {signal} to {name} (pid {pid}): {errno}")]
    Signal {
        /// The node.
        name: String,
        /// The pid.
        pid: i32,
        /// The signal.
        signal: Signal,
        /// The error.
        errno: Errno,
    },
    /// The process did not stop within the wait after SIGSTOP.
    #[error(
        "{name} (pid {pid}) was not stopped {waited:?} after SIGSTOP; is it traced by a debugger?"
    )]
    NotStopped {
        /// The node.
        name: String,
        /// The pid.
        pid: i32,
        /// How long we waited.
        waited: Duration,
    },
    /// The process did not exit even after SIGKILL.
    #[error("{name} (pid {pid}) did not exit within {waited:?} of SIGKILL")]
    Stuck {
        /// The node.
        name: String,
        /// The pid.
        pid: i32,
        /// How long we waited.
        waited: Duration,
    },
}

/// A process to start: what and where its output goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessSpec {
    /// A short name for messages (`validator-0`).
    pub name: String,
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Its working directory.
    pub dir: PathBuf,
    /// Where standard output and error are appended.
    pub log: PathBuf,
    /// Where the pid is written.
    pub pid_file: PathBuf,
}

/// What a pid file says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PidRecord {
    /// The process id.
    pub pid: i32,
    /// Its start time in clock ticks after boot (0 where unknown).
    pub start_time: u64,
}

/// Starts `spec` in its own process group, output appended to its log,
/// pid written to its pid file. Refuses if the pid file names a live
/// process. The caller should reap the returned child (`try_wait`) if it
/// outlives it; a child left behind keeps running.
pub fn spawn(spec: &ProcessSpec) -> Result<Child, ProcessError> {
    if let Some(record) = live(&spec.pid_file) {
        return Err(ProcessError::AlreadyRunning {
            name: spec.name.clone(),
            pid: record.pid,
        });
    }
    let file_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ProcessError::File { path, source }
    };
    for path in [&spec.log, &spec.pid_file] {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(file_error(parent))?;
        }
    }
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&spec.log)
        .map_err(file_error(&spec.log))?;
    let _ = writeln!(
        log,
        "==== {} starting {} {} ====",
        spec.name,
        spec.program.display(),
        spec.args.join(" ")
    );
    let err_log = log.try_clone().map_err(file_error(&spec.log))?;
    let child = Command::new(&spec.program)
        .args(&spec.args)
        .current_dir(&spec.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(err_log))
        .process_group(0)
        .spawn()
        .map_err(|source| ProcessError::Spawn {
            name: spec.name.clone(),
            program: spec.program.clone(),
            source,
        })?;
    let pid = child.id() as i32;
    let record = PidRecord {
        pid,
        start_time: start_time(pid).unwrap_or(0),
    };
    write_pid_file(&spec.pid_file, record).map_err(file_error(&spec.pid_file))?;
    Ok(child)
}

fn write_pid_file(path: &Path, record: PidRecord) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, format!("{} {}\n", record.pid, record.start_time))?;
    std::fs::rename(&tmp, path)
}

/// Writes this process's own pid file (the `testnet up` supervisor), so
/// other commands can signal it.
pub fn write_own_pid_file(path: &Path) -> Result<(), ProcessError> {
    let pid = std::process::id() as i32;
    let record = PidRecord {
        pid,
        start_time: start_time(pid).unwrap_or(0),
    };
    write_pid_file(path, record).map_err(|source| ProcessError::File {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a pid file (`None` if missing or malformed).
pub fn read_pid_file(path: &Path) -> Option<PidRecord> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut parts = text.split_whitespace();
    let pid: i32 = parts.next()?.parse().ok()?;
    let start_time = parts.next().and_then(|t| t.parse().ok()).unwrap_or(0);
    (pid > 0).then_some(PidRecord { pid, start_time })
}

/// The record of the pid file if its process is alive and is the one that
/// was started (same start time).
pub fn live(pid_file: &Path) -> Option<PidRecord> {
    let record = read_pid_file(pid_file)?;
    is_alive(record).then_some(record)
}

/// Whether the process of `record` still exists (and is not a zombie).
pub fn is_alive(record: PidRecord) -> bool {
    match proc_stat(record.pid) {
        Some((state, started)) => {
            state != 'Z' && state != 'X' && (record.start_time == 0 || started == record.start_time)
        }
        // No /proc entry: gone on Linux; elsewhere ask the kernel.
        None if Path::new("/proc/self/stat").exists() => false,
        None => signal::kill(Pid::from_raw(record.pid), None).is_ok(),
    }
}

/// Whether the process is stopped (SIGSTOP), where `/proc` can tell:
/// every one of its threads, since a group stop reaches them one by one.
pub fn is_paused(record: PidRecord) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", record.pid)) else {
        return false;
    };
    let mut any = false;
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        if state_of(&stat) != Some('T') {
            return false;
        }
        any = true;
    }
    any
}

/// The fields after the command name of a `/proc/.../stat` line: the name
/// is in parentheses and may contain spaces, the fields after the last ')'
/// are fixed (the state first).
fn stat_fields(stat: &str) -> Option<std::str::SplitWhitespace<'_>> {
    Some(stat[stat.rfind(')')? + 1..].split_whitespace())
}

/// The state letter of a `/proc/.../stat` line.
fn state_of(stat: &str) -> Option<char> {
    stat_fields(stat)?.next()?.chars().next()
}

/// `(state, start time)` from `/proc/<pid>/stat`.
fn proc_stat(pid: i32) -> Option<(char, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let state = state_of(&text)?;
    // Field 22 of the whole line is the 20th after the name.
    let started = stat_fields(&text)?.nth(19)?.parse().ok()?;
    Some((state, started))
}

fn start_time(pid: i32) -> Option<u64> {
    proc_stat(pid).map(|(_, started)| started)
}

fn send(name: &str, record: PidRecord, signal: Signal) -> Result<(), ProcessError> {
    match signal::kill(Pid::from_raw(record.pid), signal) {
        Ok(()) | Err(Errno::ESRCH) => Ok(()),
        Err(errno) => Err(ProcessError::Signal {
            name: name.to_owned(),
            pid: record.pid,
            signal,
            errno,
        }),
    }
}

fn running(name: &str, pid_file: &Path) -> Result<PidRecord, ProcessError> {
    live(pid_file).ok_or_else(|| ProcessError::NotRunning {
        name: name.to_owned(),
        pid_file: pid_file.to_path_buf(),
    })
}

/// Waits until the process is gone, at most `limit`. True if it is.
fn wait_gone(record: PidRecord, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if !is_alive(record) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

/// How a [`stop`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// It was not running.
    NotRunning,
    /// It exited after SIGTERM.
    Terminated,
    /// It ignored SIGTERM for the grace period and was killed.
    Killed,
}

/// Stops the process of `pid_file`: SIGCONT (a paused process cannot act
/// on SIGTERM), SIGTERM, then SIGKILL after `grace`. Removes the pid file.
pub fn stop(name: &str, pid_file: &Path, grace: Duration) -> Result<Stopped, ProcessError> {
    let Some(record) = live(pid_file) else {
        let _ = std::fs::remove_file(pid_file);
        return Ok(Stopped::NotRunning);
    };
    send(name, record, Signal::SIGTERM)?;
    send(name, record, Signal::SIGCONT)?;
    let outcome = if wait_gone(record, grace) {
        Stopped::Terminated
    } else {
        send(name, record, Signal::SIGKILL)?;
        if !wait_gone(record, KILL_WAIT) {
            return Err(ProcessError::Stuck {
                name: name.to_owned(),
                pid: record.pid,
                waited: KILL_WAIT,
            });
        }
        Stopped::Killed
    };
    let _ = std::fs::remove_file(pid_file);
    Ok(outcome)
}

/// SIGKILLs the process of `pid_file` and waits until it is gone; the pid
/// file is removed.
pub fn kill(name: &str, pid_file: &Path) -> Result<PidRecord, ProcessError> {
    let record = running(name, pid_file)?;
    send(name, record, Signal::SIGKILL)?;
    if !wait_gone(record, KILL_WAIT) {
        return Err(ProcessError::Stuck {
            name: name.to_owned(),
            pid: record.pid,
            waited: KILL_WAIT,
        });
    }
    let _ = std::fs::remove_file(pid_file);
    Ok(record)
}

/// SIGSTOPs the process of `pid_file` and waits until all its threads
/// have stopped. `kill` returns once the signal is queued; the kernel wakes
/// one thread to start the group stop, and on a busy machine another may
/// answer a request before it does. Returning only once the process is
/// stopped makes "paused" mean paused for whoever acts next.
pub fn pause(name: &str, pid_file: &Path) -> Result<PidRecord, ProcessError> {
    let record = running(name, pid_file)?;
    send(name, record, Signal::SIGSTOP)?;
    // Where /proc cannot tell, there is nothing to wait on.
    if !Path::new("/proc/self/task").exists() {
        return Ok(record);
    }
    let deadline = Instant::now() + STOP_WAIT;
    while !is_paused(record) {
        if !is_alive(record) {
            return Err(ProcessError::NotRunning {
                name: name.to_owned(),
                pid_file: pid_file.to_path_buf(),
            });
        }
        if Instant::now() >= deadline {
            return Err(ProcessError::NotStopped {
                name: name.to_owned(),
                pid: record.pid,
                waited: STOP_WAIT,
            });
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(record)
}

/// SIGCONTs the process of `pid_file`.
pub fn resume(name: &str, pid_file: &Path) -> Result<PidRecord, ProcessError> {
    let record = running(name, pid_file)?;
    send(name, record, Signal::SIGCONT)?;
    Ok(record)
}

/// Reaps every child in `children` that has exited, returning their names
/// and exit status; the rest stay.
pub fn reap(children: &mut Vec<(String, Child)>) -> Vec<(String, std::process::ExitStatus)> {
    let mut exited = Vec::new();
    children.retain_mut(|(name, child)| match child.try_wait() {
        Ok(Some(status)) => {
            exited.push((name.clone(), status));
            false
        }
        Ok(None) => true,
        Err(_) => false,
    });
    exited
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dir: &Path, name: &str, script: &str) -> ProcessSpec {
        ProcessSpec {
            name: name.into(),
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            dir: dir.to_path_buf(),
            log: dir.join(format!("{name}.log")),
            pid_file: dir.join(format!("{name}.pid")),
        }
    }

    #[test]
    fn a_child_logs_to_its_file_and_is_stopped_by_sigterm() {
        let dir = tempfile::tempdir().unwrap();
        let spec = spec(dir.path(), "sleeper", "echo hello from $$; exec sleep 60");
        let mut child = spawn(&spec).unwrap();
        let record = live(&spec.pid_file).expect("running");
        assert_eq!(record.pid, child.id() as i32);
        assert!(record.start_time > 0, "start time recorded on Linux");
        let again = spawn(&spec).unwrap_err().to_string();
        assert!(again.contains("already running"), "{again}");

        let outcome = stop("sleeper", &spec.pid_file, Duration::from_secs(5)).unwrap();
        assert_eq!(outcome, Stopped::Terminated);
        assert!(!spec.pid_file.exists());
        assert!(child.wait().unwrap().code().is_none(), "killed by a signal");
        let log = std::fs::read_to_string(&spec.log).unwrap();
        assert!(log.contains("hello from"), "{log}");
        assert!(log.contains("==== sleeper starting"), "{log}");
        assert_eq!(
            stop("sleeper", &spec.pid_file, Duration::from_secs(1)).unwrap(),
            Stopped::NotRunning
        );
    }

    #[test]
    fn a_child_that_ignores_sigterm_is_killed_after_the_grace_period() {
        let dir = tempfile::tempdir().unwrap();
        let spec = spec(
            dir.path(),
            "stubborn",
            "trap '' TERM; echo ready; while true; do sleep 0.1; done",
        );
        let mut children = vec![("stubborn".to_owned(), spawn(&spec).unwrap())];
        // Let the shell install its trap.
        let deadline = Instant::now() + Duration::from_secs(5);
        // (The log's first line quotes the script, so look for the line.)
        while !std::fs::read_to_string(&spec.log)
            .unwrap()
            .lines()
            .any(|line| line == "ready")
        {
            assert!(Instant::now() < deadline);
            std::thread::sleep(POLL);
        }
        let started = Instant::now();
        let outcome = stop("stubborn", &spec.pid_file, Duration::from_millis(500)).unwrap();
        assert_eq!(outcome, Stopped::Killed);
        assert!(started.elapsed() >= Duration::from_millis(500));
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let exited = reap(&mut children);
            if !exited.is_empty() {
                assert_eq!(exited[0].0, "stubborn");
                break;
            }
            assert!(Instant::now() < deadline);
            std::thread::sleep(POLL);
        }
    }

    #[test]
    fn pause_resume_and_kill_act_on_the_real_process() {
        let dir = tempfile::tempdir().unwrap();
        let spec = spec(dir.path(), "worker", "exec sleep 60");
        let mut child = spawn(&spec).unwrap();
        let record = pause("worker", &spec.pid_file).unwrap();
        assert!(is_paused(record), "pause returns once stopped");
        resume("worker", &spec.pid_file).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while is_paused(record) {
            assert!(Instant::now() < deadline, "never resumed");
            std::thread::sleep(POLL);
        }
        kill("worker", &spec.pid_file).unwrap();
        assert!(!is_alive(record));
        assert!(!spec.pid_file.exists());
        let status = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9)
        );
        let error = pause("worker", &spec.pid_file).unwrap_err().to_string();
        assert!(error.contains("worker is not running"), "{error}");
    }

    #[test]
    fn a_stale_pid_file_never_signals_another_process() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("stale.pid");
        // Our own pid with a start time that cannot be ours.
        std::fs::write(&pid_file, format!("{} 1\n", std::process::id())).unwrap();
        assert!(live(&pid_file).is_none());
        assert_eq!(
            stop("stale", &pid_file, Duration::from_secs(1)).unwrap(),
            Stopped::NotRunning
        );
        std::fs::write(&pid_file, "garbage").unwrap();
        assert!(read_pid_file(&pid_file).is_none());
    }

    #[test]
    fn a_missing_program_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut spec = spec(dir.path(), "ghost", "true");
        spec.program = dir.path().join("no-such-binary");
        let error = spawn(&spec).unwrap_err().to_string();
        assert!(error.contains("cannot start ghost"), "{error}");
        assert!(error.contains("no-such-binary"), "{error}");
    }
}
