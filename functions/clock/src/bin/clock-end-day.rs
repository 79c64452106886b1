//! Lambda: invoked by the daily schedule when a business day ends; publishes `Clock.DayEnded`,
//! and `Clock.WeekEnded` / `Clock.MonthEnded` when the day was the last of its week / month.
//! Input: `{"scheduled_time": "<RFC 3339>", "execution_id": "..."}` (both optional).
use ates_clock::{end_day, Calendar, Trigger};
use ates_kernel::{for_process, outbox::EventBus};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ates_kernel::logging::init();
    let calendar = for_process(Calendar::from_env()?);
    let bus = for_process(EventBus::from_env(&ates_kernel::aws::load().await)?);
    ates_kernel::lambda::serve_invocation(Box::new(move |input| {
        Box::pin(async move {
            let trigger: Trigger = serde_json::from_value(input)?;
            let ends = end_day(calendar, bus, &trigger, chrono::Utc::now()).await?;
            let day = &ends[0];
            Ok(serde_json::json!({
                "event_id": day.id,
                "business_date": day.data["business_date"],
                "ended_at": day.data["ended_at"],
                "events": ends.iter().map(|e| serde_json::json!({"name": e.name, "event_id": e.id})).collect::<Vec<_>>(),
            }))
        })
    }))
    .await
}
