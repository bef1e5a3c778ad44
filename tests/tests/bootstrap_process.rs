//! The testnet's process supervisor against a real `bitcraps bootstrap`
//! process: spawn with a log and a pid file, health over HTTP, SIGSTOP and
//! SIGCONT, SIGKILL, a restart keeping its identity, and a clean SIGTERM.

use std::path::Path;
use std::time::Duration;

use bitcraps_tests::bitcraps_binary;
use node::client::ApiClient;
use testnet::process::{self, ProcessSpec, Stopped};

const CHAIN_ID: &str = "1111111111111111111111111111111111111111111111111111111111111111";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spec(dir: &Path, http_port: u16) -> ProcessSpec {
    ProcessSpec {
        name: "bootstrap".into(),
        program: bitcraps_binary(),
        args: vec![
            "bootstrap".into(),
            "--chain-id".into(),
            CHAIN_ID.into(),
            "--http".into(),
            format!("127.0.0.1:{http_port}"),
            "--key-file".into(),
            dir.join("bootstrap.key").display().to_string(),
            "--addr-file".into(),
            dir.join("bootstrap.addr").display().to_string(),
        ],
        dir: dir.to_path_buf(),
        log: dir.join("node.log"),
        pid_file: dir.join("node.pid"),
    }
}

async fn healthy_within(client: &ApiClient, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if client.health().await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

fn peer_id(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("bootstrap.addr")).unwrap();
    text.lines()
        .next()
        .and_then(|line| line.rsplit("/p2p/").next())
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_supervisor_drives_a_real_bootstrap_process() {
    let dir = tempfile::tempdir().unwrap();
    // Build (or find) the binary before picking the port: a free port is only
    // free until someone else takes it, and a first build takes minutes.
    bitcraps_binary();
    let port = free_port();
    let spec = spec(dir.path(), port);
    let client = ApiClient::new(&format!("http://127.0.0.1:{port}"))
        .unwrap()
        .with_timeout(Duration::from_millis(500));

    let mut first = process::spawn(&spec).unwrap();
    assert!(
        healthy_within(&client, Duration::from_secs(30)).await,
        "never healthy; log:\n{}",
        std::fs::read_to_string(&spec.log).unwrap_or_default()
    );
    let id = peer_id(dir.path());
    let log = std::fs::read_to_string(&spec.log).unwrap();
    assert!(log.contains(&format!("bootstrap peer {id}")), "{log}");
    let metrics = client.metrics().await.unwrap();
    assert!(
        metrics.contains("bitcraps_bootstrap_connected_peers"),
        "{metrics}"
    );

    // Paused, it answers nothing; resumed, it answers again.
    let record = process::pause("bootstrap", &spec.pid_file).unwrap();
    assert!(!healthy_within(&client, Duration::from_secs(2)).await);
    assert!(process::is_paused(record));
    process::resume("bootstrap", &spec.pid_file).unwrap();
    assert!(healthy_within(&client, Duration::from_secs(10)).await);

    // SIGKILL: gone at once, pid file removed.
    process::kill("bootstrap", &spec.pid_file).unwrap();
    assert!(!process::is_alive(record));
    assert!(first.wait().unwrap().code().is_none());
    assert!(client.health().await.is_err());

    // Started again, it keeps its identity; SIGTERM stops it cleanly.
    let mut second = process::spawn(&spec).unwrap();
    assert!(healthy_within(&client, Duration::from_secs(30)).await);
    assert_eq!(peer_id(dir.path()), id);
    let stopped = process::stop("bootstrap", &spec.pid_file, Duration::from_secs(10)).unwrap();
    assert_eq!(stopped, Stopped::Terminated);
    assert!(second.wait().unwrap().success(), "exits 0 on SIGTERM");
    let log = std::fs::read_to_string(&spec.log).unwrap();
    assert_eq!(log.matches("==== bootstrap starting").count(), 2, "{log}");
    assert!(log.contains("stopping"), "{log}");
}
