//! Users as CSV: export, and import planned row by row — every error of every row listed —
//! before anything is written; the plan is then applied in one transaction.
//!
//! A row updates the organization's user with the same staff number, else the same login;
//! otherwise it creates a user with a one-time password. Only the columns present change,
//! so re-importing a file (or an export) changes nothing.

use std::borrow::Cow;
use std::collections::HashMap;

use renkei_core::access::{is_server_admin, touches_server_admin};
use renkei_core::audit::{AuditEvent, changes};
use renkei_core::org::Organization;
use renkei_core::user::User;
use renkei_core::{Uuid, validate};
use renkei_store::{ImportChange, Store, StoreError};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::csv_codec::{self, DecodeError};
pub use super::user_csv_rows::RowError;
use super::user_csv_rows::{COLUMNS, Cells, check_header, field_errors, row_patch, template};
use crate::Services;
use crate::accounts::orgs::administered_org;
use crate::auth::password::Hasher;
use crate::error::{Kind, OrService, ServiceError, ServiceResult};

/// Most data rows one file may hold.
pub const MAX_ROWS: usize = 10_000;

/// What importing does with one row.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowPlan {
    pub row: usize,
    /// `create`, `update` or `unchanged`.
    pub action: &'static str,
    pub login: String,
    /// The existing user a row updates.
    pub user_id: Option<Uuid>,
    /// Fields that change: `{field: {before, after}}`.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
}

/// A user created by an import and the one-time password they first sign in with.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Created {
    pub row: usize,
    pub login: String,
    pub id: Uuid,
    pub one_time_password: String,
}

/// A checked import, ready to apply.
pub struct Plan {
    pub encoding: &'static str,
    pub rows: Vec<RowPlan>,
    creates: Vec<(usize, User)>,
    updates: Vec<(User, User)>,
}

/// Reads and checks a CSV file for `org`; `Err` lists every problem found.
pub async fn plan(
    store: &Store,
    by_server_admin: bool,
    org: &Organization,
    bytes: &[u8],
) -> ServiceResult<Result<Plan, Vec<RowError>>> {
    let file = match CsvFile::read(bytes) {
        Ok(file) => file,
        Err(errors) => return Ok(Err(errors)),
    };
    let existing = store
        .users_of(org.id, None)
        .await
        .or_service("organization_not_found")?;
    let departments: HashMap<String, Uuid> = store
        .list_departments(org.id)
        .await
        .or_service("organization_not_found")?
        .into_iter()
        .map(|d| (d.name, d.id))
        .collect();
    let Draft {
        plan,
        mut errors,
        logins,
    } = draft(&file, by_server_admin, org, &existing, &departments);
    // Logins are unique across organizations.
    for (login, (row, id)) in &logins {
        if existing.iter().any(|u| &u.login == login) {
            continue;
        }
        match store.user_by_login(login).await {
            Ok(other) if other.id != *id => errors.push(RowError::new(
                *row,
                Some("login"),
                "login_taken",
                "this login is taken in another organization",
            )),
            Ok(_) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(ServiceError::from_store(e, "user_not_found")),
        }
    }
    if errors.is_empty() {
        Ok(Ok(plan))
    } else {
        errors.sort_by_key(|e| e.row);
        Ok(Err(errors))
    }
}

/// A CSV file decoded (UTF-8 or Shift_JIS), its header row checked.
pub struct CsvFile<'a> {
    text: Cow<'a, str>,
    encoding: &'static str,
    header: Vec<String>,
}

