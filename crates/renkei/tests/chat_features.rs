//! What the web client's chat screens rely on: message search across kana scripts and romaji,
//! within one conversation or all, and each member's own notification level.

mod common;

use common::{Api, Server, Storage, active_user, urlencode};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    search_folds_kana_and_romaji_and_narrows_to_one_conversation,
    members_set_their_own_notification_level,
    renaming_and_retention_are_audited,
);

async fn renaming_and_retention_are_audited(storage: Storage) {
    let Ward {
        _server,
        admin,
        alice,
        bob_id,
        ..
    } = ward(&storage).await;
    let conv = group(&alice, "病棟", &[&bob_id]).await;
    let path = format!("/api/v1/conversations/{conv}");
    assert_eq!(
        alice.patch(&path, json!({"title": "5階東"}), None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        alice
            .patch(&path, json!({"retention_days": 2}), None)
            .await
            .0,
        StatusCode::OK
    );
    for (action, key, value) in [
        ("conversation.renamed", "title", json!("5階東")),
        ("conversation.retention_changed", "retention_days", json!(2)),
    ] {
        let (status, audit) = admin.get(&format!("/api/v1/audit?action={action}")).await;
        assert_eq!(status, StatusCode::OK, "{audit}");
        let entry = &audit.as_array().unwrap()[0];
        assert_eq!(entry["details"][key], value, "{action}");
        assert_eq!(entry["target_id"], conv.as_str(), "{entry}");
    }
}

/// A server with its admin and three colleagues.
struct Ward {
    _server: Server,
    admin: Api,
    alice: Api,
    bob: Api,
    bob_id: String,
    carol: Api,
}

async fn ward(storage: &Storage) -> Ward {
    let server = Server::start(storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let (alice, _) = active_user(&server, &admin, &org, "alice").await;
    let (bob, bob_user) = active_user(&server, &admin, &org, "bob").await;
    let (carol, _) = active_user(&server, &admin, &org, "carol").await;
    let bob_id = bob_user["id"].as_str().unwrap().to_owned();
    Ward {
        _server: server,
        admin,
        alice,
        bob,
        bob_id,
        carol,
    }
}

async fn group(owner: &Api, title: &str, members: &[&str]) -> String {
    let (status, conv) = owner
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "title": title, "member_ids": members}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{conv}");
    conv["id"].as_str().unwrap().to_owned()
}

async fn post(api: &Api, conv: &str, client_id: &str, body: &str) {
    let (status, _) = api
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_msg_id": client_id, "body": body}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

async fn search(api: &Api, q: &str, conv: Option<&str>) -> Vec<String> {
    let scope = conv
        .map(|c| format!("&conversation_id={c}"))
        .unwrap_or_default();
    let (status, found) = api
        .get(&format!(
            "/api/v1/search/messages?q={}{scope}",
            urlencode(q)
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{q}: {found}");
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_owned())
        .collect()
}

async fn search_folds_kana_and_romaji_and_narrows_to_one_conversation(storage: Storage) {
    let Ward {
        _server,
        alice,
        bob,
        bob_id,
        carol,
        ..
    } = ward(&storage).await;
    let ward = group(&alice, "病棟", &[&bob_id]).await;
    let er = group(&alice, "救急", &[&bob_id]).await;
    post(&alice, &ward, "1", "ケッカは明日です").await;
    post(&alice, &ward, "2", "しんでんずを送ります").await;
    post(&alice, &er, "3", "けっかを確認しました").await;
    post(&alice, &er, "4", "造影CT 完了").await;

    // Kana in either script finds both scripts; romaji finds the kana.
    for q in ["けっか", "ケッカ", "kekka", "KEKKA"] {
        let mut found = search(&bob, q, None).await;
        found.sort();
        assert_eq!(found, ["けっかを確認しました", "ケッカは明日です"], "{q}");
    }
    assert_eq!(
        search(&bob, "shinden", None).await,
        ["しんでんずを送ります"]
    );
    assert_eq!(
        search(&bob, "シンデン", None).await,
        ["しんでんずを送ります"]
    );
    // Kanji and Latin text as typed; full-width Latin folds to half-width.
    assert_eq!(search(&bob, "造影", None).await, ["造影CT 完了"]);
    assert_eq!(search(&bob, "ｃｔ", None).await, ["造影CT 完了"]);
    // Within one conversation only.
    assert_eq!(
        search(&bob, "kekka", Some(&ward)).await,
        ["ケッカは明日です"]
    );
    assert_eq!(
        search(&bob, "けっか", Some(&er)).await,
        ["けっかを確認しました"]
    );
    // Not a member: nothing, in all or in that one conversation.
    assert!(search(&carol, "kekka", None).await.is_empty());
    assert!(search(&carol, "kekka", Some(&ward)).await.is_empty());
}

async fn level_of(api: &Api, conv: &str) -> Value {
    let (status, view) = api.get(&format!("/api/v1/conversations/{conv}")).await;
    assert_eq!(status, StatusCode::OK);
    view["notify"].clone()
}

async fn members_set_their_own_notification_level(storage: Storage) {
    let Ward {
        _server,
        alice,
        bob,
        bob_id,
        carol,
        ..
    } = ward(&storage).await;
    let conv = group(&alice, "病棟", &[&bob_id]).await;
    let path = format!("/api/v1/conversations/{conv}/notifications");
    assert_eq!(level_of(&bob, &conv).await, "all");

    let (status, body) = bob.put(&path, json!({"level": "mute"})).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"level": "mute"})));
    assert_eq!(level_of(&bob, &conv).await, "mute");
    let (_, list) = bob.get("/api/v1/conversations").await;
    assert_eq!(list[0]["notify"], "mute");
    // Only mine: the others keep theirs.
    assert_eq!(level_of(&alice, &conv).await, "all");

    assert_eq!(
        bob.put(&path, json!({"level": "mentions"})).await.0,
        StatusCode::OK
    );
    assert_eq!(level_of(&bob, &conv).await, "mentions");

    // An unknown level changes nothing; a non-member cannot set one.
    assert_eq!(
        bob.put(&path, json!({"level": "loud"})).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(level_of(&bob, &conv).await, "mentions");
    assert_eq!(
        carol.put(&path, json!({"level": "mute"})).await.0,
        StatusCode::NOT_FOUND
    );
}
