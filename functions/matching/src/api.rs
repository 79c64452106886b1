//! The HTTP edge of matching: its one route reads the request into the use case's input, calls
//! the use case (`app`), and maps its answer to a response; errors map to problems once, in
//! `error.rs`.

use ates_kernel::http::{self, HttpResult, Problem};
use lambda_http::http::StatusCode;
use lambda_http::Request;
use uuid::Uuid;

use crate::app;
use crate::ports::{Orders, People};

/// `GET /matching/orders/{order_id}` (managers, admins): where matching is with the order, the
/// candidates considered and why this one.
pub async fn order(store: &(impl Orders + People), req: Request) -> HttpResult {
    let claims = http::claims(&req)?;
    let id = http::path_param(&req, "order_id")?;
    // A path that is not an id names no order.
    let order_id =
        Uuid::parse_str(&id).map_err(|_| Problem::not_found(format!("no order {id}")))?;
    let view = app::order_view(store, &claims, order_id).await?;
    http::json(StatusCode::OK, &view)
}
