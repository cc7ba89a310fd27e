//! Users as CSV: export, and import planned row by row — every error of every row listed —
//! before anything is written; the plan is then applied in one transaction.
//!
//! A row updates the organization's user with the same staff number, else the same login;
//! otherwise it creates a user with a one-time password. Only the columns present change,
//! so re-importing a file (or an export) changes nothing.

use std::collections::HashMap;

use renkei_core::access::is_server_admin;
use renkei_core::audit::{AuditEvent, changes};
use renkei_core::clock::Timestamp;
use renkei_core::org::Organization;
use renkei_core::user::{Profession, Role, User, UserPatch, UserStatus};
use renkei_core::{DomainError, Uuid, validate};
use renkei_store::{ImportChange, Store, StoreError};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::csv_codec::{self, DecodeError};
use crate::auth::password::Hasher;
use crate::error::{ApiError, ApiResult, OrApi};

/// Every column, in export order.
pub const COLUMNS: &[&str] = &[
    "login",
    "staff_number",
    "display_name",
    "kana",
    "romaji",
    "profession",
    "department",
    "email",
    "phone",
    "roles",
    "status",
    "second_factor_required",
];
const REQUIRED: &[&str] = &["login", "display_name", "profession"];
/// Most data rows one file may hold.
pub const MAX_ROWS: usize = 10_000;

/// What is wrong with one cell, row or the file (row 0 is the file itself, row 1 the header).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowError {
    pub row: usize,
    pub column: Option<String>,
    pub code: String,
    pub message: String,
}

impl RowError {
    fn new(row: usize, column: Option<&str>, code: &str, message: impl Into<String>) -> Self {
        RowError {
            row,
            column: column.map(str::to_owned),
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

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

/// One row's cells by column name (absent columns are `None`).
struct Cells<'a> {
    header: &'a [String],
    record: &'a csv::StringRecord,
}

impl Cells<'_> {
    fn get(&self, column: &str) -> Option<&str> {
        let i = self.header.iter().position(|h| h == column)?;
        Some(csv_codec::unescape_cell(self.record.get(i).unwrap_or("").trim()).trim())
    }
}

/// Checks the header: known columns, each once, the required ones present.
fn check_header(record: &csv::StringRecord) -> (Vec<String>, Vec<RowError>) {
    let header: Vec<String> = record
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let mut errors = Vec::new();
    for (i, name) in header.iter().enumerate() {
        if !COLUMNS.contains(&name.as_str()) {
            errors.push(RowError::new(
                1,
                Some(name),
                "unknown_column",
                format!("unknown column; use: {}", COLUMNS.join(", ")),
            ));
        } else if header[..i].contains(name) {
            errors.push(RowError::new(
                1,
                Some(name),
                "duplicate_column",
                "this column appears twice",
            ));
        }
    }
    for required in REQUIRED {
        if !header.iter().any(|h| h == required) {
            errors.push(RowError::new(
                1,
                Some(required),
                "missing_column",
                format!("the header must have a {required} column"),
            ));
        }
    }
    (header, errors)
}

fn parse_roles(text: &str) -> Result<Vec<Role>, String> {
    text.split([';', ',', ' ', '|'])
        .filter(|r| !r.is_empty())
        .map(|r| Role::parse(r).ok_or_else(|| r.to_owned()))
        .collect()
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "" | "false" | "0" | "no" | "n" => Some(false),
        "true" | "1" | "yes" | "y" => Some(true),
        _ => None,
    }
}

