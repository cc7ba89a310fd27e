//! The stand-in itself: an HTTP server on loopback that accepts push requests at
//! `/push/<id>`, checks and decrypts them, answers from a programmable queue and records them.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use p256::SecretKey;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::headers;
use crate::subscriber::{Subscriber, random_id};
use crate::{ece, vapid};

/// RFC 8030 section 7.2: a push service may refuse payloads over 4096 bytes with 413 (the real
/// ones do). The body here is the whole encrypted message.
pub const MAX_BODY: usize = 4096;

/// The answer to one valid push request, queued per endpoint; [`Answer::Created`] when the
/// queue is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 201, the push service accepted the message.
    Created,
    /// 404, no such subscription (the server must drop it).
    NotFound,
    /// 410, the subscription expired or was unsubscribed (the server must drop it).
    Gone,
    /// 429 with `Retry-After: <seconds>`.
    TooManyRequests { retry_after: u64 },
    /// 500.
    ServerError,
    /// 413, a refusal not worth retrying (the server marks the subscription failing).
    PayloadTooLarge,
}

impl Answer {
    /// The HTTP status this answer sends.
    pub fn status(self) -> u16 {
        match self {
            Answer::Created => 201,
            Answer::NotFound => 404,
            Answer::Gone => 410,
            Answer::TooManyRequests { .. } => 429,
            Answer::ServerError => 500,
            Answer::PayloadTooLarge => 413,
        }
    }
}

/// One request that arrived at an endpoint, valid or not.
#[derive(Debug, Clone)]
pub struct Received {
    /// When the request was complete and answered (wall clock, for comparing across processes).
    pub at: SystemTime,
    /// The same moment on the monotonic clock.
    pub instant: Instant,
    /// `TTL`, `Urgency`, `Topic` as sent (`None` when absent or unreadable).
    pub ttl: Option<u64>,
    pub urgency: Option<String>,
    pub topic: Option<String>,
    /// The checked VAPID identity, when the Authorization header was valid.
    pub vapid: Option<vapid::Vapid>,
    /// The body as received (encrypted).
    pub body: Vec<u8>,
    /// The decrypted payload, when decryption succeeded.
    pub plaintext: Option<Vec<u8>>,
    /// The payload parsed as JSON, when it is JSON.
    pub json: Option<Value>,
    /// The status answered.
    pub status: u16,
    /// Why the request was refused, for a request that failed a check (`status` is then 400,
    /// 401, 403, 404 for an unknown endpoint, or 413).
    pub rejected: Option<String>,
}

impl Received {
    /// Accepted by the push service (2xx)?
    pub fn accepted(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Microseconds since the Unix epoch of [`Received::at`].
    pub fn at_unix_micros(&self) -> u64 {
        self.at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64)
    }
}

/// `wait_for` ran out of time; says what did arrive.
#[derive(Debug, Clone)]
pub struct WaitTimeout {
    pub endpoint: String,
    pub wanted: usize,
    pub accepted: usize,
    pub statuses: Vec<u16>,
    pub rejections: Vec<String>,
}

impl std::fmt::Display for WaitTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "waited for {} accepted pushes at endpoint {}, got {} (statuses {:?}, rejections {:?})",
            self.wanted, self.endpoint, self.accepted, self.statuses, self.rejections
        )
    }
}

impl std::error::Error for WaitTimeout {}

#[derive(Default)]
struct Slot {
    keys: Option<(SecretKey, [u8; 16])>,
    answers: VecDeque<Answer>,
    received: Vec<Received>,
    /// Indexes into `received` answered before decryption (see [`StandIn::decrypt_later`]).
    undecrypted: Vec<usize>,
}

struct Inner {
    origin: String,
    expected_key: Mutex<Option<String>>,
    slots: Mutex<HashMap<String, Slot>>,
    /// (token, key) pairs whose signature verified: servers cache their JWT per origin, and a
    /// signature check per push would make the stand-in the benchmark's bottleneck. The claims
    /// (exp above all) are still checked on every request.
    verified: Mutex<HashSet<(String, String)>>,
    arrived: Notify,
    decrypt_later: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The last path segment of an endpoint URL (or the id itself).
fn id_of(endpoint: &str) -> &str {
    endpoint.rsplit('/').next().unwrap_or(endpoint)
}

/// A running stand-in. Dropping it stops the server.
pub struct StandIn {
    inner: Arc<Inner>,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StandIn {
    /// Starts a stand-in on `127.0.0.1` on a free port.
    pub async fn start() -> std::io::Result<StandIn> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a stand-in on `addr` (the binary's fixed port).
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<StandIn> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            origin: format!("http://{addr}"),
            expected_key: Mutex::new(None),
            slots: Mutex::new(HashMap::new()),
            verified: Mutex::new(HashSet::new()),
            arrived: Notify::new(),
            decrypt_later: AtomicBool::new(false),
        });
        let app = Router::new()
            .route("/push/{id}", post(push))
            .route("/subscribe", post(subscribe))
            .route("/stats", get(stats))
            .route("/stats/count", get(count))
            .with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(StandIn { inner, addr, task })
    }

