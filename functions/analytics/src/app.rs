//! Analytics' use cases: one function per event handler and query. Events go to every
//! generation they belong to (`Generations::targets`), each applied once per generation; the
//! queries read the generation that answers now. The queries and the rebuild are for admins
//! only (SPEC Analytics): each takes a `Capability<Admins>`, so it runs for nobody else.

use ates_kernel::calendar::Calendar;
use ates_kernel::contracts::accounting::{EntryKind, TransactionPosted};
use ates_kernel::contracts::tasks::decode_task_created;
use ates_kernel::event::Envelope;
use ates_kernel::identity::{Capability, Claims, Rights, Role};
use ates_kernel::inbox::{ConsumeError, Delivery, Outcome};
use ates_kernel::usecase::{execute, Attempt};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::error::AnalyticsError;
pub use crate::ports::{
    AnalyticsStore, BestCompletions, DailyFigures, LiveGenerations, Movement, MovementProjection,
    Projected, Rebuilds, Replayer, Title, Titles,
};
use crate::projection::{best, cover, Completion, DayFigures, Generations, KnownBalance, Period};
use crate::rebuild::{Rebuild, RebuildStatus, ReplayState};
use ates_kernel::copies::AccountCopies;

/// Who reads analytics and rebuilds it: admins only.
#[derive(Debug)]
pub struct Admins;

impl Rights for Admins {
    const ROLES: &'static [Role] = &[Role::Admin];
}

/// `Account.*`: the copy of accounts the caller check reads, only forward in revision.
pub use ates_kernel::copies::sync_account;

/// `Task.Created` (any version): the title the most expensive task is shown with. A replayed
/// event (`delivery.replayed`) goes only to the generation a rebuild is filling.
pub async fn record_title(
    store: &(impl LiveGenerations + Titles),
    event: &Envelope,
    delivery: Delivery,
) -> Result<Outcome, ConsumeError> {
    let created = decode_task_created(event).map_err(|e| ConsumeError::Poison(e.to_string()))?;
    let title = Title {
        title: created.title,
        jira_id: created.jira_id,
    };
    for generation in store.generations().await?.targets(delivery.replayed) {
        store
            .record_title(generation, created.task_id, &title)
            .await?;
    }
    Ok(Outcome::Applied)
}

/// `Ledger.TransactionPosted`: the company's day (fees and rewards), the employee's balance if
/// this is the latest known (by the ledger sequence), and for a reward, the task as a candidate
/// for the most expensive of its day and month. A replayed event goes only to the generation a
/// rebuild is filling.
pub async fn record_movement(
    store: &(impl LiveGenerations + MovementProjection),
    event: &Envelope,
    delivery: Delivery,
) -> Result<Outcome, ConsumeError> {
    let posted: TransactionPosted = event
        .decode()
        .map_err(|e| ConsumeError::Poison(e.to_string()))?;
    let mut outcome = Outcome::Duplicate;
    for generation in store.generations().await?.targets(delivery.replayed) {
        if apply(store, generation, &posted, event).await? == Projected::Applied {
            outcome = Outcome::Applied;
        }
    }
    Ok(outcome)
}

async fn apply(
    store: &impl MovementProjection,
    generation: u32,
    posted: &TransactionPosted,
    event: &Envelope,
) -> Result<Projected, ConsumeError> {
    let figures = match posted.kind {
        EntryKind::Fee => DayFigures {
            fees_cents: -posted.amount_cents,
            rewards_cents: 0,
        },
        EntryKind::Reward => DayFigures {
            fees_cents: 0,
            rewards_cents: posted.amount_cents,
        },
        EntryKind::Payout => DayFigures::default(),
    };
    if posted.kind == EntryKind::Reward {
        if let Some(task_id) = posted.task_id {
            let completion = Completion {
                task_id,
                reward_cents: posted.amount_cents,
                completed_at: posted.occurred_at,
                business_date: posted.business_date,
            };
            store.offer_completion(generation, &completion).await?;
        }
    }
    let now = KnownBalance {
        account_id: posted.account_id,
        balance_cents: posted.balance_after_cents,
        sequence: posted.sequence,
    };
    // The balance first: newer wins, so it is right however often and in whatever order
    // movements come. Then the day's figures, once by the inbox. The other way round, a
    // failure between the two would leave a redelivery finding the inbox record and the
    // balance never written.
    execute::<(), ConsumeError, _, _>(|| async {
        let before = store.balance(generation, posted.account_id).await?;
        let newer = before.is_none_or(|b| b.sequence < now.sequence);
        Ok(
            if newer
                && !store
                    .keep_balance(generation, before.as_ref(), &now)
                    .await?
            {
                Attempt::Lost
            } else {
                Attempt::Done(())
            },
        )
    })
    .await?;
    let movement = Movement {
        business_date: posted.business_date,
        figures,
    };
    Ok(store.add_movement(generation, &movement, event).await?)
}

