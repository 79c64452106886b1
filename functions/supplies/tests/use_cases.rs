//! Supplies' use cases on the in-memory store, with a supplier the tests steer: every
//! transition of a kit and every refusal, the supplier's failures, lateness and re-orders, and
//! order events duplicated and out of order.

use ates_kernel::contracts::orders::{
    OrderCancelled, OrderExecutorAssigned, OrderExecutorReleased, OrderRated, OrderStep, Place,
    SupplyLine,
};
use ates_kernel::contracts::supplies::{decode_kit_issued, decode_kit_received, KitIssued};
use ates_kernel::copies::KeepsAccountCopies;
use ates_kernel::event::DomainEvent;
use ates_kernel::event::{Cause, Envelope};
use ates_kernel::identity::{Claims, Role};
use ates_kernel::inbox::{ConsumeError, Outcome};
use ates_kernel::testing::{account, account_event, at, claims, event};
use ates_kernel::usecase::Failure;
use ates_supplies::app::{self, Deadline, Delivery};
use ates_supplies::error::SuppliesError;
use ates_supplies::kit::{kit_id, AuditKind, Kit, Status, FORTUNE_COOKIE, MAX_ORDERS};
use ates_supplies::memory::{FakeSupplier, MemoryStore};
use ates_supplies::ports::Kits;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    at("2026-12-01T10:00:00Z")
}

const DEADLINE: Deadline = Deadline(Duration::minutes(30));

fn rated(order_id: Uuid, version: u64) -> Envelope {
    let payload = OrderRated {
        order_id,
        version,
        places: vec![Place::Rated, Place::ToMatch, Place::ToSupply],
        client_id: Uuid::now_v7(),
        estimate_cents: 10_000,
        required_skill: "carpets".into(),
        slot_start: now() + Duration::days(1),
        slot_end: now() + Duration::days(1) + Duration::hours(2),
        supplies: vec![SupplyLine {
            item: "carpet shampoo".into(),
            quantity: 2,
        }],
        at: now(),
    };
    event("orders", &payload, now())
}

fn assigned(order_id: Uuid, executor_id: Uuid, version: u64) -> Envelope {
    let payload = OrderExecutorAssigned(OrderStep {
        order_id,
        version,
        places: vec![Place::Rated, Place::Executor, Place::ToSupply],
        executor_id,
        at: now(),
    });
    event("orders", &payload, now())
}

fn released(order_id: Uuid, executor_id: Uuid, version: u64) -> Envelope {
    let payload = OrderExecutorReleased {
        order_id,
        version,
        places: vec![Place::Rated, Place::ToMatch, Place::ToSupply],
        executor_id,
        reason: "the executor's account was deactivated".into(),
        at: now(),
    };
    event("orders", &payload, now())
}

fn cancelled(order_id: Uuid, version: u64) -> Envelope {
    let payload = OrderCancelled {
        order_id,
        version,
        places: vec![Place::Cancelled],
        client_id: Uuid::now_v7(),
        executor_id: None,
        value_cents: None,
        cancelled_by: Uuid::now_v7(),
        at: now(),
    };
    event("orders", &payload, now())
}

struct World {
    store: MemoryStore,
    supplier: FakeSupplier,
    manager: Claims,
}

impl World {
    async fn new() -> World {
        let store = MemoryStore::default();
        let manager = account("Manager", Role::Manager);
        store
            .save_account(&manager, &account_event(&manager))
            .await
            .unwrap();
        World {
            store,
            supplier: FakeSupplier::default(),
            manager: claims(manager.account_id, Role::Manager),
        }
    }

    async fn deliver(&self, event: &Envelope) -> Result<Outcome, ConsumeError> {
        self.deliver_at(event, now()).await
    }

    async fn deliver_at(
        &self,
        event: &Envelope,
        when: DateTime<Utc>,
    ) -> Result<Outcome, ConsumeError> {
        app::on_order_event(&self.store, &self.supplier, event, DEADLINE, when).await
    }

