//! Unified social credit codes (统一社会信用代码, GB 32100-2015): 18
//! characters from a 31-character alphabet, the last a check character over
//! the first 17 (weights and formula in ../shared/REFERENCE.md).

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    #[error("must be 18 characters, not {0}")]
    Length(usize),
    #[error("character {position} ({found:?}) is not one of 0-9 A-H J-N P-R T-U W-Y")]
    Character { position: usize, found: char },
    #[error("check character should be {expected}, not {found}")]
    Check { expected: char, found: char },
}

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|v| v as u32)
}

fn check_character(values: &[u32]) -> char {
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    ALPHABET[((31 - sum % 31) % 31) as usize] as char
}

/// The code in canonical form (trimmed, upper case) if it is well formed and
/// its check character is right.
pub fn parse(text: &str) -> Result<String, UsccError> {
    let code = text.trim().to_ascii_uppercase();
    let chars: Vec<char> = code.chars().collect();
    if chars.len() != 18 {
        return Err(UsccError::Length(chars.len()));
    }
    let mut values = Vec::with_capacity(18);
    for (i, c) in chars.iter().enumerate() {
        let v = u8::try_from(*c).ok().and_then(value);
        values.push(v.ok_or(UsccError::Character {
            position: i + 1,
            found: *c,
        })?);
    }
    let expected = check_character(&values[..17]);
    if chars[17] != expected {
        return Err(UsccError::Check {
            expected,
            found: chars[17],
        });
    }
    Ok(code)
}

/// The 17 characters followed by their check character (for test data and
/// tools); `None` if they are not 17 characters of the alphabet.
pub fn with_check_character(first17: &str) -> Option<String> {
    let values: Option<Vec<u32>> = first17.bytes().map(value).collect();
    let values = values.filter(|v| v.len() == 17)?;
    Some(format!("{first17}{}", check_character(&values)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes published by their holders (State Grid Corporation of China,
    /// Shenzhen Tencent Computer Systems).
    #[test]
    fn accepts_real_codes() {
        for code in ["91110000710925243K", "9144030071526726XG"] {
            assert_eq!(parse(code).as_deref(), Ok(code), "{code}");
        }
        assert_eq!(
            parse(" 91110000710925243k ").as_deref(),
            Ok("91110000710925243K")
        );
    }

    #[test]
    fn refuses_bad_codes() {
        assert_eq!(parse("9111000071092524"), Err(UsccError::Length(16)));
        assert!(matches!(
            parse("91110000710925243I"),
            Err(UsccError::Character { position: 18, .. })
        ));
        assert!(matches!(
            parse("9111000071092524ZK"),
            Err(UsccError::Character { position: 17, .. })
        ));
        assert_eq!(
            parse("91110000710925243X"),
            Err(UsccError::Check {
                expected: 'K',
                found: 'X'
            })
        );
    }

    /// Every single-character change of a valid code is caught.
    #[test]
    fn every_substitution_is_caught() {
        let good = b"91110000710925243K";
        for i in 0..18 {
            for &c in ALPHABET {
                if c == good[i] {
                    continue;
                }
                let mut bad = *good;
                bad[i] = c;
                let text = std::str::from_utf8(&bad).unwrap();
                assert!(parse(text).is_err(), "{text}");
            }
        }
    }
}
