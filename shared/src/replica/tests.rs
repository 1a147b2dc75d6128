//! Tests of `replica`.

use super::*;
use crate::testing::Relay;
use automerge::transaction::Transactable;

/// Exchanges messages until neither side has anything to say.
fn pump(replica: &mut Replica, relay: &mut Relay, out: Vec<Message>) {
    relay.exchange(out, |m| {
        replica.receive(m).expect("the replica accepts the relay")
    });
}

fn edited(mut doc: Automerge, value: &str) -> Automerge {
    let mut tx = doc.transaction();
    tx.put(automerge::ROOT, "name", value).expect("put");
    tx.commit();
    doc
}

/// The pending set kept incrementally agrees with walking every document.
fn walked(replica: &Replica) -> usize {
    replica
        .docs
        .iter()
        .filter(|(id, slot)| slot.heads() != replica.confirmed_heads(id))
        .count()
}

#[test]
fn pending_follows_edits_and_confirmations() {
    let mut replica = Replica::new("device", Some("store".into()));
    let mut relay = Relay::default();
    let ids: Vec<DocumentId> = (0..5).map(|_| DocumentId::random()).collect();
    for (n, id) in ids.iter().enumerate() {
        replica.insert(*id, edited(Automerge::new(), &format!("record {n}")), None);
    }
    assert_eq!(replica.pending_count(), 5);
    assert_eq!(walked(&replica), 5);

    let join = replica.connect();
    pump(&mut replica, &mut relay, vec![join]);
    assert_eq!(replica.pending_count(), 0, "{}", replica.describe());
    assert_eq!(walked(&replica), 0);
    assert!(replica.is_up_to_date());

    // An edit while offline is pending; taking a document out hides it meanwhile.
    replica.disconnect();
    let doc = replica.take(&ids[2]).expect("held");
    assert!(!replica.is_pending(&ids[2]));
    assert!(replica.put_back(ids[2], edited(doc, "renamed")).is_empty());
    assert!(replica.is_pending(&ids[2]));
    assert_eq!(replica.pending_count(), 1);
    assert_eq!(walked(&replica), 1);

    // Someone else's edit on the relay is not ours to send: not pending.
    let theirs = edited(relay.docs[&ids[4]].fork(), "from the relay");
    relay
        .docs
        .get_mut(&ids[4])
        .expect("on the relay")
        .merge(&mut theirs.clone())
        .expect("merges");

    let join = replica.connect();
    pump(&mut replica, &mut relay, vec![join]);
    assert_eq!(replica.pending_count(), 0, "{}", replica.describe());
    assert_eq!(walked(&replica), 0);
    assert!(replica.is_settled(&ids[2]));
    assert_eq!(
        replica.doc(&ids[4]).expect("held").get_heads(),
        relay.docs[&ids[4]].get_heads()
    );
}

