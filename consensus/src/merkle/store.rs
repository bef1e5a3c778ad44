//! Where the tree's nodes live: the [`NodeStore`] trait, the [`NodeBatch`] of
//! writes an update produces, an in-memory store and an overlay.

use std::collections::BTreeMap;
use std::collections::btree_map;
use std::error::Error;

use super::node::{NODE_LEN, Node, NodeKey};

/// An error from the backing store of a [`NodeStore`] (for RocksDB, its
/// error), boxed so the tree does not depend on the backend.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct NodeStoreError(Box<dyn Error + Send + Sync + 'static>);

impl NodeStoreError {
    /// Wraps a backend error.
    pub fn new(error: impl Into<Box<dyn Error + Send + Sync + 'static>>) -> Self {
        NodeStoreError(error.into())
    }
}

/// Read access to the tree's stored nodes: node key bytes
/// ([`NodeKey::as_bytes`]) → node bytes, as written by the [`NodeBatch`]es
/// of earlier updates.
///
/// The ledger backs it with a RocksDB column family (or a key prefix) and
/// writes each block's [`NodeBatch`] into the same `WriteBatch` as the block,
/// so the stored tree always matches the stored state. Nodes are stored by
/// position, not by version: there is no garbage to collect.
pub trait NodeStore {
    /// The bytes stored under `key`, or `None` if there are none.
    ///
    /// # Errors
    ///
    /// The backend's error, passed on unchanged by the tree.
    fn get_node(&self, key: &NodeKey) -> Result<Option<Vec<u8>>, NodeStoreError>;
}

impl<S: NodeStore + ?Sized> NodeStore for &S {
    fn get_node(&self, key: &NodeKey) -> Result<Option<Vec<u8>>, NodeStoreError> {
        (**self).get_node(key)
    }
}

/// The node writes of one update, to apply atomically with the state they
/// commit to: for each changed position, the new node bytes (a put) or
/// `None` (a delete). Iterates in [`NodeKey`] order, so applying it is
/// deterministic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeBatch {
    writes: BTreeMap<NodeKey, Option<[u8; NODE_LEN]>>,
}

impl NodeBatch {
    /// An empty batch.
    pub fn new() -> Self {
        NodeBatch::default()
    }

    pub(crate) fn put(&mut self, key: NodeKey, node: &Node) {
        self.writes.insert(key, Some(node.encode()));
    }

    pub(crate) fn delete(&mut self, key: NodeKey) {
        self.writes.insert(key, None);
    }

    /// The number of writes (puts and deletes).
    pub fn len(&self) -> usize {
        self.writes.len()
    }

    /// Whether the batch writes nothing.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// The write to `key`: `Some(Some(bytes))` a put, `Some(None)` a delete,
    /// `None` untouched.
    pub fn get(&self, key: &NodeKey) -> Option<Option<&[u8]>> {
        self.writes
            .get(key)
            .map(|write| write.as_ref().map(|b| &b[..]))
    }

    /// The writes in key order: `(key, Some(bytes))` to put, `(key, None)` to
    /// delete. Write each key with [`NodeKey::as_bytes`].
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&NodeKey, Option<&[u8]>)> + '_ {
        self.writes
            .iter()
            .map(|(key, write)| (key, write.as_ref().map(|b| &b[..])))
    }

    /// Adds the writes of a later batch (computed on top of this one, for
    /// example over an [`Overlay`]); where both write a key, the later wins.
    pub fn extend(&mut self, later: NodeBatch) {
        self.writes.extend(later.writes);
    }
}

/// An in-memory [`NodeStore`], for tests, benchmarks and tools.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryNodeStore {
    pub(crate) nodes: BTreeMap<NodeKey, Vec<u8>>,
}

impl MemoryNodeStore {
    /// An empty store (an empty tree).
    pub fn new() -> Self {
        MemoryNodeStore::default()
    }

    /// Applies an update's writes.
    pub fn apply(&mut self, batch: &NodeBatch) {
        for (key, write) in batch.iter() {
            match write {
                Some(bytes) => {
                    self.nodes.insert(*key, bytes.to_vec());
                }
                None => {
                    self.nodes.remove(key);
                }
            }
        }
    }

    /// The number of stored nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no node is stored.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The stored nodes in key order.
    pub fn iter(&self) -> btree_map::Iter<'_, NodeKey, Vec<u8>> {
        self.nodes.iter()
    }
}

impl NodeStore for MemoryNodeStore {
    fn get_node(&self, key: &NodeKey) -> Result<Option<Vec<u8>>, NodeStoreError> {
        Ok(self.nodes.get(key).cloned())
    }
}

/// A [`NodeStore`] that sees `batch` applied on top of `base` without
/// writing it: to compute the root after a block that is not committed yet
/// (speculative execution), then chain further updates; combine their
/// batches with [`NodeBatch::extend`].
#[derive(Debug, Clone, Copy)]
pub struct Overlay<'a, S: ?Sized> {
    base: &'a S,
    batch: &'a NodeBatch,
}

impl<'a, S: NodeStore + ?Sized> Overlay<'a, S> {
    /// `base` with `batch` applied.
    pub fn new(base: &'a S, batch: &'a NodeBatch) -> Self {
        Overlay { base, batch }
    }
}

impl<S: NodeStore + ?Sized> NodeStore for Overlay<'_, S> {
    fn get_node(&self, key: &NodeKey) -> Result<Option<Vec<u8>>, NodeStoreError> {
        match self.batch.get(key) {
            Some(write) => Ok(write.map(<[u8]>::to_vec)),
            None => self.base.get_node(key),
        }
    }
}
