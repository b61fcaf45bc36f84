//! The Merkle tree over the audit log, hashed as RFC 6962 / RFC 9162 §2.1 define it: a leaf is
//! `SHA-256(0x00 ‖ data)`, a node `SHA-256(0x01 ‖ left ‖ right)`, and a tree of `n` leaves
//! splits at the largest power of two below `n`. Anyone's RFC 9162 verifier checks writ's
//! proofs.
//!
//! Proofs are described as the leaf ranges whose tree hashes they hold
//! ([`inclusion_ranges`], [`consistency_ranges`]), so a caller holding a large tree in a
//! database computes each range its own way; [`root`] hashes leaves held in memory.

use sha2::{Digest, Sha256};

/// A SHA-256 tree hash.
pub type TreeHash = [u8; 32];

/// The hash of a leaf: `SHA-256(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> TreeHash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(data);
    hasher.finalize().into()
}

/// The hash of an interior node: `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &TreeHash, right: &TreeHash) -> TreeHash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The tree hash of no leaves: `SHA-256("")`.
pub fn empty_root() -> TreeHash {
    Sha256::digest([]).into()
}

/// The largest power of two strictly below `n` (`n` ≥ 2): where a tree of `n` leaves splits.
pub fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// The tree hash (MTH) of `leaves`, given as leaf hashes.
pub fn root(leaves: &[TreeHash]) -> TreeHash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n as u64) as usize;
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The right edge of a growing tree: the roots of its perfect subtrees, largest first, each
/// with its height. Leaves (or whole aligned subtrees) are pushed in order; the tree hash is
/// available at any size, in memory that grows with the log of the size.
#[derive(Debug, Clone, Default)]
pub struct Frontier {
    size: u64,
    nodes: Vec<(u32, TreeHash)>,
}

impl Frontier {
    /// How many leaves it covers.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds the next leaf, by its leaf hash.
    pub fn push_leaf(&mut self, leaf: TreeHash) {
        self.push_subtree(0, leaf);
    }

    /// Adds the next `2^height` leaves as one perfect subtree with tree hash `hash`. The size
    /// so far must be a multiple of `2^height`, or the tree would not be RFC 6962's.
    pub fn push_subtree(&mut self, height: u32, hash: TreeHash) {
        debug_assert_eq!(self.size % (1 << height), 0, "an unaligned subtree");
        self.size += 1 << height;
        let (mut height, mut hash) = (height, hash);
        while let Some(&(top, left)) = self.nodes.last() {
            if top != height {
                break;
            }
            self.nodes.pop();
            hash = node_hash(&left, &hash);
            height += 1;
        }
        self.nodes.push((height, hash));
    }

    /// The tree hash of everything pushed so far.
    pub fn root(&self) -> TreeHash {
        let mut nodes = self.nodes.iter().rev();
        let Some(&(_, mut hash)) = nodes.next() else {
            return empty_root();
        };
        for (_, left) in nodes {
            hash = node_hash(left, &hash);
        }
        hash
    }
}

/// The leaf ranges `[start, end)` whose tree hashes make the inclusion proof of leaf `index`
/// in a tree of `size` leaves, from the leaf upwards (RFC 6962 §2.1.1 `PATH`).
pub fn inclusion_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
    let mut ranges = Vec::new();
    path(index, 0, size, &mut ranges);
    ranges
}

fn path(index: u64, start: u64, end: u64, out: &mut Vec<(u64, u64)>) {
    let n = end - start;
    if n <= 1 {
        return;
    }
    let k = split(n);
    if index < k {
        path(index, start, start + k, out);
        out.push((start + k, end));
    } else {
        path(index - k, start + k, end, out);
        out.push((start, start + k));
    }
}

/// The leaf ranges whose tree hashes make the proof that a tree of `old` leaves is a prefix of
/// one of `new` leaves (RFC 6962 §2.1.2 `PROOF`); empty when `old` is 0 or equals `new`.
pub fn consistency_ranges(old: u64, new: u64) -> Vec<(u64, u64)> {
    let mut ranges = Vec::new();
    if old > 0 && old < new {
        subproof(old, 0, new, true, &mut ranges);
    }
    ranges
}

fn subproof(m: u64, start: u64, end: u64, whole: bool, out: &mut Vec<(u64, u64)>) {
    let n = end - start;
    if m == n {
        if !whole {
            out.push((start, end));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, start, start + k, whole, out);
        out.push((start + k, end));
    } else {
        subproof(m - k, start + k, end, false, out);
        out.push((start, start + k));
    }
}

/// Whether `proof` shows the leaf with hash `leaf` at `index` in the tree of `size` leaves
/// whose hash is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &TreeHash,
    proof: &[TreeHash],
    root: &TreeHash,
) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == *root
}

