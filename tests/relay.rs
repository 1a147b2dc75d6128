//! The real relay on 127.0.0.1:0 with real WebSocket clients and a real SQLite store.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use paktum_shared::contact::{ContactField, NewNote, Status};
use paktum_shared::protocol::Message;
use paktum_shared::refusal::Code;
use paktum_sync_server::Config;
use paktum_tests::synthetic::{self, Seeded};
use paktum_tests::{Device, TestRelay};
use tokio_tungstenite::tungstenite::Message as WsMessage;

const TEAM: &str = "kempen";

fn note(text: &str) -> NewNote {
    NewNote {
        text: text.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_creates_and_edits_b_receives_everything() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let relay = TestRelay::start(dir.path(), None).await?;
    let mut rng = Seeded::new(1);

    let mut a = Device::new("Anna", TEAM, &relay.ws_url())?;
    a.connect().await?;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            a.create_contact(synthetic::contact(&mut rng, TEAM, n))
                .await?,
        );
    }
    a.edit_contact(ids[0], |c, ed| {
        c.add_note(ed, note("Met at the youth centre"))
    })
    .await?;
    a.edit_contact(ids[0], |c, ed| c.change_status(ed, Status::Engaged, None))
        .await?;
    a.sync().await?;

    let mut b = Device::new("Bram", TEAM, &relay.ws_url())?;
    b.connect().await?;
    assert_eq!(b.index()?.len(), 5);
    for id in &ids {
        assert_eq!(b.contact(id)?, a.contact(id)?);
    }
    let lotte = b.contact(&ids[0])?;
    assert_eq!(lotte.notes[0].text, "Met at the youth centre");
    assert_eq!(lotte.status, Status::Engaged);
    let progress = b.replica().progress();
    assert_eq!(
        (progress.done, progress.total),
        (6, 6),
        "index + five records"
    );

    // Live: while both are online, A's next edit reaches B without reconnecting.
    a.edit_contact(ids[1], |c, ed| c.add_note(ed, note("Second meeting")))
        .await?;
    let id = ids[1];
    b.wait_for("A's live note", |r| {
        r.doc(&id).is_some_and(|d| {
            d.get_changes_meta(&[]).iter().any(|c| {
                c.message
                    .as_deref()
                    .is_some_and(|m| m.ends_with("note added"))
            })
        })
    })
    .await?;
    assert_eq!(b.contact(&ids[1])?.notes[0].text, "Second meeting");
    relay.stop().await
}

#[tokio::test]
async fn both_edit_the_same_record_offline_and_converge() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let relay = TestRelay::start(dir.path(), None).await?;
    let mut rng = Seeded::new(2);
    let mut a = Device::new("Anna", TEAM, &relay.ws_url())?;
    let mut b = Device::new("Bram", TEAM, &relay.ws_url())?;
    a.connect().await?;
    let id = a
        .create_contact(synthetic::contact(&mut rng, TEAM, 0))
        .await?;
    a.sync().await?;
    b.connect().await?;
    assert!(b.contact(&id).is_ok());

    a.go_offline();
    b.go_offline();
    a.edit_contact(id, |c, ed| {
        c.add_note(ed, note("A: wants to train as a cook"))
    })
    .await?;
    a.edit_contact(id, |c, ed| {
        c.set_field(ed, ContactField::Phone, Some("+32 470 11 11 11"))
    })
    .await?;
    b.edit_contact(id, |c, ed| c.change_status(ed, Status::InGuidance, None))
        .await?;
    b.edit_contact(id, |c, ed| {
        c.set_field(ed, ContactField::Phone, Some("+32 470 22 22 22"))
    })
    .await?;
    b.edit_contact(id, |c, ed| c.add_note(ed, note("B: first guidance talk")))
        .await?;
    assert!(a.replica().is_pending(&id) && b.replica().is_pending(&id));

    a.connect().await?;
    b.connect().await?;
    // A is still online and subscribed: B's changes arrive live.
    a.wait_for("B's edits", |r| {
        r.doc(&id).is_some_and(|d| d.get_heads().len() == 2)
    })
    .await?;
    a.sync().await?;

    let (ca, cb) = (a.contact(&id)?, b.contact(&id)?);
    assert_eq!(ca, cb, "both devices hold the same record");
    assert_eq!(ca.notes.len(), 2, "both notes kept");
    assert_eq!(ca.status, Status::InGuidance);
    assert_eq!(ca.status_history.len(), 2);
    let phones = ca.conflicts.get(&ContactField::Phone).map(Vec::len);
    assert_eq!(phones, Some(2), "the phone number shows as changed by both");
    assert!(!a.replica().is_pending(&id) && !b.replica().is_pending(&id));
    relay.stop().await
}

