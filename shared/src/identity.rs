//! Roles, scopes, callers and capabilities. The issuer (auth) puts a role's scopes into every
//! access token and the API gateway checks route scopes; behind it, the HTTP edge hands a use case
//! the token's [`Claims`], and the use case asks the context's copy of the account who is calling
//! ([`Claims::caller`]): rights follow the account, not the token. What only some roles may do
//! needs a [`Capability`] of its [`Rights`], which only that check makes.

use std::future::Future;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::contracts::accounts::AccountSnapshot;
use crate::dynamo::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Manager,
    Accountant,
    Worker,
    /// A customer of the marketplace (SPEC Roles, M1), not an employee: never given tracker
    /// tasks, never on phase 1's payroll.
    Client,
}

/// Scope names, as they appear in tokens and in the template's `AuthorizationScopes`.
pub mod scope {
    /// Every signed-in employee: the tracker, one's own money, one's own account.
    pub const MEMBER: &str = "ates";
    /// Every signed-in client: one's own account and messages (the marketplace adds orders).
    pub const CLIENT: &str = "client";
    pub const ACCOUNTS_MANAGE: &str = "accounts:manage";
    pub const TASKS_SHUFFLE: &str = "tasks:shuffle";
    pub const TASKS_READ_ALL: &str = "tasks:read-all";
    pub const ACCOUNTING_READ_ALL: &str = "accounting:read-all";
    pub const ANALYTICS_READ: &str = "analytics:read";
    /// Everyone's message history (notifications).
    pub const NOTIFICATIONS_READ_ALL: &str = "notifications:read-all";
    /// Hiring's staff routes: applications, the test bank, workers' profiles.
    pub const HIRING_MANAGE: &str = "hiring:manage";
    /// Orders' staff routes: service types, every order.
    pub const ORDERS_MANAGE: &str = "orders:manage";
    /// Supplies' staff routes: kits to hand out, the supplies audit.
    pub const SUPPLIES_MANAGE: &str = "supplies:manage";
    /// Matching's staff route: why an order got its executor.
    pub const MATCHING_READ: &str = "matching:read";
    /// Reports' quality control: QA cases opened, closed and listed.
    pub const REPORTS_QA: &str = "reports:qa";
    /// Bidding's routes (SPEC M8): managers only, not admins (seed 002: kept apart).
    pub const BETS: &str = "bets";
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Manager,
        Role::Accountant,
        Role::Worker,
        Role::Client,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Accountant => "accountant",
            Role::Worker => "worker",
            Role::Client => "client",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Tasks go to any employee but managers and admins (SPEC, Roles); clients are no
    /// employees.
    pub fn is_assignable(self) -> bool {
        matches!(self, Role::Accountant | Role::Worker)
    }

    /// Whether the account is an employee's: on phase 1's payroll and in its daily close.
    pub fn is_employee(self) -> bool {
        self != Role::Client
    }

