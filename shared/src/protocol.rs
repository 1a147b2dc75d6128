//! The automerge-repo wire protocol (version "1"): CBOR maps exchanged over a
//! WebSocket, one message per frame. Decoding never panics; anything malformed is a
//! [`DecodeError`] that the receiver turns into closing the connection.

use ciborium::Value;
use thiserror::Error;

use crate::id::DocumentId;
use crate::refusal::Code;

pub const PROTOCOL_VERSION: &str = "1";

/// Longest peer/storage/session id we accept; real ones are well under 100 characters.
const ID_MAX: usize = 200;

/// Sent in `join` and `peer`: lets the other side keep sync state for our storage.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PeerMetadata {
    pub storage_id: Option<String>,
    pub is_ephemeral: bool,
}

/// The heads one storage has of a document, as gossiped in `remote-heads-changed`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteHeads {
    pub storage_id: String,
    pub heads: Vec<String>,
    pub timestamp: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Join {
        sender_id: String,
        supported_protocol_versions: Vec<String>,
        metadata: Option<PeerMetadata>,
    },
    Peer {
        sender_id: String,
        selected_protocol_version: String,
        target_id: String,
        metadata: Option<PeerMetadata>,
    },
    Leave {
        sender_id: String,
    },
    /// Like `sync`, but the sender has no copy and wants `doc-unavailable` if we lack it too.
    Request {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
        data: Vec<u8>,
    },
    Sync {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
        data: Vec<u8>,
    },
    DocUnavailable {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
    },
    Ephemeral {
        sender_id: String,
        target_id: String,
        count: u64,
        session_id: String,
        document_id: DocumentId,
        data: Vec<u8>,
    },
    /// The sender closes the session: `message` for people (stock clients log it),
    /// `code` for programs (Paktum's own field; stock clients ignore it).
    Error {
        message: String,
        code: Option<Code>,
    },
    RemoteSubscriptionChange {
        sender_id: String,
        target_id: String,
        add: Vec<String>,
        remove: Vec<String>,
    },
    RemoteHeadsChanged {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
        new_heads: Vec<RemoteHeads>,
    },
    /// Paktum's own (relay to device): the document was erased; delete every copy.
    /// `index_id`: the index that listed it was rewritten without its history, so the
    /// device drops its copy of that index too and fetches it again.
    Erased {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
        index_id: Option<DocumentId>,
    },
    /// Paktum's own (device to relay): this device deleted an erased document.
    ErasureConfirmed {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
    },
    /// Paktum's own (relay to device): this device was withdrawn with a wipe. Hand in
    /// every change the relay has not confirmed (`paktum-unsynced`), then say
    /// `paktum-wipe-ready`. `quarantine`: the relay keeps them apart for the
    /// coordinator instead of merging them.
    Wipe {
        sender_id: String,
        target_id: String,
        quarantine: bool,
    },
    /// Paktum's own (device to relay): a document's changes the relay has not
    /// confirmed, as bytes `load_incremental` takes.
    Unsynced {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
        data: Vec<u8>,
    },
    /// Paktum's own (device to relay): every unsynced change was handed in.
    WipeReady {
        sender_id: String,
        target_id: String,
    },
    /// Paktum's own (relay to device): what was handed in is kept; erase everything
    /// local now. `code` and `message` say why, as an `error` does.
    Wiped {
        sender_id: String,
        target_id: String,
        kept: u64,
        message: String,
        code: Option<Code>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("not CBOR: {0}")]
    NotCbor(String),
    #[error("message is not a CBOR map")]
    NotAMap,
    #[error("missing field `{0}`")]
    Missing(&'static str),
    #[error("field `{0}` has the wrong type or is too long")]
    WrongType(&'static str),
    #[error("unknown message type `{0}`")]
    UnknownType(String),
    #[error("invalid document id")]
    BadDocumentId,
}

impl Message {
    /// The message type as it appears on the wire (for logs; never the payload).
    pub fn type_name(&self) -> &'static str {
        match self {
            Message::Join { .. } => "join",
            Message::Peer { .. } => "peer",
            Message::Leave { .. } => "leave",
            Message::Request { .. } => "request",
            Message::Sync { .. } => "sync",
            Message::DocUnavailable { .. } => "doc-unavailable",
            Message::Ephemeral { .. } => "ephemeral",
            Message::Error { .. } => "error",
            Message::RemoteSubscriptionChange { .. } => "remote-subscription-change",
            Message::RemoteHeadsChanged { .. } => "remote-heads-changed",
            Message::Erased { .. } => "paktum-erased",
            Message::ErasureConfirmed { .. } => "paktum-erasure-confirmed",
            Message::Wipe { .. } => "paktum-wipe",
            Message::Unsynced { .. } => "paktum-unsynced",
            Message::WipeReady { .. } => "paktum-wipe-ready",
            Message::Wiped { .. } => "paktum-wiped",
        }
    }

    pub fn document_id(&self) -> Option<DocumentId> {
        match self {
            Message::Request { document_id, .. }
            | Message::Sync { document_id, .. }
            | Message::DocUnavailable { document_id, .. }
            | Message::Ephemeral { document_id, .. }
            | Message::RemoteHeadsChanged { document_id, .. }
            | Message::Erased { document_id, .. }
            | Message::ErasureConfirmed { document_id, .. }
            | Message::Unsynced { document_id, .. } => Some(*document_id),
            _ => None,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let text = |s: &str| Value::Text(s.to_string());
        let mut map: Vec<(Value, Value)> = vec![(text("type"), text(self.type_name()))];
        let mut put = |k: &str, v: Value| map.push((text(k), v));
        match self {
            Message::Join {
                sender_id,
                supported_protocol_versions,
                metadata,
            } => {
                put("senderId", text(sender_id));
                put(
                    "supportedProtocolVersions",
                    Value::Array(
                        supported_protocol_versions
                            .iter()
                            .map(|v| text(v))
                            .collect(),
                    ),
                );
                if let Some(m) = metadata {
                    // automerge-repo-network-websocket 2.x reads `peerMetadata`; the
                    // written spec says `metadata`. Send both so either kind of peer
                    // learns our storage id.
                    put("peerMetadata", metadata_value(m));
                    put("metadata", metadata_value(m));
                }
            }
            Message::Peer {
                sender_id,
                selected_protocol_version,
                target_id,
                metadata,
            } => {
                put("senderId", text(sender_id));
                put("selectedProtocolVersion", text(selected_protocol_version));
                put("targetId", text(target_id));
                if let Some(m) = metadata {
                    // automerge-repo-network-websocket 2.x reads `peerMetadata`; the
                    // written spec says `metadata`. Send both so either kind of peer
                    // learns our storage id.
                    put("peerMetadata", metadata_value(m));
                    put("metadata", metadata_value(m));
                }
            }
            Message::Leave { sender_id } => put("senderId", text(sender_id)),
            Message::Request {
                sender_id,
                target_id,
                document_id,
                data,
            }
            | Message::Sync {
                sender_id,
                target_id,
                document_id,
                data,
            }
            | Message::Unsynced {
                sender_id,
                target_id,
                document_id,
                data,
            } => {
                put("senderId", text(sender_id));
                put("targetId", text(target_id));
                put("documentId", text(&document_id.to_string()));
                put("data", Value::Bytes(data.clone()));
            }
            Message::DocUnavailable {
                sender_id,
                target_id,
                document_id,
            }
            | Message::ErasureConfirmed {
                sender_id,
                target_id,
                document_id,
            } => {
                put("senderId", text(sender_id));
                put("targetId", text(target_id));
                put("documentId", text(&document_id.to_string()));
            }
            Message::Ephemeral {
                sender_id,
                target_id,
                count,
                session_id,
                document_id,
                data,
            } => {
                put("senderId", text(sender_id));
                put("targetId", text(target_id));
                put("count", Value::Integer((*count).into()));
                put("sessionId", text(session_id));
                put("documentId", text(&document_id.to_string()));
                put("data", Value::Bytes(data.clone()));
            }
            Message::Error { message, code } => {
                put("message", text(message));
                if let Some(code) = code {
                    put("code", text(code.as_str()));
                }
            }
            Message::Wipe {
                sender_id,
                target_id,
                quarantine,
            } => {
                put("senderId", text(sender_id));
                put("targetId", text(target_id));
                put("quarantine", Value::Bool(*quarantine));
            }
            Message::WipeReady {
                sender_id,
                target_id,
            } => {
                put("senderId", text(sender_id));
                put("targetId", text(target_id));
            }
            Message::Wiped {
                sender_id,
                target_id,
                kept,
                message,
                code,
            } => {
                put("senderId", text(sender_id));
                put("targetId", text(target_id));
                put("kept", Value::Integer((*kept).into()));
                put("message", text(message));
                if let Some(code) = code {
                    put("code", text(code.as_str()));
                }
            }
            Message::Erased {
                sender_id,
                target_id,
                document_id,
                index_id,
            } => {
                put("senderId", text(sender_id));
                put("targetId", text(target_id));
                put("documentId", text(&document_id.to_string()));
                if let Some(index) = index_id {
                    put("indexId", text(&index.to_string()));
                }
            }
            Message::RemoteSubscriptionChange {
                sender_id,
                target_id,
                add,
                remove,
            } => {
                put("senderId", text(sender_id));
                put("targetId", text(target_id));
                put("add", Value::Array(add.iter().map(|s| text(s)).collect()));
                put(
                    "remove",
                    Value::Array(remove.iter().map(|s| text(s)).collect()),
                );
            }
            Message::RemoteHeadsChanged {
                sender_id,
                target_id,
                document_id,
                new_heads,
            } => {
                put("senderId", text(sender_id));
                put("targetId", text(target_id));
                put("documentId", text(&document_id.to_string()));
                put(
                    "newHeads",
                    Value::Map(
                        new_heads
                            .iter()
                            .map(|h| {
                                (
                                    text(&h.storage_id),
                                    Value::Map(vec![
                                        (
                                            text("heads"),
                                            Value::Array(h.heads.iter().map(|s| text(s)).collect()),
                                        ),
                                        (text("timestamp"), Value::Integer(h.timestamp.into())),
                                    ]),
                                )
                            })
                            .collect(),
                    ),
                );
            }
        }
        let mut out = Vec::new();
        // Writing CBOR into a Vec cannot fail.
        let _ = ciborium::into_writer(&Value::Map(map), &mut out);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let value: Value =
            ciborium::from_reader(bytes).map_err(|e| DecodeError::NotCbor(e.to_string()))?;
        let Value::Map(map) = value else {
            return Err(DecodeError::NotAMap);
        };
        let fields = Fields(&map);
        let ty = fields.text("type")?;
        let msg = match ty.as_str() {
            "join" => Message::Join {
                sender_id: fields.id("senderId")?,
                supported_protocol_versions: match fields.get("supportedProtocolVersions") {
                    Some(Value::Array(a)) => a
                        .iter()
                        .filter_map(|v| v.as_text().map(str::to_string))
                        .take(16)
                        .collect(),
                    // Some clients send a single version string.
                    Some(Value::Text(t)) => vec![t.clone()],
                    _ => return Err(DecodeError::Missing("supportedProtocolVersions")),
                },
                metadata: fields.metadata()?,
            },
            "peer" => Message::Peer {
                sender_id: fields.id("senderId")?,
                selected_protocol_version: fields.text("selectedProtocolVersion")?,
                target_id: fields.id("targetId")?,
                metadata: fields.metadata()?,
            },
            "leave" => Message::Leave {
                sender_id: fields.id("senderId")?,
            },
            "request" | "sync" => {
                let (sender_id, target_id, document_id) = (
                    fields.id("senderId")?,
                    fields.id("targetId")?,
                    fields.document_id()?,
                );
                let data = fields.bytes("data")?;
                if ty == "request" {
                    Message::Request {
                        sender_id,
                        target_id,
                        document_id,
                        data,
                    }
                } else {
                    Message::Sync {
                        sender_id,
                        target_id,
                        document_id,
                        data,
                    }
                }
            }
            "doc-unavailable" => Message::DocUnavailable {
                sender_id: fields.id("senderId")?,
                target_id: fields.id("targetId")?,
                document_id: fields.document_id()?,
            },
            "paktum-erased" => Message::Erased {
                sender_id: fields.id("senderId")?,
                target_id: fields.id("targetId")?,
                document_id: fields.document_id()?,
                index_id: match fields.get("indexId") {
                    None => None,
                    Some(Value::Text(t)) => {
                        Some(t.parse().map_err(|_| DecodeError::BadDocumentId)?)
                    }
                    Some(_) => return Err(DecodeError::WrongType("indexId")),
                },
            },
            "paktum-erasure-confirmed" => Message::ErasureConfirmed {
                sender_id: fields.id("senderId")?,
                target_id: fields.id("targetId")?,
                document_id: fields.document_id()?,
            },
            "paktum-wipe" => Message::Wipe {
                sender_id: fields.id("senderId")?,
                target_id: fields.id("targetId")?,
                quarantine: match fields.get("quarantine") {
                    Some(Value::Bool(b)) => *b,
                    _ => return Err(DecodeError::WrongType("quarantine")),
                },
            },
            "paktum-unsynced" => Message::Unsynced {
                sender_id: fields.id("senderId")?,
                target_id: fields.id("targetId")?,
                document_id: fields.document_id()?,
                data: fields.bytes("data")?,
            },
            "paktum-wipe-ready" => Message::WipeReady {
                sender_id: fields.id("senderId")?,
                target_id: fields.id("targetId")?,
            },
            "paktum-wiped" => Message::Wiped {
                sender_id: fields.id("senderId")?,
                target_id: fields.id("targetId")?,
                kept: fields.uint("kept")?,
                message: fields.text("message").unwrap_or_default(),
                code: fields.text("code").ok().and_then(|c| Code::parse(&c)),
            },
            "ephemeral" => Message::Ephemeral {
                sender_id: fields.id("senderId")?,
                target_id: fields.id("targetId")?,
                count: fields.uint("count")?,
                session_id: fields.id("sessionId")?,
                document_id: fields.document_id()?,
                data: fields.bytes("data")?,
            },
            "error" => Message::Error {
                message: fields.text("message").unwrap_or_default(),
                code: fields.text("code").ok().and_then(|c| Code::parse(&c)),
            },
            "remote-subscription-change" => Message::RemoteSubscriptionChange {
                sender_id: fields.id("senderId")?,
                target_id: fields.id("targetId")?,
                add: fields.id_list("add")?,
                remove: fields.id_list("remove")?,
            },
            "remote-heads-changed" => Message::RemoteHeadsChanged {
                sender_id: fields.id("senderId")?,
                target_id: fields.id("targetId")?,
                document_id: fields.document_id()?,
                new_heads: match fields.get("newHeads") {
                    Some(Value::Map(m)) => m
                        .iter()
                        .filter_map(|(k, v)| {
                            let Value::Map(inner) = v else { return None };
                            let inner = Fields(inner);
                            Some(RemoteHeads {
                                storage_id: k.as_text()?.chars().take(ID_MAX).collect(),
                                heads: inner.id_list("heads").ok()?,
                                timestamp: inner.uint("timestamp").unwrap_or(0),
                            })
                        })
                        .take(64)
                        .collect(),
                    _ => Vec::new(),
                },
            },
            other => return Err(DecodeError::UnknownType(other.chars().take(40).collect())),
        };
        Ok(msg)
    }
}

fn metadata_value(m: &PeerMetadata) -> Value {
    let mut map = Vec::new();
    if let Some(s) = &m.storage_id {
        map.push((Value::Text("storageId".into()), Value::Text(s.clone())));
    }
    map.push((
        Value::Text("isEphemeral".into()),
        Value::Bool(m.is_ephemeral),
    ));
    Value::Map(map)
}

struct Fields<'a>(&'a [(Value, Value)]);

