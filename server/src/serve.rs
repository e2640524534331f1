//! The accept loop: HTTP/1.1 on hyper, with what `axum::serve` does not
//! bound (issue 15). An anonymous client must not be able to take the
//! server's file descriptors or its attention:
//!
//! - **Connections overall and per address.** At the limit, a new
//!   connection takes the place of the oldest one that has no request in
//!   flight (an idle keep-alive, or one that never sent a byte); when every
//!   connection is busy, the new one is closed at once. The overall limit
//!   stays below the process's open-file limit, so the listener never meets
//!   "too many open files" while the database and providers need a socket.
//! - **Header read timeout.** A client has `header_read_timeout` to send a
//!   request's headers, from the moment the connection opens or the last
//!   response was sent: a silent connection, a trickled header, and an idle
//!   keep-alive connection all end there.
//! - **Header size.** hyper's read buffer is bounded to `MAX_HEADER_BYTES`;
//!   larger headers get `431`.
//!
//! IPv6 clients are grouped by /64, the block one subscriber holds.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use futures_util::StreamExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

/// hyper's read buffer: request line and headers must fit (bodies stream).
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Descriptors kept free for the database, providers, logs and the
/// listener itself when the connection limit is derived from the file limit.
const RESERVED_FDS: u64 = 128;

/// The bounds the accept loop enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Open client connections in all.
    pub max_connections: usize,
    /// Open client connections from one address (IPv6: one /64). Not
    /// applied to trusted proxies, whose connections carry many clients.
    pub max_connections_per_ip: usize,
    /// Time to send a request's headers, from the connection's start or the
    /// previous response (so also the idle keep-alive timeout).
    pub header_read_timeout: Duration,
    /// Time to send a request's body, from the end of its headers; a body
    /// still arriving then fails to read (the handler answers 400).
    pub body_read_timeout: Duration,
    /// Time a response's write may wait for the client to read: a client
    /// that stops reading (a large answer, pipelined requests) is cut off
    /// then, instead of holding its connection busy, and unevictable,
    /// forever.
    pub write_stall_timeout: Duration,
}

impl ConnectionLimits {
    /// `configured`, or (0) three quarters of the open-file limit less a
    /// reserve; never more than the file limit allows.
    pub fn effective_max(configured: usize) -> usize {
        let fd_bound = open_file_limit()
            .map_or(usize::MAX, |n| usize::try_from(n.saturating_sub(RESERVED_FDS)).unwrap_or(usize::MAX))
            .max(16);
        match configured {
            0 => (fd_bound / 4 * 3).clamp(16, 10_000),
            n => n.min(fd_bound),
        }
    }
}

/// The process's soft limit on open files, where the platform says.
fn open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rustix::process::getrlimit(rustix::process::Resource::Nofile).current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The key connections are counted under: the address, or its /64.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

struct Conn {
    key: IpAddr,
    in_flight: Arc<AtomicUsize>,
    abort: tokio::task::AbortHandle,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    /// By id: the oldest first.
    conns: BTreeMap<u64, Conn>,
    per_key: HashMap<IpAddr, usize>,
}

impl Table {
    /// Takes out the oldest connection with nothing in flight, among those
    /// of `key` when given, for the caller to abort once the lock is
    /// released; `None` if every one is busy.
    fn evict_idle(&mut self, key: Option<IpAddr>) -> Option<tokio::task::AbortHandle> {
        let victim = self
            .conns
            .iter()
            .find(|(_, c)| key.is_none_or(|k| c.key == k) && c.in_flight.load(Ordering::SeqCst) == 0)
            .map(|(id, _)| *id)?;
        self.remove(victim).map(|c| c.abort)
    }

    fn remove(&mut self, id: u64) -> Option<Conn> {
        let conn = self.conns.remove(&id)?;
        if let Some(n) = self.per_key.get_mut(&conn.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_key.remove(&conn.key);
            }
        }
        Some(conn)
    }
}

