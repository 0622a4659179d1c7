//! What the ledger counts. Each asset has its own minor unit: `points` are
//! whole points, `cash:CNY` is fen, credit batches (`credit:<batch id>`,
//! with the registry) are grams CO2e.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Asset(String);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown asset {0:?}: expected points, cash:<ISO 4217 code> or credit:<batch id>")]
pub struct UnknownAsset(pub String);

impl Asset {
    pub fn points() -> Asset {
        Asset("points".into())
    }

    pub fn cny() -> Asset {
        Asset("cash:CNY".into())
    }

    pub fn parse(text: &str) -> Result<Asset, UnknownAsset> {
        let ok = match text.split_once(':') {
            None => text == "points",
            Some(("cash", code)) => code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()),
            Some(("credit", batch)) => {
                (1..=50).contains(&batch.len())
                    && batch
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            }
            Some(_) => false,
        };
        if ok {
            Ok(Asset(text.to_string()))
        } else {
            Err(UnknownAsset(text.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for Asset {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_assets_only() {
        for good in ["points", "cash:CNY", "credit:TPH-P1-2026-001"] {
            assert_eq!(Asset::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "Points",
            "cash:cny",
            "cash:RMB1",
            "credit:",
            "credit:a b",
            "gold",
        ] {
            assert!(Asset::parse(bad).is_err(), "{bad}");
        }
    }
}
