//! The audit log's Merkle tree, read from the store: whole tiles of 256 events kept as their
//! tree hash, the rest hashed from the events. Any range's tree hash, and so any proof, costs
//! about one node hash per tile it spans plus at most 255 leaves.

use std::sync::Arc;

use writ_domain::merkle::{
    Frontier, TreeHash, consistency_ranges, inclusion_ranges, leaf_hash, root,
};
use writ_store::Store;

use crate::error::CoreError;

/// Events per tile.
pub const TILE: u64 = 256;
/// A tile's height in the tree: `2^TILE_HEIGHT == TILE`.
const TILE_HEIGHT: u32 = 8;
/// Tiles computed per read of the log when tiles are missing.
const TILES_PER_READ: u64 = 256;

/// The tree over the store's audit log.
#[derive(Clone)]
pub struct AuditTree {
    store: Arc<dyn Store>,
}

impl AuditTree {
    /// The tree over `store`'s log.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The tiles of every complete run of 256 among the first `size` events, computing and
    /// keeping the ones the store lacks. Kept tiles are a cache trusted for building proofs
    /// (a wrong one gives a proof that fails); `audit verify` recomputes them instead
    /// ([`AuditTree::tiles_from_events`]).
    pub async fn tiles(&self, size: u64) -> Result<Vec<TreeHash>, CoreError> {
        let want = size / TILE;
        let mut tiles = self.store.audit_tiles(0).await?;
        tiles.truncate(want as usize);
        while (tiles.len() as u64) < want {
            let first = tiles.len() as u64;
            let count = (want - first).min(TILES_PER_READ);
            let computed = self.compute_tiles(first, count).await?;
            self.store.add_audit_tiles(first, computed.clone()).await?;
            tiles.extend(computed);
        }
        Ok(tiles)
    }

    /// Every tile of the first `size` events, hashed from the events themselves.
    pub async fn tiles_from_events(&self, size: u64) -> Result<Vec<TreeHash>, CoreError> {
        let want = size / TILE;
        let mut tiles = Vec::with_capacity(want as usize);
        while (tiles.len() as u64) < want {
            let first = tiles.len() as u64;
            let count = (want - first).min(TILES_PER_READ);
            tiles.extend(self.compute_tiles(first, count).await?);
        }
        Ok(tiles)
    }

    async fn compute_tiles(&self, first: u64, count: u64) -> Result<Vec<TreeHash>, CoreError> {
        let leaves = self.leaves(first * TILE, (first + count) * TILE).await?;
        Ok(leaves.chunks(TILE as usize).map(root).collect())
    }

    /// The leaf hashes of events `start + 1 ..= end` (leaf `i` is event `i + 1`).
    pub async fn leaf_range(&self, start: u64, end: u64) -> Result<Vec<TreeHash>, CoreError> {
        if start >= end {
            return Ok(Vec::new());
        }
        self.leaves(start, end).await
    }

    async fn leaves(&self, start: u64, end: u64) -> Result<Vec<TreeHash>, CoreError> {
        let hashes = self.store.audit_leaf_hashes(start, end).await?;
        if hashes.len() as u64 != end - start {
            return Err(CoreError::CheckpointMismatch(format!(
                "the log holds {} of events {}..={}: events are missing",
                hashes.len(),
                start + 1,
                end
            )));
        }
        Ok(hashes.iter().map(|h| leaf_hash(&h.0)).collect())
    }

    /// The tree hash of leaves `start..end`, from `tiles` where whole tiles lie in the range.
    pub async fn range_hash(
        &self,
        tiles: &[TreeHash],
        start: u64,
        end: u64,
    ) -> Result<TreeHash, CoreError> {
        self.range_hash_with(tiles, start, end, &mut TileLeaves::new(end))
            .await
    }

    async fn range_hash_with(
        &self,
        tiles: &[TreeHash],
        start: u64,
        end: u64,
        leaves: &mut TileLeaves,
    ) -> Result<TreeHash, CoreError> {
        let mut frontier = Frontier::default();
        let mut pos = start;
        if start.is_multiple_of(TILE) {
            while pos + TILE <= end && ((pos / TILE) as usize) < tiles.len() {
                frontier.push_subtree(TILE_HEIGHT, tiles[(pos / TILE) as usize]);
                pos += TILE;
            }
        }
        while pos < end {
            frontier.push_leaf(leaves.get(self, pos).await?);
            pos += 1;
        }
        Ok(frontier.root())
    }

    /// The proof that leaf `index` is in the tree of `size` leaves.
    pub async fn inclusion_proof(
        &self,
        tiles: &[TreeHash],
        index: u64,
        size: u64,
    ) -> Result<Vec<TreeHash>, CoreError> {
        let mut leaves = TileLeaves::new(size);
        let mut proof = Vec::new();
        for (start, end) in inclusion_ranges(index, size) {
            proof.push(self.range_hash_with(tiles, start, end, &mut leaves).await?);
        }
        Ok(proof)
    }

    /// The proof that the tree of `old` leaves is a prefix of the tree of `new` leaves.
    pub async fn consistency_proof(
        &self,
        tiles: &[TreeHash],
        old: u64,
        new: u64,
    ) -> Result<Vec<TreeHash>, CoreError> {
        let mut leaves = TileLeaves::new(new);
        let mut proof = Vec::new();
        for (start, end) in consistency_ranges(old, new) {
            proof.push(self.range_hash_with(tiles, start, end, &mut leaves).await?);
        }
        Ok(proof)
    }
}

/// Leaves read a tile at a time, so a proof's small ranges (all within the tile of its leaf
/// and the tree's last tile) cost one read each rather than one per range.
struct TileLeaves {
    size: u64,
    tile: Option<(u64, Vec<TreeHash>)>,
    last: Option<(u64, Vec<TreeHash>)>,
}

impl TileLeaves {
    /// Leaves of a tree of `size`: never any beyond it.
    fn new(size: u64) -> Self {
        Self {
            size,
            tile: None,
            last: None,
        }
    }

    async fn get(&mut self, tree: &AuditTree, index: u64) -> Result<TreeHash, CoreError> {
        let t = index / TILE;
        for (held, leaves) in [&self.tile, &self.last].into_iter().flatten() {
            if *held == t {
                return Ok(leaves[(index % TILE) as usize]);
            }
        }
        let start = t * TILE;
        let leaves = tree.leaves(start, (start + TILE).min(self.size)).await?;
        let leaf = leaves[(index % TILE) as usize];
        // The tree's last tile is asked for by most ranges; keep it apart from the other.
        if start + TILE >= self.size {
            self.last = Some((t, leaves));
        } else {
            self.tile = Some((t, leaves));
        }
        Ok(leaf)
    }
}