#[tokio::test]
async fn reconnecting_costs_what_changed_not_the_caseload() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let relay = TestRelay::start(dir.path(), None).await?;
    let mut rng = Seeded::new(3);
    let mut a = Device::new("Anna", TEAM, &relay.ws_url())?;
    a.connect().await?;
    let mut ids = Vec::new();
    for n in 0..300 {
        ids.push(
            a.create_contact(synthetic::contact(&mut rng, TEAM, n))
                .await?,
        );
    }
    a.sync().await?;
    a.go_offline();

    // Same device reconnects with nothing changed, then with two records changed.
    a.traffic = Default::default();
    a.connect().await?;
    let idle = a.traffic;
    a.go_offline();
    for id in &ids[..2] {
        a.edit_contact(*id, |c, ed| c.add_note(ed, note("follow-up call")))
            .await?;
    }
    a.traffic = Default::default();
    a.connect().await?;
    let two = a.traffic;

    eprintln!("reconnect traffic: idle {idle:?}; two changed {two:?}");
    // Bounds that hold for 2 changed records whatever the caseload size; re-syncing
    // all 300 records would take at least 600 messages.
    assert!(
        idle.sent_messages + idle.received_messages <= 6,
        "idle reconnect: {idle:?}"
    );
    assert!(
        two.sent_messages + two.received_messages <= 20,
        "two changed: {two:?}"
    );
    assert!(
        two.sent_bytes + two.received_bytes < 20_000,
        "two changed: {two:?}"
    );
    relay.stop().await
}

#[tokio::test]
async fn data_survives_a_relay_restart() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let relay = TestRelay::start(dir.path(), None).await?;
    let mut rng = Seeded::new(4);
    let mut a = Device::new("Anna", TEAM, &relay.ws_url())?;
    a.connect().await?;
    let id = a
        .create_contact(synthetic::contact(&mut rng, TEAM, 0))
        .await?;
    a.edit_contact(id, |c, ed| c.add_note(ed, note("kept across restarts")))
        .await?;
    a.sync().await?;
    a.go_offline();
    relay.stop().await?;

    let relay = TestRelay::start(dir.path(), None).await?;
    let mut b = Device::new("Bram", TEAM, &relay.ws_url())?;
    b.connect().await?;
    assert_eq!(b.contact(&id)?.notes[0].text, "kept across restarts");
    relay.stop().await
}

async fn raw_client(
    relay: &TestRelay,
) -> anyhow::Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
> {
    Ok(tokio_tungstenite::connect_async(relay.ws_url()).await?.0)
}

/// Reads until the relay closes the connection; returns the `error` message (its
/// sentence and code) if any, an empty sentence and no code if it closed without one.
async fn closed_with_error(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Option<(String, Option<Code>)> {
    let mut error = None;
    while let Ok(Some(frame)) = tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
        match frame {
            Ok(WsMessage::Binary(b)) => {
                if let Ok(Message::Error { message, code }) = Message::decode(&b) {
                    error = Some((message, code));
                }
            }
            Ok(WsMessage::Close(_)) | Err(_) => return error.or(Some((String::new(), None))),
            Ok(_) => {}
        }
    }
    error
}

