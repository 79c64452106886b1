//! The test bank (SPEC M1): questions with scored options, tests of questions, and profiles of
//! tests with a pass mark and a time limit. Each edit makes a new revision; what an applicant is
//! given is a [`Paper`], a copy of the bank as it stood then, so no later edit changes it or its
//! scoring.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::HiringError;

pub const MAX_TEXT_CHARS: usize = 2000;
pub const MAX_TITLE_CHARS: usize = 200;
pub const OPTIONS: std::ops::RangeInclusive<usize> = 2..=8;
pub const POINTS: std::ops::RangeInclusive<u32> = 0..=10;
pub const TIME_LIMIT_DAYS: std::ops::RangeInclusive<u32> = 1..=30;
/// A test or a profile names at most this many parts: what one assignment reads stays one batch.
pub const MAX_PARTS: usize = 50;

/// One answer a question offers, and what choosing it is worth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub option_id: Uuid,
    pub text: String,
    pub points: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub question_id: Uuid,
    pub revision: u64,
    pub text: String,
    pub options: Vec<Choice>,
    pub retired: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Test {
    pub test_id: Uuid,
    pub revision: u64,
    pub title: String,
    pub question_ids: Vec<Uuid>,
    pub retired: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub profile_id: Uuid,
    pub revision: u64,
    pub name: String,
    pub test_ids: Vec<Uuid>,
    pub pass_mark: u32,
    pub time_limit_days: u32,
    /// What a perfect paper of this revision scores, from the questions as they were when it
    /// was saved.
    pub max_score: u32,
    pub retired: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What every entry of the bank has, whatever it is: how the stores keep them alike.
pub trait Entry: Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static {
    /// Its kind's name, as the table's keys and the errors say it.
    const KIND: &'static str;
    fn id(&self) -> Uuid;
    fn revision(&self) -> u64;
    fn created_at(&self) -> DateTime<Utc>;
    /// Its next revision, retired: kept for what refers to it, never given again.
    fn retired(&self, now: DateTime<Utc>) -> Result<Self, HiringError>;
}

macro_rules! entry {
    ($type:ty, $kind:literal, $id:ident) => {
        impl Entry for $type {
            const KIND: &'static str = $kind;
            fn id(&self) -> Uuid {
                self.$id
            }
            fn revision(&self) -> u64 {
                self.revision
            }
            fn created_at(&self) -> DateTime<Utc> {
                self.created_at
            }
            fn retired(&self, now: DateTime<Utc>) -> Result<Self, HiringError> {
                <$type>::retire(self, now)
            }
        }
    };
}
entry!(Question, "question", question_id);
entry!(Test, "test", test_id);
entry!(Profile, "profile", profile_id);

/// An option as a manager writes it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewChoice {
    pub text: String,
    pub points: u32,
}

/// A question as a manager writes it (to create it, or as its next revision).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewQuestion {
    pub text: String,
    pub options: Vec<NewChoice>,
}

