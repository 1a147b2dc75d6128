//! Bytes from the network or from storage go into Automerge only through here.
//!
//! Fuzzing found inputs with a valid checksum on which automerge 0.12 panics (an
//! index out of bounds while decoding a change) instead of returning an error.
//! Anyone can compute a valid checksum, so a hostile peer could send such bytes.
//! The same goes for what a peer's sync messages leave in the sync state.
//! These wrappers turn such a panic into an ordinary error. They work where panics
//! unwind (the relay, native tests); the app's release build aborts on panic, so
//! there the browser's reload is the last line (see ARCHITECTURE.md).

use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::Automerge;
use automerge::sync::{self, SyncDoc};

/// `Automerge::load` that never panics.
pub fn load(bytes: &[u8]) -> Result<Automerge, String> {
    match catch_unwind(|| Automerge::load(bytes)) {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err("document data the decoder could not handle".into()),
    }
}

/// `Automerge::load_incremental` that never panics. After an `Err` the document may
/// hold part of the bytes; callers treat it as damaged.
pub fn load_incremental(doc: &mut Automerge, bytes: &[u8]) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(|| doc.load_incremental(bytes))) {
        Ok(result) => result.map(|_| ()).map_err(|e| e.to_string()),
        Err(_) => Err("document data the decoder could not handle".into()),
    }
}

/// `sync::Message::decode` that never panics (a peer's sync message).
pub fn message(bytes: &[u8]) -> Result<sync::Message, String> {
    match catch_unwind(|| sync::Message::decode(bytes)) {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err("sync data the decoder could not handle".into()),
    }
}

/// `sync::State::decode` that never panics (a sync state read back from storage).
pub fn state(bytes: &[u8]) -> Result<sync::State, String> {
    match catch_unwind(|| sync::State::decode(bytes)) {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err("a sync state the decoder could not handle".into()),
    }
}

/// `generate_sync_message` that never panics. The state holds what the peer told us
/// (e.g. its Bloom filter; fuzzing found that an empty filter divides by zero in
/// automerge 0.12): on a panic the state is reset, so the next round starts clean.
pub fn generate(doc: &Automerge, state: &mut sync::State) -> Result<Option<sync::Message>, String> {
    match catch_unwind(AssertUnwindSafe(|| doc.generate_sync_message(state))) {
        Ok(message) => Ok(message),
        Err(_) => {
            *state = sync::State::new();
            Err("the peer's sync state could not be used; it was reset".into())
        }
    }
}

/// `receive_sync_message` that never panics. After an `Err` the document may hold
/// part of the message: the caller must drop it (and reload from its store).
pub fn receive(
    doc: &mut Automerge,
    state: &mut sync::State,
    message: sync::Message,
) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(|| {
        doc.receive_sync_message(state, message)
    })) {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err("sync data the decoder could not handle".into()),
    }
}
