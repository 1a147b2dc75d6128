//! Access control with the real relay: tokens, the share policy, revocation,
//! reassignment and per-connection limits. Nothing here runs the relay open.

use futures_util::SinkExt;
use paktum_shared::DocumentId;
use paktum_shared::caseload::CaseloadDoc;
use paktum_shared::contact::{ConsentScope, ContactField};
use paktum_shared::enrol::PactTeams;
use paktum_shared::protocol::Message;
use paktum_shared::refusal::{Code, Refusal};
use paktum_shared::replica::ReplicaError;
use paktum_sync_server::auth::{Role, now_ms};
use paktum_tests::pact::{Pact, pact};
use paktum_tests::synthetic::{self, Seeded};
use paktum_tests::{Device, http};
use tokio_tungstenite::tungstenite::Message as WsMessage;

const HOUR: i64 = 3_600_000;

/// The day consent is given in these tests.
fn day() -> paktum_shared::Day {
    "2026-11-24".parse().expect("a day")
}

/// Whether the WebSocket upgrade is refused with 401, and the refusal's code.
async fn ws_refused(url: &str) -> Option<Option<Code>> {
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status() == 401 => {
            let body = r.body().as_deref().unwrap_or_default();
            Some(
                serde_json::from_slice::<Refusal>(body)
                    .ok()
                    .and_then(|r| r.code),
            )
        }
        _ => None,
    }
}

/// The code of the relay's `error` message behind a device's failure, if that is
/// what ended it.
fn refused_with(e: &anyhow::Error) -> Option<Code> {
    match e.downcast_ref::<ReplicaError>() {
        Some(ReplicaError::Remote { code, .. }) => *code,
        _ => None,
    }
}

#[tokio::test]
async fn missing_forged_and_revoked_tokens_are_refused_before_any_document() -> anyhow::Result<()> {
    let p = pact(|_| {}).await?;
    let not_enrolled = Some(Some(Code::NotEnrolled));
    assert_eq!(
        ws_refused(&p.relay.ws_url()).await,
        not_enrolled,
        "no token"
    );
    assert_eq!(
        ws_refused(&p.relay.ws_url_with_token(&"ab".repeat(32))).await,
        not_enrolled,
        "forged token"
    );
    let (mut anna, token) = p.device("kempen", "Anna", Role::Worker).await?;
    let device = p
        .directory
        .devices()?
        .into_iter()
        .find(|d| d.worker == "Anna")
        .map(|d| d.device_id);
    p.directory.revoke(device.unwrap_or_default(), now_ms())?;
    // Revocation cuts the live connection at once (the relay watches the directory),
    // saying why.
    let closed = anna
        .wait_for("a revoked device to be cut off", |_| false)
        .await;
    assert!(
        closed
            .as_ref()
            .is_err_and(|e| refused_with(e) == Some(Code::NotEnrolled)),
        "{closed:?}"
    );
    assert_eq!(
        ws_refused(&p.relay.ws_url_with_token(&token)).await,
        not_enrolled,
        "revoked token"
    );
    let refusals = |events: &[String]| events.iter().filter(|e| *e == "connection_refused").count();
    let events = p.audit_events(|e| refusals(e) >= 3).await?;
    assert!(refusals(&events) >= 3, "{events:?}");
    assert!(events.contains(&"revoked".to_string()));
    p.relay.stop().await
}

