//! Accounts (SPEC A1): who works at UberPopug, in which role, and whether they still do.

use ates_kernel::identity::Role;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AuthError;

/// An account: what every `Account.*` event publishes of it (its profile, read through
/// `Deref`), and when it was opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    #[serde(flatten)]
    pub profile: AccountSnapshot,
    pub created_at: DateTime<Utc>,
}

impl std::ops::Deref for Account {
    type Target = AccountSnapshot;
    fn deref(&self) -> &AccountSnapshot {
        &self.profile
    }
}

use ates_kernel::contracts::hiring::ApplicationAccepted;

pub use ates_kernel::contracts::accounts::{
    AccountCreated, AccountDeactivated, AccountSnapshot, AccountUpdated,
};

/// What an admin sends to create an account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    pub email: String,
    pub full_name: String,
    pub role: Role,
    /// Optional: without one, the employee signs in with mailed codes only.
    #[serde(default)]
    pub password: Option<String>,
}

/// What an admin sends to change an account.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountChange {
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
}

impl Account {
    /// A new, active account, validated.
    pub fn open(new: &NewAccount, now: DateTime<Utc>) -> Result<Account, AuthError> {
        Ok(Account {
            profile: AccountSnapshot {
                account_id: Uuid::now_v7(),
                email: normalize_email(&new.email)?,
                full_name: validate_full_name(&new.full_name)?,
                role: new.role,
                active: true,
                revision: 1,
            },
            created_at: now,
        })
    }

    /// The account an accepted application opens (SPEC M1): its id is the one hiring derived
    /// from the application, its role named like the application's kind; no password (the
    /// person signs in with mailed codes).
    pub fn hired(accepted: &ApplicationAccepted) -> Result<Account, AuthError> {
        Ok(Account {
            profile: AccountSnapshot {
                account_id: accepted.account_id,
                email: normalize_email(&accepted.email)?,
                full_name: validate_full_name(&accepted.full_name)?,
                role: accepted.role.role(),
                active: true,
                revision: 1,
            },
            created_at: accepted.accepted_at,
        })
    }

    pub fn snapshot(&self) -> AccountSnapshot {
        self.profile.clone()
    }

    /// Applies an admin's change. `None` when it changes nothing (no event then).
    pub fn change(&self, change: &AccountChange) -> Result<Option<Account>, AuthError> {
        if change.full_name.is_none() && change.role.is_none() {
            return Err(AuthError::Invalid(
                "nothing to change: give full_name and/or role".into(),
            ));
        }
        if !self.active {
            return Err(AuthError::NotAllowed(
                "a deactivated account cannot be changed".into(),
            ));
        }
        let mut next = self.clone();
        if let Some(name) = &change.full_name {
            next.profile.full_name = validate_full_name(name)?;
        }
        if let Some(role) = change.role {
            next.profile.role = role;
        }
        if next == *self {
            return Ok(None);
        }
        next.profile.revision += 1;
        Ok(Some(next))
    }

    /// Deactivation; `None` when the account is inactive already (a harmless repeat).
    pub fn deactivate(&self, by: Uuid) -> Result<Option<Account>, AuthError> {
        if by == self.account_id {
            return Err(AuthError::NotAllowed(
                "an admin cannot deactivate their own account".into(),
            ));
        }
        if !self.active {
            return Ok(None);
        }
        Ok(Some(Account {
            profile: AccountSnapshot {
                active: false,
                revision: self.revision + 1,
                ..self.profile.clone()
            },
            ..self.clone()
        }))
    }
}

/// Emails are compared case-insensitively; stored lower-cased. Taken exactly as given (no
/// white space around it), and only what mail systems take unquoted (SES refuses the rest):
/// a dot-atom of at most 64 characters (RFC 5322's `atext` in runs joined by single dots), `@`,
/// and a domain of two or more labels of 1 to 63 letters, digits and hyphens, none starting
/// with a hyphen; at most 254 in all. The API document's `Email` schema says the same.
pub fn normalize_email(email: &str) -> Result<String, AuthError> {
    let email = email.to_ascii_lowercase();
    let invalid = || AuthError::Invalid(format!("{email:?} is not an email address"));
    if email.len() > 254 {
        return Err(invalid());
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b);
    let local_ok = local.len() <= 64
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.bytes().all(atext));
    let domain_ok = domain.contains('.')
        && domain.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !local_ok || !domain_ok {
        return Err(invalid());
    }
    Ok(email)
}

