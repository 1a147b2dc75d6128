//! Items of a record (notes, visits, referrals: maps keyed by random ids) removed by
//! mistake and put back. Removal flags the item instead of deleting it, so that an
//! edit made concurrently elsewhere keeps it (ARCHITECTURE.md, "Removing an item").

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};

use super::{Editor, RecordDoc, child_maps, obj_at};
use crate::ModelError;

impl RecordDoc {
    /// The object of item `id` in the root map `items` (notes, visits, referrals),
    /// removed or not.
    pub(crate) fn item(
        &self,
        items: &str,
        what: &'static str,
        id: &str,
    ) -> Result<ObjId, ModelError> {
        obj_at(&self.doc, &ROOT, items, ObjType::Map)
            .and_then(|m| obj_at(&self.doc, &m, id, ObjType::Map))
            .ok_or_else(|| ModelError::NotFound {
                what,
                id: id.into(),
            })
    }

    /// Marks item `id` of the root map `items` removed (a mistake) or puts it back
    /// (undo). The item stays in the document, flagged, so a colleague's concurrent
    /// edit of it (which writes `removed: false`) wins over the removal: nothing
    /// written is lost by a merge. See ARCHITECTURE.md, "Removing an item".
    pub(crate) fn set_item_removed(
        &mut self,
        editor: &Editor,
        items: &str,
        what: &'static str,
        id: &str,
        removed: bool,
    ) -> Result<(), ModelError> {
        let item = self.item(items, what, id)?;
        let verb = if removed { "removed" } else { "restored" };
        self.change(editor, &format!("{what} {verb}"), |tx| {
            tx.put(&item, "removed", removed)?;
            Ok(())
        })
    }
}

/// The items of a map of items (notes, visits, referrals) that are not removed: an
/// item is removed when every concurrent value of its `removed` flag is `true`, so an
/// edit made concurrently with a removal (which writes `removed: false`) keeps it.
pub(crate) fn live_items(doc: &Automerge, obj: &ObjId) -> Vec<(String, ObjId)> {
    child_maps(doc, obj)
        .into_iter()
        .filter(|(_, item)| !is_removed(doc, item))
        .collect()
}

pub(crate) fn is_removed(doc: &Automerge, item: &ObjId) -> bool {
    let Ok(values) = doc.get_all(item, "removed") else {
        return false;
    };
    !values.is_empty()
        && values
            .iter()
            .all(|(v, _)| matches!(v, Value::Scalar(s) if matches!(s.as_ref(), ScalarValue::Boolean(true))))
}
