//! Lambda's pollers, which the emulator lacks: SQS and DynamoDB stream event sources, and the tap.

pub mod sqs;
pub mod streams;
pub mod tap;

use crate::stack::Stack;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Starts a poller per enabled event source mapping, plus the tap.
pub fn start(stack: &Arc<Stack>) -> Vec<JoinHandle<()>> {
    let mut tasks = vec![tokio::spawn(tap::run(stack.clone()))];
    for spec in stack.lambda.specs() {
        for source in spec.sqs_sources.iter().filter(|s| s.enabled) {
            // Lambda keeps several batches in flight; more than the function has processes would only queue.
            let pollers = source
                .maximum_concurrency
                .unwrap_or(usize::MAX)
                .min(stack.concurrency)
                .max(1);
            let receives = sqs::ReceiveCounts::default();
            for _ in 0..pollers {
                tasks.push(tokio::spawn(sqs::run(
                    stack.clone(),
                    spec.logical_id.clone(),
                    source.clone(),
                    receives.clone(),
                )));
            }
        }
        for source in spec.stream_sources.iter().filter(|s| s.enabled) {
            tasks.push(tokio::spawn(streams::run(
                stack.clone(),
                spec.logical_id.clone(),
                source.clone(),
            )));
        }
    }
    tasks
}
