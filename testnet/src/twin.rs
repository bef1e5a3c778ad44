//! # The equivocating twin: one validator key, two processes
//!
//! `bitcraps testnet twin <validator>` starts a second process that signs
//! with `<validator>`'s key: its own directory (`<dir>/twins/<validator>`),
//! its own ports and libp2p identity, the same genesis and the same peers.
//! Two honest engines with one key sign conflicting votes whenever they see
//! different things in one view, and the honest validators must catch it,
//! count it (`bitcraps_equivocations_total`) and slash it.
//!
//! ## Why a plain second process is not enough
//!
//! A twin started from an empty directory begins at view 1, far behind its
//! sibling, and never votes in a view its sibling voted in. Worse, the
//! validators' network (commonware's authenticated `lookup` network) holds
//! at most one connection per peer key: every honest validator is already
//! connected to the original, so the twin's dials are refused and it stays
//! alone. And simplex keeps a vote only until that view's certificate
//! unless `track_historical_votes` is on (the engine turns it on), so the
//! second vote of a pair must reach a validator still holding the first.
//!
//! ## How [`start`] makes it happen every time
//!
//! 1. **Same view.** Every running validator is paused (SIGSTOP) for the
//!    few milliseconds it takes to copy the original's data directory
//!    (RocksDB ledger, consensus journal and archives) into the twin's,
//!    then resumed. A paused process is between system calls, so the copy
//!    is what a SIGKILL at that instant would leave, which every node
//!    recovers from; and with the whole committee paused nothing moves
//!    meanwhile, so the view the twin recovers into is the view the
//!    original goes on to finish (it votes `finalize` there).
//! 2. **Deaf twin.** The twin's partition file cuts it off from every
//!    libp2p peer and *ignores* every other validator (a one-way cut,
//!    `node::partition`): it sends but hears nothing, so it can never
//!    learn that its view was finalized. It times out there and signs a
//!    `nullify` for that view, re-sent every 500 ms (simplex's timeout
//!    retry) for as long as it runs.
//! 3. **Hand-over** (`expose`): the original is SIGKILLed. Its connections
//!    close, the twin's next dials are accepted, and its `nullify` reaches
//!    validators that hold the original's `finalize` for the same view: a
//!    `NullifyFinalize` equivocation, reported by each of them. They block
//!    the key (both copies) on the validators' network and submit a
//!    slashing transaction; the chain goes on with the other validators.
//!    The original is started again once an honest validator reported the
//!    offence (or after `expose_timeout`).
//!
//! If the view the twin is stuck in ended alike for both copies (both
//! nullified it, say because its leader was down), there is nothing to
//! report: after `expose_timeout` the twin is stopped, the original takes
//! its links back, and a new copy is made, up to [`ATTEMPTS`] copies.
//!
//! The twin is recorded in the layout (`Layout::twins`): `testnet status`
//! shows it, `testnet down` and [`stop`] stop it, and `check`, `load` and
//! `chaos` leave it out (it is not a node of the testnet, and its chain is a
//! stale prefix of the original's).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use node::client::ApiClient;
use node::config::{FaultInjectionConfig, NodeConfig, ValidatorConfig};
use node::network::NodeKey;
use node::partition::{PartitionFile, validator_identity};
use serde::Serialize;
use tokio::time::Instant;

use crate::chaos::equivocations;
use crate::faults::Children;
use crate::layout::{Layout, NodeEntry, Role, TwinEntry};
use crate::manifest::PORTS_PER_NODE;
use crate::net::{self, NetError};
use crate::process::{self, Stopped};

/// Where the twins' directories are, under the testnet directory.
pub const TWINS_DIR: &str = "twins";

/// How a twin's name ends (`validator-1-twin`).
pub const TWIN_SUFFIX: &str = "-twin";

/// How long the twin's API may take to answer after its start.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// How often counters and the twin's health are polled.
const POLL: Duration = Duration::from_millis(250);

