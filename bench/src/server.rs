//! The server under test as a child process: finding the binary, starting it on a free loopback
//! port with a throwaway database, waiting for `/healthz`, and stopping it again.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use hyper::{Method, StatusCode};
use tokio::process::{Child, Command};

use crate::http::{Conn, Target};

/// Where the binary is looked for, in order, relative to the repository root.
pub const DEFAULT_BINARIES: [&str; 3] =
    ["target/server-release/server", "target/release/server", "target/debug/server"];

/// What the server is started with.
pub struct LaunchConfig {
    pub binary: PathBuf,
    pub repo_root: PathBuf,
    /// A postgres URL; `None` means a fresh SQLite file in the temp dir.
    pub database_url: Option<String>,
    pub redis_url: Option<String>,
    pub admin_email: String,
    pub admin_password: String,
    pub startup_timeout: Duration,
}

/// A running server. Stop it with [`Server::shutdown`]; dropping it kills it as a last resort.
pub struct Server {
    child: Child,
    target: Target,
    log_path: PathBuf,
    // Holds the SQLite file, the data folder and the log; removed on drop.
    _dir: tempfile::TempDir,
}

/// The explicit binary if given, else the first default that exists under `repo_root`.
pub fn resolve_binary(explicit: Option<&Path>, repo_root: &Path) -> crate::Result<PathBuf> {
    if let Some(path) = explicit {
        let path = repo_root.join(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("--server-bin {} does not exist", path.display()).into())
        };
    }
    DEFAULT_BINARIES.iter().map(|rel| repo_root.join(rel)).find(|p| p.is_file()).ok_or_else(|| {
        format!(
            "no server binary under {} (looked for {}); build one with \
                 `cargo build -p server --profile server-release` or pass --server-bin",
            repo_root.display(),
            DEFAULT_BINARIES.join(", ")
        )
        .into()
    })
}

/// A port the OS says is free right now (it could be taken before the server binds it; the
/// health check would then fail loudly rather than measure the wrong thing).
fn free_port() -> crate::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

impl Server {
    /// Starts the server and returns once `GET /healthz` answers 200.
    pub async fn start(cfg: &LaunchConfig) -> crate::Result<Server> {
        let dir = tempfile::Builder::new().prefix("notify-bench-").tempdir()?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()?));
        let database_url = match &cfg.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}/bench.db", dir.path().display()),
        };
        let log_path = dir.path().join("server.log");
        let log = std::fs::File::create(&log_path)?;
        let mut cmd = Command::new(&cfg.binary);
        cmd.current_dir(&cfg.repo_root)
            .env("LEPTOS_SITE_ADDR", addr.to_string())
            .env("DATABASE_URL", database_url)
            // Keeps anything the server writes to its data folder out of the repository.
            .env("DATA_DIR", dir.path().join("data"))
            .env("APP_SECRET", crate::random_token(48))
            .env("PLATFORM_ADMIN_EMAIL", &cfg.admin_email)
            .env("PLATFORM_ADMIN_PASSWORD", &cfg.admin_password)
            .env("RUST_LOG", "warn")
            // The `webhooks` scenario's sink listens on loopback, which webhook URLs may only
            // name with this (the bench only ever talks to 127.0.0.1).
            .env("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
            .env_remove("REDIS_URL")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        if let Some(url) = &cfg.redis_url {
            cmd.env("REDIS_URL", url);
        }
        // Its own process group: a terminal Ctrl-C reaches only us, and we stop it in order.
        #[cfg(unix)]
        cmd.process_group(0);
        let child = cmd.spawn().map_err(|e| format!("could not start {}: {e}", cfg.binary.display()))?;
        let mut server = Server { child, target: Target::loopback(addr)?, log_path, _dir: dir };
        if let Err(e) = server.wait_healthy(cfg.startup_timeout).await {
            let tail = server.log_tail(40);
            server.shutdown().await;
            return Err(format!("{e}\n--- server log (last lines) ---\n{tail}").into());
        }
        Ok(server)
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// `Err` with the exit status if the server has exited.
    pub fn check_alive(&mut self) -> crate::Result<()> {
        match self.child.try_wait()? {
            None => Ok(()),
            Some(status) => {
                Err(format!("the server exited ({status})\n--- server log (last lines) ---\n{}", self.log_tail(40))
                    .into())
            }
        }
    }

    async fn wait_healthy(&mut self, timeout: Duration) -> crate::Result<()> {
        let deadline = Instant::now() + timeout;
        let mut last = String::from("no answer yet");
        while Instant::now() < deadline {
            // No log tail here: `start` adds it to whatever this returns.
            if let Some(status) = self.child.try_wait()? {
                return Err(format!("the server exited during start-up ({status})").into());
            }
            match probe(&self.target).await {
                Ok(StatusCode::OK) => return Ok(()),
                Ok(status) => last = format!("GET /healthz answered {status}"),
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("server not healthy after {timeout:?}: {last}").into())
    }

    /// SIGTERM, up to 10 s to exit, then SIGKILL.
    pub async fn shutdown(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        #[cfg(unix)]
        if let Some(pid) = self.child.id() {
            // SAFETY: signalling a child we spawned and have not reaped; the pid is still ours.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
            if tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await.is_ok() {
                return;
            }
            eprintln!("server ignored SIGTERM for 10 s; killing it");
        }
        let _ = self.child.kill().await;
    }

    /// The last `n` lines the server wrote.
    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

async fn probe(target: &Target) -> crate::Result<StatusCode> {
    let mut conn = Conn::connect(target).await?;
    let req = target.request(Method::GET, "/healthz", &[], None);
    let reply = tokio::time::timeout(Duration::from_secs(2), conn.send(req)).await??;
    Ok(reply.status())
}
