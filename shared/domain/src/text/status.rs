//! What a provider said about a text, in one vocabulary for every provider: each adapter maps
//! its own codes here (a table test per adapter covers every code it knows).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::TextChannel;

/// A text's state at the provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TextStatus {
    /// Taken in; not yet handed on.
    Accepted,
    /// Handed to the carrier or Kakao; the final report is to come (up to two days for a
    /// fallback text).
    InFlight,
    /// Delivered, by this channel: a fallback's report names SMS or LMS.
    Delivered { via: TextChannel },
    /// Not delivered. `permanent`: sending the same again cannot help; `block`: the recipient
    /// refuses this channel, which suppresses it for them.
    Failed {
        permanent: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        block: Option<Block>,
    },
    /// A code the adapter does not know: kept polling, then expired.
    Unknown,
    /// No final report came within `[texts.polls] expire_hours`: it may or may not have
    /// arrived (recorded by the reconciler, never by a provider).
    Expired,
}

impl TextStatus {
    /// Whether nothing more will be reported.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            TextStatus::Delivered { .. } | TextStatus::Failed { .. } | TextStatus::Expired
        )
    }
}

/// Why a recipient cannot be reached on a channel again: each suppresses that channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Block {
    /// The recipient opted out through the 080 number.
    OptOut,
    /// Blocked after a report to KISA (the spam authority).
    Reported,
    /// The carrier's or the provider's spam filter.
    Spam,
    /// Not a KakaoTalk user (or has blocked 알림톡): only a fallback text reaches them.
    NotKakaoUser,
}

impl Block {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One report on one text, from a provider's webhook or a poll.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextReport {
    /// Our send id (the intervention's), echoed back by the provider.
    pub send_id: String,
    /// The customer's id, echoed back where the provider has room for it (Solapi's
    /// `customFields`): what routes a webhook's report to the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// The provider's own message id.
    pub provider_id: String,
    /// The provider's code, as it sent it.
    pub code: String,
    #[serde(flatten)]
    pub status: TextStatus,
    /// When the provider processed or reported it.
    pub at: DateTime<Utc>,
    /// A 알림톡 that went out as its SMS/LMS fallback (대체발송): the report names the
    /// channel that delivered, this says it was not the one asked for.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fallback: bool,
}

/// What a final report leaves on the text's send record, for staff and the monthly counts:
/// the channel that delivered (or none), whether it was the fallback, the provider's code and
/// the price of that channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextNote {
    pub intervention_id: crate::InterventionId,
    /// `None`: not delivered (or expired, see `expired`).
    pub via: Option<TextChannel>,
    /// No final report came: it may or may not have arrived.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub expired: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fallback: bool,
    pub code: String,
    /// What the channel that delivered costs (`[texts.prices_krw]`); 0 when nothing was.
    pub cost_krw: i64,
    pub at: DateTime<Utc>,
}

/// What each text channel costs the business, in KRW per delivered message, VAT excluded
/// (`[texts.prices_krw]`; set them to the provider contract's). A 알림톡 that falls back is
/// billed as the SMS or LMS that delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TextPrices {
    pub alimtalk: i64,
    pub sms: i64,
    pub lms: i64,
}

impl Default for TextPrices {
    /// Hackle's standard list of 2026-01 (`reference/korean-channels.md` §8).
    fn default() -> Self {
        TextPrices {
            alimtalk: 10,
            sms: 12,
            lms: 39,
        }
    }
}

impl TextPrices {
    pub fn of(&self, channel: TextChannel) -> i64 {
        match channel {
            TextChannel::Alimtalk => self.alimtalk,
            TextChannel::Sms => self.sms,
            TextChannel::Lms => self.lms,
        }
    }
}

/// The text channels' rules (`[texts]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TextRules {
    pub prices_krw: TextPrices,
    /// When texts without a final report are polled, and when they expire.
    pub polls: super::PollRules,
}
