//! One-way bidding (单向竞价), pure: a lot and its sealed bids in, the
//! winners, what each gets and the one price everybody pays out. No
//! database, no clock.
//!
//! Rules (Guangdong's allowance auctions, REFERENCE.md):
//! - bids are ranked by price, highest first, then by time (the lower
//!   sequence number first);
//! - winners are filled down the ranking until the lot is gone; the last
//!   winner may get part of its bid;
//! - every winner pays the same price: the lowest winning bid;
//! - what no bid takes stays with the seller.
//!
//! Bids below the reserve price, above the per-bidder cap or under the
//! minimum are refused when they are placed, so they never reach this
//! rule; it ignores a bid below the reserve all the same.

use super::matching::{Price, Qty, Seq};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bid {
    pub seq: Seq,
    pub price: Price,
    pub quantity: Qty,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Allocation {
    /// The lowest winning bid: what every winner pays. `None` without a
    /// winner.
    pub clearing_price: Option<Price>,
    /// (bid, units won), in ranking order; bids that won nothing are not
    /// listed.
    pub awards: Vec<(Seq, Qty)>,
    /// Units sold: the sum of the awards, at most the lot.
    pub sold: Qty,
}

/// Allocates `lot` units among `bids` at one clearing price.
pub fn allocate(lot: Qty, reserve: Price, bids: &[Bid]) -> Allocation {
    let mut ranked: Vec<&Bid> = bids
        .iter()
        .filter(|b| b.price >= reserve && b.quantity > 0)
        .collect();
    ranked.sort_by(|a, b| b.price.cmp(&a.price).then(a.seq.cmp(&b.seq)));
    let mut left = lot.max(0);
    let mut out = Allocation::default();
    for b in ranked {
        if left == 0 {
            break;
        }
        let won = b.quantity.min(left);
        left -= won;
        out.sold += won;
        out.awards.push((b.seq, won));
        out.clearing_price = Some(b.price);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bid(seq: Seq, price: Price, quantity: Qty) -> Bid {
        Bid {
            seq,
            price,
            quantity,
        }
    }

    #[test]
    fn everybody_pays_the_lowest_winning_bid() {
        let bids = [
            bid(1, 3_600, 400),
            bid(2, 3_800, 300),
            bid(3, 3_700, 500),
            bid(4, 3_500, 900),
        ];
        let a = allocate(1_000, 3_000, &bids);
        // 3,800 × 300, 3,700 × 500, then 200 of the 3,600 bid.
        assert_eq!(a.awards, vec![(2, 300), (3, 500), (1, 200)]);
        assert_eq!(a.clearing_price, Some(3_600));
        assert_eq!(a.sold, 1_000);
    }

    #[test]
    fn time_breaks_ties_and_unsold_stays_with_the_seller() {
        let bids = [bid(7, 3_600, 300), bid(5, 3_600, 300), bid(6, 2_000, 50)];
        let a = allocate(500, 3_000, &bids);
        assert_eq!(a.awards, vec![(5, 300), (7, 200)]);
        let a = allocate(1_000, 3_000, &bids);
        assert_eq!((a.sold, a.clearing_price), (600, Some(3_600)));
        assert_eq!(a.awards, vec![(5, 300), (7, 300)], "below reserve ignored");
        assert_eq!(allocate(1_000, 3_000, &[]), Allocation::default());
    }

    /// Seeded: conservation, ranking and one price over random bids.
    /// `ALLOCATION_SEED` replays a run.
    #[test]
    fn random_auctions_keep_their_rules() {
        let seeds: Vec<u64> = match std::env::var("ALLOCATION_SEED") {
            Ok(s) => vec![s.parse().expect("ALLOCATION_SEED is a number")],
            Err(_) => (1..=20u64)
                .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
                .collect(),
        };
        for seed in seeds {
            println!("ALLOCATION_SEED={seed}");
            let mut x = seed | 1;
            let mut next = |n: u64| {
                // xorshift64*: enough for test data.
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                x.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
            };
            for _ in 0..200 {
                let lot = 1 + next(5_000) as Qty;
                let reserve = 1 + next(100) as Price;
                let bids: Vec<Bid> = (0..next(12))
                    .map(|i| bid(i + 1, 1 + next(200) as Price, 1 + next(2_000) as Qty))
                    .collect();
                let a = allocate(lot, reserve, &bids);
                let awarded: Qty = a.awards.iter().map(|(_, q)| q).sum();
                assert_eq!(awarded, a.sold, "seed {seed}");
                assert!(a.sold <= lot, "seed {seed}");
                let eligible: Qty = bids
                    .iter()
                    .filter(|b| b.price >= reserve)
                    .map(|b| b.quantity)
                    .sum();
                assert_eq!(a.sold, lot.min(eligible), "seed {seed}: sold what was bid");
                let price_of = |s: Seq| bids.iter().find(|b| b.seq == s).unwrap();
                for (s, q) in &a.awards {
                    let b = price_of(*s);
                    assert!(*q >= 1 && *q <= b.quantity, "seed {seed}");
                    assert!(b.price >= a.clearing_price.unwrap(), "seed {seed}");
                }
                // At most one winner is filled in part, and it is the last.
                for (s, q) in a.awards.iter().rev().skip(1) {
                    assert_eq!(*q, price_of(*s).quantity, "seed {seed}");
                }
                // No losing bid ranks above a winner.
                for b in bids.iter().filter(|b| b.price >= reserve) {
                    if a.awards.iter().any(|(s, _)| *s == b.seq) {
                        continue;
                    }
                    for (s, _) in &a.awards {
                        let w = price_of(*s);
                        assert!(
                            (w.price, std::cmp::Reverse(w.seq))
                                > (b.price, std::cmp::Reverse(b.seq)),
                            "seed {seed}: a loser ranks above a winner"
                        );
                    }
                }
            }
        }
    }
}
