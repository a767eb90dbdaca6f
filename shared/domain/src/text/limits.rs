//! The carriers' and Kakao's limits, checked before a send: a text over them is refused by the
//! provider (Solapi 1xxx codes) or, worse, truncated (NHN's fallback), so it never leaves.

use encoding_rs::EUC_KR;
use thiserror::Error;

use super::TextChannel;

/// SMS: 90 bytes in EUC-KR (about 45 Hangul syllables).
pub const SMS_BYTES: usize = 90;
/// LMS: 2,000 bytes.
pub const LMS_BYTES: usize = 2_000;
/// An LMS subject: 40 bytes.
pub const SUBJECT_BYTES: usize = 40;
/// 알림톡: 1,000 characters.
pub const ALIMTALK_CHARS: usize = 1_000;
/// 알림톡 buttons: at most 5, each name at most 14 characters.
pub const BUTTONS: usize = 5;
pub const BUTTON_NAME_CHARS: usize = 14;

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum LimitError {
    #[error("the {what} cannot be written in EUC-KR (`{character}`), which carriers require")]
    NotEucKr { what: &'static str, character: char },
    #[error("the {what} is {length} {unit}, over the {limit} a {channel} allows")]
    TooLong {
        what: &'static str,
        channel: &'static str,
        length: usize,
        limit: usize,
        unit: &'static str,
    },
    #[error("a 알림톡 has {0} buttons; at most 5 are allowed")]
    TooManyButtons(usize),
    #[error("the text is empty")]
    Empty,
}

/// `text`'s length in EUC-KR bytes (Windows-949, as Korean carriers count), or the first
/// character it cannot hold (an emoji, most other scripts).
pub fn euc_kr_bytes(text: &str) -> Result<usize, char> {
    let mut encoder = EUC_KR.new_encoder();
    let mut out = vec![0u8; text.len() * 2 + 16];
    let (result, _read, written) =
        encoder.encode_from_utf8_without_replacement(text, &mut out, true);
    match result {
        encoding_rs::EncoderResult::InputEmpty => Ok(written),
        encoding_rs::EncoderResult::Unmappable(c) => Err(c),
        // the buffer holds twice the UTF-8 length, more than EUC-KR ever needs
        encoding_rs::EncoderResult::OutputFull => Ok(usize::MAX),
    }
}

fn bytes(what: &'static str, text: &str) -> Result<usize, LimitError> {
    euc_kr_bytes(text).map_err(|character| LimitError::NotEucKr { what, character })
}

/// SMS when the text fits in 90 bytes and there is no subject, else LMS.
pub fn text_channel_for(subject: Option<&str>, text: &str) -> Result<TextChannel, LimitError> {
    let length = bytes("text", text)?;
    Ok(if subject.is_none() && length <= SMS_BYTES {
        TextChannel::Sms
    } else {
        TextChannel::Lms
    })
}

/// A plain text's limits on its channel.
pub fn check_text(
    channel: TextChannel,
    subject: Option<&str>,
    text: &str,
) -> Result<(), LimitError> {
    if text.trim().is_empty() {
        return Err(LimitError::Empty);
    }
    let too_long = |what, length, limit| LimitError::TooLong {
        what,
        channel: channel.as_str(),
        length,
        limit,
        unit: "bytes",
    };
    let length = bytes("text", text)?;
    let limit = match channel {
        TextChannel::Sms => SMS_BYTES,
        TextChannel::Lms => LMS_BYTES,
        TextChannel::Alimtalk => return check_alimtalk(text, 0, &[]),
    };
    if length > limit {
        return Err(too_long("text", length, limit));
    }
    if let Some(subject) = subject {
        let length = bytes("subject", subject)?;
        if length > SUBJECT_BYTES {
            return Err(too_long("subject", length, SUBJECT_BYTES));
        }
    }
    Ok(())
}

/// A 알림톡's limits: 1,000 characters, at most 5 buttons of at most 14 characters.
pub fn check_alimtalk(text: &str, buttons: usize, names: &[&str]) -> Result<(), LimitError> {
    if text.trim().is_empty() {
        return Err(LimitError::Empty);
    }
    let chars = text.chars().count();
    if chars > ALIMTALK_CHARS {
        return Err(LimitError::TooLong {
            what: "text",
            channel: "alimtalk",
            length: chars,
            limit: ALIMTALK_CHARS,
            unit: "characters",
        });
    }
    if buttons > BUTTONS {
        return Err(LimitError::TooManyButtons(buttons));
    }
    for name in names {
        let chars = name.chars().count();
        if chars > BUTTON_NAME_CHARS {
            return Err(LimitError::TooLong {
                what: "button name",
                channel: "alimtalk",
                length: chars,
                limit: BUTTON_NAME_CHARS,
                unit: "characters",
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hangul_takes_two_bytes_and_ascii_one() {
        assert_eq!(euc_kr_bytes("abc"), Ok(3));
        assert_eq!(euc_kr_bytes("홍길동"), Ok(6));
        // outside KS X 1001's 2,350 syllables, Windows-949 still has it (two bytes)
        assert_eq!(euc_kr_bytes("똠"), Ok(2));
        assert_eq!(euc_kr_bytes("안녕 🙂"), Err('🙂'));
    }

    #[test]
    fn ninety_bytes_is_an_sms_and_ninety_one_an_lms() {
        let at_limit = "가".repeat(45);
        let over = format!("{at_limit}a");
        assert_eq!(text_channel_for(None, &at_limit), Ok(TextChannel::Sms));
        assert_eq!(text_channel_for(None, &over), Ok(TextChannel::Lms));
        assert_eq!(text_channel_for(Some("안내"), "a"), Ok(TextChannel::Lms));
        assert!(check_text(TextChannel::Sms, None, &at_limit).is_ok());
        assert!(matches!(
            check_text(TextChannel::Sms, None, &over),
            Err(LimitError::TooLong {
                length: 91,
                limit: 90,
                ..
            })
        ));
    }

    #[test]
    fn an_lms_holds_two_thousand_bytes_under_a_forty_byte_subject() {
        let body = "가".repeat(1_000);
        assert!(check_text(TextChannel::Lms, Some(&"나".repeat(20)), &body).is_ok());
        assert!(matches!(
            check_text(TextChannel::Lms, None, &format!("{body}!")),
            Err(LimitError::TooLong { length: 2_001, .. })
        ));
        assert!(matches!(
            check_text(TextChannel::Lms, Some(&"나".repeat(21)), "본문"),
            Err(LimitError::TooLong {
                what: "subject",
                length: 42,
                ..
            })
        ));
        assert_eq!(
            check_text(TextChannel::Lms, None, "🙂"),
            Err(LimitError::NotEucKr {
                what: "text",
                character: '🙂'
            })
        );
        assert_eq!(
            check_text(TextChannel::Sms, None, "  "),
            Err(LimitError::Empty)
        );
    }

    #[test]
    fn an_alimtalk_counts_characters_and_buttons() {
        assert!(check_alimtalk(&"가".repeat(1_000), 5, &["강의 이어보기"]).is_ok());
        assert!(check_alimtalk(&"가".repeat(1_001), 0, &[]).is_err());
        assert_eq!(
            check_alimtalk("안내", 6, &[]),
            Err(LimitError::TooManyButtons(6))
        );
        assert!(check_alimtalk("안내", 1, &["열다섯글자가넘는버튼이름입니다요"]).is_err());
        // emoji are fine in KakaoTalk
        assert!(check_alimtalk("안내 🙂", 0, &[]).is_ok());
    }

    proptest! {
        /// The channel chosen for a text always takes it.
        #[test]
        fn the_chosen_channel_takes_the_text(text in "[가-힣a-z0-9 ]{1,900}") {
            prop_assume!(!text.trim().is_empty());
            let channel = text_channel_for(None, &text).unwrap();
            prop_assert!(check_text(channel, None, &text).is_ok());
        }
    }
}