/// A question that passed its checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidQuestion {
    pub text: String,
    pub options: Vec<(String, u32)>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewTest {
    pub title: String,
    pub question_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidTest {
    pub title: String,
    pub question_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewProfile {
    pub name: String,
    pub test_ids: Vec<Uuid>,
    pub pass_mark: u32,
    pub time_limit_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidProfile {
    pub name: String,
    pub test_ids: Vec<Uuid>,
    pub pass_mark: u32,
    pub time_limit_days: u32,
}

/// Trimmed, printable, 1 to `max` characters.
fn printable(field: &str, value: &str, max: usize) -> Result<String, HiringError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || value.chars().count() > max || trimmed.chars().any(char::is_control) {
        return Err(HiringError::Invalid(format!(
            "{field} must be 1 to {max} printable characters"
        )));
    }
    Ok(trimmed.to_owned())
}

/// Ids named once each, 1 to [`MAX_PARTS`] of them.
fn parts(field: &str, ids: &[Uuid]) -> Result<Vec<Uuid>, HiringError> {
    if ids.is_empty() {
        return Err(HiringError::Empty(field.to_owned()));
    }
    if ids.len() > MAX_PARTS {
        return Err(HiringError::Invalid(format!(
            "{field} names more than {MAX_PARTS}"
        )));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = ids.iter().find(|id| !seen.insert(**id)) {
        return Err(HiringError::Invalid(format!("{field} names {twice} twice")));
    }
    Ok(ids.to_vec())
}

impl NewQuestion {
    pub fn validate(&self) -> Result<ValidQuestion, HiringError> {
        let text = printable("text", &self.text, MAX_TEXT_CHARS)?;
        if !OPTIONS.contains(&self.options.len()) {
            return Err(HiringError::Invalid(format!(
                "a question has {} to {} options",
                OPTIONS.start(),
                OPTIONS.end()
            )));
        }
        let options = self
            .options
            .iter()
            .map(|o| {
                if !POINTS.contains(&o.points) {
                    return Err(HiringError::Invalid(format!(
                        "an option is worth {} to {} points",
                        POINTS.start(),
                        POINTS.end()
                    )));
                }
                Ok((
                    printable("option text", &o.text, MAX_TITLE_CHARS)?,
                    o.points,
                ))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if options.iter().all(|(_, points)| *points == 0) {
            return Err(HiringError::Invalid(
                "a question needs an option worth points: nobody could score it".into(),
            ));
        }
        Ok(ValidQuestion { text, options })
    }
}

impl NewTest {
    pub fn validate(&self) -> Result<ValidTest, HiringError> {
        Ok(ValidTest {
            title: printable("title", &self.title, MAX_TITLE_CHARS)?,
            question_ids: parts("question_ids", &self.question_ids)?,
        })
    }
}

impl NewProfile {
    /// The checks that need nothing but the input; the pass mark against the maximum score is
    /// [`Profile::create`]'s, once the tests are read.
    pub fn validate(&self) -> Result<ValidProfile, HiringError> {
        if !TIME_LIMIT_DAYS.contains(&self.time_limit_days) {
            return Err(HiringError::Invalid(format!(
                "time_limit_days is {} to {}",
                TIME_LIMIT_DAYS.start(),
                TIME_LIMIT_DAYS.end()
            )));
        }
        Ok(ValidProfile {
            name: printable("name", &self.name, MAX_TITLE_CHARS)?,
            test_ids: parts("test_ids", &self.test_ids)?,
            pass_mark: self.pass_mark,
            time_limit_days: self.time_limit_days,
        })
    }
}

impl Question {
    pub fn create(new: &ValidQuestion, now: DateTime<Utc>) -> Question {
        Question {
            question_id: Uuid::now_v7(),
            revision: 1,
            text: new.text.clone(),
            options: choices(new),
            retired: false,
            created_at: now,
            updated_at: now,
        }
    }

    /// The next revision. Its options are new (new ids): a paper given earlier keeps the old.
    pub fn revise(&self, new: &ValidQuestion, now: DateTime<Utc>) -> Result<Question, HiringError> {
        self.still_active()?;
        Ok(Question {
            revision: self.revision + 1,
            text: new.text.clone(),
            options: choices(new),
            updated_at: now,
            ..self.clone()
        })
    }

    pub fn retire(&self, now: DateTime<Utc>) -> Result<Question, HiringError> {
        self.still_active()?;
        Ok(Question {
            revision: self.revision + 1,
            retired: true,
            updated_at: now,
            ..self.clone()
        })
    }

    /// What answering it perfectly scores: all its right options (those worth points).
    pub fn worth(&self) -> u32 {
        worth(&self.options)
    }

    fn still_active(&self) -> Result<(), HiringError> {
        if self.retired {
            return Err(HiringError::Retired(format!(
                "question {}",
                self.question_id
            )));
        }
        Ok(())
    }
}

fn choices(new: &ValidQuestion) -> Vec<Choice> {
    new.options
        .iter()
        .map(|(text, points)| Choice {
            option_id: Uuid::now_v7(),
            text: text.clone(),
            points: *points,
        })
        .collect()
}

/// The parts a test or profile names, as read: each must be there and active.
fn all_active<'a, T>(
    wanted: &[Uuid],
    found: &'a [T],
    id: impl Fn(&T) -> Uuid,
    retired: impl Fn(&T) -> bool,
    what: &str,
) -> Result<Vec<&'a T>, HiringError> {
    wanted
        .iter()
        .map(|want| {
            let part = found
                .iter()
                .find(|p| id(p) == *want)
                .ok_or_else(|| HiringError::UnknownPart(format!("{what} {want}")))?;
            if retired(part) {
                return Err(HiringError::Retired(format!("{what} {want}")));
            }
            Ok(part)
        })
        .collect()
}

impl Test {
    /// A test of questions that exist and are not retired (`questions`: those read).
    pub fn create(
        new: &ValidTest,
        questions: &[Question],
        now: DateTime<Utc>,
    ) -> Result<Test, HiringError> {
        all_active(
            &new.question_ids,
            questions,
            |q| q.question_id,
            |q| q.retired,
            "question",
        )?;
        Ok(Test {
            test_id: Uuid::now_v7(),
            revision: 1,
            title: new.title.clone(),
            question_ids: new.question_ids.clone(),
            retired: false,
            created_at: now,
            updated_at: now,
        })
    }

    pub fn revise(
        &self,
        new: &ValidTest,
        questions: &[Question],
        now: DateTime<Utc>,
    ) -> Result<Test, HiringError> {
        if self.retired {
            return Err(HiringError::Retired(format!("test {}", self.test_id)));
        }
        let fresh = Test::create(new, questions, now)?;
        Ok(Test {
            test_id: self.test_id,
            revision: self.revision + 1,
            created_at: self.created_at,
            ..fresh
        })
    }

    pub fn retire(&self, now: DateTime<Utc>) -> Result<Test, HiringError> {
        if self.retired {
            return Err(HiringError::Retired(format!("test {}", self.test_id)));
        }
        Ok(Test {
            revision: self.revision + 1,
            retired: true,
            updated_at: now,
            ..self.clone()
        })
    }
}

impl Profile {
    /// A profile of tests that exist and are not retired, whose pass mark a perfect paper
    /// reaches (`tests` and `questions`: those read).
    pub fn create(
        new: &ValidProfile,
        tests: &[Test],
        questions: &[Question],
        now: DateTime<Utc>,
    ) -> Result<Profile, HiringError> {
        let paper = Paper::of(&new.test_ids, tests, questions)?;
        let max_score = paper.max_score();
        if new.pass_mark > max_score {
            return Err(HiringError::PassMarkAboveMaximum {
                pass_mark: new.pass_mark,
                max_score,
            });
        }
        Ok(Profile {
            profile_id: Uuid::now_v7(),
            revision: 1,
            name: new.name.clone(),
            test_ids: new.test_ids.clone(),
            pass_mark: new.pass_mark,
            time_limit_days: new.time_limit_days,
            max_score,
            retired: false,
            created_at: now,
            updated_at: now,
        })
    }

    pub fn revise(
        &self,
        new: &ValidProfile,
        tests: &[Test],
        questions: &[Question],
        now: DateTime<Utc>,
    ) -> Result<Profile, HiringError> {
        if self.retired {
            return Err(HiringError::Retired(format!("profile {}", self.profile_id)));
        }
        let fresh = Profile::create(new, tests, questions, now)?;
        Ok(Profile {
            profile_id: self.profile_id,
            revision: self.revision + 1,
            created_at: self.created_at,
            ..fresh
        })
    }

    pub fn retire(&self, now: DateTime<Utc>) -> Result<Profile, HiringError> {
        if self.retired {
            return Err(HiringError::Retired(format!("profile {}", self.profile_id)));
        }
        Ok(Profile {
            revision: self.revision + 1,
            retired: true,
            updated_at: now,
            ..self.clone()
        })
    }
}

/// A question as an applicant's paper holds it: the revision they were given, with its points
/// (never shown to them: [`Paper::blank`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaperQuestion {
    pub question_id: Uuid,
    pub revision: u64,
    pub text: String,
    pub options: Vec<Choice>,
}

impl PaperQuestion {
    fn worth(&self) -> u32 {
        worth(&self.options)
    }

    /// The chosen options' points; nothing once a wrong (zero-point) option is among them, so
    /// choosing every option never scores more than knowing the answer (M1: "a question with
    /// several right options scores only its points, never below 0").
    fn score(&self, chosen: &[&Choice]) -> u32 {
        if chosen.iter().any(|c| c.points == 0) {
            return 0;
        }
        chosen.iter().map(|c| c.points).sum()
    }
}

fn worth(options: &[Choice]) -> u32 {
    options.iter().map(|o| o.points).sum()
}

/// What an applicant was given: a profile's tests and questions as they stood at assignment,
/// pinned by revision, scored by this copy alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paper {
    pub profile_id: Uuid,
    pub profile_revision: u64,
    pub pass_mark: u32,
    pub time_limit_days: u32,
    /// `(test id, revision)` of each test it was made of.
    pub tests: Vec<(Uuid, u64)>,
    /// Every question once, in the order of the tests.
    pub questions: Vec<PaperQuestion>,
}

/// A question without its points, as the applicant sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlankQuestion {
    pub question_id: Uuid,
    pub text: String,
    pub options: Vec<BlankChoice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlankChoice {
    pub option_id: Uuid,
    pub text: String,
}

/// One answer as an applicant sends it: the options chosen for a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub question_id: Uuid,
    pub option_ids: Vec<Uuid>,
}

