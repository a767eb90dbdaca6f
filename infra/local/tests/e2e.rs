//! End to end: the real `journey-local` binary (which starts its own emulator), signed webhooks
//! through its gateway, simulated sweeps, and the results read back through the store.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test: a panic is its failure report"
)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as Days, Utc};
use journey::domain::{Change, CustomerId, RiskLevel, Stage};
use journey::ports::{CustomerStore, JourneyReader};
use journey_adapters::dynamodb::DynamoStore;
use journey_local::emulator::free_port;
use journey_local::secrets::LocalSecrets;
use journey_local::signing::Gateway;
use journey_local::stack::emulator_config;
use serde_json::json;

struct Running {
    child: Child,
    http_port: u16,
    emulator_port: u16,
    env: String,
    state_dir: std::path::PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn start(http_port: u16, emulator_port: u16, env: &str, state_dir: &std::path::Path) -> Child {
    start_with(http_port, emulator_port, env, state_dir, &[])
}

fn start_with(
    http_port: u16,
    emulator_port: u16,
    env: &str,
    state_dir: &std::path::Path,
    extra: &[(&str, String)],
) -> Child {
    Command::new(env!("CARGO_BIN_EXE_journey-local"))
        .envs(extra.iter().map(|(k, v)| (*k, v.as_str())))
        .current_dir(root())
        .env_remove("AWS_ENDPOINT_URL")
        .env("JOURNEY_HTTP_PORT", http_port.to_string())
        .env("JOURNEY_EMULATOR_PORT", emulator_port.to_string())
        .env("JOURNEY_ENV", env)
        .env("JOURNEY_STATE_DIR", state_dir)
        .env("JOURNEY_SWEEP_EVERY", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start journey-local")
}

async fn up(label: &str) -> (Running, Gateway) {
    up_with(label, &[]).await
}

async fn up_with(label: &str, extra: &[(&str, String)]) -> (Running, Gateway) {
    let (http_port, emulator_port) = (free_port(), free_port());
    let env = format!("{label}{}", std::process::id());
    let state_dir = std::env::temp_dir().join(format!("journey-{label}-{}", std::process::id()));
    let child = start_with(http_port, emulator_port, &env, &state_dir, extra);
    let running = Running {
        child,
        http_port,
        emulator_port,
        env,
        state_dir: state_dir.clone(),
    };
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{http_port}");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok(r) = http.get(format!("{base}/_local/health")).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(Instant::now() < deadline, "journey-local did not come up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let secrets = LocalSecrets::load_or_create(&state_dir).expect("the runner wrote its secrets");
    for name in [
        ingest::keys::STRIPE_SECRET,
        ingest::keys::APP_SECRET,
        ingest::keys::PORTONE_WEBHOOK_SECRET,
        api::API_KEY_SECRET,
    ] {
        assert!(secrets.value(name).is_some(), "the runner wrote {name}");
    }
    let mut gateway = Gateway::new(base, &secrets);
    gateway.http = http;
    (running, gateway)
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

async fn set_clock(g: &Gateway, time: DateTime<Utc>) {
    g.local("/_local/clock", Some(json!({"time": time})))
        .await
        .expect("clock");
}

async fn settle(g: &Gateway) {
    let answer = g
        .local("/_local/settle", Some(json!({})))
        .await
        .expect("settle");
    assert_eq!(answer["settled"], true, "queues drained");
}

#[tokio::test]
async fn webhooks_and_simulated_sweeps_drive_a_journey_end_to_end() {
    let (running, g) = up("e2e").await;
    let start = at("2026-11-02T09:00:00Z");
    set_clock(&g, start).await;

    let invoice = json!({
        "id": "evt_e2e_1", "object": "event", "type": "invoice.paid", "created": start.timestamp(),
        "data": {"object": {"customer": "cus_e2e", "amount_paid": 99000, "currency": "krw",
                            "customer_email": "e2e@example.com", "metadata": {"customer_id": "e2e-1"}}}
    });
    let (status, body) = g.stripe(&invoice, start.timestamp()).await.expect("post");
    assert_eq!(status, 200, "{body}");
    // the same webhook again, as Stripe retries: changes nothing
    assert_eq!(
        g.stripe(&invoice, start.timestamp()).await.expect("post").0,
        200
    );

    let batch = json!([
        {"type": "assignment_submitted", "customer_id": "e2e-1", "occurred_at": "2026-11-02T09:30:00Z"},
        {"type": "login", "customer_id": "e2e-2", "occurred_at": "2026-11-02T09:31:00Z"}
    ]);
    set_clock(&g, at("2026-11-02T09:32:00Z")).await;
    let (status, body) = g
        .app(&batch, "msg_e2e_1", at("2026-11-02T09:32:00Z").timestamp())
        .await
        .expect("post");
    assert_eq!(status, 202, "{body}");
    settle(&g).await;

    // a week of silence, simulated: the sweep escalates
    for (days, risk) in [(7, RiskLevel::Caution), (10, RiskLevel::Warning)] {
        let time = at("2026-11-02T09:30:00Z") + Days::days(days);
        let report = g
            .local("/_local/sweep", Some(json!({"time": time})))
            .await
            .expect("sweep");
        assert_eq!(report["checks_emitted"], 1, "{report}");
        settle(&g).await;
        let customer = g
            .local("/_local/customers/e2e-1", None)
            .await
            .expect("customer");
        assert_eq!(customer["customer"]["risk"], risk.as_str(), "{customer}");
    }

    // through the store itself
    let aws = emulator_config(&format!("http://127.0.0.1:{}", running.emulator_port)).await;
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        format!("journey-{}", running.env),
    );
    let id = CustomerId::new("e2e-1").expect("id");
    let c = store.load(&id).await.expect("load").expect("exists");
    assert_eq!((c.stage, c.risk), (Some(Stage::Active), RiskLevel::Warning));
    assert_eq!(c.revenue["KRW"], 99_000, "the retried webhook counted once");
    let history = store.history(&id, 20, None).await.expect("history").entries;
    let changes: Vec<String> = history
        .iter()
        .rev()
        .map(|h| match &h.change {
            Change::Stage { to, .. } => to.to_string(),
            Change::Risk { to, .. } => to.to_string(),
            Change::Note { note } => note.clone(),
        })
        .collect();
    assert_eq!(
        changes,
        vec!["paid", "onboarding", "active", "caution", "warning"]
    );
    let early = store
        .load(&CustomerId::new("e2e-2").expect("id"))
        .await
        .expect("load")
        .expect("kept");
    assert_eq!(
        early.stage, None,
        "a login from an unknown customer is kept, not counted"
    );
    let counts = g.local("/_local/counts", None).await.expect("counts");
    assert_eq!(counts["total"], 1);
    drop(running);
}

#[tokio::test]
async fn a_second_start_on_a_busy_port_says_so_and_ctrl_c_stops_everything() {
    let (mut running, _g) = up("busy").await;
    let state_dir = running.state_dir.clone();
    let second = start(running.http_port, free_port(), "busy", &state_dir)
        .wait_with_output()
        .expect("second run");
    assert!(!second.status.success());
    let message = String::from_utf8_lossy(&second.stderr);
    assert!(
        message.contains("Is another `make dev` running?"),
        "{message}"
    );

    // Ctrl-C: the gateway stops and so does the emulator it started
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(running.child.id() as libc::pid_t, libc::SIGINT);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = running.child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "did not stop on SIGINT");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", running.emulator_port)).is_err(),
        "the emulator stopped with the stack"
    );
}

