//! The contract of supplies' store ports: what the use cases rely on, asserted through the ports
//! alone. Every contract runs on the in-memory store the use-case tests use (`memory::…`) and on
//! the DynamoDB store over a fresh table of one emulator shared by this binary (`dynamo::…`).

use ates_kernel::contracts::orders::SupplyLine;
use ates_kernel::testing::{account_copies_move_only_forward, at, every_page};
use ates_kernel::usecase::Failure;
use ates_supplies::kit::{kit_id, Chase, Kit, OrderCopy, Status};
use ates_supplies::ports::{Audit, KitAsRead, KitChanges, Kits, Orders, Saved};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

ates_kernel::store_contracts!(
    ates_supplies::memory::MemoryStore::default(),
    ates_supplies::store::Store::new,
    "Supplies";
    a_kit_is_added_once_and_only_over_the_order_copy_read,
    a_kit_changes_only_from_the_version_read,
    the_order_copy_changes_only_from_the_version_read_with_its_kit,
    kits_wait_for_the_supplier_by_deadline,
    kits_are_listed_by_status_newest_first_and_paged,
    the_audit_is_append_only_and_listed_newest_first_within_its_span,
    account_copies_move_only_forward,
);

fn now() -> DateTime<Utc> {
    at("2026-12-01T10:00:00.123456Z")
}

const DEADLINE: Duration = Duration::minutes(30);

fn kit(order: &OrderCopy, at: DateTime<Utc>) -> Kit {
    let soap = SupplyLine {
        item: "soap".into(),
        quantity: 1,
    };
    Kit::request(order.order_id, &[soap], order, at, DEADLINE)
}

async fn added<S: KitChanges>(store: &S, order_id: Uuid, at: DateTime<Utc>) -> Kit {
    let kit = kit(&OrderCopy::new(order_id), at);
    assert_eq!(store.add_kit(&kit, None).await.unwrap(), Saved::Done);
    kit
}

async fn a_kit_is_added_once_and_only_over_the_order_copy_read<S: Kits + Orders + KitChanges>(
    store: &S,
) {
    let order_id = Uuid::now_v7();
    let first = added(store, order_id, now()).await;
    assert_eq!(store.kit(first.kit_id).await.unwrap(), Some(first.clone()));
    assert_eq!(
        store.add_kit(&first, None).await.unwrap(),
        Saved::Stale,
        "once"
    );

    // An executor assigned after the copy was read: the kit made from the older copy is stale.
    let other = Uuid::now_v7();
    let copy = OrderCopy::new(other).assigned(Uuid::now_v7(), 3).unwrap();
    let saved = store
        .change_order(None, &copy, KitAsRead::Absent, &[])
        .await
        .unwrap();
    assert_eq!(saved, Saved::Done);
    let from_nothing = kit(&OrderCopy::new(other), now());
    assert_eq!(
        store.add_kit(&from_nothing, None).await.unwrap(),
        Saved::Stale
    );
    let from_copy = kit(&copy, now());
    assert_eq!(
        store.add_kit(&from_copy, Some(&copy)).await.unwrap(),
        Saved::Done
    );
    assert_eq!(
        store.kit(kit_id(other)).await.unwrap().unwrap().executor_id,
        copy.executor_id
    );
}

async fn a_kit_changes_only_from_the_version_read<S: Kits + KitChanges + Audit>(store: &S) {
    let kit = added(store, Uuid::now_v7(), now()).await;
    let (ordered, _) = kit.first_order(now(), DEADLINE).unwrap();
    assert_eq!(
        store.change_kit(&kit, &ordered, &[], &[]).await.unwrap(),
        Saved::Done
    );
    let (again, _) = kit.first_order(now(), DEADLINE).unwrap();
    assert_eq!(
        store.change_kit(&kit, &again, &[], &[]).await.unwrap(),
        Saved::Stale,
        "written over a version that is gone"
    );
    assert_eq!(store.kit(kit.kit_id).await.unwrap(), Some(ordered));
}

async fn the_order_copy_changes_only_from_the_version_read_with_its_kit<
    S: Kits + Orders + KitChanges + Audit,
>(
    store: &S,
) {
    let order_id = Uuid::now_v7();
    let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
    let kit = added(store, order_id, now()).await;
    let copy = OrderCopy::new(order_id).assigned(first, 3).unwrap();
    let (followed, _) = kit.follow_executor(Some(first), now()).unwrap();
    let with_kit = KitAsRead::Changed {
        before: &kit,
        after: &followed,
    };
    assert_eq!(
        store
            .change_order(None, &copy, KitAsRead::Absent, &[])
            .await
            .unwrap(),
        Saved::Stale,
        "the kit is there"
    );
    assert_eq!(
        store
            .change_order(None, &copy, with_kit, &[])
            .await
            .unwrap(),
        Saved::Done
    );
    assert_eq!(store.order(order_id).await.unwrap(), Some(copy.clone()));
    assert_eq!(store.kit(kit.kit_id).await.unwrap(), Some(followed.clone()));

    let newer = copy.assigned(second, 5).unwrap();
    assert_eq!(
        store
            .change_order(None, &newer, with_kit, &[])
            .await
            .unwrap(),
        Saved::Stale,
        "the copy is no longer absent"
    );
    let (later, _) = followed.follow_executor(Some(second), now()).unwrap();
    let stale_kit = KitAsRead::Changed {
        before: &kit,
        after: &later,
    };
    assert_eq!(
        store
            .change_order(Some(&copy), &newer, stale_kit, &[])
            .await
            .unwrap(),
        Saved::Stale,
        "the kit moved on"
    );
    let as_read = KitAsRead::Changed {
        before: &followed,
        after: &later,
    };
    assert_eq!(
        store
            .change_order(Some(&copy), &newer, as_read, &[])
            .await
            .unwrap(),
        Saved::Done
    );
    assert_eq!(
        store.order(order_id).await.unwrap().unwrap().executor_id,
        Some(second)
    );
}

