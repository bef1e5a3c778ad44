//! # BitCraps bootstrap peer
//!
//! Will own the long-running discovery entry point that new nodes dial first
//! (Kademlia server, identify, optional relay) with its own health and metrics.
//!
//! It must hold no stake and no ledger, and must never be required for safety:
//! nodes that already know each other keep working without it.
