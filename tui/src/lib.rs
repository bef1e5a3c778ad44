//! # BitCraps terminal UI
//!
//! The player's and validator's terminal interface (ratatui): the live
//! crash multiplier, the craps table, the wallet and leaderboard, and the
//! validator view. It is only a client of a node's local REST and
//! WebSocket API ([`node::client`]): it holds no keys, builds no blocks and
//! decides no outcome; bets and transfers go to the node's wallet routes
//! with the token from the node's cookie file.
//!
//! State and drawing are apart: [`app::App`] is updated by events and
//! answers with requests; [`ui::render`] draws it, a pure function, so
//! every screen is tested on ratatui's `TestBackend` without a node.
//!
//! | module | concept |
//! |---|---|
//! | [`app`] | the state, its events (keys, answers, WebSocket, ticks) and requests |
//! | [`crash`] | the crash screen: live curve, bets, cash-out, history |
//! | [`craps`] | the craps screen: the felt, the bet chooser, rolls and resolutions |
//! | [`wallet`] | balance, history, transfer, leaderboard, tables |
//! | [`validator`] | chain position, finalization rate, the validator set |
//! | [`verify`] | re-deriving a round's outcome from its σ, offline |
//! | [`ui`] | the frame: header, status line, pop-ups, shared formatting |
//! | [`client`] | carrying requests out against the API |
//! | [`terminal`] | raw mode, the event loop, restoring the terminal |

pub mod app;
pub mod client;
pub mod craps;
pub mod crash;
pub mod terminal;
pub mod ui;
pub mod validator;
pub mod verify;
pub mod wallet;

pub use terminal::{Options, TuiError, run, run_until};
