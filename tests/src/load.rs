//! A load generator for the benchmarks: closed loop at a fixed concurrency
//! (the saturating rate) and open loop at a fixed arrival rate (latency
//! without coordinated omission), with percentiles.

use std::sync::Arc;
use std::time::{Duration, Instant};

/// Connections of the closed loop.
pub const CONCURRENCY: usize = 32;

/// Builds request `i`.
pub type Make = Arc<dyn Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync>;

/// Throughput and latency of one run.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    /// Requests answered (successfully or not).
    pub requests: usize,
    /// Requests that failed or were not answered 2xx.
    pub errors: usize,
    /// Requests per second over the run.
    pub rps: f64,
    /// Median latency, ms.
    pub p50: f64,
    /// 99th percentile latency, ms.
    pub p99: f64,
    /// 99.9th percentile latency, ms.
    pub p999: f64,
}

/// The `p` quantile (0..=1) of ascending `sorted` (nearest rank); NaN if empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Summarises latencies (ms) measured over `elapsed`.
pub fn stats(mut latencies_ms: Vec<f64>, errors: usize, elapsed: Duration) -> Stats {
    latencies_ms.sort_by(f64::total_cmp);
    Stats {
        requests: latencies_ms.len(),
        errors,
        rps: latencies_ms.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(&latencies_ms, 0.50),
        p99: percentile(&latencies_ms, 0.99),
        p999: percentile(&latencies_ms, 0.999),
    }
}

/// Sends request `i`; its latency in ms and whether it was a 2xx.
pub async fn one(client: &reqwest::Client, make: &Make, i: usize) -> (f64, bool) {
    let started = Instant::now();
    let ok = match make(client, i).send().await {
        Ok(r) => {
            let ok = r.status().is_success();
            let _ = r.bytes().await;
            ok
        }
        Err(_) => false,
    };
    (started.elapsed().as_secs_f64() * 1000.0, ok)
}

/// `CONCURRENCY` workers, each sending its next request as soon as the last
/// one is answered, until `total` requests or `limit` time.
pub async fn closed_loop(make: &Make, total: usize, limit: Duration) -> Stats {
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONCURRENCY).build().unwrap_or_default();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (client, make, next) = (client.clone(), make.clone(), next.clone());
        workers.spawn(async move {
            let (mut lat, mut errors) = (Vec::new(), 0);
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total || started.elapsed() > limit {
                    return (lat, errors);
                }
                let (ms, ok) = one(&client, &make, i).await;
                lat.push(ms);
                errors += usize::from(!ok);
            }
        });
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    while let Some(Ok((lat, e))) = workers.join_next().await {
        all.extend(lat);
        errors += e;
    }
    stats(all, errors, started.elapsed())
}

/// Requests started at a fixed `rate` per second whatever the answers do
/// (no coordinated omission), `offset` onwards in `make`'s numbering.
pub async fn open_loop(make: &Make, rate: f64, seconds: f64, offset: usize, cap: usize) -> Stats {
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap_or_default();
    let total = ((rate * seconds).max(1.0) as usize).min(cap);
    let gap = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let started = Instant::now();
    let mut inflight = tokio::task::JoinSet::new();
    for i in 0..total {
        let due = started + gap.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        let (client, make) = (client.clone(), make.clone());
        inflight.spawn(async move {
            // Latency counts from when the request was due, not sent.
            let (_, ok) = one(&client, &make, offset + i).await;
            (due.elapsed().as_secs_f64() * 1000.0, ok)
        });
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    while let Some(Ok((ms, ok))) = inflight.join_next().await {
        all.push(ms);
        errors += usize::from(!ok);
    }
    stats(all, errors, started.elapsed())
}

/// Sends `request` and reads its JSON answer; `None` on any failure.
pub async fn json_of(request: reqwest::RequestBuilder) -> Option<serde_json::Value> {
    request.send().await.ok()?.json().await.ok()
}
