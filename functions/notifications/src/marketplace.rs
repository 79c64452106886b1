//! The marketplace's mails (SPEC M9), one per cause: an order's progress for its client (an
//! executor matched, the work pending for its slot, the work reported: approve or decline), a
//! kit to hand out for the supply desk, an invoice issued, paid or declined, a worker's monthly
//! statement. Plain Rust: an event in, whom it is for and what it says out.
//!
//! Each mail is keyed by its cause, so an event delivered again (under any event id, in any
//! order) finds its message: an order's step by the order's version (`order:<id>:v<version>`;
//! an executor matched again after a release is a new step, and a new mail), a kit by its
//! delivery (`kit:<id>:<attempt>`), an invoice by what happened to it (`invoice:<id>:issued`,
//! `:paid`, `:declined:<attempt>`), a statement by its worker and month (`salary:<worker>:<month>`, as billing keys it).

use ates_kernel::contracts::billing::{
    Dunning, InvoiceDeclined, InvoiceIssued, InvoicePaid, StatementIssued,
};
use ates_kernel::contracts::orders::OrderStep;
use ates_kernel::contracts::supplies::KitReceived;
use uuid::Uuid;

use crate::applicant::deadline;
use crate::message::{Content, Kind};
use crate::statement::money;

const SIGNATURE: &str = "UberPopug Inc, through aTES";

/// Whom a mail goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum To {
    /// An account: its address and name come from notifications' copy of accounts.
    Account(Uuid),
    /// The supply desk's shared mailbox (`SUPPLY_DESK`): whoever hands out kits today reads it.
    SupplyDesk,
}

/// A mail about to be written: its key, its kind, its recipient, and its words once the
/// recipient's name is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub message_id: String,
    pub kind: Kind,
    pub to: To,
    /// What the mail tells, to be addressed (`write`).
    pub about: About,
}

/// What a mail tells, with what it needs to say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum About {
    OrderMatched(OrderStep),
    OrderPending(OrderStep),
    OrderReported(OrderStep),
    KitToHandOut(KitReceived),
    InvoiceIssued(InvoiceIssued),
    InvoicePaid(InvoicePaid),
    InvoiceDeclined(InvoiceDeclined),
    MonthlyStatement(StatementIssued),
}

/// The mail of an order's step, to the order's client.
pub fn order_step(about: About, client: Uuid) -> Cause {
    let (kind, step) = match &about {
        About::OrderMatched(step) => (Kind::OrderMatched, step),
        About::OrderPending(step) => (Kind::OrderPending, step),
        About::OrderReported(step) => (Kind::OrderReported, step),
        other => unreachable!("{other:?} is not an order's step"),
    };
    Cause {
        message_id: format!("order:{}:v{}", step.order_id, step.version),
        kind,
        to: To::Account(client),
        about,
    }
}

/// The mail of every other cause: its recipient is in the event itself.
pub fn cause(about: About) -> Cause {
    let (message_id, kind, to) = match &about {
        About::KitToHandOut(kit) => (
            format!("kit:{}:{}", kit.kit_id, kit.attempt),
            Kind::KitToHandOut,
            To::SupplyDesk,
        ),
        About::InvoiceIssued(i) => (
            format!("invoice:{}:issued", i.invoice_id),
            Kind::InvoiceIssued,
            To::Account(i.client_id),
        ),
        About::InvoicePaid(i) => (
            format!("invoice:{}:paid", i.invoice_id),
            Kind::InvoicePaid,
            To::Account(i.client_id),
        ),
        About::InvoiceDeclined(i) => (
            format!("invoice:{}:declined:{}", i.invoice_id, i.attempt),
            Kind::InvoiceDeclined,
            To::Account(i.client_id),
        ),
        About::MonthlyStatement(s) => (
            format!("salary:{}:{}", s.worker_id, s.month),
            Kind::MonthlyStatement,
            To::Account(s.worker_id),
        ),
        About::OrderMatched(_) | About::OrderPending(_) | About::OrderReported(_) => {
            unreachable!("an order's step goes to its client: order_step")
        }
    };
    Cause {
        message_id,
        kind,
        to,
        about,
    }
}