    /// `http://127.0.0.1:PORT`: the origin of every endpoint, and so the JWT's `aud`.
    pub fn origin(&self) -> &str {
        &self.inner.origin
    }

    /// `127.0.0.1:PORT`, the entry for the server's `push_endpoint_allow`.
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// From now on, refuse (403) requests whose VAPID key `k` is not `key` (base64url,
    /// uncompressed P-256): the subscription was made with this `applicationServerKey`.
    pub fn expect_vapid_key(&self, key: &str) {
        *lock(&self.inner.expected_key) = Some(key.to_owned());
    }

    /// From now on, answer a request once its VAPID credentials and headers pass, and decrypt
    /// its body only when what arrived is read (`received*`, `/stats`); a body that does not
    /// decrypt then is recorded as rejected although it was answered 2xx. For the benchmark: a
    /// real push service's CPU is not the server's machine's, and decryption (an ECDH per
    /// push) would otherwise compete with the server under test.
    pub fn decrypt_later(&self) {
        self.inner.decrypt_later.store(true, Ordering::Relaxed);
    }

    /// A new subscriber already bound to this stand-in.
    pub fn subscriber(&self) -> Subscriber {
        let s = Subscriber::new();
        s.endpoint(self);
        s
    }

    /// Registers `subscriber`'s keys and returns its endpoint URL (see [`Subscriber::endpoint`]).
    pub fn register(&self, subscriber: &Subscriber) -> String {
        let mut slots = lock(&self.inner.slots);
        let slot = slots.entry(subscriber.id().to_owned()).or_default();
        slot.keys = Some((subscriber.private_key().clone(), subscriber.auth_secret()));
        format!("{}/push/{}", self.inner.origin, subscriber.id())
    }

    /// Queues answers for the next valid requests to `endpoint` (URL or id).
    pub fn answer(&self, endpoint: &str, answers: impl IntoIterator<Item = Answer>) {
        let mut slots = lock(&self.inner.slots);
        let slot = slots.entry(id_of(endpoint).to_owned()).or_default();
        slot.answers.extend(answers);
    }

    /// Everything that arrived at `endpoint` (URL or id), in order, accepted or not.
    pub fn received(&self, endpoint: &str) -> Vec<Received> {
        settle(&self.inner);
        lock(&self.inner.slots)
            .get(id_of(endpoint))
            .map(|s| s.received.clone())
            .unwrap_or_default()
    }

    /// Everything that arrived anywhere, as (endpoint id, request), in no particular order of
    /// endpoints.
    pub fn received_all(&self) -> Vec<(String, Received)> {
        settle(&self.inner);
        lock(&self.inner.slots)
            .iter()
            .flat_map(|(id, s)| s.received.iter().map(move |r| (id.clone(), r.clone())))
            .collect()
    }

    /// Every refused request, as (endpoint id, reason): a correct server has none.
    pub fn rejections(&self) -> Vec<(String, String)> {
        self.received_all()
            .into_iter()
            .filter_map(|(id, r)| r.rejected.map(|why| (id, why)))
            .collect()
    }

    /// Waits until at least `n` requests to `endpoint` were accepted (2xx), and returns all that
    /// arrived there; on timeout says what did arrive.
    pub async fn wait_for(
        &self,
        endpoint: &str,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<Received>, WaitTimeout> {
        self.wait_until(endpoint, timeout, |all| {
            all.iter().filter(|r| r.accepted()).count() >= n
        })
        .await
        .map_err(|all| WaitTimeout {
            endpoint: id_of(endpoint).to_owned(),
            wanted: n,
            accepted: all.iter().filter(|r| r.accepted()).count(),
            statuses: all.iter().map(|r| r.status).collect(),
            rejections: all.iter().filter_map(|r| r.rejected.clone()).collect(),
        })
    }

    /// Waits until what arrived at `endpoint` satisfies `done` (e.g. two requests, whatever was
    /// answered); gives back what arrived either way.
    pub async fn wait_until(
        &self,
        endpoint: &str,
        timeout: Duration,
        done: impl Fn(&[Received]) -> bool,
    ) -> Result<Vec<Received>, Vec<Received>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let all = self.received(endpoint);
            if done(&all) {
                return Ok(all);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let all = self.received(endpoint);
                return if done(&all) { Ok(all) } else { Err(all) };
            }
        }
    }
}

