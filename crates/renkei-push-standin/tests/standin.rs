//! The stand-in over real HTTP: an application server's request (encrypted and signed here, the
//! way a server does) is accepted and decrypted; bad requests are refused and recorded; the
//! answer queue and `wait_for` behave.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use renkei_push_standin::{Answer, StandIn, Subscriber};
use serde_json::{Value, json};
use sha2::Sha256;

/// The application server's half of RFC 8291, for the test only (the stand-in's own decryption
/// is pinned to the RFC example in its unit tests).
fn encrypt(subscription: &Value, plaintext: &[u8]) -> Vec<u8> {
    let ua_public_bytes = URL_SAFE_NO_PAD
        .decode(subscription["keys"]["p256dh"].as_str().unwrap())
        .unwrap();
    let auth = URL_SAFE_NO_PAD
        .decode(subscription["keys"]["auth"].as_str().unwrap())
        .unwrap();
    let ua_public = PublicKey::from_sec1_bytes(&ua_public_bytes).unwrap();
    let ephemeral = SecretKey::from_slice(&[0x42; 32]).unwrap();
    let as_public = ephemeral.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(ephemeral.to_nonzero_scalar(), ua_public.as_affine());
    let mut info = b"WebPush: info\0".to_vec();
    info.extend_from_slice(&ua_public_bytes);
    info.extend_from_slice(as_public.as_bytes());
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(&auth), shared.raw_secret_bytes().as_slice())
        .expand(&info, &mut ikm)
        .unwrap();
    let salt = [7u8; 16];
    let prk = Hkdf::<Sha256>::new(Some(&salt), &ikm);
    let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .unwrap();
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .unwrap();
    let mut record = plaintext.to_vec();
    record.push(2);
    let sealed = Aes128Gcm::new_from_slice(&cek)
        .unwrap()
        .encrypt(Nonce::from_slice(&nonce), record.as_slice())
        .unwrap();
    let mut body = salt.to_vec();
    body.extend_from_slice(&4096u32.to_be_bytes());
    body.push(65);
    body.extend_from_slice(as_public.as_bytes());
    body.extend_from_slice(&sealed);
    body
}

fn server_key() -> SigningKey {
    SigningKey::from_slice(&[9u8; 32]).unwrap()
}

fn server_public() -> String {
    URL_SAFE_NO_PAD.encode(
        server_key()
            .verifying_key()
            .to_encoded_point(false)
            .as_bytes(),
    )
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn vapid(aud: &str, exp: u64) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
    let claims = URL_SAFE_NO_PAD
        .encode(json!({"aud": aud, "exp": exp, "sub": "mailto:admin@localhost"}).to_string());
    let input = format!("{header}.{claims}");
    let sig: Signature = server_key().sign(input.as_bytes());
    format!(
        "vapid t={input}.{}, k={}",
        URL_SAFE_NO_PAD.encode(sig.to_bytes()),
        server_public()
    )
}

