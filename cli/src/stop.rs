//! The signals that stop a long-running command: Ctrl-C (SIGINT) and
//! SIGTERM.

use anyhow::Context as _;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// Ctrl-C and SIGTERM, watched from the moment this is made.
///
/// Watching starts in [`StopSignals::watch`], not at the first poll: a
/// signal that arrives between the two is kept for [`StopSignals::recv`]
/// instead of ending the process with its default action. (An `async fn`
/// that registered the handlers on its first poll left that window open:
/// a Ctrl-C right after `testnet up` printed "starting" killed `up` and
/// left the nodes it had started running.)
pub struct StopSignals {
    interrupt: Signal,
    terminate: Signal,
}

impl StopSignals {
    /// Installs the handlers. Must run inside a tokio runtime.
    pub fn watch() -> anyhow::Result<Self> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt()).context("cannot watch Ctrl-C")?,
            terminate: signal(SignalKind::terminate()).context("cannot watch SIGTERM")?,
        })
    }

    /// Waits for the next Ctrl-C or SIGTERM, including one that arrived
    /// since [`StopSignals::watch`].
    pub async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
