//! Prometheus metrics at `/metrics`, in the text exposition format: counters
//! and latency sums kept in one small map (few series, low contention).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, String), f64>>,
    /// The accept loop's connection counts.
    pub connections: crate::serve::ConnectionCounters,
    /// Event streams open now.
    pub event_streams: std::sync::atomic::AtomicUsize,
}

const HELP: &[(&str, &str, &str)] = &[
    ("kasir_http_requests_total", "counter", "HTTP requests by route and status class."),
    ("kasir_attempts_total", "counter", "Payment attempts by provider and status after the first answer."),
    ("kasir_provider_calls_total", "counter", "Provider calls by provider, operation and result."),
    ("kasir_provider_call_seconds_sum", "counter", "Total seconds spent in provider calls."),
    ("kasir_webhooks_in_total", "counter", "Inbound provider webhooks by provider and result."),
    ("kasir_webhook_deliveries_total", "counter", "Merchant webhook deliveries by result."),
    ("kasir_rate_limited_total", "counter", "Requests refused by a rate limit, by limit."),
    ("kasir_reconciled_total", "counter", "Attempts the reconciler asked about, by result."),
    ("kasir_late_payments_total", "counter", "Money reported for attempts Kasir had closed, by provider."),
    (
        "kasir_provider_mismatch_total",
        "counter",
        "Provider answers whose amount or order did not match, by provider.",
    ),
    ("kasir_reviews_total", "counter", "Attempts handed to the merchant for review, by provider."),
    (
        "kasir_refund_reviews_total",
        "counter",
        "Refunds (and late payments' refunds) handed to the merchant for review, by provider.",
    ),
    ("kasir_purged_total", "counter", "Rows deleted past their retention, by kind."),
];

impl Metrics {
    fn add(&self, name: &'static str, labels: String, value: f64) {
        if let Ok(mut map) = self.counters.lock() {
            *map.entry((name, labels)).or_insert(0.0) += value;
        }
    }

    /// One HTTP request.
    pub fn request(&self, route: &str, status: u16) {
        self.add(
            "kasir_http_requests_total",
            format!("route=\"{route}\",status=\"{}xx\"", status / 100),
            1.0,
        );
    }

    /// An attempt's status after the provider's first answer.
    pub fn attempt(&self, provider: &str, status: &str) {
        self.add("kasir_attempts_total", format!("provider=\"{provider}\",status=\"{status}\""), 1.0);
    }

    /// One provider call and its latency.
    pub fn provider_call(&self, provider: &str, op: &str, took: Duration, ok: bool) {
        let result = if ok { "ok" } else { "error" };
        self.add(
            "kasir_provider_calls_total",
            format!("provider=\"{provider}\",op=\"{op}\",result=\"{result}\""),
            1.0,
        );
        self.add(
            "kasir_provider_call_seconds_sum",
            format!("provider=\"{provider}\",op=\"{op}\""),
            took.as_secs_f64(),
        );
    }

    /// One inbound webhook.
    pub fn webhook_in(&self, provider: &str, result: &str) {
        self.add("kasir_webhooks_in_total", format!("provider=\"{provider}\",result=\"{result}\""), 1.0);
    }

    /// One merchant webhook delivery attempt.
    pub fn delivery(&self, result: &str) {
        self.add("kasir_webhook_deliveries_total", format!("result=\"{result}\""), 1.0);
    }

    /// One request refused by a limit.
    pub fn rate_limited(&self, limit: &str) {
        self.add("kasir_rate_limited_total", format!("limit=\"{limit}\""), 1.0);
    }

    /// Money reported for an attempt Kasir had closed.
    pub fn late_payment(&self, provider: &str) {
        self.add("kasir_late_payments_total", format!("provider=\"{provider}\""), 1.0);
    }

    /// A provider answer that did not match the attempt (amount, order).
    pub fn provider_mismatch(&self, provider: &str) {
        self.add("kasir_provider_mismatch_total", format!("provider=\"{provider}\""), 1.0);
    }

    /// An attempt handed to the merchant for review.
    pub fn review(&self, provider: &str) {
        self.add("kasir_reviews_total", format!("provider=\"{provider}\""), 1.0);
    }

    /// A refund handed to the merchant for review.
    pub fn refund_review(&self, provider: &str) {
        self.add("kasir_refund_reviews_total", format!("provider=\"{provider}\""), 1.0);
    }

    /// One purge round.
    pub fn purged(&self, purged: &crate::store::Purged) {
        for (kind, n) in [
            ("sessions", purged.sessions),
            ("events", purged.events),
            ("idempotency_keys", purged.idempotency_keys),
            ("sandbox_payments", purged.sandbox_payments),
        ] {
            if n > 0 {
                self.add("kasir_purged_total", format!("kind=\"{kind}\""), n as f64);
            }
        }
    }

    /// One reconciliation.
    pub fn reconciled(&self, result: &str) {
        self.add("kasir_reconciled_total", format!("result=\"{result}\""), 1.0);
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        let mut out = String::new();
        let c = &self.connections;
        let gauges = [
            ("kasir_connections_open", "gauge", "Client connections open.", c.open.load(Relaxed)),
            (
                "kasir_connections_evicted_total",
                "counter",
                "Idle connections closed to make room at a connection limit.",
                c.evicted.load(Relaxed),
            ),
            (
                "kasir_connections_refused_total",
                "counter",
                "New connections closed at a limit because every connection was busy.",
                c.refused.load(Relaxed),
            ),
            (
                "kasir_event_streams_open",
                "gauge",
                "Widget event streams open.",
                self.event_streams.load(Relaxed),
            ),
        ];
        for (name, kind, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        }
        let Ok(map) = self.counters.lock() else { return out };
        for (name, kind, help) in HELP {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for ((n, labels), value) in map.iter() {
                if n == name {
                    let _ = writeln!(out, "{name}{{{labels}}} {value}");
                }
            }
        }
        out
    }
}
