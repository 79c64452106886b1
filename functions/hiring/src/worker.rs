//! A hired worker's profile (SPEC M1): the skills and level that matching and the calculator
//! read, set at acceptance and changed by managers, each change a new revision.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use ates_kernel::contracts::hiring::WorkerProfileSet;

use crate::error::HiringError;

pub const MAX_SKILLS: usize = 20;
pub const MAX_SKILL_CHARS: usize = 40;

/// A worker's level (the published language's).
pub use ates_kernel::contracts::hiring::Level;

fn level(name: &str) -> Result<Level, HiringError> {
    Level::parse(name).ok_or_else(|| {
        HiringError::Invalid(format!("{name:?} is not a level: junior, middle or senior"))
    })
}

/// Skills and level as a manager sends them.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewWorkerProfile {
    pub skills: Vec<String>,
    pub level: String,
}

/// Skills and level that passed their checks: 1 to [`MAX_SKILLS`] tags, each lower-case
/// letters, digits and hyphens (a tag the service types' `required_skill` can equal), sorted
/// and each once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidWorkerProfile {
    pub skills: Vec<String>,
    pub level: Level,
}

impl NewWorkerProfile {
    pub fn validate(&self) -> Result<ValidWorkerProfile, HiringError> {
        let tag = |s: &String| {
            let ok = (1..=MAX_SKILL_CHARS).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !s.starts_with('-');
            ok.then(|| s.clone()).ok_or_else(|| {
                HiringError::Invalid(format!(
                    "{s:?} is not a skill: 1 to {MAX_SKILL_CHARS} lower-case letters, digits and hyphens"
                ))
            })
        };
        let mut skills = self.skills.iter().map(tag).collect::<Result<Vec<_>, _>>()?;
        skills.sort();
        skills.dedup();
        if skills.is_empty() || skills.len() > MAX_SKILLS {
            return Err(HiringError::Invalid(format!(
                "a worker has 1 to {MAX_SKILLS} skills"
            )));
        }
        Ok(ValidWorkerProfile {
            skills,
            level: level(&self.level)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerProfile {
    pub account_id: Uuid,
    pub skills: Vec<String>,
    pub level: Level,
    /// 1 at acceptance, one more with every change: matching keeps the newest it has seen.
    pub revision: u64,
    pub set_by: Uuid,
    pub set_at: DateTime<Utc>,
}

impl WorkerProfile {
    /// The profile a worker is hired with.
    pub fn hired(
        account_id: Uuid,
        profile: &ValidWorkerProfile,
        by: Uuid,
        now: DateTime<Utc>,
    ) -> WorkerProfile {
        WorkerProfile {
            account_id,
            skills: profile.skills.clone(),
            level: profile.level,
            revision: 1,
            set_by: by,
            set_at: now,
        }
    }

    /// `Worker.ProfileSet`, as this revision set it.
    pub fn set(&self) -> WorkerProfileSet {
        WorkerProfileSet {
            account_id: self.account_id,
            skills: self.skills.clone(),
            level: self.level,
            revision: self.revision,
            set_at: self.set_at,
        }
    }

    /// A manager's change: the next revision.
    pub fn change(&self, profile: &ValidWorkerProfile, by: Uuid, now: DateTime<Utc>) -> Self {
        WorkerProfile {
            skills: profile.skills.clone(),
            level: profile.level,
            revision: self.revision + 1,
            set_by: by,
            set_at: now,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(skills: &[&str], level: &str) -> Result<ValidWorkerProfile, HiringError> {
        NewWorkerProfile {
            skills: skills.iter().map(|s| s.to_string()).collect(),
            level: level.into(),
        }
        .validate()
    }

    #[test]
    fn skills_are_tags_kept_sorted_and_once() {
        let valid = profile(&["window-cleaning", "carpets", "carpets"], "middle").unwrap();
        assert_eq!(valid.skills, ["carpets", "window-cleaning"]);
        assert_eq!(valid.level, Level::Middle);
        for bad in [&["Carpets"][..], &["two words"], &[""], &["-x"], &[]] {
            assert!(profile(bad, "junior").is_err(), "{bad:?}");
        }
        assert!(profile(&["x"; 1], "lead").is_err());
    }

    #[test]
    fn every_change_of_a_profile_is_a_new_revision() {
        let (worker, manager) = (Uuid::now_v7(), Uuid::now_v7());
        let hired = WorkerProfile::hired(
            worker,
            &profile(&["carpets"], "junior").unwrap(),
            manager,
            Utc::now(),
        );
        let promoted = hired.change(
            &profile(&["carpets"], "senior").unwrap(),
            manager,
            Utc::now(),
        );
        assert_eq!((hired.revision, promoted.revision), (1, 2));
        assert_eq!(promoted.level, Level::Senior);
        assert_eq!(promoted.account_id, worker);
    }
}
