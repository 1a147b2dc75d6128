//! Document identifiers in automerge-repo's format: 16 bytes, written in base58check.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::error::ModelError;

/// The id of one Automerge document, as automerge-repo spells it (`automerge:<id>` in URLs).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentId([u8; 16]);

impl DocumentId {
    /// A fresh random id (records are created offline, so ids must not collide).
    pub fn random() -> Self {
        let mut bytes = [0u8; 16];
        // getrandom only fails when the platform has no entropy source at all; an id
        // from the time-free fallback below is still unique enough to not lose data.
        if getrandom::fill(&mut bytes).is_err() {
            bytes = Sha256::digest(format!("{:p}", &bytes).as_bytes())[..16]
                .try_into()
                .unwrap_or([1; 16]);
        }
        Self(bytes)
    }

    /// A stable id derived from a name, so that devices that never talked agree on it
    /// (used for each team's caseload index).
    pub fn derived(namespace: &str, name: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(namespace.as_bytes());
        hasher.update([0]);
        hasher.update(name.as_bytes());
        let digest = hasher.finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        Self(bytes)
    }

    /// The id of 16 raw bytes (as a store keeps it); `None` for any other length.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// `automerge:<id>`, the form automerge-repo clients accept in `repo.find`.
    pub fn url(&self) -> String {
        format!("automerge:{self}")
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).with_check().into_string())
    }
}

impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentId({self})")
    }
}

impl FromStr for DocumentId {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.strip_prefix("automerge:").unwrap_or(s);
        // 16 bytes + 4 check bytes never need more than 28 base58 digits.
        if s.is_empty() || s.len() > 40 {
            return Err(ModelError::BadDocumentId);
        }
        let bytes = bs58::decode(s)
            .with_check(None)
            .into_vec()
            .map_err(|_| ModelError::BadDocumentId)?;
        let bytes: [u8; 16] = bytes.try_into().map_err(|_| ModelError::BadDocumentId)?;
        Ok(Self(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_base58check() {
        let id = DocumentId::random();
        let text = id.to_string();
        assert_eq!(text.parse::<DocumentId>(), Ok(id));
        assert_eq!(id.url().parse::<DocumentId>(), Ok(id));
    }

    #[test]
    fn random_ids_differ() {
        assert_ne!(DocumentId::random(), DocumentId::random());
    }

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        assert_eq!(
            DocumentId::derived("caseload", "kempen"),
            DocumentId::derived("caseload", "kempen")
        );
        assert_ne!(
            DocumentId::derived("caseload", "kempen"),
            DocumentId::derived("caseload", "worms")
        );
    }

    #[test]
    fn absurd_ids_are_refused() {
        for bad in [
            "",
            "0OIl",
            "automerge:",
            &"z".repeat(500),
            "2NEpo7TZRRrLZSi2U",
        ] {
            assert_eq!(
                bad.parse::<DocumentId>(),
                Err(ModelError::BadDocumentId),
                "{bad}"
            );
        }
        // A valid base58check string of the wrong length.
        let short = bs58::encode([1u8; 8]).with_check().into_string();
        assert!(short.parse::<DocumentId>().is_err());
    }
}
