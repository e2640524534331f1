//! Wakes the live event streams of one session when it changes. Each
//! session with listeners has its own watch channel, so a change wakes that
//! session's streams only, however many other shoppers are watching theirs
//! (a broadcast to every stream costs in proportion to all of them).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

/// The sessions being watched in this process.
#[derive(Debug, Default)]
pub struct SessionSignals {
    watched: Mutex<HashMap<String, watch::Sender<u64>>>,
}

impl SessionSignals {
    /// Starts watching session `id`.
    pub fn subscribe(self: &Arc<Self>, id: &str) -> Subscription {
        let receiver = match self.watched.lock() {
            Ok(mut watched) => {
                watched.entry(id.to_owned()).or_insert_with(|| watch::channel(0).0).subscribe()
            }
            // A poisoned map: a receiver that is never woken; the stream
            // still re-reads the session every few seconds.
            Err(_) => watch::channel(0).1,
        };
        Subscription { signals: self.clone(), id: id.to_owned(), receiver }
    }

    /// Session `id` changed: wakes its streams, if any.
    pub fn notify(&self, id: &str) {
        if let Ok(watched) = self.watched.lock()
            && let Some(sender) = watched.get(id)
        {
            sender.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Sessions with at least one stream.
    pub fn watched(&self) -> usize {
        self.watched.lock().map_or(0, |w| w.len())
    }
}

/// One stream's watch on one session; forgotten when dropped.
#[derive(Debug)]
pub struct Subscription {
    signals: Arc<SessionSignals>,
    id: String,
    receiver: watch::Receiver<u64>,
}

impl Subscription {
    /// Waits for the next change; `false` if no change can come any more.
    pub async fn changed(&mut self) -> bool {
        self.receiver.changed().await.is_ok()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Ok(mut watched) = self.signals.watched.lock()
            && watched.get(&self.id).is_some_and(|sender| sender.receiver_count() <= 1)
        {
            watched.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_change_wakes_only_its_sessions_streams_and_the_last_one_out_cleans_up() {
        let signals = Arc::new(SessionSignals::default());
        let mut a1 = signals.subscribe("cs_a");
        let mut a2 = signals.subscribe("cs_a");
        let mut b = signals.subscribe("cs_b");
        assert_eq!(signals.watched(), 2);
        signals.notify("cs_a");
        signals.notify("cs_nobody");
        assert!(a1.changed().await);
        assert!(a2.changed().await);
        let quiet = tokio::time::timeout(std::time::Duration::from_millis(50), b.changed()).await;
        assert!(quiet.is_err(), "cs_b was not woken");
        drop(a1);
        assert_eq!(signals.watched(), 2, "cs_a still has a stream");
        drop(a2);
        drop(b);
        assert_eq!(signals.watched(), 0);
    }
}
