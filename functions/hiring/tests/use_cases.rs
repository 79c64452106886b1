//! Hiring's use cases on the in-memory store: the requirements (SPEC M1), without HTTP or AWS.

use ates_hiring::app::{self, Answer, Request};
use ates_hiring::application::{account_id_of, Filter, NewAcceptance, NewApplication, Status};
use ates_hiring::bank::{self, NewChoice, NewProfile, NewQuestion, NewTest, Profile, Question};
use ates_hiring::error::HiringError;
use ates_hiring::memory::{Mailbox, MemoryStore};
use ates_hiring::worker::NewWorkerProfile;
use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::contracts::hiring::{
    decode_application_accepted, decode_application_declined, Kind,
};
use ates_kernel::event::Cause;
use ates_kernel::idempotency::IdempotencyKey;
use ates_kernel::identity::{Claims, Role};
use ates_kernel::testing;
use ates_kernel::usecase::Failure;
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::SeedableRng;
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    testing::at("2026-12-01T10:00:00Z")
}

/// A staff member's verified token; no account copy yet, so the token's role stands.
fn staff(role: Role) -> Claims {
    Claims {
        account_id: Uuid::now_v7(),
        role,
    }
}

fn at(now: DateTime<Utc>) -> Request {
    Request {
        cause: Cause::request("test"),
        idempotency: None,
        now,
    }
}

fn keyed(key: &str) -> Request {
    Request {
        idempotency: IdempotencyKey::new("manager", key),
        ..at(now())
    }
}

fn names(store: &MemoryStore) -> Vec<String> {
    store.published().into_iter().map(|e| e.name).collect()
}

fn fresh<T: std::fmt::Debug>(answer: Result<Answer<T>, HiringError>) -> T {
    match answer {
        Ok(Answer::Fresh(t)) => t,
        other => panic!("not done now: {other:?}"),
    }
}

async fn apply(store: &MemoryStore, mail: &Mailbox, email: &str, kind: &str) -> Uuid {
    let new = NewApplication {
        email: email.into(),
        full_name: "Kiwi Popug".into(),
        kind: kind.into(),
    };
    let rng = &mut StdRng::from_entropy();
    app::apply(
        store,
        mail,
        &new.validate().unwrap(),
        &Cause::request("test"),
        now(),
        rng,
    )
    .await
    .unwrap()
}

/// A question worth 4 (option 0) with a wrong option (1), in a test, in a profile passing at 4
/// within 7 days.
async fn bank(store: &MemoryStore) -> (Question, Profile) {
    let manager = staff(Role::Manager);
    let question = NewQuestion {
        text: "Which seed do popugs prefer?".into(),
        options: vec![
            NewChoice {
                text: "Sunflower".into(),
                points: 4,
            },
            NewChoice {
                text: "Gravel".into(),
                points: 0,
            },
        ],
    };
    let question = fresh(
        app::create_question(store, &manager, &question.validate().unwrap(), &at(now())).await,
    );
    let test = NewTest {
        title: "Seeds".into(),
        question_ids: vec![question.question_id],
    };
    let test =
        fresh(app::create_test(store, &manager, &test.validate().unwrap(), &at(now())).await);
    let profile = NewProfile {
        name: "Seed sorter".into(),
        test_ids: vec![test.test_id],
        pass_mark: 4,
        time_limit_days: 7,
    };
    let profile =
        fresh(app::create_profile(store, &manager, &profile.validate().unwrap(), &at(now())).await);
    (question, profile)
}

fn choose(question: &Question, option: usize) -> Vec<bank::Answer> {
    vec![bank::Answer {
        question_id: question.question_id,
        option_ids: vec![question.options[option].option_id],
    }]
}

fn worker_acceptance() -> NewAcceptance {
    NewAcceptance {
        skills: Some(vec!["seed-sorting".into()]),
        level: Some("junior".into()),
    }
}

