//! The stand-in over real HTTP: signed requests through reqwest, reports to a small receiving
//! server, time fixed at the Go SDK's test-vector date.

use std::collections::VecDeque;

use super::*;

const KEY: &str = "testKey";
const SECRET: &str = "testSecret";
/// The solapi-go unit test's inputs, and the signature Python's hmac computes for them.
const DATE: &str = "2025-09-14T12:34:56Z";
const SALT: &str = "Abc123XYZ789abcdEFGHijklMNOPqr";
const VECTOR: &str = "69607016f2059c0bcb97954551ec3a03323ada290e6c98ed1d15b0f34d51b1a1";

const CUSTOMER: &str = "01012345678";
const SENDER: &str = "0212345678";
/// 124 bytes in EUC-KR: an LMS.
const LONG_TEXT: &str = "안녕하세요 홍길동님, 파이썬 입문 강의를 일주일 동안 듣지 않으셨어요. 오늘 다시 시작해 보시겠어요? 진도는 그대로 남아 있어요.";

struct Fixed(DateTime<Utc>);

impl Clock for Fixed {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

fn vector_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(DATE)
        .unwrap()
        .with_timezone(&Utc)
}

struct Harness {
    stand_in: SolapiStandIn,
    base: String,
    http: reqwest::Client,
    now: DateTime<Utc>,
}

impl Harness {
    async fn start(report_url: Option<&str>) -> Harness {
        let now = vector_time();
        let mut config = SolapiConfig::new(KEY, SECRET).with_clock(Arc::new(Fixed(now)));
        if let Some(url) = report_url {
            config = config.with_report_url(url);
        }
        let stand_in = SolapiStandIn::new(config).unwrap();
        let base = stand_in.serve().await.unwrap();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Harness {
            stand_in,
            base,
            http,
            now,
        }
    }

    /// A header for `date`, with a salt of its own (as every SDK makes one per request).
    fn signed_at(&self, date: DateTime<Utc>) -> String {
        let salt: String = (0..32).map(|_| fastrand::alphanumeric()).collect();
        authorization(KEY, SECRET, &wire::stamp(date), &salt)
    }

    fn signed(&self) -> String {
        self.signed_at(self.now)
    }

