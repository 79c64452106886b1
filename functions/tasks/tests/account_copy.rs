//! The copy of accounts against the emulator: duplicates and out-of-order events change nothing.

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::dynamo::Table;
use ates_kernel::event::Envelope;
use ates_kernel::identity::Role;
use ates_kernel::inbox::Outcome;
use ates_kernel::testing::Emulator;
use ates_tasks::app::TaskStore;
use ates_tasks::store::Store;
use uuid::Uuid;

fn event(account: &AccountSnapshot) -> Envelope {
    Envelope {
        id: Uuid::now_v7(),
        name: "Account.Updated".into(),
        version: 1,
        occurred_at: chrono::Utc::now(),
        producer: "auth".into(),
        correlation_id: "test".into(),
        causation_id: None,
        data: serde_json::json!({}),
    }
    .with_data(account)
}

trait WithData {
    fn with_data(self, account: &AccountSnapshot) -> Self;
}

impl WithData for Envelope {
    fn with_data(mut self, a: &AccountSnapshot) -> Self {
        self.data = serde_json::json!({
            "account_id": a.account_id, "email": a.email, "full_name": a.full_name,
            "role": a.role, "active": a.active, "revision": a.revision
        });
        self
    }
}

#[tokio::test]
async fn account_events_apply_once_and_the_newest_revision_wins() {
    let emulator = Emulator::start();
    let config = emulator.sdk_config().await;
    emulator.create_table(&config, "TasksTable").await;
    let store = Store::new(Table::new(&config, "TasksTable".into()));

    let kiwi = AccountSnapshot {
        account_id: Uuid::now_v7(),
        email: "kiwi@uberpopug.example".into(),
        full_name: "Kiwi".into(),
        role: Role::Worker,
        active: true,
        revision: 1,
    };
    let created = event(&kiwi);
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
            .save_account(&promoted, &event(&promoted))
            .await
            .unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        store
            .save_account(&renamed, &event(&renamed))
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
