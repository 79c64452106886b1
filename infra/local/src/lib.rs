//! ates-local: runs the whole of template.yaml (and its nested stacks) on this machine, against
//! the moto AWS emulator.
//!
//! The binary (`src/main.rs`) only parses its command line and calls [`run`]. The modules are
//! public so that other crates (the whole-system tests) read the template as the stack does.

pub mod admin;
pub mod authorizer;
pub mod aws;
pub mod aws_api;
pub mod aws_calls;
pub mod config;
pub mod functions;
pub mod gateway;
pub mod iam;
pub mod lambda;
pub mod ledger;
pub mod local_env;
pub mod moto;
pub mod options;
pub mod pattern;
pub mod pollers;
pub mod provision;
pub mod replay;
pub mod resolve;
pub mod run;
pub mod runtime_api;
pub mod scheduler;
pub mod signing_key;
pub mod site;
pub mod stack;
pub mod template;

pub use options::{workspace_root, Options, USAGE};
pub use run::run;
