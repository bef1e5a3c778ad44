//! Block sync: a request-response protocol over which a node that is behind
//! asks a peer for finalized blocks by height.
//!
//! ```text
//! SyncRequest  = GetBlocks { from_height u64, max u32 }                 (≤ 64 bytes)
//! SyncResponse = Blocks([FinalizedBlock bytes ≤ MAX_FINALIZED_BLOCK_BYTES; ≤ 64])
//!                                                                      (≤ 32 MiB + framing)
//!              | Refused(Busy | BadRequest)
//! ```
//!
//! Both are borsh, one message per stream, read to the end of the stream
//! under a hard byte limit (`MAX_SYNC_REQUEST_BYTES`; the configured
//! response limit) *before* decoding, and decoded with the canonical,
//! bounded decoder of `consensus::encoding`: a peer cannot make this node
//! allocate more than the limit or panic. A response is then checked
//! against its request — at most `max` blocks, each a block of this chain
//! at the next expected height — before the caller sees it. Each item is a
//! [`FinalizedBlock`]: the block and its finality proof, if it has its own.
//! Checking the proofs is the chain follower's job.

use std::io;

use borsh::{BorshDeserialize, BorshSerialize};
use consensus::encoding::{BoundedBytes, BoundedVec, DecodeError, decode, encode};
use libp2p::StreamProtocol;
use libp2p::futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::request_response;
use wallet::ChainId;

use super::finalized::{FinalizedBlock, MAX_FINALIZED_BLOCK_BYTES};

/// The most blocks in one sync response.
pub const MAX_BLOCKS_PER_RESPONSE: usize = 64;

/// The most bytes of blocks in one sync response.
pub const MAX_SYNC_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// The most bytes of a sync request.
pub const MAX_SYNC_REQUEST_BYTES: usize = 64;

/// Borsh framing around a response's blocks: the tag, the count and a
/// length per block.
const RESPONSE_FRAMING_BYTES: usize = 1 + 4 + 4 * MAX_BLOCKS_PER_RESPONSE;

/// What a syncing node asks for.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum SyncRequest {
    /// Finalized blocks from `from_height` on, at most `max` of them.
    GetBlocks {
        /// The first height wanted.
        from_height: u64,
        /// How many at most (1 to [`MAX_BLOCKS_PER_RESPONSE`]).
        max: u32,
    },
}

/// Encoded [`FinalizedBlock`]s in a sync response.
pub type BlockList = BoundedVec<BoundedBytes<MAX_FINALIZED_BLOCK_BYTES>, MAX_BLOCKS_PER_RESPONSE>;

/// The answer to a [`SyncRequest`].
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum SyncResponse {
    /// Encoded [`FinalizedBlock`]s at consecutive heights from the
    /// requested one; fewer
    /// than asked (or none) if the peer has no more.
    Blocks(BlockList),
    /// The peer will not answer this request.
    Refused(SyncRefusal),
}

/// Why a peer refused a sync request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, thiserror::Error)]
pub enum SyncRefusal {
    /// It is serving as many requests as it will; ask again later or ask
    /// another peer.
    #[error("the peer is busy; ask later or ask another peer")]
    Busy,
    /// The request asked for 0 or too many blocks.
    #[error("the peer refused the request as malformed (0 or too many blocks)")]
    BadRequest,
}

/// Where the network reads the finalized blocks it serves to syncing
/// peers; the node implements it over its block store.
pub trait BlockSource: Send + Sync + 'static {
    /// The encoded [`FinalizedBlock`]s (block and proof) at heights
    /// `from_height`, `from_height + 1`, …: at most `max`, stopping before
    /// the first height this node does not have. Called on a blocking
    /// thread (it may read the disk); the network enforces the response
    /// limits on what it returns.
    fn blocks(&self, from_height: u64, max: usize) -> Vec<Vec<u8>>;
}

/// A [`BlockSource`] with no blocks.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoBlocks;

impl BlockSource for NoBlocks {
    fn blocks(&self, _from_height: u64, _max: usize) -> Vec<Vec<u8>> {
        Vec::new()
    }
}

