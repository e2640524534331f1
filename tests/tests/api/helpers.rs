//! Starting the real server for a test.

use std::net::SocketAddr;

use kasir_server::{Config, Server};
use tokio::sync::oneshot;

/// A running server; shut down gracefully when dropped.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    _stop: oneshot::Sender<()>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

/// Starts the real server on 127.0.0.1 with a free port.
pub async fn spawn_app() -> TestApp {
    let config = Config { listen: "127.0.0.1:0".parse().unwrap(), ..Config::default() };
    let server = Server::bind(config).await.expect("bind");
    let addr = server.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));
    TestApp { addr, client: reqwest::Client::new(), _stop: stop }
}
