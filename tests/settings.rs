//! Pact settings with the real relay: what an admin sets for a pact reaches the
//! pact's devices with their enrolment and with `/pact/teams`, and no other pact's.

use paktum_shared::enrol::{PactSettings, PactTeams};
use paktum_sync_server::auth::{Role, now_ms};
use paktum_tests::http;
use paktum_tests::pact::pact;

#[tokio::test]
async fn a_device_enrolled_in_a_pact_receives_the_settings_its_admin_set() -> anyhow::Result<()> {
    let p = pact(|_| {}).await?;
    let set = p.directory.set_pact_settings(
        "kempen-pact",
        PactSettings {
            lock_minutes: Some(2),
            lock_failures: Some(5),
            inclusive_goal: Some(40),
            retention_months: Some(12),
        },
        false,
        now_ms(),
    )?;

    let anna = p.enrol("herentals", "Anna", Role::Worker).await?;
    assert_eq!(anna.settings, Some(set), "with the enrolment");
    let max = p.enrol("worms", "Max", Role::Coordinator).await?;
    assert_eq!(
        max.settings,
        Some(PactSettings::default()),
        "another pact keeps the defaults"
    );

    // Changed later: the device learns it at its next start (`/pact/teams`).
    let changed = p.directory.set_pact_settings(
        "kempen-pact",
        PactSettings {
            retention_months: Some(36),
            ..PactSettings::default()
        },
        false,
        now_ms(),
    )?;
    assert_eq!(changed.retention_months, Some(36));
    let teams = http::get(p.relay.addr, &format!("/pact/teams?token={}", anna.token)).await?;
    let teams: PactTeams = serde_json::from_str(&teams.body)?;
    assert_eq!(teams.settings, Some(changed));
    assert_eq!(teams.settings.map(|s| s.lock_minutes()), Some(2));
    p.relay.stop().await
}
