//! A command's one write as DynamoDB keeps it: an entity only over the revision read, with its
//! events in the outbox; and what only the newest matters for, written whatever is there.

use ates_kernel::dynamo::{get_n, key, n, s, Item, Table, Transaction};
use ates_kernel::identity::Role;
use ates_kernel::outbox;
use ates_kernel::testing::{account, account_event, Emulator};
use ates_kernel::usecase::Saved;

const ENTITY: &str = "entity";

fn entity(revision: u64) -> Item {
    let mut item = key("ENTITY#1", "ENTITY");
    item.insert("revision".to_owned(), n(revision));
    item
}

async fn revision(table: &Table) -> Option<u64> {
    let item = table.get(key("ENTITY#1", "ENTITY")).await.unwrap();
    item.map(|i| get_n(&i, "revision").unwrap())
}

#[tokio::test]
async fn an_entity_is_written_only_over_the_revision_read_and_its_events_with_it() {
    let (_emulator, _config, table) = Emulator::with_table("CommitsTable").await;
    let event = account_event(&account("Kiwi", Role::Worker));
    let now = event.occurred_at;
    let write = |item, read| {
        outbox::commit_over_revision(
            &table,
            ENTITY,
            item,
            read,
            std::slice::from_ref(&event),
            None,
            now,
        )
    };

    assert_eq!(write(entity(1), None).await.unwrap(), Saved::Done);
    let published = table.get(key(format!("OUTBOX#{}", event.id), "OUTBOX"));
    assert!(published.await.unwrap().is_some(), "the event went with it");
    assert_eq!(
        write(entity(1), None).await.unwrap(),
        Saved::Stale,
        "it was there already"
    );
    let other = [account_event(&account("Pico", Role::Worker))];
    let again = outbox::commit_over_revision(&table, ENTITY, entity(2), Some(0), &other, None, now);
    assert_eq!(
        again.await.unwrap(),
        Saved::Stale,
        "not at the revision read"
    );
    let unpublished = table.get(key(format!("OUTBOX#{}", other[0].id), "OUTBOX"));
    assert!(unpublished.await.unwrap().is_none(), "nor its event");
    assert_eq!(revision(&table).await, Some(1));
    let next = outbox::commit_unkeyed(
        &table,
        Transaction::new().with(ENTITY, table.put_over_revision(entity(2), Some(1))),
        &[],
        &[ENTITY],
    );
    assert_eq!(next.await.unwrap(), Saved::Done);
    assert_eq!(revision(&table).await, Some(2));
}

#[tokio::test]
async fn what_only_the_newest_matters_for_is_overwritten_whatever_is_there() {
    let (_emulator, _config, table) = Emulator::with_table("CommitsTable").await;
    for name in ["Kiwi", "Pico"] {
        let mut item = key("CARD#1", "CARD");
        item.insert("name".to_owned(), s(name));
        table.overwrite(item).await.unwrap();
    }
    let card = table.get(key("CARD#1", "CARD")).await.unwrap().unwrap();
    assert_eq!(card.get("name"), Some(&s("Pico")));
}