#[tokio::test]
async fn the_demo_replays_the_scenario_and_prints_the_result() {
    let state_dir = std::env::temp_dir().join(format!("journey-demo-{}", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_journey-local"))
        .arg("demo")
        .current_dir(root())
        .env_remove("AWS_ENDPOINT_URL")
        .env("JOURNEY_HTTP_PORT", free_port().to_string())
        .env("JOURNEY_EMULATOR_PORT", free_port().to_string())
        .env("JOURNEY_STATE_DIR", &state_dir)
        .env("JOURNEY_SWEEP_EVERY", "0")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("Customers by stage × risk (7 in all)"),
        "{stdout}"
    );
    for line in [
        "completed         1",
        "churned           2",
        "🚨 위험 고객: lee",
        "새 체험 가입: kim",
        "lee@example.com          (광고) 박서연입니다. 1:1 상담을 제안드려요",
        // the demo's stack sends texts too: jung's number is off KakaoTalk, so the payment
        // notice's 알림톡 goes as its fallback; choi's caution nudge as a 알림톡
        "Texts sent (2)",
        "01000003104      알림톡 → LMS fallback, delivered",
        "01023456789      알림톡, delivered",
    ] {
        assert!(stdout.contains(line), "`{line}` missing from:\n{stdout}");
    }
}

/// `application/x-www-form-urlencoded` of `pairs`.
fn form(pairs: &[(&str, &str)]) -> String {
    let mut f = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        f.append_pair(k, v);
    }
    f.finish()
}

