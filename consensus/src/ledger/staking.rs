//! Validators, stake, slashing and epochs.
//!
//! - `RegisterValidator` records the sender as a validator; its consensus
//!   key must be the sender's own key (there is no proof of possession of
//!   another key yet) and not already registered. A validator starts with
//!   no stake. Its beacon share comes from the resharing rounds
//!   ([`super::reshare`]), whose players are validators' consensus keys.
//! - `Stake` bonds balance to the sender's validator; `Unstake` moves bonded
//!   stake to an unbonding entry paid back after `unbonding_blocks` (still
//!   slashable until then).
//! - `SlashingEvidence` proves a double vote ([`Evidence::verify`] checked
//!   the signatures in the block's checks): the offender must have been in
//!   the set of the vote's epoch, the epoch must not be in the future nor
//!   older than `unbonding_blocks / epoch_length_blocks` epochs, and each
//!   offence (offender and slot) is punished once. It burns
//!   `double_vote_slash_bps` of the offender's bonded stake and of each of
//!   its unbonding entries (rounded down) and marks it slashed: it earns no
//!   more fees, leaves the set at the next epoch (on a chain with a beacon
//!   sharing: at the first completed resharing round opened after the
//!   slash, see [`super::reshare`]), and never joins again.
//!   The reporter is not rewarded.
//! - Engine votes ([`Evidence::Equivocation`]: two conflicting threshold
//!   partial signatures, as simplex reports them) are verified here
//!   against the committee of the votes' epoch: the engine's epochs are
//!   the ledger's, and epoch `e`'s committee is the players and public
//!   polynomial of the sharing in force in `e` (the genesis sharing, or
//!   the output of the resharing round that completed before `e`, kept as
//!   a [`super::reshare::PastSharing`] once superseded). The offender is
//!   that sharing's player at the signer's index, and the slot is the
//!   engine's `(epoch, view)` at `Slot::CONSENSUS_HEIGHT`. The epoch rules
//!   are those of a double vote; an epoch whose sharing the ledger does not
//!   keep is refused ([`EvidenceEpochError`]), so votes are never judged
//!   against another epoch's committee. The window is no longer than the
//!   unbonding period: an offender that unstaked after the votes still has
//!   its stake unbonding (and slashable) while evidence can come in, and
//!   evidence older than the window finds nothing the unbonding rules
//!   would still hold.
//! - At the end of the last block of each epoch (`(height + 1) %
//!   epoch_length_blocks == 0`) the fee pool is paid to the epoch's
//!   validators that are not slashed, pro rata to their bonded stake, each
//!   share rounded down; the remainder (and everything, if no validator can
//!   be paid) is burned. Then the next epoch's set is chosen: registered,
//!   never slashed, stake ≥ `min_validator_stake`, the `max_validators`
//!   largest stakes, ties by key. If nobody qualifies the set stays as it
//!   was (a chain without validators cannot continue). On a chain with a
//!   beacon sharing the set is chosen in the middle of the epoch instead and
//!   takes over only through a completed resharing round; a failed round
//!   keeps the set ([`super::reshare`]).
//! - Unbonded stake is released at the first block at or after its release
//!   height.

use game_rules::Chips;
use wallet::{ChainId, PublicKey};

use super::bankroll::mul_div;
use super::error::{EvidenceEpochError, LedgerError};
use super::exec::{Env, Out, Sender, TxResult, text};
use super::state::{EpochRecord, EvidenceUsed, State, Unbonding, Validator};
use crate::beacon::dkg::DkgOutput;
use crate::genesis::{BPS_DENOMINATOR, Params};
use crate::receipt::{LedgerEvent, RejectReason};
use crate::tx::{ConflictKind, ConsensusCommittee, Evidence, NetworkAddress, Slot};

/// How many epochs back evidence is still punished.
pub fn evidence_window(params: &Params) -> u64 {
    params.unbonding_blocks / params.epoch_length_blocks.max(1)
}

/// Whether evidence of `epoch` can be judged in epoch `current` with a
/// window of `window` epochs: not in the future, not older than the
/// window.
fn check_evidence_window(epoch: u64, current: u64, window: u64) -> Result<(), EvidenceEpochError> {
    if epoch > current {
        return Err(EvidenceEpochError::Future { epoch, current });
    }
    if current - epoch > window {
        return Err(EvidenceEpochError::TooOld {
            epoch,
            current,
            window,
        });
    }
    Ok(())
}

/// `amount · bps / 10,000`, rounded down.
fn slash_part(amount: Chips, bps: u16) -> Chips {
    amount
        .mul_ratio_floor(u64::from(bps), u64::from(BPS_DENOMINATOR))
        .unwrap_or(Chips::ZERO)
}

