//! Why the relay refused something, as a stable machine code beside its English
//! sentence: in the JSON body of a refused HTTP request (`{"error": …, "code": …}`)
//! and in the sync protocol's `error` message (a `code` field that stock
//! automerge-repo clients ignore). The relay picks the code, the app words it in the
//! worker's language; neither reads the other's sentences.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One reason for a refusal. The wire spelling ([`Code::as_str`]) never changes once
/// released; a code this build does not know reads as `None` ([`Code::parse`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// No device token, an unknown one, or a revoked device.
    NotEnrolled,
    /// The client speaks no protocol version the relay speaks.
    ProtocolVersion,
    /// The device already holds as many connections as it may.
    TooManyConnections,
    /// One connection asked to sync more documents than it may.
    TooManyDocuments,
    /// Too many failed enrolments from this address or for this code prefix.
    RateLimited,
    /// The enrolment code was already used.
    CodeUsed,
    /// The enrolment code has expired.
    CodeExpired,
    /// The enrolment code is not known.
    CodeUnknown,
    /// Bytes that do not decode as the protocol says.
    Malformed,
    /// A well-formed message out of place (a second join, a text frame, …).
    ProtocolViolation,
    /// A sync message whose Automerge content could not be applied.
    BadSync,
    /// The connection fell too far behind reading what the relay sent.
    TooSlow,
    /// The relay could not do it just now (storage, directory); try again later.
    Unavailable,
    /// An action this device's role or team may not take (erasing another team's
    /// record, a worker erasing); also for an unknown record, so existence does not leak.
    NotPermitted,
    /// The pact withdrew this device and had it wiped; its unsynced changes were
    /// handed to the relay first.
    Withdrawn,
    /// As `Withdrawn`, and the unsynced changes are kept apart for the coordinator
    /// to check, not merged.
    WithdrawnQuarantined,
}

impl Code {
    /// Every code, for tests that each one is handled (the app: worded).
    pub const ALL: [Code; 16] = [
        Code::NotEnrolled,
        Code::ProtocolVersion,
        Code::TooManyConnections,
        Code::TooManyDocuments,
        Code::RateLimited,
        Code::CodeUsed,
        Code::CodeExpired,
        Code::CodeUnknown,
        Code::Malformed,
        Code::ProtocolViolation,
        Code::BadSync,
        Code::TooSlow,
        Code::Unavailable,
        Code::NotPermitted,
        Code::Withdrawn,
        Code::WithdrawnQuarantined,
    ];

    /// The spelling on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::NotEnrolled => "not_enrolled",
            Code::ProtocolVersion => "protocol_version",
            Code::TooManyConnections => "too_many_connections",
            Code::TooManyDocuments => "too_many_documents",
            Code::RateLimited => "rate_limited",
            Code::CodeUsed => "code_used",
            Code::CodeExpired => "code_expired",
            Code::CodeUnknown => "code_unknown",
            Code::Malformed => "malformed",
            Code::ProtocolViolation => "protocol_violation",
            Code::BadSync => "bad_sync",
            Code::TooSlow => "too_slow",
            Code::Unavailable => "unavailable",
            Code::NotPermitted => "not_permitted",
            Code::Withdrawn => "device_withdrawn",
            Code::WithdrawnQuarantined => "device_withdrawn_quarantined",
        }
    }

    /// The code spelled `s`, or `None` for one this build does not know (a newer
    /// relay's): the caller then shows the relay's sentence.
    pub fn parse(s: &str) -> Option<Code> {
        Code::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Code::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown code `{s}`")))
    }
}

/// The JSON body of any HTTP request the relay refuses: a sentence for people (in
/// English) and the code the app words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub error: String,
    /// Absent from an older relay's answer; `None` for a code this build does not know.
    #[serde(
        default,
        deserialize_with = "known_code",
        skip_serializing_if = "Option::is_none"
    )]
    pub code: Option<Code>,
    /// With [`Code::RateLimited`]: how long to wait (also in `Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

fn known_code<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Code>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.and_then(|s| Code::parse(&s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_as_itself_and_spellings_are_distinct() {
        // A match without a wildcard: a new variant fails to compile here until it
        // is counted, and then `ALL` must hold it for the count to match.
        let counted = |c: Code| match c {
            Code::NotEnrolled
            | Code::ProtocolVersion
            | Code::TooManyConnections
            | Code::TooManyDocuments
            | Code::RateLimited
            | Code::CodeUsed
            | Code::CodeExpired
            | Code::CodeUnknown
            | Code::Malformed
            | Code::ProtocolViolation
            | Code::BadSync
            | Code::TooSlow
            | Code::Unavailable
            | Code::NotPermitted
            | Code::Withdrawn
            | Code::WithdrawnQuarantined => 1,
        };
        assert_eq!(Code::ALL.iter().map(|c| counted(*c)).sum::<usize>(), 16);
        let spellings: std::collections::HashSet<_> = Code::ALL.map(Code::as_str).into();
        assert_eq!(spellings.len(), Code::ALL.len());
        for code in Code::ALL {
            assert_eq!(Code::parse(code.as_str()), Some(code));
            let json = serde_json::to_string(&code).unwrap_or_default();
            assert_eq!(json, format!("\"{code}\""));
            assert_eq!(serde_json::from_str::<Code>(&json).ok(), Some(code));
        }
    }

    #[test]
    fn a_refusal_from_an_older_or_newer_relay_still_reads() -> Result<(), serde_json::Error> {
        let r: Refusal = serde_json::from_str(r#"{"error":"x","code":"code_used"}"#)?;
        assert_eq!(r.code, Some(Code::CodeUsed));
        let older: Refusal = serde_json::from_str(r#"{"error":"x"}"#)?;
        assert_eq!(older.code, None);
        let newer: Refusal = serde_json::from_str(r#"{"error":"x","code":"moon_phase"}"#)?;
        assert_eq!((newer.error.as_str(), newer.code), ("x", None));
        let sent = Refusal {
            error: "wait".into(),
            code: Some(Code::RateLimited),
            retry_after_secs: Some(30),
        };
        assert_eq!(
            serde_json::to_string(&sent)?,
            r#"{"error":"wait","code":"rate_limited","retry_after_secs":30}"#
        );
        Ok(())
    }
}
