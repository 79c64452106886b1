//! The contract of payments' store ports: what the use cases rely on, asserted through the ports
//! alone. Every contract runs on the in-memory store the use-case tests use (`memory::…`) and on
//! the DynamoDB store over a fresh table of one emulator shared by this binary (`dynamo::…`).

use ates_kernel::contracts::billing::CollectionRequested;
use ates_kernel::testing::{account_copies_move_only_forward, at};
use ates_payments::card::{Card, CardDetails, CardToken};
use ates_payments::collection::{Charge, Collection, Opened, Status, ValidRequest};
use ates_payments::payout::{Iban, Payout, PayoutDetails, Purpose, Request, Transfer};
use ates_payments::ports::{Cards, Collections, PayoutDetailsBook, Payouts, Saved};
use chrono::{DateTime, Utc};
use uuid::Uuid;

ates_kernel::store_contracts!(
    ates_payments::memory::MemoryStore::default(),
    ates_payments::store::Store::new,
    "Payments";
    a_card_is_kept_one_per_client_the_newest_replacing_the_last,
    a_collection_is_added_once,
    a_collection_changes_only_from_the_version_read,
    an_invoices_collections_are_read_by_attempt,
    payout_details_are_kept_one_per_account_the_newest_replacing_the_last,
    a_payout_is_added_once_and_changes_only_from_the_version_read,
    account_copies_move_only_forward,
);

fn now() -> DateTime<Utc> {
    at("2026-12-06T18:00:00.123456Z")
}

fn card(client_id: Uuid, token: &str, last4: &str) -> Card {
    let details = CardDetails {
        last4: last4.into(),
        brand: "visa".into(),
    };
    Card::on_file(
        client_id,
        &CardToken::validate(token).unwrap(),
        details,
        now(),
    )
}

fn pending(invoice_id: Uuid, attempt: u32) -> Collection {
    let request = CollectionRequested {
        invoice_id,
        client_id: Uuid::now_v7(),
        amount_cents: 1_999,
        attempt,
        requested_at: now(),
    };
    let valid = ValidRequest::validate(&request).unwrap();
    let card = card(request.client_id, "tok_visa", "4242");
    match Collection::open(&valid, Some(&card), now()) {
        Opened::Pending(collection) => collection,
        other => panic!("{other:?}"),
    }
}

async fn a_card_is_kept_one_per_client_the_newest_replacing_the_last<S: Cards>(store: &S) {
    let (kiwi, pip) = (Uuid::now_v7(), Uuid::now_v7());
    assert_eq!(store.card(kiwi).await.unwrap(), None);
    let visa = card(kiwi, "tok_visa", "4242");
    store.keep_card(&visa).await.unwrap();
    assert_eq!(store.card(kiwi).await.unwrap(), Some(visa));
    let mastercard = card(kiwi, "tok_mastercard", "4444");
    store.keep_card(&mastercard).await.unwrap();
    assert_eq!(store.card(kiwi).await.unwrap(), Some(mastercard.clone()));
    assert_eq!(
        store.card(pip).await.unwrap(),
        None,
        "one client's card only"
    );

    assert!(!store.forget_card(pip).await.unwrap(), "pip had none");
    assert!(store.forget_card(kiwi).await.unwrap());
    assert_eq!(store.card(kiwi).await.unwrap(), None);
    assert!(!store.forget_card(kiwi).await.unwrap());
}

async fn a_collection_is_added_once<S: Collections>(store: &S) {
    let invoice = Uuid::now_v7();
    let first = pending(invoice, 1);
    assert_eq!(store.collection(invoice, 1).await.unwrap(), None);
    assert_eq!(
        store.add_collection(&first, &[]).await.unwrap(),
        Saved::Done
    );
    assert_eq!(
        store.collection(invoice, 1).await.unwrap(),
        Some(first.clone())
    );
    let again = Collection {
        amount_cents: 1,
        ..pending(invoice, 1)
    };
    assert_eq!(
        store.add_collection(&again, &[]).await.unwrap(),
        Saved::Stale
    );
    assert_eq!(store.collection(invoice, 1).await.unwrap(), Some(first));
    assert_eq!(store.collection(invoice, 2).await.unwrap(), None);
}

async fn a_collection_changes_only_from_the_version_read<S: Collections>(store: &S) {
    let invoice = Uuid::now_v7();
    let before = pending(invoice, 2);
    assert_eq!(
        store.add_collection(&before, &[]).await.unwrap(),
        Saved::Done
    );
    let approved = Charge::Approved {
        charge_id: "ch_1".into(),
    };
    let (posted, _) = before.settle(&approved, now()).unwrap();
    let declined = Charge::Declined {
        reason: "card_declined".into(),
    };
    let (voided, _) = before.settle(&declined, now()).unwrap();
    assert_eq!(
        store
            .change_collection(&before, &posted, &[])
            .await
            .unwrap(),
        Saved::Done
    );
    // A second settling from the same read lost: the first answer stands.
    assert_eq!(
        store
            .change_collection(&before, &voided, &[])
            .await
            .unwrap(),
        Saved::Stale
    );
    let stored = store.collection(invoice, 2).await.unwrap().unwrap();
    assert_eq!(stored, posted);
    assert_eq!(stored.status, Status::Posted);
}