/// The mail's words, to `name`; `site` is the web app's address (no trailing slash).
pub fn write(about: &About, name: &str, site: &str) -> Content {
    let order_page = |id: Uuid| format!("{site}/#/orders/{id}");
    let invoice_page = |id: Uuid| format!("{site}/#/billing/invoices/{id}");
    // The id's tail, as the web app shows ids: time-ordered ids share their head.
    let short = |id: Uuid| format!("…{}", &id.simple().to_string()[24..]);
    let (subject, body) = match about {
        About::OrderMatched(step) => (
            format!("Your order {} has its executor", short(step.order_id)),
            format!(
                "we found the executor for your order. Once their kit is ready and their price \
                 set, the order waits for its slot.\n\nFollow it: {}",
                order_page(step.order_id)
            ),
        ),
        About::OrderPending(step) => (
            format!("Your order {} is ready for its slot", short(step.order_id)),
            format!(
                "everything for your order is ready: the executor, their kit and the price. \
                 The work begins at the slot you chose.\n\nFollow it: {}",
                order_page(step.order_id)
            ),
        ),
        About::OrderReported(step) => (
            format!(
                "Your order {} is done: approve or decline",
                short(step.order_id)
            ),
            format!(
                "the executor reported the work done. Look at their report and approve it, or \
                 decline it with a reason; a report nobody answers is approved by itself after \
                 72 hours.\n\nThe report: {}",
                order_page(step.order_id)
            ),
        ),
        About::KitToHandOut(kit) => {
            let items: Vec<String> = kit
                .items
                .iter()
                .map(|line| format!("- {} × {}", line.quantity, line.item))
                .collect();
            let to = kit.executor_id.map_or_else(
                || "its executor, once matching names one".to_owned(),
                |id| format!("the executor {id}"),
            );
            (
                format!("A kit to hand out: order {}", short(kit.order_id)),
                format!(
                    "the supplier delivered the kit of order {order}. Hand it to {to}:\n{items}\n\n\
                     The kits to hand out: {site}/#/supplies/kits",
                    order = kit.order_id,
                    items = items.join("\n"),
                ),
            )
        }
        About::InvoiceIssued(invoice) => (
            format!(
                "Your invoice of week {}: {}",
                invoice.week,
                money(invoice.total_cents)
            ),
            format!(
                "your invoice of week {week} is issued: {total} for {orders} order(s). We collect \
                 it from your card on file.\n\nThe invoice: {page}",
                week = invoice.week,
                total = money(invoice.total_cents),
                orders = invoice.lines.len(),
                page = invoice_page(invoice.invoice_id),
            ),
        ),
        About::InvoicePaid(invoice) => (
            format!("Your invoice of week {} is paid", invoice.week),
            format!(
                "we collected {total} for your invoice of week {week}. Thank you.\n\n\
                 The invoice: {page}",
                total = money(invoice.total_cents),
                week = invoice.week,
                page = invoice_page(invoice.invoice_id),
            ),
        ),
        About::InvoiceDeclined(invoice) => {
            let next = match (invoice.status, invoice.retry_at) {
                (Dunning::Retrying, Some(at)) => {
                    format!("We try again on {}.", deadline(at))
                }
                _ => "We do not try again: please contact us to settle it.".to_owned(),
            };
            (
                format!("Your invoice of week {} was declined", invoice.week),
                format!(
                    "collecting {total} for your invoice of week {week} was declined (attempt \
                     {attempt}): {reason}.\n\n{next} You can change your card on your account \
                     page: {site}/#/account\n\nThe invoice: {page}",
                    total = money(invoice.total_cents),
                    week = invoice.week,
                    attempt = invoice.attempt,
                    reason = invoice.reason,
                    page = invoice_page(invoice.invoice_id),
                ),
            )
        }
        About::MonthlyStatement(s) => {
            let outcome = if s.salary_cents > 0 {
                format!(
                    "Your salary, {}, is on its way to you.",
                    money(s.salary_cents)
                )
            } else {
                format!(
                    "Nothing is paid this month: {} carries to the next one.",
                    money(s.carried_out_cents)
                )
            };
            (
                format!("Your statement of {}: {}", s.month, money(s.total_cents)),
                format!(
                    "your statement of {month}:\n\
                     carried in {carried_in}\n\
                     orders {shares}\n\
                     fines -{fines}\n\
                     fines waived {waivers}\n\
                     bonuses {bonuses}\n\
                     total {total}\n\n\
                     {outcome}\n\nYour earnings: {site}/#/billing/me",
                    month = s.month,
                    carried_in = money(s.carried_in_cents),
                    shares = money(s.shares_cents),
                    fines = money(s.fines_cents),
                    waivers = money(s.waivers_cents),
                    bonuses = money(s.bonuses_cents),
                    total = money(s.total_cents),
                ),
            )
        }
    };
    Content::from_text(subject, format!("Hello {name},\n\n{body}\n\n{SIGNATURE}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ates_kernel::contracts::clock::Week;
    use chrono::{DateTime, Utc};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn declined(attempt: u32, status: Dunning, retry_at: Option<&str>) -> About {
        About::InvoiceDeclined(InvoiceDeclined {
            invoice_id: Uuid::nil(),
            client_id: Uuid::max(),
            week: Week::parse("2026-W49").unwrap(),
            total_cents: 12_345,
            attempt,
            status,
            retry_at: retry_at.map(at),
            reason: "card declined".into(),
            declined_at: at("2026-12-07T10:00:00Z"),
        })
    }

    #[test]
    fn each_declined_attempt_is_its_own_cause_and_says_what_comes_next() {
        let first = cause(declined(1, Dunning::Retrying, Some("2026-12-08T10:00:00Z")));
        let last = cause(declined(4, Dunning::Uncollectible, None));
        assert_ne!(first.message_id, last.message_id);
        assert_eq!(first.to, To::Account(Uuid::max()));
        let retrying = write(&first.about, "Kiwi", "https://ates.test");
        assert!(retrying.text.contains("$123.45"), "{}", retrying.text);
        assert!(retrying.text.contains("Tuesday 8 December 2026, 10:00 UTC"));
        let given_up = write(&last.about, "Kiwi", "https://ates.test");
        assert!(given_up.text.contains("We do not try again"));
    }

    #[test]
    fn an_order_step_is_keyed_by_the_orders_version() {
        let step = |version| OrderStep {
            order_id: Uuid::nil(),
            version,
            places: vec![],
            executor_id: Uuid::max(),
            at: at("2026-12-07T10:00:00Z"),
        };
        let matched = order_step(About::OrderMatched(step(3)), Uuid::max());
        let again = order_step(About::OrderMatched(step(9)), Uuid::max());
        assert_eq!(
            matched.message_id,
            "order:00000000-0000-0000-0000-000000000000:v3"
        );
        assert_ne!(
            matched.message_id, again.message_id,
            "matched again: a new mail"
        );
        let reported = write(
            &About::OrderReported(step(7)),
            "<Kiwi>",
            "https://ates.test",
        );
        assert!(reported.subject.contains("approve or decline"));
        assert!(
            reported.html.contains("Hello &lt;Kiwi&gt;"),
            "names are escaped"
        );
        assert!(reported
            .text
            .contains("https://ates.test/#/orders/00000000-0000-0000-0000-000000000000"));
    }
}