async fn kits_wait_for_the_supplier_by_deadline<S: Kits + KitChanges>(store: &S) {
    // Far from the other contracts' times: this table may be shared.
    let start = now() + Duration::days(3650);
    let kit = added(store, Uuid::now_v7(), start).await;
    assert!(store
        .due(start + Duration::minutes(29), 10)
        .await
        .unwrap()
        .is_empty());
    let (ordered, _) = kit.first_order(start, DEADLINE).unwrap();
    store.change_kit(&kit, &ordered, &[], &[]).await.unwrap();
    let due = start + DEADLINE;
    assert_eq!(
        store.due(due, 10).await.unwrap(),
        [kit.kit_id],
        "due at its deadline"
    );
    let Chase::Order(reordered, _) = ordered.chase(due, DEADLINE) else {
        panic!("re-ordered");
    };
    store
        .change_kit(&ordered, &reordered, &[], &[])
        .await
        .unwrap();
    assert!(
        !store.due(due, 10).await.unwrap().contains(&kit.kit_id),
        "a new deadline"
    );
    let received = reordered.receive(2, due).unwrap();
    store
        .change_kit(&reordered, &received, &[], &[])
        .await
        .unwrap();
    let much_later = due + Duration::days(1);
    assert!(
        !store
            .due(much_later, 10)
            .await
            .unwrap()
            .contains(&kit.kit_id),
        "waits for nothing"
    );
}

async fn kits_are_listed_by_status_newest_first_and_paged<S: Kits + KitChanges>(store: &S) {
    let base = now() + Duration::days(7300);
    let mut kits = Vec::new();
    for minute in 0..5 {
        kits.push(added(store, Uuid::now_v7(), base + Duration::minutes(minute)).await);
    }
    let (ordered, _) = kits[2].first_order(base, DEADLINE).unwrap();
    store
        .change_kit(&kits[2], &ordered, &[], &[])
        .await
        .unwrap();
    let requested: Vec<Uuid> = every_page(2, |cursor| async move {
        store.kits_in(Status::Requested, 2, cursor.as_deref()).await
    })
    .await
    .into_iter()
    .map(|k| k.kit_id)
    .filter(|id| kits.iter().any(|k| k.kit_id == *id))
    .collect();
    let expected: Vec<Uuid> = [4, 3, 1, 0].iter().map(|i| kits[*i].kit_id).collect();
    assert_eq!(requested, expected);
    let listed = store.kits_in(Status::Ordered, 100, None).await.unwrap();
    assert!(listed.items.iter().any(|k| k.kit_id == kits[2].kit_id));
    assert!(matches!(
        store
            .kits_in(Status::Ordered, 10, Some("not-a-cursor"))
            .await,
        Err(ates_supplies::error::SuppliesError::Failed(
            Failure::BadCursor
        ))
    ));
}

async fn the_audit_is_append_only_and_listed_newest_first_within_its_span<
    S: Kits + Orders + KitChanges + Audit,
>(
    store: &S,
) {
    let base = now() + Duration::days(9000);
    let (order_id, executor, manager) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let copy = OrderCopy::new(order_id).assigned(executor, 3).unwrap();
    store
        .change_order(None, &copy, KitAsRead::Absent, &[])
        .await
        .unwrap();
    let requested = kit(&copy, base);
    store.add_kit(&requested, Some(&copy)).await.unwrap();
    let (ordered, _) = requested.first_order(base, DEADLINE).unwrap();
    store
        .change_kit(&requested, &ordered, &[], &[])
        .await
        .unwrap();
    let received = ordered.receive(1, base).unwrap();
    store
        .change_kit(&ordered, &received, &[], &[])
        .await
        .unwrap();
    let (issued, _, entry) = received
        .issue(None, manager, base + Duration::minutes(1))
        .unwrap();
    assert_eq!(
        store
            .change_kit(&received, &issued, std::slice::from_ref(&entry), &[])
            .await
            .unwrap(),
        Saved::Done
    );
    let released = copy.released(5).unwrap();
    let (back, returned) = issued
        .follow_executor(None, base + Duration::minutes(2))
        .unwrap();
    let returned = returned.unwrap();
    let as_read = KitAsRead::Changed {
        before: &issued,
        after: &back,
    };
    let saved = store
        .change_order(
            Some(&copy),
            &released,
            as_read,
            std::slice::from_ref(&returned),
        )
        .await
        .unwrap();
    assert_eq!(saved, Saved::Done);

    // The same entry again is refused, whatever else the write holds.
    let (again, _) = back.follow_executor(Some(executor), base).unwrap();
    let saved = store
        .change_kit(&back, &again, std::slice::from_ref(&entry), &[])
        .await
        .unwrap();
    assert_eq!(saved, Saved::Stale, "an audit entry is written once");

    let span = (base, base + Duration::days(1));
    let listed = every_page(1, |cursor| async move {
        store.audit(span.0, span.1, 1, cursor.as_deref()).await
    })
    .await;
    assert_eq!(listed, [returned.clone(), entry.clone()]);
    let before = store
        .audit(base, base + Duration::minutes(1), 10, None)
        .await
        .unwrap();
    assert!(before.items.is_empty(), "the end of a span is not in it");
}