#[tokio::test]
async fn a_worker_applies_takes_a_test_is_scored_and_accepted_with_skills_and_a_level() {
    let (store, mail) = (MemoryStore::default(), Mailbox::default());
    let (question, profile) = bank(&store).await;
    let id = apply(&store, &mail, "Kiwi@Popug.Test", "worker").await;
    let token = mail.token_of(id).expect("the token is mailed");
    assert_eq!(mail.sent()[0].1, "kiwi@popug.test");
    let view = app::applicant_view(&store, id, &token, now())
        .await
        .unwrap();
    assert_eq!((view.status, view.test.is_none()), (Status::New, true));

    let manager = staff(Role::Manager);
    let assigned =
        fresh(app::assign_test(&store, &manager, id, profile.profile_id, &at(now())).await);
    assert_eq!(
        assigned.status,
        Status::Test,
        "assigning a test moves new → test by itself"
    );
    let view = app::applicant_view(&store, id, &token, now())
        .await
        .unwrap();
    assert_eq!(view.deadline, Some(now() + Duration::days(7)));
    assert_eq!(view.test.unwrap().questions[0].options.len(), 2);

    let later = now() + Duration::days(2);
    let cause = Cause::request("test");
    let scored = app::submit_answers(&store, id, &token, &choose(&question, 0), &cause, later)
        .await
        .unwrap();
    assert_eq!(
        scored.status,
        Status::Check,
        "a submission moves test → check by itself"
    );
    assert_eq!(
        (scored.score, scored.max_score, scored.passed),
        (Some(4), Some(4), Some(true))
    );

    let accepted = fresh(app::accept(&store, &manager, id, &worker_acceptance(), &at(later)).await);
    assert_eq!(accepted.status, Status::Accepted);
    assert_eq!(
        names(&store),
        [
            "Application.Submitted",
            "Application.TestAssigned",
            "Application.TestSubmitted",
            "Application.Accepted",
            "Worker.ProfileSet"
        ]
    );
    let published = store.published();
    let event = decode_application_accepted(&published[3]).unwrap();
    assert_eq!(
        event.account_id,
        account_id_of(id),
        "the account id is derived from the application id"
    );
    assert_eq!(
        (event.role, event.email.as_str()),
        (Kind::Worker, "kiwi@popug.test")
    );
    let profile = app::worker_profile(&store, &manager, event.account_id)
        .await
        .unwrap();
    assert_eq!(
        (profile.skills, profile.revision),
        (vec!["seed-sorting".to_owned()], 1)
    );
}

#[tokio::test]
async fn applying_again_for_an_open_application_creates_nothing_and_mails_a_new_token() {
    let (store, mail) = (MemoryStore::default(), Mailbox::default());
    let first = apply(&store, &mail, "kiwi@popug.test", "client").await;
    let old = mail.token_of(first).unwrap();
    let again = apply(&store, &mail, "KIWI@popug.test", "client").await;
    assert_eq!(again, first);
    assert_eq!(names(&store), ["Application.Submitted"]);
    assert_eq!(mail.sent().len(), 2, "the token is mailed again");
    let new = mail.token_of(first).unwrap();
    assert_ne!(new, old);
    assert!(matches!(
        app::applicant_view(&store, first, &old, now()).await,
        Err(HiringError::UnknownApplication)
    ));
    assert!(app::applicant_view(&store, first, &new, now())
        .await
        .is_ok());
    let other_kind = apply(&store, &mail, "kiwi@popug.test", "worker").await;
    assert_ne!(other_kind, first, "another kind is another application");

    app::decline(&store, &staff(Role::Manager), first, "Not now", &at(now()))
        .await
        .unwrap();
    let after_decision = apply(&store, &mail, "kiwi@popug.test", "client").await;
    assert_ne!(
        after_decision, first,
        "a decided application is not open any more"
    );
}

