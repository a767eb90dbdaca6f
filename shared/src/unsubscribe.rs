//! Signed one-click unsubscribe links: `<base>/unsubscribe?c=<customer>&t=<token>`, where the
//! token is an HMAC of the customer id, so nobody can unsubscribe someone else.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::CustomerId;

/// The secret's name (`JOURNEY_SECRET_UNSUBSCRIBE_KEY` locally, SSM in AWS).
pub const SECRET: &str = "unsubscribe-key";
/// Bytes of the HMAC kept in the token: 128 bits.
const TOKEN_BYTES: usize = 16;

fn mac(key: &[u8], customer: &CustomerId) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    mac.update(b"unsubscribe:");
    mac.update(customer.as_str().as_bytes());
    mac
}

pub fn token(key: &[u8], customer: &CustomerId) -> String {
    let tag = mac(key, customer).finalize().into_bytes();
    URL_SAFE_NO_PAD.encode(&tag[..TOKEN_BYTES])
}

/// Constant-time check of a token from a link.
pub fn verify(key: &[u8], customer: &CustomerId, token: &str) -> bool {
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(token) else {
        return false;
    };
    bytes.len() == TOKEN_BYTES && mac(key, customer).verify_truncated_left(&bytes).is_ok()
}

/// The key new links are signed with: the first of the secret's values (see
/// [`crate::secrets::split_rotation`]), so a rotation puts the new key first.
pub fn signing_key(secret: &str) -> Vec<u8> {
    crate::secrets::split_rotation(secret)
        .into_iter()
        .next()
        .unwrap_or_default()
        .into_bytes()
}

/// A token signed with any of the keys (the old and new one during a rotation).
pub fn verify_any(keys: &[Vec<u8>], customer: &CustomerId, token: &str) -> bool {
    keys.iter().any(|key| verify(key, customer, token))
}

/// The link for the e-mail footer and the `List-Unsubscribe` header.
pub fn link(base: &str, key: &[u8], customer: &CustomerId) -> String {
    format!(
        "{}/unsubscribe?c={}&t={}",
        base.trim_end_matches('/'),
        url_escape(customer.as_str()),
        token(key, customer)
    )
}

/// Customer ids are printable ASCII; escape what a query string cannot hold.
fn url_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_for_their_customer_and_key() {
        let c = CustomerId::new("cust-1").unwrap();
        let t = token(b"key", &c);
        assert!(verify(b"key", &c, &t));
        assert!(!verify(b"other", &c, &t));
        assert!(!verify(b"key", &CustomerId::new("cust-2").unwrap(), &t));
        assert!(!verify(b"key", &c, "garbage!"));
        assert!(
            link(
                "https://api.example.com/",
                b"key",
                &CustomerId::new("a&b").unwrap()
            )
            .starts_with("https://api.example.com/unsubscribe?c=a%26b&t=")
        );
    }

    #[test]
    fn links_signed_before_a_rotation_keep_working() {
        let c = CustomerId::new("cust-1").unwrap();
        let old = token(&signing_key("old-key"), &c);
        let keys: Vec<Vec<u8>> = crate::secrets::split_rotation("new-key old-key")
            .into_iter()
            .map(String::into_bytes)
            .collect();
        assert_eq!(signing_key("new-key old-key"), b"new-key");
        assert!(verify_any(&keys, &c, &old));
        assert!(verify_any(&keys, &c, &token(b"new-key", &c)));
        assert!(!verify_any(&keys[..1], &c, &old));
    }
}
