//! Tests of `record`.

use super::*;

#[test]
fn garbage_bytes_are_an_error_not_a_panic() {
    let id = DocumentId::random();
    for bytes in [&b""[..], b"\x85\x6f\x4a\x83garbage", &[0xff; 64]] {
        assert!(RecordDoc::load(id, bytes).is_err());
    }
}

#[test]
fn a_document_without_schema_is_refused() {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(ROOT, "kind", "contact").expect("put");
    tx.commit();
    let err = RecordDoc::load(DocumentId::random(), &doc.save()).expect_err("no schema");
    assert!(matches!(err, ModelError::Corrupt(_)));
}

#[test]
fn a_newer_schema_is_refused_with_a_clear_message() {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(ROOT, "schema", SCHEMA_VERSION + 1).expect("put");
    tx.put(ROOT, "kind", "contact").expect("put");
    tx.commit();
    let err = RecordDoc::load(DocumentId::random(), &doc.save()).expect_err("newer");
    assert_eq!(err, ModelError::NewerSchema((SCHEMA_VERSION + 1) as u64));
    assert!(err.to_string().contains("newer version"));
}

#[test]
fn validators_refuse_bad_input() {
    assert!(phone(Some("+36 30 123 4567")).is_ok());
    assert!(phone(Some("call me")).is_err());
    assert!(email(Some("anna@example.org")).is_ok());
    assert!(email(Some("anna@")).is_err());
    assert_eq!(
        required("name", "   "),
        Err(ModelError::Empty { field: "name" })
    );
    assert!(required("name", &"x".repeat(LINE_MAX + 1)).is_err());
    assert!(required("name", "bell\u{7}").is_err());
}