#[tokio::test]
async fn used_expired_and_unknown_codes_are_refused_with_a_clear_message_and_code()
-> anyhow::Result<()> {
    let p = pact(|_| {}).await?;
    let (_, code) = p
        .directory
        .invite("kempen", "Anna", Role::Worker, HOUR, now_ms())?;
    // A client that sends no label (the field is optional on the wire).
    let body = format!(r#"{{"code":"{code}"}}"#);
    assert_eq!(
        http::post_json(p.relay.addr, "/enrol", &body).await?.status,
        200
    );
    let again = http::enrol(p.relay.addr, &code, "phone").await?;
    let Err((400, refusal)) = again else {
        anyhow::bail!("a used code must be refused: {again:?}");
    };
    assert!(refusal.error.contains("already used"), "{}", refusal.error);
    assert_eq!(refusal.code, Some(Code::CodeUsed));
    let (_, old) = p
        .directory
        .invite("kempen", "Bram", Role::Worker, -1, now_ms())?;
    let expired = http::enrol(p.relay.addr, &old, "phone").await?;
    let Err((400, refusal)) = expired else {
        anyhow::bail!("an expired code must be refused: {expired:?}");
    };
    assert!(refusal.error.contains("expired"), "{}", refusal.error);
    assert_eq!(refusal.code, Some(Code::CodeExpired));
    let unknown = http::enrol(p.relay.addr, "NOPE2-NOPE2", "phone").await?;
    let Err((400, refusal)) = unknown else {
        anyhow::bail!("an unknown code must be refused: {unknown:?}");
    };
    assert_eq!(refusal.code, Some(Code::CodeUnknown), "{}", refusal.error);
    p.relay.stop().await
}

/// Loopback addresses are distinct clients to the relay: 127.0.0.N.
fn client(n: u8) -> std::net::IpAddr {
    std::net::IpAddr::from([127, 0, 0, n])
}

#[tokio::test]
async fn thirty_wrong_codes_from_one_address_are_slowed_to_429_with_retry_after()
-> anyhow::Result<()> {
    let p = pact(|_| {}).await?;
    let (_, code) = p
        .directory
        .invite("kempen", "Anna", Role::Worker, HOUR, now_ms())?;
    let mut statuses = Vec::new();
    let mut retry_after = Vec::new();
    for i in 0..30 {
        // A different prefix each time: only the address is counted here. With two
        // relays, every other guess goes to the second: they count together.
        let wrong = format!("W{i:03}Z-ZZZZZ");
        let relay = if i % 2 == 1 { p.second() } else { &p.relay };
        let r = http::enrol_from(client(1), relay.addr, &wrong, "guess").await?;
        statuses.push(r.status);
        if r.status == 429 {
            retry_after.push(r.header("retry-after").and_then(|v| v.parse::<u64>().ok()));
            let refusal: Refusal = serde_json::from_str(&r.body)?;
            assert!(refusal.error.contains("wait"), "{}", refusal.error);
            assert_eq!(refusal.code, Some(Code::RateLimited));
            assert_eq!(refusal.retry_after_secs, Some(30));
        }
    }
    assert_eq!(statuses[..5], [400; 5], "five free failures: {statuses:?}");
    assert_eq!(statuses[5..], [429; 25], "then limited: {statuses:?}");
    assert!(
        retry_after.iter().all(|s| *s == Some(30)),
        "Retry-After: {retry_after:?}"
    );
    // The address is limited for everyone there, even with a correct code…
    let r = http::enrol_from(client(1), p.second().addr, &code, "phone").await?;
    assert_eq!(r.status, 429, "{}", r.body);
    // …which stays unused, and another address is unaffected.
    let r = http::enrol_from(client(2), p.relay.addr, &code, "phone").await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let limited = |e: &[String]| e.iter().any(|e| e == "enrol_rate_limited");
    let events = p.audit_events(limited).await?;
    assert!(limited(&events), "{events:?}");
    let entries = p.directory.audit_log(1000)?;
    let blocks: Vec<_> = entries
        .iter()
        .filter(|e| e.event == "enrol_rate_limited")
        .collect();
    assert_eq!(blocks.len(), 1, "one block started: {blocks:?}");
    assert!(
        blocks[0].detail.contains("127.0.0.1"),
        "{}",
        blocks[0].detail
    );
    assert!(
        entries.iter().all(|e| !e.detail.contains("W000")),
        "no code in the audit log"
    );
    p.relay.stop().await
}

#[tokio::test]
async fn a_partly_known_code_cannot_be_completed_from_many_addresses() -> anyhow::Result<()> {
    let p = pact(|_| {}).await?;
    let (_, code) = p
        .directory
        .invite("kempen", "Anna", Role::Worker, HOUR, now_ms())?;
    let known = &code[..4];
    for n in 2..7 {
        let guess = format!("{known}Z-ZZZZZ");
        let r = http::enrol_from(client(n), p.relay.addr, &guess, "guess").await?;
        assert_eq!(r.status, 400, "free failure from 127.0.0.{n}");
    }
    let r = http::enrol_from(client(7), p.relay.addr, &format!("{known}Y-YYYYY"), "guess").await?;
    assert_eq!(
        r.status, 429,
        "the prefix is limited from a new address too"
    );
    assert!(r.header("retry-after").is_some());
    let entries = p.directory.audit_log(1000)?;
    assert!(
        entries.iter().all(|e| !e.detail.contains(known)),
        "no prefix in the audit log"
    );
    p.relay.stop().await
}

#[tokio::test]
async fn teams_and_pacts_see_only_what_they_may_without_learning_what_exists() -> anyhow::Result<()>
{
    let p = pact(|_| {}).await?;
    let mut rng = Seeded::new(7);
    let (mut anna, _) = p.device("kempen", "Anna", Role::Worker).await?;
    let kempen_record = anna
        .create_contact(synthetic::contact(&mut rng, "kempen", 0))
        .await?;
    anna.edit_contact(kempen_record, |c, ed| {
        c.give_consent(ed, day(), ConsentScope::Pact)
    })
    .await?;
    anna.sync().await?;

    // A worker of another team, and of another pact: the record and the index look
    // exactly like documents that do not exist.
    for (team, name) in [("herentals", "Jef"), ("worms", "Lea")] {
        let (mut other, _) = p.device(team, name, Role::Worker).await?;
        let refused = other
            .fetch(kempen_record)
            .await
            .expect_err("must not get another team's record");
        let missing_id = DocumentId::random();
        let missing = other.fetch(missing_id).await.expect_err("unknown");
        assert_eq!(
            refused
                .to_string()
                .replace(&kempen_record.to_string(), "ID"),
            missing.to_string().replace(&missing_id.to_string(), "ID"),
            "a refused document must look exactly like one that does not exist"
        );
        let index = paktum_shared::caseload::CaseloadDoc::id_for_team("kempen");
        assert!(other.fetch(index).await.is_err());
    }

    // A coordinator of the pact reads another team's record shared with the pact
    // (`tests/consent.rs`: only then), but cannot write to another team.
    let (mut coordinator, _) = p
        .device("herentals", "Coordinator Kim", Role::Coordinator)
        .await?;
    coordinator.fetch(kempen_record).await?;
    assert!(coordinator.contact(&kempen_record).is_ok());
    let refused = coordinator
        .edit_contact(kempen_record, |c, ed| {
            c.set_field(ed, ContactField::Municipality, Some("Geel"))
        })
        .await;
    assert!(
        refused.is_err_and(|e| matches!(
            e.downcast_ref::<paktum_shared::ModelError>(),
            Some(paktum_shared::ModelError::ReadOnly { .. })
        )),
        "the device core refuses another team's record"
    );
    // Past the core, as a modified client: the relay refuses it as well.
    coordinator
        .forge_contact_edit(kempen_record, |c, ed| {
            c.set_field(ed, ContactField::Municipality, Some("Geel"))
        })
        .await?;
    anna.go_offline();
    let (mut check, _) = p.device("kempen", "Bram", Role::Worker).await?;
    assert_eq!(
        check.contact(&kempen_record)?.municipality,
        None,
        "read-only: the coordinator's edit is not applied"
    );
    // …and a coordinator of another pact reads nothing of this one.
    let (mut stranger, _) = p
        .device("worms", "Coordinator Max", Role::Coordinator)
        .await?;
    assert!(stranger.fetch(kempen_record).await.is_err());
    check.go_offline();

    let refused = |events: &[String]| events.iter().any(|e| e == "doc_refused");
    let events = p.audit_events(refused).await?;
    assert!(refused(&events), "{events:?}");
    p.relay.stop().await
}

#[tokio::test]
async fn a_coordinators_device_follows_every_team_of_its_pact_and_writes_only_its_own()
-> anyhow::Result<()> {
    let p = pact(|_| {}).await?;
    let mut rng = Seeded::new(14);
    let mut made = Vec::new();
    for (team, name, count) in [("kempen", "Anna", 3), ("herentals", "Jef", 2)] {
        let (mut worker, _) = p.device(team, name, Role::Worker).await?;
        for i in 0..count {
            let id = worker
                .create_contact(synthetic::contact(&mut rng, team, i))
                .await?;
            worker
                .edit_contact(id, |c, ed| c.give_consent(ed, day(), ConsentScope::Pact))
                .await?;
            made.push((team, id));
        }
        worker.sync().await?;
        worker.go_offline();
    }

    // The relay names the pact's teams to a coordinator, only its own to a worker.
    let (mut kim, token) = p
        .device("herentals", "Coordinator Kim", Role::Coordinator)
        .await?;
    let teams = http::get(p.relay.addr, &format!("/pact/teams?token={token}")).await?;
    let teams: PactTeams = serde_json::from_str(&teams.body)?;
    assert_eq!(
        (teams.role.as_str(), teams.team.as_str()),
        ("coordinator", "herentals")
    );
    assert_eq!(teams.teams, ["herentals", "kempen"]);
    assert_eq!(
        kim.repo.teams().collect::<Vec<_>>(),
        ["herentals", "kempen"]
    );
    let progress = kim.repo.pact_progress();
    assert_eq!(
        (progress.teams, progress.indices_known),
        (2, 2),
        "both indices"
    );
    assert_eq!((progress.records_listed, progress.records_here), (5, 5));
    for (team, id) in &made {
        assert_eq!(kim.repo.team_of(id), Some(*team));
        assert!(kim.contact(id).is_ok(), "{team}'s record is here");
        assert_eq!(kim.repo.can_edit(id), *team == "herentals");
    }

    // A worker of kempen follows kempen only and receives nothing of herentals.
    let (mut bram, token) = p.device("kempen", "Bram", Role::Worker).await?;
    let teams = http::get(p.relay.addr, &format!("/pact/teams?token={token}")).await?;
    let teams: PactTeams = serde_json::from_str(&teams.body)?;
    assert_eq!(teams.teams, ["kempen"], "a worker learns no other team");
    let progress = bram.repo.pact_progress();
    assert_eq!((progress.teams, progress.records_here), (1, 3));
    let herentals_index = CaseloadDoc::id_for_team("herentals");
    assert!(bram.replica().doc(&herentals_index).is_none());
    for (team, id) in &made {
        assert_eq!(
            bram.replica().doc(id).is_some(),
            *team == "kempen",
            "{team}"
        );
    }

    // The coordinator's edit of a kempen record is refused by the relay: the record
    // and both indices stay as they were.
    let (kempen_record, kempen_index) = (made[0].1, CaseloadDoc::shared_id_for_team("kempen"));
    let heads = |d: &Device, id| d.replica().heads(&id).unwrap_or_default();
    let before: Vec<_> = [kempen_record, kempen_index, herentals_index]
        .into_iter()
        .map(|id| heads(&kim, id))
        .collect();
    kim.forge_contact_edit(kempen_record, |c, ed| {
        c.set_field(ed, ContactField::Municipality, Some("Geel"))
    })
    .await?;
    // The relay answers one connection's messages in order: once this is answered,
    // the edit before it was taken or refused.
    assert!(kim.fetch(DocumentId::random()).await.is_err());
    kim.go_offline();
    bram.go_offline();
    let (check, _) = p
        .device("herentals", "Coordinator Noa", Role::Coordinator)
        .await?;
    let after: Vec<_> = [kempen_record, kempen_index, herentals_index]
        .into_iter()
        .map(|id| heads(&check, id))
        .collect();
    assert_eq!(after, before, "nothing on the relay changed");
    assert_eq!(check.contact(&kempen_record)?.municipality, None);
    p.relay.stop().await
}

#[tokio::test]
async fn a_record_handed_to_another_team_leaves_the_old_teams_devices() -> anyhow::Result<()> {
    let p = pact(|_| {}).await?;
    let mut rng = Seeded::new(8);
    let (mut anna, _) = p.device("kempen", "Anna", Role::Worker).await?;
    let (mut bram, _) = p.device("kempen", "Bram", Role::Worker).await?;
    let id = anna
        .create_contact(synthetic::contact(&mut rng, "kempen", 0))
        .await?;
    anna.sync().await?;
    bram.fetch(id).await?;

    anna.edit_contact(id, |c, ed| {
        c.set_field(ed, ContactField::Team, Some("herentals"))
    })
    .await?;
    anna.sync().await?;
    // Bram, online and syncing it, is told it is gone…
    bram.wait_for("the handover", |r| r.is_unavailable(&id))
        .await?;
    // …a fresh kempen device cannot get it, a herentals device can.
    let (mut fresh, _) = p.device("kempen", "Mieke", Role::Worker).await?;
    assert!(fresh.fetch(id).await.is_err());
    let (mut jef, _) = p.device("herentals", "Jef", Role::Worker).await?;
    jef.fetch(id).await?;
    assert_eq!(jef.contact(&id)?.team, "herentals");
    p.relay.stop().await
}

#[tokio::test]
async fn each_limit_holds_only_the_offending_connection() -> anyhow::Result<()> {
    let p = pact(|c| {
        c.max_messages_per_second = 5;
        c.max_open_documents = 3;
        c.max_connections_per_device = 1;
    })
    .await?;
    let mut rng = Seeded::new(9);

    // Connections per device: the second connection with one token is refused (with
    // two relays, on the other one).
    let (mut anna, token) = p.device("kempen", "Anna", Role::Worker).await?;
    let mut twin = Device::new("Anna", "kempen", &p.second().ws_url_with_token(&token))?;
    let refused = twin.connect().await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| refused_with(e) == Some(Code::TooManyConnections)),
        "{refused:?}"
    );

    // Open documents: a connection syncing more than 3 documents is closed.
    let mut opened = Ok(());
    for n in 0..4 {
        if let Err(e) = anna
            .create_contact(synthetic::contact(&mut rng, "kempen", n))
            .await
        {
            opened = Err(e);
            break;
        }
        if let Err(e) = anna.sync().await {
            opened = Err(e);
            break;
        }
    }
    assert!(
        opened
            .as_ref()
            .is_err_and(|e| refused_with(e) == Some(Code::TooManyDocuments)),
        "the 4th document must close the connection: {opened:?}"
    );

    // Messages per second: a flood is slowed to the limit (burst 20, then 5/s), not
    // served at once, and not cut off either (a device importing records is a flood).
    let token = p.enrol("kempen", "Bram", Role::Worker).await?.token;
    let (flood, _) = tokio_tungstenite::connect_async(p.relay.ws_url_with_token(&token)).await?;
    use futures_util::StreamExt;
    let (mut tx, mut rx) = flood.split();
    let join = Message::Join {
        sender_id: "flood".into(),
        supported_protocol_versions: vec!["1".into()],
        metadata: None,
    };
    tx.send(WsMessage::Binary(join.encode().into())).await?;
    let ask = Message::Request {
        sender_id: "flood".into(),
        target_id: "relay".into(),
        document_id: DocumentId::random(),
        data: automerge::sync::SyncDoc::generate_sync_message(
            &automerge::Automerge::new(),
            &mut automerge::sync::State::new(),
        )
        .map(|m| m.encode())
        .unwrap_or_default(),
    };
    let started = tokio::time::Instant::now();
    let sending = tokio::spawn(async move {
        for _ in 0..200 {
            if tx
                .send(WsMessage::Binary(ask.encode().into()))
                .await
                .is_err()
            {
                break;
            }
        }
        tx
    });
    let (mut answered, mut closed) = (0u32, false);
    let window = started + std::time::Duration::from_millis(1500);
    loop {
        match tokio::time::timeout_at(window, rx.next()).await {
            Err(_) => break,
            Ok(Some(Ok(WsMessage::Binary(b)))) => {
                if let Ok(Message::DocUnavailable { .. }) = Message::decode(&b) {
                    answered += 1;
                }
            }
            Ok(Some(Ok(WsMessage::Close(_))) | None | Some(Err(_))) => {
                closed = true;
                break;
            }
            Ok(Some(Ok(_))) => {}
        }
    }
    let allowed = 20.0 + 5.0 * started.elapsed().as_secs_f64();
    assert!(!closed, "a fast device is slowed, not cut off");
    assert!(answered >= 10, "the burst is served: {answered}");
    assert!(
        f64::from(answered) <= allowed,
        "{answered} requests served, the limit allows {allowed:.0}"
    );
    sending.abort();

    // Someone else keeps syncing.
    let (mut mieke, _) = p.device("herentals", "Mieke", Role::Worker).await?;
    mieke
        .create_contact(synthetic::contact(&mut rng, "herentals", 9))
        .await?;
    mieke.sync().await?;
    p.relay.stop().await
}