/// The outcome of the checks: the record's fields and the answer.
struct Checked {
    delivery: Option<headers::Delivery>,
    vapid: Option<vapid::Vapid>,
    plaintext: Option<Vec<u8>>,
    refusal: Option<(StatusCode, String)>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn check_vapid(inner: &Inner, headers: &HeaderMap) -> Result<vapid::Vapid, vapid::VapidError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| vapid::VapidError {
            forbidden: false,
            reason: "no Authorization header (VAPID required)".into(),
        })?;
    let (token, key) = vapid::parse_header(value)?;
    let pair = (token, key);
    if !lock(&inner.verified).contains(&pair) {
        vapid::verify_signature(&pair.0, &pair.1)?;
        lock(&inner.verified).insert(pair.clone());
    }
    let checked = vapid::check_claims(&pair.0, &pair.1, &inner.origin, unix_now())?;
    vapid::check_key(&pair.1, lock(&inner.expected_key).as_deref())?;
    Ok(checked)
}

fn check(
    inner: &Inner,
    keys: Option<&(SecretKey, [u8; 16])>,
    headers: &HeaderMap,
    body: &[u8],
) -> Checked {
    let mut out = Checked {
        delivery: None,
        vapid: None,
        plaintext: None,
        refusal: None,
    };
    let Some((private, auth)) = keys else {
        out.refusal = Some((StatusCode::NOT_FOUND, "no such subscription".into()));
        return out;
    };
    match check_vapid(inner, headers) {
        Ok(v) => out.vapid = Some(v),
        Err(e) => {
            let status = if e.forbidden {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::UNAUTHORIZED
            };
            out.refusal = Some((status, e.reason));
            return out;
        }
    }
    match headers::check(headers) {
        Ok(d) => out.delivery = Some(d),
        Err(why) => {
            out.refusal = Some((StatusCode::BAD_REQUEST, why));
            return out;
        }
    }
    if body.len() > MAX_BODY {
        out.refusal = Some((
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body of {} bytes is over {MAX_BODY}", body.len()),
        ));
        return out;
    }
    if inner.decrypt_later.load(Ordering::Relaxed) {
        return out;
    }
    match ece::decrypt(body, private, auth) {
        Ok(p) => out.plaintext = Some(p),
        Err(e) => out.refusal = Some((StatusCode::BAD_REQUEST, format!("cannot decrypt: {e}"))),
    }
    out
}

async fn push(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let keys = lock(&inner.slots).get(&id).and_then(|s| s.keys.clone());
    let checked = check(&inner, keys.as_ref(), &headers, &body);
    let mut slots = lock(&inner.slots);
    let slot = slots.entry(id).or_default();
    let (status, answer) = match &checked.refusal {
        Some((status, _)) => (*status, None),
        None => {
            let answer = slot.answers.pop_front().unwrap_or(Answer::Created);
            let status = StatusCode::from_u16(answer.status()).unwrap_or(StatusCode::CREATED);
            (status, Some(answer))
        }
    };
    let lenient = headers::check(&headers).ok();
    let delivery = checked.delivery.or(lenient);
    let json = checked
        .plaintext
        .as_deref()
        .and_then(|p| serde_json::from_slice(p).ok());
    if checked.refusal.is_none() && checked.plaintext.is_none() {
        slot.undecrypted.push(slot.received.len());
    }
    slot.received.push(Received {
        at: SystemTime::now(),
        instant: Instant::now(),
        ttl: delivery.as_ref().map(|d| d.ttl),
        urgency: delivery.as_ref().and_then(|d| d.urgency.clone()),
        topic: delivery.as_ref().and_then(|d| d.topic.clone()),
        vapid: checked.vapid,
        body: body.to_vec(),
        plaintext: checked.plaintext,
        json,
        status: status.as_u16(),
        rejected: checked.refusal.as_ref().map(|(_, why)| why.clone()),
    });
    drop(slots);
    inner.arrived.notify_waiters();

    let mut response = match (&checked.refusal, answer) {
        (Some((_, why)), _) => (status, why.clone()).into_response(),
        (None, Some(Answer::Created)) => {
            let mut r = status.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("/message/{}", random_id(12))) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        (None, Some(Answer::TooManyRequests { retry_after })) => {
            let mut r = status.into_response();
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            r
        }
        (None, _) => status.into_response(),
    };
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("vapid"));
    }
    response
}

