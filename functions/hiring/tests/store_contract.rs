//! The contract of hiring's store ports: what the use cases rely on, asserted through the ports
//! alone. Every contract runs on the in-memory store the use-case tests use (`memory::…`) and on
//! the DynamoDB store over a fresh table of one emulator shared by this binary (`dynamo::…`).

use ates_hiring::application::{Application, Filter, NewApplication, Span, Status};
use ates_hiring::bank::{
    NewChoice, NewProfile, NewQuestion, NewTest, Paper, Profile, Question, Test,
};
use ates_hiring::error::HiringError;
use ates_hiring::ports::{
    Accounts, ApplicationChanges, Applications, Change, Deadlines, Saved, Shelf, Workers,
};
use ates_hiring::token::Token;
use ates_hiring::worker::{NewWorkerProfile, WorkerProfile};
use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::contracts::hiring::Kind;
use ates_kernel::event::{Cause, Envelope};
use ates_kernel::idempotency::IdempotencyKey;
use ates_kernel::identity::Role;
use ates_kernel::testing::{self, account_copies_move_only_forward, at, every_page};
use ates_kernel::usecase::Failure;
use ates_kernel::usecase::{Keyed, Replays};
use chrono::{DateTime, Duration, Utc};
use rand::SeedableRng;
use uuid::Uuid;

ates_kernel::store_contracts!(
    ates_hiring::memory::MemoryStore::default(),
    ates_hiring::store::Store::new,
    "Hiring";
    an_address_has_one_open_application_of_a_kind,
    an_application_changes_only_from_the_version_read,
    a_decided_application_frees_its_address,
    a_test_is_due_from_its_deadline_while_it_is_taken,
    a_hired_workers_profile_is_written_once_and_changes_by_revision,
    a_used_key_writes_nothing_and_keeps_the_first_answer,
    bank_entries_change_only_from_the_revision_read_and_list_newest_first,
    applications_are_listed_by_status_and_kind_newest_first_and_paged,
    an_accounts_address_is_known_from_its_copy,
    account_copies_move_only_forward,
);

fn now() -> DateTime<Utc> {
    at("2026-12-01T10:00:00.123456Z")
}

fn application(email: &str, kind: &str, submitted_at: DateTime<Utc>) -> Application {
    let new = NewApplication {
        email: email.into(),
        full_name: "Kiwi Popug".into(),
        kind: kind.into(),
    };
    let token = Token::issue(&mut rand::rngs::StdRng::from_entropy(), submitted_at);
    Application::submit(&new.validate().unwrap(), token.kept, submitted_at)
}

fn submitted(application: &Application) -> Envelope {
    let cause = Cause::request("test");
    Envelope::wrap(
        "hiring",
        &application.submitted(),
        &cause,
        application.submitted_at,
    )
    .unwrap()
}

async fn add<S: ApplicationChanges>(store: &S, application: &Application) {
    let saved = store
        .add_application(application, &submitted(application))
        .await
        .unwrap();
    assert_eq!(saved, Saved::Done, "{application:?} written");
}

fn plain(now: DateTime<Utc>) -> Change<'static> {
    Change {
        events: &[],
        hired: None,
        keyed: None,
        now,
    }
}

/// A paper of one question worth 3, given for `days`.
fn paper(days: u32) -> Paper {
    let question = NewQuestion {
        text: "Q".into(),
        options: vec![
            NewChoice {
                text: "right".into(),
                points: 3,
            },
            NewChoice {
                text: "wrong".into(),
                points: 0,
            },
        ],
    };
    let question = Question::create(&question.validate().unwrap(), now());
    let test = NewTest {
        title: "T".into(),
        question_ids: vec![question.question_id],
    };
    let test = Test::create(
        &test.validate().unwrap(),
        std::slice::from_ref(&question),
        now(),
    )
    .unwrap();
    let profile = NewProfile {
        name: "P".into(),
        test_ids: vec![test.test_id],
        pass_mark: 3,
        time_limit_days: days,
    };
    let profile = Profile::create(
        &profile.validate().unwrap(),
        std::slice::from_ref(&test),
        std::slice::from_ref(&question),
        now(),
    )
    .unwrap();
    Paper::assemble(&profile, &[test], &[question]).unwrap()
}

