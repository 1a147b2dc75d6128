//! The referrals made to an employer, gathered from the contacts on this device (a
//! referral lives in the young person's record, naming the employer's document).

use super::Repo;
use crate::DocumentId;
use crate::contact::{Referral, referrals_of};
use crate::record::Kind;

/// A referral to an employer, with the young person it is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferralTo {
    pub contact: DocumentId,
    pub name: String,
    pub referral: Referral,
}

impl Repo {
    /// Every referral to `employer` in the contacts this device holds, newest first.
    /// The first call reads each contact where it lies (no copy; a contact kept
    /// unloaded is loaded); later calls read only the contacts whose heads moved.
    pub fn referrals_to(&self, employer: &DocumentId) -> Vec<ReferralTo> {
        let mut found: Vec<ReferralTo> = self
            .entries()
            .filter(|e| e.summary.kind == Kind::Contact)
            .flat_map(|e| {
                let referrals = self.referrals_of(&e.id);
                referrals
                    .into_iter()
                    .filter(|r| r.employer_id.as_ref() == Some(employer))
                    .map(|referral| ReferralTo {
                        contact: e.id,
                        name: e.summary.name.clone(),
                        referral,
                    })
            })
            .collect();
        found.sort_by(|a, b| {
            (b.referral.date, &b.referral.id).cmp(&(a.referral.date, &a.referral.id))
        });
        found
    }

    /// A contact's referrals, from the cache while its heads are the same.
    fn referrals_of(&self, id: &DocumentId) -> Vec<Referral> {
        let Some(heads) = self.replica.heads(id) else {
            return Vec::new();
        };
        if let Some(referrals) = self.referrals.with(id, &heads, Vec::clone) {
            return referrals;
        }
        let referrals = self.replica.doc(id).map(referrals_of).unwrap_or_default();
        self.referrals.put(*id, heads, referrals.clone());
        referrals
    }
}
