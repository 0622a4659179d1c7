//! Decimal values on the wire: always JSON strings such as `"7.35"`, never
//! JSON numbers, because a binary float cannot carry `7.35` exactly and
//! credited grams must not depend on how a client printed a number.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{CalcError, CalcResult};

/// Longest decimal string accepted; 28 significant digits plus sign and point.
const MAX_DECIMAL_TEXT: usize = 40;

/// A decimal carried as a JSON string. Serialises normalised (`"576.24"`,
/// not `"576.240"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dec(pub Decimal);

impl From<Decimal> for Dec {
    fn from(value: Decimal) -> Self {
        Dec(value)
    }
}

impl fmt::Display for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.normalize(), f)
    }
}

impl Serialize for Dec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Parses the wire form; the error message is what the client sees.
/// Whole grams (or any integer amount) on the wire: a string of digits, as
/// every amount of the API is, so no JavaScript client loses precision
/// above 2^53. Use with `#[serde(serialize_with = "int_str")]`.
pub fn int_str<S: Serializer>(value: &i64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

pub fn parse_decimal(text: &str) -> Result<Decimal, String> {
    if text.is_empty() {
        return Err("expected a decimal string such as \"7.35\", got an empty string".into());
    }
    if text.len() > MAX_DECIMAL_TEXT {
        return Err(format!(
            "decimal string longer than {MAX_DECIMAL_TEXT} characters"
        ));
    }
    let plain = text
        .bytes()
        .enumerate()
        .all(|(i, b)| b.is_ascii_digit() || b == b'.' || (i == 0 && b == b'-'));
    if !plain || text.bytes().filter(|b| *b == b'.').count() > 1 {
        return Err(format!(
            "\"{text}\" is not a plain decimal (digits, one optional point, optional leading minus)"
        ));
    }
    Decimal::from_str_exact(text).map_err(|e| format!("\"{text}\" is not a decimal: {e}"))
}

struct DecVisitor;

impl Visitor<'_> for DecVisitor {
    type Value = Dec;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a decimal string such as \"7.35\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Dec, E> {
        parse_decimal(v).map(Dec).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dec, E> {
        Err(number_given(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dec, E> {
        Err(number_given(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dec, E> {
        Err(number_given(v))
    }
}

fn number_given<E: de::Error>(v: impl fmt::Display) -> E {
    E::custom(format!(
        "expected a decimal string such as \"{v}\", got a JSON number (numbers lose precision; quote it)"
    ))
}

impl<'de> Deserialize<'de> for Dec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Dec, D::Error> {
        deserializer.deserialize_any(DecVisitor)
    }
}

impl FromStr for Dec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_decimal(s).map(Dec)
    }
}

/// Credited grams: the exact value rounded half away from zero, the one
/// rounding rule for credits (DESIGN.md).
pub fn credited_grams(exact_g: Decimal, field: &str) -> CalcResult<i64> {
    use rust_decimal::prelude::ToPrimitive;
    exact_g
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
        .ok_or_else(|| CalcError::out_of_range(field, "result does not fit in 64-bit grams"))
}

/// Grams per tonne, for converting tonne results to credited grams.
pub const GRAMS_PER_TONNE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

/// Multiplication that reports overflow as an error on `field` instead of
/// panicking (rust_decimal's `*` panics on overflow).
pub fn mul(a: Decimal, b: Decimal, field: &str) -> CalcResult<Decimal> {
    a.checked_mul(b)
        .ok_or_else(|| CalcError::out_of_range(field, "value too large to compute with"))
}

/// Checks `min <= value <= max` (either bound optional) and names the field.
pub fn ensure_range(
    value: Decimal,
    min: Option<(Decimal, bool)>,
    max: Option<(Decimal, bool)>,
    field: &str,
) -> CalcResult<()> {
    if let Some((lo, inclusive)) = min {
        let ok = if inclusive { value >= lo } else { value > lo };
        if !ok {
            let op = if inclusive {
                "at least"
            } else {
                "greater than"
            };
            return Err(CalcError::out_of_range(
                field,
                format!("must be {op} {}, got {}", lo.normalize(), value.normalize()),
            ));
        }
    }
    if let Some((hi, inclusive)) = max {
        let ok = if inclusive { value <= hi } else { value < hi };
        if !ok {
            let op = if inclusive { "at most" } else { "less than" };
            return Err(CalcError::out_of_range(
                field,
                format!("must be {op} {}, got {}", hi.normalize(), value.normalize()),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_decimals_only() {
        assert_eq!(parse_decimal("7.35").unwrap(), Decimal::new(735, 2));
        assert_eq!(parse_decimal("-0.5").unwrap(), Decimal::new(-5, 1));
        for bad in ["", "1e5", "+1", " 1", "1.2.3", "0x10", "NaN", "1,5", "--1"] {
            assert!(parse_decimal(bad).is_err(), "{bad:?} accepted");
        }
        assert!(parse_decimal(&"9".repeat(41)).is_err());
        // 30 digits do not fit the 96-bit mantissa: an error, not a rounding.
        assert!(parse_decimal(&"9".repeat(30)).is_err());
    }

    #[test]
    fn rejects_json_numbers_with_a_hint() {
        let err = serde_json::from_str::<Dec>("7.35").unwrap_err().to_string();
        assert!(err.contains("quote it"), "{err}");
        assert_eq!(
            serde_json::from_str::<Dec>("\"7.35\"").unwrap().0,
            Decimal::new(735, 2)
        );
    }

    #[test]
    fn serialises_normalised() {
        let d = Dec(Decimal::new(576240, 3));
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"576.24\"");
        assert_eq!(
            serde_json::to_string(&Dec(Decimal::new(0, 3))).unwrap(),
            "\"0\""
        );
    }

    #[test]
    fn credited_rounds_half_away_from_zero() {
        let g = |s: &str| credited_grams(parse_decimal(s).unwrap(), "x").unwrap();
        assert_eq!(g("900.5"), 901);
        assert_eq!(g("900.49"), 900);
        assert_eq!(g("-900.5"), -901);
        assert_eq!(g("1.5"), 2);
        assert_eq!(g("2.5"), 3);
    }
}