/// Why a sync request got no usable blocks.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// This node already has as many sync requests outstanding as allowed.
    #[error("{0} sync requests are already outstanding; wait for one to finish")]
    TooManyRequests(usize),
    /// The request asked for 0 blocks or more than the limit.
    #[error("a sync request must ask for 1 to {max} blocks, not {asked}")]
    BadRequest {
        /// What was asked.
        asked: u32,
        /// The limit.
        max: usize,
    },
    /// The exchange failed: no connection, timeout, a response over the
    /// size limit or not decodable (the text says which).
    #[error("block sync with the peer failed: {0}")]
    Failed(String),
    /// The peer refused.
    #[error("{0}")]
    Refused(SyncRefusal),
    /// More blocks than asked for.
    #[error("the peer sent {got} blocks for a request of at most {max}")]
    TooManyBlocks {
        /// How many came.
        got: usize,
        /// How many were asked for.
        max: usize,
    },
    /// A block that does not decode.
    #[error("the block for height {height} is invalid: {error}")]
    InvalidBlock {
        /// The height it should have had.
        height: u64,
        /// Why it does not decode.
        error: DecodeError,
    },
    /// A block at the wrong height (out of order or not what was asked).
    #[error("expected the block at height {expected}, got height {found}")]
    UnexpectedHeight {
        /// The next height expected.
        expected: u64,
        /// The block's height.
        found: u64,
    },
    /// A block of another chain.
    #[error("the peer sent a block of chain {found}")]
    WrongChain {
        /// The block's chain.
        found: ChainId,
    },
    /// The network task has stopped.
    #[error("the network has stopped")]
    Stopped,
}

/// Checks a response against its request and decodes its blocks.
pub fn decode_response(
    chain_id: &ChainId,
    from_height: u64,
    max: usize,
    response: SyncResponse,
) -> Result<Vec<FinalizedBlock>, SyncError> {
    let items = match response {
        SyncResponse::Refused(refusal) => return Err(SyncError::Refused(refusal)),
        SyncResponse::Blocks(items) => items.into_vec(),
    };
    if items.len() > max {
        return Err(SyncError::TooManyBlocks {
            got: items.len(),
            max,
        });
    }
    let mut blocks = Vec::with_capacity(items.len());
    for (expected, bytes) in (from_height..).zip(items) {
        let block = FinalizedBlock::decode(bytes.as_bytes(), MAX_FINALIZED_BLOCK_BYTES).map_err(
            |error| SyncError::InvalidBlock {
                height: expected,
                error,
            },
        )?;
        let header = &block.block.header;
        if header.chain_id != *chain_id {
            return Err(SyncError::WrongChain {
                found: header.chain_id,
            });
        }
        if header.height != expected {
            return Err(SyncError::UnexpectedHeight {
                expected,
                found: header.height,
            });
        }
        blocks.push(block);
    }
    Ok(blocks)
}

/// Builds a response from what a [`BlockSource`] returned, within the
/// limits: at most `max` blocks, each at most `MAX_FINALIZED_BLOCK_BYTES`, at most
/// `max_bytes` in all (the list stops before the first that breaks one).
pub(crate) fn bounded_response(blocks: Vec<Vec<u8>>, max: usize, max_bytes: usize) -> SyncResponse {
    let mut total = 0usize;
    let mut out = Vec::new();
    for bytes in blocks.into_iter().take(max.min(MAX_BLOCKS_PER_RESPONSE)) {
        total = total.saturating_add(bytes.len());
        if total > max_bytes {
            break;
        }
        match BoundedBytes::new(bytes) {
            Ok(b) => out.push(b),
            Err(_) => break,
        }
    }
    SyncResponse::Blocks(BoundedVec::new(out).expect("at most MAX_BLOCKS_PER_RESPONSE"))
}

/// The borsh codec of the sync protocol, with hard size limits.
#[derive(Clone, Debug)]
pub(crate) struct SyncCodec {
    /// The most bytes of blocks read in a response.
    pub max_response_bytes: usize,
}

/// Reads a whole stream, refusing more than `max` bytes.
async fn read_bounded<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    max: usize,
    what: &str,
) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    io.take(max as u64 + 1).read_to_end(&mut bytes).await?;
    if bytes.len() > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{what} is over the limit of {max} bytes"),
        ));
    }
    Ok(bytes)
}

fn invalid(error: DecodeError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
}

