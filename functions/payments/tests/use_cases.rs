//! Payments' use cases on the in-memory store, with an acquirer the tests steer: the card on
//! file (kept, replaced, refused with nothing written), collections approved, declined and
//! without a card, duplicates, and the crash between the acquirer's charge and the commit; payout
//! details and payouts (phase 1's day, phase 2's salary) through a bank the tests steer: held,
//! sent once, refused and sent again, the crash between the transfer and the commit, and the
//! details handed over from accounting.

use ates_kernel::contracts::billing::CollectionRequested;
use ates_kernel::contracts::payments::{
    decode_collection_failed, decode_collection_succeeded, CollectionFailure,
};
use ates_kernel::copies::KeepsAccountCopies;
use ates_kernel::event::Envelope;
use ates_kernel::identity::{Claims, Refused, Role};
use ates_kernel::inbox::{ConsumeError, Outcome};
use ates_kernel::testing::{account, account_event, at, claims, event};
use ates_kernel::usecase::Failure;
use ates_payments::app;
use ates_payments::card::CardDetails;
use ates_payments::collection::{Charge, Status};
use ates_payments::error::PaymentsError;
use ates_payments::memory::{FakeAcquirer, MemoryStore};
use ates_payments::ports::{Cards, Collections};
use chrono::{DateTime, Utc};
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    at("2026-12-06T18:00:00Z")
}

fn client() -> Claims {
    claims(Uuid::now_v7(), Role::Client)
}

fn requested(client: &Claims, amount_cents: i64, attempt: u32) -> (Uuid, Envelope) {
    let invoice_id = Uuid::now_v7();
    (
        invoice_id,
        request(invoice_id, client, amount_cents, attempt),
    )
}

fn request(invoice_id: Uuid, client: &Claims, amount_cents: i64, attempt: u32) -> Envelope {
    let payload = CollectionRequested {
        invoice_id,
        client_id: client.account_id,
        amount_cents,
        attempt,
        requested_at: now(),
    };
    event("billing", &payload, now())
}

async fn with_card(store: &MemoryStore, acquirer: &FakeAcquirer, token: &str) -> Claims {
    let client = client();
    app::keep_card(store, acquirer, &client, token, now())
        .await
        .unwrap_or_else(|e| panic!("{token}: {e}"));
    client
}