/// Decrypts what [`StandIn::decrypt_later`] left undecrypted (outside the lock, so that pushes
/// arriving meanwhile are answered).
fn settle(inner: &Inner) {
    type Work = (String, usize, Vec<u8>, SecretKey, [u8; 16]);
    let work: Vec<Work> = {
        let mut slots = lock(&inner.slots);
        let mut work = Vec::new();
        for (id, slot) in slots.iter_mut() {
            let Some((private, auth)) = slot.keys.clone() else {
                continue;
            };
            for i in std::mem::take(&mut slot.undecrypted) {
                let body = slot.received[i].body.clone();
                work.push((id.clone(), i, body, private.clone(), auth));
            }
        }
        work
    };
    if work.is_empty() {
        return;
    }
    let done: Vec<(String, usize, Result<Vec<u8>, ece::DecryptError>)> = work
        .into_iter()
        .map(|(id, i, body, private, auth)| (id, i, ece::decrypt(&body, &private, &auth)))
        .collect();
    let mut slots = lock(&inner.slots);
    for (id, i, outcome) in done {
        let Some(r) = slots.get_mut(&id).and_then(|s| s.received.get_mut(i)) else {
            continue;
        };
        match outcome {
            Ok(p) => {
                r.json = serde_json::from_slice(&p).ok();
                r.plaintext = Some(p);
            }
            Err(e) => r.rejected = Some(format!("cannot decrypt (found after answering): {e}")),
        }
    }
}

/// `POST /subscribe`: a new subscriber (for a load generator in another process); answers its
/// `PushSubscription.toJSON()`.
async fn subscribe(State(inner): State<Arc<Inner>>) -> Response {
    let s = Subscriber::new();
    lock(&inner.slots)
        .entry(s.id().to_owned())
        .or_default()
        .keys = Some((s.private_key().clone(), s.auth_secret()));
    let endpoint = format!("{}/push/{}", inner.origin, s.id());
    let body = json!({
        "endpoint": endpoint,
        "expirationTime": null,
        "keys": {"p256dh": s.p256dh(), "auth": s.auth()},
    });
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

/// `GET /stats/count`: the counts of `/stats` without the arrivals (cheap to poll).
async fn count(State(inner): State<Arc<Inner>>) -> axum::Json<Value> {
    let slots = lock(&inner.slots);
    let all = slots.values().flat_map(|s| s.received.iter());
    let (mut count, mut accepted, mut rejected) = (0, 0, 0);
    for r in all {
        count += 1;
        accepted += usize::from(r.accepted());
        rejected += usize::from(r.rejected.is_some());
    }
    axum::Json(json!({"count": count, "accepted": accepted, "rejected": rejected}))
}

/// `GET /stats`: counts and every arrival as `{endpoint, at_us, status, payload, rejected}`.
async fn stats(State(inner): State<Arc<Inner>>) -> axum::Json<Value> {
    let settling = inner.clone();
    let _ = tokio::task::spawn_blocking(move || settle(&settling)).await;
    let slots = lock(&inner.slots);
    let mut arrivals: Vec<(u64, Value)> = Vec::new();
    for (id, slot) in slots.iter() {
        for r in &slot.received {
            let at = r.at_unix_micros();
            arrivals.push((
                at,
                json!({
                    "endpoint": id, "at_us": at, "status": r.status,
                    "payload": r.json, "rejected": r.rejected,
                }),
            ));
        }
    }
    drop(slots);
    arrivals.sort_by_key(|(at, _)| *at);
    let accepted = arrivals
        .iter()
        .filter(|(_, a)| {
            a["status"]
                .as_u64()
                .is_some_and(|s| (200..300).contains(&s))
        })
        .count();
    let rejected = arrivals
        .iter()
        .filter(|(_, a)| !a["rejected"].is_null())
        .count();
    axum::Json(json!({
        "count": arrivals.len(),
        "accepted": accepted,
        "rejected": rejected,
        "arrivals": arrivals.into_iter().map(|(_, a)| a).collect::<Vec<_>>(),
    }))
}
