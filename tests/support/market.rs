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

/// Billing has posted the order's charge (its client's, and its executor's share).
pub fn charged(stack: &Stack, order_id: &str) {
    stack.eventually(60, "billing has the order's charge", || {
        let found = stack.items("BillingTable", &format!("MOVE#charge:{order_id}"));
        (!found.is_empty()).then_some(())
    });
}

/// The midnights that end this week and this month (UTC here, as the local clock's calendar).
pub struct PeriodEnds {
    /// The month's orders and statements are of this month.
    pub month: String,
    monday: chrono::NaiveDate,
    first_of_next_month: chrono::NaiveDate,
}

impl PeriodEnds {
    pub fn from_today() -> PeriodEnds {
        use chrono::Datelike;
        let today = Utc::now().date_naive();
        PeriodEnds {
            month: today.format("%Y-%m").to_string(),
            monday: today + chrono::Days::new((7 - today.weekday().num_days_from_monday()).into()),
            first_of_next_month: today.with_day(1).expect("a first day") + chrono::Months::new(1),
        }
    }

    /// The week ends through the clock's schedule (and the month before it, if it ends first:
    /// each midnight in order). Answers the week's invocation.
    pub fn end_week(&self, stack: &Stack) -> Value {
        if self.first_of_next_month < self.monday {
            end_day_at(stack, self.first_of_next_month);
        }
        end_day_at(stack, self.monday)
    }

    /// The month ends, if the week's end did not end it already.
    pub fn end_month(&self, stack: &Stack) {
        if self.first_of_next_month > self.monday {
            end_day_at(stack, self.first_of_next_month);
        }
    }
}

/// The worker gives an IBAN for their payouts.
pub fn give_iban(stack: &Stack, worker: &str) {
    let iban = json!({"iban": "DE89 3704 0044 0532 0130 00"});
    let (status, details) = stack.call(
        "PUT",
        "/accounting/me/payout-details",
        Some(worker),
        Some(&iban),
    );
    assert_eq!(status, 200, "{details}");
}

/// The worker's statement of `month` once its salary is paid, and the salary's payout as payments
/// shows it to them (posted: the bank took it).
pub fn paid_statement(stack: &Stack, worker: &str, worker_id: &str, month: &str) -> (Value, Value) {
    let statement = stack.eventually(90, "the statement's salary is paid", || {
        let (status, page) = stack.call("GET", "/billing/me/statements", Some(worker), None);
        assert_eq!(status, 200, "{page}");
        page["statements"]
            .as_array()?
            .iter()
            .find(|s| s["month"] == month && s["salary"] == "paid")
            .cloned()
    });
    let (status, mine) = stack.call("GET", "/payments/me", Some(worker), None);
    assert_eq!(status, 200, "{mine}");
    let salary_id = format!("salary:{worker_id}:{month}");
    let salary = mine["payouts"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["payout_id"] == salary_id.as_str()))
        .cloned()
        .unwrap_or_else(|| panic!("no {salary_id}: {mine}"));
    assert_eq!(
        (salary["status"].as_str(), salary["sent_to"].as_str()),
        (Some("posted"), Some("••••3000")),
        "{mine}"
    );
    (statement, salary)
}