/// At most 200 characters as given, no control characters, not blank; stored trimmed.
pub fn validate_full_name(name: &str) -> Result<String, AuthError> {
    let too_long = name.chars().count() > 200;
    let name = name.trim();
    if name.is_empty() || too_long || name.chars().any(char::is_control) {
        return Err(AuthError::Invalid(
            "full_name must be 1 to 200 printable characters".into(),
        ));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kiwi() -> Account {
        let new = NewAccount {
            email: "Kiwi@UberPopug.Example".into(),
            full_name: "Kiwi Popug".into(),
            role: Role::Worker,
            password: None,
        };
        Account::open(&new, Utc::now()).unwrap()
    }

    #[test]
    fn a_new_account_is_active_at_its_first_revision_with_a_normalised_email() {
        let kiwi = kiwi();
        assert!(kiwi.active);
        assert_eq!(kiwi.revision, 1);
        assert_eq!(kiwi.email, "kiwi@uberpopug.example");
    }

    #[test]
    fn an_account_reads_and_writes_as_one_flat_object() {
        let kiwi = kiwi();
        let json = serde_json::to_value(&kiwi).unwrap();
        let mut keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "account_id",
                "active",
                "created_at",
                "email",
                "full_name",
                "revision",
                "role"
            ]
        );
        assert_eq!(serde_json::from_value::<Account>(json).unwrap(), kiwi);
    }

    #[test]
    fn bad_email_addresses_are_refused() {
        let long_local = format!("{}@b.io", "a".repeat(65));
        let long_domain = format!(
            "a@{}{}.io",
            format!("{}.", "b".repeat(63)).repeat(3),
            "b".repeat(61)
        );
        let long_label = format!("a@{}.io", "b".repeat(64));
        for bad in [
            "",
            "popug",
            "@x.io",
            "a@",
            "a@b",
            "a b@c.io",
            "a@b..io",
            "a@-b.io",
            "a@b@c.io",
            " a@b.io",
            "a@b.io ",
            "kïwi@b.io",
            "a@b_c.io",
            "a;b@c.io",
            "a\\b@c.io",
            "[a]@c.io",
            "\"a\"@c.io",
            ".a@c.io",
            "a.@c.io",
            "a..b@c.io",
            &long_label,
            &long_local,
            &long_domain,
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn unquoted_addresses_with_any_atext_are_taken() {
        for good in [
            "o'neil+tag@popug.test",
            "a.b.c@x-1.popug.test",
            "{|}~!#$%&*/=?^_`-@x.io",
            &format!("{}@{}.io", "a".repeat(64), "b".repeat(63)),
        ] {
            assert!(normalize_email(good).is_ok(), "{good:?} refused");
        }
    }

    #[test]
    fn names_must_be_present_and_bounded() {
        assert!(validate_full_name("   ").is_err());
        assert!(validate_full_name(&"x".repeat(201)).is_err());
        assert!(validate_full_name(&format!(" {}", "x".repeat(200))).is_err());
        assert_eq!(validate_full_name(&"x".repeat(200)).unwrap().len(), 200);
        assert!(validate_full_name("a\u{0007}b").is_err());
        assert_eq!(validate_full_name("  Kiwi ").unwrap(), "Kiwi");
    }

    #[test]
    fn a_role_change_bumps_the_revision_and_a_no_op_change_does_not() {
        let kiwi = kiwi();
        let promoted = kiwi
            .change(&AccountChange {
                role: Some(Role::Manager),
                ..Default::default()
            })
            .unwrap()
            .unwrap();
        assert_eq!((promoted.role, promoted.revision), (Role::Manager, 2));
        let same = kiwi
            .change(&AccountChange {
                role: Some(Role::Worker),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(same, None);
        assert!(kiwi.change(&AccountChange::default()).is_err());
    }

    #[test]
    fn deactivation_happens_once_and_never_to_oneself() {
        let kiwi = kiwi();
        let admin = Uuid::now_v7();
        let gone = kiwi.deactivate(admin).unwrap().unwrap();
        assert!(!gone.active);
        assert_eq!(gone.revision, 2);
        assert_eq!(gone.deactivate(admin).unwrap(), None);
        assert!(kiwi.deactivate(kiwi.account_id).is_err());
        assert!(gone
            .change(&AccountChange {
                full_name: Some("X".into()),
                ..Default::default()
            })
            .is_err());
    }

    #[test]
    fn account_events_match_their_schemas() {
        // Checked against the registry itself: `Envelope::wrap` checks only in debug builds.
        use ates_kernel::event::DomainEvent;
        fn check<E: DomainEvent>(event: &E) {
            let data = serde_json::to_value(event).unwrap();
            ates_kernel::schema::check(E::NAME, E::VERSION, &data).unwrap();
        }
        let snapshot = kiwi().snapshot();
        check(&AccountCreated(snapshot.clone()));
        check(&AccountUpdated(snapshot.clone()));
        let mut gone = snapshot;
        gone.active = false;
        check(&AccountDeactivated(gone.clone()));
        gone.email = "x".into(); // shorter than any address
        let data = serde_json::to_value(AccountUpdated(gone)).unwrap();
        assert!(
            ates_kernel::schema::check(AccountUpdated::NAME, AccountUpdated::VERSION, &data)
                .is_err()
        );
    }
}
