//! The RFC 9162 tree kept as its complete subtrees. A node `(level,
//! position)` is the hash of leaves `[position·2^level, (position+1)·2^level)`;
//! it is stored once its last leaf is sealed and never changes. Every range
//! the RFC's recursion visits starts on a multiple of the largest power of
//! two not above its size, so it is the right fold of at most 64 stored
//! nodes: proofs and roots need O(log² n) stored hashes, not the log.
//!
//! Proofs are built here as lists of leaf ranges (pure), resolved against
//! whatever node store the caller has (the database, or memory in tests).

use std::collections::HashMap;

use carbon_calc::merkle::{empty_root, node_hash, Hash};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Node {
    pub level: u32,
    pub position: u64,
}

/// Leaves `[start, end)`.
pub type Range = (u64, u64);

/// Largest power of two strictly below `n` (n ≥ 2): RFC 9162's `k`.
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// The complete subtrees that make up `[start, end)`, left to right.
pub fn decompose((start, end): Range) -> Vec<Node> {
    let mut out = Vec::new();
    let mut s = start;
    while s < end {
        let level = 63 - (end - s).leading_zeros();
        debug_assert_eq!(
            s % (1 << level),
            0,
            "range [{start}, {end}) is not a subtree"
        );
        out.push(Node {
            level,
            position: s >> level,
        });
        s += 1 << level;
    }
    out
}

/// The ranges whose hashes form the inclusion proof of leaf `index` in the
/// tree of `size` leaves (RFC 9162 §2.1.3.1 `PATH`), innermost first.
pub fn inclusion_ranges(index: u64, size: u64) -> Vec<Range> {
    assert!(index < size, "leaf {index} outside a tree of {size}");
    let mut out = Vec::new();
    let (mut s, mut e) = (0, size);
    // Walk down, then reverse: the proof lists the sibling nearest the leaf
    // first.
    while e - s > 1 {
        let k = split(e - s);
        if index < s + k {
            out.push((s + k, e));
            e = s + k;
        } else {
            out.push((s, s + k));
            s += k;
        }
    }
    out.reverse();
    out
}

/// The ranges of the consistency proof between the trees of `first` and
/// `second` leaves (RFC 9162 §2.1.4.1 `PROOF`).
pub fn consistency_ranges(first: u64, second: u64) -> Vec<Range> {
    assert!(first <= second);
    let mut out = Vec::new();
    if first == 0 || first == second {
        return out;
    }
    subproof(first, (0, second), true, &mut out);
    out
}

fn subproof(m: u64, (s, e): Range, complete: bool, out: &mut Vec<Range>) {
    let n = e - s;
    if m == n {
        if !complete {
            out.push((s, e));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, (s, s + k), complete, out);
        out.push((s + k, e));
    } else {
        subproof(m - k, (s + k, e), false, out);
        out.push((s, s + k));
    }
}

/// Every stored node the ranges need.
pub fn nodes_of(ranges: &[Range]) -> Vec<Node> {
    let mut all: Vec<Node> = ranges.iter().flat_map(|r| decompose(*r)).collect();
    all.sort();
    all.dedup();
    all
}

/// The hash of `range` from its complete subtrees; `None` when `nodes`
/// lacks one.
pub fn hash_of(range: Range, nodes: &HashMap<Node, Hash>) -> Option<Hash> {
    let parts = decompose(range);
    let mut iter = parts.iter().rev();
    let Some(last) = iter.next() else {
        return Some(empty_root());
    };
    let mut acc = *nodes.get(last)?;
    for n in iter {
        acc = node_hash(nodes.get(n)?, &acc);
    }
    Some(acc)
}

/// The nodes that appending `leaves` to a tree of `size` leaves completes
/// (the new leaves themselves included), given the tree's right edge
/// (`decompose((0, size))`) in `edge`; and the new root.
pub fn extend(
    size: u64,
    edge: &HashMap<Node, Hash>,
    leaves: &[Hash],
) -> Option<(Vec<(Node, Hash)>, Hash)> {
    let mut known: HashMap<Node, Hash> = edge.clone();
    let mut new = Vec::with_capacity(leaves.len() * 2);
    for (i, leaf) in leaves.iter().enumerate() {
        let mut node = Node {
            level: 0,
            position: size + i as u64,
        };
        let mut hash = *leaf;
        known.insert(node, hash);
        new.push((node, hash));
        while node.position & 1 == 1 {
            let left = known.get(&Node {
                level: node.level,
                position: node.position - 1,
            })?;
            hash = node_hash(left, &hash);
            node = Node {
                level: node.level + 1,
                position: node.position >> 1,
            };
            known.insert(node, hash);
            new.push((node, hash));
        }
    }
    let root = hash_of((0, size + leaves.len() as u64), &known)?;
    Some((new, root))
}

#[cfg(test)]
mod tests {
    use super::*;
    use carbon_calc::merkle::{leaf_hash, reference};

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    /// Every node of a tree built by appending in chunks of `chunk`.
    fn build(all: &[Hash], chunk: usize) -> (HashMap<Node, Hash>, Vec<Hash>) {
        let mut store = HashMap::new();
        let mut roots = vec![empty_root()];
        let mut size = 0u64;
        for part in all.chunks(chunk) {
            let edge: HashMap<Node, Hash> = decompose((0, size))
                .into_iter()
                .map(|n| (n, store[&n]))
                .collect();
            let (new, root) = extend(size, &edge, part).unwrap();
            for (n, h) in new {
                assert!(store.insert(n, h).is_none(), "node {n:?} written twice");
            }
            size += part.len() as u64;
            roots.push(root);
        }
        (store, roots)
    }

    #[test]
    fn roots_and_proofs_match_the_reference_tree() {
        let all = leaves(70);
        for chunk in [1, 3, 7, 70] {
            let (store, _) = build(&all, chunk);
            for n in 0..=all.len() {
                let tree = &all[..n];
                assert_eq!(
                    hash_of((0, n as u64), &store),
                    Some(reference::root(tree)),
                    "root of {n}"
                );
                for i in 0..n {
                    let proof: Vec<Hash> = inclusion_ranges(i as u64, n as u64)
                        .into_iter()
                        .map(|r| hash_of(r, &store).unwrap())
                        .collect();
                    assert_eq!(
                        proof,
                        reference::inclusion_proof(tree, i),
                        "leaf {i} of {n}"
                    );
                }
                for m in 0..=n {
                    let proof: Vec<Hash> = consistency_ranges(m as u64, n as u64)
                        .into_iter()
                        .map(|r| hash_of(r, &store).unwrap())
                        .collect();
                    assert_eq!(proof, reference::consistency_proof(tree, m), "{m} → {n}");
                }
            }
        }
    }

    #[test]
    fn extending_reports_each_new_root() {
        let all = leaves(20);
        let (_, roots) = build(&all, 1);
        for (n, root) in roots.iter().enumerate() {
            assert_eq!(*root, reference::root(&all[..n]));
        }
    }

    #[test]
    fn proofs_need_few_nodes() {
        let size = (1u64 << 40) + 12345;
        let nodes = nodes_of(&inclusion_ranges(size - 1, size));
        assert!(nodes.len() <= 64, "{}", nodes.len());
        let nodes = nodes_of(&consistency_ranges(size / 3, size));
        assert!(nodes.len() <= 2 * 64, "{}", nodes.len());
    }

    #[test]
    fn a_missing_node_is_reported() {
        assert_eq!(hash_of((0, 3), &HashMap::new()), None);
    }
}