impl request_response::Codec for SyncCodec {
    type Protocol = StreamProtocol;
    type Request = SyncRequest;
    type Response = SyncResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SyncRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_bounded(io, MAX_SYNC_REQUEST_BYTES, "a sync request").await?;
        decode("sync request", &bytes, MAX_SYNC_REQUEST_BYTES).map_err(invalid)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SyncResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        let max = self.max_response_bytes + RESPONSE_FRAMING_BYTES;
        let bytes = read_bounded(io, max, "a sync response").await?;
        decode("sync response", &bytes, max).map_err(invalid)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: SyncRequest,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&encode(&request)).await?;
        io.close().await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: SyncResponse,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&encode(&response)).await?;
        io.close().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libp2p::futures::executor::block_on;
    use libp2p::futures::io::Cursor;
    use libp2p::request_response::Codec;

    fn protocol() -> StreamProtocol {
        StreamProtocol::new("/test/sync")
    }

    #[test]
    fn requests_round_trip_and_junk_is_refused() {
        let mut codec = SyncCodec {
            max_response_bytes: 1024,
        };
        let request = SyncRequest::GetBlocks {
            from_height: 7,
            max: 3,
        };
        let mut wire = Cursor::new(Vec::new());
        block_on(codec.write_request(&protocol(), &mut wire, request.clone())).unwrap();
        let mut read = Cursor::new(wire.into_inner());
        assert_eq!(
            block_on(codec.read_request(&protocol(), &mut read)).unwrap(),
            request
        );
        for junk in [
            vec![],
            vec![9],
            vec![0; 5],
            vec![0; MAX_SYNC_REQUEST_BYTES + 1],
        ] {
            let mut read = Cursor::new(junk);
            let err = block_on(codec.read_request(&protocol(), &mut read)).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        }
    }

    #[test]
    fn responses_over_the_limit_or_malformed_are_refused() {
        let mut codec = SyncCodec {
            max_response_bytes: 1024,
        };
        let small = bounded_response(vec![vec![1; 100], vec![2; 100]], 64, 1024);
        let mut wire = Cursor::new(Vec::new());
        block_on(codec.write_response(&protocol(), &mut wire, small.clone())).unwrap();
        let mut read = Cursor::new(wire.into_inner());
        assert_eq!(
            block_on(codec.read_response(&protocol(), &mut read)).unwrap(),
            small
        );

        // A response of 2 KiB of blocks, against a 1 KiB limit.
        let big = SyncResponse::Blocks(
            BoundedVec::new(vec![BoundedBytes::new(vec![0; 2048]).unwrap()]).unwrap(),
        );
        let mut read = Cursor::new(encode(&big));
        let err = block_on(codec.read_response(&protocol(), &mut read)).unwrap_err();
        assert!(err.to_string().contains("over the limit"), "{err}");

        // A count of 65 blocks, a huge length, an unknown tag, trailing bytes.
        let mut too_many = vec![0u8];
        too_many.extend_from_slice(&65u32.to_le_bytes());
        let mut huge_len = vec![0u8, 1, 0, 0, 0];
        huge_len.extend_from_slice(&u32::MAX.to_le_bytes());
        let mut trailing = encode(&SyncResponse::Refused(SyncRefusal::Busy));
        trailing.push(0);
        for junk in [too_many, huge_len, vec![7], trailing] {
            let mut read = Cursor::new(junk);
            let err = block_on(codec.read_response(&protocol(), &mut read)).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        }
    }

    #[test]
    fn served_responses_stay_within_the_limits() {
        let blocks = vec![vec![0; 400]; 100];
        let SyncResponse::Blocks(list) = bounded_response(blocks.clone(), 1000, usize::MAX) else {
            panic!("blocks expected");
        };
        assert_eq!(list.len(), MAX_BLOCKS_PER_RESPONSE);
        let SyncResponse::Blocks(list) = bounded_response(blocks.clone(), 10, usize::MAX) else {
            panic!("blocks expected");
        };
        assert_eq!(list.len(), 10);
        let SyncResponse::Blocks(list) = bounded_response(blocks, 64, 1000) else {
            panic!("blocks expected");
        };
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn responses_are_checked_against_the_request() {
        let chain = ChainId::new([1; 32]);
        let refused = decode_response(&chain, 1, 4, SyncResponse::Refused(SyncRefusal::Busy));
        assert!(matches!(
            refused,
            Err(SyncError::Refused(SyncRefusal::Busy))
        ));
        let junk = bounded_response(vec![vec![1, 2, 3]], 4, 1024);
        assert!(matches!(
            decode_response(&chain, 5, 4, junk),
            Err(SyncError::InvalidBlock { height: 5, .. })
        ));
        let three = bounded_response(vec![vec![1]; 3], 4, 1024);
        assert!(matches!(
            decode_response(&chain, 5, 2, three),
            Err(SyncError::TooManyBlocks { got: 3, max: 2 })
        ));
        let empty = bounded_response(Vec::new(), 4, 1024);
        assert!(decode_response(&chain, 5, 2, empty).unwrap().is_empty());
    }
}