#[tokio::test]
async fn clients_and_managers_are_decided_without_a_test_managers_only_by_admins() {
    let (store, mail) = (MemoryStore::default(), Mailbox::default());
    let (_, profile) = bank(&store).await;
    let client = apply(&store, &mail, "client@popug.test", "client").await;
    let manager_app = apply(&store, &mail, "boss@popug.test", "manager").await;
    let manager = staff(Role::Manager);
    assert!(matches!(
        app::assign_test(&store, &manager, client, profile.profile_id, &at(now())).await,
        Err(HiringError::NoTestFor(_))
    ));
    let accepted = fresh(
        app::accept(
            &store,
            &manager,
            client,
            &NewAcceptance::default(),
            &at(now()),
        )
        .await,
    );
    assert_eq!(accepted.status, Status::Accepted);
    assert!(matches!(
        app::accept(
            &store,
            &manager,
            manager_app,
            &NewAcceptance::default(),
            &at(now())
        )
        .await,
        Err(HiringError::NotYourDecision)
    ));
    let admin = staff(Role::Admin);
    let hired = fresh(
        app::accept(
            &store,
            &admin,
            manager_app,
            &NewAcceptance::default(),
            &at(now()),
        )
        .await,
    );
    assert_eq!(hired.status, Status::Accepted);
    let roles: Vec<Kind> = store
        .published()
        .iter()
        .filter_map(|e| decode_application_accepted(e).ok())
        .map(|a| a.role)
        .collect();
    assert_eq!(roles, [Kind::Client, Kind::Manager]);
    assert!(
        !names(&store).contains(&"Worker.ProfileSet".to_owned()),
        "only workers have a profile"
    );
}

#[tokio::test]
async fn a_token_opens_only_its_application_and_only_for_fourteen_days() {
    let (store, mail) = (MemoryStore::default(), Mailbox::default());
    let kiwi = apply(&store, &mail, "kiwi@popug.test", "client").await;
    let mango = apply(&store, &mail, "mango@popug.test", "client").await;
    let token = mail.token_of(kiwi).unwrap();
    assert!(matches!(
        app::applicant_view(&store, mango, &token, now()).await,
        Err(HiringError::UnknownApplication)
    ));
    assert!(matches!(
        app::applicant_view(&store, Uuid::new_v4(), &token, now()).await,
        Err(HiringError::UnknownApplication)
    ));
    assert!(matches!(
        app::applicant_view(&store, kiwi, &token, now() + Duration::days(14)).await,
        Err(HiringError::TokenExpired)
    ));
}