impl<'a> CsvFile<'a> {
    /// Decodes `bytes` and checks the header row; `Err` lists what is wrong with either.
    pub fn read(bytes: &'a [u8]) -> Result<CsvFile<'a>, Vec<RowError>> {
        let (text, encoding) = match csv_codec::decode(bytes) {
            Ok(decoded) => decoded,
            Err(e) => {
                let message = match e {
                    DecodeError::Unsupported => {
                        "UTF-16 files are not accepted; save as UTF-8 or Shift_JIS"
                    }
                    DecodeError::Invalid => "the file is neither UTF-8 nor Shift_JIS text",
                };
                return Err(vec![RowError::new(0, None, "invalid_encoding", message)]);
            }
        };
        let header = match records(&text).next() {
            Some(Ok(h)) => h,
            Some(Err(_)) | None => {
                return Err(vec![RowError::new(
                    1,
                    None,
                    "missing_header",
                    "the file has no header row",
                )]);
            }
        };
        let (header, errors) = check_header(&header);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(CsvFile {
            text,
            encoding,
            header,
        })
    }
}

/// The records of CSV `text`, the header row first.
fn records(text: &str) -> csv::StringRecordsIntoIter<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .into_records()
}

/// A plan checked against the organization's users, before the check of logins across
/// organizations (which needs the store).
pub struct Draft {
    pub plan: Plan,
    /// Every problem found, in the order found.
    pub errors: Vec<RowError>,
    /// Each row's final login → (row, user id).
    pub logins: HashMap<String, (usize, Uuid)>,
}

