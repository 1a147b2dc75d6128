//! The relay's log filter keeps Automerge's spans off: at `info` they format a
//! document's whole change graph with `Debug` on every load and every received change
//! (10 ms per change of a 10,000-row index, found measuring reconnects). Its own
//! binary, so no other test's subscriber shares the callsites.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use automerge::transaction::Transactable;
use automerge::{Automerge, ROOT};
use paktum_sync_server::config::log_directives;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{EnvFilter, Layer, registry};

/// Counts the spans Automerge opens.
struct AutomergeSpans(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> Layer<S> for AutomergeSpans {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: Context<'_, S>,
    ) {
        if attrs.metadata().target().starts_with("automerge") {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The Automerge spans opened loading a document and taking in a change, under
/// `directives`.
fn spans_under(directives: &str) -> usize {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(ROOT, "kind", "caseload").expect("put");
    tx.commit();
    let before = doc.get_heads();
    let mut tx = doc.transaction();
    tx.put(ROOT, "team", "kempen").expect("put");
    tx.commit();
    let (saved, change) = (doc.save(), doc.save_after(&before));

    let count = Arc::new(AtomicUsize::new(0));
    let subscriber = registry()
        .with(EnvFilter::new(directives))
        .with(AutomergeSpans(count.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let mut loaded = Automerge::load(&saved).expect("load");
        loaded.load_incremental(&change).expect("change");
    });
    count.load(Ordering::Relaxed)
}

#[test]
fn automerge_spans_are_off_under_the_relays_default_filter() {
    assert!(
        spans_under("info") > 0,
        "plain info opens Automerge's spans (else this test proves nothing)"
    );
    assert_eq!(spans_under(&log_directives(None)), 0);
    assert_eq!(spans_under(&log_directives(Some("debug"))), 0);
    assert_eq!(
        log_directives(Some("info,automerge=trace")),
        "info,automerge=trace",
        "asked for by name, they stay"
    );
}