/// A blank value means "none" for optional fields.
fn optional(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

/// A user with nothing set yet, which a row's patch fills in.
fn template(org: &Organization) -> User {
    let now = Timestamp::now();
    User {
        id: renkei_core::new_id(),
        org_id: org.id,
        login: String::new(),
        display_name: String::new(),
        kana: String::new(),
        romaji: String::new(),
        profession: Profession::Other,
        department_id: None,
        email: None,
        phone: None,
        roles: Vec::new(),
        status: UserStatus::Active,
        staff_number: None,
        affiliations: Vec::new(),
        second_factor_required: false,
        must_change_password: true,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

/// Turns one row into a patch; every bad cell adds an error.
fn row_patch(
    row: usize,
    cells: &Cells,
    departments: &HashMap<String, Uuid>,
    errors: &mut Vec<RowError>,
) -> (UserPatch, Option<UserStatus>) {
    let mut bad = |column: &str, code: &str, message: String| {
        errors.push(RowError::new(row, Some(column), code, message));
    };
    let mut patch = UserPatch::default();
    patch.login = cells.get("login").map(str::to_owned);
    patch.display_name = cells.get("display_name").map(str::to_owned);
    patch.kana = cells.get("kana").map(str::to_owned);
    patch.romaji = cells.get("romaji").map(str::to_owned);
    patch.email = cells.get("email").map(optional);
    patch.phone = cells.get("phone").map(optional);
    patch.staff_number = cells.get("staff_number").map(optional);
    if let Some(p) = cells.get("profession") {
        match Profession::parse(p) {
            Some(p) => patch.profession = Some(p),
            None => bad(
                "profession",
                "invalid_profession",
                format!(
                    "profession must be one of: {}",
                    Profession::ALL
                        .iter()
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        }
    }
    if let Some(d) = cells.get("department") {
        if d.is_empty() {
            patch.department_id = Some(None);
        } else if let Some(id) = departments.get(d) {
            patch.department_id = Some(Some(*id));
        } else {
            bad(
                "department",
                "department_not_found",
                "no department of this name; create it first".into(),
            );
        }
    }
    if let Some(r) = cells.get("roles") {
        match parse_roles(r) {
            Ok(roles) => patch.roles = Some(roles),
            Err(_) => bad(
                "roles",
                "invalid_role",
                "roles are org_admin or server_admin, separated by ';'".into(),
            ),
        }
    }
    let mut status = None;
    if let Some(s) = cells.get("status").filter(|s| !s.is_empty()) {
        match UserStatus::parse(s) {
            Some(s) => status = Some(s),
            None => bad(
                "status",
                "invalid_status",
                "status is pending, active, suspended or retired".into(),
            ),
        }
    }
    if let Some(b) = cells.get("second_factor_required") {
        match parse_bool(b) {
            Some(b) => patch.second_factor_required = Some(b),
            None => bad(
                "second_factor_required",
                "invalid_boolean",
                "write true or false".into(),
            ),
        }
    }
    (patch, status)
}

/// Validates each field of `patch` on its own against `base`, so every bad cell is named.
fn field_errors(row: usize, base: &User, patch: &UserPatch, errors: &mut Vec<RowError>) {
    let single: [(&str, UserPatch); 7] = [
        (
            "login",
            UserPatch {
                login: patch.login.clone(),
                ..Default::default()
            },
        ),
        (
            "display_name",
            UserPatch {
                display_name: patch.display_name.clone(),
                ..Default::default()
            },
        ),
        (
            "kana",
            UserPatch {
                kana: patch.kana.clone(),
                ..Default::default()
            },
        ),
        (
            "romaji",
            UserPatch {
                romaji: patch.romaji.clone(),
                ..Default::default()
            },
        ),
        (
            "email",
            UserPatch {
                email: patch.email.clone(),
                ..Default::default()
            },
        ),
        (
            "phone",
            UserPatch {
                phone: patch.phone.clone(),
                ..Default::default()
            },
        ),
        (
            "staff_number",
            UserPatch {
                staff_number: patch.staff_number.clone(),
                ..Default::default()
            },
        ),
    ];
    for (column, one) in single {
        if let Err(e) = one.apply(base) {
            errors.push(domain_error(row, column, &e));
        }
    }
}

fn domain_error(row: usize, column: &str, e: &DomainError) -> RowError {
    RowError::new(row, Some(column), e.code(), e.to_string())
}

/// Reads and checks a CSV file for `org`; `Err` lists every problem found.
pub async fn plan(
    store: &Store,
    actor: &User,
    org: &Organization,
    bytes: &[u8],
) -> ApiResult<Result<Plan, Vec<RowError>>> {
    let (text, encoding) = match csv_codec::decode(bytes) {
        Ok(decoded) => decoded,
        Err(e) => {
            let message = match e {
                DecodeError::Unsupported => {
                    "UTF-16 files are not accepted; save as UTF-8 or Shift_JIS"
                }
                DecodeError::Invalid => "the file is neither UTF-8 nor Shift_JIS text",
            };
            return Ok(Err(vec![RowError::new(
                0,
                None,
                "invalid_encoding",
                message,
            )]));
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(_)) | None => {
            return Ok(Err(vec![RowError::new(
                1,
                None,
                "missing_header",
                "the file has no header row",
            )]));
        }
    };
    let (header, mut errors) = check_header(&header);
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let existing = store
        .users_of(org.id, None)
        .await
        .or_api("organization_not_found")?;
    let departments: HashMap<String, Uuid> = store
        .list_departments(org.id)
        .await
        .or_api("organization_not_found")?
        .into_iter()
        .map(|d| (d.name, d.id))
        .collect();
    let may_grant = is_server_admin(actor);
    let mut plan = Plan {
        encoding,
        rows: Vec::new(),
        creates: Vec::new(),
        updates: Vec::new(),
    };
    // Final login and staff number → (row, user id), to find duplicates and collisions.
    let mut logins: HashMap<String, (usize, Uuid)> = HashMap::new();
    let mut staff: HashMap<String, (usize, Uuid)> = HashMap::new();
    let mut targeted: HashMap<Uuid, usize> = HashMap::new();
    for (index, record) in records.enumerate() {
        let row = index + 2;
        if row - 1 > MAX_ROWS {
            errors.push(RowError::new(
                row,
                None,
                "too_many_rows",
                format!("at most {MAX_ROWS} rows per file"),
            ));
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
            errors.push(RowError::new(
                row,
                None,
                "column_count",
                format!(
                    "this row has {} cells; the header has {}",
                    record.len(),
                    header.len()
                ),
            ));
            continue;
        }
        let cells = Cells {
            header: &header,
            record: &record,
        };
        let before_row = errors.len();
        let (patch, status) = row_patch(row, &cells, &departments, &mut errors);
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
        let grants_server_admin = patch
            .roles
            .as_ref()
            .is_some_and(|r| r.contains(&Role::ServerAdmin))
            && !base.has_role(Role::ServerAdmin);
        if grants_server_admin && !may_grant {
            errors.push(RowError::new(
                row,
                Some("roles"),
                "forbidden",
                "only server administrators grant server_admin",
            ));
        }
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
                        errors.push(RowError::new(
                            row,
                            Some("status"),
                            "invalid_status_transition",
                            format!(
                                "a {} user cannot become {}",
                                base.status.as_str(),
                                s.as_str()
                            ),
                        ));
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
            errors.push(RowError::new(
                row,
                None,
                "duplicate_row",
                format!("row {first} is for the same user"),
            ));
            continue;
        }
        if let Some((first, _)) = logins.insert(next.login.clone(), (row, next.id)) {
            errors.push(RowError::new(
                row,
                Some("login"),
                "duplicate_row",
                format!("row {first} has the same login"),
            ));
            continue;
        }
        if let Some(s) = &next.staff_number
            && let Some((first, _)) = staff.insert(s.clone(), (row, next.id))
        {
            errors.push(RowError::new(
                row,
                Some("staff_number"),
                "duplicate_row",
                format!("row {first} has the same staff number"),
            ));
            continue;
        }
        match target {
            None => {
                plan.rows.push(RowPlan {
                    row,
                    action: "create",
                    login: next.login.clone(),
                    user_id: None,
                    changes: serde_json::Value::Null,
                });
                plan.creates.push((row, next));
            }
            Some(before) => {
                let diff = changes(before, &next);
                let unchanged = diff.as_object().is_none_or(|d| d.is_empty());
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
            Err(e) => return Err(ApiError::from_store(e, "user_not_found")),
        }
    }
    if errors.is_empty() {
        Ok(Ok(plan))
    } else {
        errors.sort_by(|a, b| a.row.cmp(&b.row));
        Ok(Err(errors))
    }
}

/// Applies a checked plan in one transaction; returns the created users' one-time passwords.
pub async fn apply(
    store: &Store,
    hasher: &Hasher,
    actor: Uuid,
    org: &Organization,
    plan: &Plan,
) -> ApiResult<Vec<Created>> {
    let mut created = Vec::with_capacity(plan.creates.len());
    let mut changes_list = Vec::with_capacity(plan.creates.len() + plan.updates.len());
    for (row, user) in &plan.creates {
        let password = crate::auth::token::random_password(16);
        let password_hash = hasher.hash(&password).await?;
        let audit = AuditEvent::new(
            "user.create",
            Some(org.id),
            Some(actor),
            "user",
            Some(user.id),
        )
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
        let audit = AuditEvent::new(action, Some(org.id), Some(actor), "user", Some(before.id))
            .with_details(json!({"changes": changes(before, next), "via": "csv"}));
        changes_list.push(ImportChange::Update {
            next: next.clone(),
            version: before.version,
            audit,
        });
    }
    match store.apply_import(org.id, &changes_list).await {
        Err(StoreError::Stale) => Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "version_conflict",
            "a user was changed by someone else during the import; nothing was imported, try again",
        )),
        other => other.or_api("organization_not_found"),
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
pub async fn export(store: &Store, org: &Organization) -> ApiResult<Vec<u8>> {
    let users = store
        .users_of(org.id, None)
        .await
        .or_api("organization_not_found")?;
    let departments: HashMap<Uuid, String> = store
        .list_departments(org.id)
        .await
        .or_api("organization_not_found")?
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
