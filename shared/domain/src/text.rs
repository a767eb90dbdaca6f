//! Text messages to a customer's phone: KakaoTalk 알림톡 and SMS/LMS (`docs/messages.md`).
//! What each channel may carry, checked before anything is sent; a phone number in one form;
//! and what a provider's status code means, the same for every provider.

pub mod counts;
pub mod limits;
pub mod phone;
pub mod poll;
pub mod status;

use serde::{Deserialize, Serialize};

pub use counts::{TextMonth, text_months};
pub use limits::{LimitError, check_alimtalk, check_text, euc_kr_bytes, text_channel_for};
pub use phone::{PhoneError, domestic, e164};
pub use poll::PollRules;
pub use status::{Block, TextNote, TextPrices, TextReport, TextRules, TextStatus};

/// The channel a text went, or was meant to go, by.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TextChannel {
    /// KakaoTalk 알림톡: informational only, from a Kakao-approved template.
    Alimtalk,
    /// A short text: at most 90 bytes in EUC-KR.
    Sms,
    /// A long text: at most 2,000 bytes, with a subject of at most 40.
    Lms,
}

impl TextChannel {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}
