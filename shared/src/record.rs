//! What every Paktum document has in common: kind and schema version, loading from
//! untrusted bytes, committing a change with who/when, field conflicts and history.

use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{
    ActorId, Automerge, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value,
};

use crate::error::ModelError;
use crate::id::DocumentId;

/// What every typed record (`ContactDoc`, `EmployerDoc`: a newtype over [`RecordDoc`])
/// has the same way: taking a record of its kind, loading, lending out, merging.
macro_rules! typed_record {
    ($name:ident, $kind:expr) => {
        impl $name {
            pub fn from_record(doc: RecordDoc) -> Result<Self, ModelError> {
                doc.expect_kind($kind).map(Self)
            }

            pub fn load(id: DocumentId, bytes: &[u8]) -> Result<Self, ModelError> {
                Self::from_record(RecordDoc::load(id, bytes)?)
            }

            pub fn record(&self) -> &RecordDoc {
                &self.0
            }

            pub fn into_record(self) -> RecordDoc {
                self.0
            }

            /// Merges another replica's copy of this record.
            pub fn merge(&mut self, other: &$name) -> Result<(), ModelError> {
                self.0.merge(&other.0)
            }
        }
    };
}
pub(crate) use typed_record;

/// The schema version written into every document as the root key `schema`.
pub const SCHEMA_VERSION: i64 = 1;

/// Longest free text we accept in a one-line field; notes may be longer.
pub const LINE_MAX: usize = 200;
pub const TEXT_MAX: usize = 20_000;

/// What a document holds (root key `kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Contact,
    Employer,
    Caseload,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Contact => "contact",
            Kind::Employer => "employer",
            Kind::Caseload => "caseload",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "contact" => Some(Kind::Contact),
            "employer" => Some(Kind::Employer),
            "caseload" => Some(Kind::Caseload),
            _ => None,
        }
    }
}

/// Who makes a change and when: every operation takes one, so `shared` needs no clock.
#[derive(Clone, Debug)]
pub struct Editor {
    /// The device's Automerge actor (one per device, kept in its store).
    pub actor: ActorId,
    /// The worker's display name, recorded in each change for the history.
    pub worker: String,
    /// Milliseconds since the Unix epoch.
    pub now_ms: i64,
}

impl Editor {
    pub fn new(actor: ActorId, worker: impl Into<String>, now_ms: i64) -> Self {
        Self {
            actor,
            worker: worker.into(),
            now_ms,
        }
    }

    /// The same editor a little later (tests and batch imports).
    pub fn at(&self, now_ms: i64) -> Self {
        Self {
            now_ms,
            ..self.clone()
        }
    }
}

/// One of several values a field got concurrently (an Automerge conflict).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Concurrent {
    pub value: String,
    pub set_by: String,
    pub at_ms: i64,
}

/// An Automerge document known to be a Paktum record of a supported schema.
#[derive(Clone, Debug)]
pub struct RecordDoc {
    id: DocumentId,
    kind: Kind,
    doc: Automerge,
}

impl RecordDoc {
    /// Reads stored or received bytes (one or several concatenated chunks).
    /// Never panics: bytes that are not a Paktum record give an error.
    pub fn load(id: DocumentId, bytes: &[u8]) -> Result<Self, ModelError> {
        let doc = crate::untrusted::load(bytes).map_err(ModelError::Corrupt)?;
        Self::from_automerge(id, doc)
    }

    /// Wraps a document that arrived by sync, checking it is a record we understand.
    pub fn from_automerge(id: DocumentId, doc: Automerge) -> Result<Self, ModelError> {
        // Written as an int; JS clients may write a float. Anything else is not ours.
        let schema = match doc.get(ROOT, "schema")? {
            Some((Value::Scalar(v), _)) => match v.as_ref() {
                ScalarValue::Int(n) => *n,
                ScalarValue::Uint(n) => i64::try_from(*n).unwrap_or(i64::MAX),
                ScalarValue::F64(f) if f.fract() == 0.0 => *f as i64,
                _ => return Err(ModelError::Corrupt("schema is not a number".into())),
            },
            _ => return Err(ModelError::Corrupt("no schema version".into())),
        };
        if schema < 1 {
            return Err(ModelError::Corrupt("schema version below 1".into()));
        }
        if schema > SCHEMA_VERSION {
            return Err(ModelError::NewerSchema(schema as u64));
        }
        let kind = str_at(&doc, &ROOT, "kind")
            .and_then(|k| Kind::parse(&k))
            .ok_or_else(|| ModelError::Corrupt("unknown kind".into()))?;
        Ok(Self { id, kind, doc })
    }

