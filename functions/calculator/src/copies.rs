//! What the calculator keeps of other contexts' entities, each at the highest revision seen
//! (events arrive in any order): a service type's base price and whether clients may still
//! order it (`ServiceType.Set`, from orders), and a worker's level (`Worker.ProfileSet`, from
//! hiring). Only what pricing reads is kept.

use ates_kernel::contracts::hiring::{Level, WorkerProfileSet};
use ates_kernel::contracts::orders::ServiceTypeSet;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A service type as the calculator quotes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceType {
    pub service_type_id: Uuid,
    pub name: String,
    pub base_price_cents: i64,
    /// A retired type takes no new orders, so it is quoted to nobody.
    pub active: bool,
    pub revision: u64,
}

impl From<&ServiceTypeSet> for ServiceType {
    fn from(set: &ServiceTypeSet) -> Self {
        ServiceType {
            service_type_id: set.service_type_id,
            name: set.name.clone(),
            base_price_cents: set.base_price_cents,
            active: set.active,
            revision: set.revision,
        }
    }
}

/// A worker's level, which the exact price follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerLevel {
    pub account_id: Uuid,
    pub level: Level,
    pub revision: u64,
}

impl From<&WorkerProfileSet> for WorkerLevel {
    fn from(set: &WorkerProfileSet) -> Self {
        WorkerLevel {
            account_id: set.account_id,
            level: set.level,
            revision: set.revision,
        }
    }
}