/// Plans every data row of `file` for `org`, whose users are `existing` and whose departments
/// are `departments` (name → id); decides only, reads and writes nothing.
pub fn draft(
    file: &CsvFile<'_>,
    by_server_admin: bool,
    org: &Organization,
    existing: &[User],
    departments: &HashMap<String, Uuid>,
) -> Draft {
    let header = &file.header;
    let mut errors = Vec::new();
    let may_grant = by_server_admin;
    let mut plan = Plan {
        encoding: file.encoding,
        rows: Vec::new(),
        creates: Vec::new(),
        updates: Vec::new(),
    };
    // Final login and staff number → (row, user id), to find duplicates and collisions.
    let mut logins: HashMap<String, (usize, Uuid)> = HashMap::new();
    let mut staff: HashMap<String, (usize, Uuid)> = HashMap::new();
    let mut targeted: HashMap<Uuid, usize> = HashMap::new();
    for (index, record) in records(&file.text).skip(1).enumerate() {
        let row = index + 2;
        if row - 1 > MAX_ROWS {
            let error = RowError::new(
                row,
                None,
                "too_many_rows",
                format!("at most {MAX_ROWS} rows per file"),
            );
            errors.push(error.with("max", MAX_ROWS));
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(_) => {
                errors.push(RowError::new(
                    row,
                    None,
                    "malformed_row",
                    "this row is not valid CSV (check its quotes)",
                ));
                continue;
            }
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if record.len() != header.len() {
            let error = RowError::new(
                row,
                None,
                "column_count",
                format!(
                    "this row has {} cells; the header has {}",
                    record.len(),
                    header.len()
                ),
            );
            let error = error.with("cells", record.len());
            errors.push(error.with("expected", header.len()));
            continue;
        }
        let cells = Cells {
            header,
            record: &record,
        };
        let before_row = errors.len();
        let (patch, status) = row_patch(row, &cells, departments, &mut errors);
        let login = cells.get("login").and_then(|l| validate::login(l).ok());
        let staff_number = cells
            .get("staff_number")
            .and_then(|s| validate::staff_number(s).ok().flatten());
        let by_staff = staff_number
            .as_ref()
            .and_then(|s| existing.iter().find(|u| u.staff_number.as_ref() == Some(s)));
        let by_login = login
            .as_ref()
            .and_then(|l| existing.iter().find(|u| &u.login == l));
        let target = match (by_staff, by_login) {
            (Some(a), Some(b)) if a.id != b.id => {
                errors.push(RowError::new(
                    row,
                    Some("staff_number"),
                    "conflicting_match",
                    "the staff number and the login belong to two different users",
                ));
                continue;
            }
            (a, b) => a.or(b),
        };
        let base = target.cloned().unwrap_or_else(|| template(org));
        field_errors(row, &base, &patch, &mut errors);
        if errors.len() > before_row {
            continue;
        }
        let next = match patch.apply(&base) {
            Ok(mut next) => {
                if let Some(s) = status {
                    if target.is_none() {
                        next.status = s;
                    } else if !base.status.can_become(s) {
                        let error = RowError::new(
                            row,
                            Some("status"),
                            "invalid_status_transition",
                            format!(
                                "a {} user cannot become {}",
                                base.status.as_str(),
                                s.as_str()
                            ),
                        );
                        let error = error.with("from", base.status.as_str());
                        errors.push(error.with("to", s.as_str()));
                        continue;
                    } else {
                        next.status = s;
                    }
                }
                next
            }
            Err(e) => {
                errors.push(RowError::new(row, None, e.code(), e.to_string()));
                continue;
            }
        };
        if let Some(first) = targeted.insert(next.id, row) {
            let error = RowError::new(
                row,
                None,
                "duplicate_row",
                format!("row {first} is for the same user"),
            );
            errors.push(error.with("first", first));
            continue;
        }
        if let Some((first, _)) = logins.insert(next.login.clone(), (row, next.id)) {
            let error = RowError::new(
                row,
                Some("login"),
                "duplicate_row",
                format!("row {first} has the same login"),
            );
            errors.push(error.with("first", first));
            continue;
        }
        if let Some(s) = &next.staff_number
            && let Some((first, _)) = staff.insert(s.clone(), (row, next.id))
        {
            let error = RowError::new(
                row,
                Some("staff_number"),
                "duplicate_row",
                format!("row {first} has the same staff number"),
            );
            errors.push(error.with("first", first));
            continue;
        }
        let diff = target.map(|before| changes(before, &next));
        let unchanged = diff
            .as_ref()
            .is_some_and(|d| d.as_object().is_none_or(|d| d.is_empty()));
        let before_roles = target.map(|t| t.roles.as_slice()).unwrap_or(&[]);
        if !unchanged && !may_grant && touches_server_admin(before_roles, &next.roles) {
            errors.push(RowError::new(
                row,
                Some("roles"),
                "forbidden",
                "only server administrators change a server administrator or make one",
            ));
            continue;
        }
        match (target, diff) {
            (Some(before), Some(diff)) => {
                plan.rows.push(RowPlan {
                    row,
                    action: if unchanged { "unchanged" } else { "update" },
                    login: next.login.clone(),
                    user_id: Some(before.id),
                    changes: diff,
                });
                if !unchanged {
                    plan.updates.push((before.clone(), next));
                }
            }
            _ => {
                plan.rows.push(RowPlan {
                    row,
                    action: "create",
                    login: next.login.clone(),
                    user_id: None,
                    changes: serde_json::Value::Null,
                });
                plan.creates.push((row, next));
            }
        }
    }
    // Users the file does not mention keep their login and staff number: a row may not take them.
    for user in existing.iter().filter(|u| !targeted.contains_key(&u.id)) {
        if let Some((row, _)) = logins.get(&user.login) {
            errors.push(RowError::new(
                *row,
                Some("login"),
                "login_taken",
                "another user has this login",
            ));
        }
        if let Some((row, _)) = user.staff_number.as_ref().and_then(|s| staff.get(s)) {
            errors.push(RowError::new(
                *row,
                Some("staff_number"),
                "staff_number_taken",
                "another user has this staff number",
            ));
        }
    }
    Draft {
        plan,
        errors,
        logins,
    }
}

/// Applies a checked plan in one transaction; returns the created users' one-time passwords.
pub async fn apply(
    store: &Store,
    hasher: &Hasher,
    actor: Option<Uuid>,
    org: &Organization,
    plan: &Plan,
) -> ServiceResult<Vec<Created>> {
    let mut created = Vec::with_capacity(plan.creates.len());
    let mut changes_list = Vec::with_capacity(plan.creates.len() + plan.updates.len());
    for (row, user) in &plan.creates {
        let password = crate::auth::token::random_password(16);
        let password_hash = hasher.hash(&password).await?;
        let audit = AuditEvent::new("user.create", Some(org.id), actor, "user", Some(user.id))
            .with_details(json!({
                "login": user.login, "profession": user.profession, "roles": user.roles,
                "status": user.status, "via": "csv",
            }));
        changes_list.push(ImportChange::Create {
            user: user.clone(),
            password_hash,
            audit,
        });
        created.push(Created {
            row: *row,
            login: user.login.clone(),
            id: user.id,
            one_time_password: password,
        });
    }
    for (before, next) in &plan.updates {
        let action = if before.status != next.status {
            "user.status"
        } else {
            "user.update"
        };
        let audit = AuditEvent::new(action, Some(org.id), actor, "user", Some(before.id))
            .with_details(json!({"changes": changes(before, next), "via": "csv"}));
        changes_list.push(ImportChange::Update {
            next: next.clone(),
            version: before.version,
            audit,
        });
    }
    match store.apply_import(org.id, &changes_list).await {
        Err(StoreError::Stale) => Err(ServiceError::new(
            Kind::Conflict,
            "version_conflict",
            "a user was changed by someone else during the import; nothing was imported, try again",
        )),
        other => other.or_service("organization_not_found"),
    }?;
    Ok(created)
}

/// Ids of users whose sessions an applied plan ended (suspended or retired by it).
pub fn ended(plan: &Plan) -> Vec<Uuid> {
    plan.updates
        .iter()
        .filter(|(_, next)| !next.status.may_sign_in())
        .map(|(_, next)| next.id)
        .collect()
}

/// Every user of `org` as CSV (UTF-8 with BOM), in the import's columns.
pub async fn export(store: &Store, org: &Organization) -> ServiceResult<Vec<u8>> {
    let users = store
        .users_of(org.id, None)
        .await
        .or_service("organization_not_found")?;
    let departments: HashMap<Uuid, String> = store
        .list_departments(org.id)
        .await
        .or_service("organization_not_found")?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    let rows = users.iter().map(|u| {
        vec![
            u.login.clone(),
            u.staff_number.clone().unwrap_or_default(),
            u.display_name.clone(),
            u.kana.clone(),
            u.romaji.clone(),
            u.profession.as_str().to_owned(),
            u.department_id
                .and_then(|d| departments.get(&d).cloned())
                .unwrap_or_default(),
            u.email.clone().unwrap_or_default(),
            u.phone.clone().unwrap_or_default(),
            u.roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(";"),
            u.status.as_str().to_owned(),
            u.second_factor_required.to_string(),
        ]
    });
    Ok(csv_codec::write(COLUMNS, rows))
}

/// An import as run: how the file was read, what each row did, who was created.
pub struct Imported {
    pub encoding: &'static str,
    pub rows: Vec<RowPlan>,
    /// Users created, with their one-time passwords (empty on a dry run).
    pub created: Vec<Created>,
}

/// Imports a CSV file into organization `org_id` as `actor` (its administrators): planned,
/// then (unless `dry_run`) applied all or none; users it suspends or retires are cut off at
/// once. `Ok(Err(_))` lists every problem of a file that changed nothing.
pub async fn import(
    svc: &Services,
    actor: &User,
    org_id: Uuid,
    bytes: &[u8],
    dry_run: bool,
) -> ServiceResult<Result<Imported, Vec<RowError>>> {
    let org = administered_org(svc, actor, org_id).await?;
    let plan = match plan(&svc.store, is_server_admin(actor), &org, bytes).await? {
        Ok(plan) => plan,
        Err(errors) => return Ok(Err(errors)),
    };
    let created = if dry_run {
        Vec::new()
    } else {
        let created = apply(&svc.store, &svc.hasher, Some(actor.id), &org, &plan).await?;
        for user in ended(&plan) {
            svc.messaging.user_ended(user);
        }
        created
    };
    Ok(Ok(Imported {
        encoding: plan.encoding,
        rows: plan.rows,
        created,
    }))
}

/// Organization `org_id`'s users as CSV for `actor` (its administrators), with the
/// organization (whose slug names the file).
pub async fn export_as(
    svc: &Services,
    actor: &User,
    org_id: Uuid,
) -> ServiceResult<(Organization, Vec<u8>)> {
    let org = administered_org(svc, actor, org_id).await?;
    let body = export(&svc.store, &org).await?;
    Ok((org, body))
}
