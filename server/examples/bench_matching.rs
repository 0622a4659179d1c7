//! The pure matching module on one book, single thread: a seeded mix of
//! resting orders placed, orders that cross, picks and cancels. Prints
//! operations per second. Run by `scripts/bench-matching.sh`.

use std::time::Instant;

use tanpuhui_server::market::matching::{Book, Incoming, Side, TimeInForce};

fn main() {
    let ops: u64 = std::env::args()
        .nth(1)
        .map_or(5_000_000, |a| a.parse().expect("operations"));
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut rand = move |n: u64| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    };
    let mut book: Book<u32> = Book::new();
    let mut live: Vec<u64> = Vec::new();
    let (mut fills, mut placed, mut cancels, mut picks) = (0u64, 0u64, 0u64, 0u64);
    let started = Instant::now();
    for seq in 1..=ops {
        let owner = rand(64) as u32;
        match rand(100) {
            // Cancel a random live order (most may have traded away).
            0..=24 if !live.is_empty() => {
                let i = rand(live.len() as u64) as usize;
                let s = live.swap_remove(i);
                if book.cancel(s).is_some() {
                    cancels += 1;
                }
            }
            // Pick the best order of a side.
            25..=29 => {
                let side = if rand(2) == 0 { Side::Buy } else { Side::Sell };
                let target = book.orders(side).next().map(|r| r.seq);
                if let Some(target) = target {
                    if book.pick(target, 5, &owner, seq, 1).is_ok() {
                        picks += 1;
                    }
                }
            }
            // Place: around a mid of 50.00 yuan, ±0.50, so about a third cross.
            _ => {
                let side = if rand(2) == 0 { Side::Buy } else { Side::Sell };
                let price = 4_950 + rand(101) as i64;
                let quantity = 1 + rand(100) as i64;
                let m = book.submit(Incoming {
                    seq,
                    owner,
                    side,
                    price,
                    quantity,
                    tif: TimeInForce::Gtc,
                });
                fills += m.fills.len() as u64;
                placed += 1;
                if m.rests > 0 {
                    live.push(seq);
                }
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{ops} operations in {secs:.3} s: {:.0} operations/s ({placed} placed, {fills} fills, {picks} picks, {cancels} cancels; {} resting at the end)",
        ops as f64 / secs,
        book.len()
    );
}