/// How long the twin runs before the hand-over: its leader timeout (1 s)
/// and certification timeout (2 s) pass, so it has signed its `nullify`.
const SETTLE: Duration = Duration::from_secs(3);

/// Copies tried before giving up (see [`start`]).
pub const ATTEMPTS: u32 = 3;

/// How long the original gets to take its links back before another copy.
const RETRY_PAUSE: Duration = Duration::from_secs(5);

/// What [`start`] does after the twin is up.
#[derive(Clone, Debug)]
pub struct TwinOptions {
    /// SIGKILL the original so that the twin's votes reach the honest
    /// validators, then start the original again (see the module
    /// documentation). Without it the twin stays alone until the original
    /// loses its connections some other way.
    pub expose: bool,
    /// How long to wait for an honest validator to report the
    /// equivocation before the original is started again anyway (and
    /// another copy is tried, up to [`ATTEMPTS`]).
    pub expose_timeout: Duration,
}

impl Default for TwinOptions {
    fn default() -> TwinOptions {
        TwinOptions {
            expose: true,
            expose_timeout: Duration::from_secs(15),
        }
    }
}

/// What [`start`] did.
#[derive(Clone, Debug, Serialize)]
pub struct TwinReport {
    /// The validator.
    pub validator: String,
    /// The twin's name.
    pub twin: String,
    /// The twin's pid.
    pub pid: i32,
    /// The twin's API.
    pub api: String,
    /// How long the validators were paused for the copy, ms.
    pub frozen_ms: f64,
    /// Bytes copied from the original's data directory.
    pub copied_bytes: u64,
    /// Copies made: another is made when no honest validator reported
    /// the last one within `expose_timeout` (at most [`ATTEMPTS`]).
    pub attempts: u32,
    /// Honest validators whose equivocation counter rose, with the rise.
    pub reported_by: BTreeMap<String, u64>,
    /// From the original's SIGKILL to the first report, ms.
    pub detected_after_ms: Option<f64>,
}

impl std::fmt::Display for TwinReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (pid {}, api {}) signs with {}'s key; validators paused {:.0} ms to copy {} bytes",
            self.twin, self.pid, self.api, self.validator, self.frozen_ms, self.copied_bytes
        )?;
        if self.attempts > 1 {
            write!(f, " (copy {} of at most {ATTEMPTS})", self.attempts)?;
        }
        match self.detected_after_ms {
            Some(ms) => write!(
                f,
                "; equivocation reported {:.1} s after the hand-over by {}",
                ms / 1000.0,
                self.reported_by
                    .iter()
                    .map(|(name, n)| format!("{name} (+{n})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None if self.reported_by.is_empty() => write!(f, "; no equivocation reported yet"),
            None => Ok(()),
        }
    }
}

fn twin_error(reason: impl Into<String>) -> NetError {
    NetError::Twin {
        reason: reason.into(),
    }
}

fn file_error(path: &Path) -> impl Fn(String) -> NetError + '_ {
    move |reason| NetError::File {
        path: path.to_path_buf(),
        reason,
    }
}

/// The twin's node entry: its directory, ports after every node's (slot
/// `nodes + i` for validator `i`), and its start command.
pub fn plan(layout: &Layout, validator: &str) -> Result<NodeEntry, NetError> {
    let original = layout.node(validator)?;
    if original.role != Role::Validator {
        return Err(twin_error(format!(
            "{validator} is not a validator; only a validator's key can be doubled"
        )));
    }
    let index = layout
        .nodes
        .iter()
        .filter(|n| n.role == Role::Validator)
        .position(|n| n.name == validator)
        .expect("a validator is among the validators");
    let slot = (layout.nodes.len() + index) as u32;
    let base = u32::from(layout.manifest.base_port) + slot * u32::from(PORTS_PER_NODE);
    if base + 2 > u32::from(u16::MAX) {
        return Err(twin_error(format!(
            "the twin's ports ({base}..) would pass 65535; use a lower base_port"
        )));
    }
    let base = base as u16;
    let dir = layout.dir.join(TWINS_DIR).join(validator);
    let mut node = NodeEntry {
        name: format!("{validator}{TWIN_SUFFIX}"),
        role: Role::Validator,
        cookie_file: Some(dir.join("api.cookie")),
        p2p_port: base,
        http_port: base + 1,
        validator_port: Some(base + 2),
        args: Vec::new(),
        wallet: None,
        dir,
    };
    node.args = vec![
        "node".into(),
        "start".into(),
        "--home".into(),
        node.dir.display().to_string(),
        "--config".into(),
        node.config_file().display().to_string(),
    ];
    Ok(node)
}