    /// Starts a new record: the first change writes kind, schema and whatever `init` adds.
    pub(crate) fn create(
        id: DocumentId,
        kind: Kind,
        editor: &Editor,
        what: &str,
        init: impl FnOnce(&mut Transaction<'_>) -> Result<(), ModelError>,
    ) -> Result<Self, ModelError> {
        let mut doc = Automerge::new().with_actor(editor.actor.clone());
        let mut tx = doc.transaction();
        tx.put(ROOT, "schema", SCHEMA_VERSION)?;
        tx.put(ROOT, "kind", kind.as_str())?;
        tx.put(ROOT, "id", id.to_string())?;
        tx.put(ROOT, "created_at", ScalarValue::Timestamp(editor.now_ms))?;
        tx.put(ROOT, "updated_at", ScalarValue::Timestamp(editor.now_ms))?;
        if let Err(e) = init(&mut tx) {
            tx.rollback();
            return Err(e);
        }
        tx.commit_with(commit_options(editor, what));
        Ok(Self { id, kind, doc })
    }

    pub(crate) fn expect_kind(self, kind: Kind) -> Result<Self, ModelError> {
        if self.kind == kind {
            Ok(self)
        } else {
            Err(ModelError::WrongKind {
                expected: kind.as_str(),
                found: self.kind.as_str().into(),
            })
        }
    }

    /// Applies one user operation as one Automerge change; nothing is written if `f` fails.
    pub(crate) fn change<T>(
        &mut self,
        editor: &Editor,
        what: &str,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, ModelError>,
    ) -> Result<T, ModelError> {
        if self.doc.get_actor() != &editor.actor {
            self.doc.set_actor(editor.actor.clone());
        }
        let mut tx = self.doc.transaction();
        match f(&mut tx) {
            Ok(out) => {
                tx.put(ROOT, "updated_at", ScalarValue::Timestamp(editor.now_ms))?;
                tx.commit_with(commit_options(editor, what));
                Ok(out)
            }
            Err(e) => {
                tx.rollback();
                Err(e)
            }
        }
    }

    pub fn id(&self) -> DocumentId {
        self.id
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn doc(&self) -> &Automerge {
        &self.doc
    }

    /// For the sync layer only: receiving sync messages changes the document.
    pub fn doc_mut(&mut self) -> &mut Automerge {
        &mut self.doc
    }

    pub fn into_doc(self) -> Automerge {
        self.doc
    }

    /// Merges another replica's copy of the same record.
    pub fn merge(&mut self, other: &RecordDoc) -> Result<(), ModelError> {
        if other.id != self.id {
            return Err(ModelError::Invalid {
                field: "document",
                value: other.id.to_string(),
            });
        }
        self.doc.merge(&mut other.doc.clone())?;
        Ok(())
    }

    pub fn heads(&self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    pub fn save(&self) -> Vec<u8> {
        self.doc.save()
    }

    /// The changes since `heads`, as one chunk to append to storage.
    pub fn save_after(&self, heads: &[ChangeHash]) -> Vec<u8> {
        self.doc.save_after(heads)
    }

    /// The latest `updated_at` any replica wrote.
    pub fn updated_at(&self) -> i64 {
        all_values(&self.doc, &ROOT, "updated_at")
            .into_iter()
            .filter_map(|v| scalar_i64(&v))
            .max()
            .unwrap_or(0)
    }

    pub fn created_at(&self) -> i64 {
        i64_at(&self.doc, &ROOT, "created_at").unwrap_or(0)
    }

    /// The team whose caseload lists the record, if it names one.
    pub fn team(&self) -> Option<String> {
        owner(&self.doc).map(|o| o.team)
    }

    /// The root fields among `fields` that hold concurrent values ("changed by
    /// both"), each with its values; a field with one value is left out.
    pub(crate) fn root_conflicts<F: Ord + Copy>(
        &self,
        fields: impl IntoIterator<Item = F>,
        key: impl Fn(F) -> &'static str,
    ) -> std::collections::BTreeMap<F, Vec<Concurrent>> {
        fields
            .into_iter()
            .filter_map(|field| {
                let values = self.conflicts(&ROOT, key(field));
                (!values.is_empty()).then_some((field, values))
            })
            .collect()
    }

    /// The concurrent values of `key` in `obj`, with who set each; empty when there is one.
    pub(crate) fn conflicts(&self, obj: &ObjId, key: &str) -> Vec<Concurrent> {
        let Ok(values) = self.doc.get_all(obj, key) else {
            return Vec::new();
        };
        if values.len() < 2 {
            return Vec::new();
        }
        // Two people who set the same value agree: nothing to choose between.
        let first = display_value(&values[0].0);
        if values.iter().all(|(v, _)| display_value(v) == first) {
            return Vec::new();
        }
        values
            .into_iter()
            .map(|(value, op)| {
                let (set_by, at_ms) = self
                    .doc
                    .hash_for_opid(&op)
                    .and_then(|h| self.doc.get_change_meta_by_hash(&h))
                    .map(|meta| (parse_message(meta.message.as_deref()).0, meta.timestamp))
                    .unwrap_or_default();
                Concurrent {
                    value: display_value(&value),
                    set_by,
                    at_ms,
                }
            })
            .collect()
    }
}

pub(crate) fn commit_options(editor: &Editor, what: &str) -> CommitOptions {
    // The change timestamp is in milliseconds, as automerge-js writes it.
    CommitOptions::default()
        .with_message(format!("{}\t{}", editor.worker, what))
        .with_time(editor.now_ms)
}

pub(crate) fn parse_message(message: Option<&str>) -> (String, String) {
    match message {
        Some(m) => match m.split_once('\t') {
            Some((by, what)) => (by.to_string(), what.to_string()),
            None => (String::new(), m.to_string()),
        },
        None => (String::new(), String::new()),
    }
}

pub(crate) fn display_value(value: &Value<'_>) -> String {
    match value {
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Str(s) => s.to_string(),
            ScalarValue::Int(n) => n.to_string(),
            ScalarValue::Uint(n) => n.to_string(),
            ScalarValue::Boolean(b) => b.to_string(),
            ScalarValue::Null => String::new(),
            other => other.to_string(),
        },
        Value::Object(_) => String::new(),
    }
}

// --- small readers used by the record modules; all tolerate missing or odd values ---

pub(crate) fn all_values<'a>(doc: &'a Automerge, obj: &ObjId, key: &str) -> Vec<Value<'a>> {
    doc.get_all(obj, key)
        .map(|v| v.into_iter().map(|(v, _)| v).collect())
        .unwrap_or_default()
}

