//! The schema registry: one JSON Schema per event name and version, kept in `events/`.
//!
//! Schemas are compiled into the binary and each is compiled to a validator only when first
//! used, so a function pays for the schemas it produces and nothing else.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

use crate::event::EventError;

/// `(name, version, schema text)` for every event in `events/`. A test keeps this list and the
/// folder identical.
pub const REGISTRY: &[(&str, u32, &str)] = &[
    (
        "Account.Created",
        1,
        include_str!("../../events/Account.Created/v1.schema.json"),
    ),
    (
        "Account.Updated",
        1,
        include_str!("../../events/Account.Updated/v1.schema.json"),
    ),
    (
        "Account.Deactivated",
        1,
        include_str!("../../events/Account.Deactivated/v1.schema.json"),
    ),
    (
        "Task.Created",
        1,
        include_str!("../../events/Task.Created/v1.schema.json"),
    ),
    (
        "Task.Created",
        2,
        include_str!("../../events/Task.Created/v2.schema.json"),
    ),
    (
        "Task.Created",
        3,
        include_str!("../../events/Task.Created/v3.schema.json"),
    ),
    (
        "Task.Assigned",
        1,
        include_str!("../../events/Task.Assigned/v1.schema.json"),
    ),
    (
        "Task.Assigned",
        2,
        include_str!("../../events/Task.Assigned/v2.schema.json"),
    ),
    (
        "Task.Completed",
        1,
        include_str!("../../events/Task.Completed/v1.schema.json"),
    ),
    (
        "Task.Completed",
        2,
        include_str!("../../events/Task.Completed/v2.schema.json"),
    ),
    (
        "Clock.DayEnded",
        1,
        include_str!("../../events/Clock.DayEnded/v1.schema.json"),
    ),
    (
        "Task.Priced",
        1,
        include_str!("../../events/Task.Priced/v1.schema.json"),
    ),
    (
        "Ledger.TransactionPosted",
        1,
        include_str!("../../events/Ledger.TransactionPosted/v1.schema.json"),
    ),
    (
        "Payout.Made",
        1,
        include_str!("../../events/Payout.Made/v1.schema.json"),
    ),
    (
        "Statement.Requested",
        1,
        include_str!("../../events/Statement.Requested/v1.schema.json"),
    ),
    (
        "Day.Closed",
        1,
        include_str!("../../events/Day.Closed/v1.schema.json"),
    ),
    (
        "Application.Submitted",
        1,
        include_str!("../../events/Application.Submitted/v1.schema.json"),
    ),
    (
        "Application.TestAssigned",
        1,
        include_str!("../../events/Application.TestAssigned/v1.schema.json"),
    ),
    (
        "Application.TestSubmitted",
        1,
        include_str!("../../events/Application.TestSubmitted/v1.schema.json"),
    ),
    (
        "Application.Accepted",
        1,
        include_str!("../../events/Application.Accepted/v1.schema.json"),
    ),
    (
        "Application.Declined",
        1,
        include_str!("../../events/Application.Declined/v1.schema.json"),
    ),
    (
        "Worker.ProfileSet",
        1,
        include_str!("../../events/Worker.ProfileSet/v1.schema.json"),
    ),
    (
        "ServiceType.Set",
        1,
        include_str!("../../events/ServiceType.Set/v1.schema.json"),
    ),
    (
        "Order.Created",
        1,
        include_str!("../../events/Order.Created/v1.schema.json"),
    ),
    (
        "Order.Rated",
        1,
        include_str!("../../events/Order.Rated/v1.schema.json"),
    ),
    (
        "Order.ExecutorAssigned",
        1,
        include_str!("../../events/Order.ExecutorAssigned/v1.schema.json"),
    ),
    (
        "Order.Valued",
        1,
        include_str!("../../events/Order.Valued/v1.schema.json"),
    ),
    (
        "Order.Supplied",
        1,
        include_str!("../../events/Order.Supplied/v1.schema.json"),
    ),
    (
        "Order.Pending",
        1,
        include_str!("../../events/Order.Pending/v1.schema.json"),
    ),
    (
        "Order.PreReported",
        1,
        include_str!("../../events/Order.PreReported/v1.schema.json"),
    ),
    (
        "Order.InWork",
        1,
        include_str!("../../events/Order.InWork/v1.schema.json"),
    ),
    (
        "Order.Reported",
        1,
        include_str!("../../events/Order.Reported/v1.schema.json"),
    ),
    (
        "Order.SuccessInvoiced",
        1,
        include_str!("../../events/Order.SuccessInvoiced/v1.schema.json"),
    ),
    (
        "Order.FailedInvoiced",
        1,
        include_str!("../../events/Order.FailedInvoiced/v1.schema.json"),
    ),
    (
        "Order.Paid",
        1,
        include_str!("../../events/Order.Paid/v1.schema.json"),
    ),
    (
        "Order.Cancelled",
        1,
        include_str!("../../events/Order.Cancelled/v1.schema.json"),
    ),
    (
        "Order.ExecutorReleased",
        1,
        include_str!("../../events/Order.ExecutorReleased/v1.schema.json"),
    ),
    (
        "Calculator.EstimateGiven",
        1,
        include_str!("../../events/Calculator.EstimateGiven/v1.schema.json"),
    ),
    (
        "Calculator.PriceSet",
        1,
        include_str!("../../events/Calculator.PriceSet/v1.schema.json"),
    ),
    (
        "Matching.ExecutorMatched",
        1,
        include_str!("../../events/Matching.ExecutorMatched/v1.schema.json"),
    ),
    (
        "Supplies.KitReceived",
        1,
        include_str!("../../events/Supplies.KitReceived/v1.schema.json"),
    ),
    (
        "Supplies.KitIssued",
        1,
        include_str!("../../events/Supplies.KitIssued/v1.schema.json"),
    ),
    (
        "Clock.WeekEnded",
        1,
        include_str!("../../events/Clock.WeekEnded/v1.schema.json"),
    ),
    (
        "Clock.MonthEnded",
        1,
        include_str!("../../events/Clock.MonthEnded/v1.schema.json"),
    ),
    (
        "Report.PreReportSubmitted",
        1,
        include_str!("../../events/Report.PreReportSubmitted/v1.schema.json"),
    ),
    (
        "Report.ReportSubmitted",
        1,
        include_str!("../../events/Report.ReportSubmitted/v1.schema.json"),
    ),
    (
        "Report.Fine",
        1,
        include_str!("../../events/Report.Fine/v1.schema.json"),
    ),
    (
        "Report.FineWaived",
        1,
        include_str!("../../events/Report.FineWaived/v1.schema.json"),
    ),
    (
        "Billing.InvoiceIssued",
        1,
        include_str!("../../events/Billing.InvoiceIssued/v1.schema.json"),
    ),
    (
        "Billing.CollectionRequested",
        1,
        include_str!("../../events/Billing.CollectionRequested/v1.schema.json"),
    ),
    (
        "Billing.InvoicePaid",
        1,
        include_str!("../../events/Billing.InvoicePaid/v1.schema.json"),
    ),
    (
        "Billing.InvoiceDeclined",
        1,
        include_str!("../../events/Billing.InvoiceDeclined/v1.schema.json"),
    ),
    (
        "Billing.OrderSettled",
        1,
        include_str!("../../events/Billing.OrderSettled/v1.schema.json"),
    ),
    (
        "Billing.StatementIssued",
        1,
        include_str!("../../events/Billing.StatementIssued/v1.schema.json"),
    ),
    (
        "Payment.CollectionSucceeded",
        1,
        include_str!("../../events/Payment.CollectionSucceeded/v1.schema.json"),
    ),
    (
        "Payment.CollectionFailed",
        1,
        include_str!("../../events/Payment.CollectionFailed/v1.schema.json"),
    ),
    (
        "PayoutDetails.HandedOver",
        1,
        include_str!("../../events/PayoutDetails.HandedOver/v1.schema.json"),
    ),
    (
        "Payment.SalaryPaid",
        1,
        include_str!("../../events/Payment.SalaryPaid/v1.schema.json"),
    ),
];

