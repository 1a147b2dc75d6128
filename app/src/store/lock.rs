//! The PIN and what it guards: the wrapped data key kept in the clear, unlocking and
//! locking, the first PIN (everything stored so far encrypted in one transaction),
//! erasing what the relay has after too many wrong PINs, and how a value is sealed
//! and opened. Every read and write of `store.rs` goes through `sealing`/`opened`.

use automerge::ChangeHash;
use js_sys::{Array, Object, Reflect, Uint8Array};
use paktum_shared::DocumentId;
use paktum_shared::device::heads_to_bytes;
use rexie::{KeyRange, TransactionMode};
use wasm_bindgen::{JsCast, JsValue};

use super::*;

/// What the device store holds under [`LOCK_KEY`].
#[derive(Clone, Debug, PartialEq)]
pub(super) struct LockRecord {
    wrapped: Wrapped,
    failures: u32,
    /// When the last wrong PIN was typed (ms since the epoch; 0: not kept), so a
    /// reload does not restart the wait.
    failed_at: f64,
    /// Erased after too many wrong PINs: what the relay had is gone.
    wiped: bool,
}

impl LockRecord {
    pub(super) fn to_js(&self) -> JsValue {
        object(&[
            (
                "salt",
                Uint8Array::from(self.wrapped.salt.as_slice()).into(),
            ),
            (
                "iterations",
                JsValue::from_f64(f64::from(self.wrapped.iterations)),
            ),
            ("key", Uint8Array::from(self.wrapped.key.as_slice()).into()),
            ("failures", JsValue::from_f64(f64::from(self.failures))),
            ("failedAt", JsValue::from_f64(self.failed_at)),
            ("wiped", JsValue::from_bool(self.wiped)),
        ])
    }

    pub(super) fn from_js(value: &JsValue) -> Option<Self> {
        Some(LockRecord {
            wrapped: Wrapped {
                salt: get(value, "salt").dyn_into_bytes()?,
                iterations: get(value, "iterations").as_f64()? as u32,
                key: get(value, "key").dyn_into_bytes()?,
            },
            failures: get(value, "failures").as_f64().unwrap_or(0.0) as u32,
            failed_at: get(value, "failedAt").as_f64().unwrap_or(0.0),
            wiped: get(value, "wiped").as_bool().unwrap_or(false),
        })
    }
}

impl Store {
    /// Test hook: every string and byte array stored in the three stores, as bytes,
    /// keys included (what a look at the disk could find).
    #[cfg(test)]
    pub(crate) async fn raw_contents(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        fn collect(value: &JsValue, out: &mut Vec<Vec<u8>>) {
            if let Some(s) = value.as_string() {
                out.push(s.into_bytes());
            } else if let Some(bytes) = value.clone().dyn_into_bytes() {
                out.push(bytes);
            } else if value.is_object() {
                for entry in Object::values(value.unchecked_ref()).iter() {
                    collect(&entry, out);
                }
            }
        }
        let mut out = Vec::new();
        for name in [CHUNKS, SYNC_STATES, DEVICE] {
            let tx = self
                .db
                .transaction(&[name], TransactionMode::ReadOnly)
                .map_err(|_| StoreError::Read)?;
            let rows = tx
                .store(name)
                .map_err(|_| StoreError::Read)?
                .scan(None, None, None, None)
                .await
                .map_err(|_| StoreError::Read)?;
            for (key, value) in rows {
                collect(&key, &mut out);
                collect(&value, &mut out);
            }
        }
        Ok(out)
    }

    /// Whether a PIN protects this device's data.
    pub fn has_pin(&self) -> bool {
        self.lock.borrow().is_some()
    }

    /// Whether a PIN is set and the data key is not in memory.
    pub fn is_locked(&self) -> bool {
        self.has_pin() && self.cipher.borrow().is_none()
    }

    /// Wrong PINs in a row so far.
    pub fn failures(&self) -> u32 {
        self.lock.borrow().as_ref().map_or(0, |l| l.failures)
    }

    /// When the last wrong PIN was typed (ms since the epoch; 0 when not known).
    pub fn failed_at(&self) -> f64 {
        self.lock.borrow().as_ref().map_or(0.0, |l| l.failed_at)
    }

    /// Whether too many wrong PINs have erased what the relay had.
    pub fn is_wiped(&self) -> bool {
        self.lock.borrow().as_ref().is_some_and(|l| l.wiped)
    }

    /// Keeps, in the clear, which records have changes the relay has not confirmed
    /// (ids only): [`Store::erase_synced`] must know without the key.
    pub async fn save_unsynced(&self, ids: &[DocumentId]) -> Result<(), StoreError> {
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let json = serde_json::to_string(&ids).map_err(|_| StoreError::Write)?;
        self.put_clear(UNSYNCED_KEY, &JsValue::from_str(&json))
            .await
    }

