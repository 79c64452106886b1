//! An order's kit (SPEC M5): the service type's supplies and one fortune cookie, ordered from the
//! supplier, received, and handed by supply staff to the order's executor.
//!
//! `requested → ordered → received → issued`, and besides: `cancelled` (the order was cancelled)
//! and `unsupplied` (the supplier failed every order). An order that is not delivered by its
//! deadline is ordered again, [`MAX_ORDERS`] orders in all. A kit handed to an executor who was
//! then released goes back to `received`, to be handed to the next executor (the audit keeps
//! both the issue and the return).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use ates_kernel::contracts::orders::SupplyLine;
use ates_kernel::contracts::supplies::{KitIssued, KitReceived};

use crate::error::SuppliesError;

/// The namespace of kit ids (derived from the order id: the order's duplicate events make one
/// kit); never change it.
const KIT_NAMESPACE: Uuid = Uuid::from_u128(0x5b0c_2f1e_8a7d_4c3b_9e61_d4a0_7f25_c8e3);

/// What every kit holds besides the service type's supplies (SPEC M5).
pub const FORTUNE_COOKIE: &str = "fortune cookie";

/// The first order and three re-orders (SPEC M5: "re-ordered up to 3 times").
pub const MAX_ORDERS: u32 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Requested,
    Ordered,
    Received,
    Issued,
    Cancelled,
    Unsupplied,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Requested,
        Status::Ordered,
        Status::Received,
        Status::Issued,
        Status::Cancelled,
        Status::Unsupplied,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Requested => "requested",
            Status::Ordered => "ordered",
            Status::Received => "received",
            Status::Issued => "issued",
            Status::Cancelled => "cancelled",
            Status::Unsupplied => "unsupplied",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Waiting for the supplier: the timer looks at it when its deadline passes.
    pub fn awaits_supplier(self) -> bool {
        matches!(self, Status::Requested | Status::Ordered)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kit of an order: one per order, whatever its events' duplicates.
pub fn kit_id(order_id: Uuid) -> Uuid {
    Uuid::new_v5(&KIT_NAMESPACE, order_id.as_bytes())
}

/// What supplies knows of an order beyond its kit, from its events: the current executor (the
/// newest `Order.ExecutorAssigned` or `Order.ExecutorReleased`, by the order's version) and
/// whether it was cancelled. Kept apart from the kit because those events may come before
/// `Order.Rated` (the kit's first fact).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCopy {
    pub order_id: Uuid,
    /// The order's version of the newest fact applied.
    pub version: u64,
    pub executor_id: Option<Uuid>,
    pub cancelled: bool,
}

impl OrderCopy {
    pub fn new(order_id: Uuid) -> OrderCopy {
        OrderCopy {
            order_id,
            version: 0,
            executor_id: None,
            cancelled: false,
        }
    }

    /// The order has this executor from `version` on; `None` when an older fact arrived late.
    pub fn assigned(&self, executor_id: Uuid, version: u64) -> Option<OrderCopy> {
        (version > self.version).then(|| OrderCopy {
            version,
            executor_id: Some(executor_id),
            ..self.clone()
        })
    }

    /// The order has no executor from `version` on; `None` when an older fact arrived late.
    pub fn released(&self, version: u64) -> Option<OrderCopy> {
        (version > self.version).then(|| OrderCopy {
            version,
            executor_id: None,
            ..self.clone()
        })
    }

