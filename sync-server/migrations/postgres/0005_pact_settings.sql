-- Each pact's settings (issues 14, 15, 16), as in SQLite (auth/directory/settings.rs):
-- a NULL column is the default (lock after 5 minutes, erase after 10 wrong PINs,
-- inclusive-employer goal 50 %, retention 24 months).
CREATE TABLE pact_settings (
    pact             TEXT PRIMARY KEY,
    lock_minutes     BIGINT,
    lock_failures    BIGINT,
    inclusive_goal   BIGINT,
    retention_months BIGINT
);