/// Whether `proof` shows the tree of `old` leaves with hash `old_root` to be a prefix of the
/// tree of `new` leaves with hash `new_root` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &TreeHash,
    new_root: &TreeHash,
    proof: &[TreeHash],
) -> bool {
    if old > new {
        return false;
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    if old == 0 {
        // The empty tree is a prefix of every tree; nothing to prove.
        return proof.is_empty();
    }
    if proof.is_empty() {
        return false;
    }
    let mut path = proof.to_vec();
    if old.is_power_of_two() {
        path.insert(0, *old_root);
    }
    let (mut fn_, mut sn) = (old - 1, new - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    fr == *old_root && sr == *new_root && sn == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Certificate Transparency reference inputs (RFC 6962 test data).
    const DATA: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];

    /// Their published tree hashes for sizes 0 to 8.
    const ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn h(text: &str) -> TreeHash {
        hex::decode(text).unwrap().try_into().unwrap()
    }

    fn leaves() -> Vec<TreeHash> {
        DATA.iter()
            .map(|d| leaf_hash(&hex::decode(d).unwrap()))
            .collect()
    }

    fn hashes(leaves: &[TreeHash], ranges: &[(u64, u64)]) -> Vec<TreeHash> {
        ranges
            .iter()
            .map(|&(a, b)| root(&leaves[a as usize..b as usize]))
            .collect()
    }

    #[test]
    fn roots_match_the_published_rfc_6962_vectors() {
        let leaves = leaves();
        for (size, expected) in ROOTS.iter().enumerate() {
            assert_eq!(root(&leaves[..size]), h(expected), "size {size}");
        }
    }

    #[test]
    fn a_frontier_gives_the_same_root_at_every_size() {
        let leaves: Vec<TreeHash> = (0u32..600).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut frontier = Frontier::default();
        assert_eq!(frontier.root(), empty_root());
        for (i, leaf) in leaves.iter().enumerate() {
            frontier.push_leaf(*leaf);
            assert_eq!(frontier.root(), root(&leaves[..=i]), "size {}", i + 1);
        }
        // Whole tiles of 256, then leaves: the same tree.
        let mut tiled = Frontier::default();
        tiled.push_subtree(8, root(&leaves[..256]));
        tiled.push_subtree(8, root(&leaves[256..512]));
        for leaf in &leaves[512..] {
            tiled.push_leaf(*leaf);
        }
        assert_eq!(tiled.root(), root(&leaves));
        assert_eq!(tiled.size(), 600);
    }

    #[test]
    fn inclusion_proofs_match_the_published_vectors() {
        let leaves = leaves();
        let published = [
            (
                0,
                8,
                vec![
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                8,
                vec![
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
        ];
        for (index, size, proof) in published {
            let expected: Vec<_> = proof.iter().map(|p| h(p)).collect();
            assert_eq!(
                hashes(&leaves, &inclusion_ranges(index, size)),
                expected,
                "leaf {index} of {size}"
            );
            assert!(verify_inclusion(
                index,
                size,
                &leaves[index as usize],
                &expected,
                &h(ROOTS[size as usize])
            ));
        }
    }

    #[test]
    fn consistency_proofs_match_the_published_vectors() {
        let leaves = leaves();
        let published = [
            (1, 1, vec![]),
            (
                1,
                8,
                vec![
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                vec![
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                5,
                vec![
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        for (old, new, proof) in published {
            let expected: Vec<_> = proof.iter().map(|p| h(p)).collect();
            assert_eq!(
                hashes(&leaves, &consistency_ranges(old, new)),
                expected,
                "{old} → {new}"
            );
            assert!(verify_consistency(
                old,
                new,
                &h(ROOTS[old as usize]),
                &h(ROOTS[new as usize]),
                &expected
            ));
        }
    }

    #[test]
    fn every_proof_of_every_shape_verifies_and_a_changed_one_does_not() {
        let leaves: Vec<TreeHash> = (0u32..70).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for size in 1..=leaves.len() as u64 {
            let tree = &leaves[..size as usize];
            let top = root(tree);
            for index in 0..size {
                let proof = hashes(tree, &inclusion_ranges(index, size));
                assert!(verify_inclusion(
                    index,
                    size,
                    &tree[index as usize],
                    &proof,
                    &top
                ));
                let other = (index + 1) % size;
                if other != index {
                    assert!(!verify_inclusion(
                        other,
                        size,
                        &tree[index as usize],
                        &proof,
                        &top
                    ));
                }
                if let Some(first) = proof.first() {
                    let mut bent = proof.clone();
                    bent[0] = node_hash(first, first);
                    assert!(!verify_inclusion(
                        index,
                        size,
                        &tree[index as usize],
                        &bent,
                        &top
                    ));
                }
            }
            for old in 1..=size {
                let old_root = root(&tree[..old as usize]);
                let proof = hashes(tree, &consistency_ranges(old, size));
                assert!(
                    verify_consistency(old, size, &old_root, &top, &proof),
                    "{old}→{size}"
                );
                if old < size {
                    let forged = leaf_hash(b"another history");
                    assert!(!verify_consistency(old, size, &forged, &top, &proof));
                }
            }
        }
    }
}
