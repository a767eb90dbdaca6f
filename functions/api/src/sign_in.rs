//! What the dashboard needs to sign staff in: the identity provider (an OpenID Connect
//! issuer) and the dashboard's client id there. The page reads them from a `<meta>` tag the
//! API fills in when it serves the page, and may reach only those origins besides its own
//! (the Content-Security-Policy's `connect-src`).

use journey::config::{self, ConfigError};
use journey::templates::escape_html;

/// The `<meta>` the page carries its sign-in settings in (empty without a provider).
const PLACEHOLDER: &str = r#"<meta name="journey-sign-in" content="">"#;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignIn {
    /// `STAFF_ISSUER`: discovery at `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    /// `STAFF_CLIENT_ID`: the dashboard's client id (the ID tokens' audience).
    pub client_id: String,
    /// `STAFF_CONNECT_ORIGINS`: origins of the provider's endpoints besides the issuer's
    /// (Cognito's token endpoint is on the pool's own domain), space-separated.
    pub connect_origins: Vec<String>,
}

impl SignIn {
    /// From the environment: `None` when `STAFF_ISSUER` is unset (the page asks for the API
    /// key only).
    pub fn from_env() -> Result<Option<SignIn>, ConfigError> {
        let Ok(issuer) = config::required("STAFF_ISSUER") else {
            return Ok(None);
        };
        let extra = std::env::var("STAFF_CONNECT_ORIGINS").unwrap_or_default();
        SignIn::new(&issuer, &config::required("STAFF_CLIENT_ID")?, &extra)
            .map(Some)
            .map_err(|reason| ConfigError::Invalid {
                name: "STAFF_ISSUER".into(),
                reason,
            })
    }

    /// `issuer` must be an https URL (plain http on the loopback, for the local stack).
    pub fn new(issuer: &str, client_id: &str, extra_origins: &str) -> Result<SignIn, String> {
        let issuer = issuer.trim().trim_end_matches('/').to_string();
        origin(&issuer).ok_or_else(|| format!("`{issuer}` is not an https URL"))?;
        let connect_origins = extra_origins
            .split_whitespace()
            .map(|o| origin(o).ok_or_else(|| format!("`{o}` is not an https origin")))
            .collect::<Result<_, _>>()?;
        Ok(SignIn {
            issuer,
            client_id: client_id.trim().to_string(),
            connect_origins,
        })
    }

    /// The origins the page may connect to besides its own.
    pub fn origins(&self) -> Vec<String> {
        let mut all: Vec<String> = origin(&self.issuer).into_iter().collect();
        all.extend(self.connect_origins.iter().cloned());
        all.dedup();
        all
    }
}

/// `scheme://host[:port]` of an https URL, or of an http one on the loopback.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let safe = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    let allowed =
        scheme == "https" || (scheme == "http" && matches!(name, "127.0.0.1" | "localhost"));
    (safe && allowed).then(|| format!("{scheme}://{host}"))
}

/// The page with its sign-in settings, and the Content-Security-Policy to serve it with.
pub fn page(html: &str, sign_in: Option<&SignIn>) -> (String, String) {
    let mut connect = vec!["'self'".to_string()];
    let page = match sign_in {
        Some(s) => {
            connect.extend(s.origins());
            let settings = serde_json::json!({"issuer": s.issuer, "client_id": s.client_id});
            html.replacen(
                PLACEHOLDER,
                &format!(
                    r#"<meta name="journey-sign-in" content="{}">"#,
                    escape_html(&settings.to_string())
                ),
                1,
            )
        }
        None => html.to_string(),
    };
    let csp = format!(
        "default-src 'self'; connect-src {}; style-src 'unsafe-inline'; script-src {}; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        connect.join(" "),
        script_hashes(&page).join(" ")
    );
    (page, csp)
}

/// `'sha256-…'` of each inline script: the page's own script runs, an injected one does not
/// (where `'unsafe-inline'` would let it, and it could read the staff's token).
fn script_hashes(html: &str) -> Vec<String> {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    html.split("<script>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</script>").map(|(body, _)| body))
        .map(|body| {
            let digest = Sha256::digest(body.as_bytes());
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_the_provider_and_may_reach_only_its_origins() {
        let s = SignIn::new(
            "https://cognito-idp.ap-northeast-2.amazonaws.com/ap-northeast-2_abc/",
            "client\"<x>",
            "https://journey-dev-1.auth.ap-northeast-2.amazoncognito.com",
        )
        .unwrap();
        let (html, csp) = page(&format!("<head>{PLACEHOLDER}</head>"), Some(&s));
        assert!(
            html.contains(
                "https://cognito-idp.ap-northeast-2.amazonaws.com/ap-northeast-2_abc&quot;"
            )
        );
        assert!(html.contains("client\\&quot;&lt;x&gt;"), "{html}");
        assert!(csp.contains(
            "connect-src 'self' https://cognito-idp.ap-northeast-2.amazonaws.com https://journey-dev-1.auth.ap-northeast-2.amazoncognito.com;"
        ));
        let (plain, csp) = page(PLACEHOLDER, None);
        assert_eq!(plain, PLACEHOLDER);
        assert!(csp.contains("connect-src 'self';"));
    }

    #[test]
    fn only_the_pages_own_script_may_run() {
        let (_, csp) = page("<script>alert(1)</script>", None);
        // printf 'alert(1)' | openssl dgst -sha256 -binary | base64
        assert!(
            csp.contains("script-src 'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI=';"),
            "{csp}"
        );
        assert!(
            !csp.contains("unsafe-inline'; img") && !csp.contains("script-src 'unsafe-inline'")
        );
        let (_, csp) = page(crate::DASHBOARD, None);
        assert!(
            csp.contains("script-src 'sha256-"),
            "the dashboard's script is hashed"
        );
    }

    #[test]
    fn only_https_or_the_loopback_may_issue() {
        assert!(SignIn::new("http://evil.example.com", "c", "").is_err());
        assert!(SignIn::new("javascript:alert(1)", "c", "").is_err());
        assert!(
            SignIn::new(
                "https://idp.example.com",
                "c",
                "https://a.example.com https://b.example.com"
            )
            .is_ok()
        );
        assert!(SignIn::new("https://idp.example.com", "c", "https://a b").is_err());
        assert!(SignIn::new("https://idp.example.com", "c", "ftp://a").is_err());
        assert!(SignIn::new("https://x.example.com;script-src *", "c", "").is_err());
        let local = SignIn::new("http://127.0.0.1:3000/_local/oidc", "c", "").unwrap();
        assert_eq!(local.origins(), vec!["http://127.0.0.1:3000".to_string()]);
    }
}