/// What a paper scored, and whether it passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    pub score: u32,
    pub max_score: u32,
    pub passed: bool,
}

impl Paper {
    /// The paper of tests (`test_ids`, read as `tests`) and their questions (read as
    /// `questions`): every part there and not retired, a question in two tests asked once, and
    /// at least one question.
    fn of(test_ids: &[Uuid], tests: &[Test], questions: &[Question]) -> Result<Paper, HiringError> {
        let tests = all_active(test_ids, tests, |t| t.test_id, |t| t.retired, "test")?;
        let mut asked: Vec<Uuid> = Vec::new();
        for test in &tests {
            for id in &test.question_ids {
                if !asked.contains(id) {
                    asked.push(*id);
                }
            }
        }
        let questions = all_active(
            &asked,
            questions,
            |q| q.question_id,
            |q| q.retired,
            "question",
        )?;
        if questions.is_empty() {
            return Err(HiringError::Empty(
                "the profile's tests have no questions".into(),
            ));
        }
        Ok(Paper {
            profile_id: Uuid::nil(),
            profile_revision: 0,
            pass_mark: 0,
            time_limit_days: 0,
            tests: tests.iter().map(|t| (t.test_id, t.revision)).collect(),
            questions: questions
                .iter()
                .map(|q| PaperQuestion {
                    question_id: q.question_id,
                    revision: q.revision,
                    text: q.text.clone(),
                    options: q.options.clone(),
                })
                .collect(),
        })
    }

