//! `renkei admin …`: account administration straight on the database, for IT staff at a shell.
//! Changes are audited like API changes, with no actor (the command line).

use std::io::BufRead;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use renkei_core::clock::Timestamp;
use renkei_core::org::{NewOrganization, OrgKind, Organization};
use renkei_core::user::{Applicant, NewUser, Profession, Role, User, UserPatch, UserStatus};
use renkei_service::ServiceError;
use renkei_service::accounts;
use renkei_service::admin::user_csv;
use renkei_service::auth::password::Hasher;
use renkei_service::auth::token::random_password;
use renkei_store::Store;
use serde::Serialize;

use crate::StorageArgs;
use crate::backup;
use crate::config;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create an organization (a hospital, or a council with --kind council).
    CreateOrg {
        #[arg(long)]
        name: String,
        /// Short URL-safe name [default: derived from --name]
        #[arg(long)]
        slug: Option<String>,
        #[arg(long, value_parser = parse_kind)]
        kind: Option<OrgKind>,
    },
    /// Add a department to an organization.
    CreateDepartment {
        /// The organization's slug.
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
    },
    /// Create a user; without --password-stdin a one-time password is generated and printed.
    CreateUser {
        #[arg(long)]
        org: String,
        #[arg(long)]
        login: String,
        /// Name as written, e.g. "田中 一郎".
        #[arg(long)]
        name: String,
        /// Kana reading, e.g. "たなか いちろう".
        #[arg(long, default_value = "")]
        kana: String,
        /// Latin spelling [default: derived from --kana]
        #[arg(long)]
        romaji: Option<String>,
        #[arg(long, value_parser = parse_profession)]
        profession: Profession,
        /// Department name within the organization.
        #[arg(long)]
        department: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        /// org_admin or server_admin; repeat for several.
        #[arg(long = "role", value_parser = parse_role)]
        roles: Vec<Role>,
        /// Read the initial password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List an organization's users.
    ListUsers {
        #[arg(long)]
        org: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Retire a user: every session ends at once; their messages stay.
    RetireUser {
        #[arg(long)]
        login: String,
    },
    /// Suspend a user: every session ends at once.
    SuspendUser {
        #[arg(long)]
        login: String,
    },
    /// Make a pending or suspended user active.
    ActivateUser {
        #[arg(long)]
        login: String,
    },
    /// Forget a user's authenticator app and recovery codes (lost phone): every session ends;
    /// where a second factor is required they set up a new one at their next sign-in.
    ResetSecondFactor {
        #[arg(long)]
        login: String,
    },
    /// Lift a user's sign-in back-off (wrong passwords) and lock (wrong passcodes or codes);
    /// their sessions are untouched. Audited.
    ReleaseSignIn {
        #[arg(long)]
        login: String,
    },
    /// Import users from CSV (UTF-8, UTF-8 with BOM or Shift_JIS; columns as the API's):
    /// every row is checked first and nothing changes unless all are valid.
    ImportUsers {
        #[arg(long)]
        org: String,
        #[arg(long)]
        file: PathBuf,
        /// Only check the file and say what would change.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write an organization's users as CSV (UTF-8 with BOM, importable as is).
    ExportUsers {
        #[arg(long)]
        org: String,
        /// The file to write [default: standard output].
        #[arg(long)]
        to: Option<PathBuf>,
    },
    /// Check the audit log's hash chain; exits non-zero at the first broken link.
    VerifyAudit,
    /// Allow a PACS or modality (by its calling AE title) to send to an organization.
    AddDicomPeer {
        #[arg(long)]
        org: String,
        #[arg(long)]
        ae_title: String,
        /// An address or CIDR range it may call from; repeat for several. Required: the
        /// calling AE title is a peer's only other credential.
        #[arg(long = "allow", required_unless_present = "allow_any_address")]
        allow: Vec<String>,
        /// Admit the peer from any address (not recommended; warned about and audited).
        #[arg(long, conflicts_with = "allow")]
        allow_any_address: bool,
    },
    /// List an organization's DICOM peers.
    ListDicomPeers {
        #[arg(long)]
        org: String,
    },
    /// Stop accepting a DICOM peer.
    RemoveDicomPeer {
        #[arg(long)]
        org: String,
        #[arg(long)]
        ae_title: String,
    },
    /// Add an edge gateway to an organization; prints its token once (give it to
    /// `renkei gateway` as RENKEI_GATEWAY_TOKEN).
    CreateGateway {
        #[arg(long)]
        org: String,
        /// A name the admins recognize, e.g. main-building
        #[arg(long)]
        name: String,
    },
    /// List an organization's edge gateways.
    ListGateways {
        #[arg(long)]
        org: String,
    },
    /// Remove an edge gateway: its token stops working at once.
    RemoveGateway {
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
    },
    /// Destroy every medium and study whose retention has run out by now (or by --as-of, to
    /// purge early: e.g. after an incident). The server also does this every minute.
    ExpireMedia {
        /// Expire what is due at this RFC 3339 time instead of now (never in the past).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Copy the database, the media and the keys, consistently, while the server runs, with a
    /// manifest of checksums (embedded SQLite and local media; on PostgreSQL and S3 see
    /// docs/OPERATIONS.md).
    Backup {
        /// A new or empty folder to write.
        #[arg(long)]
        to: PathBuf,
        /// A new or empty folder for the media keys, kept apart from the backup [default:
        /// <to>/keys, with a warning: beside the media they make it a plaintext backup].
        #[arg(long)]
        keys_to: Option<PathBuf>,
    },
    /// Restore a backup into a new or empty data folder (--data-dir), after checking every
    /// file against the backup's manifest.
    Restore {
        /// The backup folder.
        #[arg(long)]
        from: PathBuf,
        /// The folder the keys were written to with --keys-to [default: <from>/keys].
        #[arg(long)]
        keys_from: Option<PathBuf>,
    },
}

fn parse_kind(s: &str) -> Result<OrgKind, String> {
    OrgKind::parse(s).ok_or_else(|| "kind must be hospital or council".into())
}

fn parse_profession(s: &str) -> Result<Profession, String> {
    Profession::parse(s).ok_or_else(|| {
        let all: Vec<_> = Profession::ALL.iter().map(|p| p.as_str()).collect();
        format!("profession must be one of: {}", all.join(", "))
    })
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| "role must be org_admin or server_admin".into())
}

#[derive(Serialize)]
struct Flags<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<&'a PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url: Option<&'a String>,
}

fn describe(e: ServiceError) -> String {
    format!("{} ({})", e.message, e.code)
}

async fn org_by_slug(store: &Store, slug: &str) -> Result<Organization, String> {
    store
        .org_by_slug(slug)
        .await
        .map_err(|_| format!("no organization with slug {slug:?}"))
}

async fn user_by_login(store: &Store, login: &str) -> Result<User, String> {
    store
        .user_by_login(login)
        .await
        .map_err(|_| format!("no user with login {login:?}"))
}

fn read_password_line() -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub async fn run(
    config_file: Option<&Path>,
    storage: StorageArgs,
    command: AdminCommand,
) -> Result<(), String> {
    let flags = Flags {
        data_dir: storage.data_dir.as_ref(),
        database_url: storage.database_url.as_ref(),
    };
    let config = config::load(config_file, flags)?;
    if let AdminCommand::Restore { from, keys_from } = &command {
        // Before the store opens: that would create a database in the empty data folder.
        if config.database_url.is_some() {
            return Err(
                "restore fills an embedded data folder; on PostgreSQL follow \
                 docs/OPERATIONS.md, \"Backup and restore\""
                    .into(),
            );
        }
        return backup::restore(from, keys_from.as_deref(), &config.data_dir);
    }
    let store = config::open_store(&config).await?;
    let result = execute(&store, &config, command).await;
    store.close().await;
    result
}

async fn execute(
    store: &Store,
    config: &config::Config,
    command: AdminCommand,
) -> Result<(), String> {
    match command {
        AdminCommand::CreateOrg { name, slug, kind } => {
            let org = accounts::create_org(store, None, NewOrganization { name, slug, kind })
                .await
                .map_err(describe)?;
            println!("created organization {} ({})", org.slug, org.id);
        }
        AdminCommand::CreateDepartment { org, name } => {
            let org = org_by_slug(store, &org).await?;
            let dept = accounts::create_department(store, None, &org, &name)
                .await
                .map_err(describe)?;
            println!("created department {} ({})", dept.name, dept.id);
        }
        AdminCommand::CreateUser {
            org,
            login,
            name,
            kana,
            romaji,
            profession,
            department,
            email,
            phone,
            roles,
            password_stdin,
        } => {
            let org = org_by_slug(store, &org).await?;
            let department_id = match department {
                Some(d) => Some(
                    store
                        .department_by_name(org.id, &d)
                        .await
                        .map_err(|_| format!("no department {d:?} in {}", org.slug))?
                        .id,
                ),
                None => None,
            };
            let (password, generated) = if password_stdin {
                (read_password_line()?, false)
            } else {
                (random_password(16), true)
            };
            let input = NewUser {
                roles,
                ..NewUser::from(Applicant {
                    login,
                    display_name: name,
                    kana,
                    romaji,
                    profession,
                    department_id,
                    email,
                    phone,
                    password: password.clone(),
                })
            };
            let user = accounts::create_user(store, &Hasher::default(), None, &org, input)
                .await
                .map_err(describe)?;
            println!("created user {} ({})", user.login, user.id);
            if generated {
                println!("one-time password: {password}");
            }
        }
        AdminCommand::ListUsers { org, json } => {
            let org = org_by_slug(store, &org).await?;
            let mut users = Vec::new();
            loop {
                let page = store
                    .list_users(org.id, users.len() as i64, 500)
                    .await
                    .map_err(|e| e.to_string())?;
                let done = page.len() < 500;
                users.extend(page);
                if done {
                    break;
                }
            }
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&users).map_err(|e| e.to_string())?
                );
            } else {
                for u in &users {
                    println!(
                        "{:<20} {:<10} {:<24} {}",
                        u.login,
                        u.status.as_str(),
                        u.profession.as_str(),
                        u.display_name
                    );
                }
            }
        }
        AdminCommand::ImportUsers { org, file, dry_run } => {
            import_users(store, &org, &file, dry_run).await?
        }
        AdminCommand::ExportUsers { org, to } => {
            let org = org_by_slug(store, &org).await?;
            let csv = user_csv::export(store, &org).await.map_err(describe)?;
            match to {
                Some(path) => {
                    std::fs::write(&path, csv).map_err(|e| format!("{}: {e}", path.display()))?
                }
                None => std::io::Write::write_all(&mut std::io::stdout(), &csv)
                    .map_err(|e| e.to_string())?,
            }
        }
        AdminCommand::RetireUser { login } => {
            set_status(store, &login, UserStatus::Retired).await?
        }
        AdminCommand::SuspendUser { login } => {
            set_status(store, &login, UserStatus::Suspended).await?
        }
        AdminCommand::ActivateUser { login } => {
            set_status(store, &login, UserStatus::Active).await?
        }
        AdminCommand::ResetSecondFactor { login } => {
            let user = user_by_login(store, &login).await?;
            renkei_service::auth::second_factor::reset(store, None, &user)
                .await
                .map_err(describe)?;
            println!("{}: second factor reset; every session ended", user.login);
        }
        AdminCommand::ReleaseSignIn { login } => {
            let user = user_by_login(store, &login).await?;
            renkei_service::accounts::release_sign_in(store, None, &user)
                .await
                .map_err(describe)?;
            println!("{}: sign-in released", user.login);
        }
        AdminCommand::AddDicomPeer {
            org,
            ae_title,
            allow,
            allow_any_address,
        } => {
            let org = org_by_slug(store, &org).await?;
            if allow_any_address {
                eprintln!(
                    "WARNING: {ae_title} will be admitted from ANY address: its AE title, which \
                     anyone can send, is then its only credential. Prefer --allow RANGE."
                );
            }
            let input = renkei_core::dicom::NewDicomPeer {
                ae_title,
                allow,
                allow_any_address,
            };
            let peer = renkei_service::dicom::add_peer(store, None, &org, &input)
                .await
                .map_err(describe)?;
            let ranges = if peer.allow.is_empty() {
                "any address".to_owned()
            } else {
                peer.allow.join(", ")
            };
            println!("{} may send to {} from {ranges}", peer.ae_title, org.slug);
        }
        AdminCommand::ListDicomPeers { org } => {
            let org = org_by_slug(store, &org).await?;
            for peer in store.dicom_peers(org.id).await.map_err(|e| e.to_string())? {
                let ranges = if peer.allow.is_empty() {
                    "any".to_owned()
                } else {
                    peer.allow.join(",")
                };
                println!("{:<16} {ranges}", peer.ae_title);
            }
        }
        AdminCommand::RemoveDicomPeer { org, ae_title } => {
            let org = org_by_slug(store, &org).await?;
            renkei_service::dicom::remove_peer(store, None, org.id, &ae_title)
                .await
                .map_err(describe)?;
            println!("{ae_title} removed");
        }
        AdminCommand::CreateGateway { org, name } => {
            let org = org_by_slug(store, &org).await?;
            let input = renkei_core::dicom::NewGateway { name };
            let (gateway, token) =
                renkei_service::gateway::create_gateway(store, None, &org, &input)
                    .await
                    .map_err(describe)?;
            println!(
                "gateway {} of {} added; its token (shown once):",
                gateway.name, org.slug
            );
            println!("token: {token}");
        }
        AdminCommand::ListGateways { org } => {
            let org = org_by_slug(store, &org).await?;
            for gateway in store.gateways(org.id).await.map_err(|e| e.to_string())? {
                let seen = gateway
                    .last_seen_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| "never".into());
                println!("{:<24} last seen {seen}", gateway.name);
            }
        }
        AdminCommand::RemoveGateway { org, name } => {
            let org = org_by_slug(store, &org).await?;
            renkei_service::gateway::remove_gateway(store, None, org.id, &name)
                .await
                .map_err(describe)?;
            println!("gateway {name} removed");
        }
        AdminCommand::ExpireMedia { as_of } => {
            let now = Timestamp::now();
            let at = match as_of {
                Some(text) => Timestamp::parse_rfc3339(&text)
                    .ok_or_else(|| format!("--as-of must be an RFC 3339 time, not {text:?}"))?
                    .max(now),
                None => now,
            };
            let blobs = config::open_blobs(config)?;
            let swept = renkei_service::expiry::sweep(store, &blobs, at)
                .await
                .map_err(describe)?;
            println!("{} media expired and destroyed", swept.media.expired);
            println!("{} studies expired and destroyed", swept.studies.expired);
            let messages = renkei_service::expiry::sweep_messages(store, at)
                .await
                .map_err(describe)?;
            let count: i64 = messages.iter().map(|m| m.messages).sum();
            println!("{count} messages expired and destroyed");
        }
        AdminCommand::Backup { to, keys_to } => {
            backup::backup(store, config, &to, keys_to.as_deref()).await?;
        }
        AdminCommand::Restore { .. } => unreachable!("restored before the store opens"),
        AdminCommand::VerifyAudit => match store.verify_audit().await.map_err(|e| e.to_string())? {
            Ok(n) => println!("audit log intact: {n} entries"),
            Err(broken) => {
                return Err(format!(
                    "audit log broken at entry {}: {}",
                    broken.seq, broken.reason
                ));
            }
        },
    }
    Ok(())
}