/// The relay's own bookkeeping, from `/healthz`: documents it tracks (in memory or
/// only as sync states) and sync states held for connections.
async fn bookkeeping(p: &Pact) -> anyhow::Result<(u64, u64)> {
    let body = http::get(p.relay.addr, "/healthz").await?.body;
    let health: serde_json::Value = serde_json::from_str(&body)?;
    let field = |name: &str| {
        health[name]
            .as_u64()
            .ok_or_else(|| anyhow::anyhow!("no {name} in {body}"))
    };
    Ok((field("documents_tracked")?, field("sync_states")?))
}

/// One enrolled connection asks for `n` documents that do not exist, as fast as the
/// socket takes them, and reads the `n` answers. Returns the time from the first
/// request to the last answer, and the relay's bookkeeping while still connected.
async fn ask_for_unknown_documents(
    p: &Pact,
    token: &str,
    n: usize,
) -> anyhow::Result<(std::time::Duration, (u64, u64))> {
    use futures_util::StreamExt;
    let (ws, _) = tokio_tungstenite::connect_async(p.relay.ws_url_with_token(token)).await?;
    let (mut tx, mut rx) = paktum_tests::raw::join(ws, "hostile").await?;
    let requests = paktum_tests::raw::unknown_requests("hostile", n);
    let started = std::time::Instant::now();
    let sending = tokio::spawn(async move {
        for bytes in requests {
            tx.send(WsMessage::Binary(bytes.into())).await?;
        }
        anyhow::Ok(tx)
    });
    let mut answered = 0;
    while answered < n {
        match tokio::time::timeout(std::time::Duration::from_secs(60), rx.next()).await {
            Ok(Some(Ok(WsMessage::Binary(b)))) => match Message::decode(&b)? {
                Message::DocUnavailable { .. } => answered += 1,
                other => anyhow::bail!("unexpected {}", other.type_name()),
            },
            Ok(Some(Ok(_))) => {}
            other => anyhow::bail!("connection ended after {answered} answers: {other:?}"),
        }
    }
    let elapsed = started.elapsed();
    let mut tx = sending.await??;
    let kept = bookkeeping(p).await?;
    tx.close().await?;
    Ok((elapsed, kept))
}