async fn an_address_has_one_open_application_of_a_kind<S: Applications + ApplicationChanges>(
    store: &S,
) {
    let first = application("kiwi@popug.test", "worker", now());
    assert_eq!(
        store
            .open_application("kiwi@popug.test", Kind::Worker)
            .await
            .unwrap(),
        None
    );
    add(store, &first).await;
    assert_eq!(
        store.application(first.application_id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        store
            .open_application("kiwi@popug.test", Kind::Worker)
            .await
            .unwrap(),
        Some(first.clone())
    );
    let second = application("kiwi@popug.test", "worker", now());
    let saved = store
        .add_application(&second, &submitted(&second))
        .await
        .unwrap();
    assert_eq!(
        saved,
        Saved::Stale,
        "a second open application of the address and kind"
    );
    assert_eq!(
        store.application(second.application_id).await.unwrap(),
        None
    );
    add(store, &application("kiwi@popug.test", "client", now())).await;
}

async fn an_application_changes_only_from_the_version_read<S: Applications + ApplicationChanges>(
    store: &S,
) {
    let first = application("mango@popug.test", "worker", now());
    add(store, &first).await;
    let testing = first
        .assign_test(paper(7), Uuid::now_v7(), now())
        .unwrap()
        .0;
    let saved = store
        .change_application(&first, &testing, plain(now()))
        .await
        .unwrap();
    assert_eq!(saved, Saved::Done);
    // Another writer that read the first version.
    let declined = first
        .decline(Role::Manager, Uuid::now_v7(), "no", now())
        .unwrap()
        .0;
    let saved = store
        .change_application(&first, &declined, plain(now()))
        .await
        .unwrap();
    assert_eq!(saved, Saved::Stale);
    assert_eq!(
        store.application(first.application_id).await.unwrap(),
        Some(testing)
    );
    let ghost = application("ghost@popug.test", "client", now());
    let decided = ghost
        .decline(Role::Manager, Uuid::now_v7(), "no", now())
        .unwrap()
        .0;
    let saved = store
        .change_application(&ghost, &decided, plain(now()))
        .await
        .unwrap();
    assert_eq!(
        saved,
        Saved::Stale,
        "an application never written does not change"
    );
    assert_eq!(store.application(ghost.application_id).await.unwrap(), None);
}

async fn a_decided_application_frees_its_address<S: Applications + ApplicationChanges>(store: &S) {
    let first = application("pear@popug.test", "client", now());
    add(store, &first).await;
    let declined = first
        .decline(Role::Manager, Uuid::now_v7(), "no", now())
        .unwrap()
        .0;
    let saved = store
        .change_application(&first, &declined, plain(now()))
        .await
        .unwrap();
    assert_eq!(saved, Saved::Done);
    assert_eq!(
        store
            .open_application("pear@popug.test", Kind::Client)
            .await
            .unwrap(),
        None
    );
    add(store, &application("pear@popug.test", "client", now())).await;
}

async fn a_test_is_due_from_its_deadline_while_it_is_taken<
    S: Applications + ApplicationChanges + Deadlines,
>(
    store: &S,
) {
    let (soon, later) = (
        application("soon@popug.test", "worker", now()),
        application("later@popug.test", "worker", now()),
    );
    let mut taken = Vec::new();
    for (application, days) in [(&soon, 1), (&later, 3)] {
        add(store, application).await;
        let testing = application
            .assign_test(paper(days), Uuid::now_v7(), now())
            .unwrap()
            .0;
        let saved = store
            .change_application(application, &testing, plain(now()))
            .await
            .unwrap();
        assert_eq!(saved, Saved::Done);
        taken.push(testing);
    }
    let day = |d: i64| now() + Duration::days(d);
    assert_eq!(
        store
            .due(day(1) - Duration::microseconds(1), 10)
            .await
            .unwrap(),
        Vec::<Uuid>::new()
    );
    assert_eq!(store.due(day(1), 10).await.unwrap(), [soon.application_id]);
    assert_eq!(
        store.due(day(5), 10).await.unwrap(),
        [soon.application_id, later.application_id],
        "earliest first"
    );
    assert_eq!(store.due(day(5), 1).await.unwrap(), [soon.application_id]);
    // Submitted: no longer due.
    let answer = taken[0].paper.as_ref().unwrap().questions[0].question_id;
    let answers = [ates_hiring::bank::Answer {
        question_id: answer,
        option_ids: vec![],
    }];
    let checked = taken[0].answer(&answers, now()).unwrap().0;
    let saved = store
        .change_application(&taken[0], &checked, plain(now()))
        .await
        .unwrap();
    assert_eq!(saved, Saved::Done);
    assert_eq!(store.due(day(5), 10).await.unwrap(), [later.application_id]);
}

fn hired(account: Uuid, level: &str) -> WorkerProfile {
    let profile = NewWorkerProfile {
        skills: vec!["carpets".into()],
        level: level.into(),
    };
    WorkerProfile::hired(account, &profile.validate().unwrap(), Uuid::now_v7(), now())
}

async fn accepted_worker<S: Applications + ApplicationChanges>(
    store: &S,
    email: &str,
) -> (Application, Application) {
    let first = application(email, "worker", now());
    add(store, &first).await;
    let testing = first
        .assign_test(paper(7), Uuid::now_v7(), now())
        .unwrap()
        .0;
    store
        .change_application(&first, &testing, plain(now()))
        .await
        .unwrap();
    let checked = testing.answer(&[], now()).unwrap().0;
    store
        .change_application(&testing, &checked, plain(now()))
        .await
        .unwrap();
    let accepted = checked
        .accept(Role::Manager, Uuid::now_v7(), now())
        .unwrap()
        .0;
    (checked, accepted)
}

async fn a_hired_workers_profile_is_written_once_and_changes_by_revision<
    S: Applications + ApplicationChanges + Workers,
>(
    store: &S,
) {
    let (checked, accepted) = accepted_worker(store, "worker@popug.test").await;
    let account = accepted.account_id();
    let first = hired(account, "junior");
    let change = Change {
        hired: Some(&first),
        ..plain(now())
    };
    assert_eq!(
        store
            .change_application(&checked, &accepted, change)
            .await
            .unwrap(),
        Saved::Done
    );
    assert_eq!(store.worker(account).await.unwrap(), Some(first.clone()));

    // Another application that would hire the same account: its profile stops it.
    let (checked, accepted) = accepted_worker(store, "twin@popug.test").await;
    let twin = hired(account, "senior");
    let change = Change {
        hired: Some(&twin),
        ..plain(now())
    };
    assert_eq!(
        store
            .change_application(&checked, &accepted, change)
            .await
            .unwrap(),
        Saved::Stale
    );
    assert_eq!(
        store.application(checked.application_id).await.unwrap(),
        Some(checked)
    );

    let event = |p: &WorkerProfile| {
        Envelope::wrap("hiring", &p.set(), &Cause::request("t"), now()).unwrap()
    };
    let promoted = first.change(
        &hired(account, "senior").into_valid(),
        Uuid::now_v7(),
        now(),
    );
    let saved = store
        .change_worker(&promoted, &first, &event(&promoted), None, now())
        .await
        .unwrap();
    assert_eq!(saved, Saved::Done);
    let stale = first.change(
        &hired(account, "middle").into_valid(),
        Uuid::now_v7(),
        now(),
    );
    let saved = store
        .change_worker(&stale, &first, &event(&stale), None, now())
        .await
        .unwrap();
    assert_eq!(saved, Saved::Stale);
    assert_eq!(store.worker(account).await.unwrap(), Some(promoted));
}

/// A profile's skills and level, to change another with.
trait IntoValid {
    fn into_valid(self) -> ates_hiring::worker::ValidWorkerProfile;
}

impl IntoValid for WorkerProfile {
    fn into_valid(self) -> ates_hiring::worker::ValidWorkerProfile {
        ates_hiring::worker::ValidWorkerProfile {
            skills: self.skills,
            level: self.level,
        }
    }
}

async fn a_used_key_writes_nothing_and_keeps_the_first_answer<
    S: Applications + ApplicationChanges + Replays,
>(
    store: &S,
) {
    let first = application("keyed@popug.test", "client", now());
    add(store, &first).await;
    let key = IdempotencyKey::new("manager", "k1").unwrap();
    let keyed = Keyed {
        key: key.clone(),
        fingerprint: "accept".into(),
    };
    let accepted = first
        .accept(Role::Manager, Uuid::now_v7(), now())
        .unwrap()
        .0;
    let change = Change {
        keyed: Some((&keyed, "{\"first\":true}")),
        ..plain(now())
    };
    assert_eq!(
        store
            .change_application(&first, &accepted, change)
            .await
            .unwrap(),
        Saved::Done
    );
    let replay = store.replay(&key).await.unwrap().unwrap();
    assert_eq!(
        (replay.request.as_str(), replay.body.as_str()),
        ("accept", "{\"first\":true}")
    );

    let other = application("other@popug.test", "client", now());
    add(store, &other).await;
    let declined = other
        .decline(Role::Manager, Uuid::now_v7(), "no", now())
        .unwrap()
        .0;
    let change = Change {
        keyed: Some((&keyed, "{}")),
        ..plain(now())
    };
    assert_eq!(
        store
            .change_application(&other, &declined, change)
            .await
            .unwrap(),
        Saved::KeyUsed
    );
    assert_eq!(
        store.application(other.application_id).await.unwrap(),
        Some(other)
    );
}

async fn bank_entries_change_only_from_the_revision_read_and_list_newest_first<
    S: Shelf<Question> + Shelf<Test> + Shelf<Profile>,
>(
    store: &S,
) {
    let new = NewQuestion {
        text: "Q".into(),
        options: vec![
            NewChoice {
                text: "a".into(),
                points: 1,
            },
            NewChoice {
                text: "b".into(),
                points: 0,
            },
        ],
    }
    .validate()
    .unwrap();
    let mut written = Vec::new();
    for second in [3, 1, 2] {
        let question = Question::create(&new, now() + Duration::seconds(second));
        assert_eq!(
            store
                .save_entry(&question, None, None, now())
                .await
                .unwrap(),
            Saved::Done
        );
        assert_eq!(
            store
                .save_entry(&question, None, None, now())
                .await
                .unwrap(),
            Saved::Stale
        );
        written.push(question);
    }
    let first = written[0].clone();
    let revised = first.revise(&new, now()).unwrap();
    assert_eq!(
        store
            .save_entry(&revised, Some(&first), None, now())
            .await
            .unwrap(),
        Saved::Done
    );
    let retired = first.retire(now()).unwrap();
    assert_eq!(
        store
            .save_entry(&retired, Some(&first), None, now())
            .await
            .unwrap(),
        Saved::Stale
    );
    let stored = Shelf::<Question>::entry(store, first.question_id)
        .await
        .unwrap();
    assert_eq!(stored, Some(revised.clone()));
    let ids: Vec<Uuid> = written
        .iter()
        .map(|q| q.question_id)
        .chain([Uuid::now_v7()])
        .collect();
    let mut found = Shelf::<Question>::entries(store, &ids).await.unwrap();
    found.sort_by_key(|q| q.question_id);
    assert_eq!(found.len(), 3, "the ids there, and no others");

    for limit in [1, 2, 10] {
        let listed: Vec<Question> = every_page(limit, |cursor| async move {
            Shelf::<Question>::shelf(store, limit, cursor.as_deref()).await
        })
        .await;
        let order: Vec<Uuid> = listed.iter().map(|q| q.question_id).collect();
        assert_eq!(
            order,
            [
                written[0].question_id,
                written[2].question_id,
                written[1].question_id
            ]
        );
        assert_eq!(listed[0], revised);
    }
    let none = Shelf::<Test>::entries(store, &ids).await.unwrap();
    assert!(none.is_empty(), "a question is not a test");
    let forged = Shelf::<Profile>::shelf(store, 2, Some("not-a-cursor")).await;
    assert!(
        matches!(forged, Err(HiringError::Failed(Failure::BadCursor))),
        "{forged:?}"
    );
}

async fn applications_are_listed_by_status_and_kind_newest_first_and_paged<
    S: Applications + ApplicationChanges,
>(
    store: &S,
) {
    let mut news = Vec::new();
    for (i, second) in [4, 1, 3, 2].into_iter().enumerate() {
        let new = application(
            &format!("list{i}@popug.test"),
            "client",
            now() + Duration::seconds(second),
        );
        add(store, &new).await;
        news.push(new);
    }
    let declined = news[3]
        .decline(Role::Manager, Uuid::now_v7(), "no", now())
        .unwrap()
        .0;
    store
        .change_application(&news[3], &declined, plain(now()))
        .await
        .unwrap();
    let worker = application("list@popug.test", "worker", now() + Duration::seconds(5));
    add(store, &worker).await;
    let clients = [
        news[0].application_id,
        news[2].application_id,
        news[1].application_id,
    ];
    let everyone: Vec<Uuid> = [worker.application_id].into_iter().chain(clients).collect();
    for (kind, expected) in [
        (None, everyone),
        (Some(Kind::Client), clients.to_vec()),
        (Some(Kind::Worker), vec![worker.application_id]),
        (Some(Kind::Manager), vec![]),
    ] {
        for limit in [1, 2, 10] {
            let filter = Filter {
                status: Status::New,
                kind,
                submitted: None,
            };
            let listed = every_page(limit, |cursor| async move {
                store
                    .applications_in(&filter, limit, cursor.as_deref())
                    .await
            })
            .await;
            let ids: Vec<Uuid> = listed.iter().map(|a| a.application_id).collect();
            assert_eq!(ids, expected, "{kind:?} by {limit}");
        }
    }
    // Submitted from one time (included) until another (excluded), to the microsecond.
    let second = |s: i64| now() + Duration::seconds(s);
    let micro = Duration::microseconds(1);
    for (kind, from, until, expected) in [
        (
            None,
            second(1),
            second(4),
            vec![news[2].application_id, news[1].application_id],
        ),
        (
            None,
            second(3),
            second(5) + micro,
            vec![
                worker.application_id,
                news[0].application_id,
                news[2].application_id,
            ],
        ),
        (
            None,
            second(3) + micro,
            second(5),
            vec![news[0].application_id],
        ),
        (Some(Kind::Client), second(0), second(9), clients.to_vec()),
        (Some(Kind::Worker), second(0), second(5), vec![]),
    ] {
        let filter = Filter {
            status: Status::New,
            kind,
            submitted: Some(Span { from, until }),
        };
        for limit in [1, 10] {
            let listed = every_page(limit, |cursor| async move {
                store
                    .applications_in(&filter, limit, cursor.as_deref())
                    .await
            })
            .await;
            let ids: Vec<Uuid> = listed.iter().map(|a| a.application_id).collect();
            assert_eq!(ids, expected, "{kind:?} {from}..{until} by {limit}");
        }
    }
    let declined_filter = Filter {
        status: Status::Declined,
        kind: None,
        submitted: None,
    };
    let declined_list = store
        .applications_in(&declined_filter, 10, None)
        .await
        .unwrap();
    assert_eq!(declined_list.items, [declined]);
    let forged_filter = Filter {
        status: Status::New,
        kind: Some(Kind::Client),
        submitted: None,
    };
    let forged = store
        .applications_in(&forged_filter, 2, Some("not-a-cursor"))
        .await;
    assert!(
        matches!(forged, Err(HiringError::Failed(Failure::BadCursor))),
        "{forged:?}"
    );
}

async fn an_accounts_address_is_known_from_its_copy<S: Accounts>(store: &S) {
    assert_eq!(
        store
            .account_with_address("known@popug.test")
            .await
            .unwrap(),
        None
    );
    let account = AccountSnapshot {
        email: "known@popug.test".into(),
        ..testing::account("Known", Role::Accountant)
    };
    store
        .save_account(&account, &testing::account_event(&account))
        .await
        .unwrap();
    assert_eq!(
        store
            .account_with_address("Known@Popug.test")
            .await
            .unwrap(),
        Some(account.account_id)
    );
}
