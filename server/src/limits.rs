//! A per-client-IP fixed-window limit on payment attempts: card testing is
//! the first attack a payment page meets.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Counts attempts per IP per minute.
#[derive(Debug, Default)]
pub struct IpLimiter {
    windows: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

impl IpLimiter {
    /// Whether `ip` has used up `per_minute` in the current minute (counts
    /// nothing).
    pub fn exhausted(&self, ip: IpAddr, now_ms: i64, per_minute: u32) -> bool {
        let minute = now_ms / 60_000;
        let Ok(windows) = self.windows.lock() else { return true };
        windows.get(&ip).is_some_and(|(m, n)| *m == minute && *n >= per_minute)
    }

    /// Counts one attempt from `ip` at `now_ms`; `false` once `per_minute`
    /// attempts have been counted in the current minute.
    pub fn allow(&self, ip: IpAddr, now_ms: i64, per_minute: u32) -> bool {
        let minute = now_ms / 60_000;
        let Ok(mut windows) = self.windows.lock() else { return false };
        if windows.len() > 100_000 {
            windows.retain(|_, (m, _)| *m == minute);
        }
        let entry = windows.entry(ip).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        if entry.1 >= per_minute {
            return false;
        }
        entry.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_up_to_the_limit_per_minute() {
        let l = IpLimiter::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        assert!((0..3).all(|_| l.allow(ip, 1_000, 3)));
        assert!(!l.allow(ip, 59_000, 3));
        assert!(l.allow("10.0.0.2".parse().unwrap(), 59_000, 3));
        assert!(l.allow(ip, 60_000, 3));
    }
}