/// An admin let in, and the generations read alongside that check (one round trip to the
/// table, not two in a row): how the figures' queries and the rebuild's start begin.
async fn admitted(
    store: &(impl AccountCopies + LiveGenerations),
    caller: &Claims,
) -> Result<(Capability<Admins>, Generations), AnalyticsError> {
    let generations = async { Ok::<_, AnalyticsError>(store.generations().await?) };
    caller.may_and(store, generations).await
}

/// `GET /analytics/summary` (N2).
#[derive(Debug, Serialize)]
pub struct Summary {
    pub business_date: NaiveDate,
    pub management_earnings_today_cents: i64,
    pub negative_balance_accounts: i64,
}

fn today(calendar: &Calendar, now: DateTime<Utc>) -> Result<NaiveDate, AnalyticsError> {
    calendar
        .business_date(now)
        .map_err(|e| AnalyticsError::Invalid(e.to_string()))
}

/// `GET /analytics/summary` (N1): today's management earnings and how many are in debt.
pub async fn summary(
    store: &(impl AccountCopies + DailyFigures + LiveGenerations),
    caller: &Claims,
    calendar: &Calendar,
    now: DateTime<Utc>,
) -> Result<Summary, AnalyticsError> {
    let (_admins, generations) = admitted(store, caller).await?;
    let today = today(calendar, now)?;
    let generation = generations.current;
    let figures = store.day_figures(generation, today, today).await?;
    Ok(Summary {
        business_date: today,
        management_earnings_today_cents: figures.get(&today).map_or(0, DayFigures::earnings_cents),
        negative_balance_accounts: store.in_debt(generation).await?,
    })
}

fn check_range(from: NaiveDate, to: NaiveDate) -> Result<(), AnalyticsError> {
    ates_kernel::calendar::check_range(from, to).map_err(AnalyticsError::Invalid)
}

pub use ates_kernel::earnings::{Earnings, EarningsDay};

/// `GET /analytics/earnings?from&to` (N2): every day of the range (zero when quiet), and
/// today's; without a range, today.
pub async fn earnings(
    store: &(impl AccountCopies + DailyFigures + LiveGenerations),
    caller: &Claims,
    calendar: &Calendar,
    range: Option<(NaiveDate, NaiveDate)>,
    now: DateTime<Utc>,
) -> Result<Earnings, AnalyticsError> {
    let (_admins, generations) = admitted(store, caller).await?;
    let today = today(calendar, now)?;
    let (from, to) = range.unwrap_or((today, today));
    check_range(from, to)?;
    let generation = generations.current;
    let figures = store
        .day_figures(generation, from.min(today), to.max(today))
        .await?;
    Ok(Earnings::of(from, to, today, |date| {
        let f = figures.get(&date).copied().unwrap_or_default();
        (f.fees_cents, f.rewards_cents)
    }))
}

/// The period a most-expensive-task query asks about.
pub enum Asked {
    Range(NaiveDate, NaiveDate),
    Period(Period, NaiveDate),
}

