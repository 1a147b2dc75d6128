-- Failed enrolments counted by every relay on the database (issue 17), so several
-- relays allow no more guesses than one (auth/throttle.rs, auth/directory/throttle.rs).
-- kind is 'address' (an IPv4 address, an IPv6 /64) or 'prefix' (a code's first four
-- characters); times are Unix milliseconds. A row is deleted once it would be
-- forgotten (no failure nor block for the throttle's forget time); SQLite (one relay)
-- counts in memory only.
CREATE TABLE enrol_throttle (
    kind          TEXT NOT NULL,
    key           TEXT NOT NULL,
    failures      BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL,
    last_active   BIGINT NOT NULL,
    PRIMARY KEY (kind, key)
);
