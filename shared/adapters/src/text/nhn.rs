//! NHN Cloud KakaoTalk Bizmessage: 알림톡 through the template-substitution API
//! (`POST /alimtalk/v2.3/appkeys/{appkey}/messages`), with NHN's own SMS/LMS fallback
//! (`resendParameter`, sent by NHN's SMS product); its reports from the `MESSAGE_RESULT_UPDATE`
//! webhook or the single-message lookup (TOAST-DOCS/Alimtalk `alimtalk-api-guide.md` v2.3,
//! `webhook-api-guide.md`, `error-code.md`).
//!
//! Plain SMS/LMS are not sent here: they are a separate NHN product (`api-sms.cloud.toast.com`,
//! its own app key); such a text is refused with `unsupported` (deploy Solapi for them).
//!
//! NHN is the one provider with an idempotency key: `X-NC-API-IDEMPOTENCY-KEY` is our send id,
//! and NHN refuses a second request with it within 10 minutes (`-1005`). That refusal means an
//! earlier attempt reached NHN and may have been taken, so it is `Unknown` — never `Rejected`,
//! which would record a failure for a text perhaps on its way, and never repeated.
//! The provider id is `{requestId}/{recipientSeq}`: the message's address in the lookup API.

use std::time::Duration;

use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use journey::domain::text::{
    Block, TextChannel, TextReport, TextStatus, domestic, text_channel_for,
};
use journey::ports::{Fallback, OutgoingText, TextContent, TextError, TextProvider};

use super::{ReportError, client, first_time, refusal, retry_after, unanswered, unread};

pub const DEFAULT_BASE_URL: &str = "https://kakaotalk-bizmessage.api.nhncloudservice.com";
const API: &str = "/alimtalk/v2.3/appkeys";
/// The webhook event that carries message results; others (template reviews) are not ours.
const RESULT_EVENT: &str = "MESSAGE_RESULT_UPDATE";
/// NHN's refusal of an idempotency key used within the last 10 minutes.
const DUPLICATE_KEY: i64 = -1005;

#[derive(Clone, Debug)]
pub struct NhnProvider {
    http: reqwest::Client,
    app_key: String,
    secret_key: String,
    base_url: String,
}

impl NhnProvider {
    /// Against NHN Cloud's domain; `timeout` stays below the function's own. The sender key
    /// is the text's own (`TextContent::Alimtalk::profile`).
    pub fn new(
        app_key: impl Into<String>,
        secret_key: impl Into<String>,
        timeout: Duration,
    ) -> Result<Self, String> {
        Ok(NhnProvider {
            http: client(timeout)?,
            app_key: app_key.into(),
            secret_key: secret_key.into(),
            base_url: DEFAULT_BASE_URL.to_string(),
        })
    }

    /// Another host: the local stand-in.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into().trim_end_matches('/').to_string();
        self
    }
}

/// One send request, ready to go: path (under the base URL), headers and body.
#[derive(Clone, Debug, PartialEq)]
pub struct NhnRequest {
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Value,
}

fn unsupported(what: &str) -> TextError {
    TextError::Rejected {
        code: "unsupported".into(),
        reason: format!("{what} is not sent by the NHN adapter (only 알림톡 with its fallback)"),
        block: None,
    }
}

/// The request for `text`: the template's variables by name, and the fallback — or
/// `isResend: false`, since NHN's console may otherwise turn the fallback on by default.
/// Buttons are the approved template's (a link that varies is a template variable): the
/// substitution API takes no button names or links.
pub fn request(
    text: &OutgoingText,
    app_key: &str,
    secret_key: &str,
) -> Result<NhnRequest, TextError> {
    let TextContent::Alimtalk {
        profile,
        template_code,
        variables,
        fallback,
        ..
    } = &text.content
    else {
        return Err(unsupported("a plain SMS/LMS"));
    };
    let resend = match fallback {
        Some(fallback) => resend(fallback, &text.from)?,
        None => json!({"isResend": false}),
    };
    let body = json!({
        "senderKey": profile,
        "templateCode": template_code,
        "recipientList": [{
            "recipientNo": domestic(&text.to),
            "templateParameter": variables,
            "resendParameter": resend,
            "recipientGroupingKey": text.send_id,
        }],
    });
    Ok(NhnRequest {
        path: format!("{API}/{app_key}/messages"),
        headers: vec![
            ("X-Secret-Key", secret_key.to_string()),
            ("X-NC-API-IDEMPOTENCY-KEY", text.send_id.clone()),
        ],
        body,
    })
}