    /// Writes one of the device-store values that stay in the clear (`lock`, `unsynced`).
    async fn put_clear(&self, key: &str, value: &JsValue) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction(&[DEVICE], TransactionMode::ReadWrite)
            .map_err(|_| StoreError::Write)?;
        tx.store(DEVICE)
            .map_err(|_| StoreError::Write)?
            .put(value, Some(&key.into()))
            .await
            .map_err(|_| StoreError::Write)?;
        finish(tx).await
    }

    /// After too many wrong PINs: erases every record the relay already has (with its
    /// sync states), the index and its snapshot, and the member list, in one
    /// transaction. Kept, still encrypted: the records listed unsynced, the identity
    /// and the wrapped key (the PIN can still open them, once the coordinator has
    /// helped). Without a list every record is kept: not knowing, nothing unsynced
    /// may go. Returns how many records were erased; run [`Store::scrub`] after.
    pub async fn erase_synced(&self) -> Result<usize, StoreError> {
        let keep: Option<Vec<String>> = self
            .get_one(DEVICE, UNSYNCED_KEY.into())
            .await?
            .and_then(|v| v.as_string())
            .and_then(|json| serde_json::from_str(&json).ok());
        let tx = self
            .db
            .transaction(&[CHUNKS, SYNC_STATES, DEVICE], TransactionMode::ReadWrite)
            .map_err(|_| StoreError::Write)?;
        let chunks = tx.store(CHUNKS).map_err(|_| StoreError::Write)?;
        let mut erased = 0;
        if let Some(keep) = &keep {
            let keys = chunks
                .get_all_keys(None, None)
                .await
                .map_err(|_| StoreError::Write)?;
            let mut docs: Vec<String> = keys
                .iter()
                .filter_map(|k| Array::from(k).get(0).as_string())
                .filter(|doc| !keep.contains(doc))
                .collect();
            docs.dedup();
            for doc in &docs {
                let all = KeyRange::bound(&key_seq(doc, 0), &key_seq(doc, u64::MAX), None, None)
                    .map_err(|_| StoreError::Write)?;
                chunks
                    .delete(all.into())
                    .await
                    .map_err(|_| StoreError::Write)?;
            }
            let states = tx.store(SYNC_STATES).map_err(|_| StoreError::Write)?;
            let keys = states
                .get_all_keys(None, None)
                .await
                .map_err(|_| StoreError::Write)?;
            for key in keys.iter() {
                let doc = Array::from(key).get(1).as_string().unwrap_or_default();
                if !keep.contains(&doc) {
                    states
                        .delete(key.clone())
                        .await
                        .map_err(|_| StoreError::Write)?;
                }
            }
            erased = docs.len();
        }
        let device = tx.store(DEVICE).map_err(|_| StoreError::Write)?;
        for key in [SNAPSHOT_KEY, MEMBERS_KEY] {
            device
                .delete(key.into())
                .await
                .map_err(|_| StoreError::Write)?;
        }
        let mut record = self.lock.borrow().clone().ok_or(StoreError::Write)?;
        record.wiped = true;
        device
            .put(&record.to_js(), Some(&LOCK_KEY.into()))
            .await
            .map_err(|_| StoreError::Write)?;
        finish(tx).await?;
        *self.lock.borrow_mut() = Some(record);
        Ok(erased)
    }

    /// Forgets the data key: nothing can be read or written until [`Store::unlock`].
    pub fn lock(&self) {
        self.cipher.borrow_mut().take();
    }

    /// Unwraps the data key with `pin`. A wrong PIN is counted on disk.
    pub async fn unlock(&self, pin: &str) -> Result<(), UnlockError> {
        let Some(mut record) = self.lock.borrow().clone() else {
            return Ok(());
        };
        match Cipher::unlock(pin, &record.wrapped).await {
            Ok(cipher) => {
                if record.failures > 0 || record.wiped {
                    record.failures = 0;
                    record.failed_at = 0.0;
                    record.wiped = false;
                    self.put_lock(&record).await.map_err(UnlockError::Store)?;
                }
                *self.cipher.borrow_mut() = Some(cipher);
                Ok(())
            }
            Err(_) => Err(self.count_wrong_pin(record).await),
        }
    }

    async fn count_wrong_pin(&self, mut record: LockRecord) -> UnlockError {
        record.failures += 1;
        record.failed_at = js_sys::Date::now();
        match self.put_lock(&record).await {
            Ok(()) => UnlockError::WrongPin {
                failures: record.failures,
            },
            Err(e) => UnlockError::Store(e),
        }
    }

    /// Changes the PIN: the data key is wrapped again by `new` (nothing stored is
    /// encrypted again). A wrong `old` counts as a wrong PIN at the lock screen.
    pub async fn change_pin(&self, old: &str, new: &str) -> Result<(), UnlockError> {
        let Some(mut record) = self.lock.borrow().clone() else {
            return Err(UnlockError::Store(StoreError::Write));
        };
        if self.is_locked() {
            return Err(UnlockError::Store(StoreError::Locked));
        }
        match Cipher::rewrap(old, &record.wrapped, new).await {
            Ok(wrapped) => {
                record.wrapped = wrapped;
                record.failures = 0;
                record.failed_at = 0.0;
                self.put_lock(&record).await.map_err(UnlockError::Store)
            }
            Err(_) => Err(self.count_wrong_pin(record).await),
        }
    }

    pub(super) async fn put_lock(&self, record: &LockRecord) -> Result<(), StoreError> {
        self.put_clear(LOCK_KEY, &record.to_js()).await?;
        *self.lock.borrow_mut() = Some(record.clone());
        Ok(())
    }

    /// Sets the first PIN: a new data key, and everything stored so far encrypted with
    /// it in one transaction (the plain values stay in LevelDB's files until a
    /// compaction: run [`Store::scrub`] after). Refused while locked; with a PIN set
    /// already it changes nothing (a new PIN would need the old one).
    /// Returns how many values were there to encrypt.
    pub async fn set_pin(&self, pin: &str) -> Result<usize, StoreError> {
        if self.has_pin() {
            return Err(StoreError::Write);
        }
        let (cipher, wrapped) = Cipher::create(pin).await.map_err(|_| StoreError::Write)?;
        // Read everything plain, seal it outside any transaction (an IndexedDB
        // transaction commits when a turn passes without a request), then write.
        let chunks = self.get_all(CHUNKS, None).await?;
        let states = self.get_all(SYNC_STATES, None).await?;
        let device = {
            let tx = self
                .db
                .transaction(&[DEVICE], TransactionMode::ReadOnly)
                .map_err(|_| StoreError::Read)?;
            tx.store(DEVICE)
                .map_err(|_| StoreError::Read)?
                .scan(None, None, None, None)
                .await
                .map_err(|_| StoreError::Read)?
        };
        let sealing = Some(cipher.clone());
        let mut sealed_chunks = Vec::with_capacity(chunks.len());
        for value in &chunks {
            let (doc, seq) = (get(value, "doc"), get(value, "seq"));
            let bytes = get(value, "bytes").dyn_into_bytes().unwrap_or_default();
            let heads = get(value, "heads").dyn_into_bytes().unwrap_or_default();
            let mut plain = (heads.len() as u32).to_le_bytes().to_vec();
            plain.extend(heads);
            plain.extend(bytes);
            let sealed = seal_with(&sealing, &plain).await?;
            sealed_chunks.push(object(&[("doc", doc), ("seq", seq), ("sealed", sealed)]));
        }
        let mut sealed_states = Vec::with_capacity(states.len());
        for value in &states {
            let bytes = get(value, "bytes").dyn_into_bytes().unwrap_or_default();
            sealed_states.push(object(&[
                ("relay", get(value, "relay")),
                ("doc", get(value, "doc")),
                ("sealed", seal_with(&sealing, &bytes).await?),
            ]));
        }
        let mut sealed_device = Vec::new();
        for (key, value) in device {
            let Some(name) = key.as_string() else {
                continue;
            };
            if name.starts_with(FILLER) || name == LOCK_KEY || name == UNSYNCED_KEY {
                continue;
            }
            sealed_device.push((key, seal_device_value(&sealing, &value).await?));
        }
        let record = LockRecord {
            wrapped,
            failures: 0,
            failed_at: 0.0,
            wiped: false,
        };
        let count = sealed_chunks.len() + sealed_states.len() + sealed_device.len();
        let tx = self
            .db
            .transaction(&[CHUNKS, SYNC_STATES, DEVICE], TransactionMode::ReadWrite)
            .map_err(|_| StoreError::Write)?;
        let store = tx.store(CHUNKS).map_err(|_| StoreError::Write)?;
        store
            .put_all(sealed_chunks.into_iter().map(|v| (v, None)))
            .await
            .map_err(|_| StoreError::Write)?;
        let store = tx.store(SYNC_STATES).map_err(|_| StoreError::Write)?;
        store
            .put_all(sealed_states.into_iter().map(|v| (v, None)))
            .await
            .map_err(|_| StoreError::Write)?;
        let store = tx.store(DEVICE).map_err(|_| StoreError::Write)?;
        store
            .put_all(
                sealed_device
                    .into_iter()
                    .map(|(k, v)| (v, Some(k)))
                    .chain([(record.to_js(), Some(JsValue::from_str(LOCK_KEY)))]),
            )
            .await
            .map_err(|_| StoreError::Write)?;
        finish(tx).await?;
        *self.lock.borrow_mut() = Some(record);
        *self.cipher.borrow_mut() = Some(cipher);
        Ok(count)
    }

    /// The key values are sealed with: `None` without a PIN; refused while locked, so
    /// nothing is ever written in the clear once a PIN is set.
    pub(super) fn sealing(&self) -> Result<Option<Cipher>, StoreError> {
        match (self.has_pin(), self.cipher.borrow().clone()) {
            (false, _) => Ok(None),
            (true, Some(cipher)) => Ok(Some(cipher)),
            (true, None) => Err(StoreError::Locked),
        }
    }

    /// The bytes of a value's payload: `sealed` opened, or the plain `field`.
    pub(super) async fn opened(
        &self,
        value: &JsValue,
        field: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let sealed = get(value, "sealed");
        if sealed.is_undefined() {
            return Ok(get(value, field).dyn_into_bytes());
        }
        let cipher = self.cipher.borrow().clone().ok_or(StoreError::Locked)?;
        let Some(sealed) = sealed.dyn_into_bytes() else {
            return Ok(None);
        };
        // A value that does not open is damaged, as a plain one that does not parse.
        Ok(cipher.open(&sealed).await.ok())
    }

    /// A device-store value as the JSON string it was saved as.
    pub(super) async fn get_device(&self, key: &str) -> Result<Option<String>, StoreError> {
        let Some(value) = self.get_one(DEVICE, key.into()).await? else {
            return Ok(None);
        };
        if let Some(json) = value.as_string() {
            return Ok(Some(json));
        }
        Ok(self
            .opened(&value, "sealed")
            .await?
            .and_then(|bytes| String::from_utf8(bytes).ok()))
    }
}

