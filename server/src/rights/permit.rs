//! Discharge permit numbers (排污许可证编号): the holder's unified social
//! credit code (18 characters), a three-digit serial and a letter for the
//! kind of permit, 22 characters in all. Discharge rights are allocated
//! under one, and its code part must be the holder's own.

use crate::orgs::uscc::{self, UsccError};

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PermitError {
    #[error("must be 22 characters (a credit code, 3 digits and a letter), not {0}")]
    Length(usize),
    #[error("its first 18 characters are not a unified social credit code: {0}")]
    Code(#[from] UsccError),
    #[error("characters 19 to 21 must be digits (the permit's serial)")]
    Serial,
    #[error("its last character must be a letter, A to Z (the kind of permit)")]
    Category,
    #[error("its credit code {found} is not the holder's, {holder}")]
    NotTheHolders { found: String, holder: String },
}

/// The permit number in canonical form (trimmed, upper case) when it is
/// well formed and its credit code, check character included, is the
/// holder's.
pub fn discharge_permit(text: &str, holder_uscc: &str) -> Result<String, PermitError> {
    let number = text.trim().to_ascii_uppercase();
    let chars: Vec<char> = number.chars().collect();
    if chars.len() != 22 {
        return Err(PermitError::Length(chars.len()));
    }
    let code: String = chars[..18].iter().collect();
    let code = uscc::parse(&code)?;
    if !chars[18..21].iter().all(char::is_ascii_digit) {
        return Err(PermitError::Serial);
    }
    if !chars[21].is_ascii_uppercase() {
        return Err(PermitError::Category);
    }
    if code != holder_uscc.trim().to_ascii_uppercase() {
        return Err(PermitError::NotTheHolders {
            found: code,
            holder: holder_uscc.to_string(),
        });
    }
    Ok(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A published credit code (State Grid Corporation of China).
    const HOLDER: &str = "91110000710925243K";

    #[test]
    fn accepts_the_holders_permit_in_canonical_form() {
        assert_eq!(
            discharge_permit("91110000710925243K001P", HOLDER).as_deref(),
            Ok("91110000710925243K001P")
        );
        assert_eq!(
            discharge_permit(" 91110000710925243k002q ", HOLDER).as_deref(),
            Ok("91110000710925243K002Q")
        );
    }

    #[test]
    fn refuses_what_is_not_a_permit_of_the_holder() {
        assert_eq!(
            discharge_permit("91110000710925243K001", HOLDER),
            Err(PermitError::Length(21))
        );
        assert_eq!(
            discharge_permit("91110000710925243X001P", HOLDER),
            Err(PermitError::Code(UsccError::Check {
                expected: 'K',
                found: 'X'
            }))
        );
        assert_eq!(
            discharge_permit("91110000710925243K0A1P", HOLDER),
            Err(PermitError::Serial)
        );
        assert_eq!(
            discharge_permit("91110000710925243K0011", HOLDER),
            Err(PermitError::Category)
        );
        // Another holder's well-formed permit (Tencent's credit code).
        assert_eq!(
            discharge_permit("9144030071526726XG001P", HOLDER),
            Err(PermitError::NotTheHolders {
                found: "9144030071526726XG".into(),
                holder: HOLDER.into()
            })
        );
        // Non-ASCII never slices a character in two.
        assert_eq!(
            discharge_permit("91110000710925243K００1P", HOLDER),
            Err(PermitError::Serial)
        );
    }
}