/// The fallback as NHN's SMS product takes it: SMS when it fits in 90 bytes without a
/// subject, else LMS (NHN truncates what is over its type's limit, so we choose, not NHN).
fn resend(fallback: &Fallback, from: &str) -> Result<Value, TextError> {
    let channel = text_channel_for(fallback.subject.as_deref(), &fallback.text).map_err(|e| {
        TextError::Rejected {
            code: "limit".into(),
            reason: e.to_string(),
            block: None,
        }
    })?;
    let mut resend = json!({
        "isResend": true,
        "resendType": if channel == TextChannel::Sms { "SMS" } else { "LMS" },
        "resendContent": fallback.text,
        "resendSendNo": domestic(from),
    });
    if let (TextChannel::Lms, Some(subject)) = (channel, &fallback.subject) {
        resend["resendTitle"] = json!(subject);
    }
    Ok(resend)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    result_code: i64,
    #[serde(default)]
    result_message: String,
    is_successful: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendAnswer {
    header: Header,
    message: Option<SendMessage>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendMessage {
    request_id: Option<String>,
    #[serde(default)]
    send_results: Vec<SendResult>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendResult {
    recipient_seq: Option<i64>,
    result_code: i64,
    #[serde(default)]
    result_message: String,
}

/// NHN's answer to a send → `{requestId}/{recipientSeq}`, or why it was not taken. NHN answers
/// 200 even when it refuses: `header.isSuccessful`, then the recipient's `resultCode` (0: taken)
/// decide. A duplicate idempotency key is `Unknown` (module doc); NHN's system and vendor
/// errors (-9999, -7000) are answers, so not taken: transient. A 200 we cannot read was taken.
pub fn answer(status: u16, retry_after: Option<&str>, body: &str) -> Result<String, TextError> {
    if status != 200 {
        return Err(refusal(
            status,
            retry_after,
            status.to_string(),
            body.to_string(),
        ));
    }
    let Ok(answer) = serde_json::from_str::<SendAnswer>(body) else {
        return Err(TextError::Unknown(format!(
            "unreadable success answer: {body}"
        )));
    };
    if !answer.header.is_successful {
        return Err(header_refusal(answer.header));
    }
    let message = answer.message.as_ref();
    let result = message.and_then(|m| m.send_results.first());
    match (message.and_then(|m| m.request_id.as_deref()), result) {
        (_, Some(r)) if r.result_code != 0 => Err(TextError::Rejected {
            code: r.result_code.to_string(),
            reason: r.result_message.clone(),
            block: None,
        }),
        (
            Some(id),
            Some(SendResult {
                recipient_seq: Some(seq),
                ..
            }),
        ) => Ok(format!("{id}/{seq}")),
        _ => Err(TextError::Unknown(format!(
            "taken, but no request id or recipient: {body}"
        ))),
    }
}

fn header_refusal(header: Header) -> TextError {
    let code = header.result_code;
    let reason = header.result_message;
    match code {
        DUPLICATE_KEY => TextError::Unknown(format!(
            "an earlier request with this send id reached NHN within 10 minutes and may have been taken ({code}: {reason})"
        )),
        -9999 | -7000 => TextError::Transient(format!("{code}: {reason}")),
        _ => TextError::Rejected {
            code: code.to_string(),
            reason,
            block: None,
        },
    }
}

/// A message's state from the lookup API: its `messageStatus`, Kakao's `resultCode`, and the
/// fallback's `resendStatus` (RSC01 none, RSC02 to follow a failure, RSC03 sending, RSC04 sent,
/// RSC05 failed) with the SMS product's `resendResultCode`.
///
/// NHN does not say whether a fallback went as SMS or LMS: a delivered fallback reports `Sms`.
pub fn status(
    message_status: Option<&str>,
    result_code: Option<&str>,
    resend_status: Option<&str>,
    resend_result_code: Option<&str>,
) -> TextStatus {
    match resend_status {
        Some("RSC03") => return TextStatus::InFlight,
        Some("RSC04") if matches!(resend_result_code, None | Some("" | "1000")) => {
            return TextStatus::Delivered {
                via: TextChannel::Sms,
            };
        }
        Some("RSC04" | "RSC05") => return fallback_status(resend_result_code.unwrap_or_default()),
        _ => {}
    }
    let kakao = match result_code.filter(|c| !c.is_empty()) {
        Some(code) => kakao_status(code),
        None => request_status(message_status),
    };
    match (resend_status, kakao) {
        // the 알림톡 failed and the fallback is still to go
        (Some("RSC02"), TextStatus::Failed { .. }) => TextStatus::InFlight,
        (_, kakao) => kakao,
    }
}

/// `messageStatus` alone, before Kakao's result: taken, sent on, failed or cancelled.
fn request_status(message_status: Option<&str>) -> TextStatus {
    match message_status.unwrap_or_default() {
        "" => TextStatus::Accepted,
        "COMPLETED" => TextStatus::InFlight,
        "FAILED" => TextStatus::Failed {
            permanent: false,
            block: None,
        },
        "CANCEL" => TextStatus::Failed {
            permanent: true,
            block: None,
        },
        _ => TextStatus::Unknown,
    }
}

/// Kakao's result code for a 알림톡 (NHN `error-code.md`, 발송 결과 코드). 1000 delivered;
/// 3005 sent but not yet confirmed (Kakao keeps it 3 days) and 4161 in process: in flight.
/// Not a reachable KakaoTalk user (3018 inactive or sanctioned, 3019 not a user, 3020 blocked
/// 알림톡, 3021 too old a version): the block that leaves only a fallback. Kakao's and NHN's
/// unexpected and system errors (2001, 2005, 3000, 3006, 3010, 3012, 9998, 9999) and the
/// sending hours (3022) are worth sending again; 4000/4001 (no result, unknown state) are
/// `Unknown`; every other documented code (profile, channel, template, number, request) is
/// permanent. Undocumented codes are `Unknown`.
pub fn kakao_status(code: &str) -> TextStatus {
    let failed = |permanent, block| TextStatus::Failed { permanent, block };
    match code {
        "1000" => TextStatus::Delivered {
            via: TextChannel::Alimtalk,
        },
        "3005" | "4161" => TextStatus::InFlight,
        "3018" | "3019" | "3020" | "3021" => failed(true, Some(Block::NotKakaoUser)),
        "2001" | "2005" | "3000" | "3006" | "3010" | "3012" | "3022" | "9998" | "9999" => {
            failed(false, None)
        }
        "4000" | "4001" => TextStatus::Unknown,
        "1001" | "1002" | "1003" | "1004" | "1006" | "1007" | "1011" | "1012" | "1013" | "1014"
        | "1015" | "1016" | "1020" | "1021" | "1022" | "1023" | "1024" | "1025" | "1027"
        | "1028" | "1030" | "1033" | "2003" | "3008" | "3011" | "3013" | "3014" | "3015"
        | "3016" => failed(true, None),
        _ => match code.parse::<u16>() {
            // template, item and carousel mismatches; request errors
            Ok(3023..=3058 | 4100..=4156) => failed(true, None),
            _ => TextStatus::Unknown,
        },
    }
}

/// The SMS product's result for a fallback that did not arrive (NHN SMS `error-code.md`, 수신
/// 결과 코드): spam filters block; a wrong, unknown or spoofed number, no subscriber, call
/// refusal and refused content are permanent; the rest (busy, off, out of reach, the carrier's
/// errors, unknown codes) may pass another time.
fn fallback_status(code: &str) -> TextStatus {
    let failed = |permanent, block| TextStatus::Failed { permanent, block };
    match code {
        "3012" | "4008" => failed(true, Some(Block::Spam)),
        "1002" | "1003" | "3001" | "3002" | "3003" | "3006" | "3007" | "3009" | "3010" | "3013"
        | "3015" | "3016" | "3017" | "3018" | "3019" | "4001" | "4002" | "4003" | "4005"
        | "4006" | "E911" | "E913" | "E915" => failed(true, None),
        _ => failed(false, None),
    }
}

/// The webhook's `X-Toast-Webhook-Signature`: the static secret typed into NHN's console (not
/// an HMAC), compared in constant time. An empty secret accepts nothing.
pub fn verify_webhook(signature_header: Option<&str>, expected: &str) -> bool {
    !expected.is_empty()
        && signature_header.is_some_and(|h| h.trim().as_bytes().ct_eq(expected.as_bytes()).into())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Webhook {
    app_key: String,
    event: String,
    #[serde(default)]
    hooks: Vec<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResultHook {
    request_id: Option<String>,
    recipient_seq: Option<Value>,
    result_code: Option<Value>,
    recipient_grouping_key: Option<String>,
    receive_date: Option<String>,
    create_date: Option<String>,
    request_date: Option<String>,
}

/// A JSON string or number as text (NHN documents some fields as one and sends the other).
fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// NHN's `MESSAGE_RESULT_UPDATE` webhook → our reports (send id: `recipientGroupingKey`; a
/// hook without one is another sender's). Another app key's body is an error; another event
/// (template reviews) has no reports. The hook carries Kakao's result only, not the
/// fallback's: a 알림톡 failure is reported in flight, and the reconciler's poll, which sees
/// the fallback, gives the final word.
pub fn reports(
    body: &[u8],
    app_key: &str,
) -> Result<Vec<Result<TextReport, ReportError>>, ReportError> {
    let webhook: Webhook =
        serde_json::from_slice(body).map_err(|e| ReportError::Malformed(e.to_string()))?;
    if webhook.app_key != app_key {
        return Err(ReportError::WrongApp(webhook.app_key));
    }
    if webhook.event != RESULT_EVENT {
        return Ok(vec![]);
    }
    // each hook on its own: one we cannot read does not hold back the others
    let each = webhook.hooks.into_iter().map(|hook| {
        serde_json::from_value::<ResultHook>(hook)
            .map_err(|e| ReportError::Malformed(e.to_string()))
            .and_then(hook_report)
            .transpose()
    });
    Ok(each.flatten().collect())
}

fn hook_report(hook: ResultHook) -> Result<Option<TextReport>, ReportError> {
    let Some(send_id) = hook.recipient_grouping_key.filter(|k| !k.is_empty()) else {
        return Ok(None);
    };
    let seq = text_of(hook.recipient_seq.as_ref()).unwrap_or_default();
    let provider_id = format!("{}/{seq}", hook.request_id.unwrap_or_default());
    let code = text_of(hook.result_code.as_ref()).ok_or_else(|| {
        ReportError::Malformed(format!("hook on {provider_id} has no resultCode"))
    })?;
    let at = first_time([
        hook.receive_date.as_deref(),
        hook.create_date.as_deref(),
        hook.request_date.as_deref(),
    ])
    .ok_or(ReportError::NoDate(provider_id.clone()))?;
    let status = match kakao_status(&code) {
        TextStatus::Failed { .. } => TextStatus::InFlight,
        status => status,
    };
    Ok(Some(TextReport {
        customer_id: None,
        send_id,
        provider_id,
        code,
        status,
        at,
        // Kakao's own result: the fallback's comes only from a lookup
        fallback: false,
    }))
}

/// The lookup path for a provider id `{requestId}/{recipientSeq}`.
pub fn lookup_path(app_key: &str, provider_id: &str) -> Result<String, TextError> {
    let valid = provider_id.split_once('/').is_some_and(|(id, seq)| {
        !id.is_empty()
            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !seq.is_empty()
            && seq.chars().all(|c| c.is_ascii_digit())
    });
    if !valid {
        return Err(TextError::Rejected {
            code: "bad_id".into(),
            reason: format!("`{provider_id}` is not an NHN requestId/recipientSeq"),
            block: None,
        });
    }
    Ok(format!("{API}/{app_key}/messages/{provider_id}"))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LookupAnswer {
    header: Header,
    message: Option<Lookup>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Lookup {
    message_status: Option<String>,
    result_code: Option<Value>,
    resend_status: Option<String>,
    resend_result_code: Option<Value>,
    recipient_grouping_key: Option<String>,
    receive_date: Option<String>,
    create_date: Option<String>,
    request_date: Option<String>,
}

/// The lookup's answer → the report (`None`: NHN has no such message). The report's code is
/// Kakao's result and, once a fallback is involved, its status and result: `3019/RSC04/1000`.
fn looked_up(
    body: &str,
    send_id: &str,
    provider_id: &str,
) -> Result<Option<TextReport>, TextError> {
    let answer: LookupAnswer = serde_json::from_str(body)
        .map_err(|e| TextError::Transient(format!("unreadable lookup answer: {e}")))?;
    if !answer.header.is_successful {
        return Err(match header_refusal(answer.header) {
            TextError::Unknown(reason) => TextError::Transient(reason),
            other => other,
        });
    }
    let Some(m) = answer.message else {
        return Ok(None);
    };
    let result = text_of(m.result_code.as_ref());
    let resend_result = text_of(m.resend_result_code.as_ref());
    let status = status(
        m.message_status.as_deref(),
        result.as_deref(),
        m.resend_status.as_deref(),
        resend_result.as_deref(),
    );
    let fallback = m.resend_status.as_deref().filter(|s| *s != "RSC01");
    let code = [
        result.or(m.message_status.clone()),
        fallback.map(str::to_string),
        resend_result,
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("/");
    let at = first_time([
        m.receive_date.as_deref(),
        m.create_date.as_deref(),
        m.request_date.as_deref(),
    ])
    .unwrap_or_else(Utc::now);
    // every text here is a 알림톡: delivered by SMS or LMS, it was by the fallback
    let fallback = matches!(status, TextStatus::Delivered { via } if via != TextChannel::Alimtalk);
    Ok(Some(TextReport {
        customer_id: None,
        send_id: m.recipient_grouping_key.unwrap_or(send_id.to_string()),
        provider_id: provider_id.to_string(),
        code,
        status,
        at,
        fallback,
    }))
}

impl TextProvider for NhnProvider {
    async fn send(&self, text: &OutgoingText) -> Result<String, TextError> {
        let request = request(text, &self.app_key, &self.secret_key)?;
        let mut builder = self
            .http
            .post(format!("{}{}", self.base_url, request.path))
            .json(&request.body);
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        let response = builder.send().await.map_err(unanswered)?;
        let status = response.status().as_u16();
        let retry_after = retry_after(&response);
        // a body lost after the status: a success stays unknown, a refusal stays a refusal
        let body = response.text().await.unwrap_or_default();
        answer(status, retry_after.as_deref(), &body)
    }

    /// The single-message lookup (`GET …/messages/{requestId}/{recipientSeq}`): unlike the
    /// result-update listing, it needs no time window and carries the fallback's outcome.
    async fn poll(
        &self,
        send_id: &str,
        provider_id: &str,
    ) -> Result<Option<TextReport>, TextError> {
        let path = lookup_path(&self.app_key, provider_id)?;
        let response = self
            .http
            .get(format!("{}{path}", self.base_url))
            .header("X-Secret-Key", &self.secret_key)
            .send()
            .await
            .map_err(unread)?;
        let status = response.status().as_u16();
        let retry_after = retry_after(&response);
        let body = response.text().await.map_err(unread)?;
        if status != 200 {
            return Err(refusal(
                status,
                retry_after.as_deref(),
                status.to_string(),
                body,
            ));
        }
        looked_up(&body, send_id, provider_id)
    }
}

#[cfg(test)]
mod tests {
    use super::super::stand_in::{self, Reply};
    use super::*;
    use chrono::DateTime;
    use journey::ports::TextButton;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn alimtalk(fallback: Option<Fallback>) -> OutgoingText {
        OutgoingText {
            send_id: "snd_01J".into(),
            customer_id: "cust-1".into(),
            to: "+821012345678".into(),
            from: "+82212345678".into(),
            content: TextContent::Alimtalk {
                profile: "0123456789012345678901234567890123456789".into(),
                template_code: "course_resume".into(),
                variables: [
                    ("name".to_string(), "홍길동".to_string()),
                    ("course".to_string(), "파이썬 입문".to_string()),
                ]
                .into(),
                text: "홍길동님, 파이썬 입문 수업이 곧 시작합니다.".into(),
                buttons: vec![TextButton {
                    name: "강의 이어보기".into(),
                    url: "https://example.com/c/1".into(),
                }],
                fallback,
            },
        }
    }

    #[test]
    fn the_request_carries_the_template_the_fallback_and_our_send_id() {
        let long = "홍길동님, 파이썬 입문 수업이 곧 시작합니다. 강의실에서 이어보세요: https://example.com/c/1";
        let request = request(
            &alimtalk(Some(Fallback {
                subject: Some("수업 안내".into()),
                text: long.into(),
            })),
            "APPKEY",
            "SECRET",
        )
        .unwrap();
        assert_eq!(request.path, "/alimtalk/v2.3/appkeys/APPKEY/messages");
        assert_eq!(
            request.headers,
            vec![
                ("X-Secret-Key", "SECRET".to_string()),
                ("X-NC-API-IDEMPOTENCY-KEY", "snd_01J".to_string()),
            ]
        );
        assert_eq!(
            request.body,
            json!({
                "senderKey": "0123456789012345678901234567890123456789",
                "templateCode": "course_resume",
                "recipientList": [{
                    "recipientNo": "01012345678",
                    "templateParameter": {"course": "파이썬 입문", "name": "홍길동"},
                    "resendParameter": {
                        "isResend": true, "resendType": "LMS", "resendTitle": "수업 안내",
                        "resendContent": long, "resendSendNo": "0212345678"
                    },
                    "recipientGroupingKey": "snd_01J"
                }]
            })
        );
    }

    #[test]
    fn a_short_fallback_goes_as_sms_and_none_is_said_so() {
        let short = request(
            &alimtalk(Some(Fallback {
                subject: None,
                text: "수업이 곧 시작합니다".into(),
            })),
            "A",
            "S",
        )
        .unwrap();
        assert_eq!(
            short.body["recipientList"][0]["resendParameter"],
            json!({"isResend": true, "resendType": "SMS", "resendContent": "수업이 곧 시작합니다",
                "resendSendNo": "0212345678"})
        );
        let none = request(&alimtalk(None), "A", "S").unwrap();
        assert_eq!(
            none.body["recipientList"][0]["resendParameter"],
            json!({"isResend": false})
        );
        let emoji = request(
            &alimtalk(Some(Fallback {
                subject: None,
                text: "곧 시작 🎉".into(),
            })),
            "A",
            "S",
        );
        assert!(matches!(emoji, Err(TextError::Rejected { code, .. }) if code == "limit"));
    }

    #[test]
    fn plain_texts_are_refused_as_unsupported() {
        for content in [
            TextContent::Sms { text: "x".into() },
            TextContent::Lms {
                subject: "s".into(),
                text: "x".into(),
            },
        ] {
            let text = OutgoingText {
                content,
                ..alimtalk(None)
            };
            assert!(matches!(
                request(&text, "A", "S"),
                Err(TextError::Rejected { code, block: None, .. }) if code == "unsupported"
            ));
        }
    }

    fn header(code: i64, ok: bool) -> String {
        format!(r#""header":{{"resultCode":{code},"resultMessage":"m","isSuccessful":{ok}}}"#)
    }

    #[test]
    fn send_answers_map_to_an_id_or_the_reason() {
        let taken = format!(
            r#"{{{},"message":{{"requestId":"20180810100630ReZQ6KZzAH0","senderGroupingKey":null,
            "sendResults":[{{"recipientSeq":1,"recipientNo":"01012345678","resultCode":0,
            "resultMessage":"SUCCESS","recipientGroupingKey":"snd_01J"}}]}}}}"#,
            header(0, true)
        );
        assert_eq!(
            answer(200, None, &taken),
            Ok("20180810100630ReZQ6KZzAH0/1".into())
        );
        let recipient_failed = format!(
            r#"{{{},"message":{{"requestId":"R1","sendResults":[{{"recipientSeq":1,
            "resultCode":-5000,"resultMessage":"Invalid recipientNo"}}]}}}}"#,
            header(0, true)
        );
        assert_eq!(
            answer(200, None, &recipient_failed),
            Err(TextError::Rejected {
                code: "-5000".into(),
                reason: "Invalid recipientNo".into(),
                block: None
            })
        );
        let refused = |code| answer(200, None, &format!("{{{}}}", header(code, false)));
        assert!(
            matches!(refused(-1005), Err(TextError::Unknown(r)) if r.contains("earlier request")),
            "a duplicate key means an earlier attempt reached NHN"
        );
        assert!(matches!(refused(-9999), Err(TextError::Transient(_))));
        assert!(matches!(refused(-7000), Err(TextError::Transient(_))));
        for code in [-1000, -1001, -1006, -1027, -2017, -3003, -3005, 4] {
            assert!(
                matches!(refused(code), Err(TextError::Rejected { code: c, .. }) if c == code.to_string()),
                "{code}"
            );
        }
        assert!(matches!(
            answer(200, None, "<html>"),
            Err(TextError::Unknown(_))
        ));
        let no_results = format!(r#"{{{},"message":{{"requestId":"R1"}}}}"#, header(0, true));
        assert!(matches!(
            answer(200, None, &no_results),
            Err(TextError::Unknown(_))
        ));
        assert_eq!(
            answer(429, Some("3"), "slow"),
            Err(TextError::Throttled {
                reason: "slow".into(),
                after: Some(Duration::from_secs(3))
            })
        );
        assert!(matches!(
            answer(502, None, ""),
            Err(TextError::Transient(_))
        ));
        assert!(matches!(
            answer(401, None, ""),
            Err(TextError::Rejected { .. })
        ));
    }

    /// Every Kakao result code NHN documents, with what it means.
    #[test]
    fn every_kakao_result_code_maps_to_its_status() {
        let permanent = TextStatus::Failed {
            permanent: true,
            block: None,
        };
        let retryable = TextStatus::Failed {
            permanent: false,
            block: None,
        };
        let not_kakao = TextStatus::Failed {
            permanent: true,
            block: Some(Block::NotKakaoUser),
        };
        let mut table: Vec<(&str, TextStatus)> = vec![
            (
                "1000",
                TextStatus::Delivered {
                    via: TextChannel::Alimtalk,
                },
            ),
            ("3005", TextStatus::InFlight),
            ("4161", TextStatus::InFlight),
            ("3018", not_kakao.clone()),
            ("3019", not_kakao.clone()),
            ("3020", not_kakao.clone()),
            ("3021", not_kakao.clone()),
            ("4000", TextStatus::Unknown),
            ("4001", TextStatus::Unknown),
            ("0", TextStatus::Unknown),
            ("5000", TextStatus::Unknown),
            ("3059", TextStatus::Unknown),
            ("MRC01", TextStatus::Unknown),
        ];
        for code in [
            "2001", "2005", "3000", "3006", "3010", "3012", "3022", "9998", "9999",
        ] {
            table.push((code, retryable.clone()));
        }
        for code in [
            "1001", "1002", "1003", "1004", "1006", "1007", "1011", "1012", "1013", "1014", "1015",
            "1016", "1020", "1021", "1022", "1023", "1024", "1025", "1027", "1028", "1030", "1033",
            "2003", "3008", "3011", "3013", "3014", "3015", "3016", "3023", "3024", "3025", "3026",
            "3027", "3028", "3029", "3030", "3031", "3032", "3033", "3034", "3035", "3036", "3037",
            "3038", "3039", "3040", "3041", "3042", "3043", "3044", "3045", "3046", "3047", "3048",
            "3050", "3051", "3052", "3053", "3054", "3055", "3056", "3057", "3058", "4100", "4101",
            "4102", "4103", "4104", "4110", "4120", "4121", "4122", "4130", "4131", "4132", "4133",
            "4134", "4137", "4138", "4139", "4140", "4141", "4142", "4143", "4144", "4156",
        ] {
            table.push((code, permanent.clone()));
        }
        for (code, expected) in table {
            assert_eq!(kakao_status(code), expected, "{code}");
        }
    }

    /// Every combination of request status, Kakao result and fallback the lookup can report.
    #[test]
    fn lookups_combine_kakao_and_the_fallback() {
        let sms = TextStatus::Delivered {
            via: TextChannel::Sms,
        };
        let failed = |permanent, block| TextStatus::Failed { permanent, block };
        let table: Vec<([Option<&str>; 4], TextStatus)> = vec![
            ([None, None, None, None], TextStatus::Accepted),
            (
                [Some("COMPLETED"), None, Some("RSC01"), None],
                TextStatus::InFlight,
            ),
            (
                [Some("FAILED"), None, Some("RSC01"), None],
                failed(false, None),
            ),
            (
                [Some("CANCEL"), None, Some("RSC01"), None],
                failed(true, None),
            ),
            ([Some("READY"), None, None, None], TextStatus::Unknown),
            (
                [Some("COMPLETED"), Some("1000"), Some("RSC01"), None],
                TextStatus::Delivered {
                    via: TextChannel::Alimtalk,
                },
            ),
            (
                [Some("FAILED"), Some("3019"), Some("RSC01"), None],
                failed(true, Some(Block::NotKakaoUser)),
            ),
            (
                [Some("FAILED"), Some("3019"), Some("RSC02"), None],
                TextStatus::InFlight,
            ),
            (
                [Some("COMPLETED"), Some("1000"), Some("RSC02"), None],
                TextStatus::Delivered {
                    via: TextChannel::Alimtalk,
                },
            ),
            (
                [Some("FAILED"), Some("3019"), Some("RSC03"), None],
                TextStatus::InFlight,
            ),
            (
                [Some("FAILED"), Some("3019"), Some("RSC04"), None],
                sms.clone(),
            ),
            (
                [Some("FAILED"), Some("3019"), Some("RSC04"), Some("1000")],
                sms,
            ),
            (
                [Some("FAILED"), Some("3020"), Some("RSC05"), Some("3012")],
                failed(true, Some(Block::Spam)),
            ),
            (
                [Some("FAILED"), Some("3019"), Some("RSC05"), Some("2003")],
                failed(false, None),
            ),
            (
                [Some("FAILED"), Some("3019"), Some("RSC05"), None],
                failed(false, None),
            ),
        ];
        for ([message, result, resend, resend_result], expected) in table {
            assert_eq!(
                status(message, result, resend, resend_result),
                expected,
                "{message:?} {result:?} {resend:?} {resend_result:?}"
            );
        }
    }

    /// Every SMS reception code the fallback's result can carry, with what it means.
    #[test]
    fn every_fallback_result_code_maps_to_its_status() {
        let spam = TextStatus::Failed {
            permanent: true,
            block: Some(Block::Spam),
        };
        for code in ["3012", "4008"] {
            assert_eq!(fallback_status(code), spam, "{code}");
        }
        for code in [
            "1002", "1003", "3001", "3002", "3003", "3006", "3007", "3009", "3010", "3013", "3015",
            "3016", "3017", "3018", "3019", "4001", "4002", "4003", "4005", "4006", "E911", "E913",
            "E915",
        ] {
            let expected = TextStatus::Failed {
                permanent: true,
                block: None,
            };
            assert_eq!(fallback_status(code), expected, "{code}");
        }
        for code in [
            "1001", "1019", "2000", "2001", "2002", "2003", "2004", "2005", "2006", "2007", "3000",
            "3004", "3005", "3008", "3011", "3014", "4004", "4007", "4009", "4010", "E900", "E919",
            "E999", "",
        ] {
            let expected = TextStatus::Failed {
                permanent: false,
                block: None,
            };
            assert_eq!(fallback_status(code), expected, "{code}");
        }
    }

    #[test]
    fn the_webhook_secret_is_compared_whole() {
        assert!(verify_webhook(
            Some("s3cret-typed-in-console"),
            "s3cret-typed-in-console"
        ));
        assert!(verify_webhook(Some(" s3cret "), "s3cret"));
        assert!(!verify_webhook(
            Some("s3cret-typed-in-consolX"),
            "s3cret-typed-in-console"
        ));
        assert!(!verify_webhook(Some("s3cret"), "s3cret-typed-in-console"));
        assert!(!verify_webhook(None, "s3cret"));
        assert!(
            !verify_webhook(Some(""), ""),
            "an unset secret accepts nothing"
        );
    }

    const WEBHOOK: &str = r#"{
      "hooksId":"202007271010101010sadasdavas","webhookConfigId":"cfg",
      "productName":"KakaoTalk Bizmessage","appKey":"APPKEY","event":"MESSAGE_RESULT_UPDATE",
      "hooks":[
        {"kakaoMessageType":"ALIMTALK_NORMAL","requestId":"R1","recipientSeq":1,
         "requestDate":"2025-09-14 21:34:00.0","createDate":"2025-09-14 21:34:00.0",
         "receiveDate":"2025-09-14 21:34:05.0","recipientNo":"01012345678","resultCode":"1000",
         "senderGroupingKey":null,"recipientGroupingKey":"snd_A","isAddedChannel":null,
         "_links":{"self":{"href":"https://…/messages/R1/1"}},"hookId":"h1"},
        {"kakaoMessageType":"ALIMTALK_NORMAL","requestId":"R2","recipientSeq":1,
         "requestDate":"2025-09-14 21:35:00","createDate":"2025-09-14 21:35:00",
         "receiveDate":null,"resultCode":"3019","recipientGroupingKey":"snd_B","hookId":"h2"},
        {"kakaoMessageType":"ALIMTALK_NORMAL","requestId":"R3","recipientSeq":1,
         "createDate":"2025-09-14 21:35:00","resultCode":"1000","recipientGroupingKey":null,
         "hookId":"h3"}
      ]}"#;

    #[test]
    fn webhook_reports_say_which_send_and_leave_failures_to_the_poll() {
        assert_eq!(
            all(WEBHOOK.as_bytes(), "APPKEY"),
            Ok(vec![
                TextReport {
                    customer_id: None,
                    send_id: "snd_A".into(),
                    provider_id: "R1/1".into(),
                    code: "1000".into(),
                    status: TextStatus::Delivered {
                        via: TextChannel::Alimtalk
                    },
                    at: at("2025-09-14T12:34:05Z"),
                    fallback: false,
                },
                TextReport {
                    customer_id: None,
                    send_id: "snd_B".into(),
                    provider_id: "R2/1".into(),
                    code: "3019".into(),
                    status: TextStatus::InFlight,
                    at: at("2025-09-14T12:35:00Z"),
                    fallback: false,
                },
            ])
        );
    }

    #[test]
    fn a_webhook_of_another_app_or_event_or_shape_is_not_a_report() {
        assert_eq!(
            reports(WEBHOOK.as_bytes(), "OTHER"),
            Err(ReportError::WrongApp("APPKEY".into()))
        );
        let template = br#"{"appKey":"APPKEY","event":"TEMPLATE_STATUS_UPDATE",
            "hooks":[{"senderKey":"k","templateCode":"t","status":"TSC03"}]}"#;
        assert_eq!(reports(template, "APPKEY"), Ok(vec![]));
        assert!(matches!(
            reports(b"[]", "APPKEY"),
            Err(ReportError::Malformed(_))
        ));
        let undated = br#"{"appKey":"APPKEY","event":"MESSAGE_RESULT_UPDATE",
            "hooks":[{"requestId":"R9","recipientSeq":2,"resultCode":"1000","recipientGroupingKey":"snd_C"}]}"#;
        assert_eq!(
            all(undated, "APPKEY"),
            Err(ReportError::NoDate("R9/2".into()))
        );
        // beside a readable hook, an unreadable one is left out alone
        let mixed = br#"{"appKey":"APPKEY","event":"MESSAGE_RESULT_UPDATE",
            "hooks":[{"requestId":"R9","recipientSeq":2,"resultCode":"1000","recipientGroupingKey":"snd_C"},
            {"requestId":"R8","recipientSeq":1,"resultCode":"1000","recipientGroupingKey":"snd_D",
             "receiveDate":"2025-09-14 21:34:05"}]}"#;
        let each = reports(mixed, "APPKEY").unwrap();
        assert_eq!(each.len(), 2);
        assert!(each[0].is_err());
        assert_eq!(each[1].as_ref().map(|r| r.send_id.as_str()), Ok("snd_D"));
    }

    /// Every report of the body, or the first error.
    fn all(body: &[u8], app_key: &str) -> Result<Vec<TextReport>, ReportError> {
        reports(body, app_key)?.into_iter().collect()
    }

    #[test]
    fn lookups_go_to_the_message_address() {
        assert_eq!(
            lookup_path("APPKEY", "20180810100630ReZQ6KZzAH0/1"),
            Ok("/alimtalk/v2.3/appkeys/APPKEY/messages/20180810100630ReZQ6KZzAH0/1".into())
        );
        for bad in ["R1", "R1/", "/1", "R1/x", "R1/1/2", "../x/1"] {
            assert!(
                matches!(lookup_path("A", bad), Err(TextError::Rejected { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_looked_up_message_becomes_a_report() {
        let body = format!(
            r#"{{{},"message":{{"requestId":"R1","recipientSeq":1,"messageStatus":"FAILED",
            "resultCode":"3019","resultCodeName":"카카오톡 유저가 아님","resendStatus":"RSC04",
            "resendResultCode":"1000","resendRequestId":"S1","recipientGroupingKey":"snd_A",
            "requestDate":"2025-09-14 21:34:00.0","createDate":"2025-09-14 21:34:00.0",
            "receiveDate":"2025-09-14 21:36:10.0"}}}}"#,
            header(0, true)
        );
        assert_eq!(
            looked_up(&body, "snd_A", "R1/1"),
            Ok(Some(TextReport {
                customer_id: None,
                send_id: "snd_A".into(),
                provider_id: "R1/1".into(),
                code: "3019/RSC04/1000".into(),
                status: TextStatus::Delivered {
                    via: TextChannel::Sms
                },
                at: at("2025-09-14T12:36:10Z"),
                // not a KakaoTalk user: the SMS fallback delivered it
                fallback: true,
            }))
        );
        let none = format!("{{{},\"message\":null}}", header(0, true));
        assert_eq!(looked_up(&none, "snd_A", "R1/1"), Ok(None));
        let refused = format!("{{{}}}", header(-1000, false));
        assert!(matches!(
            looked_up(&refused, "snd_A", "R1/1"),
            Err(TextError::Rejected { .. })
        ));
    }

    /// `send` against a local stand-in: the request it really makes, and what a 503 and a
    /// dropped connection come to.
    #[tokio::test]
    async fn send_makes_one_keyed_request_and_classifies_what_comes_back() {
        let taken = format!(
            r#"{{{},"message":{{"requestId":"R1","sendResults":[{{"recipientSeq":1,
            "resultCode":0,"resultMessage":"SUCCESS","recipientGroupingKey":"snd_01J"}}]}}}}"#,
            header(0, true)
        );
        let (url, mut seen) = stand_in::serve(vec![
            stand_in::answer(200, &taken),
            stand_in::answer(503, "unavailable"),
            Reply::Drop,
        ])
        .await;
        let provider = NhnProvider::new("APPKEY", "SECRET", Duration::from_secs(5))
            .unwrap()
            .with_base_url(url);
        let text = alimtalk(Some(Fallback {
            subject: None,
            text: "수업이 곧 시작합니다".into(),
        }));

        assert_eq!(provider.send(&text).await, Ok("R1/1".into()));
        let first = seen.recv().await.unwrap();
        assert_eq!(
            first.request_line,
            "POST /alimtalk/v2.3/appkeys/APPKEY/messages HTTP/1.1"
        );
        assert_eq!(first.headers["x-secret-key"], "SECRET");
        assert_eq!(first.headers["x-nc-api-idempotency-key"], "snd_01J");
        assert_eq!(first.headers["content-type"], "application/json");
        let body: Value = serde_json::from_str(&first.body).unwrap();
        assert_eq!(body, request(&text, "APPKEY", "SECRET").unwrap().body);

        let unavailable = provider.send(&text).await;
        assert!(
            matches!(unavailable, Err(TextError::Transient(_))),
            "{unavailable:?}"
        );
        let dropped = provider.send(&text).await;
        assert!(matches!(dropped, Err(TextError::Unknown(_))), "{dropped:?}");

        let nobody = NhnProvider::new("APPKEY", "SECRET", Duration::from_secs(5))
            .unwrap()
            .with_base_url(stand_in::closed_port().await);
        let refused = nobody.send(&text).await;
        assert!(
            matches!(refused, Err(TextError::Transient(_))),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn poll_reads_the_single_message_lookup() {
        let body = format!(
            r#"{{{},"message":{{"requestId":"R1","recipientSeq":1,"messageStatus":"COMPLETED",
            "resultCode":"1000","resendStatus":"RSC01","recipientGroupingKey":"snd_A",
            "receiveDate":"2025-09-14 21:34:05"}}}}"#,
            header(0, true)
        );
        let (url, mut seen) = stand_in::serve(vec![stand_in::answer(200, &body)]).await;
        let provider = NhnProvider::new("APPKEY", "SECRET", Duration::from_secs(5))
            .unwrap()
            .with_base_url(url);
        let report = provider.poll("snd_A", "R1/1").await.unwrap().unwrap();
        assert_eq!(
            report.status,
            TextStatus::Delivered {
                via: TextChannel::Alimtalk
            }
        );
        assert_eq!(report.code, "1000");
        let request = seen.recv().await.unwrap();
        assert_eq!(
            request.request_line,
            "GET /alimtalk/v2.3/appkeys/APPKEY/messages/R1/1 HTTP/1.1"
        );
        assert_eq!(request.headers["x-secret-key"], "SECRET");
    }
}
