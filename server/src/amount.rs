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

#[cfg(test)]
mod tests {
    #[derive(Debug, serde::Deserialize)]
    struct T {
        #[serde(deserialize_with = "super::deserialize")]
        q: i64,
        #[serde(default, deserialize_with = "super::deserialize_option")]
        o: Option<i64>,
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
