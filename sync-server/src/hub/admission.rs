//! Connections per device (`--max-connections-per-device`): one relay counts the
//! device's connections it holds; relays sharing PostgreSQL also take one of the
//! device's slots there for each (`storage/postgres/slots.rs`), so the limit holds
//! across all of them. Either way a device beyond it gets the same refusal.

use std::collections::HashMap;

use super::{ConnId, Hub, Peer};
use crate::auth::Identity;
use crate::error::Error;
use crate::storage::HeldSlot;

impl Hub {
    /// Takes a slot for a device's new connection where relays share the store;
    /// `None` where there is nothing to take (one relay, or no device token). Held
    /// until dropped, after the connection's [`Hub::disconnect`].
    pub async fn take_slot(&self, identity: Option<&Identity>) -> Result<Option<HeldSlot>, Error> {
        let (Some(slots), Some(device)) = (self.slots.clone(), identity.map(|i| i.device_id))
        else {
            return Ok(None);
        };
        let limit = self.limits.connections_per_device;
        let taken = tokio::task::spawn_blocking(move || slots.take(device, limit))
            .await
            .map_err(|e| Error::Internal(format!("connection slot task: {e}")))??;
        match taken {
            Some(slot) => Ok(Some(slot)),
            None => Err(self.too_many(device)),
        }
    }

    /// Refuses a device's connection beyond its limit on this relay.
    pub(super) fn count_here(
        &self,
        peers: &HashMap<ConnId, Peer>,
        identity: Option<&Identity>,
    ) -> Result<(), Error> {
        let Some(device) = identity.map(|i| i.device_id) else {
            return Ok(());
        };
        let held = peers
            .values()
            .filter(|p| p.identity.as_ref().is_some_and(|i| i.device_id == device))
            .count();
        if held >= self.limits.connections_per_device {
            return Err(self.too_many(device));
        }
        Ok(())
    }

    fn too_many(&self, device: i64) -> Error {
        self.audit("connection_refused", Some(device), "too many connections");
        Error::TooManyConnections(self.limits.connections_per_device)
    }
}
