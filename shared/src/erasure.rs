//! `POST /erase` and `GET /erasure`: a coordinator's erasure of a record and its
//! receipt. Wire types only (JSON through serde), no I/O.

use serde::{Deserialize, Serialize};

/// The body of `POST /erase` (the device token comes as `?token=…`, as for `/sync`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EraseRequest {
    /// The record's document id.
    pub document: String,
}

/// What the relay answers to `POST /erase` and `GET /erasure?document=…`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureReceipt {
    pub document: String,
    /// `YYYY-MM-DD`.
    pub erased_on: String,
    /// The role of whoever erased it (`coordinator`, `admin`); never a name.
    pub by_role: String,
    /// Devices that confirmed they deleted it.
    pub confirmed: u64,
    /// Devices that could hold it when it was erased.
    pub devices: u64,
    /// "erased on DATE, by ROLE, confirmed by N of M devices of the team".
    pub sentence: String,
}