fn scalar_i64(value: &Value<'_>) -> Option<i64> {
    match value {
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Int(n) | ScalarValue::Timestamp(n) => Some(*n),
            ScalarValue::Uint(n) => i64::try_from(*n).ok(),
            ScalarValue::F64(f) => Some(*f as i64),
            _ => None,
        },
        Value::Object(_) => None,
    }
}

/// Whose a record is: the fields sharing is decided by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub team: String,
    pub assigned_worker: Option<String>,
}

/// The team and assigned worker of any document, read without checking that it is a
/// whole Paktum record (the relay routes documents before anyone reads them); `None`
/// when it names no team.
pub fn owner(doc: &Automerge) -> Option<Owner> {
    Some(Owner {
        team: str_at(doc, &ROOT, "team")?,
        assigned_worker: str_at(doc, &ROOT, "assigned_worker"),
    })
}

pub(crate) fn str_at(doc: &Automerge, obj: &ObjId, key: &str) -> Option<String> {
    match doc.get(obj, key).ok()?? {
        (Value::Scalar(s), _) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        (Value::Object(ObjType::Text), id) => doc.text(&id).ok(),
        _ => None,
    }
}

/// A string field where empty means absent.
pub(crate) fn opt_str_at(doc: &Automerge, obj: &ObjId, key: &str) -> Option<String> {
    str_at(doc, obj, key).filter(|s| !s.is_empty())
}

pub(crate) fn i64_at(doc: &Automerge, obj: &ObjId, key: &str) -> Option<i64> {
    doc.get(obj, key).ok()?.and_then(|(v, _)| scalar_i64(&v))
}

pub(crate) fn bool_at(doc: &Automerge, obj: &ObjId, key: &str) -> Option<bool> {
    match doc.get(obj, key).ok()?? {
        (Value::Scalar(s), _) => match s.as_ref() {
            ScalarValue::Boolean(b) => Some(*b),
            _ => None,
        },
        _ => None,
    }
}

pub(crate) fn obj_at(doc: &Automerge, obj: &ObjId, key: &str, ty: ObjType) -> Option<ObjId> {
    match doc.get(obj, key).ok()?? {
        (Value::Object(t), id) if t == ty => Some(id),
        _ => None,
    }
}

/// The keys of a map object that hold maps (notes, visits, referrals …).
pub(crate) fn child_maps(doc: &Automerge, obj: &ObjId) -> Vec<(String, ObjId)> {
    doc.map_range(obj, ..)
        .filter_map(|item| match item.value {
            automerge::ValueRef::Object(ObjType::Map) => Some((item.key.to_string(), item.id())),
            _ => None,
        })
        .collect()
}

/// The keys of a map used as a set (tags).
pub(crate) fn set_keys(doc: &Automerge, obj: &ObjId, key: &str) -> Vec<String> {
    obj_at(doc, obj, key, ObjType::Map)
        .map(|set| doc.keys(&set).collect())
        .unwrap_or_default()
}

