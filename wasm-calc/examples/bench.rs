//! Native side of `scripts/bench-wasm.sh`: per-call cost of the calculators
//! natively, and a fixture (inclusion proofs in a tree of 10^6 leaves) for the
//! WebAssembly side to verify. Prints one JSON object.
//!
//! cargo run --release -p carbon-calc --example bench -- FIXTURE.json

use std::hint::black_box;
use std::time::Instant;

use carbon_calc::commute::{self, CommuteRequest};
use carbon_calc::json::{call, parse_request};
use carbon_calc::merkle::{self, reference, Hash};
use carbon_calc::Catalog;
use serde_json::json;

pub const COMMUTE: &str = r#"{"preset":"wuhan-2024","legs":[{"mode":"metro","distance_km":"7.35"},{"mode":"bus"},{"mode":"bike","distance_km":"1.2"}]}"#;
const TREE_SIZE: usize = 1_000_000;
const PROOF_INDICES: [usize; 4] = [0, 314_159, 999_999, 524_288];

/// Median over `rounds` of the mean time per call of `iters` calls, in ns.
fn per_call_ns(rounds: usize, iters: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..iters {
        f(); // warm-up
    }
    let mut samples: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                f();
            }
            start.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[rounds / 2]
}

fn main() {
    let fixture_path = std::env::args().nth(1).expect("usage: bench FIXTURE.json");
    let catalog = Catalog::builtin();

    let json_ns = per_call_ns(15, 20_000, || {
        black_box(call(catalog, "estimateCommute", black_box(COMMUTE)).unwrap());
    });
    let req: CommuteRequest = parse_request(COMMUTE).unwrap();
    let typed_ns = per_call_ns(15, 20_000, || {
        black_box(commute::estimate(catalog, black_box(&req)).unwrap());
    });

    let started = Instant::now();
    let leaves: Vec<Hash> = (0..TREE_SIZE as u64)
        .map(|i| merkle::leaf_hash(&i.to_be_bytes()))
        .collect();
    let root = reference::root(&leaves);
    let proofs: Vec<_> = PROOF_INDICES
        .iter()
        .map(|&i| {
            let proof = reference::inclusion_proof(&leaves, i);
            assert!(merkle::verify_inclusion(
                &leaves[i],
                i as u64,
                TREE_SIZE as u64,
                &proof,
                &root
            ));
            (i, proof)
        })
        .collect();
    let tree_build_s = started.elapsed().as_secs_f64();

    let (i, proof) = &proofs[1];
    let inclusion_ns = per_call_ns(15, 20_000, || {
        black_box(merkle::verify_inclusion(
            black_box(&leaves[*i]),
            *i as u64,
            TREE_SIZE as u64,
            proof,
            &root,
        ));
    });
    let inclusion_json = json!({
        "leaf_hash": hex::encode(leaves[*i]),
        "leaf_index": i,
        "tree_size": TREE_SIZE,
        "proof": proof.iter().map(hex::encode).collect::<Vec<_>>(),
        "root_hash": hex::encode(root),
    });
    let inclusion_json_ns = per_call_ns(15, 20_000, || {
        black_box(
            call(
                catalog,
                "verifyInclusion",
                black_box(&inclusion_json.to_string()),
            )
            .unwrap(),
        );
    });

    let fixture = json!({
        "commute": serde_json::from_str::<serde_json::Value>(COMMUTE).unwrap(),
        "inclusion": proofs.iter().map(|(i, proof)| json!({
            "leaf_hash": hex::encode(leaves[*i]),
            "leaf_index": i,
            "tree_size": TREE_SIZE,
            "proof": proof.iter().map(hex::encode).collect::<Vec<_>>(),
            "root_hash": hex::encode(root),
        })).collect::<Vec<_>>(),
    });
    std::fs::write(&fixture_path, fixture.to_string()).expect("write fixture");

    println!(
        "{}",
        json!({
            "native_commute_json_ns": json_ns,
            "native_commute_typed_ns": typed_ns,
            "native_inclusion_ns": inclusion_ns,
            "native_inclusion_json_ns": inclusion_json_ns,
            "proof_hashes": proof.len(),
            "tree_build_s": tree_build_s,
        })
    );
}
