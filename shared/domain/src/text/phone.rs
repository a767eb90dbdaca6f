//! Phone numbers in one form, E.164 (`+821012345678`): what the profile keeps, whatever the app
//! or a payment provider sent (`010-1234-5678`, `+82 10 1234 5678`, `01012345678`).

use thiserror::Error;

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PhoneError {
    #[error(
        "`{0}` is not a phone number: only digits, spaces, dashes, dots, brackets and a leading +"
    )]
    Characters(String),
    #[error("`{0}` has {1} digits; a phone number in E.164 has 8 to 15")]
    Length(String, usize),
    #[error("`{0}` is a domestic number but no country is known for it")]
    NoCountry(String),
}

/// `raw` in E.164. A number without `+` is domestic to `country` (its calling code, `82`
/// for Korea): its trunk `0` is dropped.
pub fn e164(raw: &str, country: Option<&str>) -> Result<String, PhoneError> {
    let trimmed = raw.trim();
    let (international, rest) = match trimmed.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    if !rest
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'))
    {
        return Err(PhoneError::Characters(raw.to_string()));
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let number = if international {
        digits
    } else if let Some(international) = digits.strip_prefix("00") {
        international.to_string()
    } else {
        let country = country.ok_or_else(|| PhoneError::NoCountry(raw.to_string()))?;
        format!("{country}{}", digits.strip_prefix('0').unwrap_or(&digits))
    };
    if !(8..=15).contains(&number.len()) || number.starts_with('0') {
        return Err(PhoneError::Length(raw.to_string(), number.len()));
    }
    Ok(format!("+{number}"))
}

/// A Korean number as Korean providers take it (`01012345678`); any other stays in E.164.
pub fn domestic(e164: &str) -> String {
    match e164.strip_prefix("+82") {
        Some(rest) => format!("0{rest}"),
        None => e164.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn korean_numbers_in_every_usual_form_become_one() {
        for raw in [
            "010-1234-5678",
            "01012345678",
            "+82 10 1234 5678",
            "+82-10-1234-5678",
            "0082 10 1234 5678",
            " (010) 1234.5678 ",
        ] {
            assert_eq!(e164(raw, Some("82")), Ok("+821012345678".into()), "{raw}");
        }
        assert_eq!(domestic("+821012345678"), "01012345678");
        assert_eq!(domestic("+14155550100"), "+14155550100");
    }

    #[test]
    fn what_is_not_a_number_is_refused_with_the_reason() {
        assert!(matches!(
            e164("010-1234-567a", Some("82")),
            Err(PhoneError::Characters(_))
        ));
        assert!(matches!(
            e164("+82 10", None),
            Err(PhoneError::Length(_, 4))
        ));
        assert!(matches!(
            e164("01012345678", None),
            Err(PhoneError::NoCountry(_))
        ));
        assert!(matches!(
            e164("+8210123456789012", None),
            Err(PhoneError::Length(_, 16))
        ));
    }
}
