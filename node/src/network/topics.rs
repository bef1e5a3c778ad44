//! Topic and protocol names, all bound to the chain.

use libp2p::StreamProtocol;
use libp2p::gossipsub::{IdentTopic, TopicHash};
use wallet::ChainId;

/// The first 8 bytes of the chain id in hex: enough to keep chains apart in
/// names, short enough to read in logs.
pub fn chain_prefix(chain_id: &ChainId) -> String {
    hex::encode(&chain_id.as_bytes()[..8])
}

/// The gossipsub topics of one chain.
#[derive(Clone, Debug)]
pub struct Topics {
    /// `bitcraps/<chain prefix>/txs/3`: batches of signed transactions
    /// with a publisher's nonce ([`super::batch`]). Version 1 (`tx/1`)
    /// carried one transaction per message, version 2 (`txs/2`) batches
    /// without the nonce; each new name keeps nodes of different versions
    /// from sending each other messages they cannot decode (and
    /// penalizing each other for them).
    pub transactions: IdentTopic,
    /// `bitcraps/<chain prefix>/block/1`: finalized blocks.
    pub blocks: IdentTopic,
}

impl Topics {
    /// The topics of `chain_id`.
    pub fn new(chain_id: &ChainId) -> Topics {
        let prefix = chain_prefix(chain_id);
        Topics {
            transactions: IdentTopic::new(format!("bitcraps/{prefix}/txs/3")),
            blocks: IdentTopic::new(format!("bitcraps/{prefix}/block/1")),
        }
    }

    /// Which of ours a topic hash is.
    pub(crate) fn kind(&self, hash: &TopicHash) -> Option<TopicKind> {
        if *hash == self.transactions.hash() {
            Some(TopicKind::Transactions)
        } else if *hash == self.blocks.hash() {
            Some(TopicKind::Blocks)
        } else {
            None
        }
    }

    /// The hash of a topic kind.
    pub(crate) fn hash(&self, kind: TopicKind) -> TopicHash {
        match kind {
            TopicKind::Transactions => self.transactions.hash(),
            TopicKind::Blocks => self.blocks.hash(),
        }
    }
}

/// One of the chain's gossip topics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TopicKind {
    /// Batches of signed transactions.
    Transactions,
    /// Finalized blocks.
    Blocks,
}

/// Protocol names of one chain (identify, Kademlia, block sync).
#[derive(Clone, Debug)]
pub(crate) struct Protocols {
    /// Identify's protocol version: `/bitcraps/<chain prefix>/1.0.0`.
    pub identify: String,
    /// `/bitcraps/<chain prefix>/kad/1.0.0`, so the DHT holds only this
    /// chain's nodes.
    pub kademlia: StreamProtocol,
    /// `/bitcraps/<chain prefix>/sync/1`.
    pub sync: StreamProtocol,
}

impl Protocols {
    pub fn new(chain_id: &ChainId) -> Protocols {
        let prefix = chain_prefix(chain_id);
        Protocols {
            identify: format!("/bitcraps/{prefix}/1.0.0"),
            kademlia: StreamProtocol::try_from_owned(format!("/bitcraps/{prefix}/kad/1.0.0"))
                .expect("starts with a slash"),
            sync: StreamProtocol::try_from_owned(format!("/bitcraps/{prefix}/sync/1"))
                .expect("starts with a slash"),
        }
    }
}