#[test]
fn records_arriving_whole_are_kept_unloaded_until_used() {
    let mut relay = Relay::default();
    let ids: Vec<DocumentId> = (0..4).map(|_| DocumentId::random()).collect();
    for (n, id) in ids.iter().enumerate() {
        relay
            .docs
            .insert(*id, edited(Automerge::new(), &format!("record {n}")));
    }
    let mut replica = Replica::new("device", Some("store".into()));
    let join = replica.connect();
    pump(&mut replica, &mut relay, vec![join]);
    let asks: Vec<Message> = ids.iter().flat_map(|id| replica.want(*id)).collect();
    pump(&mut replica, &mut relay, asks);
    assert!(replica.is_up_to_date(), "{}", replica.describe());
    assert_eq!(replica.take_changed().len(), ids.len());
    for (n, id) in ids.iter().enumerate() {
        let bytes = replica.kept_bytes(id).expect("kept as it came").to_vec();
        assert_eq!(
            Automerge::load(&bytes).expect("loads").get_heads(),
            relay.docs[id].get_heads()
        );
        assert_eq!(replica.heads(id), Some(relay.docs[id].get_heads()));
        // Reading loads it; the content is the relay's.
        let name = replica.doc(id).expect("held").get(automerge::ROOT, "name");
        let name = name.expect("reads").expect("has a name").0.to_string();
        assert_eq!(name, format!("\"record {n}\""));
        assert_eq!(replica.confirmed_heads(id), relay.docs[id].get_heads());
    }

    // An edit of a kept record reaches the relay; so does the relay's next change.
    let doc = replica.take(&ids[1]).expect("held");
    assert!(replica.kept_bytes(&ids[1]).is_none());
    let out = replica.put_back(ids[1], edited(doc, "renamed"));
    pump(&mut replica, &mut relay, out);
    assert_eq!(
        relay.docs[&ids[1]].get_heads(),
        replica.heads(&ids[1]).expect("held")
    );
    let theirs = edited(relay.docs[&ids[2]].fork(), "from the relay");
    relay
        .docs
        .get_mut(&ids[2])
        .expect("on the relay")
        .merge(&mut theirs.clone())
        .expect("merges");
    replica.disconnect();
    let join = replica.connect();
    pump(&mut replica, &mut relay, vec![join]);
    assert!(replica.is_up_to_date(), "{}", replica.describe());
    let asks: Vec<Message> = ids.iter().flat_map(|id| replica.want(*id)).collect();
    pump(&mut replica, &mut relay, asks);
    for id in &ids {
        assert_eq!(replica.heads(id), Some(relay.docs[id].get_heads()));
    }
}

#[test]
fn kept_bytes_that_are_not_the_named_document_are_synced_again() {
    let mut relay = Relay::default();
    let id = DocumentId::random();
    relay
        .docs
        .insert(id, edited(Automerge::new(), "the real one"));
    let heads = relay.docs[&id].get_heads();
    let mut replica = Replica::new("device", Some("store".into()));
    let join = replica.connect();
    pump(&mut replica, &mut relay, vec![join]);
    let Some(Message::Request { data, .. }) = replica.want(id).pop() else {
        panic!("asks for the record");
    };
    // A relay that names the right heads but sends other bytes.
    let ask = sync::Message::decode(&data).expect("decodes");
    let wrong = edited(Automerge::new(), "something else").save();
    let answer = crate::whole::first_contact(&ask, &mut sync::State::new(), &heads, wrong);
    let reply = replica
        .receive(Message::Sync {
            sender_id: "relay".into(),
            target_id: "device".into(),
            document_id: id,
            data: answer.encode(),
        })
        .expect("kept without looking");
    assert_eq!(reply.len(), 1, "acknowledged as the relay's heads");
    assert_eq!(replica.confirmed_heads(&id), heads);

    // Using it finds out: the acknowledgement is withdrawn and the record pending.
    let doc = replica.take(&id).expect("held");
    assert_ne!(doc.get_heads(), heads);
    assert!(replica.confirmed_heads(&id).is_empty());
    let _ = replica.put_back(id, doc);
    replica.disconnect();
    let join = replica.connect();
    pump(&mut replica, &mut relay, vec![join]);
    assert!(replica.is_up_to_date(), "{}", replica.describe());
    let merged = replica.doc(&id).expect("held");
    assert!(
        merged.get_missing_deps(&heads).is_empty(),
        "the real one arrived"
    );
}

#[test]
fn a_kept_record_answers_for_its_heads_unloaded_and_for_older_changes_loaded() {
    let first = edited(Automerge::new(), "first");
    let older = first.get_heads();
    let doc = edited(first, "second");
    let slot = Slot::Kept {
        bytes: doc.save(),
        heads: doc.get_heads(),
        read: OnceLock::new(),
    };
    let Slot::Kept { read, .. } = &slot else {
        unreachable!()
    };
    assert!(slot.has(&doc.get_heads()[0]));
    assert!(read.get().is_none(), "its own heads need no load");
    // An index row written for an older version: known, so not behind.
    assert!(slot.has(&older[0]));
    assert!(read.get().is_some());
    let unknown = edited(Automerge::new(), "elsewhere").get_heads();
    assert!(!slot.has(&unknown[0]));
}
