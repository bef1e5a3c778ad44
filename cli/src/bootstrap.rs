//! `bitcraps bootstrap`: runs the bootstrap peer (crate `bootstrap`) until
//! Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use bootstrap::{Bootstrap, BootstrapConfig};
use clap::Args as ClapArgs;
use consensus::genesis::Genesis;
use node::network::Multiaddr;
use wallet::ChainId;

use crate::stop::StopSignals;

/// Run the bootstrap peer: the discovery entry point new nodes dial first
/// (Kademlia server, identify, ping; no ledger, no stake).
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The chain's genesis JSON (its hash is the chain id the peer serves).
    #[arg(long, value_name = "FILE", required_unless_present = "chain_id")]
    genesis: Option<PathBuf>,
    /// The chain id (64 hex characters), instead of --genesis.
    #[arg(long, value_name = "HEX", conflicts_with = "genesis")]
    chain_id: Option<ChainId>,
    /// Where to listen for peers (multiaddrs, repeatable or comma-separated)
    /// [default: TCP and QUIC on 127.0.0.1, OS-chosen ports].
    #[arg(long, value_name = "MULTIADDR", value_delimiter = ',')]
    listen: Vec<Multiaddr>,
    /// Where /health and /metrics are served.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7390")]
    http: SocketAddr,
    /// The identity key file, created if missing, so the peer id survives
    /// restarts [default: a new key each start].
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// Write the full listen addresses (with /p2p/<peer id>) here, one per
    /// line, once listening.
    #[arg(long, value_name = "FILE")]
    addr_file: Option<PathBuf>,
}

/// Starts the peer, prints its addresses, and runs until a signal.
pub fn run(args: Args) -> anyhow::Result<()> {
    let chain_id = match (&args.genesis, args.chain_id) {
        (_, Some(chain_id)) => chain_id,
        (Some(path), None) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read the genesis {}", path.display()))?;
            Genesis::from_json_bytes(&bytes)
                .with_context(|| format!("{} is not a valid genesis", path.display()))?
                .chain_id()
        }
        (None, None) => bail!("give --genesis FILE or --chain-id HEX"),
    };
    let mut config = BootstrapConfig::new(chain_id);
    if !args.listen.is_empty() {
        config.listen_addrs = args.listen;
    }
    config.http_listen = args.http;
    config.key_file = args.key_file;
    config.addr_file = args.addr_file;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let mut stop = StopSignals::watch()?;
        let peer = Bootstrap::start(config).await?;
        println!("bootstrap peer {} for chain {chain_id}", peer.peer_id());
        for addr in peer.listen_addrs() {
            println!("listening on {addr}");
        }
        println!(
            "health: http://{0}/health  metrics: http://{0}/metrics",
            peer.http_addr()
        );
        stop.recv().await;
        println!("stopping");
        peer.shutdown().await;
        Ok(())
    })
}
