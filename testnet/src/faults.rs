//! # Fault injection
//!
//! Faults act on real processes through signals (see [`crate::process`])
//! or, for a partition, through the nodes' partition files (see
//! [`crate::partition`]):
//!
//! | fault | what happens |
//! |---|---|
//! | kill | SIGKILL, wait `hold`, start the node again (same data directory) |
//! | pause | SIGSTOP, wait `hold`, SIGCONT |
//! | restart | SIGTERM (SIGKILL after the grace period), start again |
//! | partition | cut the node (and a manifest fault's `with`) off from every other node, in addition to any partition in force, wait `hold`, heal that partition (the others stay) |
//! | twin | start an equivocating twin of a validator and hand it the original's links ([`crate::twin`]) |
//!
//! [`inject`] runs one fault to the end; [`run_schedule`] runs a
//! manifest's schedule, each fault at its time after the start (faults may
//! overlap), reporting each step as it happens. A node restarted here is a
//! child of the calling process; callers that outlive it reap it with
//! [`crate::process::reap`].

use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::layout::Layout;
use crate::manifest::{Fault, FaultKind};
use crate::net::{self, NetError};
use crate::process;

/// The grace period of a restart's SIGTERM.
pub const RESTART_GRACE: Duration = Duration::from_secs(10);

/// Children started by faults, for the caller to reap.
pub type Children = Arc<Mutex<Vec<(String, Child)>>>;

/// Something a fault did, for the log.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultEvent {
    /// Seconds since the schedule started.
    pub at_secs: f64,
    /// The node.
    pub node: String,
    /// What happened.
    pub what: String,
}

/// Runs one fault against `node` to the end (for kill and pause, `hold`
/// is the downtime), calling `report` at each step.
pub async fn inject(
    layout: &Layout,
    node: &str,
    kind: FaultKind,
    hold: Duration,
    children: &Children,
    report: &(dyn Fn(&str, String) + Sync),
) -> Result<(), NetError> {
    let entry = layout.node(node)?.clone();
    let pid_file = entry.pid_file();
    match kind {
        FaultKind::Kill => {
            let record = process::kill(node, &pid_file)?;
            report(node, format!("SIGKILL (pid {})", record.pid));
            tokio::time::sleep(hold).await;
            let child = net::start_node(layout, &entry)?;
            report(node, format!("started again (pid {})", child.id()));
            lock(children).push((node.to_owned(), child));
        }
        FaultKind::Pause => {
            let record = process::pause(node, &pid_file)?;
            report(node, format!("SIGSTOP (pid {})", record.pid));
            tokio::time::sleep(hold).await;
            process::resume(node, &pid_file)?;
            report(node, format!("SIGCONT (pid {})", record.pid));
        }
        FaultKind::Restart => {
            let name = node.to_owned();
            let stopped =
                tokio::task::spawn_blocking(move || process::stop(&name, &pid_file, RESTART_GRACE))
                    .await
                    .expect("the stop task does not panic")?;
            report(node, format!("stopped ({stopped:?})"));
            let child = net::start_node(layout, &entry)?;
            report(node, format!("started again (pid {})", child.id()));
            lock(children).push((node.to_owned(), child));
        }
        FaultKind::Partition => partition(layout, &[node.to_owned()], hold, report).await?,
        FaultKind::Twin => {
            let twin = crate::twin::start(
                layout,
                node,
                &crate::twin::TwinOptions::default(),
                children,
                report,
            )
            .await?;
            report(node, twin.to_string());
        }
    }
    Ok(())
}

/// Cuts `side` off from every other node (other partitions in force
/// stay), waits `hold`, heals this partition, calling `report` (on the
/// first node of `side`) at each step.
pub async fn partition(
    layout: &Layout,
    side: &[String],
    hold: Duration,
    report: &(dyn Fn(&str, String) + Sync),
) -> Result<(), NetError> {
    let cut = crate::partition::cut(layout, side)?;
    crate::partition::plan_heal(layout, cut.id, hold)?;
    let name = side.first().map(String::as_str).unwrap_or_default();
    report(name, format!("partitioned: {cut}"));
    tokio::time::sleep(hold).await;
    if crate::partition::heal_one(layout, cut.id)? {
        report(name, "healed".into());
    } else {
        report(name, "already healed (`testnet heal`)".into());
    }
    Ok(())
}

fn lock(children: &Children) -> std::sync::MutexGuard<'_, Vec<(String, Child)>> {
    children
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `faults`, each `at_secs` after the call, concurrently; returns
/// every event in order and the first error, if any, after all faults
/// ended. `report` sees each event as it happens.
pub async fn run_schedule(
    layout: &Layout,
    faults: &[Fault],
    children: &Children,
    report: Arc<dyn Fn(&FaultEvent) + Send + Sync>,
) -> (Vec<FaultEvent>, Option<NetError>) {
    let start = tokio::time::Instant::now();
    let events = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = tokio::task::JoinSet::new();
    for fault in faults.iter().cloned() {
        let layout = layout.clone();
        let children = children.clone();
        let events = events.clone();
        let report = report.clone();
        tasks.spawn(async move {
            tokio::time::sleep_until(start + Duration::from_secs(fault.at_secs)).await;
            let record = move |node: &str, what: String| {
                let event = FaultEvent {
                    at_secs: start.elapsed().as_secs_f64(),
                    node: node.to_owned(),
                    what,
                };
                report(&event);
                events.lock().unwrap_or_else(|p| p.into_inner()).push(event);
            };
            let hold = Duration::from_secs(fault.hold_secs());
            if fault.kind == FaultKind::Partition {
                partition(&layout, &fault.side(), hold, &record).await
            } else {
                inject(&layout, &fault.node, fault.kind, hold, &children, &record).await
            }
        });
    }
    let mut first_error = None;
    while let Some(done) = tasks.join_next().await {
        if let Ok(Err(error)) = done
            && first_error.is_none()
        {
            first_error = Some(error);
        }
    }
    let mut events = events.lock().unwrap_or_else(|p| p.into_inner()).clone();
    events.sort_by(|a, b| a.at_secs.total_cmp(&b.at_secs));
    (events, first_error)
}
