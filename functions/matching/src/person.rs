//! A person as matching knows them: their account (auth's `Account.*`, the highest revision)
//! and, for a worker, their skills (hiring's `Worker.ProfileSet`, the highest revision). Either
//! may arrive first; the person is kept from whatever has arrived. Only an active account of
//! role worker with a profile executes orders (SPEC M4): clients, managers, admins and
//! accountants never do, whatever profile they might have.

use std::collections::BTreeSet;

use ates_kernel::contracts::accounts::AccountSnapshot;
use ates_kernel::contracts::hiring::WorkerProfileSet;
use ates_kernel::identity::Role;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why an event changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// This very fact was applied before.
    Duplicate,
    /// A newer one was.
    Superseded,
}

/// How an incoming revision compares with the one kept (`0`: none kept).
fn newer(kept: u64, incoming: u64) -> Result<(), Seen> {
    match incoming.cmp(&kept) {
        std::cmp::Ordering::Greater => Ok(()),
        std::cmp::Ordering::Equal => Err(Seen::Duplicate),
        std::cmp::Ordering::Less => Err(Seen::Superseded),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub account_id: Uuid,
    /// The account as auth last said, if it has said anything yet.
    pub account: Option<AccountSnapshot>,
    /// The worker's skills as hiring last set them (empty before any profile).
    pub skills: Vec<String>,
    /// The profile's revision; 0 before any.
    pub profile_revision: u64,
    /// How many times this record was written: every write is conditional on it.
    pub stamp: u64,
}

impl Person {
    fn new(account_id: Uuid) -> Person {
        Person {
            account_id,
            account: None,
            skills: Vec::new(),
            profile_revision: 0,
            stamp: 0,
        }
    }

    /// Whether they execute orders: an active worker with a profile.
    pub fn executes_orders(&self) -> bool {
        self.profile_revision > 0
            && self
                .account
                .as_ref()
                .is_some_and(|a| a.active && a.role == Role::Worker)
    }

    /// The skills for which they can be chosen now: theirs while they execute orders, none
    /// otherwise.
    pub fn eligible_skills(&self) -> BTreeSet<String> {
        if self.executes_orders() {
            self.skills.iter().cloned().collect()
        } else {
            BTreeSet::new()
        }
    }

    /// The person with this account snapshot, if it is newer than the one kept.
    pub fn with_account(
        before: Option<&Person>,
        account: &AccountSnapshot,
    ) -> Result<Person, Seen> {
        let mut after = before
            .cloned()
            .unwrap_or_else(|| Person::new(account.account_id));
        newer(
            after.account.as_ref().map_or(0, |a| a.revision),
            account.revision,
        )?;
        after.account = Some(account.clone());
        after.stamp += 1;
        Ok(after)
    }

    /// The person with this worker profile, if it is newer than the one kept.
    pub fn with_profile(
        before: Option<&Person>,
        profile: &WorkerProfileSet,
    ) -> Result<Person, Seen> {
        let mut after = before
            .cloned()
            .unwrap_or_else(|| Person::new(profile.account_id));
        newer(after.profile_revision, profile.revision)?;
        let skills: BTreeSet<String> = profile.skills.iter().cloned().collect();
        after.skills = skills.into_iter().collect();
        after.profile_revision = profile.revision;
        after.stamp += 1;
        Ok(after)
    }
}

/// The skills `after` can be chosen for and `before` could not: a worker who enrols, learns a
/// skill or comes back. Orders waiting for one of them are tried again.
pub fn gained(before: Option<&Person>, after: &Person) -> BTreeSet<String> {
    let had = before.map(Person::eligible_skills).unwrap_or_default();
    after.eligible_skills().difference(&had).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ates_kernel::contracts::hiring::Level;

    fn account(role: Role, active: bool, revision: u64) -> AccountSnapshot {
        AccountSnapshot {
            account_id: Uuid::from_u128(7),
            email: "kiwi@popug.test".into(),
            full_name: "Kiwi".into(),
            role,
            active,
            revision,
        }
    }

    fn profile(skills: &[&str], revision: u64) -> WorkerProfileSet {
        WorkerProfileSet {
            account_id: Uuid::from_u128(7),
            skills: skills.iter().map(|s| s.to_string()).collect(),
            level: Level::Middle,
            revision,
            set_at: "2026-12-01T10:00:00Z".parse().unwrap(),
        }
    }

    fn skills(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn only_an_active_worker_with_a_profile_executes_orders() {
        let hired = Person::with_profile(None, &profile(&["carpets"], 1)).unwrap();
        assert!(!hired.executes_orders(), "no account yet");
        let worker = Person::with_account(Some(&hired), &account(Role::Worker, true, 1)).unwrap();
        assert_eq!(worker.eligible_skills(), skills(&["carpets"]));
        let left = Person::with_account(Some(&worker), &account(Role::Worker, false, 2)).unwrap();
        assert!(left.eligible_skills().is_empty());
        for role in [Role::Client, Role::Manager, Role::Admin, Role::Accountant] {
            let other = Person::with_account(Some(&hired), &account(role, true, 1)).unwrap();
            assert!(!other.executes_orders(), "{role}");
        }
        let no_profile = Person::with_account(None, &account(Role::Worker, true, 1)).unwrap();
        assert!(!no_profile.executes_orders());
    }

    #[test]
    fn each_half_moves_only_forward_whatever_the_order() {
        let newer = Person::with_account(None, &account(Role::Worker, false, 3)).unwrap();
        assert_eq!(
            Person::with_account(Some(&newer), &account(Role::Worker, true, 2)),
            Err(Seen::Superseded)
        );
        assert_eq!(
            Person::with_account(Some(&newer), &account(Role::Worker, false, 3)),
            Err(Seen::Duplicate)
        );
        let profiled = Person::with_profile(Some(&newer), &profile(&["a", "b"], 4)).unwrap();
        assert_eq!(
            Person::with_profile(Some(&profiled), &profile(&["a"], 2)),
            Err(Seen::Superseded)
        );
        assert_eq!(profiled.account, newer.account, "the other half is kept");
        assert_eq!(profiled.stamp, newer.stamp + 1);
    }

    #[test]
    fn enrolment_re_activation_and_a_new_skill_are_gains_and_nothing_else_is() {
        let worker = Person::with_account(None, &account(Role::Worker, true, 1)).unwrap();
        let enrolled = Person::with_profile(Some(&worker), &profile(&["a", "b"], 1)).unwrap();
        assert_eq!(gained(Some(&worker), &enrolled), skills(&["a", "b"]));
        let learnt = Person::with_profile(Some(&enrolled), &profile(&["b", "c"], 2)).unwrap();
        assert_eq!(gained(Some(&enrolled), &learnt), skills(&["c"]));
        let left = Person::with_account(Some(&learnt), &account(Role::Worker, false, 2)).unwrap();
        assert!(gained(Some(&learnt), &left).is_empty());
        let back = Person::with_account(Some(&left), &account(Role::Worker, true, 3)).unwrap();
        assert_eq!(gained(Some(&left), &back), skills(&["b", "c"]));
    }
}
