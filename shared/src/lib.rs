//! Paktum's shared core: the record model (one Automerge document per record), the
//! per-team caseload index, and the automerge-repo wire protocol. Pure Rust, no I/O:
//! the relay (`sync-server`) and the browser app (`app`) both build on it.

pub mod caseload;
pub mod contact;
pub mod date;
pub mod device;
pub mod employer;
pub mod enrol;
pub mod erasure;
pub mod error;
pub mod id;
pub mod indicators;
pub mod language;
pub mod protocol;
pub mod record;
pub mod refusal;
pub mod replica;
pub mod summary;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod untrusted;
pub mod whole;
mod words;

pub use date::Day;
pub use error::ModelError;
pub use id::DocumentId;
pub use record::{Concurrent, Editor, RecordDoc};
