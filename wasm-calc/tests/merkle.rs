//! RFC 9162 proofs against the Certificate Transparency reference vectors
//! (transparency-dev/merkle `proof/verify_test.go`, the same tree as the
//! original CT C++ tests) and against random trees built here.

use carbon_calc::merkle::{self, reference, Hash, TreeHead};
use ed25519_dalek::{Signer, SigningKey};
use proptest::prelude::*;

fn h(hex: &str) -> Hash {
    hex::decode(hex).unwrap().try_into().unwrap()
}

const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// Roots of the trees of the first 1..=8 leaves.
const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (leaf index, tree size, proof).
const INCLUSION: [(u64, u64, &[&str]); 4] = [
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// (first size, second size, proof).
const CONSISTENCY: [(u64, u64, &[&str]); 4] = [
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn leaf_hashes() -> Vec<Hash> {
    LEAVES
        .iter()
        .map(|l| merkle::leaf_hash(&hex::decode(l).unwrap()))
        .collect()
}

fn flip(hash: &Hash, bit: usize) -> Hash {
    let mut out = *hash;
    out[bit / 8] ^= 1 << (bit % 8);
    out
}

#[test]
fn reference_roots() {
    let leaves = leaf_hashes();
    for (n, root) in ROOTS.iter().enumerate() {
        assert_eq!(reference::root(&leaves[..=n]), h(root), "size {}", n + 1);
    }
    assert_eq!(
        hex::encode(merkle::empty_root()),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn reference_inclusion_proofs_verify_and_corruptions_fail() {
    let leaves = leaf_hashes();
    for (index, size, proof) in INCLUSION {
        let proof: Vec<Hash> = proof.iter().map(|p| h(p)).collect();
        let root = h(ROOTS[size as usize - 1]);
        let leaf = leaves[index as usize];
        assert_eq!(
            reference::inclusion_proof(&leaves[..size as usize], index as usize),
            proof
        );
        assert!(merkle::verify_inclusion(&leaf, index, size, &proof, &root));
        // Wrong position or size.
        for (i, s) in [
            (index.wrapping_sub(1), size),
            (index + 1, size),
            (index ^ 2, size),
            (index, size * 2),
            (index, size / 2),
        ] {
            assert!(
                !merkle::verify_inclusion(&leaf, i, s, &proof, &root),
                "index {i} size {s}"
            );
        }
        // Garbage before or after, a component removed, every bit flipped.
        let mut longer = proof.clone();
        longer.push(root);
        assert!(!merkle::verify_inclusion(
            &leaf, index, size, &longer, &root
        ));
        let mut prefixed = vec![root];
        prefixed.extend(&proof);
        assert!(!merkle::verify_inclusion(
            &leaf, index, size, &prefixed, &root
        ));
        assert!(!merkle::verify_inclusion(
            &leaf,
            index,
            size,
            &proof[..proof.len() - 1],
            &root
        ));
        for bit in 0..256 {
            assert!(!merkle::verify_inclusion(
                &flip(&leaf, bit),
                index,
                size,
                &proof,
                &root
            ));
            assert!(!merkle::verify_inclusion(
                &leaf,
                index,
                size,
                &proof,
                &flip(&root, bit)
            ));
            for k in 0..proof.len() {
                let mut bad = proof.clone();
                bad[k] = flip(&bad[k], bit);
                assert!(!merkle::verify_inclusion(&leaf, index, size, &bad, &root));
            }
        }
    }
}

#[test]
fn flipping_any_bit_of_the_leaf_index_fails() {
    let leaves = leaf_hashes();
    for (index, size, proof) in INCLUSION {
        let proof: Vec<Hash> = proof.iter().map(|p| h(p)).collect();
        let root = h(ROOTS[size as usize - 1]);
        for bit in 0..64 {
            let flipped = index ^ (1 << bit);
            assert!(
                !merkle::verify_inclusion(&leaves[index as usize], flipped, size, &proof, &root),
                "{index}/{size} bit {bit}"
            );
        }
    }
}

/// RFC 9162's verifier authenticates a leaf against a (size, root) pair: the
/// proof of leaf 1 in the 5-leaf tree also "verifies" leaf 1 in a 7-leaf tree
/// whose root would be the 5-leaf root (structurally identical paths). Only the
/// signed tree head binds size and root, so a client must check the tree head
/// signature and then the proof against that head's size and root; together
/// they reject the altered size.
#[test]
fn size_is_bound_to_the_root_by_the_signed_tree_head() {
    let leaves = leaf_hashes();
    let (index, size, proof) = INCLUSION[3];
    let proof: Vec<Hash> = proof.iter().map(|p| h(p)).collect();
    let root = h(ROOTS[size as usize - 1]);
    assert!(merkle::verify_inclusion(
        &leaves[1], index, 7, &proof, &root
    ));

    let key = SigningKey::from_bytes(&[7u8; 32]);
    let head = TreeHead {
        tree_size: size,
        timestamp: 1,
        root_hash: root,
    };
    let sig = key.sign(&head.signing_bytes()).to_bytes();
    let public = key.verifying_key().to_bytes();
    assert!(head.verify(&sig, &public));
    for bit in 0..64 {
        let altered = TreeHead {
            tree_size: size ^ (1 << bit),
            ..head
        };
        assert!(!altered.verify(&sig, &public), "size bit {bit}");
    }
}

#[test]
fn reference_consistency_proofs_verify_and_corruptions_fail() {
    let leaves = leaf_hashes();
    for (first, second, proof) in CONSISTENCY {
        let proof: Vec<Hash> = proof.iter().map(|p| h(p)).collect();
        let (r1, r2) = (h(ROOTS[first as usize - 1]), h(ROOTS[second as usize - 1]));
        assert_eq!(
            reference::consistency_proof(&leaves[..second as usize], first as usize),
            proof
        );
        assert!(merkle::verify_consistency(first, second, &r1, &r2, &proof));
        for (a, b) in [
            (first - 1, second),
            (first + 1, second),
            (first ^ 2, second),
            (first, second * 2),
            (first, second / 2),
        ] {
            assert!(
                !merkle::verify_consistency(a, b, &r1, &r2, &proof),
                "{a} {b}"
            );
        }
        assert!(!merkle::verify_consistency(first, second, &r2, &r1, &proof));
        assert!(!merkle::verify_consistency(first, second, &r1, &r2, &[]));
        assert!(!merkle::verify_consistency(
            first,
            second,
            &r1,
            &r2,
            &proof[..proof.len() - 1]
        ));
        for extra in [r1, r2, proof[0]] {
            let mut longer = proof.clone();
            longer.push(extra);
            assert!(!merkle::verify_consistency(
                first, second, &r1, &r2, &longer
            ));
            let mut prefixed = vec![extra];
            prefixed.extend(&proof);
            assert!(!merkle::verify_consistency(
                first, second, &r1, &r2, &prefixed
            ));
        }
        for bit in 0..256 {
            assert!(!merkle::verify_consistency(
                first,
                second,
                &flip(&r1, bit),
                &r2,
                &proof
            ));
            assert!(!merkle::verify_consistency(
                first,
                second,
                &r1,
                &flip(&r2, bit),
                &proof
            ));
            for k in 0..proof.len() {
                let mut bad = proof.clone();
                bad[k] = flip(&bad[k], bit);
                assert!(!merkle::verify_consistency(first, second, &r1, &r2, &bad));
            }
        }
    }
}

#[test]
fn trivial_consistency_cases() {
    let (a, b) = ([1u8; 32], [2u8; 32]);
    let empty = merkle::empty_root();
    assert!(merkle::verify_consistency(0, 0, &a, &a, &[]));
    assert!(merkle::verify_consistency(0, 1, &a, &b, &[]));
    assert!(merkle::verify_consistency(1, 1, &b, &b, &[]));
    assert!(!merkle::verify_consistency(0, 0, &a, &b, &[]));
    assert!(!merkle::verify_consistency(1, 0, &a, &b, &[]));
    assert!(!merkle::verify_consistency(2, 1, &a, &b, &[]));
    assert!(!merkle::verify_consistency(1, 2, &a, &b, &[]));
    assert!(!merkle::verify_consistency(0, 0, &empty, &empty, &[empty]));
    assert!(!merkle::verify_consistency(0, 1, &empty, &empty, &[empty]));
    assert!(!merkle::verify_consistency(1, 1, &empty, &empty, &[empty]));
}

#[test]
fn inclusion_edge_cases() {
    let some = [7u8; 32];
    for (i, s) in [(0, 0), (1, 0), (2, 1)] {
        assert!(!merkle::verify_inclusion(&some, i, s, &[], &some));
    }
    assert!(merkle::verify_inclusion(&some, 0, 1, &[], &some));
}

fn random_leaves(n: usize, seed: u64) -> Vec<Hash> {
    (0..n)
        .map(|i| merkle::leaf_hash(&[seed.to_le_bytes(), (i as u64).to_le_bytes()].concat()))
        .collect()
}

proptest! {
    // proptest prints the failing case and persists its seed under
    // wasm-calc/proptest-regressions/ for replay.
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_leaf_of_a_random_tree_proves_inclusion(n in 1usize..70, seed in any::<u64>(), bit in 0usize..256) {
        let leaves = random_leaves(n, seed);
        let root = reference::root(&leaves);
        for (i, leaf) in leaves.iter().enumerate() {
            let proof = reference::inclusion_proof(&leaves, i);
            prop_assert!(merkle::verify_inclusion(leaf, i as u64, n as u64, &proof, &root));
            prop_assert!(!merkle::verify_inclusion(&flip(leaf, bit), i as u64, n as u64, &proof, &root));
            if !proof.is_empty() {
                let mut bad = proof.clone();
                let k = bit % bad.len();
                bad[k] = flip(&bad[k], bit);
                prop_assert!(!merkle::verify_inclusion(leaf, i as u64, n as u64, &bad, &root));
            }
        }
    }

    #[test]
    fn every_prefix_of_a_random_tree_is_consistent(n in 1usize..70, seed in any::<u64>(), bit in 0usize..256) {
        let leaves = random_leaves(n, seed);
        let root = reference::root(&leaves);
        for m in 0..=n {
            let proof = reference::consistency_proof(&leaves, m);
            let first_root = reference::root(&leaves[..m]);
            prop_assert!(merkle::verify_consistency(m as u64, n as u64, &first_root, &root, &proof));
            if m > 0 && m < n {
                prop_assert!(!merkle::verify_consistency(m as u64, n as u64, &flip(&first_root, bit), &root, &proof));
                prop_assert!(!merkle::verify_consistency(m as u64, n as u64, &first_root, &flip(&root, bit), &proof));
                let mut bad = proof.clone();
                let k = bit % bad.len();
                bad[k] = flip(&bad[k], bit);
                prop_assert!(!merkle::verify_consistency(m as u64, n as u64, &first_root, &root, &bad));
            }
        }
    }
}

fn signed_head() -> (TreeHead, [u8; 64], [u8; 32]) {
    let key = SigningKey::from_bytes(&[42u8; 32]);
    let head = TreeHead {
        tree_size: 8,
        timestamp: 1_714_521_600_000,
        root_hash: h(ROOTS[7]),
    };
    let sig = key.sign(&head.signing_bytes()).to_bytes();
    (head, sig, key.verifying_key().to_bytes())
}

#[test]
fn tree_head_bytes_are_rfc9162_tree_head_data_v2() {
    let (head, _, _) = signed_head();
    let bytes = head.signing_bytes();
    assert_eq!(&bytes[0..8], &1_714_521_600_000u64.to_be_bytes());
    assert_eq!(&bytes[8..16], &8u64.to_be_bytes());
    assert_eq!(bytes[16], 32);
    assert_eq!(&bytes[17..49], &head.root_hash);
    assert_eq!(&bytes[49..], &[0, 0]);
}

#[test]
fn tree_head_signature_verifies_and_any_flipped_bit_fails() {
    let (head, sig, key) = signed_head();
    assert!(head.verify(&sig, &key));
    for bit in 0..64 {
        let t = TreeHead {
            tree_size: head.tree_size ^ (1 << bit),
            ..head
        };
        assert!(!t.verify(&sig, &key));
        let t = TreeHead {
            timestamp: head.timestamp ^ (1 << bit),
            ..head
        };
        assert!(!t.verify(&sig, &key));
    }
    for bit in 0..256 {
        let t = TreeHead {
            root_hash: flip(&head.root_hash, bit),
            ..head
        };
        assert!(!t.verify(&sig, &key));
        assert!(!head.verify(&sig, &flip(&key, bit)), "key bit {bit}");
    }
    for bit in 0..512 {
        let mut bad = sig;
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(!head.verify(&bad, &key), "signature bit {bit}");
    }
}
