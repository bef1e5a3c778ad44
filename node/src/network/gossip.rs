//! Gossipsub configuration: message ids, size limits and peer scoring (the
//! reasoning is in the [network module documentation](super)).

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use libp2p::gossipsub::{
    self, MessageAuthenticity, MessageId, PeerScoreParams, PeerScoreThresholds, TopicScoreParams,
    ValidationMode, score_parameter_decay,
};

use super::batch::MAX_BATCH_BYTES;
use super::config::NetworkConfig;
use super::topics::Topics;

/// Room for gossipsub's envelope (topic, flags) around a message's data.
pub const ENVELOPE_BYTES: usize = 1024;

/// The score below which a peer's gossip is not sent to it.
pub const GOSSIP_THRESHOLD: f64 = -10.0;
/// The score below which this node does not publish to a peer.
pub const PUBLISH_THRESHOLD: f64 = -50.0;
/// The score below which everything a peer sends is ignored; the network
/// also disconnects and bans it.
pub const GRAYLIST_THRESHOLD: f64 = -80.0;

/// P4 weight on the transaction topic: one invalid batch (a batch with any
/// invalid transaction in it) costs 10, three cost 90 (the counter is
/// squared) — a newcomer is graylisted — and four cost 160, past the
/// graylist threshold even from the top score.
pub const TX_INVALID_MESSAGE_WEIGHT: f64 = -10.0;
/// P4 weight on the block topic: an invalid block costs as much CPU as
/// thousands of transactions, so one costs 50 and two pass the graylist.
pub const BLOCK_INVALID_MESSAGE_WEIGHT: f64 = -50.0;
/// The most positive score topics can give: good behaviour cannot bank
/// enough credit to hide more than a couple of invalid messages.
pub const TOPIC_SCORE_CAP: f64 = 20.0;

/// The most bytes of control messages (IHAVE, IWANT, GRAFT, PRUNE,
/// IDONTWANT) and subscriptions this node accepts in one gossipsub RPC:
/// gossipsub's default, stated here because [`MAX_CONTROL_IDS`] is sized
/// against it. A peer's RPC over it is a stream error: the receiving
/// connection handler closes its inbound stream.
pub const MAX_CONTROL_MESSAGE_BYTES: usize = 16 * 1024;

/// The most message ids this node puts in one IHAVE (per peer and
/// heartbeat) or asks for with IWANT (per peer and heartbeat); also the
/// most it honours from a peer.
///
/// Gossipsub's default is 5,000, which with our 32-byte ids makes an IHAVE
/// of ≈ 170 KB — ten times what every receiver accepts
/// ([`MAX_CONTROL_MESSAGE_BYTES`]). Under a few hundred transactions a
/// second the heartbeat's IHAVE to a peer outside the mesh crossed that
/// limit; the receiver closed its inbound stream without reading what was
/// in flight, so the sender, out of yamux credit, waited for a window
/// update that never came: its send queue to that peer stayed full for
/// good ("Send Queue full" at idle, minutes later). At 400 ids the largest
/// IHAVE is ≈ 13.7 KB (see [`control_rpc_bytes`]). IHAVE is the lazy
/// repair path; transactions travel through the mesh.
pub const MAX_CONTROL_IDS: usize = 400;

/// The encoded size of a control RPC carrying one IHAVE of `ids` message
/// ids of `id_len` bytes for a topic of `topic_len` bytes, as gossipsub's
/// receiver counts it against [`MAX_CONTROL_MESSAGE_BYTES`] (the protobuf
/// `control` field with its tag and length). An IWANT is smaller (no
/// topic).
pub const fn control_rpc_bytes(ids: usize, id_len: usize, topic_len: usize) -> usize {
    // Each id: tag, length, bytes.
    let ids = ids * (1 + varint_len(id_len) + id_len);
    // ControlIHave { topic_id, message_ids }.
    let ihave = 1 + varint_len(topic_len) + topic_len + ids;
    // ControlMessage { ihave } inside Rpc.control, each with tag and length.
    let control = 1 + varint_len(ihave) + ihave;
    1 + varint_len(control) + control
}

/// The bytes of a protobuf varint holding `n`.
const fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

/// The longest topic name: `bitcraps/<16 hex digits>/block/1`.
const MAX_TOPIC_BYTES: usize = 64;

