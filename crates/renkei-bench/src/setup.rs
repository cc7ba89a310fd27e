//! Setup, not measured: the administrator signs in, the benchmark users are created (or found
//! from an earlier run) and signed in once each, and the groups are formed.
//!
//! Users are `<prefix>00000`, `<prefix>00001`, … with a fixed password, so a rerun against the
//! same server reuses them; `--token-cache` also keeps their sessions, so a rerun skips the
//! sign-ins (each costs a password verification on the server).

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::{StreamExt, TryStreamExt, stream};
use serde::{Deserialize, Serialize};

use crate::api::{Api, User};
use crate::{BenchResult, ChatArgs};

/// The password a benchmark user is created with (one-time, replaced at first sign-in).
const ONE_TIME_PASSWORD: &str = "renkei bench one-time";
/// The password a benchmark user ends up with.
const USER_PASSWORD: &str = "renkei bench user 2026";
/// Concurrent requests for calls that hash nothing (session checks, groups).
const CHEAP_CONCURRENCY: usize = 16;

/// One signed-in benchmark user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Member {
    pub login: String,
    pub user_id: String,
    pub token: String,
}

/// Everyone who takes part: `members[i]` is client `i`, in group `i / group_size`.
pub struct Cohort {
    pub members: Vec<Member>,
    /// The conversation id of each group.
    pub groups: Vec<String>,
}

/// Sessions kept between runs, per server.
#[derive(Default, Serialize, Deserialize)]
struct TokenCache {
    servers: HashMap<String, HashMap<String, Member>>,
    #[serde(default)]
    admins: HashMap<String, String>,
}

impl TokenCache {
    fn load(path: &Path) -> TokenCache {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    fn save(&self, path: &Path) -> BenchResult<()> {
        std::fs::write(path, serde_json::to_vec(self)?)
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        Ok(())
    }
}

/// Signs the administrator in (or reuses its cached session), replacing a one-time password
/// if the server asks.
async fn admin_session(
    anon: &Api,
    args: &ChatArgs,
    cached: Option<&String>,
) -> BenchResult<(Api, User)> {
    if let Some(token) = cached {
        let admin = anon.with_token(token);
        if let Some(user) = admin.me().await?
            && !user.must_change_password
        {
            return Ok((admin, user));
        }
    }
    let mut password = args.admin_password.as_str();
    let session = match anon.login(&args.admin_login, password).await? {
        Some(s) => s,
        None => {
            // A rerun after the one-time password was replaced.
            password = &args.admin_new_password;
            anon.login(&args.admin_login, password)
                .await?
                .ok_or("the administrator's password was refused")?
        }
    };
    let admin = anon.with_token(&session.token);
    if session.user.must_change_password {
        admin
            .change_password(password, &args.admin_new_password)
            .await?;
        eprintln!(
            "setup: replaced {}'s one-time password with --admin-new-password",
            args.admin_login
        );
    }
    Ok((admin, session.user))
}

/// The token an `Api` acts with.
fn token_of(api: &Api) -> String {
    api.token().unwrap_or_default().to_owned()
}

/// Makes sure the user exists, has the benchmark password, and has a session.
async fn sign_in_member(
    anon: &Api,
    admin: &Api,
    org: &str,
    login: &str,
    existing: Option<&User>,
    cached: Option<&Member>,
) -> BenchResult<Member> {
    if let Some(m) = cached
        && let Some(user) = anon.with_token(&m.token).me().await?
        && !user.must_change_password
    {
        return Ok(m.clone());
    }
    let user_id = match existing {
        Some(u) => u.id.clone(),
        None => admin.create_user(org, login, ONE_TIME_PASSWORD).await?.id,
    };
    if existing.is_some()
        && let Some(s) = anon.login(login, USER_PASSWORD).await?
        && !s.user.must_change_password
    {
        return Ok(Member {
            login: login.to_owned(),
            user_id,
            token: s.token,
        });
    }
    let session = anon
        .login(login, ONE_TIME_PASSWORD)
        .await?
        .ok_or_else(|| format!("{login}: neither the benchmark password nor the one-time one"))?;
    anon.with_token(&session.token)
        .change_password(ONE_TIME_PASSWORD, USER_PASSWORD)
        .await?;
    Ok(Member {
        login: login.to_owned(),
        user_id,
        token: session.token,
    })
}

/// Creates or reuses the users, signs them in, and (unless `groups` is false) forms fresh
/// groups for this run.
pub async fn prepare(
    http: &reqwest::Client,
    args: &ChatArgs,
    run: &str,
    groups: bool,
) -> BenchResult<Cohort> {
    let anon = Api::new(http.clone(), &args.server);
    let mut cache = args
        .token_cache
        .as_deref()
        .map(TokenCache::load)
        .unwrap_or_default();
    let (admin, admin_user) = admin_session(&anon, args, cache.admins.get(&args.server)).await?;
    let org = admin_user.org_id.clone();
    let cached = cache.servers.remove(&args.server).unwrap_or_default();
    let existing: HashMap<String, User> = admin
        .all_users(&org)
        .await?
        .into_iter()
        .filter(|u| u.login.starts_with(&args.login_prefix))
        .map(|u| (u.login.clone(), u))
        .collect();
    eprintln!(
        "setup: {} benchmark users exist, {} sessions cached",
        existing.len(),
        cached.len()
    );

    let done = AtomicUsize::new(0);
    let logins: Vec<String> = (0..args.clients)
        .map(|i| format!("{}{i:05}", args.login_prefix))
        .collect();
    let members: Vec<Member> = stream::iter(logins.iter())
        .map(|login| {
            let (anon, admin, org, existing, cached, done) =
                (&anon, &admin, &org, &existing, &cached, &done);
            async move {
                let m = sign_in_member(
                    anon,
                    admin,
                    org,
                    login,
                    existing.get(login),
                    cached.get(login),
                )
                .await?;
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if n % 250 == 0 {
                    eprintln!("setup: {n} users signed in");
                }
                BenchResult::Ok(m)
            }
        })
        .buffered(args.setup_concurrency.max(1))
        .try_collect()
        .await?;

    if let Some(path) = &args.token_cache {
        let mine = members
            .iter()
            .map(|m| (m.login.clone(), m.clone()))
            .chain(cached)
            .fold(HashMap::new(), |mut acc, (k, v)| {
                acc.entry(k).or_insert(v);
                acc
            });
        cache.servers.insert(args.server.clone(), mine);
        cache.admins.insert(args.server.clone(), token_of(&admin));
        cache.save(path)?;
    }
    if !groups {
        eprintln!("setup: {} users signed in; no groups formed", members.len());
        return Ok(Cohort {
            members,
            groups: Vec::new(),
        });
    }

    let groups: Vec<String> = stream::iter(members.chunks(args.group_size).enumerate())
        .map(|(g, chunk)| {
            let admin = &admin;
            async move {
                let ids: Vec<String> = chunk.iter().map(|m| m.user_id.clone()).collect();
                admin
                    .create_group(&format!("bench {run} group {g}"), &ids)
                    .await
            }
        })
        .buffered(CHEAP_CONCURRENCY)
        .try_collect()
        .await?;
    eprintln!(
        "setup: {} users, {} groups of {}",
        members.len(),
        groups.len(),
        args.group_size
    );
    Ok(Cohort { members, groups })
}