#[tokio::test]
async fn malformed_messages_close_only_that_connection() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let relay = TestRelay::start(dir.path(), None).await?;
    let mut rng = Seeded::new(5);
    let mut a = Device::new("Anna", TEAM, &relay.ws_url())?;
    a.connect().await?;
    let first = a
        .create_contact(synthetic::contact(&mut rng, TEAM, 0))
        .await?;
    a.sync().await?;

    // Garbage instead of a join.
    let mut bad = raw_client(&relay).await?;
    bad.send(WsMessage::Binary(vec![0xff, 0x00, 0x13].into()))
        .await?;
    let said = closed_with_error(&mut bad).await;
    assert!(
        said.as_ref()
            .is_some_and(|(e, code)| e.contains("malformed") && *code == Some(Code::Malformed)),
        "{said:?}"
    );

    // A valid join, then a sync message whose Automerge bytes are garbage.
    let mut bad = raw_client(&relay).await?;
    let join = Message::Join {
        sender_id: "attacker".into(),
        supported_protocol_versions: vec!["1".into()],
        metadata: None,
    };
    bad.send(WsMessage::Binary(join.encode().into())).await?;
    let garbage = Message::Sync {
        sender_id: "attacker".into(),
        target_id: "relay".into(),
        document_id: first,
        data: vec![0x42, 0xff, 0xff, 0xff],
    };
    bad.send(WsMessage::Binary(garbage.encode().into())).await?;
    let said = closed_with_error(&mut bad).await;
    assert_eq!(said.and_then(|(_, code)| code), Some(Code::BadSync));

    // Text frames and unknown types are refused too.
    let mut bad = raw_client(&relay).await?;
    bad.send(WsMessage::Text("hello".into())).await?;
    let said = closed_with_error(&mut bad).await;
    assert_eq!(
        said.and_then(|(_, code)| code),
        Some(Code::ProtocolViolation)
    );

    // A join in a protocol version the relay does not speak.
    let mut old = raw_client(&relay).await?;
    let join = Message::Join {
        sender_id: "old".into(),
        supported_protocol_versions: vec!["0".into()],
        metadata: None,
    };
    old.send(WsMessage::Binary(join.encode().into())).await?;
    let said = closed_with_error(&mut old).await;
    assert_eq!(said.and_then(|(_, code)| code), Some(Code::ProtocolVersion));

    // The healthy client keeps syncing and nothing stored was damaged.
    let second = a
        .create_contact(synthetic::contact(&mut rng, TEAM, 1))
        .await?;
    a.sync().await?;
    let mut b = Device::new("Bram", TEAM, &relay.ws_url())?;
    b.connect().await?;
    assert!(b.contact(&first).is_ok() && b.contact(&second).is_ok());
    relay.stop().await
}

#[tokio::test]
async fn an_oversized_message_closes_the_connection() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::for_tests(dir.path().to_path_buf());
    config.max_message_bytes = 64 * 1024;
    config.insecure_open = true;
    let relay = TestRelay::start_with(config).await?;
    let mut big = raw_client(&relay).await?;
    let join = Message::Join {
        sender_id: "big".into(),
        supported_protocol_versions: vec!["1".into()],
        metadata: None,
    };
    big.send(WsMessage::Binary(join.encode().into())).await?;
    let _ = big
        .send(WsMessage::Binary(vec![0u8; 200 * 1024].into()))
        .await;
    assert!(closed_with_error(&mut big).await.is_some());

    let mut ok = Device::new("Anna", TEAM, &relay.ws_url())?;
    ok.connect().await?;
    relay.stop().await
}

/// `root/dist` holding an `index.html` and `files` (name, contents), as a built app.
fn app_dir(root: &std::path::Path, files: &[(&str, &[u8])]) -> std::io::Result<std::path::PathBuf> {
    let dist = root.join("dist");
    std::fs::create_dir(&dist)?;
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>Paktum</title>",
    )?;
    for (name, bytes) in files {
        std::fs::write(dist.join(name), bytes)?;
    }
    Ok(dist)
}

