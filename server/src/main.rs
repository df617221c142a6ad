//! `server`: runs the platform. `server create-admin --email E --password P [--role R]` adds a
//! platform admin from the command line.

use domain::config::Settings;
use domain::platform_admins::{self, NewAdmin};
use domain::Services;
use tracing_subscriber::EnvFilter;

/// mimalloc, counted in rule sandbox processes (see `domain::rules::sandbox::alloc`).
#[global_allocator]
static ALLOCATOR: domain::rules::sandbox::alloc::Bounded<mimalloc::MiMalloc> =
    domain::rules::sandbox::alloc::Bounded(mimalloc::MiMalloc);

fn main() {
    // `server rule-sandbox`: a rule evaluation process (docs/ARCHITECTURE.md, "Fault
    // isolation"); no runtime, no logging, no settings.
    if std::env::args().nth(1).as_deref() == Some("rule-sandbox") {
        std::process::exit(domain::rules::sandbox::child::serve());
    }
    serve();
}

#[tokio::main]
async fn serve() {
    let _ = dotenvy::dotenv();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")))
        .init();
    if let Err(e) = run().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    match args.first().map(String::as_str) {
        None | Some("serve") => {
            let mut conf = leptos::config::get_configuration(None).map_err(|e| e.to_string())?;
            if let Ok(addr) = std::env::var("LEPTOS_SITE_ADDR") {
                conf.leptos_options.site_addr = addr.parse().map_err(|e| format!("LEPTOS_SITE_ADDR: {e}"))?;
            }
            let svc = Services::start(settings).await.map_err(|e| e.to_string())?;
            if let Some((email, password, kept)) = platform_admins::first_run(&svc).await.map_err(|e| e.to_string())? {
                let at =
                    std::env::var("LEPTOS_SITE_ADDR").unwrap_or_else(|_| conf.leptos_options.site_addr.to_string());
                println!(
                    "\n  First start: created the platform admin {email} with password {password}\n  \
                     (kept in {}). Sign in at http://{at}/platform/login and add your own admins;\n  client companies sign up at http://{at}/signup.\n",
                    kept.display()
                );
            }
            let hub =
                server::realtime::Hub::connect(svc.settings.redis_url.as_deref()).await.map_err(|e| e.to_string())?;
            server::worker::spawn(svc.clone(), hub.clone());
            server::startup::serve(svc.clone(), hub, conf.leptos_options).await.map_err(|e| e.to_string())?;
            // A clean stop keeps what was counted since the last flush (docs/ARCHITECTURE.md).
            if let Err(e) = svc.meter.flush(&svc).await {
                tracing::warn!(error = %e, "could not write the last usage counts");
            }
            if let Err(e) = svc.analytics.flush(&svc.db).await {
                tracing::warn!(error = %e, "could not write the last analytics counts");
            }
            Ok(())
        }
        Some("create-admin") => {
            let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
            let (Some(email), Some(password)) = (flag("--email"), flag("--password")) else {
                return Err(
                    "usage: server create-admin --email E --password P [--role super_admin|support|billing]".into()
                );
            };
            let svc = Services::start(settings).await.map_err(|e| e.to_string())?;
            let role = flag("--role").or(Some("super_admin".into()));
            let admin = platform_admins::insert(&svc, NewAdmin { email, password, name: flag("--name"), role })
                .await
                .map_err(|e| e.to_string())?;
            println!("created platform admin {} ({})", admin.email, admin.role.as_str());
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other:?}; use `serve` or `create-admin`")),
    }
}
