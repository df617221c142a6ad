//! `bench`: starts the platform's `server` binary on a free 127.0.0.1 port with a throwaway
//! database, creates a project through the public API, runs the selected scenarios over
//! HTTP/1.1 keep-alive connections and Pusher-protocol WebSockets, prints one results table (and
//! writes it as Markdown with `--markdown`), and stops the server again — also on an error or
//! Ctrl-C.
//!
//! ```text
//! cargo build -p server --profile server-release
//! cargo run -p bench --profile server-release -- --seconds 10 --concurrency 64 --markdown bench.md
//! ```
//!
//! Layout: `cli` (flags), `server` (the child process), `setup` (fixtures through the API),
//! `http` (one keep-alive connection), `load` (the closed-loop load generator), `openloop` (the
//! scheduled request → frame latency generator), `ws` (a Pusher WebSocket client), `pusher`
//! (signed Pusher HTTP API calls), `scenarios/` (one file per measurement), `report` (table and
//! Markdown), `machine` (what it ran on, limits, process memory).

mod cli;
mod http;
mod load;
mod machine;
mod openloop;
mod pusher;
mod report;
mod scenarios;
mod server;
mod setup;
mod ws;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use rand::distributions::Alphanumeric;
use rand::Rng;

use crate::load::LoadSpec;
use crate::report::Row;
use crate::scenarios::{Context, Scenario};
use crate::server::{LaunchConfig, Server};

/// Errors are reported, not matched on: a boxed error with a readable message is enough.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T> = std::result::Result<T, Error>;

/// A random alphanumeric string (secrets, passwords, names).
pub fn random_token(len: usize) -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match cli::parse(std::env::args().skip(1)) {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("bench: {e}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    if cli.help {
        print!("{}", cli::USAGE);
        return ExitCode::SUCCESS;
    }
    if cli.list {
        for s in scenarios::all() {
            println!("{:<10} {}", s.name(), s.about());
        }
        return ExitCode::SUCCESS;
    }
    let selected = match scenarios::select(cli.only.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&cli, selected).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Starts the server, measures, reports, stops the server. `Ok(false)` when a scenario failed
/// or the run was interrupted (what was measured is still reported).
async fn run(cli: &cli::Cli, selected: Vec<Box<dyn Scenario>>) -> Result<bool> {
    // Before the server starts, so it inherits the limit too: the socket scenario needs one
    // descriptor per socket on each side.
    let open_files = machine::raise_open_file_limit();
    let repo_root = repo_root(cli.repo_root.as_deref())?;
    let binary = server::resolve_binary(cli.server_bin.as_deref(), &repo_root)?;
    println!("server binary: {}", binary.display());
    let cfg = LaunchConfig {
        binary: binary.clone(),
        repo_root,
        database_url: cli.database_url.clone(),
        redis_url: cli.redis_url.clone(),
        admin_email: "bench-admin@example.com".into(),
        // Suffix: whatever strength rule the server has, this meets it.
        admin_password: format!("{}Aa1!", random_token(24)),
        startup_timeout: cli.startup_timeout,
    };
    let backend = describe_backend(cli);
    eprintln!("starting the server ({backend})...");
    let mut server = tokio::select! {
        s = Server::start(&cfg) => s?,
        // Dropping the half-started server kills it (kill_on_drop).
        _ = interrupted() => return Err("interrupted".into()),
    };

    let mut rows = Vec::new();
    let outcome = tokio::select! {
        r = measure(&mut server, &cfg, cli, open_files, &selected, &mut rows) => r,
        _ = interrupted() => Err("interrupted; reporting what was measured".into()),
    };
    server.shutdown().await;
    let all_ok = match outcome {
        Ok(all_ok) => all_ok,
        Err(e) if rows.is_empty() => return Err(e),
        Err(e) => {
            eprintln!("bench: {e}");
            false
        }
    };

    report::fill_ratios(&mut rows);
    println!("\n{}", report::render_text(&rows));
    if let Some(path) = &cli.markdown {
        let info = report::RunInfo {
            cores: machine::cores(),
            cpu_model: machine::cpu_model(),
            backend,
            server_binary: binary.display().to_string(),
            command: machine::command_line(),
            seconds: cli.seconds,
            warmup: cli.warmup,
            rate: cli.rate,
            sockets: cli.sockets,
        };
        std::fs::write(path, report::render_markdown(&info, &rows))
            .map_err(|e| format!("could not write {}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(all_ok)
}

/// Sets up the fixture and runs each scenario, appending its rows as it finishes so an
/// interrupted run still reports the finished ones. `Ok(false)` if any scenario failed.
async fn measure(
    server: &mut Server,
    cfg: &LaunchConfig,
    cli: &cli::Cli,
    open_files: u64,
    selected: &[Box<dyn Scenario>],
    rows: &mut Vec<Row>,
) -> Result<bool> {
    let target = server.target().clone();
    let fixture = setup::create_fixture(&target, &cfg.admin_email, &cfg.admin_password).await.map_err(|e| match cfg
        .database_url
    {
        Some(_) => format!(
            "{e} (with --database-url, use an empty database: the bench admin is only \
                 created when no platform admin exists)"
        )
        .into(),
        None => e,
    })?;
    let load = LoadSpec {
        concurrency: cli.concurrency,
        warmup: Duration::from_secs(cli.warmup),
        measure: Duration::from_secs(cli.seconds),
        max_requests: cli.max_requests,
        request_timeout: cli.timeout,
    };
    eprintln!("created project {}", fixture.project_id);
    let ctx =
        Context { target, fixture, load, rate: cli.rate, sockets: cli.sockets, server_pid: server.pid(), open_files };
    let mut all_ok = true;
    for scenario in selected {
        eprintln!(
            "running {} ({} s warm-up + {} s, {} connections)...",
            scenario.name(),
            cli.warmup,
            cli.seconds,
            cli.concurrency
        );
        match scenario.run(&ctx).await {
            Ok(mut new_rows) => rows.append(&mut new_rows),
            Err(e) => {
                eprintln!("bench: scenario {} failed: {e}", scenario.name());
                all_ok = false;
            }
        }
        // Numbers from a crashed server mean nothing; stop here.
        server.check_alive()?;
    }
    Ok(all_ok)
}

/// `--repo-root`, else the workspace this crate was built in, else the current directory.
fn repo_root(explicit: Option<&Path>) -> Result<PathBuf> {
    let root = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            if built_in.join("Cargo.toml").is_file() {
                built_in
            } else {
                std::env::current_dir()?
            }
        }
    };
    Ok(root.canonicalize().map_err(|e| format!("repo root {}: {e}", root.display()))?)
}

/// The storage and queue the server runs with, without any URL (they may hold passwords).
fn describe_backend(cli: &cli::Cli) -> String {
    let db = match cli.database_url {
        Some(_) => "PostgreSQL",
        None => "SQLite (fresh file in a temp dir)",
    };
    let queue = match cli.redis_url {
        Some(_) => "Redis streams + pub/sub",
        None => "in-process queue",
    };
    format!("{db}, {queue}")
}

/// Resolves on Ctrl-C or SIGTERM; never, if neither can be listened for.
async fn interrupted() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