/// A payload field: the bytes sealed under `sealed`, or plain under `bytes`.
pub(super) async fn payload(
    sealing: &Option<Cipher>,
    bytes: &[u8],
) -> Result<(&'static str, JsValue), StoreError> {
    match sealing {
        Some(_) => Ok(("sealed", seal_with(sealing, bytes).await?)),
        None => Ok(("bytes", Uint8Array::from(bytes).into())),
    }
}

pub(super) async fn seal_with(
    sealing: &Option<Cipher>,
    plain: &[u8],
) -> Result<JsValue, StoreError> {
    match sealing {
        Some(cipher) => {
            let sealed = cipher.seal(plain).await.map_err(|_| StoreError::Write)?;
            Ok(Uint8Array::from(sealed.as_slice()).into())
        }
        None => Ok(Uint8Array::from(plain).into()),
    }
}

/// A chunk entry: document and sequence number in the clear (the key), the bytes and
/// heads sealed together (heads length as 4 bytes LE, heads, bytes) with a PIN.
pub(super) async fn sealed_chunk(
    sealing: &Option<Cipher>,
    doc: String,
    seq: u64,
    bytes: &[u8],
    heads: &[ChangeHash],
) -> Result<JsValue, StoreError> {
    if sealing.is_none() {
        return Ok(chunk_value(&doc, seq, bytes, heads));
    }
    let heads = heads_to_bytes(heads);
    let mut plain = (heads.len() as u32).to_le_bytes().to_vec();
    plain.extend(&heads);
    plain.extend(bytes);
    Ok(object(&[
        ("doc", JsValue::from_str(&doc)),
        ("seq", JsValue::from_f64(seq as f64)),
        ("sealed", seal_with(sealing, &plain).await?),
    ]))
}