async fn deliver(store: &MemoryStore, acquirer: &FakeAcquirer, e: &Envelope) -> Outcome {
    app::on_billing_event(store, acquirer, e, now())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

// ------------------------------------------------------------------------------ the card

#[tokio::test]
async fn a_client_keeps_a_card_on_file_and_sees_only_its_last_four_digits() {
    let (store, acquirer) = (MemoryStore::default(), FakeAcquirer::default());
    let client = client();
    let kept = app::keep_card(&store, &acquirer, &client, "tok_visa", now())
        .await
        .unwrap();
    let visa = CardDetails {
        last4: "4242".into(),
        brand: "visa".into(),
    };
    assert_eq!(kept, visa);
    let mine = app::my_payments(&store, &client).await.unwrap();
    assert_eq!(mine.card, Some(visa));
    assert_eq!(mine.payout_details.iban, None);
    assert!(mine.payouts.is_empty());
    let shown = serde_json::to_string(&mine).unwrap();
    assert!(!shown.contains("tok_visa"), "{shown}");
    let stored = store.card(client.account_id).await.unwrap().unwrap();
    assert_eq!(
        (stored.token.as_str(), stored.last4.as_str()),
        ("tok_visa", "4242")
    );

    // A new card replaces the last.
    app::keep_card(&store, &acquirer, &client, "tok_mastercard", now())
        .await
        .unwrap();
    let mine = app::my_payments(&store, &client).await.unwrap();
    assert_eq!(mine.card.unwrap().last4, "4444");

    // Forgotten, there is none.
    assert!(app::forget_card(&store, &client).await.unwrap());
    assert!(!app::forget_card(&store, &client).await.unwrap());
    assert_eq!(app::my_payments(&store, &client).await.unwrap().card, None);
}

#[tokio::test]
async fn a_card_the_acquirer_refuses_is_refused_by_name_and_nothing_is_written() {
    let (store, acquirer) = (MemoryStore::default(), FakeAcquirer::default());
    let client = client();
    let refused = app::keep_card(&store, &acquirer, &client, "tok_stolen", now()).await;
    match refused {
        Err(e @ PaymentsError::CardRefused { .. }) => {
            assert!(e.to_string().contains("tok_stolen"), "{e}");
            let problem: ates_kernel::http::Problem = e.into();
            assert_eq!(problem.status, 422);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.card(client.account_id).await.unwrap(), None);

    // A card on file stays when a later one is refused.
    app::keep_card(&store, &acquirer, &client, "tok_visa", now())
        .await
        .unwrap();
    for bad in ["tok_unknown", "", "tok visa"] {
        let refused = app::keep_card(&store, &acquirer, &client, bad, now()).await;
        assert!(
            matches!(
                refused,
                Err(PaymentsError::CardRefused { .. } | PaymentsError::Invalid(_))
            ),
            "{bad:?}: {refused:?}"
        );
    }
    let kept = store.card(client.account_id).await.unwrap().unwrap();
    assert_eq!(kept.token, "tok_visa");
}

#[tokio::test]
async fn only_clients_keep_cards_and_a_deactivated_client_keeps_none() {
    let (store, acquirer) = (MemoryStore::default(), FakeAcquirer::default());
    let worker = claims(Uuid::now_v7(), Role::Worker);
    let refused = app::keep_card(&store, &acquirer, &worker, "tok_visa", now()).await;
    assert!(
        matches!(
            refused,
            Err(PaymentsError::Failed(Failure::Refused(
                Refused::NotAllowed(_)
            )))
        ),
        "{refused:?}"
    );
    assert_eq!(store.card(worker.account_id).await.unwrap(), None);
    // An employee reads the page too: no card.
    assert_eq!(app::my_payments(&store, &worker).await.unwrap().card, None);

    let mut gone = account("Kiwi", Role::Client);
    gone.active = false;
    gone.revision = 2;
    store
        .save_account(&gone, &account_event(&gone))
        .await
        .unwrap();
    let client = claims(gone.account_id, Role::Client);
    let refused = app::keep_card(&store, &acquirer, &client, "tok_visa", now()).await;
    assert!(
        matches!(
            refused,
            Err(PaymentsError::Failed(Failure::Refused(
                Refused::Deactivated
            )))
        ),
        "{refused:?}"
    );
    assert_eq!(store.card(client.account_id).await.unwrap(), None);
}

// ------------------------------------------------------------------------- collections

#[tokio::test]
async fn an_approved_charge_posts_the_collection_with_collection_succeeded() {
    let (store, acquirer) = (MemoryStore::default(), FakeAcquirer::default());
    let client = with_card(&store, &acquirer, "tok_visa").await;
    let (invoice, e) = requested(&client, 12_345, 1);
    assert_eq!(deliver(&store, &acquirer, &e).await, Outcome::Applied);

    let key = format!("invoice:{invoice}:1");
    let charges = acquirer.charges();
    assert_eq!(charges.keys().collect::<Vec<_>>(), vec![&key]);
    assert_eq!(charges[&key].amount_cents, 12_345);
    assert_eq!(charges[&key].token, "tok_visa");
    let Charge::Approved { charge_id } = &charges[&key].answer else {
        panic!("approved");
    };

    let collection = store.collection(invoice, 1).await.unwrap().unwrap();
    assert_eq!(collection.status, Status::Posted);
    assert_eq!(collection.charge_id.as_ref(), Some(charge_id));
    assert_eq!(collection.collection_id, key);

    let published = store.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].producer, "payments");
    assert_eq!(published[0].causation_id, Some(e.id.to_string()));
    let succeeded = decode_collection_succeeded(&published[0]).unwrap();
    assert_eq!(
        (succeeded.invoice_id, succeeded.client_id, succeeded.attempt),
        (invoice, client.account_id, 1)
    );
    assert_eq!(succeeded.amount_cents, 12_345);
    assert_eq!(succeeded.card_last4, "4242");
}