impl State {
    /// The validators of the current epoch.
    pub(crate) fn active_validators(&self) -> &[PublicKey] {
        self.epochs
            .get(&self.globals.get().epoch)
            .map_or(&[], |e| e.validators.as_slice())
    }

    /// The set the next epoch would have (see the module doc).
    pub(crate) fn select_validators(&self, params: &Params) -> Vec<PublicKey> {
        let mut candidates: Vec<(Chips, PublicKey)> = self
            .validators
            .iter()
            .filter(|(_, v)| !v.slashed && v.stake >= params.min_validator_stake)
            .map(|(key, v)| (v.stake, *key))
            .collect();
        candidates.sort_by(|(sa, ka), (sb, kb)| sb.cmp(sa).then(ka.cmp(kb)));
        candidates.truncate(params.max_validators as usize);
        candidates.into_iter().map(|(_, key)| key).collect()
    }

    /// The engine's committee of `epoch` on chain `chain_id`, whose
    /// genesis sharing is `genesis` (see the module doc), or why evidence
    /// of `epoch` cannot be judged; `Err` only for a corrupt state.
    pub(crate) fn consensus_committee(
        &self,
        chain_id: &ChainId,
        params: &Params,
        genesis: Option<&DkgOutput>,
        epoch: u64,
    ) -> Result<Result<ConsensusCommittee, EvidenceEpochError>, LedgerError> {
        if genesis.is_none() {
            return Ok(Err(EvidenceEpochError::NoCommittee));
        }
        if let Err(refused) =
            check_evidence_window(epoch, self.globals.get().epoch, evidence_window(params))
        {
            return Ok(Err(refused));
        }
        let Some(output) = self.sharing_at(genesis, epoch)? else {
            return Ok(Err(EvidenceEpochError::NoSharingRecord { epoch }));
        };
        let validators = output
            .players()
            .iter()
            .map(super::reshare::ledger_key)
            .collect::<Result<Vec<_>, _>>()?;
        ConsensusCommittee::new(chain_id, &validators, output.sharing())
            .map(Ok)
            .map_err(|e| {
                LedgerError::corrupt(format!(
                    "the sharing of epoch {epoch} is not a committee: {e}"
                ))
            })
    }

    /// `RegisterValidator`.
    pub(crate) fn register_validator(
        &mut self,
        sender: &Sender,
        out: &mut Out,
        consensus_key: &PublicKey,
        network_address: &NetworkAddress,
    ) -> TxResult {
        if *consensus_key != sender.key {
            return Err(RejectReason::ConsensusKeyNotSender.into());
        }
        if self.validators.contains(consensus_key) {
            return Err(RejectReason::AlreadyRegistered.into());
        }
        self.validators.insert(
            *consensus_key,
            Validator {
                consensus_key: *consensus_key,
                account: sender.address,
                network_address: network_address.clone(),
                stake: Chips::ZERO,
                slashed: false,
            },
        );
        out.event(LedgerEvent::ValidatorRegistered {
            validator: *consensus_key,
            account: sender.address,
        });
        Ok(())
    }

    /// `Stake`.
    pub(crate) fn stake(&mut self, sender: &Sender, out: &mut Out, amount: Chips) -> TxResult {
        let validator = self
            .validators
            .get(&sender.key)
            .ok_or(RejectReason::NotAValidator)?;
        self.require_balance(&sender.address, amount)?;
        let stake = validator
            .stake
            .checked_add(amount)
            .ok_or(RejectReason::Overflow)?;
        self.debit(out, sender.address, amount)?;
        if let Some(validator) = self.validators.get_mut(&sender.key) {
            validator.stake = stake;
        }
        out.event(LedgerEvent::Staked {
            account: sender.address,
            amount,
        });
        Ok(())
    }

    /// `Unstake`.
    pub(crate) fn unstake(
        &mut self,
        env: &Env<'_>,
        sender: &Sender,
        out: &mut Out,
        amount: Chips,
    ) -> TxResult {
        let validator = self
            .validators
            .get(&sender.key)
            .ok_or(RejectReason::NotAValidator)?;
        let stake = validator
            .stake
            .checked_sub(amount)
            .ok_or(RejectReason::InsufficientStake {
                requested: amount,
                staked: validator.stake,
            })?;
        let release_at = env
            .height
            .checked_add(env.params.unbonding_blocks)
            .ok_or(RejectReason::Overflow)?;
        let sequence = self.globals.get().next_unbonding;
        let next = sequence.checked_add(1).ok_or(RejectReason::Overflow)?;
        if let Some(validator) = self.validators.get_mut(&sender.key) {
            validator.stake = stake;
        }
        self.unbonding.insert(
            (release_at, sequence),
            Unbonding {
                validator: sender.key,
                account: sender.address,
                amount,
            },
        );
        self.globals.get_mut().next_unbonding = next;
        out.event(LedgerEvent::UnstakeQueued {
            account: sender.address,
            amount,
            release_at,
        });
        Ok(())
    }