/// The heads and the bytes of an opened chunk.
pub(super) fn split_chunk(plain: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u32::from_le_bytes(plain.get(..4)?.try_into().ok()?) as usize;
    let rest = plain.get(4..)?;
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// A device-store value sealed: a JSON string becomes `{sealed}`, an object with
/// `bytes` (the snapshot) keeps its other fields and seals the bytes. Without a PIN
/// the value is kept as it is.
pub(super) async fn seal_device_value(
    sealing: &Option<Cipher>,
    value: &JsValue,
) -> Result<JsValue, StoreError> {
    if sealing.is_none() || !get(value, "sealed").is_undefined() {
        return Ok(value.clone());
    }
    if let Some(json) = value.as_string() {
        return Ok(object(&[(
            "sealed",
            seal_with(sealing, json.as_bytes()).await?,
        )]));
    }
    let Some(bytes) = get(value, "bytes").dyn_into_bytes() else {
        // A shape this version does not know: not kept in the clear.
        return Err(StoreError::Write);
    };
    let sealed = seal_with(sealing, &bytes).await?;
    let copy = Object::assign(&Object::new(), value.unchecked_ref());
    let _ = Reflect::delete_property(&copy, &JsValue::from_str("bytes"));
    let _ = Reflect::set(&copy, &JsValue::from_str("sealed"), &sealed);
    Ok(copy.into())
}
