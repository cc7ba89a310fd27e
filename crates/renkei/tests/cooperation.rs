//! Cooperation between hospitals over real HTTP and WebSocket: agreements proposed, accepted
//! and revoked with scopes; regional councils; the directory search; and a matrix that walks
//! every relationship × scope × route looking for a leak.

mod common;

use common::partners::{agree, org, org_admin};
use common::{Api, Server, Storage, Ws, active_user_with, pydicom_test_files, urlencode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    agreements_need_both_admins_and_refuse_bad_input,
    councils_set_up_every_pair_in_one_step,
    directory_finds_colleagues_ranked_and_paged,
    no_route_leaks_across_hospitals_without_an_agreement,
);

fn assert_error(status: StatusCode, body: &Value, want: StatusCode, code: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

async fn agreements_need_both_admins_and_refuse_bad_input(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let root = server.first_admin().await;
    let oita = org(&root, "Oita University Hospital", "oita-u", "hospital").await;
    let beppu = org(&root, "Beppu Medical Center", "beppu", "hospital").await;
    let council = org(&root, "Oita Regional Council", "oita-council", "council").await;
    let oita_admin = org_admin(&server, &root, &oita, "oita-admin").await;
    let beppu_admin = org_admin(&server, &root, &beppu, "beppu-admin").await;
    let (nurse, _) = active_user_with(&server, &root, &beppu, "beppu-nurse", json!({})).await;

    // Bad input is refused with {code, message} and stores nothing.
    let propose = |api: &Api, partner: Value, scopes: Value| {
        let api = api.clone();
        async move {
            api.post(
                "/api/v1/agreements",
                json!({"partner_org_id": partner, "scopes": scopes}),
            )
            .await
        }
    };
    let (s, b) = propose(&oita_admin, json!(oita), json!(["directory"])).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "self_agreement");
    let (s, b) = propose(
        &oita_admin,
        json!(renkei_core::new_id()),
        json!(["directory"]),
    )
    .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "organization_not_found");
    let (s, b) = propose(&oita_admin, json!(beppu), json!([])).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_scopes");
    let (s, b) = propose(&oita_admin, json!(beppu), json!(["everything"])).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "unknown scope: {b}");
    let (s, b) = propose(&oita_admin, json!(council), json!(["directory"])).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "not_a_hospital");
    let (s, b) = propose(&nurse, json!(oita), json!(["directory"])).await;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(oita_admin.get("/api/v1/agreements").await.1, json!([]));
    assert_eq!(beppu_admin.get("/api/v1/agreements").await.1, json!([]));

    // Proposed by one, accepted only by the other's admin.
    let (s, proposed) = propose(&oita_admin, json!(beppu), json!(["messaging", "directory"])).await;
    assert_eq!(s, StatusCode::CREATED, "{proposed}");
    assert_eq!(proposed["status"], "proposed");
    assert_eq!(proposed["scopes"], json!(["directory", "messaging"]));
    let id = proposed["id"].as_str().unwrap();
    let (s, b) = propose(&beppu_admin, json!(oita), json!(["images"])).await;
    assert_error(s, &b, StatusCode::CONFLICT, "agreement_exists");
    let accept = format!("/api/v1/agreements/{id}/accept");
    let (s, b) = oita_admin.post(&accept, json!({})).await;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    let (s, b) = nurse.post(&accept, json!({})).await;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    let (_, listed) = beppu_admin.get("/api/v1/agreements").await;
    assert_eq!(listed[0]["other_org_name"], "Oita University Hospital");
    assert_eq!(listed[0]["proposed_by_us"], false);
    let (s, b) = beppu_admin.post(&accept, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "active");
    let (s, b) = beppu_admin.post(&accept, json!({})).await;
    assert_error(s, &b, StatusCode::CONFLICT, "agreement_not_proposed");

    // An organization not party to it does not see it.
    let (outsider, _) =
        active_user_with(&server, &root, &council, "council-clerk", json!({})).await;
    let (s, b) = outsider
        .post(&format!("/api/v1/agreements/{id}/revoke"), json!({}))
        .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "agreement_not_found");

    // Either side revokes, once.
    let revoke = format!("/api/v1/agreements/{id}/revoke");
    let (s, b) = nurse.post(&revoke, json!({})).await;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    let (s, b) = beppu_admin.post(&revoke, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "revoked");
    let (s, b) = oita_admin.post(&revoke, json!({})).await;
    assert_error(s, &b, StatusCode::CONFLICT, "agreement_revoked");
    // A new proposal is possible after a revocation.
    let (s, b) = propose(&beppu_admin, json!(oita), json!(["images"])).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");

    // Every step is in the audit log.
    for action in ["agreement.propose", "agreement.accept", "agreement.revoke"] {
        let (_, entries) = root.get(&format!("/api/v1/audit?action={action}")).await;
        assert!(
            entries.as_array().is_some_and(|e| !e.is_empty()),
            "{action} audited: {entries}"
        );
    }
    let (_, verified) = root.get("/api/v1/audit/verify").await;
    assert_eq!(verified["intact"], true, "{verified}");
}