type Validators = Mutex<HashMap<(&'static str, u32), &'static jsonschema::Validator>>;

fn validators() -> &'static Validators {
    static CACHE: OnceLock<Validators> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn validator(name: &str, version: u32) -> Result<&'static jsonschema::Validator, String> {
    let (key_name, _, text) = REGISTRY
        .iter()
        .find(|(n, v, _)| *n == name && *v == version)
        .ok_or_else(|| "no such event in the schema registry".to_owned())?;
    let mut cache = validators().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = cache.get(&(*key_name, version)) {
        return Ok(found);
    }
    let schema: Value =
        serde_json::from_str(text).map_err(|e| format!("schema is not JSON: {e}"))?;
    let compiled =
        jsonschema::validator_for(&schema).map_err(|e| format!("schema does not compile: {e}"))?;
    // Leaked once per schema and process: validators live as long as the function does.
    let compiled: &'static jsonschema::Validator = Box::leak(Box::new(compiled));
    cache.insert((*key_name, version), compiled);
    Ok(compiled)
}

/// Checks an event payload against its registered schema.
pub fn check(name: &str, version: u32, data: &Value) -> Result<(), EventError> {
    let invalid = |reason: String| EventError::Invalid {
        name: name.to_owned(),
        version,
        reason,
    };
    let validator = validator(name, version).map_err(invalid)?;
    let errors: Vec<String> = validator
        .iter_errors(data)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(invalid(errors.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
    }

    #[test]
    fn every_registered_example_matches_its_schema() {
        for (name, version, _) in REGISTRY {
            let path = events_dir()
                .join(name)
                .join(format!("v{version}.example.json"));
            let example =
                std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            let example: Value = serde_json::from_str(&example).unwrap();
            check(name, *version, &example).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn the_registry_lists_exactly_the_schemas_in_the_events_folder() {
        let mut on_disk = Vec::new();
        for entry in std::fs::read_dir(events_dir()).unwrap() {
            let entry = entry.unwrap();
            if !entry.file_type().unwrap().is_dir() {
                continue;
            }
            for file in std::fs::read_dir(entry.path()).unwrap() {
                let file = file.unwrap().file_name().into_string().unwrap();
                if let Some(v) = file
                    .strip_prefix('v')
                    .and_then(|f| f.strip_suffix(".schema.json"))
                {
                    on_disk.push(format!("{} v{}", entry.file_name().to_string_lossy(), v));
                }
            }
        }
        let mut registered: Vec<_> = REGISTRY
            .iter()
            .map(|(n, v, _)| format!("{n} v{v}"))
            .collect();
        on_disk.sort();
        registered.sort();
        assert_eq!(on_disk, registered);
    }

    #[test]
    fn a_payload_missing_a_required_field_is_refused() {
        let err = check(
            "Account.Created",
            1,
            &serde_json::json!({"account_id": "x"}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("Account.Created"), "{err}");
    }

    #[test]
    fn an_unknown_event_is_refused() {
        assert!(check("Popug.Flew", 1, &serde_json::json!({})).is_err());
    }
}