async fn set_status(store: &Store, login: &str, status: UserStatus) -> Result<(), String> {
    let user = user_by_login(store, login).await?;
    let patch = UserPatch {
        status: Some(status),
        ..UserPatch::default()
    };
    let saved = accounts::update_user(store, None, &user, &patch, user.version)
        .await
        .map_err(describe)?;
    println!("{} is now {}", saved.login, saved.status.as_str());
    Ok(())
}

/// Checks a CSV file of users, then (unless `dry_run`) applies it in one transaction; prints
/// each row's action and each created user's one-time password.
async fn import_users(store: &Store, org: &str, file: &Path, dry_run: bool) -> Result<(), String> {
    let org = org_by_slug(store, org).await?;
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let plan = match user_csv::plan(store, true, &org, &bytes)
        .await
        .map_err(describe)?
    {
        Ok(plan) => plan,
        Err(errors) => {
            for e in &errors {
                eprintln!(
                    "row {}{}: {} ({})",
                    e.row,
                    e.column
                        .as_deref()
                        .map(|c| format!(", column {c}"))
                        .unwrap_or_default(),
                    e.message,
                    e.code
                );
            }
            return Err(format!(
                "{} problem(s) found; nothing was imported",
                errors.len()
            ));
        }
    };
    for row in &plan.rows {
        println!("row {}: {} {}", row.row, row.action, row.login);
    }
    if dry_run {
        println!("dry run: nothing was changed");
        return Ok(());
    }
    let created = user_csv::apply(store, &Hasher::default(), None, &org, &plan)
        .await
        .map_err(describe)?;
    for c in &created {
        println!("one-time password for {}: {}", c.login, c.one_time_password);
    }
    Ok(())
}
