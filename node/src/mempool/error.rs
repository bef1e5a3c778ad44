//! Why the mempool refuses a transaction: [`MempoolError`].

use consensus::encoding::DecodeError;
use consensus::hash::TxHash;
use consensus::tx::TxError;
use game_rules::Chips;

/// Why a transaction was not admitted to the mempool. Every message says
/// what the sender can do about it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MempoolError {
    /// The bytes are not a transaction (too long, malformed, not canonical).
    #[error("{0}; send the canonical borsh encoding of one signed transaction")]
    Malformed(#[source] DecodeError),
    /// The transaction fails a stateless rule (wrong chain, bad signature,
    /// malformed action).
    #[error("{0}; fix the transaction and sign it again")]
    Invalid(#[source] TxError),
    /// This exact transaction is already pooled.
    #[error("transaction {hash} is already in the mempool; wait for it to be included")]
    AlreadyKnown {
        /// Its hash.
        hash: TxHash,
    },
    /// The nonce was already used by an applied transaction.
    #[error("nonce {nonce} is already used; the sender's next nonce is {account_nonce}")]
    NonceTooLow {
        /// The transaction's nonce.
        nonce: u64,
        /// The sender's next nonce in the ledger.
        account_nonce: u64,
    },
    /// The nonce is too far beyond the sender's next nonce.
    #[error(
        "nonce {nonce} is more than {max_ahead} ahead of the sender's next nonce {account_nonce}; submit the missing nonces first"
    )]
    NonceTooFarAhead {
        /// The transaction's nonce.
        nonce: u64,
        /// The sender's next nonce in the ledger.
        account_nonce: u64,
        /// How far ahead the mempool accepts.
        max_ahead: u64,
    },
    /// Another transaction with the same sender and nonce is pooled, and
    /// this one does not pay enough more to replace it.
    #[error(
        "nonce {nonce} is taken by a pooled transaction paying {existing_fee}; to replace it pay a fee of at least {required_fee}"
    )]
    NonceTaken {
        /// The nonce.
        nonce: u64,
        /// The pooled transaction's fee.
        existing_fee: Chips,
        /// The least fee that replaces it.
        required_fee: Chips,
    },
    /// The fee is below the chain's minimum: no node may include it.
    #[error("the fee {fee} is below the chain's minimum fee {min_fee}; pay at least {min_fee}")]
    FeeBelowChainMinimum {
        /// The fee offered.
        fee: Chips,
        /// The chain's minimum.
        min_fee: Chips,
    },
    /// The fee is below this node's relay minimum (a local policy).
    #[error(
        "the fee {fee} is below this node's minimum relay fee {min_fee}; pay at least {min_fee}"
    )]
    FeeBelowRelayMinimum {
        /// The fee offered.
        fee: Chips,
        /// This node's minimum.
        min_fee: Chips,
    },
    /// The sender's balance does not cover this transaction's fee and
    /// obvious spend on top of its pooled transactions with lower nonces.
    #[error(
        "the sender's balance {balance} does not cover {needed} (this fee and amount plus its pending transactions); fund the account or wait for pending ones"
    )]
    InsufficientBalance {
        /// What this and the sender's earlier pooled transactions need.
        needed: Chips,
        /// The sender's balance.
        balance: Chips,
    },
    /// The transaction's last valid height has passed.
    #[error(
        "the transaction expired at height {expiry_height} and the next block is {next_height}; sign it again with a later expiry"
    )]
    Expired {
        /// Its `expiry_height`.
        expiry_height: u64,
        /// The next block's height.
        next_height: u64,
    },
    /// A dealer log the ledger would not take now: its round is not open
    /// (or closes before the next block), its sender is not a dealer of
    /// the round, or the sender's log is in already.
    #[error(
        "no dealer log of resharing round {round} is expected from this sender: only a dealer of the open round sends one, once, by the round's deadline"
    )]
    DealerLogNotExpected {
        /// The round the log names.
        round: u64,
    },
    /// The sender already has the most transactions the mempool holds per
    /// sender.
    #[error("the sender already has {limit} pending transactions; wait for some to be included")]
    SenderFull {
        /// The per-sender limit.
        limit: usize,
    },
    /// The mempool is full and this transaction does not pay more than the
    /// cheapest one it could evict.
    #[error("the mempool is full; pay a fee above {min_fee_to_enter} to enter")]
    Full {
        /// The fee to beat.
        min_fee_to_enter: Chips,
    },
}

impl MempoolError {
    /// Whether the transaction is invalid for every honest node whatever its
    /// view of the ledger (malformed, badly signed, wrong chain, below the
    /// chain's minimum fee). A peer that relays such a transaction did not
    /// validate it: gossip rejects it and lowers the peer's score. Every
    /// other refusal depends on this node's state or policy (its height,
    /// balances it knows, its limits) and is ignored without penalty.
    pub fn is_invalid_everywhere(&self) -> bool {
        matches!(
            self,
            MempoolError::Malformed(_)
                | MempoolError::Invalid(_)
                | MempoolError::FeeBelowChainMinimum { .. }
        )
    }

    /// A short stable name for metrics and logs.
    pub const fn reason(&self) -> &'static str {
        match self {
            MempoolError::Malformed(_) => "malformed",
            MempoolError::Invalid(_) => "invalid",
            MempoolError::AlreadyKnown { .. } => "already_known",
            MempoolError::NonceTooLow { .. } => "nonce_too_low",
            MempoolError::NonceTooFarAhead { .. } => "nonce_too_far_ahead",
            MempoolError::NonceTaken { .. } => "nonce_taken",
            MempoolError::FeeBelowChainMinimum { .. } => "fee_below_chain_minimum",
            MempoolError::FeeBelowRelayMinimum { .. } => "fee_below_relay_minimum",
            MempoolError::InsufficientBalance { .. } => "insufficient_balance",
            MempoolError::Expired { .. } => "expired",
            MempoolError::DealerLogNotExpected { .. } => "dealer_log_not_expected",
            MempoolError::SenderFull { .. } => "sender_full",
            MempoolError::Full { .. } => "full",
        }
    }
}
