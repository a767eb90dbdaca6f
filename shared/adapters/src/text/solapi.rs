//! Solapi (ex-CoolSMS): 알림톡 (`ATA`) with Solapi's own SMS/LMS fallback, and plain SMS/LMS,
//! through `POST /messages/v4/send-many/detail`, one message per request; its reports from the
//! single-report webhook or `GET /messages/v4/list` (docs: `reference/korean-channels.md`).
//!
//! Every request carries a fresh `Authorization` (a new date and salt): Solapi refuses a
//! signature it has seen within 15 minutes (403 `DuplicatedSignature`). Solapi has no
//! idempotency key, so nothing here repeats a POST; our send id rides along in
//! `customFields.send_id` and comes back on every report.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use journey::domain::text::{Block, TextChannel, TextReport, TextStatus, domestic};
use journey::ports::{OutgoingText, TextContent, TextError, TextProvider};

use super::{ReportError, client, first_time, refusal, retry_after, unanswered, unread};

pub const DEFAULT_BASE_URL: &str = "https://api.solapi.com";
const SEND_PATH: &str = "/messages/v4/send-many/detail";
/// How far a signed date may be from the server's clock (Solapi: 403 `RequestTimeTooSkewed`).
const SKEW_MINUTES: i64 = 15;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone, Debug)]
pub struct SolapiProvider {
    http: reqwest::Client,
    api_key: String,
    api_secret: String,
    base_url: String,
}

impl SolapiProvider {
    /// Against `https://api.solapi.com`; `timeout` stays below the function's own.
    pub fn new(
        api_key: impl Into<String>,
        api_secret: impl Into<String>,
        timeout: Duration,
    ) -> Result<Self, String> {
        Ok(SolapiProvider {
            http: client(timeout)?,
            api_key: api_key.into(),
            api_secret: api_secret.into(),
            base_url: DEFAULT_BASE_URL.to_string(),
        })
    }

    /// Another host: the local stand-in.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into().trim_end_matches('/').to_string();
        self
    }

    /// A header for one request: now, and a salt never used before.
    fn fresh_authorization(&self) -> String {
        let date = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        authorization(&self.api_key, &self.api_secret, &date, &salt())
    }
}

/// 32 random letters and digits, as Solapi's SDKs make them.
fn salt() -> String {
    (0..32).map(|_| fastrand::alphanumeric()).collect()
}

fn mac(secret: &str, date: &str, salt: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    mac.update(date.as_bytes());
    mac.update(salt.as_bytes());
    mac
}

/// `HMAC-SHA256 apiKey=…, date=…, salt=…, signature=hex(HMAC-SHA256(secret, date + salt))`.
pub fn authorization(api_key: &str, api_secret: &str, date: &str, salt: &str) -> String {
    let signature = hex::encode(mac(api_secret, date, salt).finalize().into_bytes());
    format!("HMAC-SHA256 apiKey={api_key}, date={date}, salt={salt}, signature={signature}")
}

/// Checks an `Authorization` as Solapi does (for a local stand-in): field names in any case
/// (the Python SDK writes `ApiKey=`), our key, a date within 15 minutes of `now`, and the
/// signature, compared in constant time.
pub fn verify_authorization(
    header: &str,
    api_key: &str,
    api_secret: &str,
    now: DateTime<Utc>,
) -> Result<(), &'static str> {
    let fields = header_fields(header)?;
    let field = |name: &str| fields.get(name).copied().ok_or("a field is missing");
    let (key, date, salt) = (field("apikey")?, field("date")?, field("salt")?);
    let signature = hex::decode(field("signature")?).map_err(|_| "the signature is not hex")?;
    if !bool::from(key.as_bytes().ct_eq(api_key.as_bytes())) {
        return Err("unknown API key");
    }
    if !(12..=64).contains(&salt.len()) {
        return Err("the salt must be 12 to 64 characters");
    }
    let signed = DateTime::parse_from_rfc3339(date).map_err(|_| "the date is not RFC 3339")?;
    if (now - signed.with_timezone(&Utc)).abs() > TimeDelta::minutes(SKEW_MINUTES) {
        return Err("the date is more than 15 minutes from now");
    }
    mac(api_secret, date, salt)
        .verify_slice(&signature)
        .map_err(|_| "the signature does not match")
}

/// The header's `name=value` fields, names in lower case.
fn header_fields(header: &str) -> Result<BTreeMap<String, &str>, &'static str> {
    let header = header.trim();
    let scheme = "HMAC-SHA256 ";
    let rest = header
        .get(..scheme.len())
        .filter(|s| s.eq_ignore_ascii_case(scheme))
        .and_then(|_| header.get(scheme.len()..))
        .ok_or("not an HMAC-SHA256 authorization")?;
    rest.split(',')
        .map(|part| {
            let (name, value) = part.split_once('=').ok_or("a field without `=`")?;
            Ok((name.trim().to_ascii_lowercase(), value.trim()))
        })
        .collect()
}