    /// `SlashingEvidence`. A double vote's signatures were verified with
    /// the block; engine votes are verified here, against the committee of
    /// their epoch.
    pub(crate) fn slash(&mut self, env: &Env<'_>, out: &mut Out, evidence: &Evidence) -> TxResult {
        let not_applicable = |reason: String| RejectReason::EvidenceNotApplicable {
            reason: text(&reason),
        };
        let (offender, slot, what) = match evidence {
            Evidence::DoubleVote {
                validator, first, ..
            } => (*validator, first.vote.slot(), "double vote"),
            Evidence::Equivocation(equivocation) => {
                // Well formed (the block's checks): the slot decodes.
                let (_, slot) = equivocation
                    .signer_and_slot()
                    .map_err(|e| not_applicable(format!("no proof of equivocation: {e}")))?;
                let committee = self
                    .consensus_committee(env.chain_id, env.params, env.beacon, slot.epoch)?
                    .map_err(|refused| not_applicable(refused.to_string()))?;
                let offence = committee
                    .verify(equivocation)
                    .map_err(|e| not_applicable(format!("no proof of equivocation: {e}")))?;
                let what = match equivocation.kind {
                    ConflictKind::Notarize => "conflicting notarize votes",
                    ConflictKind::Finalize => "conflicting finalize votes",
                    ConflictKind::NullifyFinalize => "nullify and finalize votes",
                };
                (offence.offender, offence.slot, what)
            }
        };
        let validator = self
            .validators
            .get(&offender)
            .ok_or_else(|| not_applicable("the accused is not a registered validator".into()))?;
        self.check_evidence_epoch(env, &offender, &slot)?;
        if self.evidence.contains(&(offender, slot)) {
            return Err(not_applicable("this offence was already punished".into()).into());
        }
        let bps = env.params.double_vote_slash_bps;
        let from_stake = slash_part(validator.stake, bps);
        let account = validator.account;
        let unbonding: Vec<((u64, u64), Chips)> = self
            .unbonding
            .iter()
            .filter(|(_, u)| u.validator == offender)
            .map(|(key, u)| (*key, slash_part(u.amount, bps)))
            .collect();
        let total = unbonding
            .iter()
            .try_fold(from_stake, |sum, (_, part)| sum.checked_add(*part))
            .ok_or(RejectReason::Overflow)?;
        let slashed = self
            .globals
            .get()
            .slashed
            .checked_add(total)
            .ok_or(RejectReason::Overflow)?;
        if let Some(validator) = self.validators.get_mut(&offender) {
            validator.stake = Chips(validator.stake.get() - from_stake.get());
            validator.slashed = true;
        }
        for (key, part) in unbonding {
            if let Some(entry) = self.unbonding.get_mut(&key) {
                entry.amount = Chips(entry.amount.get() - part.get());
            }
            if self
                .unbonding
                .get(&key)
                .is_some_and(|e| e.amount == Chips::ZERO)
            {
                self.unbonding.remove(&key);
            }
        }
        self.globals.get_mut().slashed = slashed;
        self.evidence
            .insert((offender, slot), EvidenceUsed { height: env.height });
        out.touch(account);
        out.event(LedgerEvent::Slashed {
            validator: offender,
            amount: total,
            reason: text(&if slot.is_consensus() {
                format!(
                    "{what} at consensus epoch {} view {}",
                    slot.epoch, slot.view
                )
            } else {
                format!(
                    "{what} at epoch {} height {} view {}",
                    slot.epoch, slot.height, slot.view
                )
            }),
        });
        Ok(())
    }

    /// The epoch rules of evidence at `slot`: not in the future, within
    /// the evidence window, by a member of that epoch's set.
    fn check_evidence_epoch(
        &self,
        env: &Env<'_>,
        offender: &PublicKey,
        slot: &Slot,
    ) -> Result<(), RejectReason> {
        let not_applicable = |reason: String| RejectReason::EvidenceNotApplicable {
            reason: text(&reason),
        };
        check_evidence_window(
            slot.epoch,
            self.globals.get().epoch,
            evidence_window(env.params),
        )
        .map_err(|e| not_applicable(e.to_string()))?;
        let was_member = self
            .epochs
            .get(&slot.epoch)
            .is_some_and(|e| e.validators.contains(offender));
        if !was_member {
            return Err(not_applicable(format!(
                "the accused was not a validator in epoch {}",
                slot.epoch
            )));
        }
        Ok(())
    }