#[tokio::test]
async fn a_declined_card_voids_the_collection_with_card_declined() {
    let (store, acquirer) = (MemoryStore::default(), FakeAcquirer::default());
    let client = with_card(&store, &acquirer, "tok_chargeDeclined").await;
    let (invoice, e) = requested(&client, 900, 2);
    assert_eq!(deliver(&store, &acquirer, &e).await, Outcome::Applied);

    let collection = store.collection(invoice, 2).await.unwrap().unwrap();
    assert_eq!(collection.status, Status::Voided);
    assert_eq!(collection.failure, Some(CollectionFailure::CardDeclined));
    assert_eq!(collection.charge_id, None);
    assert_eq!(acquirer.charges().len(), 1, "the acquirer was asked");
    let published = store.published();
    assert_eq!(published.len(), 1);
    let failed = decode_collection_failed(&published[0]).unwrap();
    assert_eq!(failed.reason, CollectionFailure::CardDeclined);
    assert_eq!(
        (failed.invoice_id, failed.attempt, failed.amount_cents),
        (invoice, 2, 900)
    );
}

#[tokio::test]
async fn without_a_card_on_file_the_collection_is_voided_as_no_card_and_nothing_is_charged() {
    let (store, acquirer) = (MemoryStore::default(), FakeAcquirer::default());
    let client = client();
    let (invoice, e) = requested(&client, 700, 1);
    assert_eq!(deliver(&store, &acquirer, &e).await, Outcome::Applied);
    assert_eq!(acquirer.asked(), 0);
    let collection = store.collection(invoice, 1).await.unwrap().unwrap();
    assert_eq!(collection.status, Status::Voided);
    assert_eq!(collection.failure, Some(CollectionFailure::NoCard));
    let published = store.published();
    assert_eq!(published.len(), 1);
    assert_eq!(
        decode_collection_failed(&published[0]).unwrap().reason,
        CollectionFailure::NoCard
    );
    // Its duplicate writes nothing new.
    assert_eq!(deliver(&store, &acquirer, &e).await, Outcome::Duplicate);
    assert_eq!(store.published().len(), 1);

    // A card kept since changes nothing of that attempt; the next attempt charges it.
    app::keep_card(&store, &acquirer, &client, "tok_visa", now())
        .await
        .unwrap();
    assert_eq!(deliver(&store, &acquirer, &e).await, Outcome::Duplicate);
    let next = request(invoice, &client, 700, 2);
    assert_eq!(deliver(&store, &acquirer, &next).await, Outcome::Applied);
    let all = store.collections_of(invoice).await.unwrap();
    let statuses: Vec<_> = all.iter().map(|c| (c.attempt, c.status)).collect();
    assert_eq!(statuses, vec![(1, Status::Voided), (2, Status::Posted)]);
}

