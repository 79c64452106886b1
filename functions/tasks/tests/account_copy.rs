//! The copy of accounts against the emulator: duplicates and out-of-order events change nothing.

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::copies::KeepsAccountCopies;
use ates_kernel::identity::Role;
use ates_kernel::inbox::Outcome;
use ates_kernel::testing::{account, account_event, Emulator};
use ates_tasks::app::AssignablePool;
use ates_tasks::store::Store;

#[tokio::test]
async fn account_events_apply_once_and_the_newest_revision_wins() {
    let (_emulator, _config, table) = Emulator::with_table("TasksTable").await;
    let store = Store::new(table);

    let kiwi = account("Kiwi", Role::Worker);
    let created = account_event(&kiwi);
    assert_eq!(
        store.save_account(&kiwi, &created).await.unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        store.save_account(&kiwi, &created).await.unwrap(),
        Outcome::Duplicate,
        "a second delivery changes nothing"
    );
    assert_eq!(
        store.assignable_accounts().await.unwrap(),
        vec![kiwi.account_id]
    );

    let promoted = AccountSnapshot {
        role: Role::Manager,
        revision: 3,
        ..kiwi.clone()
    };
    let renamed = AccountSnapshot {
        full_name: "Kiwi P.".into(),
        revision: 2,
        ..kiwi.clone()
    };
    assert_eq!(
        store
            .save_account(&promoted, &account_event(&promoted))
            .await
            .unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        store
            .save_account(&renamed, &account_event(&renamed))
            .await
            .unwrap(),
        Outcome::Superseded,
        "an older revision arriving late is ignored"
    );
    assert!(
        store.assignable_accounts().await.unwrap().is_empty(),
        "a manager takes no tasks"
    );
}
