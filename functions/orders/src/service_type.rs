//! Service types (SPEC M2, seed 000's order types): what clients may order. Managers create and
//! change them and retire them instead of deleting (an order keeps the type as it was when
//! ordered: [`OrderedService`]). Every change is a new revision, published as `ServiceType.Set`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use ates_kernel::contracts::orders::{ServiceTypeSet, SupplyLine};

use crate::error::OrderError;

pub const MIN_BASE_PRICE_CENTS: i64 = 100;
pub const MAX_BASE_PRICE_CENTS: i64 = 1_000_000;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
pub const MIN_DURATION_MINUTES: u32 = 15;
pub const MAX_DURATION_MINUTES: u32 = 1440;
pub const MAX_SUPPLY_LINES: usize = 20;
pub const MAX_ITEM_CHARS: usize = 100;
pub const MAX_QUANTITY: u32 = 100;
pub const MAX_SKILL_CHARS: usize = 40;

/// A service type as a manager sends it (`POST`), or the fields a `PATCH` changes. A field is
/// either sent with a value or left out: `null` is refused, not read as "unchanged".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceTypeFields {
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub base_price_cents: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    pub required_skill: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub duration_minutes: Option<u32>,
    #[serde(default, deserialize_with = "present")]
    pub supplies: Option<Vec<SupplyLine>>,
}