/// Writes the twin's configuration: the original's, with the twin's ports,
/// directory and a copy of the validator key.
fn write_config(original: &NodeEntry, twin: &NodeEntry) -> Result<(), NetError> {
    let path = original.config_file();
    let text = std::fs::read_to_string(&path).map_err(|e| file_error(&path)(e.to_string()))?;
    let mut config =
        NodeConfig::from_toml(&text, &path).map_err(|e| file_error(&path)(e.to_string()))?;
    let Some(validator) = config.validator.clone() else {
        return Err(twin_error(format!(
            "{} runs no validator ({} has no [validator])",
            original.name,
            path.display()
        )));
    };
    let key_file = twin.dir.join("validator.key");
    // std::fs::copy keeps the 0600 mode.
    std::fs::copy(&validator.key_file, &key_file)
        .map_err(|e| file_error(&validator.key_file)(e.to_string()))?;
    config.network.listen = vec![
        format!("/ip4/127.0.0.1/tcp/{}", twin.p2p_port)
            .parse()
            .expect("a valid multiaddr"),
        format!("/ip4/127.0.0.1/udp/{}/quic-v1", twin.p2p_port)
            .parse()
            .expect("a valid multiaddr"),
    ];
    // Its own libp2p identity: two peers with one peer id would confuse
    // every other node's libp2p; the validator key is what is doubled.
    config.network.node_key_file = twin.dir.join("node.key");
    config.api.listen = ([127, 0, 0, 1], twin.http_port).into();
    config.api.cookie_file = twin.dir.join("api.cookie");
    config.data_dir = twin.dir.join("data");
    config.validator = Some(ValidatorConfig {
        key_file,
        listen: (
            [127, 0, 0, 1],
            twin.validator_port.expect("a validator port"),
        )
            .into(),
    });
    config.fault_injection = Some(FaultInjectionConfig {
        partition_file: twin.dir.join(crate::partition::PARTITION_FILE),
    });
    let out = twin.config_file();
    config
        .write_new(&out)
        .map_err(|e| file_error(&out)(e.to_string()))
}

/// Writes the twin's partition file: no libp2p peer at all, and every
/// other validator ignored (it sends to them, hears none of them).
fn write_deafness(layout: &Layout, original: &NodeEntry, twin: &NodeEntry) -> Result<(), NetError> {
    let mut file = PartitionFile::default();
    for node in &layout.nodes {
        let key_name = match node.role {
            Role::Bootstrap => "bootstrap.key",
            Role::Validator | Role::Player => "node.key",
        };
        let key_file = node.dir.join(key_name);
        let key = NodeKey::load_or_generate(&key_file)
            .map_err(|e| file_error(&key_file)(e.to_string()))?;
        file.libp2p.insert(key.peer_id());
        if node.role == Role::Validator && node.name != original.name {
            let key_file = node.dir.join("validator.key");
            file.ignored.insert(
                validator_identity(&key_file).map_err(|e| file_error(&key_file)(e.to_string()))?,
            );
        }
    }
    let path = twin.dir.join(crate::partition::PARTITION_FILE);
    file.write(&path)
        .map_err(|e| file_error(&path)(e.to_string()))
}