// Our largest IHAVE/IWANT fits what every peer accepts.
const _: () = assert!(
    control_rpc_bytes(MAX_CONTROL_IDS, MESSAGE_ID_BYTES, MAX_TOPIC_BYTES)
        <= MAX_CONTROL_MESSAGE_BYTES
);

/// The length of a message id ([`message_id`]: a BLAKE3 hash).
pub const MESSAGE_ID_BYTES: usize = blake3::OUT_LEN;

/// Message id: BLAKE3 of the data. Transaction batches and blocks are
/// canonically encoded, so one batch has one id whoever relays it, and
/// relays of it within the duplicate-cache window are recognised as the
/// same message. A transaction batch carries its publisher's nonce
/// ([`super::batch`]), so publishing the same transactions again (the
/// mempool's re-gossip) is a new message that goes out at once; a block
/// published twice is the same message.
pub fn message_id(message: &gossipsub::Message) -> MessageId {
    MessageId::new(blake3::hash(&message.data).as_bytes())
}

/// The gossipsub behaviour's configuration.
///
/// `max_tx_message_bytes` is normally `MAX_BATCH_BYTES`; tests raise it on a
/// misbehaving node so that it can send what honest nodes refuse.
pub(crate) fn behaviour_config(
    config: &NetworkConfig,
    topics: &Topics,
    max_tx_message_bytes: usize,
) -> Result<gossipsub::Config, String> {
    let block_limit = config.limits.max_gossip_block_bytes + ENVELOPE_BYTES;
    let tx_limit = max_tx_message_bytes + ENVELOPE_BYTES;
    gossipsub::ConfigBuilder::default()
        .validation_mode(ValidationMode::Anonymous)
        .validate_messages()
        .message_id_fn(message_id)
        .max_transmit_size(block_limit.max(tx_limit))
        .max_transmit_size_for_topic(tx_limit, topics.transactions.hash())
        .max_transmit_size_for_topic(block_limit, topics.blocks.hash())
        .heartbeat_interval(config.heartbeat_interval)
        .heartbeat_initial_delay(Duration::from_millis(100))
        .max_control_message_size(MAX_CONTROL_MESSAGE_BYTES)
        .max_control_messages_sent(MAX_CONTROL_IDS)
        .build()
        .map_err(|e| e.to_string())
}

/// Messages carry no author, sequence number or signature: the payloads
/// are signed themselves.
pub(crate) fn authenticity() -> MessageAuthenticity {
    MessageAuthenticity::Anonymous
}

/// The score thresholds.
pub(crate) fn thresholds() -> PeerScoreThresholds {
    PeerScoreThresholds {
        gossip_threshold: GOSSIP_THRESHOLD,
        publish_threshold: PUBLISH_THRESHOLD,
        graylist_threshold: GRAYLIST_THRESHOLD,
        accept_px_threshold: 10.0,
        opportunistic_graft_threshold: 2.0,
    }
}

/// The peer score parameters (see the module documentation).
pub(crate) fn score_params(topics: &Topics) -> PeerScoreParams {
    let mut params = PeerScoreParams {
        topic_score_cap: TOPIC_SCORE_CAP,
        app_specific_weight: 1.0,
        // Mild: players behind one NAT share an address, and a score
        // below the graylist threshold bans. 22 peers on one address
        // cost 72; 23 cost 98.
        ip_colocation_factor_weight: -2.0,
        ip_colocation_factor_threshold: 16.0,
        // Loopback peers are this machine's own processes (a local
        // testnet), not a Sybil attack from one address.
        ip_colocation_factor_whitelist: HashSet::from([
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ]),
        // A peer that cannot take our gossip fast enough (send queue full,
        // or messages expired in it) is slow, not malicious: gossipsub's
        // default −0.2 per dropped message reached the graylist, so our
        // ban, within a second of a saturating burst, and validators
        // banned the player node (or each other) for ten minutes. The
        // network task reconnects a peer whose queue stays full instead.
        slow_peer_weight: 0.0,
        behaviour_penalty_weight: -10.0,
        behaviour_penalty_threshold: 6.0,
        behaviour_penalty_decay: score_parameter_decay(Duration::from_secs(600)),
        decay_interval: Duration::from_secs(1),
        decay_to_zero: 0.01,
        // A banned peer that reconnects after its ban keeps its bad score
        // until it has decayed.
        retain_score: Duration::from_secs(3600),
        ..PeerScoreParams::default()
    };
    params.topics.insert(
        topics.transactions.hash(),
        topic_params(1.0, 0.5, 20.0, TX_INVALID_MESSAGE_WEIGHT),
    );
    params.topics.insert(
        topics.blocks.hash(),
        topic_params(1.0, 1.0, 10.0, BLOCK_INVALID_MESSAGE_WEIGHT),
    );
    params
}

