//! Unit tests of the enrolment throttle: time is passed in, so minutes pass at once.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

const MIN: u64 = 60_000;

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

/// One whole failed attempt; the wait in seconds if it was refused.
fn fail(
    t: &mut EnrolThrottle,
    address: IpAddr,
    code: &str,
    now: u64,
) -> Result<(), (u64, Limited)> {
    let attempt = t.begin(address, code, now)?;
    t.end(attempt, true, now);
    Ok(())
}

#[test]
fn five_failures_are_free_then_the_wait_doubles_up_to_the_cap() {
    let mut t = EnrolThrottle::new(Rules::default());
    for i in 0..5 {
        assert_eq!(
            fail(&mut t, ip(1), &format!("A{i}AAA-BBBBB"), 0),
            Ok(()),
            "free failure {i}"
        );
    }
    // The fifth failure started a 30 s block.
    assert_eq!(
        t.begin(ip(1), "ZZZZZ-ZZZZZ", 0).err(),
        Some((30, Limited::Address))
    );
    assert_eq!(
        t.begin(ip(1), "ZZZZZ-ZZZZZ", 29_001).err(),
        Some((1, Limited::Address))
    );
    // After the wait one more try, and its failure doubles the block.
    let mut now = 30_000;
    let mut expected = 60;
    for _ in 0..8 {
        let attempt = t
            .begin(ip(1), "YYYYY-YYYYY", now)
            .expect("allowed after the wait");
        let started = t.end(attempt, true, now);
        assert!(
            started.contains(&BlockStarted {
                by: Limited::Address,
                for_ms: expected * 1000
            }),
            "{started:?}"
        );
        assert_eq!(
            t.begin(ip(1), "XXXXX-XXXXX", now).err(),
            Some((expected, Limited::Address))
        );
        now += expected * 1000;
        expected = (expected * 2).min(15 * 60);
    }
    assert_eq!(expected, 15 * 60, "capped at 15 minutes");
}

#[test]
fn successes_do_not_count_and_other_addresses_are_unaffected() {
    let mut t = EnrolThrottle::new(Rules::default());
    for i in 0..20 {
        let attempt = t
            .begin(ip(1), &format!("Q{i:02}QQ-QQQQQ"), 0)
            .expect("successes are never limited");
        assert!(t.end(attempt, false, 0).is_empty());
    }
    for i in 0..5 {
        fail(&mut t, ip(2), &format!("C{i}CCC-CCCCC"), 0).expect("free");
    }
    assert!(t.begin(ip(2), "DDDDD-DDDDD", 0).is_err());
    assert!(t.begin(ip(3), "DDDDD-DDDDD", 0).is_ok(), "another address");
}

#[test]
fn a_quiet_address_is_forgiven_after_the_window() {
    let mut t = EnrolThrottle::new(Rules::default());
    for i in 0..4 {
        fail(&mut t, ip(1), &format!("E{i}EEE-EEEEE"), 0).expect("free");
    }
    // Four failures, then ten quiet minutes: five free failures again.
    for i in 0..5 {
        fail(&mut t, ip(1), &format!("F{i}FFF-FFFFF"), 10 * MIN).expect("forgiven");
    }
    assert!(t.begin(ip(1), "GGGGG-GGGGG", 10 * MIN).is_err());
    // Forgiven only ten minutes after the block ends, not after the last failure.
    assert!(t.begin(ip(1), "GGGGG-GGGGG", 10 * MIN + 30_000).is_ok());
}

#[test]
fn parallel_attempts_cannot_slip_past_the_free_failures() {
    let mut t = EnrolThrottle::new(Rules::default());
    let attempts: Vec<_> = (0..5)
        .map(|i| {
            t.begin(ip(1), &format!("H{i}HHH-HHHHH"), 0)
                .expect("within the free five")
        })
        .collect();
    assert_eq!(
        t.begin(ip(1), "JJJJJ-JJJJJ", 0).err(),
        Some((1, Limited::Address))
    );
    for a in attempts {
        t.end(a, true, 0);
    }
    assert_eq!(
        t.begin(ip(1), "JJJJJ-JJJJJ", 0).err(),
        Some((30, Limited::Address))
    );
}

