//! Reading one CSV row of users: the columns, the header check, and a row turned into a
//! user patch with an error for every bad cell.

use std::collections::HashMap;

use renkei_core::clock::Timestamp;
use renkei_core::org::Organization;
use renkei_core::user::{Profession, Role, User, UserPatch, UserStatus};
use renkei_core::{DomainError, Uuid};
use serde::Serialize;
use utoipa::ToSchema;

use super::csv_codec;

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
/// What is wrong with one cell, row or the file (row 0 is the file itself, row 1 the header).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowError {
    pub row: usize,
    pub column: Option<String>,
    pub code: String,
    pub message: String,
    /// What a client needs to say it in the user's language, e.g. `{"first": 3}` for a
    /// duplicate of row 3 (absent when the code says it all).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(value_type = Object)]
    pub params: serde_json::Map<String, serde_json::Value>,
}

impl RowError {
    pub(crate) fn new(
        row: usize,
        column: Option<&str>,
        code: &str,
        message: impl Into<String>,
    ) -> Self {
        RowError {
            row,
            column: column.map(str::to_owned),
            code: code.to_owned(),
            message: message.into(),
            params: serde_json::Map::new(),
        }
    }

    /// The same error with a parameter for the client's translation.
    pub(crate) fn with(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.params.insert(name.to_owned(), value.into());
        self
    }
}

/// One row's cells by column name (absent columns are `None`).
pub(crate) struct Cells<'a> {
    pub(crate) header: &'a [String],
    pub(crate) record: &'a csv::StringRecord,
}

impl Cells<'_> {
    pub(crate) fn get(&self, column: &str) -> Option<&str> {
        let i = self.header.iter().position(|h| h == column)?;
        Some(csv_codec::unescape_cell(self.record.get(i).unwrap_or("").trim()).trim())
    }
}

/// Checks the header: known columns, each once, the required ones present.
pub(crate) fn check_header(record: &csv::StringRecord) -> (Vec<String>, Vec<RowError>) {
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
pub(crate) fn template(org: &Organization) -> User {
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
        second_factor_enrolled: false,
        must_change_password: true,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

/// Turns one row into a patch; every bad cell adds an error.
pub(crate) fn row_patch(
    row: usize,
    cells: &Cells,
    departments: &HashMap<String, Uuid>,
    errors: &mut Vec<RowError>,
) -> (UserPatch, Option<UserStatus>) {
    let mut bad = |column: &str, code: &str, message: String| {
        errors.push(RowError::new(row, Some(column), code, message));
    };
    let mut patch = UserPatch {
        login: cells.get("login").map(str::to_owned),
        display_name: cells.get("display_name").map(str::to_owned),
        kana: cells.get("kana").map(str::to_owned),
        romaji: cells.get("romaji").map(str::to_owned),
        email: cells.get("email").map(optional),
        phone: cells.get("phone").map(optional),
        staff_number: cells.get("staff_number").map(optional),
        ..UserPatch::default()
    };
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
    let mut missing_department = None;
    if let Some(d) = cells.get("department") {
        if d.is_empty() {
            patch.department_id = Some(None);
        } else if let Some(id) = departments.get(d) {
            patch.department_id = Some(Some(*id));
        } else {
            missing_department = Some(d);
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
    if let Some(name) = missing_department {
        let error = RowError::new(
            row,
            Some("department"),
            "department_not_found",
            "no department of this name; create it first",
        );
        errors.push(error.with("name", name));
    }
    (patch, status)
}

/// Validates each field of `patch` on its own against `base`, so every bad cell is named.
pub(crate) fn field_errors(row: usize, base: &User, patch: &UserPatch, errors: &mut Vec<RowError>) {
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

pub(crate) fn domain_error(row: usize, column: &str, e: &DomainError) -> RowError {
    RowError::new(row, Some(column), e.code(), e.to_string())
}
