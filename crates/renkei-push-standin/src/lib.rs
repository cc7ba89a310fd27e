//! A Web Push service stand-in for tests and the push benchmark: a real HTTP server on loopback
//! that checks what an application server sends (RFC 8030 headers, RFC 8292 VAPID, RFC 8291
//! `aes128gcm`), decrypts it as the browser would, and answers what a test programs.
//!
//! ```no_run
//! # async fn demo() {
//! use std::time::Duration;
//! use renkei_push_standin::{Answer, StandIn, Subscriber};
//!
//! let standin = StandIn::start().await.unwrap();
//! // The server's Settings get `push_endpoint_allow = [standin.host_port()]`.
//! let browser = Subscriber::new();
//! let endpoint = browser.endpoint(&standin);
//! let body = browser.subscription_json(); // POST /api/v1/push/subscriptions
//! standin.answer(&endpoint, [Answer::TooManyRequests { retry_after: 1 }, Answer::Created]);
//! // ... send a message ...
//! let got = standin.wait_for(&endpoint, 1, Duration::from_secs(5)).await.unwrap();
//! assert_eq!(got.last().unwrap().json.as_ref().unwrap()["kind"], "message");
//! assert!(standin.rejections().is_empty());
//! # }
//! ```
//!
//! Every request to `/push/<id>` is checked in this order, and the first failure is answered
//! and recorded as [`Received::rejected`]:
//! 1. the endpoint is known (404 otherwise);
//! 2. `Authorization: vapid t=<JWT>, k=<key>`: ES256 signature valid with `k`, `aud` = the
//!    stand-in's origin (`http://127.0.0.1:PORT`, the port included), `exp` in the future and at
//!    most 24 h ahead, `sub` a `mailto:` or `https:` URL (401); `k` the expected key when one was
//!    set with [`StandIn::expect_vapid_key`] (403);
//! 3. `Content-Encoding: aes128gcm`, `TTL` a non-negative integer, `Urgency` one of
//!    very-low|low|normal|high, `Topic` at most 32 URL-safe base64 characters (400);
//! 4. the body at most 4096 bytes (413);
//! 5. the body decrypts, as one record, with the subscriber's keys (400).
//!
//! A request that passes is answered from the endpoint's [`Answer`] queue (201 when empty).
//! With [`StandIn::decrypt_later`] (the benchmark's setting) step 5 waits until what arrived is
//! read, and a body that does not decrypt is then recorded as rejected after its 2xx.

mod ece;
mod headers;
mod standin;
mod subscriber;
pub mod vapid;

pub use ece::{DecryptError, decrypt};
pub use headers::Delivery;
pub use standin::{Answer, MAX_BODY, Received, StandIn, WaitTimeout};
pub use subscriber::Subscriber;
