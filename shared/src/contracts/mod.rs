//! The published language: the events a context publishes that other contexts read, with the
//! one decoding function per event that every consumer uses (accepting every live version).
pub mod accounting;
pub mod accounts;
pub mod clock;
pub mod hiring;
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
        | "Statement.Requested"
        | "Day.Closed" => "accounting",
        "Clock.DayEnded" => "clock",
        "Application.Submitted"
        | "Application.TestAssigned"
        | "Application.TestSubmitted"
        | "Application.Accepted"
        | "Application.Declined"
        | "Worker.ProfileSet" => "hiring",
        _ => return None,
    })
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
