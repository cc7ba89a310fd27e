//! The user CSV import without the store: decoding (UTF-8 or Shift_JIS), the header check and
//! every row planned against an organization with two users and two departments.
#![no_main]

use std::collections::HashMap;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use renkei_core::org::{NewOrganization, Organization};
use renkei_core::user::{NewUser, User};
use renkei_service::admin::user_csv::{CsvFile, draft};
use serde_json::json;

static ORG: LazyLock<Organization> = LazyLock::new(|| {
    NewOrganization {
        name: "Fuzz General Hospital".into(),
        slug: Some("fuzz".into()),
        kind: None,
    }
    .build(Timestamp::now())
    .expect("a valid organization")
});

static DEPARTMENTS: LazyLock<HashMap<String, Uuid>> = LazyLock::new(|| {
    ["救急科", "Radiology"]
        .into_iter()
        .map(|name| (name.to_owned(), renkei_core::new_id()))
        .collect()
});

static EXISTING: LazyLock<Vec<User>> = LazyLock::new(|| {
    let users = [
        json!({"login": "sato", "display_name": "佐藤 花子", "kana": "さとう はなこ",
               "profession": "nurse", "password": "a long enough password 1",
               "staff_number": "E-1"}),
        json!({"login": "admin", "display_name": "管理 太郎", "kana": "かんり たろう",
               "profession": "doctor", "password": "a long enough password 1",
               "roles": ["org_admin"], "staff_number": "E-2"}),
    ];
    users
        .into_iter()
        .map(|user| {
            serde_json::from_value::<NewUser>(user)
                .expect("a new user")
                .build(ORG.id, Timestamp::now())
                .expect("a valid user")
        })
        .collect()
});

fuzz_target!(|data: &[u8]| {
    let Ok(file) = CsvFile::read(data) else {
        return;
    };
    let by_server_admin = data.len() % 2 == 0;
    let _ = draft(&file, by_server_admin, &ORG, &EXISTING, &DEPARTMENTS);
});