#[tokio::test]
async fn many_unknown_documents_on_one_connection_cost_linear_time_and_no_memory()
-> anyhow::Result<()> {
    // Only the relay's work is measured here, not the rate limit.
    let p = pact(|c| c.max_messages_per_second = 10_000_000).await?;
    let token = p.enrol("kempen", "Hostile", Role::Worker).await?.token;
    let mut small = std::time::Duration::MAX;
    let mut kept_small = (0, 0);
    for _ in 0..3 {
        let (t, kept) = ask_for_unknown_documents(&p, &token, 5_000).await?;
        small = small.min(t);
        kept_small = kept;
    }
    let (large, kept_large) = ask_for_unknown_documents(&p, &token, 50_000).await?;
    let ratio = large.as_secs_f64() / small.as_secs_f64();
    eprintln!(
        "5,000 unknown documents: {small:?}, kept {kept_small:?}; \
         50,000: {large:?}, kept {kept_large:?}; time ratio {ratio:.1}"
    );
    // Linear is 10; quadratic would be 100.
    assert!(ratio < 30.0, "time grows faster than the count: {ratio:.1}");
    assert_eq!(
        kept_large, kept_small,
        "an answered unknown document holds nothing"
    );
    p.relay.stop().await
}

#[tokio::test]
async fn a_device_gets_its_own_teams_members_only() -> anyhow::Result<()> {
    let p = pact(|_| {}).await?;
    let anna = p.enrol("kempen", "Anna", Role::Worker).await?;
    // Invited but not enrolled yet: still a member a contact can be assigned to.
    p.directory
        .invite("kempen", "Bram", Role::Coordinator, HOUR, now_ms())?;
    let hilde = p.enrol("herentals", "Hilde", Role::Worker).await?;
    p.directory
        .invite("worms", "Wolfgang", Role::Admin, HOUR, now_ms())?;

    let names = |m: &paktum_shared::enrol::TeamMembers| -> Vec<String> {
        m.members.iter().map(|m| m.name.clone()).collect()
    };
    let (status, kempen) = http::team_members(p.relay.addr, &anna.token).await?;
    let kempen = kempen.ok_or_else(|| anyhow::anyhow!("status {status}"))?;
    assert_eq!(kempen.team, "kempen");
    assert_eq!(names(&kempen), ["Anna", "Bram"]);
    assert_eq!(kempen.members[1].role, "coordinator");
    let (_, herentals) = http::team_members(p.relay.addr, &hilde.token).await?;
    let herentals = herentals.ok_or_else(|| anyhow::anyhow!("no list for Hilde"))?;
    assert_eq!(
        names(&herentals),
        ["Hilde"],
        "same pact, other team: not Anna's list"
    );

    for token in ["", "not-a-token"] {
        let (status, list) = http::team_members(p.relay.addr, token).await?;
        assert_eq!((status, list), (401, None), "token {token:?}");
    }
    let device = p
        .directory
        .devices()?
        .into_iter()
        .find(|d| d.worker == "Hilde")
        .ok_or_else(|| anyhow::anyhow!("Hilde's device"))?;
    p.directory.revoke(device.device_id, now_ms())?;
    let (status, _) = http::team_members(p.relay.addr, &hilde.token).await?;
    assert_eq!(status, 401, "a revoked device gets no list");
    p.relay.stop().await
}