/// Copies the directory tree `from` to `to` (regular files and
/// directories; anything else is skipped). Returns the bytes copied.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<u64> {
    std::fs::create_dir_all(to)?;
    let mut bytes = 0;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            bytes += copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            bytes += std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(bytes)
}

/// The original's data directory, from its configuration.
fn data_dir(original: &NodeEntry) -> Result<PathBuf, NetError> {
    let path = original.config_file();
    let text = std::fs::read_to_string(&path).map_err(|e| file_error(&path)(e.to_string()))?;
    let config =
        NodeConfig::from_toml(&text, &path).map_err(|e| file_error(&path)(e.to_string()))?;
    Ok(if config.data_dir.is_relative() {
        original.dir.join(config.data_dir)
    } else {
        config.data_dir
    })
}

/// Pauses every running validator, copies `from` to `to`, resumes the
/// validators it paused (also when the copy fails). Returns the bytes
/// copied and how long the validators were paused.
fn frozen_copy(layout: &Layout, from: &Path, to: &Path) -> Result<(u64, Duration), NetError> {
    let mut paused = Vec::new();
    let started = std::time::Instant::now();
    let mut result = Ok(0);
    for node in layout.nodes.iter().filter(|n| n.role == Role::Validator) {
        // A validator someone else paused stays paused; a stopped one is
        // left alone.
        match process::live(&node.pid_file()) {
            Some(record) if !process::is_paused(record) => {}
            _ => continue,
        }
        match process::pause(&node.name, &node.pid_file()) {
            Ok(_) => paused.push(node),
            Err(error) => {
                result = Err(NetError::Process(error));
                break;
            }
        }
    }
    if result.is_ok() {
        result = copy_tree(from, to).map_err(|e| file_error(from)(format!("copy: {e}")));
    }
    for node in paused {
        if let Err(error) = process::resume(&node.name, &node.pid_file())
            && result.is_ok()
        {
            result = Err(NetError::Process(error));
        }
    }
    Ok((result?, started.elapsed()))
}

/// Each validator's equivocation count (`None`: no answer).
async fn counts(validators: &[NodeEntry]) -> BTreeMap<String, Option<u64>> {
    let mut out = BTreeMap::new();
    for node in validators {
        let client = ApiClient::new(&node.http_url())
            .expect("a loopback URL is valid")
            .with_timeout(Duration::from_secs(2));
        let count = match client.metrics().await {
            Ok(text) => equivocations(&text),
            Err(_) => None,
        };
        out.insert(node.name.clone(), count);
    }
    out
}

