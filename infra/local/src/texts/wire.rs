//! Solapi's wire format as the stand-in reads and writes it: the message types, the status
//! codes (`api-reference/message-status-codes.md`), the intake checks that put a message in
//! `failedMessageList`, and the ids.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

/// Accepted (`정상 접수`): the answer to every message that passed intake.
pub const ACCEPTED: &str = "2000";
/// Handed to the carrier or Kakao, waiting for the report.
pub const IN_FLIGHT: &str = "3000";
/// Received by the recipient, by 알림톡 or by SMS/LMS.
pub const DELIVERED: &str = "4000";
/// Not a KakaoTalk user.
pub const NOT_KAKAO_USER: &str = "3104";
/// No KakaoTalk use in 72 hours, or 알림톡 blocked.
pub const KAKAO_BLOCKED: &str = "3107";
/// Refused by the recipient (080 free opt-out), at intake.
pub const OPTED_OUT: &str = "1061";

/// Solapi's description of a status code, as its table words it.
pub fn status_message(code: &str) -> &'static str {
    match code {
        "1010" => "필수 입력 값 미입력",
        "1011" => "Format Error",
        "1013" => "제목은 문자 타입이 'SMS'일 경우 사용이 불가능합니다.",
        "1014" => "제목은 40byte까지 사용 가능합니다.",
        "1025" => "잘못된 메시지 타입",
        "1026" => "중복 수신번호",
        "1031" => {
            "SMS는 90byte LMS, MMS는 2000byte ATA, CTA는 한/영포함 1000자 CTI는 한/영포함 400자까지 사용 가능 합니다."
        }
        "1032" => "유효한 커스텀 필드 값이 아닙니다.",
        "1033" => "kakaoOptions은 메시지가 ATA 나 CTA인 경우에만 사용가능합니다.",
        "1041" => "유효한 플러스 친구 값이 아닙니다.",
        "1042" => "유효한 템플릿 아이디가 아닙니다.",
        "1050" => "버튼은 최대 5개까지 사용 가능합니다.",
        OPTED_OUT => "사용자에 의해 수신거부 됨(080무료수신거부)",
        ACCEPTED => "정상 접수(이통사로 접수 예정)",
        IN_FLIGHT => "이통사로 접수(리포트를 기다리는 중)",
        NOT_KAKAO_USER => "카카오톡 미사용자",
        KAKAO_BLOCKED => "72시간 이내 카카오톡 미사용자, 알림톡 차단한 사용자",
        DELIVERED => "수신 완료",
        _ => "",
    }
}

/// The message types the stand-in speaks (Solapi has more: MMS, CTA, CTI, RCS_*, BMS_* …).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// 알림톡
    Ata,
    Sms,
    Lms,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ata => "ATA",
            Kind::Sms => "SMS",
            Kind::Lms => "LMS",
        }
    }

    /// The text message a text of this length (and subject) goes as.
    pub fn for_text(text: &str, subject: Option<&str>) -> Kind {
        if subject.is_some_and(|s| !s.is_empty()) || text_bytes(text) > SMS_BYTES {
            Kind::Lms
        } else {
            Kind::Sms
        }
    }
}

/// An SMS's limit in EUC-KR bytes (about 45 Hangul).
pub const SMS_BYTES: usize = 90;
const LMS_BYTES: usize = 2000;
const SUBJECT_BYTES: usize = 40;
const ALIMTALK_CHARS: usize = 1000;
const BUTTONS: usize = 5;

/// A text's length as the carriers count it: ASCII one byte, anything else two (EUC-KR's
/// 완성형 한글; characters outside EUC-KR are counted as two as well, not refused).
pub fn text_bytes(text: &str) -> usize {
    text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// A phone number as the scripts know it: digits only, `+82 10…` read as `010…`.
pub fn domestic(number: &str) -> String {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    match digits.strip_prefix("82") {
        Some(rest) if number.trim_start().starts_with('+') => format!("0{rest}"),
        _ => digits,
    }
}

/// A message that passed intake.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    pub to: String,
    pub from: String,
    pub kind: Kind,
    pub text: Option<String>,
    pub subject: Option<String>,
    pub kakao_options: Option<Value>,
    pub custom_fields: BTreeMap<String, String>,
}

impl Checked {
    /// Whether a 알림톡 that cannot be delivered goes out as SMS/LMS instead: unless
    /// `kakaoOptions.disableSms`, when there is a text to send.
    pub fn fallback_allowed(&self) -> bool {
        let disabled = self
            .kakao_options
            .as_ref()
            .and_then(|k| k["disableSms"].as_bool())
            .unwrap_or(false);
        !disabled && self.text.as_deref().is_some_and(|t| !t.is_empty())
    }

    /// The fallback's type: LMS when the text is over 90 bytes or has a subject.
    pub fn fallback_kind(&self) -> Kind {
        Kind::for_text(
            self.text.as_deref().unwrap_or_default(),
            self.subject.as_deref(),
        )
    }
}