    pub fn scopes(self) -> &'static [&'static str] {
        use scope::*;
        match self {
            Role::Admin => &[
                MEMBER,
                ACCOUNTS_MANAGE,
                TASKS_SHUFFLE,
                TASKS_READ_ALL,
                ACCOUNTING_READ_ALL,
                ANALYTICS_READ,
                NOTIFICATIONS_READ_ALL,
                HIRING_MANAGE,
                ORDERS_MANAGE,
                SUPPLIES_MANAGE,
                MATCHING_READ,
                REPORTS_QA,
            ],
            Role::Manager => &[
                MEMBER,
                TASKS_SHUFFLE,
                TASKS_READ_ALL,
                HIRING_MANAGE,
                ORDERS_MANAGE,
                SUPPLIES_MANAGE,
                MATCHING_READ,
                REPORTS_QA,
                BETS,
            ],
            Role::Accountant => &[MEMBER, ACCOUNTING_READ_ALL],
            Role::Worker => &[MEMBER],
            Role::Client => &[CLIENT],
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The roles some use cases admit, named for the business (`Managers`, `Bookkeepers`…): each
/// context declares its own next to the use cases that take a [`Capability`] of them.
pub trait Rights {
    const ROLES: &'static [Role];
}

/// Proof that the caller holds one of `R`'s roles. Only [`Caller::may`] makes one (a caller is
/// made only by [`Claims::caller`], from the account as it is now), so what takes
/// `&Capability<R>` runs for nobody else.
pub struct Capability<R> {
    account_id: Uuid,
    role: Role,
    rights: PhantomData<fn() -> R>,
}

/// A role outside the rights a use case admits (403 at the HTTP edge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {role} may not do this")]
pub struct NotAllowed {
    pub role: Role,
}

impl<R: Rights> Capability<R> {
    /// Admits `account_id` if `role`, the role its account has now, is one of `R`'s.
    fn admit(account_id: Uuid, role: Role) -> Result<Self, NotAllowed> {
        if R::ROLES.contains(&role) {
            Ok(Capability {
                account_id,
                role,
                rights: PhantomData,
            })
        } else {
            Err(NotAllowed { role })
        }
    }
}

impl<R> Capability<R> {
    /// Who was admitted.
    pub fn account_id(&self) -> Uuid {
        self.account_id
    }

    /// The role they were admitted with.
    pub fn role(&self) -> Role {
        self.role
    }
}

/// Who the token says is calling, as API Gateway's JWT authorizer verified it (issuer, audience,
/// signature, expiry, the route's scopes): the account it was issued to and the role it was
/// issued with. Not a right yet: [`Claims::caller`] asks the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub account_id: Uuid,
    pub role: Role,
}

/// The account copies a context keeps from `Account.*` events (auth: its own accounts), as the
/// caller check reads them. Every context checks a caller against its own copy, so a deactivated
/// or demoted account loses its rights as soon as the event arrives (seconds), not when its
/// access token expires.
pub trait AccountCopies: Sync {
    /// This context's copy of the account, if an event about it has arrived.
    fn account_copy(
        &self,
        account_id: Uuid,
    ) -> impl Future<Output = Result<Option<AccountSnapshot>, StoreError>> + Send;
}

/// Who is calling, as their account is now. Only [`Claims::caller`] makes one, so no use case
/// can skip the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    account_id: Uuid,
    role: Role,
}