#[tokio::test]
async fn duplicates_of_a_request_charge_once_and_publish_once() {
    let (store, acquirer) = (MemoryStore::default(), FakeAcquirer::default());
    let client = with_card(&store, &acquirer, "tok_mastercard").await;
    let (invoice, e) = requested(&client, 5_000, 1);
    assert_eq!(deliver(&store, &acquirer, &e).await, Outcome::Applied);
    // The same event again, and the same request as another event (billing published twice).
    let again = request(invoice, &client, 5_000, 1);
    for duplicate in [&e, &again, &e] {
        assert_eq!(
            deliver(&store, &acquirer, duplicate).await,
            Outcome::Duplicate
        );
    }
    assert_eq!(
        acquirer.asked(),
        1,
        "a settled collection is not charged again"
    );
    assert_eq!(acquirer.charges().len(), 1);
    assert_eq!(store.published().len(), 1);
    assert_eq!(store.collections_of(invoice).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_crash_between_the_charge_and_the_commit_is_redelivered_and_gives_the_same_answer_once() {
    let (store, acquirer) = (MemoryStore::default(), FakeAcquirer::default());
    let client = with_card(&store, &acquirer, "tok_visa").await;
    let (invoice, e) = requested(&client, 4_200, 1);

    acquirer.lose_the_next_answer();
    let crashed = app::on_billing_event(&store, &acquirer, &e, now()).await;
    assert!(
        matches!(crashed, Err(ConsumeError::Retry(_))),
        "{crashed:?}"
    );
    // The money moved, but payments does not know yet: pending, and nothing said.
    assert_eq!(acquirer.charges().len(), 1);
    let pending = store.collection(invoice, 1).await.unwrap().unwrap();
    assert_eq!(pending.status, Status::Pending);
    assert!(store.published().is_empty());

    // Meanwhile the client changes cards: the redelivery charges the card the collection
    // recorded, under the same key.
    app::keep_card(&store, &acquirer, &client, "tok_chargeDeclined", now())
        .await
        .unwrap();
    assert_eq!(deliver(&store, &acquirer, &e).await, Outcome::Applied);
    assert_eq!(acquirer.asked(), 2, "asked again");
    let charges = acquirer.charges();
    assert_eq!(charges.len(), 1, "charged once: {charges:?}");
    let first = &charges[&format!("invoice:{invoice}:1")];
    let posted = store.collection(invoice, 1).await.unwrap().unwrap();
    assert_eq!(posted.status, Status::Posted);
    assert_eq!(
        Some(Charge::Approved {
            charge_id: posted.charge_id.clone().unwrap()
        }),
        Some(first.answer.clone()),
        "the first charge's answer"
    );
    let published = store.published();
    assert_eq!(published.len(), 1);
    assert_eq!(
        decode_collection_succeeded(&published[0])
            .unwrap()
            .card_last4,
        "4242"
    );
    // And any later redelivery says nothing more.
    assert_eq!(deliver(&store, &acquirer, &e).await, Outcome::Duplicate);
    assert_eq!(store.published().len(), 1);
}

#[tokio::test]
async fn an_unreachable_acquirer_leaves_the_collection_pending_for_the_redelivery() {
    let (store, acquirer) = (MemoryStore::default(), FakeAcquirer::default());
    let client = with_card(&store, &acquirer, "tok_chargeDeclined").await;
    let (invoice, e) = requested(&client, 100, 4);
    acquirer.unreachable(true);
    let failed = app::on_billing_event(&store, &acquirer, &e, now()).await;
    assert!(matches!(failed, Err(ConsumeError::Retry(_))), "{failed:?}");
    assert_eq!(
        store.collection(invoice, 4).await.unwrap().unwrap().status,
        Status::Pending
    );
    acquirer.unreachable(false);
    assert_eq!(deliver(&store, &acquirer, &e).await, Outcome::Applied);
    let published = store.published();
    assert_eq!(published.len(), 1);
    assert_eq!(
        decode_collection_failed(&published[0]).unwrap().reason,
        CollectionFailure::CardDeclined
    );
}

#[tokio::test]
async fn a_request_for_nothing_is_poison_and_other_events_are_none_of_payments_business() {
    let (store, acquirer) = (MemoryStore::default(), FakeAcquirer::default());
    let client = with_card(&store, &acquirer, "tok_visa").await;
    let (invoice, mut e) = requested(&client, 100, 1);
    e.data["amount_cents"] = serde_json::json!(0);
    let poison = app::on_billing_event(&store, &acquirer, &e, now()).await;
    assert!(matches!(poison, Err(ConsumeError::Poison(_))), "{poison:?}");
    e.data = serde_json::json!({"invoice_id": "not an id"});
    let poison = app::on_billing_event(&store, &acquirer, &e, now()).await;
    assert!(matches!(poison, Err(ConsumeError::Poison(_))), "{poison:?}");
    assert_eq!(store.collection(invoice, 1).await.unwrap(), None);

    let other = account_event(&account("Kiwi", Role::Client));
    assert_eq!(
        deliver(&store, &acquirer, &other).await,
        Outcome::NotConcerned
    );
    assert_eq!(acquirer.asked(), 0);
    assert!(store.published().is_empty());
}

// --------------------------------------------------------------------------------- staff

#[tokio::test]
async fn accountants_and_admins_read_an_invoices_collections_without_card_tokens() {
    let (store, acquirer) = (MemoryStore::default(), FakeAcquirer::default());
    let client = with_card(&store, &acquirer, "tok_chargeDeclined").await;
    let (invoice, first) = requested(&client, 2_500, 1);
    deliver(&store, &acquirer, &first).await;
    app::keep_card(&store, &acquirer, &client, "tok_visa", now())
        .await
        .unwrap();
    deliver(&store, &acquirer, &request(invoice, &client, 2_500, 2)).await;

    for role in [Role::Accountant, Role::Admin] {
        let staff = claims(Uuid::now_v7(), role);
        let seen = app::collections_of(&store, &staff, invoice).await.unwrap();
        let summary: Vec<_> = seen
            .iter()
            .map(|c| (c.attempt, c.status, c.card_last4.clone(), c.failure))
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    1,
                    Status::Voided,
                    Some("0341".into()),
                    Some(CollectionFailure::CardDeclined)
                ),
                (2, Status::Posted, Some("4242".into()), None),
            ]
        );
        let shown = serde_json::to_string(&seen).unwrap();
        assert!(!shown.contains("tok_"), "{shown}");
    }
    for role in [Role::Client, Role::Worker, Role::Manager] {
        let other = claims(Uuid::now_v7(), role);
        let refused = app::collections_of(&store, &other, invoice).await;
        assert!(
            matches!(
                refused,
                Err(PaymentsError::Failed(Failure::Refused(
                    Refused::NotAllowed(_)
                )))
            ),
            "{role}: {refused:?}"
        );
    }
    let unknown = app::collections_of(&store, &claims(Uuid::now_v7(), Role::Admin), Uuid::now_v7())
        .await
        .unwrap();
    assert!(unknown.is_empty());
}