    /// Step 6: pays out unbonding entries whose release height has come.
    pub(crate) fn release_unbonded(
        &mut self,
        env: &Env<'_>,
        out: &mut Out,
    ) -> Result<(), LedgerError> {
        let due: Vec<((u64, u64), Unbonding)> = self
            .unbonding
            .range(..=(env.height, u64::MAX))
            .map(|(k, u)| (*k, u.clone()))
            .collect();
        for (key, entry) in due {
            self.unbonding.remove(&key);
            self.credit(out, entry.account, entry.amount)?;
            out.event(LedgerEvent::StakeReleased {
                account: entry.account,
                amount: entry.amount,
            });
        }
        Ok(())
    }

    /// Step 6 at an epoch's last block: pays the fees, burns the remainder,
    /// and starts the next epoch with its new set.
    ///
    /// `next_set` is the next epoch's set when the chain has a beacon
    /// sharing (the players of a completed resharing round, or the
    /// current set: see `reshare`); `None` chooses it here.
    pub(crate) fn end_epoch(
        &mut self,
        env: &Env<'_>,
        out: &mut Out,
        next_set: Option<Vec<PublicKey>>,
    ) -> Result<(), LedgerError> {
        let globals = self.globals.get().clone();
        let payees: Vec<(PublicKey, wallet::Address, Chips)> = self
            .active_validators()
            .iter()
            .filter_map(|key| self.validators.get(key).map(|v| (key, v)))
            .filter(|(_, v)| !v.slashed && v.stake > Chips::ZERO)
            .map(|(key, v)| (*key, v.account, v.stake))
            .collect();
        let total_stake: u128 = payees.iter().map(|(_, _, s)| u128::from(s.get())).sum();
        let pool = globals.fee_pool;
        let mut paid = Chips::ZERO;
        if total_stake > 0 {
            for (key, account, stake) in &payees {
                let share = mul_div(u128::from(pool.get()), u128::from(stake.get()), total_stake)
                    .and_then(|s| u64::try_from(s).ok())
                    .map(Chips)
                    .ok_or(LedgerError::overflow("a fee share"))?;
                if share == Chips::ZERO {
                    continue;
                }
                paid = paid
                    .checked_add(share)
                    .ok_or(LedgerError::overflow("fees paid"))?;
                self.credit(out, *account, share)?;
                out.event(LedgerEvent::FeesPaid {
                    validator: *key,
                    amount: share,
                });
            }
        }
        let burned = pool
            .checked_sub(paid)
            .ok_or(LedgerError::overflow("fees paid above the pool"))?;
        let burned_fees = globals
            .burned_fees
            .checked_add(burned)
            .ok_or(LedgerError::overflow("burned fees"))?;
        if burned > Chips::ZERO {
            out.event(LedgerEvent::FeesBurned { amount: burned });
        }
        let mut validators = next_set.unwrap_or_else(|| self.select_validators(env.params));
        if validators.is_empty() {
            validators = self.active_validators().to_vec();
        }
        let next_epoch = globals
            .epoch
            .checked_add(1)
            .ok_or(LedgerError::overflow("the epoch counter"))?;
        let start_height = env
            .height
            .checked_add(1)
            .ok_or(LedgerError::overflow("the next height"))?;
        let count = u32::try_from(validators.len()).map_err(|_| LedgerError::overflow("a set"))?;
        self.epochs.insert(
            next_epoch,
            EpochRecord {
                start_height,
                validators,
            },
        );
        // Forget what evidence can no longer use.
        let window = evidence_window(env.params);
        if let Some(oldest) = next_epoch.checked_sub(window)
            && oldest > 0
        {
            let old_epochs: Vec<u64> = self.epochs.range(..oldest).map(|(e, _)| *e).collect();
            for epoch in old_epochs {
                self.epochs.remove(&epoch);
            }
            let old_evidence: Vec<_> = self
                .evidence
                .iter()
                .filter(|((_, slot), _)| slot.epoch < oldest)
                .map(|(k, _)| *k)
                .collect();
            for key in old_evidence {
                self.evidence.remove(&key);
            }
            let old_sharings: Vec<u64> = self
                .past_sharings
                .iter()
                .filter(|(_, past)| past.last_epoch < oldest)
                .map(|(first, _)| *first)
                .collect();
            for first in old_sharings {
                self.past_sharings.remove(&first);
            }
        }
        let g = self.globals.get_mut();
        g.fee_pool = Chips::ZERO;
        g.burned_fees = burned_fees;
        g.epoch = next_epoch;
        out.event(LedgerEvent::EpochStarted {
            epoch: next_epoch,
            start_height,
            validators: count,
        });
        Ok(())
    }
}