/// One topic's parameters: small rewards for time in the mesh (P1, at most
/// +3) and first deliveries (P2), no mesh-delivery-rate penalties (P3,
/// P3b: transaction and block traffic is bursty and often quiet, so a
/// deficit would punish honest peers), and a heavy, slowly decaying
/// penalty per invalid message (P4: a tenth remains after an hour).
fn topic_params(
    topic_weight: f64,
    first_delivery_weight: f64,
    first_delivery_cap: f64,
    invalid_weight: f64,
) -> TopicScoreParams {
    TopicScoreParams {
        topic_weight,
        time_in_mesh_weight: 0.01,
        time_in_mesh_quantum: Duration::from_secs(1),
        time_in_mesh_cap: 300.0,
        first_message_deliveries_weight: first_delivery_weight,
        first_message_deliveries_decay: score_parameter_decay(Duration::from_secs(600)),
        first_message_deliveries_cap: first_delivery_cap,
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: invalid_weight,
        invalid_message_deliveries_decay: score_parameter_decay(Duration::from_secs(3600)),
        ..TopicScoreParams::default()
    }
}

// Three invalid transaction batches graylist a newcomer; four graylist a peer
// even with the whole positive cap banked; two invalid blocks do too.
const _: () = assert!(9.0 * TX_INVALID_MESSAGE_WEIGHT < GRAYLIST_THRESHOLD);
const _: () = assert!(TOPIC_SCORE_CAP + 16.0 * TX_INVALID_MESSAGE_WEIGHT < GRAYLIST_THRESHOLD);
const _: () = assert!(TOPIC_SCORE_CAP + 4.0 * BLOCK_INVALID_MESSAGE_WEIGHT < GRAYLIST_THRESHOLD);
// Two invalid transaction batches do not (the test network relies on it).
const _: () = assert!(4.0 * TX_INVALID_MESSAGE_WEIGHT > GRAYLIST_THRESHOLD);

/// The gossipsub data limit of the transaction topic: one batch.
pub(crate) const fn default_max_tx_message_bytes() -> usize {
    MAX_BATCH_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallet::ChainId;

    #[test]
    fn parameters_are_valid() {
        let topics = Topics::new(&ChainId::new([1; 32]));
        let params = score_params(&topics);
        params.validate().unwrap();
        thresholds().validate().unwrap();
        assert_eq!(params.slow_peer_weight, 0.0, "slowness never bans");
        let config = NetworkConfig::new(ChainId::new([1; 32]));
        behaviour_config(&config, &topics, default_max_tx_message_bytes()).unwrap();
    }

    /// The IHAVE/IWANT this configuration can send fits what it accepts.
    /// With gossipsub's default of 5,000 ids per control message it did
    /// not (≈ 170 KB against 16 KiB), and links jammed under load.
    #[test]
    fn the_largest_control_message_sent_is_accepted() {
        let chain = ChainId::new([7; 32]);
        let topics = Topics::new(&chain);
        let config = behaviour_config(
            &NetworkConfig::new(chain),
            &topics,
            default_max_tx_message_bytes(),
        )
        .unwrap();
        for topic in [&topics.transactions, &topics.blocks] {
            let topic_len = topic.hash().as_str().len();
            assert!(topic_len <= MAX_TOPIC_BYTES, "{topic_len}");
        }
        let ids = config.max_control_messages_sent();
        let largest = control_rpc_bytes(ids, MESSAGE_ID_BYTES, MAX_TOPIC_BYTES);
        assert!(
            largest <= config.max_control_message_size(),
            "an IHAVE of {ids} ids is {largest} bytes; peers accept {}",
            config.max_control_message_size()
        );
        // And the size arithmetic is right: one 32-byte id costs 34 bytes.
        assert_eq!(
            control_rpc_bytes(2, 32, 10) - control_rpc_bytes(1, 32, 10),
            34
        );
    }
}
