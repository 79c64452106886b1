//! ates-local: runs the whole of template.yaml (and its nested stacks) on this machine, against
//! the moto AWS emulator.
//!
//! The binary (`src/main.rs`) only parses its command line and calls [`run`]. The modules are
//! public so that other crates (the whole-system tests) read the template as the stack does.
//!
//! | module | what it does |
//! |---|---|
//! | `main.rs`, `options.rs`, `run.rs`, `stack.rs` | the command line (`--concurrency`, `--web-dir`); starting everything; what every handler and poller shares; Ctrl-C or closed stdin stops it |
//! | `config.rs` + `local.json` | what the stack knows beyond the template: the bootstrap admin, the key secrets, parameters set differently here (`BootstrapAdminPassword`, `KeysCacheSeconds`) |
//! | `template.rs`, `resolve.rs`, `functions.rs` | reads the root and its nested stacks as one template (a nested parameter becomes what the root passes, `Stack.Outputs.X` the output; ids unique across stacks), resolves intrinsics; each function's binary, env, limits, events and routes (`AWS::ApiGatewayV2::Route` → Integration → function) |
//! | `moto.rs`, `aws.rs`, `provision.rs`, `signing_key.rs` | starts moto; creates tables, queues, bus, rules, secrets, identities |
//! | `lambda.rs`, `runtime_api.rs` | each function's real binary behind the Lambda Runtime API, instances on demand, several at once, up to its `ReservedConcurrentExecutions`; timeouts, crashes |
//! | `gateway.rs`, `authorizer.rs` | the HTTP API: routes, the JWT authorizer (RS256/JWKS, iss/aud/exp, scopes; `JWKS_MAX_AGE`), payload 2.0 |
//! | `pollers/sqs.rs`, `pollers/streams.rs`, `pattern.rs` | event source mappings: batches, partial failures, receive counts, DLQs; stream retries, filters, on-failure records |
//! | `pollers/tap.rs`, `ledger.rs`, `replay.rs` | every event on the bus (`/_local/events`); deliveries per function; `StartReplay`/`DescribeReplay` answered here, to the named rules only |
//! | `scheduler.rs` | ScheduleV2 (cron/rate/at in a zone), asynchronous invocation with retries and DLQs |
//! | `aws_calls.rs`, `iam.rs`, `capacity.rs` | a proxy per function that counts its AWS calls and holds them to its IAM statements (`/_local/aws-calls`, `/_local/iam-denials`); with `ATES_LOCAL_CAPACITY=1`, the DynamoDB request units each call costs (`?units`) |
//! | `admin.rs`, `site.rs` | `/_local/*` (events, deliveries, dead letters and redrive, mail, invoke, fire); the web app's files for a GET no route matches |
//! | `aws_api.rs`, `local_env.rs` | `/_local/aws`: Lambda Invoke, CloudFormation ListStackResources and SQS redrive policies as AWS answers them (for `ates-ops`); each function's env for `cargo lambda watch` (`--env-dir`) |

pub mod admin;
pub mod authorizer;
pub mod aws;
pub mod aws_api;
pub mod aws_calls;
pub mod capacity;
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
