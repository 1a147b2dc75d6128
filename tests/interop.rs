//! Interop: a stock `@automerge/automerge-repo` JS client (tests/interop/interop.mjs)
//! and a Rust device exchange contacts through Paktum's relay, both ways.
//!
//! Needs `npm install` in tests/interop (`cargo xtask test` does it). With
//! `PAKTUM_RELAY_URL=ws://127.0.0.1:8080/sync` it runs against a relay already running.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};
use paktum_shared::DocumentId;
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

    // JS writes, Rust reads.
    let created: serde_json::Value = serde_json::from_str(&node(&["create", &js_url]).await?)?;
    let id: DocumentId = created["documentId"]
        .as_str()
        .context("no documentId")?
        .parse()?;
    let mut device = Device::new("Anna", "interop", &url)?;
    device.connect().await?;
    device.fetch(id).await?;
    let contact = device.contact(&id)?;
    assert_eq!(contact.display_name, "Noor (from automerge-repo JS)");
    assert_eq!(contact.status, Status::Engaged);
    assert_eq!(contact.notes.len(), 1);
    assert_eq!(contact.notes[0].text, "Written by a stock JS client");
    assert_eq!(contact.tags, ["interop"]);

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