    /// The order is cancelled (for good, whatever arrives after); `None` if it was already.
    pub fn cancelled(&self, version: u64) -> Option<OrderCopy> {
        (!self.cancelled).then(|| OrderCopy {
            version: version.max(self.version),
            cancelled: true,
            ..self.clone()
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kit {
    pub kit_id: Uuid,
    pub order_id: Uuid,
    pub items: Vec<SupplyLine>,
    pub status: Status,
    /// The order's executor as supplies knows it now (the order copy's).
    pub executor_id: Option<Uuid>,
    /// Whom the kit was handed to, while it is `issued`.
    pub issued_to: Option<Uuid>,
    /// How many orders were placed with the supplier; the supplier's delivery names the one
    /// it answers (its attempt), and only the latest counts.
    pub orders_placed: u32,
    /// When the timer looks at the kit again: the current order's delivery deadline (or, for a
    /// kit not yet ordered, when its first order is overdue). None once nothing is awaited.
    pub due_at: Option<DateTime<Utc>>,
    pub requested_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// One more with every change: a write happens only over the version it read.
    pub version: u64,
}

/// One order placed with the supplier: what to deliver for which kit, and which attempt it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplyOrder {
    pub kit_id: Uuid,
    pub order_id: Uuid,
    pub attempt: u32,
    pub items: Vec<SupplyLine>,
}

/// What the timer does with a kit that waits for the supplier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chase {
    /// Not due yet, or not waiting for the supplier: nothing.
    Wait,
    /// Place this order (the first, or the next one), and keep the kit as it then is.
    Order(Kit, SupplyOrder),
    /// Every order failed: the kit is unsupplied.
    GiveUp(Kit),
}

/// Why an audit entry was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// Handed to the order's executor by a manager.
    Issued,
    /// Back from an executor who was released from the order (to be handed out again).
    Returned,
}

/// A line of the append-only audit: what, to or from whom, by whom, when, for which order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub entry_id: Uuid,
    pub kind: AuditKind,
    pub kit_id: Uuid,
    pub order_id: Uuid,
    pub items: Vec<SupplyLine>,
    pub executor_id: Uuid,
    /// The manager who handed it out; none for a return, which the release causes.
    pub by: Option<Uuid>,
    pub at: DateTime<Utc>,
}

impl AuditEntry {
    fn of(
        kit: &Kit,
        kind: AuditKind,
        executor_id: Uuid,
        by: Option<Uuid>,
        at: DateTime<Utc>,
    ) -> Self {
        // One entry per change of the kit: the same change written twice is one entry.
        let name = format!("{}/{}", kit.kit_id, kit.version);
        AuditEntry {
            entry_id: Uuid::new_v5(&KIT_NAMESPACE, name.as_bytes()),
            kind,
            kit_id: kit.kit_id,
            order_id: kit.order_id,
            items: kit.items.clone(),
            executor_id,
            by,
            at,
        }
    }
}

impl Kit {
    /// `Order.Rated`: the order's kit is requested, with what supplies knows of the order.
    /// A cancelled order's kit is cancelled from the start (nothing is ordered for it).
    pub fn request(
        order_id: Uuid,
        supplies: &[SupplyLine],
        order: &OrderCopy,
        now: DateTime<Utc>,
        deadline: Duration,
    ) -> Kit {
        let mut items = supplies.to_vec();
        items.push(SupplyLine {
            item: FORTUNE_COOKIE.into(),
            quantity: 1,
        });
        let status = if order.cancelled {
            Status::Cancelled
        } else {
            Status::Requested
        };
        Kit {
            kit_id: kit_id(order_id),
            order_id,
            items,
            status,
            executor_id: order.executor_id,
            issued_to: None,
            orders_placed: 0,
            due_at: status.awaits_supplier().then_some(now + deadline),
            requested_at: now,
            updated_at: now,
            version: 1,
        }
    }