#[tokio::test]
async fn serves_the_app_with_cache_headers_and_health() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // The app directory sits inside a directory holding a secret: a traversal would find it.
    let dist = app_dir(
        dir.path(),
        &[
            ("paktum-app-0123456789abcdef_bg.wasm", b"\0asm"),
            ("sw.js", b"self.addEventListener('fetch', () => {})"),
        ],
    )?;
    let relay = TestRelay::start(dir.path(), Some(dist.as_path())).await?;

    let r = paktum_tests::http::get(relay.addr, "/").await?;
    let (status, head, body) = (r.status, r.head, r.body);
    assert_eq!(status, 200);
    assert!(body.contains("Paktum"));
    assert!(head.contains("cache-control: no-cache"), "{head}");
    let head = paktum_tests::http::get(relay.addr, "/paktum-app-0123456789abcdef_bg.wasm")
        .await?
        .head;
    assert!(head.contains("content-type: application/wasm"), "{head}");
    assert!(head.contains("immutable"), "{head}");
    let head = paktum_tests::http::get(relay.addr, "/sw.js").await?.head;
    assert!(
        head.contains("cache-control: no-cache") && head.contains("javascript"),
        "{head}"
    );
    let r = paktum_tests::http::get(relay.addr, "/caseload/some-route").await?;
    let (status, body) = (r.status, r.body);
    assert_eq!(
        (status, body.contains("Paktum")),
        (200, true),
        "app routes fall back to index.html"
    );
    // A missing asset (e.g. last release's hashed script) is not the app shell: a
    // service worker or a browser must not cache index.html as JavaScript.
    for missing in [
        "/paktum-app-fedcba9876543210.js",
        "/assets/gone.css",
        "/icon-512.png",
    ] {
        let r = paktum_tests::http::get(relay.addr, missing).await?;
        assert_eq!(r.status, 404, "{missing}");
        assert!(!r.body.contains("Paktum"), "{missing}: {}", r.body);
    }
    // No way out of the app directory, and no directory listings.
    std::fs::write(dir.path().join("secret.txt"), "relay data")?;
    std::fs::create_dir(dist.as_path().join("assets"))?;
    std::fs::write(dist.as_path().join("assets/a.css"), "body{}")?;
    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/assets/..%2f..%2fsecret.txt",
        "/assets/",
    ] {
        let r = paktum_tests::http::get(relay.addr, path).await?;
        assert!(
            !r.body.contains("relay data") && !r.body.contains("a.css"),
            "{path}: {}",
            r.body
        );
    }
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    let r = paktum_tests::http::get(relay.addr, "/healthz").await?;
    let (status, body) = (r.status, r.body);
    assert_eq!(status, 200);
    assert!(body.contains(r#""status":"ok""#), "{body}");

    // A redeploy without a restart: the policy follows the new index.html's scripts.
    let csp = |head: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix("content-security-policy: "))
            .map(str::to_string)
    };
    let before = csp(&paktum_tests::http::get(relay.addr, "/").await?.head);
    let index = dist.as_path().join("index.html");
    std::fs::write(
        &index,
        "<!doctype html><title>Paktum</title><script type=\"module\">init();</script>",
    )?;
    std::fs::File::options()
        .write(true)
        .open(&index)?
        .set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))?;
    let after = csp(&paktum_tests::http::get(relay.addr, "/").await?.head);
    assert!(
        before.as_ref().is_some_and(|p| !p.contains("'sha256-")),
        "{before:?}"
    );
    assert!(
        after.as_ref().is_some_and(|p| p.contains("'sha256-")),
        "the new inline script is allowed: {after:?}"
    );
    relay.stop().await
}

/// The coordinator's page (issue 14): its own shell in `dist/pact/`, served at `/pact`
/// and every route under it, while `/pact/teams` stays the relay's and the field app's
/// routes keep theirs; the policy allows both pages' inline scripts.
#[tokio::test]
async fn serves_the_coordinators_page_at_pact() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let dist = app_dir(dir.path(), &[])?;
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>Paktum</title><script type=\"module\">field();</script>",
    )?;
    std::fs::create_dir(dist.join("pact"))?;
    std::fs::write(
        dist.join("pact/index.html"),
        "<!doctype html><title>Paktum pact</title><script type=\"module\">pact();</script>",
    )?;
    std::fs::write(
        dist.join("pact/paktum-pact-0123456789abcdef_bg.wasm"),
        b"\0asm",
    )?;
    let relay = TestRelay::start(dir.path(), Some(dist.as_path())).await?;
    for path in [
        "/pact",
        "/pact/",
        "/pact/table?municipality=Geel",
        "/pact/figure?row=reached",
    ] {
        let r = paktum_tests::http::get(relay.addr, path).await?;
        assert_eq!(
            (r.status, r.body.contains("Paktum pact")),
            (200, true),
            "{path}: {}",
            r.body
        );
        let csp = r
            .head
            .lines()
            .find_map(|l| l.strip_prefix("content-security-policy: "))
            .unwrap_or_default()
            .to_string();
        assert_eq!(
            csp.matches("'sha256-").count(),
            2,
            "both pages' scripts: {csp}"
        );
    }
    for path in ["/", "/caseload", "/contacts/abc", "/pacts"] {
        let r = paktum_tests::http::get(relay.addr, path).await?;
        assert!(
            r.status == 200 && !r.body.contains("Paktum pact"),
            "{path}: {}",
            r.body
        );
    }
    let r =
        paktum_tests::http::get(relay.addr, "/pact/paktum-pact-0123456789abcdef_bg.wasm").await?;
    assert!(
        r.head.contains("application/wasm") && r.head.contains("immutable"),
        "{}",
        r.head
    );
    assert_eq!(
        paktum_tests::http::get(relay.addr, "/pact/gone.js")
            .await?
            .status,
        404
    );
    // The relay's own route under /pact is not the page.
    let r = paktum_tests::http::get(relay.addr, "/pact/teams").await?;
    assert!(!r.body.contains("Paktum pact"), "/pact/teams: {}", r.body);
    relay.stop().await
}