// ----------------------------------------------------------------------------- payouts

mod payouts {
    use super::*;
    use ates_kernel::contracts::accounting::{PayoutDetailsHandedOver, PayoutMade};
    use ates_kernel::contracts::billing::StatementIssued;
    use ates_kernel::contracts::clock::Month;
    use ates_kernel::contracts::payments::decode_salary_paid;
    use ates_payments::bank::CLOSED_ACCOUNT;
    use ates_payments::memory::FakeBank;
    use ates_payments::payout::Status;
    use ates_payments::ports::{PayoutDetailsBook, Payouts};

    const IBAN: &str = "DE89 3704 0044 0532 0130 00";

    fn worker() -> Claims {
        claims(Uuid::now_v7(), Role::Worker)
    }

    fn payout_made(worker: &Claims, cents: i64) -> Envelope {
        let made = PayoutMade {
            payout_id: format!("payout:{}:2026-12-05", worker.account_id),
            account_id: worker.account_id,
            business_date: "2026-12-05".parse().unwrap(),
            amount_cents: cents,
            currency: "USD".into(),
            paid_at: now(),
        };
        event("accounting", &made, now())
    }

    fn statement(worker: &Claims, salary_cents: i64) -> Envelope {
        let issued = StatementIssued {
            statement_id: Uuid::now_v7(),
            worker_id: worker.account_id,
            month: Month::parse("2026-12").unwrap(),
            carried_in_cents: 0,
            shares_cents: salary_cents.max(0),
            fines_cents: (-salary_cents).max(0),
            waivers_cents: 0,
            bonuses_cents: 0,
            total_cents: salary_cents,
            salary_cents: salary_cents.max(0),
            carried_out_cents: salary_cents.min(0),
            issued_at: now(),
        };
        event("billing", &issued, now())
    }