/// A complete, valid push request; `tweak` changes it before sending.
async fn send(
    standin: &StandIn,
    sub: &Subscriber,
    payload: &Value,
    tweak: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> reqwest::Response {
    let subscription = sub.subscription_json();
    let body = encrypt(&subscription, payload.to_string().as_bytes());
    let request = reqwest::Client::new()
        .post(subscription["endpoint"].as_str().unwrap())
        .header("authorization", vapid(standin.origin(), now() + 3600))
        .header("ttl", "86400")
        .header("urgency", "high")
        .header("topic", "conv-abc_123")
        .header("content-encoding", "aes128gcm")
        .header("content-type", "application/octet-stream")
        .body(body);
    tweak(request).send().await.unwrap()
}

/// A change to a valid request.
type Tweak = Box<dyn FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder>;

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn accepts_decrypts_and_records_a_valid_push() {
    let standin = StandIn::start().await.unwrap();
    standin.expect_vapid_key(&server_public());
    let sub = Subscriber::new();
    let endpoint = sub.endpoint(&standin);
    assert!(endpoint.starts_with(&format!("{}/push/", standin.origin())));
    assert_eq!(standin.origin(), format!("http://{}", standin.host_port()));
    let json = sub.subscription_json();
    assert_eq!(json["endpoint"], endpoint.as_str());
    assert_eq!(json["expirationTime"], Value::Null);
    assert_eq!(
        URL_SAFE_NO_PAD
            .decode(json["keys"]["p256dh"].as_str().unwrap())
            .unwrap()
            .len(),
        65
    );
    assert_eq!(
        URL_SAFE_NO_PAD
            .decode(json["keys"]["auth"].as_str().unwrap())
            .unwrap()
            .len(),
        16
    );

    let payload = json!({"kind": "message", "conversation_id": "c", "seq": 3, "urgent": false, "text": "新着メッセージ"});
    let response = send(&standin, &sub, &payload, |r| r).await;
    assert_eq!(response.status(), 201);
    assert!(response.headers().contains_key("location"));

    let got = standin.wait_for(&endpoint, 1, WAIT).await.unwrap();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.rejected, None);
    assert_eq!(
        (r.status, r.ttl, r.urgency.as_deref(), r.topic.as_deref()),
        (201, Some(86400), Some("high"), Some("conv-abc_123"))
    );
    assert_eq!(r.json.as_ref(), Some(&payload));
    assert_eq!(r.plaintext.as_deref(), Some(payload.to_string().as_bytes()));
    assert_eq!(r.vapid.as_ref().unwrap().sub, "mailto:admin@localhost");
    assert!(standin.rejections().is_empty());
}

