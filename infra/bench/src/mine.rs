//! `ates-bench mine`: the latency of a warm `GET /tasks/mine` (#25), on a running local stack. A
//! worker of its own is hired and given tasks; after a warm-up, N requests one after another are
//! timed end to end through the stack's API, and the list function's AWS calls counted.

use super::arg;
use super::tasks::{admin_token, call, calls, diff};
use serde_json::json;
use std::time::{Duration, Instant};

/// The `q`-quantile (0..=1) of sorted samples, by nearest rank.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub fn run() {
    let n: usize = arg("--requests", "1000").parse().unwrap_or(1000);
    let api = arg("--api", "http://127.0.0.1:3000");
    let admin = admin_token(&api);
    let email = format!("mine-bench-{}@popug.test", std::process::id());
    let body = json!({"email": email, "full_name": "Mine Bench", "role": "worker", "password": "a-popug-password"});
    let (status, account) = call(&api, "POST", "/accounts", Some(&admin), Some(body));
    assert_eq!(status, 201, "{account}");
    let body = json!({"email": email, "password": "a-popug-password"});
    let (_, tokens) = call(&api, "POST", "/auth/sign-in", None, Some(body));
    let worker = tokens["access_token"]
        .as_str()
        .expect("the worker signs in")
        .to_owned();
    std::thread::sleep(Duration::from_secs(3)); // the task tracker learns of the worker
    for i in 0..20 {
        let body = json!({"title": format!("Mine bench task {i}")});
        call(&api, "POST", "/tasks", Some(&admin), Some(body));
    }
    let mine = || call(&api, "GET", "/tasks/mine?status=open", Some(&worker), None);
    for _ in 0..20 {
        assert_eq!(mine().0, 200);
    }
    let before = calls(&api);
    let mut took = Vec::with_capacity(n);
    let mut listed = 0;
    for _ in 0..n {
        let started = Instant::now();
        let (status, page) = mine();
        took.push(started.elapsed());
        assert_eq!(status, 200, "{page}");
        listed = page["tasks"].as_array().map_or(0, Vec::len);
    }
    let spent = diff(&before, &calls(&api));
    took.sort_unstable();
    let per: Vec<String> = spent["TasksListMyTasksFunction"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(op, c)| format!("{op} {:.2}", c.as_u64().unwrap_or(0) as f64 / n as f64))
        .collect();
    println!(
        "GET /tasks/mine ({listed} open tasks listed), {n} warm requests one after another: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; AWS calls per request: {}",
        quantile(&took, 0.50).as_secs_f64() * 1e3,
        quantile(&took, 0.99).as_secs_f64() * 1e3,
        took.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        per.join(", ")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quantile_is_the_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile(&samples, 0.5), Duration::from_millis(50));
        assert_eq!(quantile(&samples, 0.99), Duration::from_millis(99));
        assert_eq!(quantile(&samples, 1.0), Duration::from_millis(100));
        assert_eq!(quantile(&samples[..1], 0.99), Duration::from_millis(1));
    }
}
