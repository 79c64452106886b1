//! The copy of accounts as DynamoDB keeps it: once per consumer and event, only forward in
//! revision, and its other effects only with it.

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::copies;
use ates_kernel::dynamo::{get_n, key, n, update, Table, Transaction};
use ates_kernel::identity::Role;
use ates_kernel::inbox::Outcome;
use ates_kernel::testing::{account, account_event, Emulator};
use aws_sdk_dynamodb::types::Update;

const CONSUMER: &str = "test.sync-account";

async fn changes(table: &Table) -> u64 {
    let counter = table.get(key("COUNTER", "COUNTER")).await.unwrap();
    counter.map_or(0, |c| get_n(&c, "changes").unwrap())
}

#[tokio::test]
async fn an_account_event_applies_once_and_an_older_revision_changes_nothing() {
    let (_emulator, _config, table) = Emulator::with_table("CopiesTable").await;
    // An effect that goes with the copy: a count of the changes applied.
    let count_one = || {
        update(
            Update::builder()
                .table_name(table.name())
                .set_key(Some(key("COUNTER", "COUNTER")))
                .update_expression("ADD changes :one")
                .expression_attribute_values(":one", n(1)),
        )
    };

    let kiwi = account("Kiwi", Role::Worker);
    let moved = AccountSnapshot {
        email: "kiwi@new.popug.test".into(),
        revision: 3,
        ..kiwi.clone()
    };
    let renamed = AccountSnapshot {
        full_name: "Kiwi P.".into(),
        revision: 2,
        ..kiwi.clone()
    };
    let moved_event = account_event(&moved);
    let commit = |snapshot, event| {
        copies::commit(
            &table,
            CONSUMER,
            event,
            snapshot,
            Transaction::new().with("count", count_one()),
        )
    };
    assert_eq!(
        commit(&moved, &moved_event).await.unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        commit(&moved, &moved_event).await.unwrap(),
        Outcome::Duplicate,
        "a second delivery changes nothing"
    );
    assert_eq!(
        commit(&renamed, &account_event(&renamed)).await.unwrap(),
        Outcome::Superseded,
        "an older revision arriving late is ignored"
    );
    let copy = copies::read(&table, kiwi.account_id).await.unwrap();
    assert_eq!(copy, Some(moved));
    assert_eq!(
        changes(&table).await,
        1,
        "the effects go only with the copy"
    );
}