#[tokio::test]
async fn serves_precompressed_copies_to_browsers_that_accept_them() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let wasm = "paktum-app-0123456789abcdef_bg.wasm";
    // The relay serves what it finds: distinct bytes show which copy went out.
    let dist = app_dir(
        dir.path(),
        &[
            (wasm, b"\0asm raw"),
            (&format!("{wasm}.br"), b"brotli copy"),
            (&format!("{wasm}.gz"), b"gzip copy"),
            ("app.css", b"body{}"),
        ],
    )?;
    let relay = TestRelay::start(dir.path(), Some(dist.as_path())).await?;
    let path = format!("/{wasm}");

    let br = paktum_tests::http::get_accepting(relay.addr, &path, "gzip, deflate, br").await?;
    assert_eq!(br.bytes, b"brotli copy");
    for want in [
        "content-encoding: br",
        "content-type: application/wasm",
        "vary: accept-encoding",
        "immutable",
    ] {
        assert!(br.head.contains(want), "{want}: {}", br.head);
    }
    let gz = paktum_tests::http::get_accepting(relay.addr, &path, "gzip").await?;
    assert_eq!(gz.bytes, b"gzip copy");
    assert!(gz.head.contains("content-encoding: gzip"), "{}", gz.head);
    let plain = paktum_tests::http::get(relay.addr, &path).await?;
    assert_eq!(plain.bytes, b"\0asm raw");
    assert!(!plain.head.contains("content-encoding"), "{}", plain.head);
    // Without a compressed copy, the file itself, whatever the browser accepts.
    let css = paktum_tests::http::get_accepting(relay.addr, "/app.css", "br").await?;
    assert_eq!((css.status, css.body.as_str()), (200, "body{}"));
    assert!(!css.head.contains("content-encoding"), "{}", css.head);
    relay.stop().await
}

#[tokio::test]
async fn documents_unloaded_from_memory_still_sync_and_fan_out() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::for_tests(dir.path().to_path_buf());
    config.insecure_open = true;
    // Far fewer than the caseload: most records are unloaded once synced.
    config.max_documents_in_memory = 2;
    let relay = TestRelay::start_with(config).await?;
    let mut rng = Seeded::new(8);
    let mut a = Device::new("Anna", TEAM, &relay.ws_url())?;
    a.connect().await?;
    let mut ids = Vec::new();
    for n in 0..20 {
        ids.push(
            a.create_contact(synthetic::contact(&mut rng, TEAM, n))
                .await?,
        );
    }
    a.sync().await?;

    // A fresh device gets unloaded records without the relay loading them (the relay
    // answers from the stored bytes, `sync-server/src/quick.rs`).
    let loads_before = relay_loads(&relay).await?;
    let mut b = Device::new("Bram", TEAM, &relay.ws_url())?;
    b.connect().await?;
    assert_eq!(b.index()?.len(), 20);
    for id in &ids {
        b.contact(id)?;
    }
    assert_eq!(b.contact(&ids[3])?, a.contact(&ids[3])?);
    let loads = relay_loads(&relay).await? - loads_before;
    assert!(
        loads <= 3,
        "a fresh device's pull of 20 records loaded {loads}"
    );
    // The first record was unloaded long ago; an edit still reaches B live.
    a.edit_contact(ids[0], |c, ed| c.add_note(ed, note("after unloading")))
        .await?;
    let mut want = a
        .replica()
        .doc(&ids[0])
        .map(|d| d.get_heads())
        .unwrap_or_default();
    want.sort();
    b.wait_for("A's edit of an unloaded record", |r| {
        r.doc(&ids[0]).is_some_and(|d| {
            let mut heads = d.get_heads();
            heads.sort();
            heads == want
        })
    })
    .await?;
    assert_eq!(b.contact(&ids[0])?.notes[0].text, "after unloading");
    relay.stop().await
}

/// How many documents the relay has loaded from its store (from `/healthz`).
async fn relay_loads(relay: &TestRelay) -> anyhow::Result<u64> {
    let body = paktum_tests::http::get(relay.addr, "/healthz").await?.body;
    let health: serde_json::Value = serde_json::from_str(&body)?;
    health["loads"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("no loads in {body}"))
}
