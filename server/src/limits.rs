//! Per-client-IP fixed-window limits on payment attempts and on the number
//! of different cards tried: card testing is the first attack a payment
//! page meets.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Addresses tracked per window before newcomers are counted by block.
const TRACKED: usize = 100_000;

/// How many times one address's limit a block bucket allows: it holds
/// every newcomer of that block once `TRACKED` addresses are counted.
const BLOCK_SCALE: u32 = 64;

/// What a window counts: one client (an IPv4 address, an IPv6 /64), past
/// `TRACKED` the newcomers of one block (IPv4 /16, IPv6 /32, `BLOCK_SCALE`
/// times the limit), and past twice that everyone left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Client(IpAddr),
    Block(IpAddr),
    Everyone,
}

/// The IPv4 /16 or IPv6 /32 of a client key.
fn block_of(key: IpAddr) -> IpAddr {
    match key {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            IpAddr::V4(std::net::Ipv4Addr::new(o[0], o[1], 0, 0))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], 0, 0, 0, 0, 0, 0))
        }
    }
}

/// Per-address windows: IPv6 clients count per /64 (one subscriber's
/// block, issue 15), entries of past windows are dropped once per window
/// (never a scan per request), and past `TRACKED` addresses in a window
/// newcomers are counted per network block with a larger limit. A flood of
/// fresh addresses neither escapes the limit nor makes every request pay
/// for a scan, and it fills only its own blocks' buckets: newcomers from
/// elsewhere keep being served (one shared bucket for all of them let a
/// flood from two IPv6 /48s lock every new shopper out for the hour).
#[derive(Debug, Default)]
struct Windows<V> {
    map: HashMap<Key, (i64, V)>,
    pruned: i64,
}

impl<V: Default> Windows<V> {
    /// The count of `ip`'s bucket in `window`, and how many times one
    /// client's limit that bucket allows.
    fn current(&mut self, ip: IpAddr, window: i64) -> (&mut V, u32) {
        if self.pruned != window && self.map.len() > TRACKED / 2 {
            self.map.retain(|_, (w, _)| *w == window);
            self.pruned = window;
        }
        let client = crate::serve::address_key(ip);
        let block = Key::Block(block_of(client));
        let (key, scale) = if self.map.len() < TRACKED || self.map.contains_key(&Key::Client(client)) {
            (Key::Client(client), 1)
        } else if self.map.len() < 2 * TRACKED || self.map.contains_key(&block) {
            (block, BLOCK_SCALE)
        } else {
            (Key::Everyone, BLOCK_SCALE)
        };
        let entry = self.map.entry(key).or_insert_with(|| (window, V::default()));
        if entry.0 != window {
            *entry = (window, V::default());
        }
        (&mut entry.1, scale)
    }

    fn get(&self, ip: IpAddr) -> Option<&(i64, V)> {
        self.map.get(&Key::Client(crate::serve::address_key(ip)))
    }
}

/// Counts attempts per IP per minute.
#[derive(Debug, Default)]
pub struct IpLimiter {
    windows: Mutex<Windows<u32>>,
}

impl IpLimiter {
    /// Whether `ip` has used up `per_minute` in the current minute (counts
    /// nothing).
    pub fn exhausted(&self, ip: IpAddr, now_ms: i64, per_minute: u32) -> bool {
        let minute = now_ms / 60_000;
        let Ok(windows) = self.windows.lock() else { return true };
        windows.get(ip).is_some_and(|(m, n)| *m == minute && *n >= per_minute)
    }

    /// Counts one attempt from `ip` at `now_ms`; `false` once `per_minute`
    /// attempts have been counted in the current minute.
    pub fn allow(&self, ip: IpAddr, now_ms: i64, per_minute: u32) -> bool {
        let minute = now_ms / 60_000;
        let Ok(mut windows) = self.windows.lock() else { return false };
        let (count, scale) = windows.current(ip, minute);
        if *count >= per_minute.saturating_mul(scale) {
            return false;
        }
        *count += 1;
        true
    }
}