impl Fields<'_> {
    fn get(&self, key: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(k, _)| k.as_text() == Some(key))
            .map(|(_, v)| v)
    }

    fn text(&self, key: &'static str) -> Result<String, DecodeError> {
        match self.get(key) {
            Some(Value::Text(t)) => Ok(t.clone()),
            Some(_) => Err(DecodeError::WrongType(key)),
            None => Err(DecodeError::Missing(key)),
        }
    }

    fn id(&self, key: &'static str) -> Result<String, DecodeError> {
        let t = self.text(key)?;
        if t.is_empty() || t.len() > ID_MAX {
            return Err(DecodeError::WrongType(key));
        }
        Ok(t)
    }

    fn id_list(&self, key: &'static str) -> Result<Vec<String>, DecodeError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) if a.len() <= 1024 => a
                .iter()
                .map(|v| match v.as_text() {
                    Some(t) if t.len() <= ID_MAX => Ok(t.to_string()),
                    _ => Err(DecodeError::WrongType(key)),
                })
                .collect(),
            Some(_) => Err(DecodeError::WrongType(key)),
        }
    }

    fn bytes(&self, key: &'static str) -> Result<Vec<u8>, DecodeError> {
        match self.get(key) {
            Some(Value::Bytes(b)) => Ok(b.clone()),
            // cbor-x may tag typed arrays (tag 64 = uint8 array); accept the bytes inside.
            Some(Value::Tag(_, inner)) => match inner.as_ref() {
                Value::Bytes(b) => Ok(b.clone()),
                _ => Err(DecodeError::WrongType(key)),
            },
            Some(_) => Err(DecodeError::WrongType(key)),
            None => Err(DecodeError::Missing(key)),
        }
    }

    fn uint(&self, key: &'static str) -> Result<u64, DecodeError> {
        match self.get(key) {
            Some(Value::Integer(i)) => u64::try_from(*i).map_err(|_| DecodeError::WrongType(key)),
            Some(_) => Err(DecodeError::WrongType(key)),
            None => Err(DecodeError::Missing(key)),
        }
    }

    fn document_id(&self) -> Result<DocumentId, DecodeError> {
        self.text("documentId")?
            .parse()
            .map_err(|_| DecodeError::BadDocumentId)
    }

    fn metadata(&self) -> Result<Option<PeerMetadata>, DecodeError> {
        // The JS websocket adapter sends `peerMetadata`, the spec says `metadata`.
        let Some(value) = self.get("peerMetadata").or_else(|| self.get("metadata")) else {
            return Ok(None);
        };
        let Value::Map(m) = value else {
            return Ok(None);
        };
        let m = Fields(m);
        Ok(Some(PeerMetadata {
            storage_id: match m.get("storageId") {
                Some(Value::Text(t)) if !t.is_empty() && t.len() <= ID_MAX => Some(t.clone()),
                _ => None,
            },
            is_ephemeral: matches!(m.get("isEphemeral"), Some(Value::Bool(true))),
        }))
    }
}

#[cfg(test)]
mod tests;
