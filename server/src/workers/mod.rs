//! Background work: merchant-webhook delivery, the reconciler and the
//! expiry clock. Each loop runs in every instance; the database leases keep
//! them from doing the same work twice at once.

pub mod delivery;
pub mod reconciler;

use std::future::Future;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::AppState;

/// Starts the workers; they stop when `stop` turns true.
pub fn spawn(state: AppState, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let delivery_state = state.clone();
    let reconcile_state = state.clone();
    vec![
        tokio::spawn(run_loop("delivery", state.clone(), stop.clone(), true, move || {
            let s = delivery_state.clone();
            async move { delivery::deliver_due(&s).await.map_err(|e| e.to_string()) }
        })),
        tokio::spawn(run_loop("reconciler", state, stop, false, move || {
            let s = reconcile_state.clone();
            async move {
                let settled = reconciler::reconcile_due(&s).await.map_err(|e| e.to_string())?;
                let expired = reconciler::expire_due(&s).await.map_err(|e| e.to_string())?;
                let refunded = reconciler::refund_late_payments(&s).await.map_err(|e| e.to_string())?;
                let refunds = reconciler::reconcile_refunds(&s).await.map_err(|e| e.to_string())?;
                // Deletions never count as work found: the loop would spin.
                reconciler::purge_due(&s).await.map_err(|e| e.to_string())?;
                Ok(settled + expired + refunded + refunds)
            }
        })),
    ]
}

/// Runs `round` until it finds nothing, then sleeps a tick (or until woken,
/// for the delivery worker), until stopped.
async fn run_loop<F, Fut>(
    name: &'static str,
    state: AppState,
    mut stop: watch::Receiver<bool>,
    wakeable: bool,
    round: F,
) where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<usize, String>>,
{
    let tick = state.config.timings.worker_tick;
    loop {
        if *stop.borrow() {
            return;
        }
        let busy = match round().await {
            Ok(n) => n > 0,
            Err(e) => {
                tracing::warn!(worker = name, error = %e, "worker round failed");
                false
            }
        };
        if busy {
            continue;
        }
        tokio::select! {
            _ = stop.changed() => {}
            () = state.delivery_wake.notified(), if wakeable => {}
            () = tokio::time::sleep(tick) => {}
        }
    }
}
