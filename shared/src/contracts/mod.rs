//! The published language: the events a context publishes that other contexts read, with the
//! one decoding function per event that every consumer uses (accepting every live version).
use serde::de::DeserializeOwned;

use crate::event::{DomainEvent, Envelope, EventError};

pub mod accounting;
pub mod accounts;
pub mod billing;
pub mod calculator;
pub mod clock;
pub mod hiring;
pub mod matching;
pub mod orders;
pub mod payments;
pub mod reports;
pub mod supplies;
pub mod tasks;

/// The one context that may publish an event, by the event's name: a consumer refuses an event
/// from anyone else (the bus's `source`, and the envelope's `producer`). `None` for a name the
/// published language does not know.
pub fn producer_of(event: &str) -> Option<&'static str> {
    Some(match event {
        "Account.Created" | "Account.Updated" | "Account.Deactivated" => "auth",
        "Task.Created" | "Task.Assigned" | "Task.Completed" => "tasks",
        "Task.Priced"
        | "Ledger.TransactionPosted"
        | "Payout.Made"
        | "PayoutDetails.HandedOver"
        | "Statement.Requested"
        | "Day.Closed" => "accounting",
        "Clock.DayEnded" | "Clock.WeekEnded" | "Clock.MonthEnded" => "clock",
        "Application.Submitted"
        | "Application.TestAssigned"
        | "Application.TestSubmitted"
        | "Application.Accepted"
        | "Application.Declined"
        | "Worker.ProfileSet" => "hiring",
        "ServiceType.Set"
        | "Order.Created"
        | "Order.Rated"
        | "Order.ExecutorAssigned"
        | "Order.Valued"
        | "Order.Supplied"
        | "Order.Pending"
        | "Order.PreReported"
        | "Order.InWork"
        | "Order.Reported"
        | "Order.SuccessInvoiced"
        | "Order.FailedInvoiced"
        | "Order.Paid"
        | "Order.Cancelled"
        | "Order.ExecutorReleased" => "orders",
        "Calculator.EstimateGiven" | "Calculator.PriceSet" => "calculator",
        "Matching.ExecutorMatched" => "matching",
        "Supplies.KitIssued" | "Supplies.KitReceived" => "supplies",
        "Report.PreReportSubmitted"
        | "Report.ReportSubmitted"
        | "Report.Fine"
        | "Report.FineWaived" => "reports",
        "Billing.InvoiceIssued"
        | "Billing.CollectionRequested"
        | "Billing.InvoicePaid"
        | "Billing.InvoiceDeclined"
        | "Billing.OrderSettled"
        | "Billing.StatementIssued" => "billing",
        "Payment.CollectionSucceeded" | "Payment.CollectionFailed" | "Payment.SalaryPaid" => {
            "payments"
        }
        _ => return None,
    })
}

/// The payload of a `T` event that exists in version 1 only.
pub(crate) fn only_v1<T: DomainEvent + DeserializeOwned>(
    envelope: &Envelope,
) -> Result<T, EventError> {
    if envelope.name != T::NAME || envelope.version != 1 {
        return Err(EventError::Invalid {
            name: envelope.name.clone(),
            version: envelope.version,
            reason: format!("this consumer knows {} version 1", T::NAME),
        });
    }
    envelope.decode()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_registered_event_has_its_one_producer() {
        for (name, _, _) in crate::schema::REGISTRY {
            assert!(super::producer_of(name).is_some(), "{name} has no producer");
        }
        assert_eq!(super::producer_of("Popug.Flew"), None);
    }
}

/// Every marketplace event's example reads as its Rust type and writes back as it was: the
/// schema and the type describe the same payload.
#[cfg(test)]
mod marketplace_examples {
    use serde::{de::DeserializeOwned, Serialize};
    use serde_json::Value;

    use super::{billing, calculator, clock, matching, orders, payments, reports, supplies};
    use crate::event::{Cause, DomainEvent, Envelope};

    fn example(name: &str) -> Value {
        let path = format!(
            "{}/../events/{name}/v1.example.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// The example, as `T`, wrapped and decoded by `decode`, written back unchanged.
    fn round_trip<T, D>(decode: D)
    where
        T: DomainEvent + DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
        D: Fn(&Envelope) -> Result<T, crate::event::EventError>,
    {
        let data = example(T::NAME);
        let typed: T = serde_json::from_value(data.clone()).unwrap();
        assert_eq!(serde_json::to_value(&typed).unwrap(), data, "{}", T::NAME);
        let at = "2026-12-07T09:00:00Z".parse().unwrap();
        let producer = super::producer_of(T::NAME).unwrap();
        let event = Envelope::wrap(producer, &typed, &Cause::request("test"), at).unwrap();
        assert_eq!(decode(&event).unwrap(), typed, "{}", T::NAME);
    }

    #[test]
    fn every_marketplace_example_reads_as_its_type_and_writes_back_unchanged() {
        round_trip(orders::decode_service_type_set);
        round_trip(orders::decode_order_created);
        round_trip(orders::decode_order_rated);
        round_trip(orders::decode_order_executor_assigned);
        round_trip(orders::decode_order_valued);
        round_trip(orders::decode_order_supplied);
        round_trip(orders::decode_order_pending);
        round_trip(orders::decode_order_pre_reported);
        round_trip(orders::decode_order_in_work);
        round_trip(orders::decode_order_reported);
        round_trip(orders::decode_order_success_invoiced);
        round_trip(orders::decode_order_failed_invoiced);
        round_trip(orders::decode_order_paid);
        round_trip(orders::decode_order_cancelled);
        round_trip(orders::decode_order_executor_released);
        round_trip(calculator::decode_estimate_given);
        round_trip(calculator::decode_price_set);
        round_trip(matching::decode_executor_matched);
        round_trip(supplies::decode_kit_issued);
        round_trip(clock::decode_week_ended);
        round_trip(clock::decode_month_ended);
        round_trip(reports::decode_pre_report_submitted);
        round_trip(reports::decode_report_submitted);
        round_trip(reports::decode_fine);
        round_trip(reports::decode_fine_waived);
        round_trip(billing::decode_invoice_issued);
        round_trip(billing::decode_collection_requested);
        round_trip(billing::decode_invoice_paid);
        round_trip(billing::decode_invoice_declined);
        round_trip(billing::decode_order_settled);
        round_trip(billing::decode_statement_issued);
        round_trip(payments::decode_collection_succeeded);
        round_trip(payments::decode_collection_failed);
        round_trip(payments::decode_salary_paid);
    }

    #[test]
    fn an_order_decoder_refuses_another_order_event() {
        let data = example("Order.Pending");
        let step: orders::OrderPending = serde_json::from_value(data).unwrap();
        let at = "2026-12-07T09:00:00Z".parse().unwrap();
        let event = Envelope::wrap("orders", &step, &Cause::request("test"), at).unwrap();
        assert!(orders::decode_order_in_work(&event).is_err());
        assert!(orders::decode_order_pending(&event).is_ok());
    }

    #[test]
    fn every_place_is_named_in_the_schemas_as_in_the_code() {
        let schema: Value = serde_json::from_str(
            crate::schema::REGISTRY
                .iter()
                .find(|(n, _, _)| *n == "Order.Created")
                .unwrap()
                .2,
        )
        .unwrap();
        let names = &schema["properties"]["places"]["items"]["enum"];
        let ours: Vec<&str> = orders::Place::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(names, &serde_json::json!(ours));
        for place in orders::Place::ALL {
            assert_eq!(orders::Place::parse(place.as_str()), Some(place));
            assert_eq!(serde_json::to_value(place).unwrap(), place.as_str());
        }
    }
}
