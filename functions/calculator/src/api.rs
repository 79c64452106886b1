//! The HTTP edge of the calculator: one function per route. Each reads its request into a use
//! case's input and maps the answer to a response; the use case decides who may ask. Errors map
//! to problems once, in `error.rs`.

use ates_kernel::http::{self, HttpResult, Problem};
use lambda_http::http::StatusCode;
use lambda_http::Request;
use uuid::Uuid;

use crate::app;
use crate::ports::CalculatorStore;

/// `GET /calculator/quote?service_type_id=` (clients): the estimate the caller would be given
/// for that service type now. No id, or one that is not an id, is the caller's mistake (422).
pub async fn quote(store: &impl CalculatorStore, req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let given = http::query_param(&req, "service_type_id").unwrap_or_default();
    let service_type_id = Uuid::parse_str(&given).map_err(|_| {
        Problem::invalid(format!(
            "service_type_id {given:?} is not a service type's id"
        ))
    })?;
    let quote = app::quote(store, &claims, service_type_id).await?;
    http::json(StatusCode::OK, &quote)
}
