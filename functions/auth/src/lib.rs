//! Auth, the UberPopug sign-in (SPEC A1–A5): accounts, passwords and one-time codes, the token
//! issuer and its discovery documents. Other contexts learn about accounts only from the
//! `Account.*` events published here; they never read this context's table.
//!
//! - [`account`], [`challenge`], [`password`]: the domain, plain Rust.
//! - [`issuer`]: access tokens (RS256 JWT), the JWKS and the OpenID discovery document.
//! - [`store`]: the DynamoDB adapter (the table, the outbox).
//! - [`api`]: one function per route; `src/bin/*` wires each into its own Lambda.
pub mod account;
pub mod api;
pub mod challenge;
pub mod error;
pub mod issuer;
pub mod password;
pub mod store;

/// The name this context publishes under (`source` = `ates.auth`).
pub const PRODUCER: &str = "auth";