/// Why a caller is not let in.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// The account is deactivated: not signed in (401), whatever its token says.
    #[error("the account is deactivated")]
    Deactivated,
    /// The account's role is not one the use case admits (403).
    #[error(transparent)]
    NotAllowed(#[from] NotAllowed),
    /// The copy could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Claims {
    /// The caller as the context's copy of the account says today: one read. A deactivated
    /// account is refused; the role is the account's, not the token's (a demoted admin's token
    /// keeps only the new role's rights).
    pub async fn caller(&self, copies: &impl AccountCopies) -> Result<Caller, Refused> {
        let copy = copies.account_copy(self.account_id).await?;
        self.checked_against(copy.as_ref())
    }

    /// [`Claims::caller`] and a use case's first read at once: one round trip to the table
    /// instead of two in a row. The read's answer is handed back only with an admitted caller,
    /// so a refused one learns nothing from it (nor does a read change anything).
    pub async fn caller_and<T, E>(
        &self,
        copies: &impl AccountCopies,
        first_read: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<(Caller, T), E>
    where
        E: From<Refused>,
    {
        let (caller, read) = tokio::join!(self.caller(copies), first_read);
        let caller = caller?;
        Ok((caller, read?))
    }

    /// [`Claims::may`] and a use case's first read at once. The read's answer, or its error, is
    /// handed back only to a caller admitted to what `R` may do: anyone else is refused as if
    /// nothing had been read (a 403, never the read's 404 or 400).
    pub async fn may_and<R: Rights, T, E>(
        &self,
        copies: &impl AccountCopies,
        first_read: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<(Capability<R>, T), E>
    where
        E: From<Refused>,
    {
        let (caller, read) = tokio::join!(self.caller(copies), first_read);
        let capability = caller?.may().map_err(Refused::from)?;
        Ok((capability, read?))
    }

    /// The caller, admitted to what `R` may do.
    pub async fn may<R: Rights>(
        &self,
        copies: &impl AccountCopies,
    ) -> Result<Capability<R>, Refused> {
        Ok(self.caller(copies).await?.may()?)
    }

    /// Without a copy (the account's first event has not reached this context yet: seconds
    /// after it was created) the token stands.
    fn checked_against(&self, copy: Option<&AccountSnapshot>) -> Result<Caller, Refused> {
        match copy {
            None => Ok(Caller {
                account_id: self.account_id,
                role: self.role,
            }),
            Some(account) if !account.active => Err(Refused::Deactivated),
            Some(account) => Ok(Caller {
                account_id: self.account_id,
                role: account.role,
            }),
        }
    }
}

impl Caller {
    pub fn account_id(&self) -> Uuid {
        self.account_id
    }

    /// The role their account has now.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The caller as the proof a use case of `R` asks for; another role is refused.
    pub fn may<R: Rights>(&self) -> Result<Capability<R>, NotAllowed> {
        Capability::admit(self.account_id, self.role)
    }
}

impl<R> std::fmt::Debug for Capability<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capability")
            .field("rights", &std::any::type_name::<R>())
            .field("account_id", &self.account_id)
            .field("role", &self.role)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A copy of the account that answers only once the use case's first read has begun: were
    /// the two run one after the other, the check would wait for ever.
    struct AnswersAfterTheRead {
        read_began: tokio::sync::Notify,
        copy: Option<AccountSnapshot>,
    }

    impl AccountCopies for AnswersAfterTheRead {
        async fn account_copy(&self, _: Uuid) -> Result<Option<AccountSnapshot>, StoreError> {
            self.read_began.notified().await;
            Ok(self.copy.clone())
        }
    }

    #[tokio::test]
    async fn the_caller_check_runs_alongside_the_first_read_and_a_refused_caller_gets_nothing() {
        let me = Uuid::new_v4();
        let claims = Claims {
            account_id: me,
            role: Role::Worker,
        };
        let snapshot = |active| AccountSnapshot {
            account_id: me,
            email: "kiwi@popug.test".into(),
            full_name: "Kiwi".into(),
            role: Role::Worker,
            active,
            revision: 2,
        };
        for (active, admitted) in [(true, true), (false, false)] {
            let copies = AnswersAfterTheRead {
                read_began: tokio::sync::Notify::new(),
                copy: Some(snapshot(active)),
            };
            let read = async {
                copies.read_began.notify_one();
                Ok::<_, Refused>("the task")
            };
            let both = claims.caller_and(&copies, read);
            let answer = tokio::time::timeout(std::time::Duration::from_secs(5), both)
                .await
                .expect("the two ran at once");
            match answer {
                Ok((caller, read)) => {
                    assert!(admitted);
                    assert_eq!((caller.account_id(), read), (me, "the task"));
                }
                Err(refused) => {
                    assert!(!admitted);
                    assert!(matches!(refused, Refused::Deactivated));
                }
            }
        }
    }

    /// Rights as a context declares them.
    struct Overseers;
    impl Rights for Overseers {
        const ROLES: &'static [Role] = &[Role::Manager, Role::Admin];
    }

    /// What a read of something absent answers in a use case: a 404, were it handed back.
    #[derive(Debug, PartialEq)]
    enum Read {
        Refused(String),
        Absent,
    }

    impl From<Refused> for Read {
        fn from(refused: Refused) -> Self {
            Read::Refused(refused.to_string())
        }
    }

    #[tokio::test]
    async fn a_caller_without_the_rights_is_refused_before_anything_read_is_answered() {
        let me = Uuid::new_v4();
        for (role, rights) in [(Role::Worker, false), (Role::Manager, true)] {
            let claims = Claims {
                account_id: me,
                role,
            };
            let copies = AnswersAfterTheRead {
                read_began: tokio::sync::Notify::new(),
                copy: Some(AccountSnapshot {
                    account_id: me,
                    email: "kiwi@popug.test".into(),
                    full_name: "Kiwi".into(),
                    role,
                    active: true,
                    revision: 2,
                }),
            };
            let read = async {
                copies.read_began.notify_one();
                Err::<(), _>(Read::Absent)
            };
            let both = claims.may_and::<Overseers, _, _>(&copies, read);
            let answer = tokio::time::timeout(std::time::Duration::from_secs(5), both)
                .await
                .expect("the two ran at once");
            match answer {
                Err(Read::Absent) => assert!(rights, "only the admitted learn it is absent"),
                Err(Read::Refused(why)) => {
                    assert!(!rights);
                    assert_eq!(why, "a worker may not do this");
                }
                Ok(_) => panic!("the read failed"),
            }
        }
    }

    #[test]
    fn every_role_of_the_rights_is_admitted_as_itself() {
        for role in Overseers::ROLES.iter().copied() {
            let id = Uuid::new_v4();
            let admitted = Capability::<Overseers>::admit(id, role).unwrap();
            assert_eq!((admitted.account_id(), admitted.role()), (id, role));
        }
    }

    #[test]
    fn a_role_outside_the_rights_is_refused_by_name() {
        for role in [Role::Accountant, Role::Worker] {
            let refused = Capability::<Overseers>::admit(Uuid::new_v4(), role).unwrap_err();
            assert_eq!(refused, NotAllowed { role });
            assert_eq!(refused.to_string(), format!("a {role} may not do this"));
        }
    }

    #[test]
    fn clients_hold_their_own_scope_and_none_of_the_employees() {
        assert_eq!(Role::Client.scopes(), [scope::CLIENT]);
        for role in Role::ALL.into_iter().filter(|r| *r != Role::Client) {
            assert!(role.scopes().contains(&scope::MEMBER), "{role}");
            assert!(!role.scopes().contains(&scope::CLIENT), "{role}");
            assert!(role.is_employee(), "{role}");
        }
        assert!(!Role::Client.is_employee());
        assert!(!Role::Client.is_assignable());
        assert_eq!(Role::parse("client"), Some(Role::Client));
    }

    fn token(role: Role) -> Claims {
        Claims {
            account_id: Uuid::new_v4(),
            role,
        }
    }

    fn copy(of: &Claims, role: Role, active: bool) -> AccountSnapshot {
        AccountSnapshot {
            account_id: of.account_id,
            email: "kiwi@popug.test".into(),
            full_name: "Kiwi".into(),
            role,
            active,
            revision: 2,
        }
    }

    #[test]
    fn a_deactivated_account_is_not_signed_in_whatever_its_token_says() {
        let admin = token(Role::Admin);
        let gone = copy(&admin, Role::Admin, false);
        let refused = admin.checked_against(Some(&gone)).unwrap_err();
        assert!(matches!(refused, Refused::Deactivated), "{refused:?}");
        assert_eq!(refused.to_string(), "the account is deactivated");
    }

    #[test]
    fn the_role_is_the_accounts_not_the_tokens() {
        let admin = token(Role::Admin);
        let demoted = copy(&admin, Role::Worker, true);
        let caller = admin.checked_against(Some(&demoted)).unwrap();
        assert_eq!(
            (caller.account_id(), caller.role()),
            (admin.account_id, Role::Worker)
        );
        let refused = caller.may::<Overseers>().unwrap_err();
        assert_eq!(refused.to_string(), "a worker may not do this");
    }

    #[test]
    fn a_caller_of_the_rights_may_as_themselves() {
        let manager = token(Role::Manager);
        let caller = manager.checked_against(None).unwrap();
        let may = caller.may::<Overseers>().unwrap();
        assert_eq!(
            (may.account_id(), may.role()),
            (manager.account_id, Role::Manager)
        );
    }

    #[test]
    fn without_a_copy_yet_the_token_stands() {
        let manager = token(Role::Manager);
        let caller = manager.checked_against(None).unwrap();
        assert_eq!(
            (caller.account_id(), caller.role()),
            (manager.account_id, manager.role)
        );
    }

    #[test]
    fn only_workers_and_accountants_are_assignable() {
        let assignable: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.is_assignable())
            .collect();
        assert_eq!(assignable, vec![Role::Accountant, Role::Worker]);
    }

    #[test]
    fn every_employee_is_a_member_and_only_admins_manage_accounts() {
        for role in Role::ALL {
            assert_eq!(role.scopes().contains(&scope::MEMBER), role.is_employee());
            assert_eq!(
                role.scopes().contains(&scope::ACCOUNTS_MANAGE),
                role == Role::Admin
            );
            assert_eq!(
                role.scopes().contains(&scope::NOTIFICATIONS_READ_ALL),
                role == Role::Admin,
                "only admins read everyone's messages"
            );
            assert_eq!(
                role.scopes().contains(&scope::BETS),
                role == Role::Manager,
                "only managers bet, not even admins (SPEC M8)"
            );
        }
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("popug"), None);
    }
}
