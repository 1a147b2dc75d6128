//! `admin pact-settings`: the real CLI on a SQLite data directory sets a pact's
//! settings, prints those in force, keeps what a later call does not name, and refuses
//! a value out of its range or a pact without a team with a sentence saying why.

use std::path::Path;

use paktum_shared::enrol::PactSettings;
use paktum_sync_server::auth::Directory;
use paktum_tests::launch;

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_paktum-sync-server"))
}

/// `admin pact-settings --pact kempen-pact ARGS…` on this data directory.
fn kempen_settings(data: &Path, args: &[&str]) -> anyhow::Result<String> {
    let mut all = vec!["pact-settings", "--pact", "kempen-pact"];
    all.extend_from_slice(args);
    launch::admin(binary(), data, &all)
}

#[test]
fn admin_pact_settings_sets_prints_and_refuses_out_of_range() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path();
    launch::admin(
        binary(),
        data,
        &["create-team", "--pact", "kempen-pact", "--team", "kempen"],
    )?;
    let out = kempen_settings(data, &["--lock-minutes", "2", "--retention-months", "12"])?;
    assert!(out.contains("lock after 2 quiet minutes\n"), "{out}");
    assert!(out.contains("erase after 10 wrong PINs (default)"), "{out}");
    assert!(
        out.contains("inclusive-employer goal 50 % (default)"),
        "{out}"
    );
    assert!(out.contains("records kept 12 months"), "{out}");
    let out = kempen_settings(data, &["--inclusive-goal", "40"])?;
    assert!(out.contains("lock after 2 quiet minutes\n"), "{out}");
    assert!(out.contains("inclusive-employer goal 40 %\n"), "{out}");

    for (flag, value, says) in [
        (
            "--lock-minutes",
            "0",
            "--lock-minutes must be between 1 and 60 (was 0)",
        ),
        (
            "--lock-failures",
            "50",
            "--lock-failures must be between 3 and 20 (was 50)",
        ),
        (
            "--inclusive-goal",
            "101",
            "--inclusive-goal must be between 1 and 100",
        ),
        (
            "--retention-months",
            "1",
            "--retention-months must be between 6 and 120",
        ),
    ] {
        let e = kempen_settings(data, &[flag, value]).expect_err("out of range");
        assert!(e.to_string().contains(says), "{e}");
    }
    let e = launch::admin(binary(), data, &["pact-settings", "--pact", "nowhere"])
        .expect_err("no such pact");
    assert!(
        e.to_string().contains("no team belongs to pact nowhere"),
        "{e}"
    );

    let directory = Directory::open(data)?;
    assert_eq!(
        directory.pact_settings("kempen-pact")?,
        PactSettings {
            lock_minutes: Some(2),
            lock_failures: None,
            inclusive_goal: Some(40),
            retention_months: Some(12),
        }
    );
    Ok(())
}