/// Counts the different cards each IP tries per hour. A card is kept only
/// as a keyed hash (HMAC-SHA256 under a key made at start and never
/// stored), truncated to 64 bits and held in memory: nothing that could give
/// a card number back is written anywhere.
#[derive(Debug)]
pub struct CardLimiter {
    key: [u8; 32],
    windows: Mutex<Windows<Vec<u64>>>,
}

impl Default for CardLimiter {
    fn default() -> Self {
        let mut key = [0u8; 32];
        if getrandom::fill(&mut key).is_err() {
            // No OS randomness is not survivable for a payment server.
            std::process::abort();
        }
        CardLimiter { key, windows: Mutex::default() }
    }
}

impl CardLimiter {
    fn fingerprint(&self, pan: &str) -> u64 {
        use hmac::{KeyInit, Mac};
        let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.key) else { return 0 };
        mac.update(pan.as_bytes());
        let bytes = mac.finalize().into_bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(&bytes[..8]);
        u64::from_le_bytes(first)
    }

    /// Counts card `pan` (digits only) from `ip` at `now_ms`; `false` when
    /// it would be the `per_hour + 1`-th different card this hour. A card
    /// already counted this hour is always allowed.
    pub fn allow(&self, ip: IpAddr, pan: &str, now_ms: i64, per_hour: u32) -> bool {
        let hour = now_ms / 3_600_000;
        let card = self.fingerprint(pan);
        let Ok(mut windows) = self.windows.lock() else { return false };
        let (cards, scale) = windows.current(ip, hour);
        if cards.contains(&card) {
            return true;
        }
        if cards.len() >= per_hour.saturating_mul(scale) as usize {
            return false;
        }
        cards.push(card);
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

    #[test]
    fn different_cards_per_ip_per_hour() {
        let l = CardLimiter::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let cards = ["4242424242424242", "4000000000000002", "5555555555554444"];
        assert!(cards[..2].iter().all(|c| l.allow(ip, c, 1_000, 2)));
        // A third card is refused; the first two stay usable.
        assert!(!l.allow(ip, cards[2], 2_000, 2));
        assert!(l.allow(ip, cards[0], 3_000, 2));
        assert!(l.allow(ip, cards[1], 3_000, 2));
        // Another IP, or the next hour, starts afresh.
        assert!(l.allow("10.0.0.2".parse().unwrap(), cards[2], 3_000, 2));
        assert!(l.allow(ip, cards[2], 3_600_000, 2));
    }

    #[test]
    fn an_ipv6_64_is_one_client() {
        let l = IpLimiter::default();
        for i in 0..3u16 {
            let ip: IpAddr = format!("2001:db8:1:2::{i:x}").parse().unwrap();
            assert!(l.allow(ip, 1_000, 3));
        }
        assert!(!l.allow("2001:db8:1:2:ffff::1".parse().unwrap(), 1_000, 3));
        assert!(l.allow("2001:db8:1:3::1".parse().unwrap(), 1_000, 3));
    }

    #[test]
    fn a_flood_of_fresh_addresses_fills_only_its_own_blocks() {
        let l = IpLimiter::default();
        // A flood from one IPv6 /32, each /64 once.
        for i in 0..TRACKED as u32 {
            let ip = std::net::Ipv6Addr::new(0x2001, 0xdb8, (i >> 16) as u16, i as u16, 0, 0, 0, 1);
            assert!(l.allow(IpAddr::V6(ip), 1_000, 1));
        }
        // Past the tracked number, more of the flood shares its block's
        // bucket (64 times the limit) and is then refused...
        let flood = |i: u16| IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0xffff, i, 0, 0, 0, 1));
        assert!((0..64).all(|i| l.allow(flood(i), 1_000, 1)));
        assert!(!l.allow(flood(64), 1_000, 1));
        // ...while a newcomer from elsewhere is still served.
        assert!(l.allow("198.51.100.9".parse().unwrap(), 1_000, 1));
        // The next window starts afresh.
        assert!(l.allow(flood(64), 61_000, 1));
    }

    #[test]
    fn a_card_flood_does_not_lock_out_new_shoppers() {
        let l = CardLimiter::default();
        for i in 0..TRACKED as u32 {
            let ip = std::net::Ipv6Addr::new(0x2001, 0xdb8, (i >> 16) as u16, i as u16, 0, 0, 0, 1);
            assert!(l.allow(IpAddr::V6(ip), "4242424242424242", 1_000, 10));
        }
        let tester: IpAddr = "203.0.113.7".parse().unwrap();
        for n in 0..10u64 {
            assert!(l.allow(tester, &format!("40000000000{n:05}"), 1_000, 10));
        }
        assert!(l.allow("198.51.100.9".parse().unwrap(), "5555555555554444", 1_000, 10));
    }
}