/// What intake refused and what the message said, for `failedMessageList`.
#[derive(Clone, Debug, PartialEq)]
pub struct Refused {
    pub code: &'static str,
    pub to: String,
    pub from: String,
    pub kind: String,
    pub custom_fields: BTreeMap<String, String>,
}

/// Solapi's intake checks, the ones the stand-in makes (the rest of the table is the real
/// platform's: templates, sender numbers, balance …).
pub fn intake(message: &Value) -> Result<Checked, Refused> {
    let field = |name: &str| {
        message[name]
            .as_str()
            .map(str::to_string)
            .filter(|s| !s.is_empty())
    };
    let (to, from) = (field("to"), field("from"));
    let (text, subject) = (field("text"), field("subject"));
    let kakao_options = message
        .get("kakaoOptions")
        .filter(|k| !k.is_null())
        .cloned();
    let custom = custom_fields(message);
    let requested = field("type").map(|t| t.to_ascii_uppercase());
    let refuse = |code: &'static str, custom_fields: BTreeMap<String, String>| Refused {
        code,
        to: to.clone().unwrap_or_default(),
        from: from.clone().unwrap_or_default(),
        kind: requested.clone().unwrap_or_default(),
        custom_fields,
    };
    let Ok(custom_fields) = custom else {
        return Err(refuse("1032", BTreeMap::new()));
    };
    let kind = match requested.as_deref() {
        Some("ATA") => Kind::Ata,
        Some("SMS") => Kind::Sms,
        Some("LMS") => Kind::Lms,
        Some(_) => return Err(refuse("1025", custom_fields)),
        // autoTypeDetect
        None if kakao_options.is_some() => Kind::Ata,
        None => Kind::for_text(text.as_deref().unwrap_or_default(), subject.as_deref()),
    };
    let (Some(to), Some(from)) = (to.clone(), from.clone()) else {
        return Err(refuse("1010", custom_fields));
    };
    let subject_bytes = subject.as_deref().map(text_bytes).unwrap_or_default();
    let code = match kind {
        Kind::Ata => {
            let option = |name: &str| {
                kakao_options
                    .as_ref()
                    .and_then(|k| k[name].as_str())
                    .is_some_and(|v| !v.is_empty())
            };
            let buttons = kakao_options
                .as_ref()
                .and_then(|k| k["buttons"].as_array())
                .map(Vec::len)
                .unwrap_or_default();
            if !option("pfId") {
                Some("1041")
            } else if !option("templateId") {
                Some("1042")
            } else if buttons > BUTTONS {
                Some("1050")
            } else if text
                .as_deref()
                .is_some_and(|t| t.chars().count() > ALIMTALK_CHARS)
            {
                Some("1031")
            } else {
                None
            }
        }
        Kind::Sms | Kind::Lms => {
            let limit = if kind == Kind::Sms {
                SMS_BYTES
            } else {
                LMS_BYTES
            };
            match text.as_deref().map(text_bytes) {
                _ if kakao_options.is_some() => Some("1033"),
                None => Some("1010"),
                _ if kind == Kind::Sms && subject.is_some() => Some("1013"),
                _ if subject_bytes > SUBJECT_BYTES => Some("1014"),
                Some(bytes) if bytes > limit => Some("1031"),
                Some(_) => None,
            }
        }
    };
    if let Some(code) = code {
        return Err(refuse(code, custom_fields));
    }
    Ok(Checked {
        to,
        from,
        kind,
        text,
        subject,
        kakao_options,
        custom_fields,
    })
}

/// `customFields`: string values only, names up to 30 characters, values up to 100.
fn custom_fields(message: &Value) -> Result<BTreeMap<String, String>, ()> {
    let Some(fields) = message.get("customFields").filter(|f| !f.is_null()) else {
        return Ok(BTreeMap::new());
    };
    let fields = fields.as_object().ok_or(())?;
    fields
        .iter()
        .map(|(name, value)| match value.as_str() {
            Some(v) if name.chars().count() <= 30 && v.chars().count() <= 100 => {
                Ok((name.clone(), v.to_string()))
            }
            _ => Err(()),
        })
        .collect()
}

/// A message or group id in Solapi's shape: `M4V` / `G4V`, the time to the second, and 15
/// random capitals and digits (32 characters, like `M4V20180307110044DTYYJBBYLPQZIB1`).
pub fn new_id(prefix: char, now: DateTime<Utc>) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let tail: String = (0..15)
        .map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())]))
        .collect();
    format!("{prefix}4V{}{tail}", now.format("%Y%m%d%H%M%S"))
}

/// A report event's id (Solapi's shape is not published: 24 hex digits here).
pub fn new_event_id() -> String {
    (0..24)
        .map(|_| char::from(b"0123456789abcdef"[fastrand::usize(..16)]))
        .collect()
}

/// Solapi's time stamps: ISO 8601 in UTC with milliseconds.
pub fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}
