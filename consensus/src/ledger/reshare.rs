//! Resharing the beacon key through the chain, at epoch boundaries.
//!
//! On a chain with a beacon sharing (a genesis `beacon_sharing`), the
//! validator set of an epoch is the player set of the sharing in force:
//! a validator signs beacon shares (and proposes) only with a share. When
//! the next epoch's set would differ, the outgoing set reshares the group
//! key to the incoming set, and the ledger is where the round is decided:
//!
//! 1. **Open.** At the end of the block at position `⌊L/2⌋` of an epoch of
//!    `L` blocks (for `L ≥ 3`), the next set is chosen as at an epoch end
//!    ([`super::staking`]: registered, never slashed, enough stake, the
//!    largest stakes). If it differs from the players of the sharing in
//!    force (and has at most [`dkg::max_reshare_players`] members), a
//!    [`ReshareRound`] opens: round number `next_round`, dealers = the
//!    players of the sharing in force (each holds a share), players = the
//!    next set, deadline = the epoch's last height. The round's commonware
//!    description ([`dkg::round_info`]) binds the previous output and both
//!    sets, so every node and every validator builds the same one.
//! 2. **Deal and acknowledge** (off the chain): each dealer sends each
//!    player its private dealing over the validator network; players
//!    acknowledge; see [`crate::validator`].
//! 3. **Logs.** A dealer puts its signed log in a block with a
//!    [`crate::tx::Action::DealerLog`] transaction. It is taken only for
//!    the open round, by its deadline, from a dealer of the round (the
//!    sender must be the dealer, whose key signs the log), once per dealer;
//!    the log must decode canonically (bounded first) and be signed for the
//!    round. Anything else is a refused transaction
//!    ([`RejectReason::DealerLogRefused`]): fee and nonce only.
//! 4. **Close.** At the end of the epoch's last block (before the epoch
//!    changes) the ledger runs commonware's `observe` on the recorded logs
//!    ([`dkg::observe_logs`], its verification randomness seeded by this
//!    block's hash, which no dealer knew when it signed). If a quorum of
//!    usable logs gives an output that keeps the group key, and no player
//!    was slashed meanwhile, the round **completes**: the new output is
//!    the sharing in force from the next epoch, whose set is the round's
//!    players. Otherwise the round **fails**.
//!
//! **A failed round postpones the change.** The next epoch keeps the set
//! and the sharing in force (the old set keeps signing and proposing: the
//! chain never waits for key material), and the next round opens in the
//! middle of that epoch with the set chosen then. Safety never depends on
//! a round succeeding; only the set change is late. A slashed validator
//! therefore leaves the set at the first *successful* round after its
//! slash (it cannot be in the set chosen by any later round), not
//! necessarily at the next epoch.
//!
//! The record ([`Resharing`], one state entry) keeps the sharing in force
//! (commonware's encoded output: its public polynomial, its players in
//! share order) with the epoch it took effect, the next round number
//! (failed rounds count), and the last round with its logs: players derive
//! their shares from exactly those logs after the round completes. A chain
//! whose record is absent uses the genesis sharing
//! ([`dkg::genesis_output`]). A chain without a sharing (tests, tools)
//! changes its set at every epoch end as before, with no rounds.
//!
//! A completed round moves the sharing it replaces to a [`PastSharing`]
//! entry (keyed by the first epoch it was in force, with its last), so
//! that equivocation evidence signed in an earlier epoch is verified
//! against the polynomial and players of *that* epoch
//! ([`State::sharing_at`]). Past sharings are forgotten with the epoch
//! records, once every epoch they served is older than the evidence
//! window ([`super::staking::evidence_window`]).
//!
//! σ always verifies under the group key, which resharing keeps; each
//! epoch's *partial* signatures verify against that epoch's polynomial
//! ([`super::Ledger::beacon_output`]).

use borsh::{BorshDeserialize, BorshSerialize};
use wallet::PublicKey;

use super::error::LedgerError;
use super::exec::{Env, Sender, TxResult, text};
use super::state::State;
use crate::beacon::dkg::{self, DkgOutput};
use crate::receipt::RejectReason;

/// The state of a chain's beacon key material (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Resharing {
    /// The sharing in force: commonware's encoding of the DKG output
    /// (decode with [`DkgOutput::from_bytes`]).
    pub output: Vec<u8>,
    /// The epoch from which `output` is in force.
    pub since_epoch: u64,
    /// The number of the next round (every round opened counts).
    pub next_round: u64,
    /// The last round opened, while it runs and after it ended.
    pub round: Option<ReshareRound>,
}

/// A sharing superseded by a completed resharing round, kept while
/// evidence of its epochs can be punished (see the module doc). Its key
/// is the first epoch it was in force.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct PastSharing {
    /// Commonware's encoding of the DKG output (as [`Resharing::output`]).
    pub output: Vec<u8>,
    /// The last epoch it was in force.
    pub last_epoch: u64,
}

