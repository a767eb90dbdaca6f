//! One-click unsubscribe (RFC 8058): `GET /unsubscribe?c=…&t=…` shows a confirmation (link
//! scanners fetch GETs, so a GET never unsubscribes); `POST` — the mail client's one-click
//! `List-Unsubscribe=One-Click`, or the page's button — records the opt-out through the events
//! queue, like every other change.

use journey::domain::CustomerId;
use journey::unsubscribe;

use journey::http::{ApiError, Incoming};

/// The customer named by a valid link, or why not.
pub fn verify(incoming: &Incoming<'_>, keys: &[Vec<u8>]) -> Result<CustomerId, ApiError> {
    let customer = incoming
        .param("c")
        .and_then(|c| CustomerId::new(c).ok())
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_link",
                "the link names no customer",
                Some("c".into()),
            )
        })?;
    let token = incoming.param("t").unwrap_or_default();
    if !unsubscribe::verify_any(keys, &customer, token) {
        return Err(ApiError::bad_request(
            "invalid_link",
            "this unsubscribe link is not valid",
            Some("t".into()),
        ));
    }
    Ok(customer)
}

pub const CONFIRM: &str = "<h1 style=\"font-size:20px\">수신 거부 · Unsubscribe</h1>\
    <p>마케팅 메일을 더 이상 받지 않으시겠어요? 결제 관련 안내는 계속 발송됩니다.</p>\
    <p>Stop receiving marketing e-mail? Billing notices will still be sent.</p>\
    <form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
    <button type=\"submit\" style=\"padding:10px 16px;font-size:16px\">수신 거부 · Unsubscribe</button></form>";

pub const DONE: &str = "<h1 style=\"font-size:20px\">수신 거부 완료 · Unsubscribed</h1>\
    <p>더 이상 마케팅 메일을 보내 드리지 않습니다.</p><p>You will not receive marketing e-mail any more.</p>";