    async fn deliver(store: &MemoryStore, bank: &FakeBank, e: &Envelope) -> Outcome {
        app::on_payout_request(store, bank, e, now())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    async fn register(
        store: &MemoryStore,
        bank: &FakeBank,
        who: &Claims,
        iban: &str,
    ) -> Result<app::PayoutDetailsView, PaymentsError> {
        let cause = ates_kernel::event::Cause::request("test");
        app::register_payout_details(store, bank, who, iban, &cause, now()).await
    }

    fn salaries_paid(store: &MemoryStore) -> Vec<Envelope> {
        store
            .published()
            .into_iter()
            .filter(|e| e.name == "Payment.SalaryPaid")
            .collect()
    }

    #[tokio::test]
    async fn a_days_payout_without_details_is_held_and_sent_once_they_are_given() {
        let (store, bank) = (MemoryStore::default(), FakeBank::default());
        let kiwi = worker();
        let made = payout_made(&kiwi, 2_000);
        assert_eq!(deliver(&store, &bank, &made).await, Outcome::Applied);
        assert_eq!(deliver(&store, &bank, &made).await, Outcome::Duplicate);
        assert!(bank.transfers().is_empty(), "no details: held");
        let view = app::payout_details(&store, &kiwi).await.unwrap();
        assert_eq!((view.held_transfers, view.held_cents), (1, 2_000));

        // A bad IBAN is refused by name, and nothing is written.
        let bad = register(&store, &bank, &kiwi, "DE88 3704 0044 0532 0130 00").await;
        assert!(
            matches!(bad, Err(PaymentsError::Invalid(ref m)) if m.contains("check digits")),
            "{bad:?}"
        );
        assert_eq!(app::payout_details(&store, &kiwi).await.unwrap().iban, None);

        let view = register(&store, &bank, &kiwi, IBAN).await.unwrap();
        assert_eq!(view.iban.as_deref(), Some("••••3000"));
        assert_eq!((view.held_transfers, view.held_cents), (0, 0));
        assert_eq!(bank.sent_cents(), 2_000);
        let mine = app::my_payments(&store, &kiwi).await.unwrap();
        assert_eq!(mine.payouts[0].status, "posted");
        assert_eq!(mine.payouts[0].sent_to.as_deref(), Some("••••3000"));

        // Delivered again, details given again: still sent once, and no salary said paid.
        deliver(&store, &bank, &made).await;
        register(&store, &bank, &kiwi, IBAN).await.unwrap();
        assert_eq!(bank.transfers().len(), 1);
        assert!(
            salaries_paid(&store).is_empty(),
            "a day's payout is not a salary"
        );
    }

    #[tokio::test]
    async fn a_salary_goes_at_once_to_the_details_given_and_is_confirmed_to_billing_once() {
        let (store, bank) = (MemoryStore::default(), FakeBank::default());
        let kiwi = worker();
        register(&store, &bank, &kiwi, IBAN).await.unwrap();
        let issued = statement(&kiwi, 4_600);
        for _ in 0..3 {
            deliver(&store, &bank, &issued).await;
        }
        assert_eq!(bank.transfers().len(), 1);
        assert_eq!(bank.sent_cents(), 4_600);
        let paid = salaries_paid(&store);
        assert_eq!(paid.len(), 1, "confirmed once");
        let paid = decode_salary_paid(&paid[0]).unwrap();
        assert_eq!(
            (paid.worker_id, paid.amount_cents),
            (kiwi.account_id, 4_600)
        );
        assert_eq!(paid.month.to_string(), "2026-12");

        // A month that ended in debt pays nothing: none of payments' business.
        let debt = statement(&worker(), -1_200);
        assert_eq!(deliver(&store, &bank, &debt).await, Outcome::NotConcerned);
        assert_eq!(bank.transfers().len(), 1);
    }

    #[tokio::test]
    async fn a_transfer_the_bank_refuses_is_held_again_and_goes_with_the_next_details_under_a_new_key(
    ) {
        let (store, bank) = (MemoryStore::default(), FakeBank::default());
        let kiwi = worker();
        register(&store, &bank, &kiwi, CLOSED_ACCOUNT)
            .await
            .unwrap();
        deliver(&store, &bank, &statement(&kiwi, 4_600)).await;
        assert_eq!(bank.sent_cents(), 0, "refused: nothing left");
        assert!(salaries_paid(&store).is_empty(), "nothing says it was paid");
        let view = app::payout_details(&store, &kiwi).await.unwrap();
        assert_eq!((view.held_transfers, view.held_cents), (1, 4_600));
        let held = &store.payouts_of(kiwi.account_id).await.unwrap()[0];
        assert_eq!(held.refused.as_deref(), Some("account_closed"));

        register(&store, &bank, &kiwi, IBAN).await.unwrap();
        assert_eq!(bank.sent_cents(), 4_600);
        let keys: Vec<String> = bank.transfers().into_keys().collect();
        assert_eq!(
            keys,
            [
                format!("salary:{}:2026-12#1", kiwi.account_id),
                format!("salary:{}:2026-12#2", kiwi.account_id)
            ]
        );
        assert_eq!(salaries_paid(&store).len(), 1);
    }

    #[tokio::test]
    async fn a_crash_between_the_transfer_and_its_commit_sends_nothing_twice() {
        let (store, bank) = (MemoryStore::default(), FakeBank::default());
        let kiwi = worker();
        register(&store, &bank, &kiwi, IBAN).await.unwrap();
        let issued = statement(&kiwi, 4_600);
        bank.lose_the_next_answer();
        let lost = app::on_payout_request(&store, &bank, &issued, now()).await;
        assert!(matches!(lost, Err(ConsumeError::Retry(_))), "{lost:?}");
        let pending = &store.payouts_of(kiwi.account_id).await.unwrap()[0];
        assert_eq!(
            pending.status,
            Status::Pending,
            "pending: not paid, not lost"
        );
        assert!(salaries_paid(&store).is_empty());

        // The queue delivers again: the bank answers under the same key, and sends nothing more.
        assert_eq!(deliver(&store, &bank, &issued).await, Outcome::Duplicate);
        assert_eq!(bank.transfers().len(), 1);
        assert_eq!(bank.sent_cents(), 4_600);
        assert_eq!(salaries_paid(&store).len(), 1);

        // A bank that cannot be reached leaves it to the queue's retries.
        bank.unreachable(true);
        let other = worker();
        register(&store, &bank, &other, IBAN).await.unwrap();
        let down = app::on_payout_request(&store, &bank, &statement(&other, 100), now()).await;
        assert!(matches!(down, Err(ConsumeError::Retry(_))), "{down:?}");
    }

    /// The store as a registration racing a payout sees it: the worker's details are kept
    /// between the payout's read of them (none) and its write (held).
    struct DetailsArriveMeanwhile {
        store: MemoryStore,
        details: ates_payments::payout::PayoutDetails,
    }

    impl ates_payments::ports::PayoutDetailsBook for DetailsArriveMeanwhile {
        async fn payout_details(
            &self,
            account_id: Uuid,
        ) -> Result<Option<ates_payments::payout::PayoutDetails>, ates_kernel::dynamo::StoreError>
        {
            self.store.payout_details(account_id).await
        }
        async fn keep_payout_details(
            &self,
            details: &ates_payments::payout::PayoutDetails,
        ) -> Result<(), ates_kernel::dynamo::StoreError> {
            self.store.keep_payout_details(details).await
        }
    }

    impl Payouts for DetailsArriveMeanwhile {
        async fn payout(
            &self,
            account_id: Uuid,
            payout_id: &str,
        ) -> Result<Option<ates_payments::payout::Payout>, ates_kernel::dynamo::StoreError>
        {
            self.store.payout(account_id, payout_id).await
        }
        async fn payouts_of(
            &self,
            account_id: Uuid,
        ) -> Result<Vec<ates_payments::payout::Payout>, ates_kernel::dynamo::StoreError> {
            self.store.payouts_of(account_id).await
        }
        async fn waiting_payouts_of(
            &self,
            account_id: Uuid,
        ) -> Result<Vec<ates_payments::payout::Payout>, ates_kernel::dynamo::StoreError> {
            self.store.waiting_payouts_of(account_id).await
        }
        async fn add_payout(
            &self,
            payout: &ates_payments::payout::Payout,
            events: &[Envelope],
        ) -> Result<app::Saved, ates_kernel::dynamo::StoreError> {
            // The registration keeps the details and finds no payout to release yet.
            self.store.keep_payout_details(&self.details).await?;
            self.store.add_payout(payout, events).await
        }
        async fn change_payout(
            &self,
            before: &ates_payments::payout::Payout,
            after: &ates_payments::payout::Payout,
            events: &[Envelope],
        ) -> Result<app::Saved, ates_kernel::dynamo::StoreError> {
            self.store.change_payout(before, after, events).await
        }
    }

    #[tokio::test]
    async fn a_payout_recorded_held_as_details_arrive_is_sent_all_the_same() {
        let kiwi = worker();
        let store = DetailsArriveMeanwhile {
            store: MemoryStore::default(),
            details: ates_payments::payout::PayoutDetails {
                account_id: kiwi.account_id,
                iban: ates_payments::payout::Iban::parse(IBAN).unwrap(),
                updated_at: now(),
            },
        };
        let bank = FakeBank::default();
        let made = payout_made(&kiwi, 2_000);
        let outcome = app::on_payout_request(&store, &bank, &made, now()).await;
        assert_eq!(outcome.unwrap(), Outcome::Applied);
        assert_eq!(bank.sent_cents(), 2_000, "not left held beside an IBAN");
        let payouts = store.store.payouts_of(kiwi.account_id).await.unwrap();
        assert_eq!(payouts[0].status, Status::Posted);
    }

    #[tokio::test]
    async fn accountings_details_are_taken_unless_newer_ones_were_given_here() {
        let (store, bank) = (MemoryStore::default(), FakeBank::default());
        let (kiwi, mango) = (worker(), worker());
        deliver(&store, &bank, &payout_made(&kiwi, 700)).await;
        let handed = |who: &Claims, iban: &str, at_: &str| {
            let payload = PayoutDetailsHandedOver {
                account_id: who.account_id,
                iban: iban.into(),
                updated_at: at(at_),
            };
            event("accounting", &payload, now())
        };
        let kiwis = handed(&kiwi, "DE89370400440532013000", "2026-11-19T10:00:00Z");
        let outcome = app::take_payout_details(&store, &bank, &kiwis, now()).await;
        assert_eq!(outcome.unwrap(), Outcome::Applied);
        assert_eq!(bank.sent_cents(), 700, "the held payout went with them");
        assert_eq!(
            app::payout_details(&store, &kiwi)
                .await
                .unwrap()
                .iban
                .as_deref(),
            Some("••••3000")
        );
        // Mango gave new details here before accounting's older ones arrived: theirs stay.
        register(&store, &bank, &mango, "GB82WEST12345698765432")
            .await
            .unwrap();
        let old = handed(&mango, "DE89370400440532013000", "2026-11-01T10:00:00Z");
        let outcome = app::take_payout_details(&store, &bank, &old, now()).await;
        assert_eq!(outcome.unwrap(), Outcome::Superseded);
        assert_eq!(
            app::payout_details(&store, &mango)
                .await
                .unwrap()
                .iban
                .as_deref(),
            Some("••••5432")
        );
        // Nothing that is not an IBAN is kept.
        let bad = handed(&kiwi, "DE00370400440532013000", "2026-12-01T10:00:00Z");
        let outcome = app::take_payout_details(&store, &bank, &bad, now()).await;
        assert!(
            matches!(outcome, Err(ConsumeError::Poison(_))),
            "{outcome:?}"
        );
    }
}