async fn an_invoices_collections_are_read_by_attempt<S: Collections>(store: &S) {
    let (invoice, other) = (Uuid::now_v7(), Uuid::now_v7());
    assert!(store.collections_of(invoice).await.unwrap().is_empty());
    for attempt in [3, 1, 4] {
        let saved = store.add_collection(&pending(invoice, attempt), &[]).await;
        assert_eq!(saved.unwrap(), Saved::Done);
    }
    let saved = store.add_collection(&pending(other, 2), &[]).await;
    assert_eq!(saved.unwrap(), Saved::Done);
    let attempts: Vec<u32> = (store.collections_of(invoice).await.unwrap())
        .iter()
        .map(|c| c.attempt)
        .collect();
    assert_eq!(attempts, vec![1, 3, 4]);
    let found = store.collections_of(other).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].invoice_id, other);
}

async fn payout_details_are_kept_one_per_account_the_newest_replacing_the_last<
    S: PayoutDetailsBook,
>(
    store: &S,
) {
    let (kiwi, mango) = (Uuid::now_v7(), Uuid::now_v7());
    assert_eq!(store.payout_details(kiwi).await.unwrap(), None);
    let details = PayoutDetails {
        account_id: kiwi,
        iban: Iban::parse("DE89 3704 0044 0532 0130 00").unwrap(),
        updated_at: now(),
    };
    store.keep_payout_details(&details).await.unwrap();
    assert_eq!(
        store.payout_details(kiwi).await.unwrap(),
        Some(details.clone())
    );
    let changed = PayoutDetails {
        iban: Iban::parse("GB82WEST12345698765432").unwrap(),
        ..details
    };
    store.keep_payout_details(&changed).await.unwrap();
    assert_eq!(store.payout_details(kiwi).await.unwrap(), Some(changed));
    assert_eq!(store.payout_details(mango).await.unwrap(), None);
}

fn held(account_id: Uuid, payout_id: &str) -> Payout {
    let request = Request {
        payout_id: payout_id.into(),
        account_id,
        amount_cents: 700,
        purpose: Purpose::DailyPayout {
            business_date: "2026-12-05".parse().unwrap(),
        },
    };
    Payout::open(request, None, now())
}

async fn a_payout_is_added_once_and_changes_only_from_the_version_read<S: Payouts>(store: &S) {
    let (kiwi, mango) = (Uuid::now_v7(), Uuid::now_v7());
    let (b, a, c) = (
        held(kiwi, "payout:kiwi:2026-12-05"),
        held(kiwi, "payout:kiwi:2026-12-04"),
        held(mango, "salary:mango:2026-11"),
    );
    assert_eq!(store.payout(kiwi, &b.payout_id).await.unwrap(), None);
    assert_eq!(store.add_payout(&b, &[]).await.unwrap(), Saved::Done);
    assert_eq!(
        store.add_payout(&b, &[]).await.unwrap(),
        Saved::Stale,
        "once"
    );
    for p in [&a, &c] {
        assert_eq!(store.add_payout(p, &[]).await.unwrap(), Saved::Done);
    }
    assert_eq!(
        store.payout(kiwi, &b.payout_id).await.unwrap(),
        Some(b.clone())
    );
    assert_eq!(
        store.payouts_of(kiwi).await.unwrap(),
        vec![a.clone(), b.clone()],
        "the account's, by id"
    );
    assert_eq!(store.payouts_of(mango).await.unwrap(), vec![c]);

    let iban = Iban::parse("DE89370400440532013000").unwrap();
    let pending = b.release(&iban).unwrap();
    assert_eq!(
        store.change_payout(&b, &pending, &[]).await.unwrap(),
        Saved::Done
    );
    assert_eq!(
        store.change_payout(&b, &pending, &[]).await.unwrap(),
        Saved::Stale,
        "from the version read only"
    );
    assert_eq!(
        store.payout(kiwi, &b.payout_id).await.unwrap(),
        Some(pending.clone())
    );
    // What waits for the bank, read without the account's history: held, then pending; a
    // payout the bank answered waits no more.
    assert_eq!(
        store.waiting_payouts_of(kiwi).await.unwrap(),
        vec![a.clone(), pending.clone()]
    );
    let sent = Transfer::Sent {
        reference: "bank-1".into(),
    };
    let (posted, _) = pending.settle(&sent, now()).unwrap();
    assert_eq!(
        store.change_payout(&pending, &posted, &[]).await.unwrap(),
        Saved::Done
    );
    assert_eq!(store.waiting_payouts_of(kiwi).await.unwrap(), vec![a]);
    assert_eq!(store.payouts_of(kiwi).await.unwrap().len(), 2, "kept");
}
