//! The server's clock. Services take `now` as an argument (so tests and
//! replays can choose it); the edges read it here.

pub type Timestamp = chrono::DateTime<chrono::FixedOffset>;

pub fn now() -> Timestamp {
    chrono::Utc::now().fixed_offset()
}