/// A field that is there has a value (`null` is not one).
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// A service type that passed its checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidServiceType {
    pub name: String,
    pub description: String,
    pub base_price_cents: i64,
    pub required_skill: String,
    pub duration_minutes: u32,
    pub supplies: Vec<SupplyLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceType {
    pub service_type_id: Uuid,
    pub name: String,
    pub description: String,
    pub base_price_cents: i64,
    pub required_skill: String,
    pub duration_minutes: u32,
    pub supplies: Vec<SupplyLine>,
    pub active: bool,
    pub revision: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The service type as an order keeps it: what the client ordered, whatever the type becomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderedService {
    pub service_type_id: Uuid,
    pub revision: u64,
    pub name: String,
    pub base_price_cents: i64,
    pub required_skill: String,
    pub duration_minutes: u32,
    pub supplies: Vec<SupplyLine>,
}

fn invalid(detail: String) -> OrderError {
    OrderError::Invalid(detail)
}

fn text(field: &str, value: &str, max: usize, may_be_empty: bool) -> Result<String, OrderError> {
    let value = value.trim();
    if (!may_be_empty && value.is_empty()) || value.chars().count() > max {
        let least = if may_be_empty { 0 } else { 1 };
        return Err(invalid(format!(
            "{field} must have {least} to {max} characters"
        )));
    }
    Ok(value.to_owned())
}

impl ServiceTypeFields {
    /// A new type: every field but `description` and `supplies` is required.
    pub fn validate_new(&self) -> Result<ValidServiceType, OrderError> {
        let missing = |field: &str| invalid(format!("{field} is required"));
        let whole = ServiceTypeFields {
            name: Some(self.name.clone().ok_or_else(|| missing("name"))?),
            description: Some(self.description.clone().unwrap_or_default()),
            base_price_cents: Some(
                self.base_price_cents
                    .ok_or_else(|| missing("base_price_cents"))?,
            ),
            required_skill: Some(
                self.required_skill
                    .clone()
                    .ok_or_else(|| missing("required_skill"))?,
            ),
            duration_minutes: Some(
                self.duration_minutes
                    .ok_or_else(|| missing("duration_minutes"))?,
            ),
            supplies: Some(self.supplies.clone().unwrap_or_default()),
        };
        whole.checked()
    }

    /// These changes laid over `current`, checked as a whole; nothing to change is refused.
    pub fn validate_change(&self, current: &ServiceType) -> Result<ValidServiceType, OrderError> {
        if *self == ServiceTypeFields::default() {
            return Err(invalid("nothing to change: name, description, base_price_cents, required_skill, duration_minutes or supplies".into()));
        }
        ServiceTypeFields {
            name: Some(self.name.clone().unwrap_or_else(|| current.name.clone())),
            description: Some(
                self.description
                    .clone()
                    .unwrap_or_else(|| current.description.clone()),
            ),
            base_price_cents: Some(self.base_price_cents.unwrap_or(current.base_price_cents)),
            required_skill: Some(
                self.required_skill
                    .clone()
                    .unwrap_or_else(|| current.required_skill.clone()),
            ),
            duration_minutes: Some(self.duration_minutes.unwrap_or(current.duration_minutes)),
            supplies: Some(
                self.supplies
                    .clone()
                    .unwrap_or_else(|| current.supplies.clone()),
            ),
        }
        .checked()
    }

    /// Every field set: each within its bounds.
    fn checked(&self) -> Result<ValidServiceType, OrderError> {
        let name = text(
            "name",
            self.name.as_deref().unwrap_or_default(),
            MAX_NAME_CHARS,
            false,
        )?;
        let description = text(
            "description",
            self.description.as_deref().unwrap_or_default(),
            MAX_DESCRIPTION_CHARS,
            true,
        )?;
        let base_price_cents = self.base_price_cents.unwrap_or_default();
        if !(MIN_BASE_PRICE_CENTS..=MAX_BASE_PRICE_CENTS).contains(&base_price_cents) {
            return Err(invalid(format!(
                "base_price_cents must be {MIN_BASE_PRICE_CENTS} to {MAX_BASE_PRICE_CENTS}"
            )));
        }
        let skill = self.required_skill.as_deref().unwrap_or_default();
        let skill_ok = (1..=MAX_SKILL_CHARS).contains(&skill.len())
            && skill
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !skill.starts_with('-');
        if !skill_ok {
            return Err(invalid(format!(
                "required_skill {skill:?} is not a skill: 1 to {MAX_SKILL_CHARS} lower-case letters, digits and hyphens"
            )));
        }
        let duration_minutes = self.duration_minutes.unwrap_or_default();
        if !(MIN_DURATION_MINUTES..=MAX_DURATION_MINUTES).contains(&duration_minutes) {
            return Err(invalid(format!(
                "duration_minutes must be {MIN_DURATION_MINUTES} to {MAX_DURATION_MINUTES}"
            )));
        }
        let supplies = self.supplies.clone().unwrap_or_default();
        if supplies.len() > MAX_SUPPLY_LINES {
            return Err(invalid(format!(
                "a kit has at most {MAX_SUPPLY_LINES} lines"
            )));
        }
        let mut lines = Vec::with_capacity(supplies.len());
        for line in supplies {
            let item = text("a supply's item", &line.item, MAX_ITEM_CHARS, false)?;
            if !(1..=MAX_QUANTITY).contains(&line.quantity) {
                return Err(invalid(format!(
                    "a supply's quantity must be 1 to {MAX_QUANTITY}"
                )));
            }
            if lines.iter().any(|l: &SupplyLine| l.item == item) {
                return Err(invalid(format!("{item:?} is listed twice in supplies")));
            }
            lines.push(SupplyLine {
                item,
                quantity: line.quantity,
            });
        }
        Ok(ValidServiceType {
            name,
            description,
            base_price_cents,
            required_skill: skill.to_owned(),
            duration_minutes,
            supplies: lines,
        })
    }
}

impl ServiceType {
    pub fn create(id: Uuid, valid: ValidServiceType, now: DateTime<Utc>) -> ServiceType {
        ServiceType {
            service_type_id: id,
            name: valid.name,
            description: valid.description,
            base_price_cents: valid.base_price_cents,
            required_skill: valid.required_skill,
            duration_minutes: valid.duration_minutes,
            supplies: valid.supplies,
            active: true,
            revision: 1,
            created_at: now,
            updated_at: now,
        }
    }

    /// The type with `valid` as its fields, one revision on; a retired type is not changed.
    pub fn change(
        &self,
        valid: ValidServiceType,
        now: DateTime<Utc>,
    ) -> Result<ServiceType, OrderError> {
        if !self.active {
            return Err(OrderError::AlreadyRetired(self.service_type_id));
        }
        Ok(ServiceType {
            name: valid.name,
            description: valid.description,
            base_price_cents: valid.base_price_cents,
            required_skill: valid.required_skill,
            duration_minutes: valid.duration_minutes,
            supplies: valid.supplies,
            revision: self.revision + 1,
            updated_at: now,
            ..self.clone()
        })
    }

    /// Retired: clients no longer see it and no order may name it; retiring twice is refused.
    pub fn retire(&self, now: DateTime<Utc>) -> Result<ServiceType, OrderError> {
        if !self.active {
            return Err(OrderError::AlreadyRetired(self.service_type_id));
        }
        Ok(ServiceType {
            active: false,
            revision: self.revision + 1,
            updated_at: now,
            ..self.clone()
        })
    }

    /// What a new order keeps of an active type.
    pub fn ordered(&self) -> Result<OrderedService, OrderError> {
        if !self.active {
            return Err(OrderError::Retired(self.service_type_id));
        }
        Ok(OrderedService {
            service_type_id: self.service_type_id,
            revision: self.revision,
            name: self.name.clone(),
            base_price_cents: self.base_price_cents,
            required_skill: self.required_skill.clone(),
            duration_minutes: self.duration_minutes,
            supplies: self.supplies.clone(),
        })
    }

    /// `ServiceType.Set`: the type as it now is.
    pub fn set(&self) -> ServiceTypeSet {
        ServiceTypeSet {
            service_type_id: self.service_type_id,
            name: self.name.clone(),
            base_price_cents: self.base_price_cents,
            required_skill: self.required_skill.clone(),
            duration_minutes: self.duration_minutes,
            supplies: self.supplies.clone(),
            active: self.active,
            revision: self.revision,
            set_at: self.updated_at,
        }
    }
}