/// Starts an equivocating twin of `validator` (see the module
/// documentation), records it in the layout file and, with
/// `options.expose`, hands the original's links over to it and waits for
/// the honest validators to report the equivocation. `report` sees each
/// step; the twin and a restarted original go into `children`.
pub async fn start(
    layout: &Layout,
    validator: &str,
    options: &TwinOptions,
    children: &Children,
    report: &(dyn Fn(&str, String) + Sync),
) -> Result<TwinReport, NetError> {
    let original = layout.node(validator)?.clone();
    let twin = plan(layout, validator)?;
    if let Some(record) = process::live(&twin.pid_file()) {
        return Err(twin_error(format!(
            "{validator} already has a twin running (pid {}); stop it with `bitcraps testnet twin {validator} --stop`",
            record.pid
        )));
    }
    if process::live(&original.pid_file()).is_none() {
        return Err(twin_error(format!(
            "{validator} is not running; the twin copies a running validator"
        )));
    }
    if twin.dir.exists() {
        std::fs::remove_dir_all(&twin.dir).map_err(|e| file_error(&twin.dir)(e.to_string()))?;
    }
    std::fs::create_dir_all(&twin.dir).map_err(|e| file_error(&twin.dir)(e.to_string()))?;
    write_config(&original, &twin)?;
    write_deafness(layout, &original, &twin)?;

    let honest: Vec<NodeEntry> = layout
        .nodes
        .iter()
        .filter(|n| n.role == Role::Validator && n.name != validator)
        .cloned()
        .collect();
    let before = counts(&honest).await;

    let from = data_dir(&original)?;
    let mut out = TwinReport {
        validator: validator.to_owned(),
        twin: twin.name.clone(),
        pid: 0,
        api: twin.http_url(),
        frozen_ms: 0.0,
        copied_bytes: 0,
        attempts: 0,
        reported_by: BTreeMap::new(),
        detected_after_ms: None,
    };
    for attempt in 1..=ATTEMPTS {
        out.attempts = attempt;
        if attempt > 1 {
            // The view the twin was stuck in ended the same way for both
            // copies (say both nullified it): nothing to report. Stop the
            // twin, let the original take its links back, copy again.
            report(
                validator,
                format!(
                    "no report within {:?}; trying again",
                    options.expose_timeout
                ),
            );
            let (name, pid_file) = (twin.name.clone(), twin.pid_file());
            tokio::task::spawn_blocking(move || {
                process::stop(&name, &pid_file, Duration::from_secs(2))
            })
            .await
            .expect("the stop task does not panic")?;
            tokio::time::sleep(RETRY_PAUSE).await;
        }
        let to = twin.dir.join("data");
        if to.exists() {
            std::fs::remove_dir_all(&to).map_err(|e| file_error(&to)(e.to_string()))?;
        }
        let blocking_layout = layout.clone();
        let from = from.clone();
        let (copied_bytes, frozen) =
            tokio::task::spawn_blocking(move || frozen_copy(&blocking_layout, &from, &to))
                .await
                .expect("the copy task does not panic")?;
        report(
            validator,
            format!(
                "validators paused {:.0} ms to copy {copied_bytes} bytes of its data to {}",
                frozen.as_secs_f64() * 1000.0,
                twin.dir.display()
            ),
        );
        let child = process::spawn(&net::spec(layout, &twin))?;
        let pid = child.id() as i32;
        children
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((twin.name.clone(), child));
        record(layout, validator, &twin)?;
        report(
            validator,
            format!(
                "twin {} started (pid {pid}, api {}), deaf to the other validators",
                twin.name,
                twin.http_url()
            ),
        );
        wait_healthy(&twin).await?;
        out.pid = pid;
        out.frozen_ms = frozen.as_secs_f64() * 1000.0;
        out.copied_bytes = copied_bytes;
        if !options.expose {
            return Ok(out);
        }
        tokio::time::sleep(SETTLE).await;
        let (name, pid_file) = (validator.to_owned(), original.pid_file());
        let killed = tokio::task::spawn_blocking(move || process::kill(&name, &pid_file))
            .await
            .expect("the kill task does not panic")?;
        let handed_over = Instant::now();
        report(
            validator,
            format!("SIGKILL (pid {}): its links go to the twin", killed.pid),
        );
        let deadline = handed_over + options.expose_timeout;
        loop {
            let now = counts(&honest).await;
            for (name, count) in &now {
                let was = before.get(name).copied().flatten().unwrap_or(0);
                if let Some(count) = count
                    && *count > was
                {
                    out.reported_by.insert(name.clone(), count - was);
                }
            }
            if !out.reported_by.is_empty() {
                out.detected_after_ms = Some(handed_over.elapsed().as_secs_f64() * 1000.0);
                break;
            }
            if Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(POLL).await;
        }
        let child = net::start_node(layout, &original)?;
        report(validator, format!("started again (pid {})", child.id()));
        children
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((validator.to_owned(), child));
        if out.detected_after_ms.is_some() {
            break;
        }
    }
    Ok(out)
}

