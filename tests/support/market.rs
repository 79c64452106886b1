//! The marketplace's people and things that several end-to-end tests need: a worker matching and
//! the calculator know, a manager's service type, a kit handed out.

use chrono::{SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::Stack;

/// A time as the API writes it: RFC 3339 in UTC, whole seconds.
pub fn time(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The order as `reader` (its client, its executor, staff) reads it, once `ready` says so.
pub fn order_when(
    stack: &Stack,
    order_id: &str,
    reader: &str,
    what: &str,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    stack.eventually(90, what, || {
        let (status, order) = stack.call("GET", &format!("/orders/{order_id}"), Some(reader), None);
        (status == 200 && ready(&order)).then_some(order)
    })
}

/// Whether the order's net has a token in `place`.
pub fn marked(order: &Value, place: &str) -> bool {
    order["places"]
        .as_array()
        .is_some_and(|places| places.iter().any(|p| p == place))
}

/// The clock's schedule fired at `day`'s midnight (UTC here): the day before it ends (with its
/// week and month when it was their last). Answers the invocation.
pub fn end_day_at(stack: &Stack, day: chrono::NaiveDate) -> Value {
    let (status, fired) = stack.call(
        "POST",
        &format!("/_local/schedules/ClockEndDayFunction/DayEnd/fire?at={day}T00:00:00Z"),
        None,
        None,
    );
    assert_eq!(status, 200, "{fired}");
    fired
}

/// A new worker with `skill` at `level` (auth's account, hiring's profile), once matching can
/// choose them and the calculator can price them.
pub fn worker(stack: &Stack, skill: &str, level: &str) -> (String, String) {
    let (id, token) = stack.employee(&stack.admin_token(), "worker");
    stack.publish(
        "hiring",
        "Worker.ProfileSet",
        json!({"account_id": id, "skills": [skill], "level": level, "revision": 1, "set_at": time(Utc::now())}),
    );
    stack.eventually(60, "matching and the calculator know the worker", || {
        let matching = stack.items("MatchingTable", &format!("SKILL#{skill}"));
        let calculator = stack.items("CalculatorTable", &format!("WORKER#{id}"));
        let known = matching.iter().any(|i| i["worker_id"]["S"] == id.as_str());
        (known && !calculator.is_empty()).then_some(())
    });
    (id, token)
}

/// A manager's new service type needing `skill`: $120.00 for two hours, a sponge.
pub fn service_type(stack: &Stack, manager: &str, skill: &str) -> String {
    let body = json!({
        "name": format!("Carpets {skill}"), "base_price_cents": 12000, "required_skill": skill,
        "duration_minutes": 120, "supplies": [{"item": "sponge", "quantity": 2}]
    });
    let (status, created) = stack.call("POST", "/orders/service-types", Some(manager), Some(&body));
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        (created["active"].as_bool(), created["revision"].as_u64()),
        (Some(true), Some(1))
    );
    created["service_type_id"].as_str().unwrap().to_owned()
}

/// A manager hands out the order's kit once the supplier delivered it; answers the kit.
pub fn hand_out_kit(stack: &Stack, manager: &str, order_id: &str, executor: &str) -> Value {
    let kit = stack.eventually(90, "the supplier delivered the order's kit", || {
        let (status, listed) =
            stack.call("GET", "/supplies/kits?status=received", Some(manager), None);
        assert_eq!(status, 200, "{listed}");
        listed["kits"]
            .as_array()?
            .iter()
            .find(|k| k["order_id"] == order_id && k["executor_id"] == executor)
            .cloned()
    });
    let items: Vec<&str> = kit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["item"].as_str().unwrap())
        .collect();
    assert_eq!(
        items,
        ["sponge", "fortune cookie"],
        "the type's supplies and a fortune cookie"
    );
    let path = format!("/supplies/kits/{}/issue", kit["kit_id"].as_str().unwrap());
    let (status, issued) = stack.call("POST", &path, Some(manager), Some(&json!({})));
    assert_eq!(status, 200, "{issued}");
    kit
}
