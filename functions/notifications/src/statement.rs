//! The daily statement (SPEC B5) as an employee reads it: the day's fees and rewards, and the
//! payout or the debt carried over, in plain text and in HTML. Money arrives as integer cents
//! and is written as dollars without ever becoming a float.

use ates_kernel::contracts::accounting::{StatementRequested, CURRENCY};

use crate::message::{escape, Content};

/// `1900` → `$19.00`, `-500` → `-$5.00`, `123456789` → `$1,234,567.89`.
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let dollars = (cents / 100).to_string();
    let mut grouped = String::with_capacity(dollars.len() + dollars.len() / 3);
    for (i, digit) in dollars.chars().enumerate() {
        if i > 0 && (dollars.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}${grouped}.{:02}", cents % 100)
}

/// How the day ended for the employee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayEnd {
    /// A positive balance was paid out (cents).
    Payout(i64),
    /// A negative balance is carried into the next day (cents, negative).
    Debt(i64),
    /// Nothing to pay and nothing owed.
    Even,
}

impl DayEnd {
    pub fn of(statement: &StatementRequested) -> DayEnd {
        if statement.paid_cents > 0 {
            DayEnd::Payout(statement.paid_cents)
        } else if statement.carried_cents < 0 {
            DayEnd::Debt(statement.carried_cents)
        } else {
            DayEnd::Even
        }
    }
}

/// Why a statement cannot be mailed, ever.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unmailable {
    #[error("the statement is in {0}; statements are written in {CURRENCY}")]
    Currency(String),
    #[error("the statement has no id")]
    NoId,
}

/// A statement that can be mailed: in the one currency aTES pays in, with an id to key its
/// message by.
pub fn check(statement: &StatementRequested) -> Result<(), Unmailable> {
    if statement.currency != CURRENCY {
        return Err(Unmailable::Currency(statement.currency.clone()));
    }
    if statement.statement_id.trim().is_empty() {
        return Err(Unmailable::NoId);
    }
    Ok(())
}

/// The statement mailed to `full_name`.
pub fn render(statement: &StatementRequested, full_name: &str) -> Content {
    let date = statement.business_date;
    let end = DayEnd::of(statement);
    let subject = match end {
        DayEnd::Payout(paid) => format!("aTES statement for {date}: {} paid out", money(paid)),
        DayEnd::Debt(debt) => {
            format!("aTES statement for {date}: {} carried over", money(debt))
        }
        DayEnd::Even => format!("aTES statement for {date}"),
    };
    let verdict = match end {
        DayEnd::Payout(paid) => format!(
            "Paid out: {}. Your balance starts the next day at $0.00.",
            money(paid)
        ),
        DayEnd::Debt(debt) => format!(
            "Debt carried over: {}. It is taken from what you earn next.",
            money(debt)
        ),
        DayEnd::Even => "Nothing to pay out and nothing owed.".to_owned(),
    };
    let lines = [
        ("Opening balance", statement.opening_balance_cents),
        ("Fees", statement.fees_cents),
        ("Rewards", statement.rewards_cents),
        ("Closing balance", statement.closing_balance_cents),
    ];

    let mut text = format!("Hello {full_name},\n\nyour statement for {date} ({CURRENCY}):\n\n");
    for (label, cents) in lines {
        text.push_str(&format!("  {label:<16}{:>16}\n", money(cents)));
    }
    text.push_str(&format!(
        "\n{verdict}\n\naTES, the Awesome Task Exchange System of UberPopug Inc.\n"
    ));

    let mut rows = String::new();
    for (label, cents) in lines {
        rows.push_str(&format!(
            "<tr><td>{label}</td><td style=\"text-align:right\">{}</td></tr>",
            money(cents)
        ));
    }
    let html = format!(
        "<!DOCTYPE html><html><body>\
         <p>Hello {name},</p>\
         <p>your statement for {date} ({CURRENCY}):</p>\
         <table>{rows}</table>\
         <p><strong>{verdict}</strong></p>\
         <p>aTES, the Awesome Task Exchange System of UberPopug Inc.</p>\
         </body></html>",
        name = escape(full_name),
    );
    Content {
        subject,
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_dollars_and_cents_from_integer_cents() {
        assert_eq!(money(1900), "$19.00");
        assert_eq!(money(-500), "-$5.00");
        assert_eq!(money(0), "$0.00");
        assert_eq!(money(7), "$0.07");
        assert_eq!(money(-1), "-$0.01");
        assert_eq!(money(100_000), "$1,000.00");
        assert_eq!(money(123_456_789), "$1,234,567.89");
        assert_eq!(money(i64::MIN), "-$92,233,720,368,547,758.08");
    }
}