#[tokio::test]
async fn answers_are_taken_once_before_the_deadline_and_the_deadline_declines() {
    let (store, mail) = (MemoryStore::default(), Mailbox::default());
    let (question, profile) = bank(&store).await;
    let manager = staff(Role::Manager);
    let (on_time, late) = (
        apply(&store, &mail, "kiwi@popug.test", "worker").await,
        apply(&store, &mail, "mango@popug.test", "worker").await,
    );
    for id in [on_time, late] {
        fresh(app::assign_test(&store, &manager, id, profile.profile_id, &at(now())).await);
    }
    let cause = Cause::request("test");
    let token = mail.token_of(on_time).unwrap();
    app::submit_answers(
        &store,
        on_time,
        &token,
        &choose(&question, 1),
        &cause,
        now(),
    )
    .await
    .unwrap();
    assert!(matches!(
        app::submit_answers(
            &store,
            on_time,
            &token,
            &choose(&question, 0),
            &cause,
            now()
        )
        .await,
        Err(HiringError::WrongState {
            status: Status::Check,
            ..
        })
    ));
    let deadline = now() + Duration::days(7);
    let token = mail.token_of(late).unwrap();
    assert!(matches!(
        app::submit_answers(
            &store,
            late,
            &token,
            &choose(&question, 0),
            &cause,
            deadline
        )
        .await,
        Err(HiringError::Late)
    ));
    assert_eq!(
        app::miss_deadlines(&store, &cause, deadline - Duration::seconds(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        app::miss_deadlines(&store, &cause, deadline).await.unwrap(),
        1
    );
    assert_eq!(
        app::miss_deadlines(&store, &cause, deadline).await.unwrap(),
        0,
        "a second run changes nothing"
    );
    let view = app::applicant_view(&store, late, &token, deadline)
        .await
        .unwrap();
    assert_eq!(view.status, Status::Declined);
    let declined: Vec<_> = store
        .published()
        .iter()
        .filter_map(|e| decode_application_declined(e).ok())
        .collect();
    assert_eq!(declined.len(), 1);
    assert_eq!(
        (declined[0].application_id, declined[0].declined_by),
        (late, None)
    );
    let checked = app::application(&store, &manager, on_time).await.unwrap();
    assert_eq!(
        (checked.status, checked.score.unwrap().passed),
        (Status::Check, false)
    );
}

#[tokio::test]
async fn bad_answers_are_refused_by_name_and_write_nothing() {
    let (store, mail) = (MemoryStore::default(), Mailbox::default());
    let (question, profile) = bank(&store).await;
    let id = apply(&store, &mail, "kiwi@popug.test", "worker").await;
    fresh(
        app::assign_test(
            &store,
            &staff(Role::Manager),
            id,
            profile.profile_id,
            &at(now()),
        )
        .await,
    );
    let token = mail.token_of(id).unwrap();
    let cause = Cause::request("test");
    let stranger = vec![bank::Answer {
        question_id: Uuid::now_v7(),
        option_ids: vec![],
    }];
    assert!(matches!(
        app::submit_answers(&store, id, &token, &stranger, &cause, now()).await,
        Err(HiringError::NotOnThePaper(_))
    ));
    let foreign = vec![bank::Answer {
        question_id: question.question_id,
        option_ids: vec![Uuid::now_v7()],
    }];
    assert!(matches!(
        app::submit_answers(&store, id, &token, &foreign, &cause, now()).await,
        Err(HiringError::NotAnOption { .. })
    ));
    let view = app::applicant_view(&store, id, &token, now())
        .await
        .unwrap();
    assert_eq!(view.status, Status::Test);
    assert!(!names(&store).contains(&"Application.TestSubmitted".to_owned()));
}

#[tokio::test]
async fn a_given_test_stays_as_given_when_the_bank_changes() {
    let (store, mail) = (MemoryStore::default(), Mailbox::default());
    let (question, profile) = bank(&store).await;
    let manager = staff(Role::Manager);
    let id = apply(&store, &mail, "kiwi@popug.test", "worker").await;
    fresh(app::assign_test(&store, &manager, id, profile.profile_id, &at(now())).await);
    let edit = NewQuestion {
        text: "Which seed, really?".into(),
        options: vec![
            NewChoice {
                text: "Gravel".into(),
                points: 0,
            },
            NewChoice {
                text: "Millet".into(),
                points: 9,
            },
        ],
    };
    let revised = fresh(
        app::revise_question(
            &store,
            &manager,
            question.question_id,
            &edit.validate().unwrap(),
            &at(now()),
        )
        .await,
    );
    assert_eq!(revised.revision, 2);
    let token = mail.token_of(id).unwrap();
    let view = app::applicant_view(&store, id, &token, now())
        .await
        .unwrap();
    assert_eq!(view.test.unwrap().questions[0].text, question.text);
    let cause = Cause::request("test");
    let scored = app::submit_answers(&store, id, &token, &choose(&question, 0), &cause, now())
        .await
        .unwrap();
    assert_eq!(
        (scored.score, scored.max_score),
        (Some(4), Some(4)),
        "scored by the revision given"
    );
}

#[tokio::test]
async fn an_address_that_has_an_account_is_not_accepted() {
    let (store, mail) = (MemoryStore::default(), Mailbox::default());
    let id = apply(&store, &mail, "kiwi@popug.test", "client").await;
    let account = AccountSnapshot {
        email: "kiwi@popug.test".into(),
        ..testing::account("Kiwi", Role::Worker)
    };
    app::sync_account(&store, &testing::account_event(&account))
        .await
        .unwrap();
    assert!(matches!(
        app::accept(
            &store,
            &staff(Role::Manager),
            id,
            &NewAcceptance::default(),
            &at(now())
        )
        .await,
        Err(HiringError::AddressHasAccount)
    ));
    assert_eq!(names(&store), ["Application.Submitted"]);
}

#[tokio::test]
async fn a_decision_repeated_with_its_key_answers_the_first_and_without_it_names_the_state() {
    let (store, mail) = (MemoryStore::default(), Mailbox::default());
    let id = apply(&store, &mail, "kiwi@popug.test", "client").await;
    let manager = staff(Role::Manager);
    let first = app::accept(
        &store,
        &manager,
        id,
        &NewAcceptance::default(),
        &keyed("k1"),
    )
    .await;
    assert!(matches!(first, Ok(Answer::Fresh(_))));
    let again = app::accept(
        &store,
        &manager,
        id,
        &NewAcceptance::default(),
        &keyed("k1"),
    )
    .await;
    assert!(matches!(again, Ok(Answer::Replayed(_))));
    assert!(matches!(
        app::accept(&store, &manager, id, &NewAcceptance::default(), &at(now())).await,
        Err(HiringError::WrongState {
            status: Status::Accepted,
            ..
        })
    ));
    assert!(matches!(
        app::decline(&store, &manager, id, "no", &keyed("k1")).await,
        Err(HiringError::Failed(Failure::KeyReused))
    ));
    assert_eq!(
        names(&store),
        ["Application.Submitted", "Application.Accepted"]
    );
}

#[tokio::test]
async fn the_bank_refuses_a_profile_it_cannot_pass_or_without_tests() {
    let store = MemoryStore::default();
    let (question, _) = bank(&store).await;
    let manager = staff(Role::Manager);
    let test = NewTest {
        title: "More".into(),
        question_ids: vec![question.question_id],
    };
    let test =
        fresh(app::create_test(&store, &manager, &test.validate().unwrap(), &at(now())).await);
    let too_high = NewProfile {
        name: "Impossible".into(),
        test_ids: vec![test.test_id],
        pass_mark: 5,
        time_limit_days: 3,
    };
    assert!(matches!(
        app::create_profile(&store, &manager, &too_high.validate().unwrap(), &at(now())).await,
        Err(HiringError::PassMarkAboveMaximum {
            pass_mark: 5,
            max_score: 4
        })
    ));
    let unknown = NewProfile {
        test_ids: vec![Uuid::now_v7()],
        pass_mark: 1,
        ..too_high.clone()
    };
    assert!(matches!(
        app::create_profile(&store, &manager, &unknown.validate().unwrap(), &at(now())).await,
        Err(HiringError::UnknownPart(_))
    ));
    let profiles = app::bank_entries::<Profile>(&store, &manager, 10, None)
        .await
        .unwrap();
    assert_eq!(profiles.items.len(), 1, "only the first bank's profile");
    let once = NewProfile {
        pass_mark: 2,
        ..too_high
    };
    let valid = once.validate().unwrap();
    let first = fresh(app::create_profile(&store, &manager, &valid, &keyed("p")).await);
    assert_eq!(first.max_score, 4);
    assert!(matches!(
        app::create_profile(&store, &manager, &valid, &keyed("p")).await,
        Ok(Answer::Replayed(_))
    ));
}

#[tokio::test]
async fn a_retired_profile_is_not_given() {
    let (store, mail) = (MemoryStore::default(), Mailbox::default());
    let (_, profile) = bank(&store).await;
    let manager = staff(Role::Manager);
    fresh(app::retire::<Profile>(&store, &manager, profile.profile_id, &at(now())).await);
    let id = apply(&store, &mail, "kiwi@popug.test", "worker").await;
    assert!(matches!(
        app::assign_test(&store, &manager, id, profile.profile_id, &at(now())).await,
        Err(HiringError::Retired(_))
    ));
}

#[tokio::test]
async fn managers_change_a_workers_profile_as_a_new_revision() {
    let (store, mail) = (MemoryStore::default(), Mailbox::default());
    let (question, profile) = bank(&store).await;
    let manager = staff(Role::Manager);
    let id = apply(&store, &mail, "kiwi@popug.test", "worker").await;
    fresh(app::assign_test(&store, &manager, id, profile.profile_id, &at(now())).await);
    let token = mail.token_of(id).unwrap();
    let cause = Cause::request("test");
    app::submit_answers(&store, id, &token, &choose(&question, 0), &cause, now())
        .await
        .unwrap();
    fresh(app::accept(&store, &manager, id, &worker_acceptance(), &at(now())).await);
    let change = NewWorkerProfile {
        skills: vec!["carpets".into()],
        level: "senior".into(),
    };
    let changed = fresh(
        app::set_worker_profile(
            &store,
            &manager,
            account_id_of(id),
            &change.validate().unwrap(),
            &at(now()),
        )
        .await,
    );
    assert_eq!(
        (changed.revision, changed.skills),
        (2, vec!["carpets".to_owned()])
    );
    assert_eq!(
        names(&store)
            .iter()
            .filter(|n| *n == "Worker.ProfileSet")
            .count(),
        2
    );
    assert!(matches!(
        app::set_worker_profile(
            &store,
            &manager,
            Uuid::now_v7(),
            &change.validate().unwrap(),
            &at(now())
        )
        .await,
        Err(HiringError::UnknownWorker)
    ));
}

fn in_status(status: Status) -> Filter {
    Filter {
        status,
        kind: None,
        submitted: None,
    }
}

#[tokio::test]
async fn staff_list_applications_by_status_newest_first() {
    let (store, mail) = (MemoryStore::default(), Mailbox::default());
    let first = apply(&store, &mail, "a@popug.test", "client").await;
    let second = apply(&store, &mail, "b@popug.test", "client").await;
    app::decline(&store, &staff(Role::Manager), first, "no", &at(now()))
        .await
        .unwrap();
    let manager = staff(Role::Manager);
    let new = app::applications(&store, &manager, &in_status(Status::New), 10, None)
        .await
        .unwrap();
    assert_eq!(
        new.items
            .iter()
            .map(|a| a.application_id)
            .collect::<Vec<_>>(),
        [second]
    );
    let declined = app::applications(&store, &manager, &in_status(Status::Declined), 10, None)
        .await
        .unwrap();
    assert_eq!(declined.items[0].decline_reason.as_deref(), Some("no"));
}

#[tokio::test]
async fn every_transition_the_state_does_not_allow_is_refused_by_its_state_and_writes_nothing() {
    let (store, mail) = (MemoryStore::default(), Mailbox::default());
    let (question, profile) = bank(&store).await;
    let manager = staff(Role::Manager);
    let worker = apply(&store, &mail, "kiwi@popug.test", "worker").await;
    let client = apply(&store, &mail, "mango@popug.test", "client").await;
    fn wrong_state<T: std::fmt::Debug>(result: Result<T, HiringError>, expected: Status) {
        match result {
            Err(HiringError::WrongState { status, .. }) => assert_eq!(status, expected),
            other => panic!("not refused by its state: {other:?}"),
        }
    }
    wrong_state(
        app::accept(&store, &manager, worker, &worker_acceptance(), &at(now())).await,
        Status::New,
    );
    let token = mail.token_of(client).unwrap();
    let cause = Cause::request("test");
    let answered = app::submit_answers(&store, client, &token, &[], &cause, now()).await;
    wrong_state(answered, Status::New);
    fresh(app::assign_test(&store, &manager, worker, profile.profile_id, &at(now())).await);
    wrong_state(
        app::assign_test(&store, &manager, worker, profile.profile_id, &at(now())).await,
        Status::Test,
    );
    wrong_state(
        app::decline(&store, &manager, worker, "no", &at(now())).await,
        Status::Test,
    );
    let token = mail.token_of(worker).unwrap();
    app::submit_answers(&store, worker, &token, &choose(&question, 0), &cause, now())
        .await
        .unwrap();
    fresh(app::decline(&store, &manager, worker, "Not this time", &at(now())).await);
    wrong_state(
        app::accept(&store, &manager, worker, &worker_acceptance(), &at(now())).await,
        Status::Declined,
    );
    assert_eq!(
        names(&store),
        [
            "Application.Submitted",
            "Application.Submitted",
            "Application.TestAssigned",
            "Application.TestSubmitted",
            "Application.Declined"
        ]
    );
}
