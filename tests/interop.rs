//! Interop: a stock `@automerge/automerge-repo` JS client (tests/interop/interop.mjs)
//! and a Rust device exchange contacts through Paktum's relay, both ways. The JS
//! client adds its contact as the app does (the document, then its row in the team's
//! caseload index), so a device lists it and pulls it without being told its id.
//!
//! Needs `npm install` in tests/interop (`cargo xtask test` does it). With
//! `PAKTUM_RELAY_URL=ws://127.0.0.1:8080/sync` it runs against a relay already running.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};
use paktum_shared::DocumentId;
use paktum_shared::caseload::CaseloadDoc;
use paktum_shared::contact::{Channel, NewContact, NewNote, Status};
use paktum_sync_server::Config;
use paktum_sync_server::auth::{Directory, Role, now_ms};
use paktum_tests::{Device, TestRelay};

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop")
}

/// Runs the JS client; its stdout on success, its stderr as the error otherwise.
async fn node(args: &[&str]) -> anyhow::Result<String> {
    let dir = interop_dir();
    if !dir.join("node_modules/@automerge/automerge-repo").exists() {
        bail!(
            "the JS client is not installed: run `npm install` in {} (cargo xtask test does this)",
            dir.display()
        );
    }
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("interop.mjs")
            .args(&args)
            .current_dir(dir)
            .output()
    })
    .await?
    .context("running node (is Node.js installed?)")?;
    if !out.status.success() {
        bail!("JS client failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8(out.stdout)?)
}

#[tokio::test]
async fn a_stock_automerge_repo_client_and_paktum_exchange_contacts() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // By default: our own relay with access control on, so the JS client also shows
    // that a stock client can present a device token (in the URL's query).
    let (relay, js_url, url) = match std::env::var("PAKTUM_RELAY_URL") {
        Ok(url) => (None, url.clone(), url),
        Err(_) => {
            let directory = Directory::open(dir.path())?;
            directory.create_team("interop-pact", "interop", false)?;
            let relay = TestRelay::start_with(Config::for_tests(dir.path().to_path_buf())).await?;
            let token = || -> anyhow::Result<String> {
                let (_, code) =
                    directory.invite("interop", "Interop", Role::Worker, 3_600_000, now_ms())?;
                Ok(directory.enrol(&code, "interop", now_ms())?.0)
            };
            let (js, rust) = (token()?, token()?);
            let urls = (relay.ws_url_with_token(&js), relay.ws_url_with_token(&rust));
            (Some(relay), urls.0, urls.1)
        }
    };

    // JS writes, Rust reads: the contact is in the device's caseload after an ordinary
    // connect, listed by the index and pulled because of it.
    let created: serde_json::Value =
        serde_json::from_str(&node(&["create", &js_url, "interop"]).await?)?;
    let id: DocumentId = created["documentId"]
        .as_str()
        .context("no documentId")?
        .parse()?;
    let index_id: DocumentId = created["indexId"].as_str().context("no indexId")?.parse()?;
    assert_eq!(
        index_id,
        CaseloadDoc::id_for_team("interop"),
        "the JS client derives the index id as ARCHITECTURE.md says"
    );
    let mut device = Device::new("Anna", "interop", &url)?;
    device.connect().await?;
    let row = device
        .index()?
        .entry(&id)
        .with_context(|| format!("the device's index does not list the JS client's {id}"))?;
    assert_eq!(row.summary.name, "Noor (from automerge-repo JS)");
    assert_eq!(row.summary.status.as_deref(), Some("engaged"));
    assert_eq!(row.summary.worker, "Interop Bot");
    let contact = device
        .contact(&id)
        .context("the listed contact was not pulled by the device's sync")?;
    assert_eq!(contact.display_name, "Noor (from automerge-repo JS)");
    assert_eq!(contact.status, Status::Engaged);
    assert_eq!(contact.notes.len(), 1);
    assert_eq!(contact.notes[0].text, "Written by a stock JS client");
    assert_eq!(contact.tags, ["interop"]);
    assert_eq!(contact.assigned_worker, "Interop Bot");

    // Rust writes, JS reads.
    let mine = device
        .create_contact(NewContact {
            team: "interop".into(),
            display_name: "Bence (from Paktum)".into(),
            first_contact_on: "2026-11-24".parse()?,
            channel: Channel::Street,
            place: Some("Kőszeg".into()),
            assigned_worker: None,
        })
        .await?;
    device
        .edit_contact(mine, |c, ed| {
            c.add_note(
                ed,
                NewNote {
                    text: "Notiz aus Rust".into(),
                    ..Default::default()
                },
            )
        })
        .await?;
    device.sync().await?;
    let read: serde_json::Value =
        serde_json::from_str(&node(&["read", &js_url, &mine.to_string()]).await?)?;
    assert_eq!(read["display_name"], "Bence (from Paktum)");
    assert_eq!(read["kind"], "contact");
    assert_eq!(read["schema"], 1);
    let notes = read["notes"].as_object().context("notes map")?;
    assert_eq!(
        notes.values().next().and_then(|n| n["text"].as_str()),
        Some("Notiz aus Rust")
    );

    if let Some(relay) = relay {
        relay.stop().await?;
    }
    Ok(())
}
