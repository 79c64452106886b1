//! Auth, the UberPopug sign-in (SPEC A1–A5): accounts, passwords and one-time codes, the token
//! issuer and its discovery documents. Other contexts learn about accounts only from the
//! `Account.*` events published here; they never read this context's table.
//!
//! Three layers, dependencies pointing inwards:
//! - the domain, plain Rust: [`account`], [`challenge`], [`password`], [`issuer`] (access tokens
//!   as RS256 JWTs, refresh tokens, the JWKS and the OpenID discovery document);
//! - the application: [`app`], one use case per command or query, driving the [`ports`]
//!   ([`ports::AuthStore`], [`ports::Mailer`]);
//! - the adapters: [`store`] (the DynamoDB table and its outbox), [`mail`] (SES),
//!   [`signing_key`] (Secrets Manager), [`api`] (HTTP, one function per route; `src/bin/*` wires
//!   each into its own Lambda), and, for tests, `memory` (feature `testing`).
pub mod account;
pub mod api;
pub mod app;
pub mod challenge;
pub mod error;
pub mod issuer;
pub mod mail;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod password;
pub mod ports;
pub mod signing_key;
pub mod store;

/// The name this context publishes under (`source` = `ates.auth`).
pub const PRODUCER: &str = "auth";