/// The body of `POST /messages/v4/send-many/detail` for one text. `showMessageList` asks for
/// the message's id in the answer (without it only the group's comes back).
pub fn request_body(text: &OutgoingText) -> Value {
    let mut message = json!({
        "to": domestic(&text.to),
        "from": domestic(&text.from),
        "customFields": custom_fields(text),
    });
    match &text.content {
        TextContent::Alimtalk {
            profile,
            template_code,
            variables,
            buttons,
            fallback,
            ..
        } => {
            let variables: BTreeMap<String, &String> = variables
                .iter()
                .map(|(name, value)| (format!("#{{{name}}}"), value))
                .collect();
            let mut kakao = json!({
                "pfId": profile,
                "templateId": template_code,
                "variables": variables,
                "disableSms": fallback.is_none(),
            });
            if !buttons.is_empty() {
                kakao["buttons"] = buttons
                    .iter()
                    .map(|b| json!({"buttonName": b.name, "buttonType": "WL", "linkMo": b.url, "linkPc": b.url}))
                    .collect();
            }
            message["type"] = json!("ATA");
            message["kakaoOptions"] = kakao;
            // the fallback's words: Solapi sends them as SMS or LMS by their length
            if let Some(fallback) = fallback {
                message["text"] = json!(fallback.text);
                if let Some(subject) = &fallback.subject {
                    message["subject"] = json!(subject);
                }
            }
        }
        TextContent::Sms { text } => {
            message["type"] = json!("SMS");
            message["text"] = json!(text);
        }
        TextContent::Lms { subject, text } => {
            message["type"] = json!("LMS");
            message["subject"] = json!(subject);
            message["text"] = json!(text);
        }
    }
    json!({"messages": [message], "showMessageList": true})
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendAnswer {
    #[serde(default)]
    failed_message_list: Vec<Listed>,
    message_list: Option<Vec<Listed>>,
    group_info: Option<GroupInfo>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Listed {
    message_id: Option<String>,
    status_code: Option<String>,
    status_message: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupInfo {
    group_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorAnswer {
    error_code: Option<String>,
    error_message: Option<String>,
}

/// Solapi's answer to a send → the message id, or why it was not taken. A 200 can still refuse
/// the message (`failedMessageList`: not registered, never sent); a 403 for a replayed or
/// skewed signature goes away with a fresh one; a 200 we cannot read was taken, id unknown.
pub fn answer(status: u16, retry_after: Option<&str>, body: &str) -> Result<String, TextError> {
    if (200..300).contains(&status) {
        return accepted(body);
    }
    Err(refused(status, retry_after, body))
}

fn accepted(body: &str) -> Result<String, TextError> {
    let Ok(answer) = serde_json::from_str::<SendAnswer>(body) else {
        return Err(TextError::Unknown(format!(
            "unreadable success answer: {body}"
        )));
    };
    if let Some(failed) = answer.failed_message_list.first() {
        return Err(not_taken(failed));
    }
    if let Some(listed) = answer.message_list.as_deref().and_then(<[_]>::first) {
        let code = listed.status_code.as_deref().unwrap_or_default();
        if matches!(status(code, None), TextStatus::Failed { .. }) {
            return Err(not_taken(listed));
        }
        if let Some(id) = &listed.message_id {
            return Ok(id.clone());
        }
    }
    // no message list: the group's id, which the list API also takes
    answer
        .group_info
        .and_then(|g| g.group_id)
        .ok_or_else(|| TextError::Unknown(format!("taken, but no message or group id: {body}")))
}

/// A message Solapi did not register: retryable codes (its server error, the balance) are
/// transient, the others final with the block they mean.
fn not_taken(listed: &Listed) -> TextError {
    let code = listed.status_code.clone().unwrap_or_default();
    let reason = listed.status_message.clone().unwrap_or_default();
    match status(&code, listed.kind.as_deref()) {
        TextStatus::Failed {
            permanent: false, ..
        } => TextError::Transient(format!("{code}: {reason}")),
        TextStatus::Failed { block, .. } => TextError::Rejected {
            code,
            reason,
            block,
        },
        _ => TextError::Rejected {
            code,
            reason,
            block: None,
        },
    }
}

/// An error status: `{errorCode, errorMessage}`. 401/403 for the key or the signature
/// (`InvalidAPIKey`, `SignatureDoesNotMatch`) and other 4xx need an operator.
fn refused(status: u16, retry_after: Option<&str>, body: &str) -> TextError {
    let error: ErrorAnswer = serde_json::from_str(body).unwrap_or_default();
    let code = error.error_code.unwrap_or_else(|| status.to_string());
    let reason = error.error_message.unwrap_or_else(|| body.to_string());
    if matches!(
        code.as_str(),
        "DuplicatedSignature" | "RequestTimeTooSkewed"
    ) {
        return TextError::Transient(format!("{status} {code}: {reason}"));
    }
    refusal(status, retry_after, code, reason)
}

/// Solapi's four-digit status code → our status; `message_type` (`ATA`, `SMS`, `LMS`, `MMS`)
/// says how a delivered message went (a fallback's report names SMS or LMS).
///
/// Not final: 2000 (accepted), 2100 (scheduled), 3000 (with the carrier or Kakao). Failed and
/// worth sending again: Solapi's server errors (1024, 2024, 3024), its partner's (3012), a
/// phone off, busy or out of reach (3031, 3040–3046, 3051–3053, 3056, 3057), outside the
/// sending hours (3108), and no balance (1030, 2230: a top-up fixes it; the sender's retry
/// budget decides how long to wait for one). Every other documented failure is permanent;
/// opt-outs, KISA reports, spam filters and non-Kakao users say so in their block.
/// 1xxx not listed: an intake error, permanent. 3014 ("unknown state"), 3048 ("unknown code")
/// and anything else: `Unknown`, kept polling.
pub fn status(code: &str, message_type: Option<&str>) -> TextStatus {
    let failed = |permanent, block| TextStatus::Failed { permanent, block };
    match code {
        "2000" | "2100" => TextStatus::Accepted,
        "3000" => TextStatus::InFlight,
        "4000" => match delivered_via(message_type) {
            Some(via) => TextStatus::Delivered { via },
            None => TextStatus::Unknown,
        },
        "1061" | "2061" => failed(true, Some(Block::OptOut)),
        "1064" | "2064" => failed(true, Some(Block::Reported)),
        "2254" | "3054" | "3055" => failed(true, Some(Block::Spam)),
        "3104" | "3107" => failed(true, Some(Block::NotKakaoUser)),
        "1024" | "1030" | "2024" | "2230" | "3012" | "3024" | "3031" | "3040" | "3041" | "3042"
        | "3043" | "3044" | "3045" | "3046" | "3051" | "3052" | "3053" | "3056" | "3057"
        | "3108" => failed(false, None),
        "2011" | "2060" | "2062" | "2063" | "3010" | "3011" | "3013" | "3032" | "3047" | "3050"
        | "3058" | "3059" | "3060" | "3101" | "3102" | "3103" | "3105" | "3106" => {
            failed(true, None)
        }
        _ if code.len() == 4 && code.starts_with('1') && code.parse::<u16>().is_ok() => {
            failed(true, None)
        }
        _ => TextStatus::Unknown,
    }
}

fn delivered_via(message_type: Option<&str>) -> Option<TextChannel> {
    match message_type?.to_ascii_uppercase().as_str() {
        "ATA" => Some(TextChannel::Alimtalk),
        "SMS" => Some(TextChannel::Sms),
        "LMS" | "MMS" => Some(TextChannel::Lms),
        _ => None,
    }
}

/// One message as Solapi reports it: a webhook's `data`, or an entry of the list API.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    message_id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    status_code: Option<String>,
    custom_fields: Option<BTreeMap<String, Value>>,
    /// The 알림톡's options, still on a message that went out as its SMS/LMS fallback.
    kakao_options: Option<Value>,
    date_reported: Option<String>,
    date_processed: Option<String>,
    date_received: Option<String>,
    date_updated: Option<String>,
    date_created: Option<String>,
}

impl Stored {
    fn send_id(&self) -> Option<&str> {
        self.custom_fields.as_ref()?.get("send_id")?.as_str()
    }

    fn customer_id(&self) -> Option<String> {
        let id = self.custom_fields.as_ref()?.get("customer_id")?.as_str()?;
        Some(id.to_string())
    }

    /// When Solapi last learned something of it: reported, processed, received, updated.
    fn at(&self) -> Option<DateTime<Utc>> {
        first_time([
            self.date_reported.as_deref(),
            self.date_processed.as_deref(),
            self.date_received.as_deref(),
            self.date_updated.as_deref(),
            self.date_created.as_deref(),
        ])
    }

    fn report(&self, send_id: &str, provider_id: &str, at: DateTime<Utc>) -> TextReport {
        let code = self.status_code.clone().unwrap_or_default();
        let status = status(&code, self.kind.as_deref());
        TextReport {
            customer_id: self.customer_id(),
            send_id: send_id.to_string(),
            provider_id: self.message_id.clone().unwrap_or(provider_id.to_string()),
            fallback: self.fell_back(&status),
            status,
            code,
            at,
        }
    }

    /// Asked for as a 알림톡 (its `kakaoOptions` name a channel) and delivered as a text.
    fn fell_back(&self, status: &TextStatus) -> bool {
        let asked_kakao = self
            .kakao_options
            .as_ref()
            .and_then(|o| o.get("pfId"))
            .and_then(Value::as_str)
            .is_some_and(|id| !id.is_empty());
        asked_kakao
            && matches!(status, TextStatus::Delivered { via } if *via != TextChannel::Alimtalk)
    }
}

#[derive(Debug, Deserialize)]
struct Hook {
    data: Stored,
}

/// Our send id, and the customer's where it fits Solapi's 100 characters a value: both come
/// back on every report (a customer's id routes the report to them).
fn custom_fields(text: &OutgoingText) -> Value {
    let mut fields = json!({"send_id": text.send_id});
    if text.customer_id.chars().count() <= CUSTOM_FIELD_CHARS {
        fields["customer_id"] = json!(text.customer_id);
    }
    fields
}

/// Solapi's limit on a `customFields` value.
const CUSTOM_FIELD_CHARS: usize = 100;

/// Solapi's single-report webhook: a JSON array of `{eventDataId, data: {…}, retryCount}`.
/// An element without our `customFields.send_id` is another sender's (skipped); a body that is
/// not such an array, or a report of ours without a status or a date, is an error.
pub fn reports(body: &[u8]) -> Result<Vec<Result<TextReport, ReportError>>, ReportError> {
    let hooks: Vec<Value> =
        serde_json::from_slice(body).map_err(|e| ReportError::Malformed(e.to_string()))?;
    Ok(hooks.into_iter().filter_map(report_of).collect())
}

/// One element of the array: `None` if it is not ours (no send id, or not a report at all).
fn report_of(hook: Value) -> Option<Result<TextReport, ReportError>> {
    let hook: Hook = serde_json::from_value(hook).ok()?;
    let data = &hook.data;
    let send_id = data.send_id()?;
    let id = data.message_id.clone().unwrap_or_default();
    if data.status_code.is_none() {
        let reason = format!("report on {id} has no statusCode");
        return Some(Err(ReportError::Malformed(reason)));
    }
    Some(match data.at() {
        Some(at) => Ok(data.report(send_id, "", at)),
        None => Err(ReportError::NoDate(id)),
    })
}

/// The list API's query for a message id (`M4V…`) or, when the send's answer named only its
/// group, a group id (`G4V…`). Solapi's ids are letters and digits: anything else is not one.
pub fn list_path(provider_id: &str) -> Result<String, TextError> {
    if provider_id.is_empty() || !provider_id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(TextError::Rejected {
            code: "bad_id".into(),
            reason: format!("`{provider_id}` is not a Solapi message or group id"),
            block: None,
        });
    }
    let key = if provider_id.starts_with("G4V") {
        "groupId"
    } else {
        "messageId"
    };
    Ok(format!("/messages/v4/list?{key}={provider_id}"))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListAnswer {
    #[serde(default)]
    message_list: BTreeMap<String, Stored>,
}

/// The list API's answer → the report on our message (`None`: Solapi has none).
fn listed(body: &str, send_id: &str, provider_id: &str) -> Result<Option<TextReport>, TextError> {
    let answer: ListAnswer = serde_json::from_str(body)
        .map_err(|e| TextError::Transient(format!("unreadable list answer: {e}")))?;
    Ok(answer.message_list.values().next().map(|stored| {
        // a message not yet processed has no date but its creation; failing that, now
        let at = stored.at().unwrap_or_else(Utc::now);
        stored.report(stored.send_id().unwrap_or(send_id), provider_id, at)
    }))
}

impl TextProvider for SolapiProvider {
    async fn send(&self, text: &OutgoingText) -> Result<String, TextError> {
        let response = self
            .http
            .post(format!("{}{SEND_PATH}", self.base_url))
            .header("authorization", self.fresh_authorization())
            .json(&request_body(text))
            .send()
            .await
            .map_err(unanswered)?;
        let status = response.status().as_u16();
        let retry_after = retry_after(&response);
        // a body lost after the status: a success stays unknown, a refusal stays a refusal
        let body = response.text().await.unwrap_or_default();
        answer(status, retry_after.as_deref(), &body)
    }

    async fn poll(
        &self,
        send_id: &str,
        provider_id: &str,
    ) -> Result<Option<TextReport>, TextError> {
        let response = self
            .http
            .get(format!("{}{}", self.base_url, list_path(provider_id)?))
            .header("authorization", self.fresh_authorization())
            .send()
            .await
            .map_err(unread)?;
        let status = response.status().as_u16();
        let retry_after = retry_after(&response);
        let body = response.text().await.map_err(unread)?;
        if status != 200 {
            return Err(refused(status, retry_after.as_deref(), &body));
        }
        listed(&body, send_id, provider_id)
    }
}

#[cfg(test)]
mod tests {
    use super::super::stand_in::{self, Reply};
    use super::*;
    use journey::ports::{Fallback, TextButton};

    const VECTOR: &str = "HMAC-SHA256 apiKey=testKey, date=2025-09-14T12:34:56Z, salt=Abc123XYZ789abcdEFGHijklMNOPqr, signature=69607016f2059c0bcb97954551ec3a03323ada290e6c98ed1d15b0f34d51b1a1";

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn authorization_matches_the_reference_vector() {
        let header = authorization(
            "testKey",
            "testSecret",
            "2025-09-14T12:34:56Z",
            "Abc123XYZ789abcdEFGHijklMNOPqr",
        );
        assert_eq!(header, VECTOR);
    }

    #[test]
    fn every_request_is_signed_afresh() {
        let provider = SolapiProvider::new("k", "s", Duration::from_secs(1)).unwrap();
        let (first, second) = (
            provider.fresh_authorization(),
            provider.fresh_authorization(),
        );
        assert_ne!(first, second);
        let fields = header_fields(&first).unwrap();
        let salt = fields["salt"];
        assert_eq!(salt.len(), 32);
        assert!(salt.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(fields["date"].ends_with('Z'));
        assert_eq!(verify_authorization(&first, "k", "s", Utc::now()), Ok(()));
    }

    #[test]
    fn the_stand_in_accepts_only_a_fresh_signature_of_our_key() {
        let now = at("2025-09-14T12:40:00Z");
        assert_eq!(
            verify_authorization(VECTOR, "testKey", "testSecret", now),
            Ok(())
        );
        let python_style = VECTOR
            .replace("apiKey=", "ApiKey=")
            .replace("date=", "Date=");
        assert_eq!(
            verify_authorization(&python_style, "testKey", "testSecret", now),
            Ok(())
        );
        assert_eq!(
            verify_authorization(&VECTOR.to_lowercase(), "testkey", "testSecret", now),
            Err("the signature does not match"),
            "the scheme's case is free, the values' is not"
        );
        assert_eq!(
            verify_authorization(VECTOR, "otherKey", "testSecret", now),
            Err("unknown API key")
        );
        assert_eq!(
            verify_authorization(VECTOR, "testKey", "otherSecret", now),
            Err("the signature does not match")
        );
        assert_eq!(
            verify_authorization(VECTOR, "testKey", "testSecret", at("2025-09-14T12:50:57Z")),
            Err("the date is more than 15 minutes from now")
        );
        assert_eq!(
            verify_authorization(VECTOR, "testKey", "testSecret", at("2025-09-14T12:19:56Z")),
            Ok(()),
            "15 minutes early is still in time"
        );
        let tampered = VECTOR.replace("signature=6960", "signature=6961");
        assert_eq!(
            verify_authorization(&tampered, "testKey", "testSecret", now),
            Err("the signature does not match")
        );
        assert_eq!(
            verify_authorization("Bearer abc", "testKey", "testSecret", now),
            Err("not an HMAC-SHA256 authorization")
        );
        assert_eq!(
            verify_authorization("HMAC-SHA256 apiKey=testKey", "testKey", "testSecret", now),
            Err("a field is missing")
        );
    }

    fn alimtalk(fallback: Option<Fallback>) -> OutgoingText {
        OutgoingText {
            send_id: "snd_01J".into(),
            customer_id: "cust-1".into(),
            to: "+821012345678".into(),
            from: "+82212345678".into(),
            content: TextContent::Alimtalk {
                profile: "KA01PF".into(),
                template_code: "KA01TP".into(),
                variables: [("name".to_string(), "홍길동".to_string())].into(),
                text: "홍길동님, 수업이 곧 시작합니다.".into(),
                buttons: vec![TextButton {
                    name: "강의 이어보기".into(),
                    url: "https://example.com/c/1".into(),
                }],
                fallback,
            },
        }
    }

    fn plain(content: TextContent) -> OutgoingText {
        OutgoingText {
            content,
            ..alimtalk(None)
        }
    }

    #[test]
    fn an_alimtalk_with_a_fallback_carries_the_fallback_words() {
        let body = request_body(&alimtalk(Some(Fallback {
            subject: Some("수업 안내".into()),
            text: "홍길동님, 수업이 곧 시작합니다. https://example.com/c/1".into(),
        })));
        assert_eq!(
            body,
            json!({"messages": [{
                "to": "01012345678", "from": "0212345678", "type": "ATA",
                "text": "홍길동님, 수업이 곧 시작합니다. https://example.com/c/1",
                "subject": "수업 안내",
                "kakaoOptions": {
                    "pfId": "KA01PF", "templateId": "KA01TP",
                    "variables": {"#{name}": "홍길동"},
                    "disableSms": false,
                    "buttons": [{"buttonName": "강의 이어보기", "buttonType": "WL",
                        "linkMo": "https://example.com/c/1", "linkPc": "https://example.com/c/1"}]
                },
                "customFields": {"send_id": "snd_01J", "customer_id": "cust-1"}
            }], "showMessageList": true})
        );
    }

    #[test]
    fn an_alimtalk_without_a_fallback_disables_it() {
        let body = request_body(&alimtalk(None));
        let message = &body["messages"][0];
        assert_eq!(message["kakaoOptions"]["disableSms"], json!(true));
        assert_eq!(message.get("text"), None);
        assert_eq!(message.get("subject"), None);
    }

    #[test]
    fn plain_texts_name_their_type() {
        let sms = request_body(&plain(TextContent::Sms {
            text: "안녕하세요".into(),
        }));
        assert_eq!(
            sms,
            json!({"messages": [{"to": "01012345678", "from": "0212345678", "type": "SMS",
                "text": "안녕하세요", "customFields": {"send_id": "snd_01J", "customer_id": "cust-1"}}], "showMessageList": true})
        );
        let lms = request_body(&plain(TextContent::Lms {
            subject: "안내".into(),
            text: "긴 글".into(),
        }));
        assert_eq!(
            lms,
            json!({"messages": [{"to": "01012345678", "from": "0212345678", "type": "LMS",
                "subject": "안내", "text": "긴 글", "customFields": {"send_id": "snd_01J", "customer_id": "cust-1"}}],
                "showMessageList": true})
        );
    }

    fn rejected(code: &str, block: Option<Block>) -> impl Fn(&TextError) -> bool + '_ {
        move |e| matches!(e, TextError::Rejected { code: c, block: b, .. } if c == code && *b == block)
    }

    #[test]
    fn send_answers_map_to_an_id_or_the_reason() {
        let taken = r#"{"failedMessageList":[],"groupInfo":{"groupId":"G4V1"},
            "messageList":[{"messageId":"M4V1","statusCode":"2000","statusMessage":"정상 접수"}]}"#;
        assert_eq!(answer(200, None, taken), Ok("M4V1".into()));
        let group_only = r#"{"failedMessageList":[],"groupInfo":{"groupId":"G4V2"}}"#;
        assert_eq!(answer(200, None, group_only), Ok("G4V2".into()));
        let failed = |code: &str| {
            format!(
                r#"{{"failedMessageList":[{{"to":"01012345678","from":"0212345678","type":"ATA",
                "statusMessage":"why","country":"82","messageId":"M4V3","statusCode":"{code}",
                "accountId":"1"}}],"groupInfo":{{"groupId":"G4V3"}}}}"#
            )
        };
        let err = |body: &str| answer(200, None, body).unwrap_err();
        assert!(rejected("1062", None)(&err(&failed("1062"))));
        assert!(rejected("1061", Some(Block::OptOut))(&err(&failed("1061"))));
        assert!(matches!(err(&failed("1030")), TextError::Transient(_)));
        let listed_failure = r#"{"failedMessageList":[],
            "messageList":[{"messageId":"M4V4","statusCode":"1064","statusMessage":"KISA"}]}"#;
        assert!(rejected("1064", Some(Block::Reported))(&err(
            listed_failure
        )));
        assert!(matches!(err("<html>"), TextError::Unknown(_)));
        assert!(matches!(err("{}"), TextError::Unknown(_)));
    }

    #[test]
    fn error_statuses_map_to_wait_retry_or_stop() {
        let body = |code: &str| format!(r#"{{"errorCode":"{code}","errorMessage":"m"}}"#);
        assert_eq!(
            answer(429, Some("30"), &body("TooManyRequests")),
            Err(TextError::Throttled {
                reason: "m".into(),
                after: Some(Duration::from_secs(30))
            })
        );
        assert!(matches!(
            answer(500, None, "oops"),
            Err(TextError::Transient(_))
        ));
        assert!(matches!(
            answer(503, None, ""),
            Err(TextError::Transient(_))
        ));
        for code in ["DuplicatedSignature", "RequestTimeTooSkewed"] {
            assert!(matches!(
                answer(403, None, &body(code)),
                Err(TextError::Transient(_))
            ));
        }
        for (status, code) in [
            (401, "InvalidAPIKey"),
            (403, "SignatureDoesNotMatch"),
            (400, "ValidationError"),
        ] {
            assert!(rejected(code, None)(
                &answer(status, None, &body(code)).unwrap_err()
            ));
        }
        assert!(rejected("404", None)(&answer(404, None, "").unwrap_err()));
    }

    /// Every code the reference and Solapi's status table name, with what it means.
    #[test]
    fn every_known_status_code_maps_to_its_status() {
        let failed = |permanent, block| TextStatus::Failed { permanent, block };
        let permanent = failed(true, None);
        let retryable = failed(false, None);
        let delivered = |via| TextStatus::Delivered { via };
        let table: Vec<(&str, Option<&str>, TextStatus)> = vec![
            ("2000", None, TextStatus::Accepted),
            ("2100", None, TextStatus::Accepted),
            ("3000", Some("ATA"), TextStatus::InFlight),
            ("4000", Some("ATA"), delivered(TextChannel::Alimtalk)),
            ("4000", Some("SMS"), delivered(TextChannel::Sms)),
            ("4000", Some("LMS"), delivered(TextChannel::Lms)),
            ("4000", Some("MMS"), delivered(TextChannel::Lms)),
            ("4000", Some("lms"), delivered(TextChannel::Lms)),
            ("4000", None, TextStatus::Unknown),
            ("1010", None, permanent.clone()),
            ("1011", None, permanent.clone()),
            ("1013", None, permanent.clone()),
            ("1014", None, permanent.clone()),
            ("1020", None, permanent.clone()),
            ("1024", None, retryable.clone()),
            ("1025", None, permanent.clone()),
            ("1026", None, permanent.clone()),
            ("1029", None, permanent.clone()),
            ("1030", None, retryable.clone()),
            ("1031", None, permanent.clone()),
            ("1032", None, permanent.clone()),
            ("1041", None, permanent.clone()),
            ("1042", None, permanent.clone()),
            ("1043", None, permanent.clone()),
            ("1046", None, permanent.clone()),
            ("1052", None, permanent.clone()),
            ("1058", None, permanent.clone()),
            ("1060", None, permanent.clone()),
            ("1061", None, failed(true, Some(Block::OptOut))),
            ("1062", None, permanent.clone()),
            ("1064", None, failed(true, Some(Block::Reported))),
            ("2011", None, permanent.clone()),
            ("2024", None, retryable.clone()),
            ("2060", None, permanent.clone()),
            ("2061", None, failed(true, Some(Block::OptOut))),
            ("2062", None, permanent.clone()),
            ("2063", None, permanent.clone()),
            ("2064", None, failed(true, Some(Block::Reported))),
            ("2230", None, retryable.clone()),
            ("2254", None, failed(true, Some(Block::Spam))),
            ("3010", None, permanent.clone()),
            ("3011", None, permanent.clone()),
            ("3012", None, retryable.clone()),
            ("3013", None, permanent.clone()),
            ("3014", None, TextStatus::Unknown),
            ("3024", None, retryable.clone()),
            ("3031", None, retryable.clone()),
            ("3032", None, permanent.clone()),
            ("3040", None, retryable.clone()),
            ("3041", None, retryable.clone()),
            ("3042", None, retryable.clone()),
            ("3043", None, retryable.clone()),
            ("3044", None, retryable.clone()),
            ("3045", None, retryable.clone()),
            ("3046", None, retryable.clone()),
            ("3047", None, permanent.clone()),
            ("3048", None, TextStatus::Unknown),
            ("3050", None, permanent.clone()),
            ("3051", None, retryable.clone()),
            ("3052", None, retryable.clone()),
            ("3053", None, retryable.clone()),
            ("3054", None, failed(true, Some(Block::Spam))),
            ("3055", None, failed(true, Some(Block::Spam))),
            ("3056", None, retryable.clone()),
            ("3057", None, retryable.clone()),
            ("3058", None, permanent.clone()),
            ("3059", None, permanent.clone()),
            ("3060", None, permanent.clone()),
            ("3101", None, permanent.clone()),
            ("3102", None, permanent.clone()),
            ("3103", None, permanent.clone()),
            ("3104", None, failed(true, Some(Block::NotKakaoUser))),
            ("3105", None, permanent.clone()),
            ("3106", None, permanent.clone()),
            ("3107", None, failed(true, Some(Block::NotKakaoUser))),
            ("3108", None, retryable.clone()),
            ("2999", None, TextStatus::Unknown),
            ("3999", None, TextStatus::Unknown),
            ("TEST1000", None, TextStatus::Unknown),
            ("1x24", None, TextStatus::Unknown),
            ("", None, TextStatus::Unknown),
        ];
        for (code, kind, expected) in table {
            assert_eq!(status(code, kind), expected, "{code} {kind:?}");
        }
    }

    const WEBHOOK: &str = r#"[
      {"eventDataId":"E1","retryCount":0,"data":{"messageId":"M4V_FALLBACK","groupId":"G4V1",
        "type":"LMS","to":"01012345678","from":"0212345678","statusCode":"4000",
        "statusMessage":"정상 수신","dateProcessed":"2025-09-14T12:35:00.100Z",
        "dateReported":"2025-09-14T12:35:02.500Z","dateReceived":"2025-09-14T12:35:01Z",
        "networkCode":"SKT","kakaoOptions":{"pfId":"KA01PF","templateId":"KA01TP"},
        "customFields":{"send_id":"snd_A"}}},
      {"eventDataId":"E2","retryCount":1,"data":{"messageId":"M4V_OPTOUT","type":"SMS",
        "statusCode":"2061","statusMessage":"수신거부","dateProcessed":"2025-09-14 21:40:00",
        "dateReported":null,"customFields":{"send_id":"snd_B"}}},
      {"eventDataId":"E3","data":{"messageId":"M4V_KAKAO","type":"ATA","statusCode":"3104",
        "dateReported":"2025-09-14T12:36:00Z","customFields":{"send_id":"snd_C"}}},
      {"eventDataId":"E4","data":{"messageId":"M4V_NOT_OURS","type":"SMS","statusCode":"4000",
        "dateReported":"2025-09-14T12:36:00Z","customFields":{}}},
      {"eventDataId":"E5","data":{"messageId":"M4V_NO_FIELDS","type":"SMS","statusCode":"4000",
        "dateReported":"2025-09-14T12:36:00Z"}}
    ]"#;

    #[test]
    fn webhook_reports_say_which_send_and_how_it_ended() {
        let got = all(WEBHOOK.as_bytes()).unwrap();
        assert_eq!(
            got,
            vec![
                TextReport {
                    customer_id: None,
                    send_id: "snd_A".into(),
                    provider_id: "M4V_FALLBACK".into(),
                    code: "4000".into(),
                    status: TextStatus::Delivered {
                        via: TextChannel::Lms
                    },
                    at: at("2025-09-14T12:35:02.500Z"),
                    fallback: true,
                },
                TextReport {
                    customer_id: None,
                    send_id: "snd_B".into(),
                    provider_id: "M4V_OPTOUT".into(),
                    code: "2061".into(),
                    status: TextStatus::Failed {
                        permanent: true,
                        block: Some(Block::OptOut)
                    },
                    at: at("2025-09-14T12:40:00Z"),
                    fallback: false,
                },
                TextReport {
                    customer_id: None,
                    send_id: "snd_C".into(),
                    provider_id: "M4V_KAKAO".into(),
                    code: "3104".into(),
                    status: TextStatus::Failed {
                        permanent: true,
                        block: Some(Block::NotKakaoUser)
                    },
                    at: at("2025-09-14T12:36:00Z"),
                    fallback: false,
                },
            ]
        );
    }

    /// Every report of the body, or the first error.
    fn all(body: &[u8]) -> Result<Vec<TextReport>, ReportError> {
        reports(body)?.into_iter().collect()
    }

    #[test]
    fn a_webhook_body_we_cannot_use_is_an_error() {
        assert!(matches!(reports(b"{}"), Err(ReportError::Malformed(_))));
        assert!(matches!(
            reports(b"not json"),
            Err(ReportError::Malformed(_))
        ));
        assert_eq!(reports(b"[]"), Ok(vec![]));
        let undated = br#"[{"data":{"messageId":"M4V9","statusCode":"4000","type":"SMS",
            "customFields":{"send_id":"snd_D"}}}]"#;
        assert_eq!(all(undated), Err(ReportError::NoDate("M4V9".into())));
        let no_code = br#"[{"data":{"messageId":"M4V9","dateReported":"2025-09-14T12:36:00Z",
            "customFields":{"send_id":"snd_D"}}}]"#;
        assert!(matches!(all(no_code), Err(ReportError::Malformed(_))));
    }

    #[test]
    fn one_unreadable_report_does_not_hold_back_the_others() {
        let body = br#"[{"data":{"messageId":"M4V9","statusCode":"4000","type":"SMS",
            "customFields":{"send_id":"snd_D"}}},
            {"data":"not an object"},
            {"data":{"messageId":"M4V8","statusCode":"4000","type":"SMS",
            "dateReported":"2025-09-14T12:36:00Z","customFields":{"send_id":"snd_E"}}}]"#;
        let each = reports(body).unwrap();
        assert_eq!(each.len(), 2, "{each:?}");
        assert_eq!(each[0], Err(ReportError::NoDate("M4V9".into())));
        assert_eq!(each[1].as_ref().map(|r| r.send_id.as_str()), Ok("snd_E"));
    }

    #[test]
    fn polls_ask_for_the_message_or_its_group() {
        assert_eq!(
            list_path("M4V20180307110044DTYYJBBYLPQZIB1"),
            Ok("/messages/v4/list?messageId=M4V20180307110044DTYYJBBYLPQZIB1".into())
        );
        assert_eq!(
            list_path("G4V20180307105937H3PTASXMNJG2JIO"),
            Ok("/messages/v4/list?groupId=G4V20180307105937H3PTASXMNJG2JIO".into())
        );
        assert!(matches!(
            list_path("M4V&x=1"),
            Err(TextError::Rejected { .. })
        ));
        assert!(matches!(list_path(""), Err(TextError::Rejected { .. })));
    }

    #[test]
    fn a_listed_message_becomes_a_report() {
        let body = r#"{"startKey":null,"limit":20,"messageList":{"M4V1":{"messageId":"M4V1",
            "groupId":"G4V1","type":"ATA","statusCode":"3000","customFields":{"send_id":"snd_A"},
            "dateProcessed":null,"dateReported":null,"dateCreated":"2020-09-09T05:23:20.686Z",
            "dateUpdated":"2020-09-09T05:23:21.000Z"}}}"#;
        assert_eq!(
            listed(body, "snd_A", "M4V1"),
            Ok(Some(TextReport {
                customer_id: None,
                send_id: "snd_A".into(),
                provider_id: "M4V1".into(),
                code: "3000".into(),
                status: TextStatus::InFlight,
                at: at("2020-09-09T05:23:21Z"),
                fallback: false,
            }))
        );
        assert_eq!(listed(r#"{"messageList":{}}"#, "snd_A", "M4V1"), Ok(None));
        assert!(matches!(
            listed("<html>", "snd_A", "M4V1"),
            Err(TextError::Transient(_))
        ));
    }

    /// `send` against a local stand-in: the request it really makes, signed afresh each time,
    /// and what a 503, a dropped connection and a refused connection come to.
    #[tokio::test]
    async fn send_makes_one_signed_request_and_classifies_what_comes_back() {
        let taken = r#"{"failedMessageList":[],"groupInfo":{"groupId":"G4V1"},
            "messageList":[{"messageId":"M4V1","statusCode":"2000","statusMessage":"ok"}]}"#;
        let (url, mut seen) = stand_in::serve(vec![
            stand_in::answer(200, taken),
            stand_in::answer(
                503,
                r#"{"errorCode":"ServiceUnavailable","errorMessage":"x"}"#,
            ),
            Reply::Drop,
        ])
        .await;
        let provider = SolapiProvider::new("key", "secret", Duration::from_secs(5))
            .unwrap()
            .with_base_url(format!("{url}/"));
        let text = alimtalk(Some(Fallback {
            subject: None,
            text: "수업이 곧 시작합니다".into(),
        }));

        assert_eq!(provider.send(&text).await, Ok("M4V1".into()));
        let first = seen.recv().await.unwrap();
        assert_eq!(
            first.request_line,
            "POST /messages/v4/send-many/detail HTTP/1.1"
        );
        assert_eq!(first.headers["content-type"], "application/json");
        let signed = &first.headers["authorization"];
        assert_eq!(
            verify_authorization(signed, "key", "secret", Utc::now()),
            Ok(())
        );
        let body: Value = serde_json::from_str(&first.body).unwrap();
        assert_eq!(body, request_body(&text));

        let unavailable = provider.send(&text).await;
        assert!(
            matches!(unavailable, Err(TextError::Transient(_))),
            "{unavailable:?}"
        );
        let second = seen.recv().await.unwrap();
        assert_ne!(
            &second.headers["authorization"], signed,
            "a fresh salt each time"
        );

        let dropped = provider.send(&text).await;
        assert!(matches!(dropped, Err(TextError::Unknown(_))), "{dropped:?}");

        let nobody = SolapiProvider::new("key", "secret", Duration::from_secs(5))
            .unwrap()
            .with_base_url(stand_in::closed_port().await);
        let refused = nobody.send(&text).await;
        assert!(
            matches!(refused, Err(TextError::Transient(_))),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn poll_reads_the_list_api() {
        let body = r#"{"messageList":{"M4V1":{"messageId":"M4V1","type":"SMS","statusCode":"4000",
            "customFields":{"send_id":"snd_A"},"dateReported":"2025-09-14T12:35:02Z"}}}"#;
        let (url, mut seen) = stand_in::serve(vec![stand_in::answer(200, body)]).await;
        let provider = SolapiProvider::new("key", "secret", Duration::from_secs(5))
            .unwrap()
            .with_base_url(url);
        let report = provider.poll("snd_A", "M4V1").await.unwrap().unwrap();
        assert_eq!(
            report.status,
            TextStatus::Delivered {
                via: TextChannel::Sms
            }
        );
        let request = seen.recv().await.unwrap();
        assert_eq!(
            request.request_line,
            "GET /messages/v4/list?messageId=M4V1 HTTP/1.1"
        );
        assert_eq!(
            verify_authorization(
                &request.headers["authorization"],
                "key",
                "secret",
                Utc::now()
            ),
            Ok(())
        );
    }
}