    async fn send_with(&self, authorization: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/messages/v4/send-many/detail", self.base))
            .header("Authorization", authorization)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn send(&self, body: &Value) -> (u16, Value) {
        self.send_with(&self.signed(), body).await
    }

    /// Sends `messages` asking for the message list; the answer, which must be 200.
    async fn send_listed(&self, messages: Vec<Value>) -> Value {
        let (status, answer) = self
            .send(&json!({"messages": messages, "showMessageList": true}))
            .await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    async fn list(&self, query: &str) -> Value {
        let response = self
            .http
            .get(format!("{}/messages/v4/list?{query}", self.base))
            .header("Authorization", self.signed())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        response.json().await.unwrap()
    }

    /// What a poll says about `message_id`.
    async fn poll(&self, message_id: &str) -> Value {
        let list = self.list(&format!("messageId={message_id}")).await;
        list["messageList"][message_id].clone()
    }
}

fn alimtalk(to: &str, send_id: &str, text: Option<&str>, disable_sms: bool) -> Value {
    let mut message = json!({
        "to": to,
        "from": SENDER,
        "type": "ATA",
        "kakaoOptions": {
            "pfId": "KA01PF0000000000000000000000000",
            "templateId": "KA01TP0000000000000000000000000",
            "variables": {"#{name}": "홍길동", "#{course}": "파이썬 입문"},
            "disableSms": disable_sms,
            "buttons": [{"buttonName": "강의 이어보기", "buttonType": "WL", "linkMo": "https://example.com/c/1"}],
        },
        "customFields": {"send_id": send_id},
    });
    if let Some(text) = text {
        message["text"] = json!(text);
    }
    message
}

fn sms(to: &str, send_id: &str, text: &str) -> Value {
    json!({"to": to, "from": SENDER, "type": "SMS", "text": text, "customFields": {"send_id": send_id}})
}

fn message_id(answer: &Value, i: usize) -> String {
    answer["messageList"][i]["messageId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A webhook that answers each post with the next of `statuses`, then 200.
struct Receiver {
    url: String,
    posts: Arc<Mutex<Vec<Value>>>,
}

type ReceiverState = (Arc<Mutex<Vec<Value>>>, Arc<Mutex<VecDeque<u16>>>);

async fn receiver(statuses: &[u16]) -> Receiver {
    async fn receive(
        State((posts, statuses)): State<ReceiverState>,
        Json(body): Json<Value>,
    ) -> StatusCode {
        posts.lock().unwrap().push(body);
        let status = statuses.lock().unwrap().pop_front().unwrap_or(200);
        StatusCode::from_u16(status).unwrap()
    }
    let posts: Arc<Mutex<Vec<Value>>> = Arc::default();
    let state: ReceiverState = (
        Arc::clone(&posts),
        Arc::new(Mutex::new(statuses.iter().copied().collect())),
    );
    let app = Router::new()
        .route("/solapi/reports", post(receive))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/solapi/reports", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver { url, posts }
}

impl Receiver {
    fn posts(&self) -> Vec<Value> {
        self.posts.lock().unwrap().clone()
    }

    /// Every report received, post after post.
    fn reports(&self) -> Vec<Value> {
        self.posts()
            .into_iter()
            .flat_map(|p| p.as_array().cloned().unwrap())
            .collect()
    }
}

#[test]
fn the_go_sdk_vector_signs_as_solapi_does() {
    assert_eq!(signature(SECRET, DATE, SALT), VECTOR);
    assert_eq!(
        authorization(KEY, SECRET, DATE, SALT),
        format!("HMAC-SHA256 apiKey={KEY}, date={DATE}, salt={SALT}, signature={VECTOR}")
    );
}

#[test]
fn header_parameters_are_read_in_any_case_and_order() {
    let python = format!("HMAC-SHA256 Signature={VECTOR}, ApiKey={KEY}, Date={DATE}, Salt={SALT}");
    assert_eq!(
        parse(&python),
        Some(Credentials {
            api_key: KEY.into(),
            date: DATE.into(),
            salt: SALT.into(),
            signature: VECTOR.into(),
        })
    );
    assert_eq!(parse(&format!("HMAC-MD5 apiKey={KEY}")), None);
    assert_eq!(
        parse(&format!("HMAC-SHA256 apiKey={KEY}, date={DATE}")),
        None
    );
}

#[test]
fn texts_are_measured_as_carriers_count_them() {
    assert_eq!(text_bytes("abc"), 3);
    assert_eq!(text_bytes("홍길동 hi"), 9);
    assert_eq!(text_bytes(LONG_TEXT), 124);
    assert_eq!(Kind::for_text(&"가".repeat(45), None), Kind::Sms);
    assert_eq!(Kind::for_text(&"가".repeat(46), None), Kind::Lms);
    assert_eq!(Kind::for_text("hi", Some("제목")), Kind::Lms);
}

#[test]
fn international_numbers_reach_the_same_scripts() {
    assert_eq!(wire::domestic("+82 10-0000-3104"), NOT_KAKAO_USER);
    assert_eq!(wire::domestic("010-0000-3107"), BLOCKED);
    assert_eq!(Script::of("+821000000002"), Script::ReportedTwice);
    assert_eq!(Script::of("821000003104"), Script::Delivered);
}

#[tokio::test]
async fn a_signed_send_is_accepted_and_answered_as_send_many_detail() {
    let h = Harness::start(None).await;
    let vector = format!("HMAC-SHA256 apiKey={KEY}, date={DATE}, salt={SALT}, signature={VECTOR}");
    let body = json!({"messages": [alimtalk(CUSTOMER, "snd_1", Some("fallback"), false)], "showMessageList": true});

    let (status, answer) = h.send_with(&vector, &body).await;

    assert_eq!(status, 200, "{answer}");
    let group = &answer["groupInfo"];
    assert_eq!(group["count"]["total"], 1);
    assert_eq!(group["count"]["registeredSuccess"], 1);
    assert_eq!(group["count"]["registeredFailed"], 0);
    assert_eq!(group["countForCharge"]["ata"], json!({"82": 1}));
    assert_eq!(group["dateCreated"], "2025-09-14T12:34:56.000Z");
    let group_id = group["groupId"].as_str().unwrap();
    assert!(group_id.starts_with("G4V20250914123456") && group_id.len() == 32);
    assert_eq!(answer["failedMessageList"], json!([]));
    let item = &answer["messageList"][0];
    assert_eq!(item["statusCode"], "2000");
    assert_eq!(item["to"], CUSTOMER);
    assert_eq!(item["type"], "ATA");
    assert_eq!(item["customFields"]["send_id"], "snd_1");
    let id = message_id(&answer, 0);
    assert!(
        id.starts_with("M4V20250914123456") && id.len() == 32,
        "{id}"
    );

    let received = h.stand_in.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].message_id, id);
    assert_eq!(received[0].send_id.as_deref(), Some("snd_1"));
    assert_eq!(received[0].kind, "ATA");
    assert_eq!(
        received[0].kakao_options.as_ref().unwrap()["variables"]["#{name}"],
        "홍길동"
    );
    assert_eq!(
        h.stand_in.sends_per_id(),
        BTreeMap::from([("snd_1".to_string(), 1)])
    );
    assert_eq!(h.stand_in.status_of(&id).as_deref(), Some("3000"));
}

#[tokio::test]
async fn a_reused_signature_is_refused() {
    let h = Harness::start(None).await;
    let header = h.signed();
    let body = json!({"messages": [sms(CUSTOMER, "snd_1", "hello")]});
    assert_eq!(h.send_with(&header, &body).await.0, 200);

    let (status, answer) = h.send_with(&header, &body).await;

    assert_eq!(status, 403);
    assert_eq!(answer["errorCode"], "DuplicatedSignature");
    assert_eq!(h.stand_in.received().len(), 1, "the retry was not recorded");
    assert_eq!(
        h.send(&body).await.0,
        200,
        "a fresh salt is a fresh signature"
    );
}

#[tokio::test]
async fn a_date_more_than_fifteen_minutes_off_is_refused() {
    let h = Harness::start(None).await;
    let body = json!({"messages": [sms(CUSTOMER, "snd_1", "hello")]});
    for minutes in [-16, 16] {
        let header = h.signed_at(h.now + chrono::Duration::minutes(minutes));
        let (status, answer) = h.send_with(&header, &body).await;
        assert_eq!(status, 403, "{minutes} min");
        assert_eq!(answer["errorCode"], "RequestTimeTooSkewed");
    }
    let slow_clock = h.signed_at(h.now - chrono::Duration::minutes(14));
    assert_eq!(h.send_with(&slow_clock, &body).await.0, 200);
    // Python's SDK: local time with an offset and microseconds
    let seoul = "2025-09-14T21:34:56.123456+09:00";
    let python = format!(
        "HMAC-SHA256 ApiKey={KEY}, Date={seoul}, Salt={SALT}, Signature={}",
        signature(SECRET, seoul, SALT)
    );
    assert_eq!(h.send_with(&python, &body).await.0, 200);
    assert_eq!(h.stand_in.received().len(), 2);
}

#[tokio::test]
async fn a_wrong_secret_key_or_header_is_refused() {
    let h = Harness::start(None).await;
    let body = json!({"messages": [sms(CUSTOMER, "snd_1", "hello")]});
    let cases = [
        (
            authorization(KEY, "otherSecret", DATE, SALT),
            403,
            "SignatureDoesNotMatch",
        ),
        (
            authorization("otherKey", SECRET, DATE, SALT),
            403,
            "InvalidAPIKey",
        ),
        (
            format!("HMAC-SHA256 apiKey={KEY}, date={DATE}, salt={SALT}, signature=zz"),
            403,
            "SignatureDoesNotMatch",
        ),
        (format!("Bearer {VECTOR}"), 401, "InvalidAuthorization"),
        (
            authorization(KEY, SECRET, DATE, "short"),
            401,
            "InvalidAuthorization",
        ),
    ];
    for (header, status, code) in cases {
        let (got, answer) = h.send_with(&header, &body).await;
        assert_eq!((got, answer["errorCode"].as_str()), (status, Some(code)));
    }
    assert!(h.stand_in.received().is_empty());
}

#[tokio::test]
async fn the_message_list_comes_only_when_asked_for() {
    let h = Harness::start(None).await;
    let (status, answer) = h
        .send(&json!({"messages": [sms(CUSTOMER, "snd_1", "hello")]}))
        .await;
    assert_eq!(status, 200);
    assert!(answer.get("messageList").is_none(), "{answer}");
    assert_eq!(answer["groupInfo"]["count"]["registeredSuccess"], 1);
}

#[tokio::test]
async fn an_alimtalk_is_delivered_and_reported_to_the_webhook() {
    let webhook = receiver(&[]).await;
    let h = Harness::start(Some(&webhook.url)).await;
    let answer = h
        .send_listed(vec![alimtalk(CUSTOMER, "snd_1", Some("fallback"), false)])
        .await;
    let id = message_id(&answer, 0);
    assert_eq!(h.poll(&id).await["statusCode"], "3000");

    let reported = h.stand_in.deliver_reports().await;

    assert_eq!(
        reported,
        Reported {
            posts: 1,
            acknowledged: 1,
            given_up: 0,
            pending: 0
        }
    );
    let reports = webhook.reports();
    assert_eq!(reports.len(), 1);
    let report = &reports[0];
    assert_eq!(report["retryCount"], 0);
    assert_eq!(report["eventDataId"].as_str().unwrap().len(), 24);
    let data = &report["data"];
    assert_eq!(data["messageId"], id.as_str());
    assert_eq!(data["groupId"], answer["groupInfo"]["groupId"]);
    assert_eq!(data["type"], "ATA");
    assert_eq!(data["statusCode"], "4000");
    assert_eq!(data["statusMessage"], "수신 완료");
    assert_eq!(data["to"], CUSTOMER);
    assert_eq!(data["from"], SENDER);
    assert_eq!(data["customFields"]["send_id"], "snd_1");
    assert_eq!(
        data["kakaoOptions"]["templateId"],
        "KA01TP0000000000000000000000000"
    );
    assert_eq!(data["dateReceived"], "2025-09-14T12:34:56.000Z");
    assert_eq!(data["networkCode"], Value::Null);

    let polled = h.poll(&id).await;
    assert_eq!(polled["statusCode"], "4000");
    assert_eq!(polled["type"], "ATA");
    assert_eq!(polled["replacement"], false);
    assert_eq!(
        h.stand_in.deliver_reports().await,
        Reported::default(),
        "each report once"
    );
}

#[tokio::test]
async fn a_non_kakao_user_gets_the_fallback_as_lms_or_sms() {
    let webhook = receiver(&[]).await;
    let h = Harness::start(Some(&webhook.url)).await;
    let mut with_subject = alimtalk(NOT_KAKAO_USER, "snd_subject", Some("짧은 글"), false);
    with_subject["subject"] = json!("강의 안내");
    let (status, answer) = h
        .send(&json!({
            "messages": [
                alimtalk(NOT_KAKAO_USER, "snd_long", Some(LONG_TEXT), false),
                alimtalk(NOT_KAKAO_USER, "snd_short", Some("강의가 기다려요"), false),
                with_subject,
            ],
            "allowDuplicates": true,
            "showMessageList": true,
        }))
        .await;
    assert_eq!(status, 200, "{answer}");

    h.stand_in.deliver_reports().await;

    let reports = webhook.reports();
    let by_send = |send_id: &str| {
        reports
            .iter()
            .map(|r| &r["data"])
            .find(|d| d["customFields"]["send_id"] == send_id)
            .cloned()
            .unwrap()
    };
    let long = by_send("snd_long");
    assert_eq!(
        (long["statusCode"].as_str(), long["type"].as_str()),
        (Some("4000"), Some("LMS"))
    );
    assert_eq!(long["messageId"], answer["messageList"][0]["messageId"]);
    assert_eq!(long["networkCode"], "SKT");
    assert_eq!(long["kakaoOptions"]["disableSms"], false);
    assert_eq!(by_send("snd_short")["type"], "SMS");
    assert_eq!(by_send("snd_subject")["type"], "LMS");
    let polled = h.poll(&message_id(&answer, 0)).await;
    assert_eq!(polled["type"], "LMS");
    assert_eq!(polled["replacement"], true);
    assert_eq!(polled["statusCode"], "4000");
    assert_eq!(webhook.posts().len(), 1, "one post, three reports");
}

#[tokio::test]
async fn a_non_kakao_user_without_a_fallback_fails_3104() {
    let webhook = receiver(&[]).await;
    let h = Harness::start(Some(&webhook.url)).await;
    // the same recipient twice (`+82 10…` is `010…`): allowed only when asked
    let (status, answer) = h
        .send(&json!({
            "messages": [
                alimtalk(NOT_KAKAO_USER, "snd_disabled", Some("대체 문자"), true),
                alimtalk("+821000003104", "snd_no_text", None, false),
            ],
            "allowDuplicates": true,
        }))
        .await;
    assert_eq!(status, 200);
    assert_eq!(answer["groupInfo"]["count"]["registeredSuccess"], 2);

    h.stand_in.deliver_reports().await;

    let reports = webhook.reports();
    assert_eq!(reports.len(), 2);
    for report in reports {
        let data = &report["data"];
        assert_eq!(data["statusCode"], "3104");
        assert_eq!(data["statusMessage"], "카카오톡 미사용자");
        assert_eq!(data["type"], "ATA");
        assert_eq!(data["dateReceived"], Value::Null);
    }
}

#[tokio::test]
async fn the_flaky_number_answers_503_once_then_serves() {
    let h = Harness::start(None).await;
    let body = json!({"messages": [alimtalk(UNAVAILABLE_ONCE, "snd_flaky", Some("대체"), false)]});

    let (first, refusal) = h.send(&body).await;
    let (second, answer) = h.send(&body).await;

    assert_eq!(first, 503);
    assert_eq!(refusal["errorCode"], "ServiceUnavailable");
    assert_eq!(second, 200, "{answer}");
    assert_eq!(answer["groupInfo"]["count"]["registeredSuccess"], 1);
    assert_eq!(
        h.stand_in.sends_per_id(),
        BTreeMap::from([("snd_flaky".to_string(), 1)]),
        "the refused request left nothing behind"
    );
}

#[tokio::test]
async fn a_503_spends_the_signature_so_a_retry_must_sign_afresh() {
    let h = Harness::start(None).await;
    let body = json!({"messages": [sms(UNAVAILABLE_ONCE, "snd_flaky", "hi")]});
    let header = h.signed();
    assert_eq!(h.send_with(&header, &body).await.0, 503);
    let (status, answer) = h.send_with(&header, &body).await;
    assert_eq!(
        (status, answer["errorCode"].as_str()),
        (403, Some("DuplicatedSignature"))
    );
    assert!(h.stand_in.received().is_empty());
}

#[tokio::test]
async fn a_blocked_recipient_fails_3107_and_refuses_texts_1061() {
    let webhook = receiver(&[]).await;
    let h = Harness::start(Some(&webhook.url)).await;
    let (status, answer) = h
        .send(&json!({
            "messages": [
                alimtalk(BLOCKED, "snd_ata", Some("대체 문자"), false),
                sms(BLOCKED, "snd_sms", "문자"),
            ],
            "allowDuplicates": true,
            "showMessageList": true,
        }))
        .await;

    assert_eq!(status, 200);
    assert_eq!(answer["groupInfo"]["count"]["registeredSuccess"], 1);
    assert_eq!(answer["groupInfo"]["count"]["registeredFailed"], 1);
    let failed = &answer["failedMessageList"][0];
    assert_eq!(failed["statusCode"], "1061");
    assert_eq!(failed["type"], "SMS");
    assert_eq!(failed["customFields"]["send_id"], "snd_sms");
    assert!(failed["messageId"].as_str().unwrap().starts_with("M4V"));
    h.stand_in.deliver_reports().await;
    let reports = webhook.reports();
    assert_eq!(reports.len(), 1, "an intake refusal is not reported");
    assert_eq!(reports[0]["data"]["statusCode"], "3107");
    assert_eq!(reports[0]["data"]["type"], "ATA");
    assert_eq!(
        h.stand_in.sends_per_id(),
        BTreeMap::from([("snd_ata".to_string(), 1)])
    );
    let polled = h.list("to=01000003107").await;
    assert_eq!(polled["messageList"].as_object().unwrap().len(), 2);
}

#[tokio::test]
async fn a_report_scripted_twice_is_posted_twice() {
    let webhook = receiver(&[]).await;
    let h = Harness::start(Some(&webhook.url)).await;
    h.send_listed(vec![
        alimtalk(REPORTED_TWICE, "snd_twice", Some("대체"), false),
        alimtalk(CUSTOMER, "snd_once", Some("대체"), false),
    ])
    .await;

    let reported = h.stand_in.deliver_reports().await;

    assert_eq!(reported.posts, 2);
    assert_eq!(reported.acknowledged, 3);
    let posts = webhook.posts();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].as_array().unwrap().len(), 2);
    let first = posts[0]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["data"]["to"] == REPORTED_TWICE)
        .unwrap();
    let second = &posts[1][0];
    assert_eq!(posts[1].as_array().unwrap().len(), 1);
    assert_eq!(second["eventDataId"], first["eventDataId"]);
    assert_eq!(second["data"], first["data"]);
    assert_eq!(
        (first["retryCount"].as_u64(), second["retryCount"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(second["data"]["statusCode"], "4000");
}

#[tokio::test]
async fn a_lost_report_never_arrives_and_polls_show_3000() {
    let webhook = receiver(&[]).await;
    let h = Harness::start(Some(&webhook.url)).await;
    let answer = h
        .send_listed(vec![alimtalk(
            NEVER_REPORTED,
            "snd_lost",
            Some("대체"),
            false,
        )])
        .await;

    let reported = h.stand_in.deliver_reports().await;
    h.stand_in.deliver_reports().await;

    assert_eq!(reported, Reported::default());
    assert!(webhook.posts().is_empty());
    let polled = h.poll(&message_id(&answer, 0)).await;
    assert_eq!(polled["statusCode"], "3000");
    assert_eq!(polled["dateReported"], Value::Null);
}

#[tokio::test]
async fn a_refused_report_is_posted_five_times_in_all() {
    let webhook = receiver(&[500; 10]).await;
    let h = Harness::start(Some(&webhook.url)).await;
    h.send_listed(vec![sms(CUSTOMER, "snd_1", "hello")]).await;

    let reported = h.stand_in.deliver_reports().await;

    assert_eq!(
        reported,
        Reported {
            posts: 5,
            acknowledged: 0,
            given_up: 1,
            pending: 0
        }
    );
    let tries: Vec<u64> = webhook
        .reports()
        .iter()
        .map(|r| r["retryCount"].as_u64().unwrap())
        .collect();
    assert_eq!(tries, [0, 1, 2, 3, 4]);
    let event_ids: HashSet<String> = webhook
        .reports()
        .iter()
        .map(|r| r["eventDataId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(event_ids.len(), 1, "the same report each time");
    let statuses: Vec<Option<u16>> = h.stand_in.report_posts().iter().map(|p| p.status).collect();
    assert_eq!(statuses, [Some(500); 5]);
}

#[tokio::test]
async fn a_report_answered_200_after_two_refusals_is_posted_three_times() {
    let webhook = receiver(&[503, 204]).await;
    let h = Harness::start(Some(&webhook.url)).await;
    h.send_listed(vec![sms(CUSTOMER, "snd_1", "hello")]).await;

    let reported = h.stand_in.deliver_reports().await;

    assert_eq!(
        (reported.posts, reported.acknowledged, reported.given_up),
        (3, 1, 0)
    );
    assert_eq!(webhook.reports()[2]["retryCount"], 2);
    assert_eq!(webhook.reports()[2]["data"]["type"], "SMS");
}

#[tokio::test]
async fn intake_refusals_go_to_the_failed_list() {
    let h = Harness::start(None).await;
    let mut subject_on_sms = sms("01011110001", "snd_subject", "hi");
    subject_on_sms["subject"] = json!("제목");
    let mut no_profile = alimtalk("01011110003", "snd_profile", None, false);
    no_profile["kakaoOptions"]["pfId"] = Value::Null;
    let long_field = json!({
        "to": "01011110004", "from": SENDER, "type": "SMS", "text": "hi",
        "customFields": {"send_id": "x".repeat(101)},
    });
    let messages = vec![
        subject_on_sms,
        sms("01011110002", "snd_long", LONG_TEXT),
        no_profile,
        long_field,
        json!({"from": SENDER, "type": "SMS", "text": "no recipient"}),
        json!({"to": "01011110005", "from": SENDER, "type": "MMS", "text": "hi"}),
        json!({"to": "01011110006", "from": SENDER, "type": "LMS", "text": "hi", "subject": "가".repeat(21)}),
        sms(CUSTOMER, "snd_first", "hi"),
        sms(CUSTOMER, "snd_second", "hi"),
    ];

    let answer = h.send_listed(messages).await;

    let codes: Vec<&str> = answer["failedMessageList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["statusCode"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "1013", "1031", "1041", "1032", "1010", "1025", "1014", "1026"
        ]
    );
    assert_eq!(answer["groupInfo"]["count"]["total"], 9);
    assert_eq!(answer["groupInfo"]["count"]["registeredFailed"], 8);
    assert_eq!(answer["groupInfo"]["count"]["registeredSuccess"], 1);
    assert_eq!(
        answer["messageList"][0]["customFields"]["send_id"],
        "snd_first"
    );
    assert_eq!(
        h.stand_in.sends_per_id(),
        BTreeMap::from([("snd_first".to_string(), 1)])
    );
    assert_eq!(h.stand_in.received().len(), 9);
    assert_eq!(h.stand_in.received()[7].status_code, "3000");
    assert_eq!(h.stand_in.received()[8].status_code, "1026");
}

#[tokio::test]
async fn a_request_without_messages_is_a_bad_request() {
    let h = Harness::start(None).await;
    let (status, answer) = h.send(&json!({"messages": []})).await;
    assert_eq!(
        (status, answer["errorCode"].as_str()),
        (400, Some("ValidationError"))
    );
}

#[tokio::test]
async fn polls_take_the_older_criteria_form_and_need_a_signature() {
    let h = Harness::start(None).await;
    let answer = h
        .send_listed(vec![
            sms(CUSTOMER, "snd_1", "hi"),
            sms("01099998888", "snd_2", "hi"),
        ])
        .await;
    let id = message_id(&answer, 1);

    let list = h
        .list(&format!("criteria=messageId&cond=eq&value={id}"))
        .await;

    let found = list["messageList"].as_object().unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[&id]["to"], "01099998888");
    assert_eq!(found[&id]["customFields"]["send_id"], "snd_2");
    assert_eq!(list["limit"], 20);
    assert_eq!(list["startKey"], Value::Null);
    let unsigned = h
        .http
        .get(format!("{}/messages/v4/list?messageId={id}", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);
}

#[tokio::test]
async fn tests_and_the_demo_read_messages_and_trigger_reports_over_http() {
    let webhook = receiver(&[]).await;
    let h = Harness::start(Some(&webhook.url)).await;
    h.send_listed(vec![alimtalk(CUSTOMER, "snd_1", Some("대체"), false)])
        .await;

    let seen: Value = h
        .http
        .get(format!("{}/_stand-in/messages", h.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reported: Value = h
        .http
        .post(format!("{}/_stand-in/reports", h.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    assert_eq!(seen["sendsPerId"], json!({"snd_1": 1}));
    assert_eq!(seen["messages"][0]["type"], "ATA");
    assert_eq!(seen["messages"][0]["sendId"], "snd_1");
    assert_eq!(seen["messages"][0]["statusCode"], "3000");
    assert_eq!(
        reported,
        json!({"posts": 1, "acknowledged": 1, "givenUp": 0, "pending": 0})
    );
    assert_eq!(webhook.reports().len(), 1);
}

#[tokio::test]
async fn signatures_are_checked_on_the_wall_clock_and_reports_stamped_on_the_provider_clock() {
    let webhook = receiver(&[]).await;
    let simulated = Utc::now() + chrono::Duration::days(30);
    let config = SolapiConfig::new(KEY, SECRET)
        .with_provider_clock(Arc::new(Fixed(simulated)))
        .with_report_url(&webhook.url);
    let stand_in = SolapiStandIn::new(config).unwrap();
    let base = stand_in.serve().await.unwrap();
    let header = authorization(KEY, SECRET, &wire::stamp(Utc::now()), SALT);

    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{base}/messages/v4/send-many/detail"))
        .header("Authorization", header)
        .json(&json!({"messages": [sms(CUSTOMER, "snd_1", "hi")]}))
        .send()
        .await
        .unwrap();
    stand_in.deliver_reports().await;

    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(stand_in.received()[0].received_at, simulated);
    assert_eq!(
        webhook.reports()[0]["data"]["dateReported"],
        wire::stamp(simulated)
    );
}
