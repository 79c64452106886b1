//! The payment port's adapter: a recorder. Each transfer handed to "the bank" is written once
//! (`BANK#<payout id>` / `TRANSFER`, so handing it over twice pays once) into the accounting
//! table, where an operator or a bank integration picks it up. A real bank's API goes here,
//! behind the same [`Bank`] port, with the payout id as its idempotency key.

use std::collections::HashMap;

use ates_kernel::dynamo::{key, n, s, Table};

use crate::payout::{Iban, Transfer};
use crate::ports::{Bank, BankError};

pub struct RecordingBank {
    table: Table,
}

impl RecordingBank {
    pub fn new(table: Table) -> Self {
        Self { table }
    }
}

impl Bank for RecordingBank {
    async fn transfer(&self, transfer: &Transfer, to: &Iban) -> Result<(), BankError> {
        let mut item = key(format!("BANK#{}", transfer.payout_id), "TRANSFER");
        item.extend(HashMap::from([
            ("account_id".to_owned(), s(transfer.account_id.to_string())),
            ("iban".to_owned(), s(to.as_str())),
            ("amount_cents".to_owned(), n(transfer.amount_cents)),
            ("currency".to_owned(), s("USD")),
            ("recorded_at".to_owned(), s(chrono::Utc::now().to_rfc3339())),
        ]));
        // Already there: handed over before, and paid once.
        self.table
            .put_if(item, "attribute_not_exists(pk)", None)
            .await
            .map(|_| ())
            .map_err(|e| BankError(e.to_string()))
    }
}