#[tokio::test]
async fn refuses_and_records_bad_requests() {
    let standin = StandIn::start().await.unwrap();
    let sub = standin.subscriber();
    let endpoint = sub.subscription_json()["endpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = json!({"kind": "message"});
    let origin = standin.origin().to_owned();
    let host_only = origin.rsplit_once(':').unwrap().0.to_owned();

    let cases: Vec<(u16, &str, Tweak)> = vec![
        (
            401,
            "no Authorization",
            Box::new(|r| {
                let mut req = r.build().unwrap();
                req.headers_mut().remove("authorization");
                reqwest::RequestBuilder::from_parts(reqwest::Client::new(), req)
            }),
        ),
        (
            401,
            "aud",
            Box::new(move |r| r.header("authorization", vapid(&host_only, now() + 60))),
        ),
        (
            401,
            "24 h",
            Box::new(move |r| r.header("authorization", vapid(&origin, now() + 25 * 3600))),
        ),
        (400, "TTL", Box::new(|r| r.header("ttl", "soon"))),
        (400, "Urgency", Box::new(|r| r.header("urgency", "urgent"))),
        (
            400,
            "Topic",
            Box::new(|r| r.header("topic", "x".repeat(33))),
        ),
        (
            400,
            "Content-Encoding",
            Box::new(|r| r.header("content-encoding", "aesgcm")),
        ),
        (400, "decrypt", Box::new(|r| r.body(vec![0u8; 200]))),
    ];
    let n = cases.len();
    for (status, reason, tweak) in cases {
        // `header` appends: rebuild so a replaced header is the only one.
        let response = send(&standin, &sub, &p, |r| {
            let r = tweak(r);
            let mut req = r.build().unwrap();
            for name in [
                "authorization",
                "ttl",
                "urgency",
                "topic",
                "content-encoding",
            ] {
                let values: Vec<_> = req.headers().get_all(name).iter().cloned().collect();
                if let Some(last) = values.last().cloned() {
                    req.headers_mut().insert(name, last);
                }
            }
            reqwest::RequestBuilder::from_parts(reqwest::Client::new(), req)
        })
        .await;
        assert_eq!(response.status().as_u16(), status, "{reason}");
        let last = standin.received(&endpoint).pop().unwrap();
        let why = last.rejected.unwrap();
        assert!(why.contains(reason), "{reason}: {why}");
    }
    assert_eq!(standin.rejections().len(), n);

    // A key other than the expected one: 403.
    standin.expect_vapid_key(
        &URL_SAFE_NO_PAD.encode(
            SigningKey::from_slice(&[1u8; 32])
                .unwrap()
                .verifying_key()
                .to_encoded_point(false)
                .as_bytes(),
        ),
    );
    assert_eq!(send(&standin, &sub, &p, |r| r).await.status(), 403);

    // An endpoint nobody subscribed: 404.
    let stranger = Subscriber::new();
    let response = reqwest::Client::new()
        .post(format!("{}/push/{}", standin.origin(), stranger.id()))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn answers_from_the_queue_then_201() {
    let standin = StandIn::start().await.unwrap();
    let sub = standin.subscriber();
    let endpoint = sub.subscription_json()["endpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    standin.answer(
        &endpoint,
        [
            Answer::TooManyRequests { retry_after: 3 },
            Answer::ServerError,
            Answer::NotFound,
            Answer::Gone,
        ],
    );
    let p = json!({"kind": "urgent"});
    let r = send(&standin, &sub, &p, |r| r).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "3");
    for status in [500, 404, 410, 201, 201] {
        assert_eq!(send(&standin, &sub, &p, |r| r).await.status(), status);
    }
    let got = standin.wait_for(&endpoint, 2, WAIT).await.unwrap();
    assert_eq!(
        got.iter().map(|r| r.status).collect::<Vec<_>>(),
        [429, 500, 404, 410, 201, 201]
    );
    // The refused-by-answer requests were valid: decrypted, not rejected.
    assert!(got.iter().all(|r| r.rejected.is_none() && r.json.is_some()));

    let timeout = standin
        .wait_for(&endpoint, 3, Duration::from_millis(100))
        .await
        .unwrap_err();
    assert_eq!(timeout.accepted, 2);
}

#[tokio::test]
async fn wait_for_wakes_on_arrival_and_stats_lists_it() {
    let standin = StandIn::start().await.unwrap();
    let client = reqwest::Client::new();
    let subscription: Value = client
        .post(format!("{}/subscribe", standin.origin()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let endpoint = subscription["endpoint"].as_str().unwrap().to_owned();
    let body = encrypt(&subscription, br#"{"kind":"call","seq":1}"#);
    let waiter = standin.wait_for(&endpoint, 1, WAIT);
    let sender = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        client
            .post(&endpoint)
            .header("authorization", vapid(standin.origin(), now() + 600))
            .header("ttl", "30")
            .header("content-encoding", "aes128gcm")
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
    };
    let (got, status) = tokio::join!(waiter, sender);
    assert_eq!(status, 201);
    assert_eq!(got.unwrap()[0].json.as_ref().unwrap()["kind"], "call");

    let stats: Value = client
        .get(format!("{}/stats", standin.origin()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            stats["count"].as_u64(),
            stats["accepted"].as_u64(),
            stats["rejected"].as_u64()
        ),
        (Some(1), Some(1), Some(0))
    );
    let count: Value = client
        .get(format!("{}/stats/count", standin.origin()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(count, json!({"count": 1, "accepted": 1, "rejected": 0}));
    let arrival = &stats["arrivals"][0];
    assert_eq!(arrival["endpoint"], endpoint.rsplit('/').next().unwrap());
    assert_eq!(arrival["payload"]["seq"], 1);
    assert!(arrival["at_us"].as_u64().unwrap() > 1_700_000_000_000_000);
}

#[tokio::test]
async fn decrypt_later_answers_first_and_decrypts_when_read() {
    let standin = StandIn::start().await.unwrap();
    standin.decrypt_later();
    let sub = standin.subscriber();
    let endpoint = sub.subscription_json()["endpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = json!({"kind": "message", "seq": 9});
    assert_eq!(send(&standin, &sub, &p, |r| r).await.status(), 201);
    // A body that does not decrypt is answered 201 too, and found out when read.
    let bad = send(&standin, &sub, &p, |r| r.body(vec![0u8; 200])).await;
    assert_eq!(bad.status(), 201);
    let got = standin.received(&endpoint);
    assert_eq!(got[0].json.as_ref(), Some(&p));
    assert_eq!(got[0].rejected, None);
    assert!(
        got[1]
            .rejected
            .as_deref()
            .unwrap()
            .contains("cannot decrypt")
    );
    assert_eq!(standin.rejections().len(), 1);
}
