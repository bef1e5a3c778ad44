//! # BitCraps terminal UI
//!
//! Will own the player's and validator's terminal interface (ratatui): the live
//! crash multiplier, the craps table, the wallet, the leaderboard and the
//! validator view.
//!
//! It is only a client of a node's local REST and WebSocket API: it must not hold
//! keys, build blocks or decide any outcome itself.