    fn next(&self, now: DateTime<Utc>) -> Kit {
        Kit {
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// The first order of a requested kit, at once.
    pub fn first_order(
        &self,
        now: DateTime<Utc>,
        deadline: Duration,
    ) -> Option<(Kit, SupplyOrder)> {
        (self.status == Status::Requested).then(|| self.place(now, deadline))
    }

    fn place(&self, now: DateTime<Utc>, deadline: Duration) -> (Kit, SupplyOrder) {
        let ordered = Kit {
            status: Status::Ordered,
            orders_placed: self.orders_placed + 1,
            due_at: Some(now + deadline),
            ..self.next(now)
        };
        let order = SupplyOrder {
            kit_id: self.kit_id,
            order_id: self.order_id,
            attempt: ordered.orders_placed,
            items: self.items.clone(),
        };
        (ordered, order)
    }

    /// The timer: a kit whose order is overdue is ordered again, until [`MAX_ORDERS`] orders
    /// failed; a requested kit whose first order never left is ordered now.
    pub fn chase(&self, now: DateTime<Utc>, deadline: Duration) -> Chase {
        let overdue = self.due_at.is_some_and(|due| due <= now);
        if !self.status.awaits_supplier() || !overdue {
            return Chase::Wait;
        }
        if self.orders_placed >= MAX_ORDERS {
            return Chase::GiveUp(Kit {
                status: Status::Unsupplied,
                due_at: None,
                ..self.next(now)
            });
        }
        let (kit, order) = self.place(now, deadline);
        Chase::Order(kit, order)
    }

    /// The supplier delivered the order of `attempt`. Only the latest order of an ordered kit
    /// counts: an older attempt's or a repeated delivery changes nothing (`None`).
    pub fn receive(&self, attempt: u32, now: DateTime<Utc>) -> Option<Kit> {
        (self.status == Status::Ordered && attempt == self.orders_placed).then(|| Kit {
            status: Status::Received,
            due_at: None,
            ..self.next(now)
        })
    }

    /// What a received kit tells supply staff (`Supplies.KitReceived`): it waits to be handed
    /// out. Published in the write that receives it, so it is told once per delivery that counts.
    pub fn received_event(&self) -> KitReceived {
        KitReceived {
            kit_id: self.kit_id,
            order_id: self.order_id,
            executor_id: self.executor_id,
            items: self.items.clone(),
            attempt: self.orders_placed,
            received_at: self.updated_at,
        }
    }

    /// A manager hands the received kit to the order's executor (and to nobody else: a named
    /// executor must be the order's).
    pub fn issue(
        &self,
        to: Option<Uuid>,
        by: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Kit, KitIssued, AuditEntry), SuppliesError> {
        if self.status != Status::Received {
            return Err(SuppliesError::WrongState {
                status: self.status,
                action: "be issued",
            });
        }
        let executor_id = self.executor_id.ok_or(SuppliesError::NoExecutor)?;
        if let Some(named) = to.filter(|named| *named != executor_id) {
            return Err(SuppliesError::NotTheExecutor(named));
        }
        let issued = Kit {
            status: Status::Issued,
            issued_to: Some(executor_id),
            ..self.next(now)
        };
        let event = KitIssued {
            kit_id: self.kit_id,
            order_id: self.order_id,
            executor_id,
            items: self.items.clone(),
            issued_by: by,
            issued_at: now,
        };
        let entry = AuditEntry::of(&issued, AuditKind::Issued, executor_id, Some(by), now);
        Ok((issued, event, entry))
    }

    /// The order's executor is now `executor_id` (none after a release). A kit handed to
    /// someone else goes back to `received`, to be handed to the next executor; the audit
    /// records its return. `None` when nothing changes.
    pub fn follow_executor(
        &self,
        executor_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Option<(Kit, Option<AuditEntry>)> {
        if self.executor_id == executor_id {
            return None;
        }
        let mut kit = Kit {
            executor_id,
            ..self.next(now)
        };
        let returned_by = self
            .issued_to
            .filter(|holder| self.status == Status::Issued && Some(*holder) != executor_id);
        let entry = returned_by.map(|holder| {
            kit.status = Status::Received;
            kit.issued_to = None;
            AuditEntry::of(&kit, AuditKind::Returned, holder, None, now)
        });
        Some((kit, entry))
    }

    /// The order was cancelled: so is its kit, whatever it had come to. `None` if it was.
    pub fn cancel(&self, now: DateTime<Utc>) -> Option<Kit> {
        (self.status != Status::Cancelled).then(|| Kit {
            status: Status::Cancelled,
            due_at: None,
            ..self.next(now)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-12-01T10:00:00Z".parse().unwrap()
    }

    fn deadline() -> Duration {
        Duration::minutes(30)
    }

    fn requested(order: &OrderCopy) -> Kit {
        let soap = SupplyLine {
            item: "soap".into(),
            quantity: 2,
        };
        Kit::request(order.order_id, &[soap], order, now(), deadline())
    }

    #[test]
    fn a_kit_is_the_service_types_supplies_and_one_fortune_cookie_with_an_id_from_its_order() {
        let order = OrderCopy::new(Uuid::now_v7());
        let kit = requested(&order);
        let items: Vec<(&str, u32)> = kit
            .items
            .iter()
            .map(|l| (l.item.as_str(), l.quantity))
            .collect();
        assert_eq!(items, [("soap", 2), (FORTUNE_COOKIE, 1)]);
        assert_eq!(kit.kit_id, kit_id(order.order_id));
        assert_ne!(kit.kit_id, kit_id(Uuid::now_v7()));
        assert_eq!(kit.status, Status::Requested);
    }

    #[test]
    fn an_overdue_order_is_placed_again_up_to_four_orders_then_the_kit_is_unsupplied() {
        let (mut kit, first) = requested(&OrderCopy::new(Uuid::now_v7()))
            .first_order(now(), deadline())
            .unwrap();
        assert_eq!(first.attempt, 1);
        assert_eq!(
            kit.chase(now() + Duration::minutes(29), deadline()),
            Chase::Wait
        );
        for attempt in 2..=MAX_ORDERS {
            let later = kit.due_at.unwrap();
            let Chase::Order(next, order) = kit.chase(later, deadline()) else {
                panic!("attempt {attempt} is placed");
            };
            assert_eq!((order.attempt, next.status), (attempt, Status::Ordered));
            kit = next;
        }
        let Chase::GiveUp(given_up) = kit.chase(kit.due_at.unwrap(), deadline()) else {
            panic!("the fourth failure gives up");
        };
        assert_eq!(
            (given_up.status, given_up.due_at),
            (Status::Unsupplied, None)
        );
    }

    #[test]
    fn only_the_latest_orders_delivery_counts_and_only_once() {
        let (kit, _) = requested(&OrderCopy::new(Uuid::now_v7()))
            .first_order(now(), deadline())
            .unwrap();
        let Chase::Order(kit, _) = kit.chase(kit.due_at.unwrap(), deadline()) else {
            panic!("re-ordered");
        };
        assert_eq!(
            kit.receive(1, now()),
            None,
            "the first order is late: it counts no more"
        );
        let received = kit.receive(2, now()).unwrap();
        assert_eq!(received.status, Status::Received);
        assert_eq!(received.receive(2, now()), None, "a repeated delivery");
    }

    #[test]
    fn a_kit_goes_only_to_the_orders_executor_once_received() {
        let executor = Uuid::now_v7();
        let order = OrderCopy::new(Uuid::now_v7())
            .assigned(executor, 3)
            .unwrap();
        let (kit, _) = requested(&order).first_order(now(), deadline()).unwrap();
        let manager = Uuid::now_v7();
        assert!(matches!(
            kit.issue(None, manager, now()),
            Err(SuppliesError::WrongState {
                status: Status::Ordered,
                ..
            })
        ));
        let received = kit.receive(1, now()).unwrap();
        let stranger = Uuid::now_v7();
        assert!(matches!(
            received.issue(Some(stranger), manager, now()),
            Err(SuppliesError::NotTheExecutor(s)) if s == stranger
        ));
        let (issued, event, entry) = received.issue(Some(executor), manager, now()).unwrap();
        assert_eq!(
            (issued.status, issued.issued_to),
            (Status::Issued, Some(executor))
        );
        assert_eq!((event.executor_id, event.issued_by), (executor, manager));
        assert_eq!(
            (entry.kind, entry.executor_id, entry.by),
            (AuditKind::Issued, executor, Some(manager))
        );
        let nobody = received.follow_executor(None, now()).unwrap().0;
        assert!(matches!(
            nobody.issue(None, manager, now()),
            Err(SuppliesError::NoExecutor)
        ));
    }

    #[test]
    fn a_kit_issued_to_a_released_executor_goes_back_to_be_handed_out_again() {
        let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
        let order = OrderCopy::new(Uuid::now_v7()).assigned(first, 3).unwrap();
        let (kit, _) = requested(&order).first_order(now(), deadline()).unwrap();
        let (issued, _, _) = kit
            .receive(1, now())
            .unwrap()
            .issue(None, Uuid::now_v7(), now())
            .unwrap();
        let (released, entry) = issued.follow_executor(None, now()).unwrap();
        assert_eq!(
            (released.status, released.issued_to, released.executor_id),
            (Status::Received, None, None)
        );
        let entry = entry.unwrap();
        assert_eq!(
            (entry.kind, entry.executor_id, entry.by),
            (AuditKind::Returned, first, None)
        );
        let (matched, entry) = released.follow_executor(Some(second), now()).unwrap();
        assert_eq!(
            (matched.status, matched.executor_id, entry),
            (Status::Received, Some(second), None)
        );
        assert_eq!(matched.follow_executor(Some(second), now()), None);
    }

    #[test]
    fn the_order_copy_moves_only_forward_and_a_cancellation_is_for_good() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let copy = OrderCopy::new(Uuid::now_v7()).assigned(b, 9).unwrap();
        assert_eq!(
            copy.assigned(a, 3),
            None,
            "an older assignment arrived late"
        );
        assert_eq!(copy.released(7), None, "an older release arrived late");
        let released = copy.released(10).unwrap();
        assert_eq!((released.executor_id, released.version), (None, 10));
        let cancelled = released.cancelled(4).unwrap();
        assert_eq!((cancelled.cancelled, cancelled.version), (true, 10));
        assert_eq!(cancelled.cancelled(12), None);
        let kit = requested(&cancelled);
        assert_eq!((kit.status, kit.due_at), (Status::Cancelled, None));
    }
}
