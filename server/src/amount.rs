//! Amounts in requests: strings of integers in the asset's minor unit,
//! as every response gives them (`"1000"`), so no JavaScript client loses
//! precision above 2^53. A JSON integer is still taken (clients written
//! before requests took strings); anything else is refused.

use serde::de::{self, Deserializer, Visitor};

/// Grams of CO2e: what a trip is credited, a reduction record's size.
/// A type of its own where grams and points travel side by side, so the
/// two cannot be swapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grams(pub i64);

/// Points of a personal account (ledger asset `points`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Points(pub i64);

struct Amount;

impl Visitor<'_> for Amount {
    type Value = i64;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an integer amount as a string of digits, e.g. \"1000\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<i64, E> {
        let digits = text.strip_prefix('-').unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::invalid_value(de::Unexpected::Str(text), &self));
        }
        text.parse()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(text), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }
}

/// `#[serde(deserialize_with = "crate::amount::deserialize")]`
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(Amount)
}

/// For optional amounts (with `#[serde(default)]`).
pub fn deserialize_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct Maybe;
    impl<'de> Visitor<'de> for Maybe {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an integer amount as a string of digits, or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<i64>, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<i64>, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<i64>, D::Error> {
            deserialize(d).map(Some)
        }
    }
    d.deserialize_option(Maybe)
}

/// A quantity of an instrument's units in a request: a string of a
/// decimal number (`"10"`, `"0.25"` mu), or a JSON integer. Whether it is a
/// whole number of the instrument's steps is the market's check
/// ([`crate::market::money::Step::lots`]), which knows the instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Units(pub rust_decimal::Decimal);

/// As a request gave it, for the hashes that tell a replay from another
/// request: a whole number as a JSON integer (as quantities were before
/// they could have decimals), any other as its decimal text.
impl serde::Serialize for Units {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use rust_decimal::prelude::ToPrimitive;
        match self.0.fract().is_zero().then(|| self.0.to_i64()).flatten() {
            Some(whole) => s.serialize_i64(whole),
            None => s.serialize_str(&self.0.normalize().to_string()),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Units {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Units, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Units;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a quantity as a string of a decimal number, e.g. \"10\" or \"0.25\"")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Units, E> {
                let (whole, frac) = text.split_once('.').unwrap_or((text, "0"));
                let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
                if !digits(whole) || !digits(frac) || whole.len() > 15 || frac.len() > 8 {
                    return Err(E::invalid_value(de::Unexpected::Str(text), &self));
                }
                text.parse()
                    .map(Units)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(text), &self))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Units, E> {
                Ok(Units(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Units, E> {
                Ok(Units(v.into()))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    #[derive(Debug, serde::Deserialize)]
    struct T {
        #[serde(deserialize_with = "super::deserialize")]
        q: i64,
        #[serde(default, deserialize_with = "super::deserialize_option")]
        o: Option<i64>,
    }

    #[derive(Debug, serde::Deserialize)]
    struct U {
        q: super::Units,
    }

    #[test]
    fn units_are_decimal_strings_or_integers() {
        let q =
            |json: &str| serde_json::from_str::<U>(&format!(r#"{{"q":{json}}}"#)).map(|u| u.q.0);
        assert_eq!(q(r#""0.25""#).unwrap().to_string(), "0.25");
        assert_eq!(q(r#""10""#).unwrap().to_string(), "10");
        assert_eq!(q("10").unwrap().to_string(), "10");
        for bad in [
            r#""1e3""#, r#""-1""#, r#"".5""#, r#""1.""#, r#"" 1""#, "0.5", "true", r#""""#,
        ] {
            assert!(q(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn units_hash_as_requests_gave_them() {
        let text = |s: &str| serde_json::to_string(&super::Units(s.parse().unwrap())).unwrap();
        // Whole quantities as the integers they were before decimals.
        assert_eq!(text("100"), "100");
        assert_eq!(text("100.00"), "100");
        assert_eq!(text("0.25"), r#""0.25""#);
        assert_eq!(text("1.50"), r#""1.5""#);
    }

    fn parse(json: &str) -> Result<T, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn strings_of_digits_and_integers() {
        assert_eq!(parse(r#"{"q":"1000"}"#).unwrap().q, 1000);
        assert_eq!(parse(r#"{"q":1000}"#).unwrap().q, 1000);
        assert_eq!(parse(r#"{"q":"9223372036854775807"}"#).unwrap().q, i64::MAX);
        assert_eq!(parse(r#"{"q":"1","o":"5"}"#).unwrap().o, Some(5));
        assert_eq!(parse(r#"{"q":"1","o":null}"#).unwrap().o, None);
        assert_eq!(parse(r#"{"q":"1"}"#).unwrap().o, None);
        for bad in [
            r#""1.5""#,
            r#""1e3""#,
            r#""""#,
            r#"" 1""#,
            "1.5",
            r#""9223372036854775808""#,
            "true",
        ] {
            assert!(parse(&format!(r#"{{"q":{bad}}}"#)).is_err(), "{bad}");
        }
    }
}