/// A resharing round.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ReshareRound {
    /// Its number (part of the commonware round description).
    pub round: u64,
    /// The height whose block opened it.
    pub opened_at: u64,
    /// The last height whose block may carry a log.
    pub deadline: u64,
    /// The dealers: the players of the sharing in force, in key order.
    pub dealers: Vec<PublicKey>,
    /// The players: the next set, in key order.
    pub players: Vec<PublicKey>,
    /// The logs recorded, by dealer in key order: commonware's encoded
    /// `SignedDealerLog`.
    pub logs: Vec<(PublicKey, Vec<u8>)>,
    /// How it ended.
    pub status: RoundStatus,
}

/// How a round stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum RoundStatus {
    /// Taking logs until the deadline.
    Open,
    /// Its output is the sharing in force from `epoch`.
    Completed {
        /// The first epoch of the new sharing.
        epoch: u64,
    },
    /// It ended without an output; the set did not change.
    Failed,
}

/// The commonware key of a ledger key (the same ed25519 key).
pub fn identity(key: &PublicKey) -> Result<dkg::PublicKey, LedgerError> {
    use commonware_codec::DecodeExt as _;
    dkg::PublicKey::decode(commonware_codec::Copying(key.as_bytes().as_slice()))
        .map_err(|e| LedgerError::corrupt(format!("a validator key is not an ed25519 key: {e}")))
}

/// The ledger key of a commonware identity.
pub fn ledger_key(identity: &dkg::PublicKey) -> Result<PublicKey, LedgerError> {
    let bytes: [u8; PublicKey::LENGTH] = identity
        .as_ref()
        .try_into()
        .map_err(|_| LedgerError::corrupt("an identity of the wrong length"))?;
    PublicKey::from_bytes(&bytes)
        .map_err(|e| LedgerError::corrupt(format!("an identity is not a wallet key: {e}")))
}

fn identities(keys: &[PublicKey]) -> Result<Vec<dkg::PublicKey>, LedgerError> {
    keys.iter().map(identity).collect()
}

/// `round`'s logs by commonware identity, as [`dkg::observe_logs`] and
/// [`dkg::finalize_player`] take them.
pub fn round_logs(round: &ReshareRound) -> Result<Vec<(dkg::PublicKey, Vec<u8>)>, LedgerError> {
    round
        .logs
        .iter()
        .map(|(dealer, log)| Ok((identity(dealer)?, log.clone())))
        .collect()
}

/// The commonware description of `round` on `previous`.
pub fn round_info(
    previous: &DkgOutput,
    round: &ReshareRound,
) -> Result<dkg::RoundInfo, LedgerError> {
    dkg::round_info(
        round.round,
        Some(previous),
        &identities(&round.dealers)?,
        &identities(&round.players)?,
    )
    .map_err(|e| LedgerError::corrupt(format!("resharing round {}: {e}", round.round)))
}

/// The position in its epoch of the block that opens a round, if rounds
/// fit in epochs of `length` blocks (`length ≥ 3`: at least one block
/// between opening and closing takes logs).
pub fn open_position(length: u64) -> Option<u64> {
    (length >= 3).then_some(length / 2)
}

fn refused(reason: String) -> RejectReason {
    RejectReason::DealerLogRefused {
        reason: text(&reason),
    }
}

impl State {
    /// The sharing in force: the record's, else `genesis`'s.
    pub(crate) fn beacon_output(
        &self,
        genesis: Option<&DkgOutput>,
    ) -> Result<Option<DkgOutput>, LedgerError> {
        match self.reshare.get(&()) {
            Some(record) => DkgOutput::from_bytes(&record.output)
                .map(Some)
                .map_err(|e| LedgerError::corrupt(format!("the stored beacon output: {e}"))),
            None => Ok(genesis.cloned()),
        }
    }

    /// The sharing in force in `epoch` (at most the current epoch): the
    /// current one from its first epoch on, a [`PastSharing`] before that,
    /// the genesis sharing on a chain that never reshared. `Ok(None)` if
    /// the state keeps no sharing of `epoch` (forgotten, or a chain
    /// without a sharing).
    pub(crate) fn sharing_at(
        &self,
        genesis: Option<&DkgOutput>,
        epoch: u64,
    ) -> Result<Option<DkgOutput>, LedgerError> {
        let in_force_since = self.reshare.get(&()).map_or(0, |r| r.since_epoch);
        if epoch >= in_force_since {
            return self.beacon_output(genesis);
        }
        let Some((first, past)) = self.past_sharings.range(..=epoch).next_back() else {
            return Ok(None);
        };
        if epoch > past.last_epoch {
            return Ok(None);
        }
        DkgOutput::from_bytes(&past.output).map(Some).map_err(|e| {
            LedgerError::corrupt(format!("the stored sharing of epochs from {first}: {e}"))
        })
    }

    fn resharing_or_genesis(&self, genesis: &DkgOutput) -> Resharing {
        self.reshare.get(&()).cloned().unwrap_or_else(|| Resharing {
            output: genesis.to_bytes(),
            since_epoch: 0,
            next_round: 0,
            round: None,
        })
    }