// --- validation of user input ---

/// A required one-line value: trimmed, not empty, not too long.
pub(crate) fn required(field: &'static str, value: &str) -> Result<String, ModelError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ModelError::Empty { field });
    }
    limited(field, value, LINE_MAX)
}

/// An optional one-line value: empty means "clear it".
pub(crate) fn optional(
    field: &'static str,
    value: Option<&str>,
) -> Result<Option<String>, ModelError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => limited(field, v, LINE_MAX).map(Some),
    }
}

pub(crate) fn limited(field: &'static str, value: &str, max: usize) -> Result<String, ModelError> {
    if value.chars().count() > max {
        return Err(ModelError::TooLong { field, max });
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(ModelError::Invalid {
            field,
            value: value.chars().take(40).collect(),
        });
    }
    Ok(value.to_string())
}

pub(crate) fn phone(value: Option<&str>) -> Result<Option<String>, ModelError> {
    let Some(v) = optional("phone", value)? else {
        return Ok(None);
    };
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let allowed = v
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()/.".contains(c));
    if !allowed || !(5..=20).contains(&digits) {
        return Err(ModelError::Invalid {
            field: "phone number",
            value: v,
        });
    }
    Ok(Some(v))
}

pub(crate) fn email(value: Option<&str>) -> Result<Option<String>, ModelError> {
    let Some(v) = optional("email", value)? else {
        return Ok(None);
    };
    let valid = match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    } && !v.contains(char::is_whitespace);
    if !valid {
        return Err(ModelError::Invalid {
            field: "email address",
            value: v,
        });
    }
    Ok(Some(v))
}

/// Writes an optional string: `None` deletes the key.
pub(crate) fn put_opt(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    key: &str,
    value: Option<String>,
) -> Result<(), ModelError> {
    match value {
        Some(v) => tx.put(obj, key, v)?,
        None => {
            if tx.get(obj, key)?.is_some() {
                tx.delete(obj, key)?;
            }
        }
    }
    Ok(())
}

/// Creates a text object holding `text` (notes, visit reports: edits merge per character).
pub(crate) fn put_text(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    key: &str,
    text: &str,
) -> Result<(), ModelError> {
    let id = tx.put_object(obj, key, ObjType::Text)?;
    tx.splice_text(&id, 0, 0, text)?;
    Ok(())
}

/// Replaces the content of a text object with a minimal diff, so concurrent edits merge.
pub(crate) fn update_text(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    key: &str,
    text: &str,
) -> Result<(), ModelError> {
    match obj_at_tx(tx, obj, key, ObjType::Text) {
        Some(id) => tx.update_text(&id, text)?,
        None => put_text(tx, obj, key, text)?,
    }
    Ok(())
}

pub(crate) fn obj_at_tx(
    tx: &Transaction<'_>,
    obj: &ObjId,
    key: &str,
    ty: ObjType,
) -> Option<ObjId> {
    match tx.get(obj, key).ok()?? {
        (Value::Object(t), id) if t == ty => Some(id),
        _ => None,
    }
}

/// Gets or creates a map under `key` (for sets and keyed collections).
pub(crate) fn map_at_tx(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    key: &str,
) -> Result<ObjId, ModelError> {
    match obj_at_tx(tx, obj, key, ObjType::Map) {
        Some(id) => Ok(id),
        None => Ok(tx.put_object(obj, key, ObjType::Map)?),
    }
}

/// Writes a tag set as map keys (concurrent additions of different tags both survive).
pub(crate) fn put_tags(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    key: &str,
    tags: &[String],
) -> Result<(), ModelError> {
    let set = map_at_tx(tx, obj, key)?;
    let existing: Vec<String> = tx.keys(&set).collect();
    for old in existing.iter().filter(|t| !tags.contains(t)) {
        tx.delete(&set, old.as_str())?;
    }
    for tag in tags.iter().filter(|t| !existing.contains(t)) {
        tx.put(&set, tag.as_str(), true)?;
    }
    Ok(())
}

pub(crate) fn clean_tags(tags: &[String]) -> Result<Vec<String>, ModelError> {
    let mut out = Vec::new();
    for tag in tags {
        let tag = tag.trim().to_lowercase();
        if tag.is_empty() {
            continue;
        }
        let tag = limited("tag", &tag, 40)?;
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    Ok(out)
}

/// A short random id for items inside a record (notes, visits); unique across devices.
pub(crate) fn item_id() -> String {
    let id = DocumentId::random();
    id.as_bytes()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

mod history;
mod items;
pub use history::{FieldChange, HistoryEntry};
#[cfg(test)]
mod tests;

pub(crate) use items::{is_removed, live_items};
