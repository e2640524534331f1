//! The real server binary (`kasir-server-under-test`, built from
//! `server/src/main.rs`) in its own process, for tests that SIGKILL and
//! restart it or run two instances on one database.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{SINGAPAY_SECRET, SMILEPAYZ_MERCHANT_ID, SMILEPAYZ_SECRET, WHSEC_A, fixture};

/// The secret key of the one merchant (`toko_crash`) of a `KasirProcess`.
pub const PROCESS_KEY: &str = "sk_test_crash_0123456789abcdef";

/// The server process, restartable on the same port and database.
pub struct KasirProcess {
    port: u16,
    workdir: std::path::PathBuf,
    child: Option<Child>,
    starts: usize,
    /// Extra environment for the next starts.
    env: Vec<(String, String)>,
}

impl KasirProcess {
    /// Writes the configuration of an instance: its own port, the shared
    /// `database_url`, merchant webhooks to `webhook_url`, QRIS routed to
    /// the Smilepayz simulator at `sim_url`. Not started yet.
    pub fn configure(database_url: &str, webhook_url: &str, sim_url: &str) -> KasirProcess {
        let tables = format!(
            "[limits]\nattempts_per_ip_per_minute = 1000000\n\
             [providers.smilepayz]\nbase_url = {sim_url:?}\nmerchant_id = {SMILEPAYZ_MERCHANT_ID:?}\nmerchant_secret = {SMILEPAYZ_SECRET:?}\n\
             private_key = {:?}\nplatform_public_key = {:?}\n\
             [routing]\nqris = \"smilepayz\"\n",
            fixture("merchant.key.pem"),
            fixture("platform.pub.pem"),
        );
        KasirProcess::with_config(
            database_url,
            webhook_url,
            "delivery_schedule_secs = [1, 1, 2, 2, 3, 5, 5, 10, 10, 10]\n",
            &tables,
        )
    }

    /// An instance whose cards go to the SingaPay simulator at `sim_url`
    /// (answers lost in a crash cannot be looked up by our reference
    /// there), asking the merchant to review after `review_after_secs`.
    pub fn configure_singapay(
        database_url: &str,
        webhook_url: &str,
        sim_url: &str,
        review_after_secs: u64,
    ) -> KasirProcess {
        let tables = format!(
            "[providers.singapay]\nbase_url = {sim_url:?}\npartner_id = \"api-key-1\"\nclient_id = \"client-1\"\n\
             client_secret = {SINGAPAY_SECRET:?}\naccount_id = \"01K5G4FZZ18DMK0M5QTR8Y9QY9\"\npoll_secs = 1\n\
             [routing]\ncard = \"singapay\"\n"
        );
        let timings = format!("review_after_secs = {review_after_secs}\n");
        KasirProcess::with_config(database_url, webhook_url, &timings, &tables)
    }

    /// A new instance on a free port, not started: its own port, the shared
    /// `database_url`, the merchant with its webhooks to `webhook_url`, fast
    /// timings plus `timings`, and the provider `tables`.
    fn with_config(database_url: &str, webhook_url: &str, timings: &str, tables: &str) -> KasirProcess {
        let port = kasir_tests::webdriver::free_port();
        let workdir =
            std::env::temp_dir().join(format!("kasir-crash-{}", kasir_server::ids::random_token(8)));
        std::fs::create_dir_all(&workdir).unwrap();
        let config = format!(
            "listen = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\ndatabase_url = {database_url:?}\n\
             log_format = \"json\"\nallow_private_webhook_urls = true\n\
             [timings]\nprovider_timeout_secs = 5\nreconcile_after_secs = 1\nworker_tick_ms = 200\n{timings}\
             [[merchants]]\nid = \"toko_crash\"\ndisplay_name = \"Toko Crash\"\nsecret_key_env = \"CRASH_KEY\"\n\
             webhook_url = {webhook_url:?}\nwebhook_secret_env = \"CRASH_WHSEC\"\n{tables}"
        );
        std::fs::write(workdir.join("kasir.toml"), config).unwrap();
        KasirProcess { port, workdir, child: None, starts: 0, env: Vec::new() }
    }

    /// The instance's working directory (its configuration and logs).
    pub fn workdir(&self) -> &std::path::Path {
        &self.workdir
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Sets the environment of the next starts (replacing what was set).
    pub fn set_env(&mut self, env: &[(&str, &str)]) {
        self.env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    }

    /// Starts the process and waits until `/readyz` answers 200.
    pub async fn start(&mut self) {
        self.starts += 1;
        let log = std::fs::File::create(self.workdir.join(format!("kasir-{}.log", self.starts))).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_kasir-server-under-test"))
            .current_dir(&self.workdir)
            .env("RUST_LOG", "info")
            .env("CRASH_KEY", PROCESS_KEY)
            .env("CRASH_WHSEC", WHSEC_A)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the server starts");
        self.child = Some(child);
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client.get(self.url("/readyz")).send().await
                && r.status() == 200
            {
                return;
            }
            assert!(Instant::now() < deadline, "the server did not come back (see {:?})", self.workdir);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown, no flush.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill(); // SIGKILL: no shutdown, no flush.
            let _ = child.wait();
        }
    }
}

impl Drop for KasirProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
