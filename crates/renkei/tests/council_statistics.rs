//! Usage statistics of a regional council over real HTTP: each member hospital's figures
//! (within and across hospitals), who may read them, the CSV with its hospital columns, and a
//! conversation counted as cross-hospital once per hospital however its members change; and
//! statistics days that begin at the configured offset from UTC.

mod common;

use common::{Api, Server, Storage, active_user_with, csv_rows};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    council_report_shows_each_member_hospital_exactly,
    statistics_days_begin_at_the_configured_offset,
);

async fn org(root: &Api, name: &str, slug: &str, kind: &str) -> String {
    let (status, body) = root
        .post(
            "/api/v1/orgs",
            json!({"name": name, "slug": slug, "kind": kind}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn user(server: &Server, root: &Api, org: &str, login: &str, extra: Value) -> (Api, String) {
    let (api, body) = active_user_with(server, root, org, login, extra).await;
    (api, body["id"].as_str().unwrap().to_owned())
}

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(8, 8, image::Rgb([10, 200, 10]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

async fn conversation(api: &Api, title: &str, members: &[&str]) -> String {
    let (status, conv) = api
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "title": title, "member_ids": members}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{conv}");
    conv["id"].as_str().unwrap().to_owned()
}

async fn post(api: &Api, conv: &str, n: usize) {
    for _ in 0..n {
        let (status, body) = api
            .post(
                &format!("/api/v1/conversations/{conv}/messages"),
                json!({"client_msg_id": renkei_core::new_id().to_string(), "body": "申し送り"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
}

/// One member's figures of the report's last month: a metric summed over departments, or
/// active users of a profession (`total` for all).
struct Figures<'a> {
    report: &'a Value,
    month: String,
}

impl<'a> Figures<'a> {
    fn new(report: &'a Value) -> Self {
        let month = report["months"].as_array().unwrap().last().unwrap();
        Figures {
            report,
            month: month.as_str().unwrap().to_owned(),
        }
    }

    fn count(&self, org: &str, metric: &str) -> i64 {
        self.report["counts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["org_id"] == org && c["metric"] == metric && c["month"] == *self.month)
            .map(|c| c["value"].as_i64().unwrap())
            .sum()
    }

    fn counts(&self, org: &str) -> [i64; 6] {
        [
            "messages",
            "conversations",
            "cross_org_conversations",
            "cross_org_messages",
            "photos",
            "studies",
        ]
        .map(|m| self.count(org, m))
    }

    fn active(&self, org: &str, profession: &str) -> Option<i64> {
        self.report["active_users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| {
                a["org_id"] == org && a["profession"] == profession && a["month"] == *self.month
            })
            .and_then(|a| a["value"].as_i64())
    }

    fn orgs_in_rows(&self) -> Vec<String> {
        let mut orgs: Vec<String> = ["counts", "active_users"]
            .iter()
            .flat_map(|k| self.report[*k].as_array().unwrap().iter())
            .map(|r| r["org_id"].as_str().unwrap().to_owned())
            .collect();
        orgs.sort();
        orgs.dedup();
        orgs
    }
}

async fn csv(api: &Api, path: &str) -> (StatusCode, Vec<Vec<String>>) {
    let resp = api
        .http
        .get(api.url(path))
        .bearer_auth(api.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (
        status,
        csv_rows(text.strip_prefix('\u{feff}').unwrap_or(&text)),
    )
}

async fn council_report_shows_each_member_hospital_exactly(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let root = server.first_admin().await;
    let council = org(&root, "Oita Regional Council", "oita-council", "council").await;
    // A name a spreadsheet would take for a formula.
    let oita = org(&root, "=Oita Hospital", "oita", "hospital").await;
    let beppu = org(&root, "別府病院", "beppu", "hospital").await;
    let saiki = org(&root, "Saiki Hospital", "saiki", "hospital").await;
    let admin = json!({"roles": ["org_admin"], "profession": "clerk"});
    let (council_admin, _) = user(&server, &root, &council, "council-admin", admin.clone()).await;
    let (council_clerk, _) = user(&server, &root, &council, "council-clerk", json!({})).await;
    let (oita_admin, _) = user(&server, &root, &oita, "oita-admin", admin.clone()).await;
    let (beppu_admin, _) = user(&server, &root, &beppu, "beppu-admin", admin.clone()).await;
    let (saiki_admin, saiki_admin_id) =
        user(&server, &root, &saiki, "saiki-admin", admin.clone()).await;
    let base = format!("/api/v1/councils/{council}");
    for id in [&oita, &beppu, &saiki] {
        let (s, b) = council_admin
            .post(&format!("{base}/members"), json!({"org_id": id}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    for api in [&oita_admin, &beppu_admin] {
        let (s, b) = api.post(&format!("{base}/opt-in"), json!({})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    let (s, b) = council_admin
        .post(
            &format!("{base}/agreements"),
            json!({"scopes": ["directory", "messaging"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");

    let (_, icu) = oita_admin
        .post(
            &format!("/api/v1/orgs/{oita}/departments"),
            json!({"name": "ICU"}),
        )
        .await;
    let doctor = |dept: &Value| json!({"profession": "doctor", "department_id": dept["id"]});
    let (o_doc, o_doc_id) = user(&server, &root, &oita, "o-doc", doctor(&icu)).await;
    let (o_nurse, o_nurse_id) = user(&server, &root, &oita, "o-nurse", json!({})).await;
    let (b_doc, b_doc_id) = user(
        &server,
        &root,
        &beppu,
        "b-doc",
        json!({"profession": "doctor"}),
    )
    .await;
    let (_, b_nurse_id) = user(&server, &root, &beppu, "b-nurse", json!({})).await;
    let (saiki_doc, _) = user(&server, &root, &saiki, "s-doc", json!({})).await;

    // Within Oita: one conversation, two messages.
    let ward = conversation(&o_doc, "病棟", &[&o_nurse_id]).await;
    post(&o_doc, &ward, 2).await;
    // Across from the start: cross-hospital for both at creation.
    let consult = conversation(&o_doc, "コンサルト", &[&b_doc_id]).await;
    post(&b_doc, &consult, 3).await;
    post(&o_doc, &consult, 1).await;
    // Oita only at first; Beppu joins later, leaves, comes back, and a second Beppu member
    // and another Oita member join: cross-hospital once for each hospital, at the first add.
    let handover = conversation(&o_nurse, "申し送り", &[&o_doc_id]).await;
    let members = format!("/api/v1/conversations/{handover}/members");
    let add = |id: &str| {
        let (api, path, id) = (o_nurse.clone(), members.clone(), id.to_owned());
        async move {
            let (s, b) = api.post(&path, json!({"user_id": id})).await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
        }
    };
    add(&b_doc_id).await;
    let (s, _) = o_nurse
        .raw(
            Method::DELETE,
            &format!("{members}/{b_doc_id}"),
            "application/json",
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    add(&b_doc_id).await;
    add(&b_nurse_id).await;
    let (s, b) = o_doc
        .post(
            &format!("/api/v1/conversations/{consult}/members"),
            json!({"user_id": o_nurse_id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // Photos: one in Oita, two in Beppu; Saiki (invited, not in) works too.
    for api in [&o_nurse, &b_doc, &b_doc, &saiki_doc] {
        let (s, b) = api
            .raw(Method::POST, "/api/v1/media?name=x.png", "image/png", png())
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    let alone = conversation(&saiki_doc, "Saiki", &[&saiki_admin_id]).await;
    post(&saiki_doc, &alone, 1).await;

    // The council's report: each member opted in, by name, with its own figures.
    let stats = format!("/api/v1/orgs/{council}/stats");
    let (s, report) = council_admin.get(&stats).await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(report["org_id"], json!(council));
    let members = report["members"].as_array().unwrap();
    assert_eq!(members.len(), 2, "opted-in members only: {report}");
    for want in [
        json!({"org_id": oita, "name": "=Oita Hospital", "slug": "oita"}),
        json!({"org_id": beppu, "name": "別府病院", "slug": "beppu"}),
    ] {
        assert!(members.contains(&want), "{want} in {report}");
    }
    let f = Figures::new(&report);
    let mut want_orgs = vec![oita.clone(), beppu.clone()];
    want_orgs.sort();
    assert_eq!(f.orgs_in_rows(), want_orgs, "no council or Saiki rows");
    // messages, conversations, cross-org conversations, cross-org messages, photos, studies
    assert_eq!(f.counts(&oita), [3, 3, 2, 1, 1, 0], "{report}");
    assert_eq!(f.counts(&beppu), [3, 0, 2, 3, 2, 0], "{report}");
    let icu_messages: i64 = report["counts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["metric"] == "messages" && c["department"] == "ICU")
        .map(|c| c["value"].as_i64().unwrap())
        .sum();
    assert_eq!(icu_messages, 3);
    for (org, doctors) in [(&oita, 1), (&beppu, 1)] {
        assert_eq!(
            (
                f.active(org, "total"),
                f.active(org, "doctor"),
                f.active(org, "nurse"),
                f.active(org, "clerk")
            ),
            (Some(3), Some(doctors), Some(1), Some(1)),
            "{report}"
        );
    }

    // A hospital's own report is unchanged: itself only.
    let (s, own) = oita_admin.get(&format!("/api/v1/orgs/{oita}/stats")).await;
    assert_eq!(s, StatusCode::OK, "{own}");
    assert_eq!(Figures::new(&own).orgs_in_rows(), vec![oita.clone()]);
    assert_eq!(Figures::new(&own).counts(&oita), [3, 3, 2, 1, 1, 0]);

    // The CSV: a row per member and month, with the hospital's slug and name, formula-safe.
    let (s, rows) = csv(&council_admin, &format!("{stats}/export")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        rows[0],
        [
            "metric",
            "organization",
            "organization_name",
            "month",
            "department",
            "profession",
            "value"
        ]
    );
    let row = |cells: [&str; 7]| cells.map(str::to_owned).to_vec();
    for want in [
        row([
            "messages",
            "oita",
            "'=Oita Hospital",
            &f.month,
            "ICU",
            "",
            "3",
        ]),
        row([
            "cross_org_conversations",
            "beppu",
            "別府病院",
            &f.month,
            "",
            "",
            "2",
        ]),
        row([
            "cross_org_conversations",
            "oita",
            "'=Oita Hospital",
            &f.month,
            "",
            "",
            "2",
        ]),
        row(["photos", "beppu", "別府病院", &f.month, "", "", "2"]),
        row([
            "active_users",
            "beppu",
            "別府病院",
            &f.month,
            "",
            "doctor",
            "1",
        ]),
    ] {
        assert!(rows.contains(&want), "{want:?} in {rows:?}");
    }
    assert!(
        rows.iter()
            .skip(1)
            .all(|r| r[1] == "oita" || r[1] == "beppu"),
        "{rows:?}"
    );

    // Who may read it: the council's admins and the server admin; not its other staff, nor a
    // member hospital's admin (for the council or for another hospital).
    assert_eq!(root.get(&stats).await.0, StatusCode::OK);
    let (s, b) = council_clerk.get(&stats).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    for (api, path) in [
        (&oita_admin, stats.clone()),
        (&oita_admin, format!("{stats}/export")),
        (&oita_admin, format!("/api/v1/orgs/{beppu}/stats")),
        (&beppu_admin, format!("/api/v1/orgs/{oita}/stats/export")),
        (&saiki_admin, stats.clone()),
    ] {
        let (s, b) = api.get(&path).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("organization_not_found")),
            "{path}"
        );
    }
    let (s, b) = council_admin.get(&format!("{stats}?from=2026-13-01")).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_range"))
    );

    // A hospital that opts out leaves the council's report.
    let (s, b) = beppu_admin
        .post(&format!("{base}/opt-out"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (_, after) = council_admin.get(&stats).await;
    assert_eq!(Figures::new(&after).orgs_in_rows(), vec![oita.clone()]);
    assert_eq!(after["members"].as_array().map(Vec::len), Some(1));
}

/// Counts fall on the server's statistics day: with an offset that puts it on another date
/// than UTC's right now, today's message is on that date, not on the UTC date.
async fn statistics_days_begin_at_the_configured_offset(storage: Storage) {
    let now = renkei_core::clock::Timestamp::now();
    let utc = now.utc_day();
    // UTC+14 after noon UTC is tomorrow; UTC−12 before noon is yesterday.
    let hour = (now.millis() / 3_600_000) % 24;
    let offset: i64 = if hour >= 12 { 840 } else { -720 };
    let local = now.plus_secs(offset * 60).utc_day();
    assert_ne!(local, utc);
    let server = Server::start(
        &storage,
        &[("RENKEI_STATS_UTC_OFFSET_MINUTES", &offset.to_string())],
    );
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (tanaka, _) = user(&server, &admin, &org, "tanaka", json!({})).await;
    let (_, sato) = user(&server, &admin, &org, "sato", json!({})).await;
    let conv = conversation(&tanaka, "当直", &[&sato]).await;
    post(&tanaka, &conv, 2).await;

    let stats = format!("/api/v1/orgs/{org}/stats");
    let (s, report) = admin.get(&stats).await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(
        report["to"],
        local.as_str(),
        "the default range ends on the server's today"
    );
    let messages_on = |day: &str| {
        let (admin, path) = (admin.clone(), format!("{stats}?from={day}&to={day}"));
        async move {
            let (_, r) = admin.get(&path).await;
            r["counts"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["metric"] == "messages")
                .map(|c| c["value"].as_i64().unwrap())
                .sum::<i64>()
        }
    };
    assert_eq!(messages_on(&local).await, 2);
    assert_eq!(messages_on(&utc).await, 0);
    let (_, seats) = admin.get(&format!("/api/v1/orgs/{org}/seats")).await;
    assert_eq!(seats["today"]["day"], local.as_str(), "{seats}");

    // An offset no place uses is refused with a clear message before anything is opened.
    std::fs::write(
        storage.dir.path().join("renkei.toml"),
        "stats_utc_offset_minutes = 900\n",
    )
    .unwrap();
    let out = storage.admin(&["verify-audit"], "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("stats_utc_offset_minutes"), "{stderr}");
}