/// Leaves the table when its connection ends, however it ends (finished,
/// or aborted to make room).
struct Registered {
    table: Arc<Mutex<Table>>,
    metrics: Arc<crate::metrics::Metrics>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        if let Ok(mut t) = self.table.lock() {
            t.remove(self.id);
        }
        self.metrics.connections.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `body`, failing with an error once `deadline` passes before it ends (a
/// client trickling its body cannot hold a handler for longer).
fn timed_body(body: Body, deadline: tokio::time::Instant) -> Body {
    let chunks = body.into_data_stream();
    Body::from_stream(futures_util::stream::unfold(Some(chunks), move |state| async move {
        let mut chunks = state?;
        match tokio::time::timeout_at(deadline, chunks.next()).await {
            Ok(Some(chunk)) => Some((chunk, Some(chunks))),
            Ok(None) => None,
            Err(_) => Some((Err(axum::Error::new("request body not received in time")), None)),
        }
    }))
}

/// Counts a request (and its response body, which for an event stream
/// outlives the handler) as in flight on its connection.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn new(counter: &Arc<AtomicUsize>) -> InFlight {
        counter.fetch_add(1, Ordering::SeqCst);
        InFlight(counter.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Connections refused or ended by the limits, for `/metrics`.
#[derive(Debug, Default)]
pub struct ConnectionCounters {
    /// Open now.
    pub open: AtomicUsize,
    /// Idle connections closed to make room.
    pub evicted: AtomicUsize,
    /// New connections closed because every connection was busy.
    pub refused: AtomicUsize,
}

/// Serves `app` on `listener` within `limits` until `shutdown`; then stops
/// accepting, lets requests in flight finish (up to `drain`) and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    trusted_proxies: Arc<Vec<ipnet::IpNet>>,
    metrics: Arc<crate::metrics::Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> std::io::Result<()> {
    let counters = &metrics.connections;
    let table: Arc<Mutex<Table>> = Arc::default();
    let (closing_tx, closing) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
            // Reap finished connection tasks as we go.
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of descriptors (or a transient error): make room if an
                // idle connection can give one back, and pause briefly.
                tracing::warn!(error = %e, "accept failed");
                let victim = table.lock().ok().and_then(|mut t| t.evict_idle(None));
                if let Some(victim) = victim {
                    victim.abort();
                    counters.evicted.fetch_add(1, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        let key = address_key(peer.ip());
        let per_ip_applies = !trusted_proxies.iter().any(|net| net.contains(&peer.ip()));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let (admitted, evicted) = {
            let Ok(mut t) = table.lock() else { continue };
            let mut evicted = Vec::new();
            let mut ok = true;
            if per_ip_applies && t.per_key.get(&key).copied().unwrap_or(0) >= limits.max_connections_per_ip {
                match t.evict_idle(Some(key)) {
                    Some(victim) => evicted.push(victim),
                    None => ok = false,
                }
            }
            if ok && t.conns.len() >= limits.max_connections {
                match t.evict_idle(None) {
                    Some(victim) => evicted.push(victim),
                    None => ok = false,
                }
            }
            let id = ok.then(|| {
                t.next_id += 1;
                t.next_id
            });
            (id, evicted)
        };
        for victim in evicted {
            victim.abort();
            counters.evicted.fetch_add(1, Ordering::Relaxed);
        }
        let Some(id) = admitted else {
            counters.refused.fetch_add(1, Ordering::Relaxed);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = {
            let (app, in_flight) = (app.clone(), in_flight.clone());
            let body_timeout = limits.body_read_timeout;
            hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                let guard = InFlight::new(&in_flight);
                request.extensions_mut().insert(ConnectInfo(peer));
                let app = app.clone();
                async move {
                    let deadline = tokio::time::Instant::now() + body_timeout;
                    let request = request.map(|body| timed_body(Body::new(body), deadline));
                    let response = app.oneshot(request).await.unwrap_or_else(|e| match e {});
                    let (parts, body) = response.into_parts();
                    let body = Body::from_stream(body.into_data_stream().map(move |chunk| {
                        let _held = &guard;
                        chunk
                    }));
                    Ok::<_, Infallible>(hyper::Response::from_parts(parts, body))
                }
            })
        };
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .max_buf_size(MAX_HEADER_BYTES)
            .keep_alive(true);
        let stream = WriteStall::new(stream, limits.write_stall_timeout);
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let registered = Registered { table: table.clone(), metrics: metrics.clone(), id };
        let mut closing = closing.clone();
        counters.open.fetch_add(1, Ordering::Relaxed);
        // Registered under the lock, so the task cannot end (and remove
        // itself) before it is in the table.
        let Ok(mut t) = table.lock() else { continue };
        let task = tasks.spawn(async move {
            let _registered = registered;
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = async { closing.wait_for(|c| *c).await.is_ok() } => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.as_mut().await;
                }
            }
        });
        *t.per_key.entry(key).or_insert(0) += 1;
        t.conns.insert(id, Conn { key, in_flight, abort: task });
    }
    drop(listener);
    let _ = closing_tx.send(true);
    let drained = tokio::time::timeout(drain, async { while tasks.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!("connections still open after the drain; closing them");
        tasks.abort_all();
    }
    Ok(())
}

/// A connection whose writes fail when the client has read nothing for
/// `limit` while a write waits (its receive window full). Idle time with
/// nothing to write (an event stream between events) does not count.
struct WriteStall<S> {
    inner: S,
    limit: Duration,
    /// Armed when a write first waits; cleared by any progress.
    stalled: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl<S> WriteStall<S> {
    fn new(inner: S, limit: Duration) -> WriteStall<S> {
        WriteStall { inner, limit, stalled: None }
    }

    /// The inner write's result; on `Pending`, an error once the stall has
    /// lasted `limit` (the timer wakes the task to say so).
    fn watch<T>(
        &mut self,
        cx: &mut std::task::Context<'_>,
        poll: std::task::Poll<std::io::Result<T>>,
    ) -> std::task::Poll<std::io::Result<T>> {
        use std::task::Poll;
        match poll {
            Poll::Ready(result) => {
                self.stalled = None;
                Poll::Ready(result)
            }
            Poll::Pending => {
                let limit = self.limit;
                let timer = self.stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the client stopped reading the response",
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for WriteStall<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for WriteStall<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let poll = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let poll = std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let poll = std::pin::Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let poll = std::pin::Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, poll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let v4: IpAddr = "203.0.113.5".parse().unwrap();
        assert_eq!(address_key(v4), v4);
        let mapped: IpAddr = "::ffff:203.0.113.5".parse().unwrap();
        assert_eq!(address_key(mapped), v4);
    }

    #[test]
    fn the_connection_limit_stays_below_the_file_limit() {
        let fds = open_file_limit().unwrap_or(1024);
        let auto = ConnectionLimits::effective_max(0);
        assert!((auto as u64) < fds, "{auto} of {fds}");
        assert!(
            ConnectionLimits::effective_max(1_000_000) as u64 <= fds.saturating_sub(RESERVED_FDS).max(16)
        );
        assert_eq!(ConnectionLimits::effective_max(20), 20);
    }
}