    /// A profile's paper from the bank as it stands now (`tests` and `questions`: those read):
    /// a retired profile is not given, and a profile whose parts were retired or whose pass
    /// mark the questions no longer reach is refused by name rather than given unpassable.
    pub fn assemble(
        profile: &Profile,
        tests: &[Test],
        questions: &[Question],
    ) -> Result<Paper, HiringError> {
        if profile.retired {
            return Err(HiringError::Retired(format!(
                "profile {}",
                profile.profile_id
            )));
        }
        let paper = Paper {
            profile_id: profile.profile_id,
            profile_revision: profile.revision,
            pass_mark: profile.pass_mark,
            time_limit_days: profile.time_limit_days,
            ..Paper::of(&profile.test_ids, tests, questions)?
        };
        let max_score = paper.max_score();
        if paper.pass_mark > max_score {
            return Err(HiringError::PassMarkAboveMaximum {
                pass_mark: paper.pass_mark,
                max_score,
            });
        }
        Ok(paper)
    }

    pub fn max_score(&self) -> u32 {
        self.questions.iter().map(PaperQuestion::worth).sum()
    }

    /// The questions without their points.
    pub fn blank(&self) -> Vec<BlankQuestion> {
        self.questions
            .iter()
            .map(|q| BlankQuestion {
                question_id: q.question_id,
                text: q.text.clone(),
                options: q
                    .options
                    .iter()
                    .map(|o| BlankChoice {
                        option_id: o.option_id,
                        text: o.text.clone(),
                    })
                    .collect(),
            })
            .collect()
    }

