use super::*;
use proptest::prelude::*;

fn samples() -> Vec<Message> {
    let doc = DocumentId::random();
    vec![
        Message::Join {
            sender_id: "peer-a".into(),
            supported_protocol_versions: vec!["1".into()],
            metadata: Some(PeerMetadata {
                storage_id: Some("store-a".into()),
                is_ephemeral: false,
            }),
        },
        Message::Peer {
            sender_id: "relay".into(),
            selected_protocol_version: "1".into(),
            target_id: "peer-a".into(),
            metadata: None,
        },
        Message::Leave {
            sender_id: "peer-a".into(),
        },
        Message::Request {
            sender_id: "a".into(),
            target_id: "b".into(),
            document_id: doc,
            data: vec![0x42, 1],
        },
        Message::Sync {
            sender_id: "a".into(),
            target_id: "b".into(),
            document_id: doc,
            data: vec![],
        },
        Message::DocUnavailable {
            sender_id: "a".into(),
            target_id: "b".into(),
            document_id: doc,
        },
        Message::Erased {
            sender_id: "a".into(),
            target_id: "b".into(),
            document_id: doc,
            index_id: Some(DocumentId::random()),
        },
        Message::ErasureConfirmed {
            sender_id: "a".into(),
            target_id: "b".into(),
            document_id: doc,
        },
        Message::Wipe {
            sender_id: "a".into(),
            target_id: "b".into(),
            quarantine: true,
        },
        Message::Unsynced {
            sender_id: "a".into(),
            target_id: "b".into(),
            document_id: doc,
            data: vec![1, 2, 3],
        },
        Message::WipeReady {
            sender_id: "a".into(),
            target_id: "b".into(),
        },
        Message::Wiped {
            sender_id: "a".into(),
            target_id: "b".into(),
            kept: 2,
            message: "withdrawn".into(),
            code: Some(Code::WithdrawnQuarantined),
        },
        Message::Ephemeral {
            sender_id: "a".into(),
            target_id: "b".into(),
            count: 3,
            session_id: "s".into(),
            document_id: doc,
            data: vec![1, 2],
        },
        Message::Error {
            message: "bye".into(),
            code: None,
        },
        Message::Error {
            message: "bye".into(),
            code: Some(Code::TooManyDocuments),
        },
        Message::RemoteSubscriptionChange {
            sender_id: "a".into(),
            target_id: "b".into(),
            add: vec!["x".into()],
            remove: vec![],
        },
        Message::RemoteHeadsChanged {
            sender_id: "a".into(),
            target_id: "b".into(),
            document_id: doc,
            new_heads: vec![RemoteHeads {
                storage_id: "x".into(),
                heads: vec!["h".into()],
                timestamp: 5,
            }],
        },
    ]
}

#[test]
fn every_message_round_trips() {
    for msg in samples() {
        assert_eq!(
            Message::decode(&msg.encode()),
            Ok(msg.clone()),
            "{}",
            msg.type_name()
        );
    }
}

#[test]
fn sync_data_is_a_cbor_byte_string() {
    let msg = Message::Sync {
        sender_id: "a".into(),
        target_id: "b".into(),
        document_id: DocumentId::random(),
        data: vec![7; 3],
    };
    let value: Value = ciborium::from_reader(msg.encode().as_slice()).expect("cbor");
    let Value::Map(map) = value else {
        panic!("not a map")
    };
    assert!(
        map.iter()
            .any(|(k, v)| k.as_text() == Some("data") && *v == Value::Bytes(vec![7; 3]))
    );
}

#[test]
fn an_error_code_this_build_does_not_know_keeps_the_message() {
    let mut bytes = Vec::new();
    ciborium::into_writer(
        &Value::Map(vec![
            (Value::Text("type".into()), Value::Text("error".into())),
            (Value::Text("message".into()), Value::Text("bye".into())),
            (Value::Text("code".into()), Value::Text("moon_phase".into())),
        ]),
        &mut bytes,
    )
    .expect("cbor");
    assert_eq!(
        Message::decode(&bytes),
        Ok(Message::Error {
            message: "bye".into(),
            code: None
        })
    );
}

#[test]
fn malformed_messages_are_errors() {
    assert!(matches!(Message::decode(b""), Err(DecodeError::NotCbor(_))));
    assert!(matches!(
        Message::decode(&[0x01]),
        Err(DecodeError::NotAMap)
    ));
    let mut unknown = Vec::new();
    ciborium::into_writer(
        &Value::Map(vec![(
            Value::Text("type".into()),
            Value::Text("teleport".into()),
        )]),
        &mut unknown,
    )
    .expect("cbor");
    assert_eq!(
        Message::decode(&unknown),
        Err(DecodeError::UnknownType("teleport".into()))
    );
    let mut absurd = Vec::new();
    ciborium::into_writer(
        &Value::Map(vec![
            (Value::Text("type".into()), Value::Text("sync".into())),
            (Value::Text("senderId".into()), Value::Text("a".into())),
            (Value::Text("targetId".into()), Value::Text("b".into())),
            (
                Value::Text("documentId".into()),
                Value::Text("../../etc/passwd".into()),
            ),
            (Value::Text("data".into()), Value::Bytes(vec![])),
        ]),
        &mut absurd,
    )
    .expect("cbor");
    assert_eq!(Message::decode(&absurd), Err(DecodeError::BadDocumentId));
    // Deeply nested arrays must not overflow the stack.
    let deep = [vec![0x81u8; 100_000], vec![0x00]].concat();
    assert!(Message::decode(&deep).is_err());
}

proptest! {
    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Message::decode(&bytes);
    }

    #[test]
    fn decoding_mutated_messages_never_panics(idx in 0usize..10, pos in any::<usize>(), byte in any::<u8>()) {
        let mut bytes = samples()[idx].encode();
        let at = pos % bytes.len();
        bytes[at] = byte;
        let _ = Message::decode(&bytes);
    }
}