async fn councils_set_up_every_pair_in_one_step(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let root = server.first_admin().await;
    let council = org(&root, "Oita Regional Council", "oita-council", "council").await;
    let council_admin = org_admin(&server, &root, &council, "council-admin").await;
    let (council_clerk, _) =
        active_user_with(&server, &root, &council, "council-clerk", json!({})).await;
    let mut hospitals = Vec::new();
    for (name, slug) in [
        ("Oita Hospital", "oita"),
        ("Beppu Hospital", "beppu"),
        ("Saiki Hospital", "saiki"),
    ] {
        let id = org(&root, name, slug, "hospital").await;
        let admin = org_admin(&server, &root, &id, &format!("{slug}-admin")).await;
        hospitals.push((id, admin));
    }
    let (oita, oita_admin) = &hospitals[0];
    let (beppu, beppu_admin) = &hospitals[1];
    let (saiki, saiki_admin) = &hospitals[2];
    let (oita_nurse, _) = active_user_with(&server, &root, oita, "oita-nurse", json!({})).await;
    let base = format!("/api/v1/councils/{council}");

    // Only the council's admins act for it.
    let (s, b) = council_clerk
        .post(&format!("{base}/members"), json!({"org_id": oita}))
        .await;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    let (s, b) = oita_admin
        .post(
            &format!("{base}/agreements"),
            json!({"scopes": ["directory"]}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "not invited: the council is not even visible: {b}"
    );
    let (s, b) = council_admin
        .post(
            &format!("{base}/members"),
            json!({"org_id": renkei_core::new_id()}),
        )
        .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "organization_not_found");
    let (s, b) = council_admin
        .post(&format!("{base}/members"), json!({"org_id": council}))
        .await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "not_a_hospital");
    for (id, _) in &hospitals {
        let (s, b) = council_admin
            .post(&format!("{base}/members"), json!({"org_id": id}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    let (s, b) = council_admin
        .post(&format!("{base}/members"), json!({"org_id": oita}))
        .await;
    assert_error(s, &b, StatusCode::CONFLICT, "already_council_member");

    // Hospitals opt in through their admins only; a nurse cannot.
    let (s, b) = oita_nurse.post(&format!("{base}/opt-in"), json!({})).await;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    for api in [oita_admin, beppu_admin] {
        let (s, b) = api.post(&format!("{base}/opt-in"), json!({})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    let (s, b) = oita_admin.post(&format!("{base}/opt-in"), json!({})).await;
    assert_error(s, &b, StatusCode::CONFLICT, "already_opted_in");
    let (s, b) = council_clerk
        .post(
            &format!("{base}/agreements"),
            json!({"scopes": ["directory", "messaging"]}),
        )
        .await;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    let (s, b) = council_admin
        .post(&format!("{base}/agreements"), json!({"scopes": []}))
        .await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_scopes");
    assert_eq!(
        oita_admin.get("/api/v1/agreements").await.1,
        json!([]),
        "nothing half-done"
    );

    // One action: every pair of the opted-in hospitals.
    let (s, done) = council_admin
        .post(
            &format!("{base}/agreements"),
            json!({"scopes": ["directory", "messaging"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert_eq!(done["created"], 1);
    assert_eq!(done["council"]["scopes"], json!(["directory", "messaging"]));
    let active_partners = |api: &Api| {
        let api = api.clone();
        async move {
            let (_, list) = api.get("/api/v1/agreements").await;
            let mut out: Vec<String> = list
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["status"] == "active")
                .map(|a| a["other_org_id"].as_str().unwrap().to_owned())
                .collect();
            out.sort();
            out
        }
    };
    assert_eq!(active_partners(oita_admin).await, vec![beppu.clone()]);
    // Again: nothing new, nothing duplicated.
    let (_, again) = council_admin
        .post(
            &format!("{base}/agreements"),
            json!({"scopes": ["directory", "messaging"]}),
        )
        .await;
    assert_eq!(again["created"], 0);

    // A hospital opting in later gets agreements with all of them at once.
    let (s, b) = saiki_admin.post(&format!("{base}/opt-in"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let mut want = vec![oita.clone(), beppu.clone()];
    want.sort();
    assert_eq!(active_partners(saiki_admin).await, want);

    // Opting out revokes them all; the others keep theirs.
    let (s, b) = saiki_admin
        .post(&format!("{base}/opt-out"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(active_partners(saiki_admin).await.is_empty());
    assert_eq!(active_partners(oita_admin).await, vec![beppu.clone()]);
    let (_, view) = saiki_admin.get(&base).await;
    let saiki_status = view["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["org_id"] == json!(saiki))
        .unwrap()["status"]
        .clone();
    assert_eq!(saiki_status, "opted_out");
    // The council removing a hospital ends its agreements too.
    let (s, b) = council_admin
        .raw(
            Method::DELETE,
            &format!("{base}/members/{beppu}"),
            "application/json",
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(active_partners(oita_admin).await.is_empty());
    let (_, entries) = server
        .login("admin", common::ADMIN_PASSWORD)
        .await
        .get("/api/v1/audit?action=council.create_agreements")
        .await;
    assert_eq!(entries.as_array().map(Vec::len), Some(2), "{entries}");
}

async fn directory_finds_colleagues_ranked_and_paged(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let root = server.first_admin().await;
    let oita = root.org_id().await;
    let beppu = org(&root, "Beppu Medical Center", "beppu", "hospital").await;
    let oita_admin = org_admin(&server, &root, &oita, "oita-admin").await;
    let beppu_admin = org_admin(&server, &root, &beppu, "beppu-admin").await;
    let (_, dept) = root
        .post(
            &format!("/api/v1/orgs/{oita}/departments"),
            json!({"name": "放射線部"}),
        )
        .await;
    let (me, _) = active_user_with(
        &server,
        &root,
        &oita,
        "tanaka",
        json!({"display_name": "田中 一郎", "kana": "タナカ イチロウ", "profession": "doctor",
               "email": "i.tanaka@oita-u.ac.jp", "phone": "097-586-5111"}),
    )
    .await;
    for (login, name, kana, profession, extra) in [
        ("nakata", "中田 花子", "なかた はなこ", "nurse", json!({})),
        (
            "tanakam",
            "田中 舞",
            "たなか まい",
            "radiology_technologist",
            json!({"department_id": dept["id"]}),
        ),
        (
            "tanakayama",
            "田中山 太郎",
            "たなかやま たろう",
            "pharmacist",
            json!({}),
        ),
    ] {
        let mut body = json!({"display_name": name, "kana": kana, "profession": profession});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        root.create_user(&oita, login, "one-time password", body)
            .await;
    }
    root.create_user(
        &beppu,
        "sato",
        "one-time password",
        json!({"display_name": "佐藤 健", "kana": "さとう けん", "profession": "doctor"}),
    )
    .await;
    let search = |q: &str| {
        let me = me.clone();
        let q = urlencode(q);
        async move {
            let (status, body) = me.get(&format!("/api/v1/directory?q={q}")).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body
        }
    };
    let names = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["display_name"].as_str().unwrap().to_owned())
            .collect()
    };

    // Exact (a whole name part) > prefix > partial, across kanji, kana widths and romaji.
    let found = search("田中").await;
    assert_eq!(
        names(&found),
        ["田中 一郎", "田中 舞", "田中山 太郎"],
        "{found}"
    );
    assert_eq!(found["items"][0]["rank"], "exact");
    assert_eq!(found["items"][2]["rank"], "prefix");
    let found = search("ﾀﾅｶ").await;
    assert_eq!(
        found["total"], 3,
        "half-width katakana finds hiragana readings: {found}"
    );
    let found = search("naka").await;
    assert_eq!(names(&found)[0], "中田 花子");
    assert_eq!(found["items"][0]["rank"], "prefix");
    assert_eq!(found["items"][1]["rank"], "partial");
    assert_eq!(
        names(&found)[1..],
        ["田中 一郎", "田中 舞", "田中山 太郎"],
        "partial: ta-NAKA"
    );
    let found = search("ichiro").await;
    assert_eq!(
        names(&found),
        ["田中 一郎"],
        "romaji without the long vowel"
    );
    assert_eq!(
        names(&search("i.tanaka@oita").await),
        ["田中 一郎"],
        "e-mail"
    );
    assert_eq!(
        names(&search("5865111").await),
        ["田中 一郎"],
        "part of the phone"
    );
    assert_eq!(
        names(&search("放射線").await),
        ["田中 舞"],
        "department and profession"
    );
    assert_eq!(
        names(&search("看護師").await),
        ["中田 花子"],
        "profession in Japanese"
    );
    assert_eq!(names(&search("薬").await), ["田中山 太郎"], "one character");
    assert_eq!(
        search("佐藤").await["total"],
        0,
        "another hospital is invisible"
    );
    let (status, body) = me
        .get(&format!("/api/v1/directory?q={}", "x".repeat(101)))
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "query_too_long",
    );

    // Paged: limit, total, has_more, next_offset.
    let (_, first) = me
        .get("/api/v1/directory?q=%E7%94%B0%E4%B8%AD&limit=2")
        .await;
    assert_eq!(first["total"], 3);
    assert_eq!(first["has_more"], true);
    assert_eq!(first["next_offset"], 2);
    let (_, second) = me
        .get("/api/v1/directory?q=%E7%94%B0%E4%B8%AD&limit=2&offset=2")
        .await;
    assert_eq!(names(&second), ["田中山 太郎"]);
    assert_eq!(second["has_more"], false);
    let (_, past) = me
        .get("/api/v1/directory?q=%E7%94%B0%E4%B8%AD&limit=2&offset=10")
        .await;
    assert_eq!(
        (past["total"].clone(), past["items"].clone()),
        (json!(3), json!([]))
    );

    // Edits show at once (a rename reaches the index without any extra step).
    let (_, nakata) = root
        .get(&format!("/api/v1/orgs/{oita}/users?limit=100"))
        .await;
    let nakata = nakata
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login"] == "nakata")
        .unwrap()
        .clone();
    let (s, b) = root
        .patch(
            &format!("/api/v1/users/{}", nakata["id"].as_str().unwrap()),
            json!({"version": nakata["version"], "display_name": "中田 春子"}),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(names(&search("春子").await), ["中田 春子"]);
    assert_eq!(search("花子").await["total"], 0);

    // Partner staff appear with the directory scope only, and go with a revocation.
    let id = agree(&oita_admin, &beppu_admin, &beppu, &["messaging"]).await;
    assert_eq!(
        search("佐藤").await["total"],
        0,
        "messaging alone does not open the directory"
    );
    oita_admin
        .post(&format!("/api/v1/agreements/{id}/revoke"), json!({}))
        .await;
    let id = agree(&beppu_admin, &oita_admin, &oita, &["directory"]).await;
    let found = search("さとう").await;
    assert_eq!(names(&found), ["佐藤 健"]);
    assert_eq!(found["items"][0]["org_name"], "Beppu Medical Center");
    assert_eq!(
        names(&search("beppu").await),
        ["佐藤 健", "Admin"],
        "by hospital: all its staff"
    );
    beppu_admin
        .post(&format!("/api/v1/agreements/{id}/revoke"), json!({}))
        .await;
    assert_eq!(search("佐藤").await["total"], 0);

    // The same search inside a conversation's members.
    let ids: Vec<Value> = {
        let (_, all) = me.get("/api/v1/directory?limit=100").await;
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].clone())
            .collect()
    };
    let (s, conv) = me
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "title": "CT 読影", "member_ids": ids}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{conv}");
    let conv = conv["id"].as_str().unwrap();
    let (_, in_conv) = me
        .get(&format!(
            "/api/v1/directory?conversation_id={conv}&q=tanaka"
        ))
        .await;
    assert_eq!(
        names(&in_conv),
        ["田中 一郎", "田中 舞", "田中山 太郎"],
        "{in_conv}"
    );
    let (s, b) = beppu_admin
        .get(&format!("/api/v1/directory?conversation_id={conv}"))
        .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "conversation_not_found");
}

/// The relationship between the viewer's hospital and the other one in one matrix row.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Relation {
    SameOrg,
    Agreed,
    NotAgreed,
    Revoked,
}

async fn no_route_leaks_across_hospitals_without_an_agreement(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let root = server.first_admin().await;
    let home = root.org_id().await;
    let home_admin = org_admin(&server, &root, &home, "home-admin").await;
    let (viewer, viewer_user) = active_user_with(
        &server,
        &root,
        &home,
        "viewer",
        json!({"display_name": "見る 人", "kana": "みる ひと"}),
    )
    .await;
    let dicom = pydicom_test_files();
    let scopes = ["directory", "messaging", "images"];

    for relation in [
        Relation::SameOrg,
        Relation::Agreed,
        Relation::NotAgreed,
        Relation::Revoked,
    ] {
        for scope in scopes {
            let tag = format!("{relation:?}-{scope}").to_lowercase();
            // The other side: a hospital (or the viewer's own), its admin and a doctor.
            let (other_org, other_admin) = if relation == Relation::SameOrg {
                (home.clone(), home_admin.clone())
            } else {
                let id = org(&root, &format!("Hospital {tag}"), &tag, "hospital").await;
                let admin = org_admin(&server, &root, &id, &format!("{tag}-admin")).await;
                (id, admin)
            };
            let (doctor, doctor_user) = active_user_with(
                &server,
                &root,
                &other_org,
                &format!("{tag}-doc"),
                json!({"display_name": format!("医師 {tag}"), "kana": "いし"}),
            )
            .await;
            // With messaging in force (to build the shared conversation), plus the scope.
            let mut agreement = None;
            if matches!(relation, Relation::Agreed | Relation::Revoked) {
                let mut with: Vec<&str> = vec!["messaging", scope];
                with.dedup();
                agreement = Some(agree(&other_admin, &home_admin, &home, &with).await);
            }
            let (s, conv) = doctor
                .post(
                    "/api/v1/conversations",
                    json!({"kind": "direct", "member_ids": [viewer_user["id"]]}),
                )
                .await;
            let conv = if relation == Relation::NotAgreed {
                // No agreement: the doctor cannot even start it, and keeps to their own group.
                assert_eq!(s, StatusCode::FORBIDDEN, "{tag}: {conv}");
                assert_eq!(conv["code"], "no_cooperation_agreement");
                let (s, own) = doctor
                    .post(
                        "/api/v1/conversations",
                        json!({"kind": "group", "title": format!("own {tag}")}),
                    )
                    .await;
                assert_eq!(s, StatusCode::CREATED, "{tag}: {own}");
                own
            } else {
                assert_eq!(s, StatusCode::CREATED, "{tag}: {conv}");
                conv
            };
            let conv = conv["id"].as_str().unwrap().to_owned();
            // A study of the other hospital, shared into the conversation.
            let mut study = None;
            if let Some(dir) = &dicom {
                let bytes = std::fs::read(dir.join("CT_small.dcm")).unwrap();
                let (s, b) = doctor
                    .raw(
                        Method::POST,
                        "/dicomweb/studies",
                        "application/dicom",
                        bytes,
                    )
                    .await;
                assert_eq!(s, StatusCode::OK, "{tag}: {b}");
                let (_, inbox) = doctor.get("/api/v1/studies").await;
                let id = inbox[0]["id"].as_str().unwrap().to_owned();
                let (_, detail) = doctor.get(&format!("/api/v1/studies/{id}")).await;
                let series = detail["series"][0]["series_uid"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                let (_, inst) = doctor
                    .get(&format!("/api/v1/studies/{id}/series/{series}/instances"))
                    .await;
                let sop = inst[0]["sop_uid"].as_str().unwrap().to_owned();
                let (s, b) = doctor
                    .post(
                        &format!("/api/v1/conversations/{conv}/messages"),
                        json!({"client_msg_id": format!("{tag}-s"), "body": "CT", "attachments": [{"kind": "study", "id": id}]}),
                    )
                    .await;
                assert_eq!(s, StatusCode::CREATED, "{tag}: {b}");
                study = Some((id, series, sop, detail["study_uid"].clone()));
            }
            let (mut ws, _) = Ws::connect(&server, viewer.token.as_deref().unwrap(), None).await;

            // Now the relation under test.
            if relation == Relation::Revoked {
                let id = agreement.take().unwrap();
                let (s, b) = home_admin
                    .post(&format!("/api/v1/agreements/{id}/revoke"), json!({}))
                    .await;
                assert_eq!(s, StatusCode::OK, "{tag}: {b}");
            }
            let open = matches!(relation, Relation::SameOrg | Relation::Agreed);

            // Live socket: cut at once on revocation, nothing more arrives.
            if relation == Relation::Revoked {
                let frame = ws.next_of("removed").await;
                assert_eq!(frame["conversation_id"], json!(conv), "{tag}: {frame}");
            }
            let (s, _) = doctor
                .post(
                    &format!("/api/v1/conversations/{conv}/messages"),
                    json!({"client_msg_id": format!("{tag}-after"), "body": format!("still there {tag}")}),
                )
                .await;
            if open {
                assert_eq!(s, StatusCode::CREATED, "{tag}");
                let event = ws.next_of("event").await;
                assert_eq!(
                    event["event"]["message"]["body"],
                    format!("still there {tag}"),
                    "{tag}"
                );
            } else {
                assert!(
                    ws.quiet_for("event", 500).await,
                    "{tag}: no event after the cut"
                );
            }

            // Messaging routes.
            let history = viewer
                .get(&format!("/api/v1/conversations/{conv}/messages"))
                .await
                .0;
            let post = viewer
                .post(
                    &format!("/api/v1/conversations/{conv}/messages"),
                    json!({"client_msg_id": format!("{tag}-v"), "body": "hello"}),
                )
                .await
                .0;
            let (_, found) = viewer
                .get(&format!(
                    "/api/v1/search/messages?q={}",
                    urlencode(&format!("still there {tag}"))
                ))
                .await;
            let want = if open {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(history, want, "{tag}: history");
            assert_eq!(
                post,
                if open {
                    StatusCode::CREATED
                } else {
                    StatusCode::NOT_FOUND
                },
                "{tag}: post"
            );
            assert_eq!(
                found.as_array().map(|a| !a.is_empty()),
                Some(open),
                "{tag}: message search"
            );
            let new_group = viewer
                .post(
                    "/api/v1/conversations",
                    json!({"kind": "group", "title": format!("g {tag}"), "member_ids": [doctor_user["id"]]}),
                )
                .await;
            let messaging_open = open;
            assert_eq!(
                new_group.0,
                if messaging_open {
                    StatusCode::CREATED
                } else {
                    StatusCode::FORBIDDEN
                },
                "{tag}: new conversation {}",
                new_group.1
            );
            if !messaging_open {
                assert_eq!(new_group.1["code"], "no_cooperation_agreement");
                // Adding them to an existing group is refused the same way.
                let (_, mine) = viewer
                    .post(
                        "/api/v1/conversations",
                        json!({"kind": "group", "title": format!("mine {tag}")}),
                    )
                    .await;
                let (s, b) = viewer
                    .post(
                        &format!(
                            "/api/v1/conversations/{}/members",
                            mine["id"].as_str().unwrap()
                        ),
                        json!({"user_id": doctor_user["id"]}),
                    )
                    .await;
                assert_eq!(s, StatusCode::FORBIDDEN, "{tag}: add member {b}");
                assert_eq!(b["code"], "no_cooperation_agreement");
            }

            // Directory.
            let (_, dir) = viewer
                .get(&format!(
                    "/api/v1/directory?q={}",
                    urlencode(&format!("{tag}-doc"))
                ))
                .await;
            let listed = dir["total"] == 1;
            let directory_open = relation == Relation::SameOrg
                || (relation == Relation::Agreed && scope == "directory");
            assert_eq!(listed, directory_open, "{tag}: directory {dir}");

            // Images: every study route, and DICOMweb (scoped to the own organization).
            if let Some((id, series, sop, uid)) = &study {
                let images_open = relation == Relation::SameOrg
                    || (relation == Relation::Agreed && scope == "images");
                let uid = uid.as_str().unwrap();
                for path in [
                    format!("/api/v1/studies/{id}"),
                    format!("/api/v1/studies/{id}/series/{series}/instances"),
                    format!("/api/v1/studies/{id}/instances/{sop}"),
                    format!("/api/v1/studies/{id}/instances/{sop}/frames/1/rendered"),
                    format!("/api/v1/studies/{id}/instances/{sop}/frames/1/raw"),
                ] {
                    let status = viewer
                        .http
                        .get(viewer.url(&path))
                        .bearer_auth(viewer.token.as_deref().unwrap())
                        .send()
                        .await
                        .unwrap()
                        .status();
                    let want = if images_open {
                        StatusCode::OK
                    } else {
                        StatusCode::NOT_FOUND
                    };
                    assert_eq!(status, want, "{tag}: {path}");
                }
                // A CT has no waveform: open, that is `dicom_no_waveform`, never the study.
                let (_, waveforms) = viewer
                    .get(&format!("/api/v1/studies/{id}/instances/{sop}/waveforms"))
                    .await;
                assert_eq!(
                    waveforms["code"] == "study_not_found",
                    !images_open,
                    "{tag}: waveforms answer {waveforms}"
                );
                let wado = viewer
                    .http
                    .get(viewer.url(&format!(
                        "/dicomweb/studies/{uid}/series/{series}/instances/{sop}"
                    )))
                    .bearer_auth(viewer.token.as_deref().unwrap())
                    .send()
                    .await
                    .unwrap()
                    .status();
                // DICOMweb follows the same rule as the inbox: shared studies included.
                let want = if images_open {
                    StatusCode::OK
                } else {
                    StatusCode::NOT_FOUND
                };
                assert_eq!(wado, want, "{tag}: WADO-RS");
                let listed = viewer
                    .http
                    .get(viewer.url("/dicomweb/studies"))
                    .header("accept", "application/dicom+json")
                    .bearer_auth(viewer.token.as_deref().unwrap())
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                assert_eq!(listed.contains(uid), images_open, "{tag}: QIDO-RS lists it");
            }
        }
    }
}