    /// Step 6, at the opening position: opens a round if the next set
    /// differs from the players of the sharing in force.
    pub(crate) fn open_reshare(
        &mut self,
        env: &Env<'_>,
        genesis: &DkgOutput,
    ) -> Result<(), LedgerError> {
        let next = self.select_validators(env.params);
        if next.is_empty() {
            return Ok(());
        }
        let mut record = self.resharing_or_genesis(genesis);
        let previous = DkgOutput::from_bytes(&record.output)
            .map_err(|e| LedgerError::corrupt(format!("the stored beacon output: {e}")))?;
        let dealers = previous
            .players()
            .iter()
            .map(ledger_key)
            .collect::<Result<Vec<_>, _>>()?;
        let mut players = next;
        players.sort_by_key(|key| *key.as_bytes());
        if players == dealers || players.len() > dkg::max_reshare_players() as usize {
            return Ok(());
        }
        let deadline = env
            .height
            .checked_add(env.params.epoch_length_blocks.max(1))
            .and_then(|h| h.checked_sub(env.height % env.params.epoch_length_blocks.max(1)))
            .and_then(|h| h.checked_sub(1))
            .ok_or(LedgerError::overflow("a resharing deadline"))?;
        let round = ReshareRound {
            round: record.next_round,
            opened_at: env.height,
            deadline,
            dealers,
            players,
            logs: Vec::new(),
            status: RoundStatus::Open,
        };
        // A round commonware would refuse (it cannot happen with dealers
        // that are the previous players) is not opened.
        if round_info(&previous, &round).is_err() {
            return Ok(());
        }
        record.next_round = record
            .next_round
            .checked_add(1)
            .ok_or(LedgerError::overflow("the resharing round counter"))?;
        record.round = Some(round);
        self.reshare.insert((), record);
        Ok(())
    }

    /// `DealerLog` (see the module doc).
    pub(crate) fn dealer_log(
        &mut self,
        env: &Env<'_>,
        sender: &Sender,
        round_number: u64,
        bytes: &[u8],
    ) -> TxResult {
        let record = self
            .reshare
            .get(&())
            .ok_or_else(|| refused("no resharing round was ever opened".into()))?;
        let round = record
            .round
            .as_ref()
            .filter(|r| r.round == round_number && r.status == RoundStatus::Open)
            .ok_or_else(|| refused(format!("round {round_number} is not open")))?;
        if env.height > round.deadline {
            return Err(refused(format!(
                "round {round_number} took logs until height {}",
                round.deadline
            ))
            .into());
        }
        if !round.dealers.contains(&sender.key) {
            return Err(refused(format!(
                "the sender is not a dealer of round {round_number}"
            ))
            .into());
        }
        if round.logs.iter().any(|(dealer, _)| *dealer == sender.key) {
            return Err(refused(format!("the sender's log of round {round_number} is in")).into());
        }
        let previous = DkgOutput::from_bytes(&record.output)
            .map_err(|e| LedgerError::corrupt(format!("the stored beacon output: {e}")))?;
        let info = round_info(&previous, round)?;
        let dealer = identity(&sender.key)?;
        let log = dkg::decode_log(bytes).map_err(|e| refused(e.to_string()))?;
        dkg::check_log(&info, log, &dealer).map_err(|e| refused(e.to_string()))?;
        let mut record = record.clone();
        if let Some(round) = record.round.as_mut() {
            let at = round
                .logs
                .partition_point(|(d, _)| d.as_bytes() < sender.key.as_bytes());
            round.logs.insert(at, (sender.key, bytes.to_vec()));
        }
        self.reshare.insert((), record);
        Ok(())
    }

    /// Step 6, at an epoch's last block, before the epoch changes: closes
    /// the open round. Returns the next epoch's set if the round completed.
    pub(crate) fn close_reshare(
        &mut self,
        env: &Env<'_>,
        next_epoch: u64,
    ) -> Result<Option<Vec<PublicKey>>, LedgerError> {
        let Some(mut record) = self.reshare.get(&()).cloned() else {
            return Ok(None);
        };
        let Some(round) = record.round.as_mut() else {
            return Ok(None);
        };
        if round.status != RoundStatus::Open {
            return Ok(None);
        }
        let previous = DkgOutput::from_bytes(&record.output)
            .map_err(|e| LedgerError::corrupt(format!("the stored beacon output: {e}")))?;
        let info = round_info(&previous, round)?;
        let slashed = round
            .players
            .iter()
            .any(|p| self.validators.get(p).is_none_or(|v| v.slashed));
        let seed = env.block_hash.to_bytes();
        let output = if slashed {
            None
        } else {
            dkg::observe_logs(&info, &previous, &round_logs(round)?, &seed).ok()
        };
        let players = match output {
            Some(output) => {
                round.status = RoundStatus::Completed { epoch: next_epoch };
                let superseded = PastSharing {
                    output: std::mem::replace(&mut record.output, output.to_bytes()),
                    last_epoch: next_epoch.saturating_sub(1),
                };
                self.past_sharings.insert(record.since_epoch, superseded);
                record.since_epoch = next_epoch;
                Some(round.players.clone())
            }
            None => {
                round.status = RoundStatus::Failed;
                None
            }
        };
        self.reshare.insert((), record);
        Ok(players)
    }
}