    /// Scores answers to this paper: per question the sum of the chosen options' points, or 0
    /// once a wrong option is chosen; a question left out scores 0. An answer to a question not on
    /// the paper, an option not in its question, or a question or option named twice is
    /// refused: nothing is scored.
    pub fn score(&self, answers: &[Answer]) -> Result<Score, HiringError> {
        let mut answered = std::collections::HashSet::new();
        let mut score = 0;
        for answer in answers {
            let question = self
                .questions
                .iter()
                .find(|q| q.question_id == answer.question_id)
                .ok_or(HiringError::NotOnThePaper(answer.question_id))?;
            if !answered.insert(answer.question_id) {
                return Err(HiringError::AnsweredTwice(answer.question_id));
            }
            let mut chosen = Vec::new();
            for option in &answer.option_ids {
                let choice = question
                    .options
                    .iter()
                    .find(|o| o.option_id == *option)
                    .ok_or(HiringError::NotAnOption {
                        question_id: question.question_id,
                        option_id: *option,
                    })?;
                if chosen.iter().any(|c: &&Choice| c.option_id == *option) {
                    return Err(HiringError::AnsweredTwice(*option));
                }
                chosen.push(choice);
            }
            score += question.score(&chosen);
        }
        let max_score = self.max_score();
        Ok(Score {
            score,
            max_score,
            passed: score >= self.pass_mark,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-12-01T10:00:00Z".parse().unwrap()
    }

    fn question(points: &[u32]) -> Question {
        let new = NewQuestion {
            text: "Which seeds do popugs like?".into(),
            options: points
                .iter()
                .enumerate()
                .map(|(i, p)| NewChoice {
                    text: format!("option {i}"),
                    points: *p,
                })
                .collect(),
        };
        Question::create(&new.validate().unwrap(), now())
    }

    fn test_of(questions: &[&Question]) -> Test {
        let new = NewTest {
            title: "Seeds".into(),
            question_ids: questions.iter().map(|q| q.question_id).collect(),
        };
        let read: Vec<Question> = questions.iter().map(|q| (*q).clone()).collect();
        Test::create(&new.validate().unwrap(), &read, now()).unwrap()
    }

    fn profile_of(
        tests: &[&Test],
        questions: &[Question],
        pass_mark: u32,
    ) -> Result<Profile, HiringError> {
        let new = NewProfile {
            name: "Seed sorter".into(),
            test_ids: tests.iter().map(|t| t.test_id).collect(),
            pass_mark,
            time_limit_days: 7,
        };
        let read: Vec<Test> = tests.iter().map(|t| (*t).clone()).collect();
        Profile::create(&new.validate().unwrap(), &read, questions, now())
    }

    fn paper(questions: &[Question], pass_mark: u32) -> Paper {
        let refs: Vec<&Question> = questions.iter().collect();
        let test = test_of(&refs);
        let profile = profile_of(&[&test], questions, pass_mark).unwrap();
        Paper::assemble(&profile, &[test], questions).unwrap()
    }

    fn answer(q: &Question, chosen: &[usize]) -> Answer {
        Answer {
            question_id: q.question_id,
            option_ids: chosen.iter().map(|i| q.options[*i].option_id).collect(),
        }
    }

    #[test]
    fn a_question_has_two_to_eight_options_of_zero_to_ten_points() {
        let with = |points: &[u32]| NewQuestion {
            text: "Q".into(),
            options: points
                .iter()
                .map(|p| NewChoice {
                    text: "o".into(),
                    points: *p,
                })
                .collect(),
        };
        assert!(with(&[5]).validate().is_err());
        assert!(with(&[1; 9]).validate().is_err());
        assert!(with(&[11, 0]).validate().is_err());
        assert!(with(&[0, 0]).validate().is_err(), "nobody could score it");
        assert!(with(&[10, 0]).validate().is_ok());
        assert!(
            with(&[0; 7].iter().chain(&[1]).copied().collect::<Vec<_>>())
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn a_paper_scores_the_chosen_options_points() {
        let (q1, q2) = (question(&[0, 4, 0]), question(&[6, 0]));
        let paper = paper(&[q1.clone(), q2.clone()], 10);
        assert_eq!(paper.max_score(), 10);
        let full = paper
            .score(&[answer(&q1, &[1]), answer(&q2, &[0])])
            .unwrap();
        assert_eq!((full.score, full.max_score, full.passed), (10, 10, true));
        let wrong = paper
            .score(&[answer(&q1, &[0]), answer(&q2, &[1])])
            .unwrap();
        assert_eq!(
            (wrong.score, wrong.passed),
            (0, false),
            "zero-point options score nothing"
        );
        let half = paper.score(&[answer(&q2, &[0])]).unwrap();
        assert_eq!(half.score, 6, "a question left out scores 0");
    }

    #[test]
    fn a_question_with_several_right_options_scores_only_its_points() {
        let q = question(&[5, 5, 3, 0]);
        let paper = paper(std::slice::from_ref(&q), 5);
        assert_eq!(paper.max_score(), 13);
        assert_eq!(paper.score(&[answer(&q, &[0, 1, 2])]).unwrap().score, 13);
        assert_eq!(paper.score(&[answer(&q, &[2])]).unwrap().score, 3);
        assert_eq!(paper.score(&[answer(&q, &[])]).unwrap().score, 0);
    }

    #[test]
    fn choosing_every_option_scores_nothing_where_one_is_wrong() {
        let (q1, q2) = (question(&[5, 5, 3, 0]), question(&[4, 0]));
        let paper = paper(&[q1.clone(), q2.clone()], 1);
        let all = paper
            .score(&[answer(&q1, &[0, 1, 2, 3]), answer(&q2, &[0, 1])])
            .unwrap();
        assert_eq!((all.score, all.passed), (0, false));
        let one_wrong = paper.score(&[answer(&q1, &[0, 3])]).unwrap();
        assert_eq!(
            one_wrong.score, 0,
            "a wrong pick voids the question, never below 0"
        );
    }

    #[test]
    fn a_score_at_the_pass_mark_passes_and_one_below_does_not() {
        let (q1, q2) = (question(&[3, 0]), question(&[4, 1]));
        let paper = paper(&[q1.clone(), q2.clone()], 4);
        assert!(
            paper.score(&[answer(&q2, &[0])]).unwrap().passed,
            "a tie passes"
        );
        assert!(!paper.score(&[answer(&q1, &[0])]).unwrap().passed);
    }

    #[test]
    fn answers_outside_the_paper_are_refused_by_name() {
        let (q, other) = (question(&[3, 0]), question(&[2, 0]));
        let paper = paper(std::slice::from_ref(&q), 1);
        assert!(matches!(
            paper.score(&[answer(&other, &[0])]),
            Err(HiringError::NotOnThePaper(id)) if id == other.question_id
        ));
        let foreign = Answer {
            question_id: q.question_id,
            option_ids: vec![other.options[0].option_id],
        };
        assert!(matches!(
            paper.score(&[foreign]),
            Err(HiringError::NotAnOption { .. })
        ));
        assert!(matches!(
            paper.score(&[answer(&q, &[0]), answer(&q, &[1])]),
            Err(HiringError::AnsweredTwice(_))
        ));
        assert!(matches!(
            paper.score(&[answer(&q, &[0, 0])]),
            Err(HiringError::AnsweredTwice(_))
        ));
    }

    #[test]
    fn a_profile_needs_tests_and_a_pass_mark_a_perfect_paper_reaches() {
        let q = question(&[4, 0]);
        let test = test_of(&[&q]);
        assert!(matches!(
            profile_of(&[&test], std::slice::from_ref(&q), 5),
            Err(HiringError::PassMarkAboveMaximum {
                pass_mark: 5,
                max_score: 4
            })
        ));
        let profile = profile_of(&[&test], std::slice::from_ref(&q), 4).unwrap();
        assert_eq!((profile.max_score, profile.revision), (4, 1));
        let none = NewProfile {
            name: "Nothing".into(),
            test_ids: vec![],
            pass_mark: 0,
            time_limit_days: 7,
        };
        assert!(matches!(none.validate(), Err(HiringError::Empty(_))));
        for days in [0, 31] {
            let late = NewProfile {
                time_limit_days: days,
                test_ids: vec![test.test_id],
                ..none.clone()
            };
            assert!(late.validate().is_err(), "{days} days");
        }
    }

    #[test]
    fn a_test_names_only_questions_in_the_bank_and_not_retired() {
        let q = question(&[1, 0]);
        let new = NewTest {
            title: "T".into(),
            question_ids: vec![q.question_id],
        }
        .validate()
        .unwrap();
        assert!(matches!(
            Test::create(&new, &[], now()),
            Err(HiringError::UnknownPart(_))
        ));
        let retired = q.retire(now()).unwrap();
        assert!(matches!(
            Test::create(&new, &[retired], now()),
            Err(HiringError::Retired(_))
        ));
        let twice = NewTest {
            title: "T".into(),
            question_ids: vec![q.question_id, q.question_id],
        };
        assert!(twice.validate().is_err());
    }

    #[test]
    fn a_given_paper_keeps_its_revision_whatever_the_bank_becomes() {
        let q = question(&[4, 0]);
        let test = test_of(&[&q]);
        let profile = profile_of(&[&test], std::slice::from_ref(&q), 4).unwrap();
        let given = Paper::assemble(
            &profile,
            std::slice::from_ref(&test),
            std::slice::from_ref(&q),
        )
        .unwrap();
        let edited = q
            .revise(
                &NewQuestion {
                    text: "Changed".into(),
                    options: vec![
                        NewChoice {
                            text: "a".into(),
                            points: 0,
                        },
                        NewChoice {
                            text: "b".into(),
                            points: 10,
                        },
                    ],
                }
                .validate()
                .unwrap(),
                now(),
            )
            .unwrap();
        assert_eq!(edited.revision, 2);
        let later = Paper::assemble(&profile, &[test], std::slice::from_ref(&edited)).unwrap();
        assert_eq!(later.questions[0].revision, 2);
        assert_eq!(given.questions[0].revision, 1);
        assert_eq!(given.questions[0].text, q.text);
        assert_eq!(
            given.score(&[answer(&q, &[0])]).unwrap().score,
            4,
            "scored as given"
        );
        assert!(matches!(
            given.score(&[answer(&edited, &[1])]),
            Err(HiringError::NotAnOption { .. })
        ));
    }

    #[test]
    fn a_profile_the_bank_no_longer_supports_is_not_given() {
        let q = question(&[4, 0]);
        let test = test_of(&[&q]);
        let profile = profile_of(&[&test], std::slice::from_ref(&q), 4).unwrap();
        let cheaper = q
            .revise(
                &NewQuestion {
                    text: "Easier".into(),
                    options: vec![
                        NewChoice {
                            text: "a".into(),
                            points: 2,
                        },
                        NewChoice {
                            text: "b".into(),
                            points: 0,
                        },
                    ],
                }
                .validate()
                .unwrap(),
                now(),
            )
            .unwrap();
        assert!(matches!(
            Paper::assemble(&profile, std::slice::from_ref(&test), &[cheaper]),
            Err(HiringError::PassMarkAboveMaximum {
                pass_mark: 4,
                max_score: 2
            })
        ));
        let retired = profile.retire(now()).unwrap();
        assert!(matches!(
            Paper::assemble(&retired, &[test], &[q]),
            Err(HiringError::Retired(_))
        ));
    }

    #[test]
    fn the_applicant_sees_no_points() {
        let q = question(&[4, 0]);
        let blank = paper(std::slice::from_ref(&q), 1).blank();
        let shown = serde_json::to_string(&blank).unwrap();
        assert!(!shown.contains("points"), "{shown}");
        assert_eq!(blank[0].options.len(), 2);
    }
}