#[derive(Debug, Serialize)]
pub struct ExpensiveTask {
    pub task_id: Uuid,
    pub title: Option<String>,
    pub jira_id: Option<String>,
    pub reward_cents: i64,
    pub completed_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct MostExpensive {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub task: Option<ExpensiveTask>,
}

/// `GET /analytics/most-expensive-task` (N3): the highest reward among tasks completed in the
/// period (ties: the earlier completion), read from per-day and per-month maxima — at most 12
/// months and 62 days for a year — and the winner's title.
pub async fn most_expensive_task(
    store: &(impl AccountCopies + BestCompletions + LiveGenerations + Titles),
    caller: &Claims,
    asked: Asked,
) -> Result<MostExpensive, AnalyticsError> {
    let (_admins, generations) = admitted(store, caller).await?;
    let (from, to) = match asked {
        Asked::Range(from, to) => (from, to),
        Asked::Period(period, date) => period.around(date),
    };
    check_range(from, to)?;
    let generation = generations.current;
    let (days, months) = cover(from, to);
    let candidates = store.best_completions(generation, &days, &months).await?;
    let task = match best(&candidates) {
        None => None,
        Some(winner) => {
            let title = store.title(generation, winner.task_id).await?;
            Some(ExpensiveTask {
                task_id: winner.task_id,
                title: title.as_ref().map(|t| t.title.clone()),
                jira_id: title.and_then(|t| t.jira_id),
                reward_cents: winner.reward_cents,
                completed_at: winner.completed_at,
            })
        }
    };
    Ok(MostExpensive { from, to, task })
}

/// `POST /analytics/rebuilds` (N4): a fresh generation, and the replay of the bus's archive
/// into it through analytics' own rules. The generation answering now keeps answering. While
/// a rebuild runs, another is refused (409).
pub async fn start_rebuild(
    store: &(impl AccountCopies + LiveGenerations + Rebuilds),
    bus: &impl Replayer,
    caller: &Claims,
    now: DateTime<Utc>,
) -> Result<Rebuild, AnalyticsError> {
    let (_admins, generations) = admitted(store, caller).await?;
    let (rebuild, during) = Rebuild::start(&generations, Uuid::new_v4(), now)
        .map_err(AnalyticsError::RebuildRunning)?;
    if !store.begin_rebuild(&rebuild, &during).await? {
        let running = store.generations().await?.rebuild_id;
        return Err(AnalyticsError::RebuildRunning(running.unwrap_or_default()));
    }
    if let Err(e) = bus
        .start_replay(&rebuild.replay_name(), rebuild.replay_until)
        .await
    {
        // Nothing was replayed: the rebuild ends here, and another may start.
        let failed = ReplayState::Failed(format!("the replay did not start: {e}"));
        if let Some((failed, after)) = rebuild.settle(&during, &failed, true, now) {
            store.settle_rebuild(&failed, &after).await?;
        }
        return Err(e.into());
    }
    tracing::info!(rebuild_id = %rebuild.rebuild_id, generation = rebuild.generation, "rebuild started");
    Ok(rebuild)
}

/// A rebuild as `GET /analytics/rebuilds/{id}` shows it: while it replays, how far the replay
/// has come (the archive is replayed up to `replay_until`).
#[derive(Debug, Serialize)]
pub struct RebuildProgress {
    #[serde(flatten)]
    pub rebuild: Rebuild,
    pub replayed_through: Option<DateTime<Utc>>,
    pub answering_generation: u32,
}

pub async fn rebuild_progress(
    store: &(impl AccountCopies + LiveGenerations + Rebuilds),
    bus: &impl Replayer,
    caller: &Claims,
    id: Uuid,
) -> Result<RebuildProgress, AnalyticsError> {
    let rebuild = async { Ok::<_, AnalyticsError>(store.rebuild(id).await?) };
    let (_admins, rebuild): (Capability<Admins>, _) = caller.may_and(store, rebuild).await?;
    let rebuild = rebuild.ok_or(AnalyticsError::UnknownRebuild)?;
    let replayed_through = match rebuild.status {
        RebuildStatus::Replaying => match bus.replay_state(&rebuild.replay_name()).await? {
            ReplayState::Running { through } => through,
            ReplayState::Completed => Some(rebuild.replay_until),
            ReplayState::Failed(_) => None,
        },
        RebuildStatus::Completed => Some(rebuild.replay_until),
        RebuildStatus::Failed => None,
    };
    Ok(RebuildProgress {
        answering_generation: store.generations().await?.current,
        rebuild,
        replayed_through,
    })
}

/// Scheduled every minute: the rebuild under way, if any, is switched to once its replay is
/// complete and the queues it filled are empty, or ended if its replay failed.
pub async fn settle_rebuild(
    store: &(impl LiveGenerations + Rebuilds),
    bus: &impl Replayer,
    now: DateTime<Utc>,
) -> Result<Option<Rebuild>, AnalyticsError> {
    let generations = store.generations().await?;
    let Some(id) = generations.rebuild_id else {
        return Ok(None);
    };
    let rebuild = store
        .rebuild(id)
        .await?
        .ok_or(AnalyticsError::UnknownRebuild)?;
    let replay = bus.replay_state(&rebuild.replay_name()).await?;
    let drained = replay == ReplayState::Completed && bus.drained().await?;
    let Some((settled, after)) = rebuild.settle(&generations, &replay, drained, now) else {
        return Ok(None);
    };
    if !store.settle_rebuild(&settled, &after).await? {
        return Ok(None);
    }
    tracing::info!(rebuild_id = %settled.rebuild_id, status = ?settled.status, answering = after.current, "rebuild settled");
    Ok(Some(settled))
}