/// A staff member signs in as the dashboard does (discovery, the code flow with PKCE) through
/// the stand-in issuer, and only a valid ID token reaches the `/staff/` routes.
#[tokio::test]
async fn staff_sign_in_with_the_code_flow_and_only_their_token_opens_the_staff_routes() {
    use base64::Engine;
    use sha2::Digest;
    let (running, _) = up("oidc").await;
    let base = format!("http://127.0.0.1:{}", running.http_port);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // the page names the provider; its policy lets it reach it
    let page = http.get(format!("{base}/")).send().await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains(&format!("connect-src 'self' {base}")), "{csp}");
    let html = page.text().await.unwrap();
    let issuer = format!("{base}/_local/oidc");
    assert!(
        html.contains(&format!("{issuer}&quot;")),
        "the page's sign-in settings"
    );

    let discovery: serde_json::Value = http
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], issuer.as_str());
    let authorize = discovery["authorization_endpoint"].as_str().unwrap();
    let token_endpoint = discovery["token_endpoint"].as_str().unwrap();

    let verifier = "a-verifier-of-at-least-forty-three-characters-0123456789";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let redirect = format!("{base}/");
    let params = [
        ("response_type", "code"),
        ("client_id", journey_local::oidc::CLIENT_ID),
        ("redirect_uri", redirect.as_str()),
        ("state", "s-1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("scope", "openid email profile"),
    ];
    let sign_in_page = http
        .get(format!("{authorize}?{}", form(&params)))
        .send()
        .await
        .unwrap();
    assert_eq!(sign_in_page.status(), 200);
    assert!(
        sign_in_page
            .text()
            .await
            .unwrap()
            .contains(r#"name="email""#)
    );
    // another redirect URI is refused
    let elsewhere = http
        .get(format!(
            "{authorize}?{}",
            form(&[
                ("client_id", journey_local::oidc::CLIENT_ID),
                ("redirect_uri", "https://evil.example.com/"),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ])
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 400);

    let code_for = |email: &'static str| {
        let http = http.clone();
        let mut fields: Vec<(&str, &str)> = params.to_vec();
        fields.push(("email", email));
        fields.push(("name", "Mina Kim"));
        let body = form(&fields);
        let authorize = authorize.to_string();
        async move {
            let answer = http
                .post(authorize)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            assert!(answer.status().is_redirection(), "{}", answer.status());
            let location = answer.headers()["location"].to_str().unwrap().to_string();
            let query = location.split_once('?').unwrap().1.to_string();
            let pairs: std::collections::HashMap<String, String> =
                form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect();
            assert!(location.starts_with(&format!("{}?", params[2].1)));
            assert_eq!(pairs["state"], "s-1");
            pairs["code"].clone()
        }
    };
    let exchange = |code: String, verifier: &'static str| {
        let http = http.clone();
        let body = form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect),
            ("client_id", journey_local::oidc::CLIENT_ID),
            ("code_verifier", verifier),
        ]);
        let token_endpoint = token_endpoint.to_string();
        async move {
            let answer = http
                .post(token_endpoint)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = answer.status().as_u16();
            (status, answer.json::<serde_json::Value>().await.unwrap())
        }
    };
    let code = code_for("mina@example.com").await;
    let (status, tokens) = exchange(code.clone(), verifier).await;
    assert_eq!(status, 200, "{tokens}");
    let id_token = tokens["id_token"].as_str().unwrap().to_string();
    // a code is good once; another's verifier gets nothing
    assert_eq!(exchange(code, verifier).await.1["error"], "invalid_grant");
    let other = code_for("mina@example.com").await;
    assert_eq!(
        exchange(other, "not-the-verifier-of-this-code-0123456789-abcdef")
            .await
            .1["error"],
        "invalid_grant"
    );

    let me = |token: Option<String>| {
        let mut request = http.get(format!("{base}/staff/me"));
        if let Some(t) = token {
            request = request.header("authorization", format!("Bearer {t}"));
        }
        async move {
            let answer = request.send().await.unwrap();
            (
                answer.status().as_u16(),
                answer.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let (status, who) = me(Some(id_token.clone())).await;
    assert_eq!(status, 200, "{who}");
    assert_eq!(who["staff"]["id"], "mina@example.com");
    assert_eq!(who["staff"]["name"], "Mina Kim");
    let (status, body) = me(None).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (401, Some("Unauthorized"))
    );
    let mut forged = id_token.clone();
    forged.insert(forged.len() - 2, 'A');
    assert_eq!(me(Some(forged)).await.0, 401);
    // the API key does not open the staff routes, nor a token the machine routes
    let api_key = LocalSecrets::load_or_create(&running.state_dir)
        .unwrap()
        .value(api::API_KEY_SECRET)
        .unwrap();
    let keyed = http
        .get(format!("{base}/staff/me"))
        .header("x-api-key", &api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(keyed.status(), 401);
    let tokened = http
        .get(format!("{base}/me"))
        .header("authorization", format!("Bearer {id_token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(tokened.status(), 401);
}

/// A failed payment's notice by text, through the running stack: the worker plans it, the text
/// sender sends it once to the Solapi stand-in as a 알림톡 with its SMS fallback, and the
/// stand-in's delivery report for a number that blocked 알림톡 comes back through
/// `/webhooks/solapi` and suppresses 알림톡 for that customer, in their history. The e-mail is
/// the text's fallback (`email_fallback`): it goes to the blocked customer only, after the
/// report, and the delivered one gets none.
#[tokio::test]
async fn a_payment_notice_goes_as_alimtalk_and_a_block_report_comes_back() {
    let rules = std::fs::read_to_string(root().join("infra/rules.toml"))
        .unwrap()
        .replace(
            "[interventions.payment_failed]\n",
            "[interventions.payment_failed]\ntext = \"billing_failed\"\nemail_fallback = true\n",
        );
    let rules_file =
        std::env::temp_dir().join(format!("journey-texts-{}.toml", std::process::id()));
    std::fs::write(&rules_file, rules).unwrap();
    let (_running, g) = up_with("texts", &[("RULES_FILE", rules_file.display().to_string())]).await;
    let start = at("2026-11-02T01:00:00Z");
    set_clock(&g, start).await;
    for (customer, phone) in [("t-kakao", "010-1234-5678"), ("t-blocked", "010-0000-3107")] {
        let profile = json!({"type": "profile_updated", "customer_id": customer,
            "occurred_at": "2026-11-02T00:59:00Z", "phone": phone, "locale": "ko",
            "email": format!("{customer}@example.com")});
        let (status, body) = g
            .app(&profile, &format!("msg-{customer}"), start.timestamp())
            .await
            .unwrap();
        assert_eq!(status, 202, "{body}");
        for (kind, n) in [("invoice.paid", 1), ("invoice.payment_failed", 2)] {
            let invoice = json!({
                "id": format!("evt_{customer}_{n}"), "object": "event", "type": kind,
                "created": start.timestamp() + n,
                "data": {"object": {"customer": format!("cus_{customer}"), "amount_paid": 99000,
                    "amount_due": 99000, "currency": "krw", "metadata": {"customer_id": customer}}}
            });
            let (status, body) = g.stripe(&invoice, start.timestamp() + n).await.unwrap();
            assert_eq!(status, 200, "{body}");
        }
    }
    settle(&g).await;
    let sent = g
        .local("/_local/solapi/_stand-in/messages", None)
        .await
        .unwrap();
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "{sent}");
    for m in messages {
        assert_eq!(m["type"], "ATA", "{m}");
    }
    assert!(
        sent["sendsPerId"]
            .as_object()
            .unwrap()
            .values()
            .all(|n| n == 1),
        "{sent}"
    );
    // the stand-in posts its reports every 2 s; the worker applies them
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        settle(&g).await;
        let blocked = g.local("/_local/customers/t-blocked", None).await.unwrap();
        if blocked.to_string().contains("not reachable on KakaoTalk") {
            let kakao = g.local("/_local/customers/t-kakao", None).await.unwrap();
            assert!(!kakao.to_string().contains("not reachable"), "{kakao}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no block report applied: {blocked}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    } // the failed 알림톡's e-mail went, once, to the blocked customer alone
    settle(&g).await;
    let outbox = g.local("/_local/outbox", None).await.unwrap();
    // the billing notices among them (the onboarding welcome goes to both)
    let to: Vec<String> = outbox["emails"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subject"].as_str().unwrap_or("").contains("결제 실패"))
        .map(|e| e["to"].to_string())
        .collect();
    assert_eq!(
        to.iter().filter(|t| t.contains("t-blocked@")).count(),
        1,
        "{to:?}"
    );
    assert!(!to.iter().any(|t| t.contains("t-kakao@")), "{to:?}");
}