/// Requests in flight per client behind a trusted proxy. The accept loop
/// caps connections per address, but a proxy's connections carry every
/// client, so there the cap is applied per client (`X-Forwarded-For`, an
/// IPv6 /64 as one) on the requests themselves: one client cannot hold
/// every connection the proxy opens (a body trickled, a response not
/// read).
#[derive(Debug, Default)]
pub struct ProxiedRequests {
    per_client: Mutex<HashMap<IpAddr, usize>>,
}

/// One request in flight; dropping it frees its place.
#[derive(Debug)]
pub struct ProxiedSlot {
    owner: std::sync::Arc<ProxiedRequests>,
    client: IpAddr,
}

impl ProxiedRequests {
    /// A place for a request of `client`, if it has fewer than `max` in
    /// flight.
    pub fn enter(self: &std::sync::Arc<Self>, client: IpAddr, max: usize) -> Option<ProxiedSlot> {
        let client = crate::serve::address_key(client);
        let mut map = self.per_client.lock().ok()?;
        let n = map.entry(client).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(ProxiedSlot { owner: self.clone(), client })
    }
}

impl Drop for ProxiedSlot {
    fn drop(&mut self) {
        if let Ok(mut map) = self.owner.per_client.lock()
            && let Some(n) = map.get_mut(&self.client)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.client);
            }
        }
    }
}

/// Open widget event streams, per session and in all: each holds a
/// connection and a task, so an anonymous holder of one client secret must
/// not be able to open thousands.
#[derive(Debug, Default)]
pub struct EventStreams {
    per_session: Mutex<HashMap<String, usize>>,
    per_client: Mutex<HashMap<std::net::IpAddr, usize>>,
}

/// One open stream; closing it (dropping) frees its place.
#[derive(Debug)]
pub struct StreamSlot {
    streams: std::sync::Arc<EventStreams>,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
    session: String,
    client: std::net::IpAddr,
}

/// How many streams one session, one client and everyone may hold.
#[derive(Debug, Clone, Copy)]
pub struct StreamLimits {
    /// Per session.
    pub per_session: usize,
    /// Per client (IPv6 per /64).
    pub per_client: usize,
    /// In all.
    pub total: usize,
}

impl EventStreams {
    /// A place for a stream on `session` from `client`, if under every limit.
    pub fn open(
        self: &std::sync::Arc<Self>,
        session: &str,
        client: std::net::IpAddr,
        limits: StreamLimits,
        metrics: &std::sync::Arc<crate::metrics::Metrics>,
    ) -> Option<StreamSlot> {
        use std::sync::atomic::Ordering;
        let client = crate::serve::address_key(client);
        let mut map = self.per_session.lock().ok()?;
        let mut clients = self.per_client.lock().ok()?;
        let open = map.get(session).copied().unwrap_or(0);
        let from_client = clients.get(&client).copied().unwrap_or(0);
        if open >= limits.per_session
            || from_client >= limits.per_client
            || metrics.event_streams.load(Ordering::SeqCst) >= limits.total
        {
            return None;
        }
        map.insert(session.to_owned(), open + 1);
        clients.insert(client, from_client + 1);
        metrics.event_streams.fetch_add(1, Ordering::SeqCst);
        Some(StreamSlot {
            streams: self.clone(),
            metrics: metrics.clone(),
            session: session.to_owned(),
            client,
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.metrics.event_streams.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        if let Ok(mut map) = self.streams.per_session.lock()
            && let Some(n) = map.get_mut(&self.session)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.session);
            }
        }
        if let Ok(mut clients) = self.streams.per_client.lock()
            && let Some(n) = clients.get_mut(&self.client)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                clients.remove(&self.client);
            }
        }
    }
}