#[test]
fn a_partly_known_code_cannot_be_completed_from_many_addresses() {
    let mut t = EnrolThrottle::new(Rules::default());
    for i in 0..5 {
        // Spelling does not matter: the directory reads codes the same way.
        fail(&mut t, ip(i), &format!("kmp7{i}-aaaaa"), 0).expect("free");
    }
    assert_eq!(
        t.begin(ip(9), "KMP7Z-ZZZZZ", 0).err(),
        Some((30, Limited::Prefix))
    );
    assert!(t.begin(ip(9), "KMP8Z-ZZZZZ", 0).is_ok(), "another prefix");
    // Input too short to be a code has no prefix key.
    for i in 0..5 {
        fail(&mut t, ip(20 + i), "ab", 0).expect("free");
    }
    assert!(t.begin(ip(30), "ab", 0).is_ok());
}

#[test]
fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
    let host = |last: u16| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, last));
    assert_eq!(address_key(host(1)), address_key(host(0xffff)));
    assert_ne!(
        address_key(host(1)),
        address_key(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 3, 0, 0, 0, 1)))
    );
    let mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped());
    assert_eq!(address_key(mapped), ip(1));
    let mut t = EnrolThrottle::new(Rules::default());
    for i in 0..5 {
        fail(&mut t, host(i), &format!("K{i}KKK-KKKKK"), 0).expect("free");
    }
    assert!(t.begin(host(100), "LLLLL-LLLLL", 0).is_err(), "same /64");
}

#[test]
fn rotating_addresses_and_prefixes_cannot_grow_memory_past_the_capacity() {
    let rules = Rules {
        capacity: 1000,
        ..Rules::default()
    };
    let mut t = EnrolThrottle::new(rules);
    let address = |i: u32| IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
    for i in 0..100_000u32 {
        fail(
            &mut t,
            address(i),
            &format!("{}-XX", base36(i)),
            u64::from(i),
        )
        .expect("a new address and prefix");
    }
    let (addresses, prefixes) = t.tracked();
    assert!(
        addresses <= 1000 && prefixes <= 1000,
        "{addresses} {prefixes}"
    );
    // The most recent offender is still remembered: four more failures block it.
    for j in 0..4 {
        fail(&mut t, address(99_999), &format!("Z{j}ZZ-ZZ"), 100_000).expect("free");
    }
    assert_eq!(
        t.begin(address(99_999), "NNNNN-NNNNN", 100_000).err(),
        Some((30, Limited::Address))
    );
}

/// Four base-36 digits: a distinct code prefix for each number below 36^4.
fn base36(mut n: u32) -> String {
    let digits = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut s = [b'0'; 4];
    for d in s.iter_mut().rev() {
        *d = digits[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8_lossy(&s).into_owned()
}

/// Two relays on one database: each learns what the other counted before an attempt
/// and hands its own count on after a failure (what `enrol_throttle` carries).
#[test]
fn relays_that_share_their_counts_allow_no_more_guesses_than_one() {
    let (mut a, mut b) = (
        EnrolThrottle::new(Rules::default()),
        EnrolThrottle::new(Rules::default()),
    );
    let mut shared: Vec<(Limited, Counted)> = Vec::new();
    for i in 0..5 {
        let code = format!("A{i}AAA-BBBBB");
        let t = if i % 2 == 0 { &mut a } else { &mut b };
        t.learn(ip(1), &code, &shared, 0);
        assert_eq!(fail(t, ip(1), &code, 0), Ok(()), "free failure {i}");
        shared = t
            .counted(ip(1), &code)
            .into_iter()
            .filter(|(by, _, _)| *by == Limited::Address)
            .map(|(by, _, c)| (by, c))
            .collect();
    }
    assert_eq!(shared[0].1.failures, 5);
    // The fifth failure (on a) blocks the address on b too.
    b.learn(ip(1), "ZZZZZ-ZZZZZ", &shared, 1000);
    assert_eq!(
        b.begin(ip(1), "ZZZZZ-ZZZZZ", 1000).err(),
        Some((29, Limited::Address))
    );
    // A stale count is forgotten as the relay's own would be.
    let mut c = EnrolThrottle::new(Rules::default());
    c.learn(ip(1), "ZZZZZ-ZZZZZ", &shared, 60 * MIN);
    assert!(c.begin(ip(1), "ZZZZZ-ZZZZZ", 60 * MIN).is_ok());
    assert_eq!(
        EnrolThrottle::keys(ip(1), "abcd-efgh"),
        vec![
            (Limited::Address, "192.0.2.1".to_string()),
            (Limited::Prefix, "ABCD".to_string())
        ]
    );
}