/// Adds (or replaces) the twin of `validator` in the layout file.
fn record(layout: &Layout, validator: &str, twin: &NodeEntry) -> Result<(), NetError> {
    let mut fresh = Layout::load(&layout.dir)?;
    fresh.twins.retain(|t| t.of != validator);
    fresh.twins.push(TwinEntry {
        of: validator.to_owned(),
        node: twin.clone(),
        started_ms: now_ms(),
    });
    fresh.save()?;
    Ok(())
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

async fn wait_healthy(twin: &NodeEntry) -> Result<(), NetError> {
    let client = ApiClient::new(&twin.http_url())
        .expect("a loopback URL is valid")
        .with_timeout(Duration::from_secs(2));
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let reason = match client.health().await {
            Ok(()) => return Ok(()),
            Err(error) => error.to_string(),
        };
        if process::live(&twin.pid_file()).is_none() {
            return Err(NetError::Exited {
                name: twin.name.clone(),
                status: "exited".into(),
                log: twin.log_file(),
            });
        }
        if Instant::now() >= deadline {
            return Err(NetError::NotReady {
                name: twin.name.clone(),
                waited: START_TIMEOUT,
                reason,
                log: twin.log_file(),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Stops the twin of `validator` (SIGTERM, SIGKILL after `grace`); its
/// directory stays for inspection and the layout keeps it, stopped.
pub fn stop(layout: &Layout, validator: &str, grace: Duration) -> Result<Stopped, NetError> {
    let twin = layout.twin(validator).ok_or_else(|| {
        twin_error(format!(
            "{validator} has no twin in this testnet (start one with `bitcraps testnet twin {validator}`)"
        ))
    })?;
    Ok(process::stop(
        &twin.node.name,
        &twin.node.pid_file(),
        grace,
    )?)
}

/// The validators that have (or had) a twin in this testnet.
pub fn twinned(layout: &Layout) -> BTreeSet<String> {
    layout.twins.iter().map(|t| t.of.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;

    #[test]
    fn a_twin_takes_ports_after_every_node_and_only_validators_have_one() {
        let manifest = Manifest {
            validators: 4,
            players: 1,
            base_port: 30_000,
            ..Manifest::default()
        };
        let layout = Layout::plan(Path::new("/tmp/tn"), Path::new("/bin/bitcraps"), &manifest);
        let twin = plan(&layout, "validator-1").unwrap();
        // 6 nodes take slots 0..5; validator-1's twin is slot 6 + 1.
        assert_eq!(
            (twin.p2p_port, twin.http_port, twin.validator_port),
            (30_070, 30_071, Some(30_072))
        );
        assert_eq!(twin.name, "validator-1-twin");
        assert_eq!(twin.dir, Path::new("/tmp/tn/twins/validator-1"));
        let taken: BTreeSet<u16> = layout
            .nodes
            .iter()
            .flat_map(|n| [n.p2p_port, n.http_port])
            .collect();
        for v in 0..4 {
            let t = plan(&layout, &format!("validator-{v}")).unwrap();
            assert!(!taken.contains(&t.p2p_port) && !taken.contains(&t.http_port));
        }
        let player = plan(&layout, "player-0").unwrap_err().to_string();
        assert!(player.contains("not a validator"), "{player}");
        assert!(plan(&layout, "validator-9").is_err());
        let high = Manifest {
            base_port: 65_450,
            ..manifest
        };
        let layout = Layout::plan(Path::new("/tmp/tn"), Path::new("/bin/bitcraps"), &high);
        assert!(plan(&layout, "validator-3").is_err());
    }

    #[test]
    fn a_tree_is_copied_with_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("from");
        std::fs::create_dir_all(from.join("a/b")).unwrap();
        std::fs::write(from.join("x"), b"12345").unwrap();
        std::fs::write(from.join("a/b/y"), b"678").unwrap();
        let to = dir.path().join("to");
        assert_eq!(copy_tree(&from, &to).unwrap(), 8);
        assert_eq!(std::fs::read(to.join("a/b/y")).unwrap(), b"678");
        assert_eq!(std::fs::read(to.join("x")).unwrap(), b"12345");
    }
}