    async fn kit(&self, order_id: Uuid) -> Kit {
        self.store
            .kit(kit_id(order_id))
            .await
            .unwrap()
            .expect("a kit")
    }

    /// The kits handed out, as published.
    fn issued(&self) -> Vec<KitIssued> {
        let published = self.store.published();
        let issued = published.iter().filter(|e| e.name == KitIssued::NAME);
        issued.map(|e| decode_kit_issued(e).unwrap()).collect()
    }

    async fn supplier_delivers(&self, order_id: Uuid, attempt: u32) -> app::DeliveryTaken {
        let delivery = Delivery {
            kit_id: kit_id(order_id),
            attempt,
        };
        app::receive_delivery(&self.store, &delivery, &Cause::request("test"), now())
            .await
            .unwrap()
    }

    async fn issue(&self, order_id: Uuid, to: Option<Uuid>) -> Result<Kit, SuppliesError> {
        let cause = Cause::request("test");
        app::issue_kit(
            &self.store,
            &self.manager,
            kit_id(order_id),
            to,
            &cause,
            now(),
        )
        .await
    }

    async fn chase(&self, when: DateTime<Utc>) -> app::Chased {
        app::chase_kits(&self.store, &self.supplier, DEADLINE, when)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_rated_order_gets_one_kit_ordered_at_once_whatever_the_duplicates() {
    let world = World::new().await;
    let order_id = Uuid::now_v7();
    let event = rated(order_id, 2);
    assert_eq!(world.deliver(&event).await.unwrap(), Outcome::Applied);
    assert_eq!(world.deliver(&event).await.unwrap(), Outcome::Duplicate);
    assert_eq!(
        world.deliver(&rated(order_id, 2)).await.unwrap(),
        Outcome::Duplicate,
        "the same fact under another event id"
    );
    let kit = world.kit(order_id).await;
    assert_eq!((kit.status, kit.orders_placed), (Status::Ordered, 1));
    let items: Vec<(&str, u32)> = kit
        .items
        .iter()
        .map(|l| (l.item.as_str(), l.quantity))
        .collect();
    assert_eq!(items, [("carpet shampoo", 2), (FORTUNE_COOKIE, 1)]);
    let placed = world.supplier.placed();
    assert_eq!(placed.len(), 1, "one order placed: {placed:?}");
    assert_eq!((placed[0].kit_id, placed[0].attempt), (kit.kit_id, 1));
}

#[tokio::test]
async fn a_supplier_that_refuses_the_first_order_gets_it_again_on_redelivery() {
    let world = World::new().await;
    let order_id = Uuid::now_v7();
    world.supplier.refuse(true);
    let refused = world.deliver(&rated(order_id, 2)).await;
    assert!(
        matches!(refused, Err(ConsumeError::Retry(_))),
        "{refused:?}"
    );
    assert_eq!(
        world.kit(order_id).await.status,
        Status::Requested,
        "the kit is kept"
    );
    world.supplier.refuse(false);
    assert_eq!(
        world.deliver(&rated(order_id, 2)).await.unwrap(),
        Outcome::Applied
    );
    let kit = world.kit(order_id).await;
    assert_eq!((kit.status, kit.orders_placed), (Status::Ordered, 1));
}

#[tokio::test]
async fn a_kit_goes_requested_ordered_received_issued_with_its_event_and_audit() {
    let world = World::new().await;
    let (order_id, executor) = (Uuid::now_v7(), Uuid::now_v7());
    world.deliver(&rated(order_id, 2)).await.unwrap();
    world
        .deliver(&assigned(order_id, executor, 3))
        .await
        .unwrap();
    let taken = world.supplier_delivers(order_id, 1).await;
    assert!(taken.accepted);
    assert_eq!(world.kit(order_id).await.status, Status::Received);

    let issued = world.issue(order_id, None).await.unwrap();
    assert_eq!(
        (issued.status, issued.issued_to),
        (Status::Issued, Some(executor))
    );
    let published = world.store.published();
    let names: Vec<&str> = published.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["Supplies.KitReceived", "Supplies.KitIssued"],
        "supply staff are told it waits, then that it was handed out"
    );
    let waiting = decode_kit_received(&published[0]).unwrap();
    assert_eq!((waiting.order_id, waiting.attempt), (order_id, 1));
    let event = decode_kit_issued(&published[1]).unwrap();
    assert_eq!(
        (event.kit_id, event.order_id, event.executor_id),
        (issued.kit_id, order_id, executor)
    );
    assert_eq!(event.issued_by, world.manager.account_id);
    assert_eq!(event.items, issued.items);

    let audit = app::audit(
        &world.store,
        &world.manager,
        now() - Duration::days(1),
        now() + Duration::days(1),
        10,
        None,
    )
    .await
    .unwrap();
    assert_eq!(audit.items.len(), 1);
    let entry = &audit.items[0];
    assert_eq!(
        (
            entry.kind,
            entry.kit_id,
            entry.order_id,
            entry.executor_id,
            entry.by,
            entry.at
        ),
        (
            AuditKind::Issued,
            issued.kit_id,
            order_id,
            executor,
            Some(world.manager.account_id),
            now()
        )
    );
    assert_eq!(entry.items, issued.items);
}

#[tokio::test]
async fn issuing_is_refused_before_receipt_without_an_executor_to_another_and_twice() {
    let world = World::new().await;
    let (order_id, executor) = (Uuid::now_v7(), Uuid::now_v7());
    world.deliver(&rated(order_id, 2)).await.unwrap();
    let early = world.issue(order_id, None).await.unwrap_err();
    assert!(
        matches!(
            early,
            SuppliesError::WrongState {
                status: Status::Ordered,
                ..
            }
        ),
        "{early:?}"
    );
    assert!(
        early.to_string().contains("ordered"),
        "the 409 names the status: {early}"
    );
    world.supplier_delivers(order_id, 1).await;
    let nobody = world.issue(order_id, None).await.unwrap_err();
    assert!(matches!(nobody, SuppliesError::NoExecutor), "{nobody:?}");
    world
        .deliver(&assigned(order_id, executor, 3))
        .await
        .unwrap();
    let stranger = Uuid::now_v7();
    let other = world.issue(order_id, Some(stranger)).await.unwrap_err();
    assert!(
        matches!(other, SuppliesError::NotTheExecutor(s) if s == stranger),
        "{other:?}"
    );
    world.issue(order_id, Some(executor)).await.unwrap();
    let twice = world.issue(order_id, None).await.unwrap_err();
    assert!(
        matches!(
            twice,
            SuppliesError::WrongState {
                status: Status::Issued,
                ..
            }
        ),
        "{twice:?}"
    );
    let unknown = app::issue_kit(
        &world.store,
        &world.manager,
        Uuid::now_v7(),
        None,
        &Cause::request("t"),
        now(),
    )
    .await;
    assert!(matches!(unknown, Err(SuppliesError::UnknownKit)));
    assert_eq!(world.issued().len(), 1, "one issue, one event");
}

#[tokio::test]
async fn only_managers_and_admins_hand_out_kits_and_read_the_audit() {
    let world = World::new().await;
    let order_id = Uuid::now_v7();
    world.deliver(&rated(order_id, 2)).await.unwrap();
    for role in [Role::Worker, Role::Accountant, Role::Client] {
        let someone = account("Someone", role);
        world
            .store
            .save_account(&someone, &account_event(&someone))
            .await
            .unwrap();
        let caller = claims(someone.account_id, role);
        let listed = app::kits(&world.store, &caller, Status::Ordered, 10, None).await;
        assert!(
            matches!(listed, Err(SuppliesError::Failed(Failure::Refused(_)))),
            "{role}"
        );
        let issued = app::issue_kit(
            &world.store,
            &caller,
            kit_id(order_id),
            None,
            &Cause::request("t"),
            now(),
        )
        .await;
        assert!(
            matches!(issued, Err(SuppliesError::Failed(Failure::Refused(_)))),
            "{role}"
        );
        let audit = app::audit(&world.store, &caller, now(), now(), 10, None).await;
        assert!(
            matches!(audit, Err(SuppliesError::Failed(Failure::Refused(_)))),
            "{role}"
        );
    }
    let admin = account("Admin", Role::Admin);
    world
        .store
        .save_account(&admin, &account_event(&admin))
        .await
        .unwrap();
    let listed = app::kits(
        &world.store,
        &claims(admin.account_id, Role::Admin),
        Status::Ordered,
        10,
        None,
    )
    .await
    .unwrap();
    assert_eq!(listed.items.len(), 1);
}

#[tokio::test]
async fn an_undelivered_order_is_placed_again_three_times_then_the_kit_is_unsupplied() {
    let world = World::new().await;
    let order_id = Uuid::now_v7();
    world.deliver(&rated(order_id, 2)).await.unwrap();
    assert_eq!(
        world.chase(now() + Duration::minutes(29)).await,
        app::Chased::default(),
        "not late yet"
    );
    let mut when = now();
    for attempt in 2..=MAX_ORDERS {
        when += Duration::minutes(30);
        let chased = world.chase(when).await;
        assert_eq!(chased.ordered, 1, "attempt {attempt}");
        assert_eq!(world.kit(order_id).await.orders_placed, attempt);
    }
    assert_eq!(world.supplier.placed().len(), MAX_ORDERS as usize);
    let attempts: Vec<u32> = world.supplier.placed().iter().map(|o| o.attempt).collect();
    assert_eq!(attempts, [1, 2, 3, 4]);
    when += Duration::minutes(30);
    assert_eq!(world.chase(when).await.unsupplied, 1);
    let kit = world.kit(order_id).await;
    assert_eq!((kit.status, kit.due_at), (Status::Unsupplied, None));
    assert_eq!(
        world.chase(when + Duration::hours(1)).await,
        app::Chased::default(),
        "given up once"
    );
    let late = world.supplier_delivers(order_id, 4).await;
    assert!(!late.accepted, "a delivery after giving up changes nothing");
}

#[tokio::test]
async fn a_late_delivery_of_an_older_order_or_a_repeated_one_changes_nothing() {
    let world = World::new().await;
    let order_id = Uuid::now_v7();
    world.deliver(&rated(order_id, 2)).await.unwrap();
    world.chase(now() + Duration::minutes(30)).await;
    let old = world.supplier_delivers(order_id, 1).await;
    assert_eq!((old.accepted, old.status), (false, Status::Ordered));
    let latest = world.supplier_delivers(order_id, 2).await;
    assert_eq!((latest.accepted, latest.status), (true, Status::Received));
    let before = world.kit(order_id).await;
    let told = world.store.published().len();
    let again = world.supplier_delivers(order_id, 2).await;
    assert_eq!((again.accepted, again.status), (false, Status::Received));
    assert_eq!(world.kit(order_id).await, before, "nothing written");
    assert_eq!(
        world.store.published().len(),
        told,
        "and nothing told again"
    );
    let unknown = app::receive_delivery(
        &world.store,
        &Delivery {
            kit_id: Uuid::now_v7(),
            attempt: 1,
        },
        &Cause::request("test"),
        now(),
    )
    .await;
    assert!(matches!(unknown, Err(SuppliesError::UnknownKit)));
}

#[tokio::test]
async fn a_reorder_the_supplier_refuses_waits_for_the_next_run() {
    let world = World::new().await;
    let order_id = Uuid::now_v7();
    world.deliver(&rated(order_id, 2)).await.unwrap();
    world.supplier.refuse(true);
    let late = now() + Duration::minutes(31);
    assert_eq!(world.chase(late).await.not_placed, 1);
    assert_eq!(
        world.kit(order_id).await.orders_placed,
        1,
        "nothing recorded"
    );
    world.supplier.refuse(false);
    assert_eq!(world.chase(late + Duration::minutes(5)).await.ordered, 1);
    assert_eq!(world.kit(order_id).await.orders_placed, 2);
}

#[tokio::test]
async fn an_executor_assigned_before_the_kit_is_requested_is_kept_for_it() {
    let world = World::new().await;
    let (order_id, executor) = (Uuid::now_v7(), Uuid::now_v7());
    assert_eq!(
        world
            .deliver(&assigned(order_id, executor, 3))
            .await
            .unwrap(),
        Outcome::Applied
    );
    world.deliver(&rated(order_id, 2)).await.unwrap();
    assert_eq!(world.kit(order_id).await.executor_id, Some(executor));
    world.supplier_delivers(order_id, 1).await;
    assert_eq!(
        world.issue(order_id, None).await.unwrap().issued_to,
        Some(executor)
    );
}

#[tokio::test]
async fn executor_events_apply_once_and_only_forward_in_the_orders_version() {
    let world = World::new().await;
    let (order_id, first, second) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    world.deliver(&rated(order_id, 2)).await.unwrap();
    let newest = assigned(order_id, second, 9);
    assert_eq!(world.deliver(&newest).await.unwrap(), Outcome::Applied);
    assert_eq!(
        world.deliver(&newest).await.unwrap(),
        Outcome::Superseded,
        "a duplicate"
    );
    assert_eq!(
        world.deliver(&assigned(order_id, first, 3)).await.unwrap(),
        Outcome::Superseded
    );
    assert_eq!(
        world.deliver(&released(order_id, first, 7)).await.unwrap(),
        Outcome::Superseded
    );
    assert_eq!(world.kit(order_id).await.executor_id, Some(second));
}

#[tokio::test]
async fn a_kit_issued_to_a_released_executor_is_handed_to_the_next_one() {
    let world = World::new().await;
    let (order_id, first, second) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    world.deliver(&rated(order_id, 2)).await.unwrap();
    world.deliver(&assigned(order_id, first, 3)).await.unwrap();
    world.supplier_delivers(order_id, 1).await;
    world.issue(order_id, None).await.unwrap();

    world.deliver(&released(order_id, first, 6)).await.unwrap();
    let kit = world.kit(order_id).await;
    assert_eq!(
        (kit.status, kit.executor_id, kit.issued_to),
        (Status::Received, None, None)
    );
    assert!(matches!(
        world.issue(order_id, None).await,
        Err(SuppliesError::NoExecutor)
    ));

    world.deliver(&assigned(order_id, second, 8)).await.unwrap();
    let reissued = world.issue(order_id, None).await.unwrap();
    assert_eq!(reissued.issued_to, Some(second));
    let events: Vec<Uuid> = world.issued().iter().map(|e| e.executor_id).collect();
    assert_eq!(events, [first, second]);
    let audit = app::audit(
        &world.store,
        &world.manager,
        now() - Duration::days(1),
        now() + Duration::days(1),
        10,
        None,
    )
    .await
    .unwrap();
    let mut lines: Vec<(AuditKind, Uuid)> = audit
        .items
        .iter()
        .map(|e| (e.kind, e.executor_id))
        .collect();
    lines.sort_by_key(|(kind, who)| (*kind == AuditKind::Returned, *who == second));
    assert_eq!(
        lines,
        [
            (AuditKind::Issued, first),
            (AuditKind::Issued, second),
            (AuditKind::Returned, first)
        ]
    );
}

#[tokio::test]
async fn a_new_executor_without_the_release_first_also_takes_the_kit_back() {
    let world = World::new().await;
    let (order_id, first, second) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    world.deliver(&rated(order_id, 2)).await.unwrap();
    world.deliver(&assigned(order_id, first, 3)).await.unwrap();
    world.supplier_delivers(order_id, 1).await;
    world.issue(order_id, None).await.unwrap();
    world.deliver(&assigned(order_id, second, 8)).await.unwrap();
    assert_eq!(
        world.deliver(&released(order_id, first, 6)).await.unwrap(),
        Outcome::Superseded
    );
    let kit = world.kit(order_id).await;
    assert_eq!(
        (kit.status, kit.executor_id),
        (Status::Received, Some(second))
    );
}

#[tokio::test]
async fn a_cancelled_order_cancels_its_kit_before_or_after_it_is_requested() {
    let world = World::new().await;
    let order_id = Uuid::now_v7();
    world.deliver(&rated(order_id, 2)).await.unwrap();
    assert_eq!(
        world.deliver(&cancelled(order_id, 4)).await.unwrap(),
        Outcome::Applied
    );
    let kit = world.kit(order_id).await;
    assert_eq!((kit.status, kit.due_at), (Status::Cancelled, None));
    assert_eq!(
        world.deliver(&cancelled(order_id, 4)).await.unwrap(),
        Outcome::Superseded
    );
    assert!(!world.supplier_delivers(order_id, 1).await.accepted);
    assert_eq!(
        world.chase(now() + Duration::hours(1)).await,
        app::Chased::default()
    );

    let early = Uuid::now_v7();
    world.deliver(&cancelled(early, 3)).await.unwrap();
    world.deliver(&rated(early, 2)).await.unwrap();
    assert_eq!(world.kit(early).await.status, Status::Cancelled);
    assert_eq!(
        world.supplier.placed().len(),
        1,
        "nothing is ordered for a cancelled order"
    );
}

#[tokio::test]
async fn kits_are_listed_by_status_newest_first() {
    let world = World::new().await;
    let (older, newer) = (Uuid::now_v7(), Uuid::now_v7());
    world.deliver_at(&rated(older, 2), now()).await.unwrap();
    world
        .deliver_at(&rated(newer, 2), now() + Duration::minutes(1))
        .await
        .unwrap();
    let listed = app::kits(&world.store, &world.manager, Status::Ordered, 10, None)
        .await
        .unwrap();
    let orders: Vec<Uuid> = listed.items.iter().map(|k| k.order_id).collect();
    assert_eq!(orders, [newer, older]);
    let received = app::kits(&world.store, &world.manager, Status::Received, 10, None)
        .await
        .unwrap();
    assert!(received.items.is_empty());
}

#[tokio::test]
async fn other_events_are_none_of_its_business_and_unreadable_ones_are_poison() {
    let world = World::new().await;
    let mut other = rated(Uuid::now_v7(), 2);
    other.name = "Order.Valued".into();
    assert_eq!(world.deliver(&other).await.unwrap(), Outcome::NotConcerned);
    let mut broken = rated(Uuid::now_v7(), 2);
    broken.data = serde_json::json!({"order_id": "not an id"});
    assert!(matches!(
        world.deliver(&broken).await,
        Err(ConsumeError::Poison(_))
    ));
}

#[tokio::test]
async fn a_service_types_twenty_supplies_and_the_cookie_are_one_kit_issued() {
    let world = World::new().await;
    let (order_id, executor) = (Uuid::now_v7(), Uuid::now_v7());
    let mut event = rated(order_id, 2);
    let twenty: Vec<SupplyLine> = (0..20)
        .map(|i| SupplyLine {
            item: format!("supply {i}"),
            quantity: 100,
        })
        .collect();
    event.data["supplies"] = serde_json::to_value(&twenty).unwrap();
    world.deliver(&event).await.unwrap();
    world
        .deliver(&assigned(order_id, executor, 3))
        .await
        .unwrap();
    world.supplier_delivers(order_id, 1).await;
    let issued = world.issue(order_id, None).await.unwrap();
    assert_eq!(issued.items.len(), 21);
    let published = &world.issued()[0];
    assert_eq!(published.items.last().unwrap().item, FORTUNE_COOKIE);
}
