//! Command-line flags: plain parsing of `--flag value` / `--flag=value`, with the defaults the
//! benchmark documents in `--help`.

use std::path::PathBuf;
use std::time::Duration;

/// The help text; kept next to the parser so the two stay in step.
pub const USAGE: &str = "\
bench: start the platform on 127.0.0.1 and measure it over HTTP/1.1 keep-alive connections
and Pusher-protocol WebSockets

USAGE:
    cargo run -p bench --profile server-release -- [FLAGS]

FLAGS:
    --server-bin <PATH>       server binary (default: target/server-release/server, then
                              target/release/server, then target/debug/server)
    --repo-root <DIR>         working directory of the server (default: the workspace root)
    --database-url <URL>      postgres:// URL to use instead of a fresh SQLite file in a temp dir
    --redis-url <URL>         REDIS_URL for the server (default: unset, in-process queue)
    --seconds <N>             measured seconds per scenario (default 10)
    --warmup <N>              warm-up seconds before each measurement (default 2)
    --concurrency <N>         keep-alive connections, one task each (default 64)
    --max-requests <N>        cap on requests per scenario, warm-up included (default 5000000)
    --timeout <SECS>          per-request timeout (default 30)
    --rate <N>                requests/s the open-loop `frame` and `trigger` scenarios offer
                              (default 1000)
    --sockets <N>             idle WebSockets the `sockets` scenario opens (default 10000;
                              lowered to fit the open-file limit, with a note)
    --startup-timeout <SECS>  wait this long for GET /healthz to answer 200 (default 120)
    --only <a,b,...>          run only these scenarios (see --list)
    --markdown <FILE>         also write the results as Markdown
    --list                    list the scenarios and exit
    -h, --help                this text
";

/// Parsed flags.
#[derive(Debug, Clone, PartialEq)]
pub struct Cli {
    pub server_bin: Option<PathBuf>,
    pub repo_root: Option<PathBuf>,
    pub database_url: Option<String>,
    pub redis_url: Option<String>,
    pub seconds: u64,
    pub warmup: u64,
    pub concurrency: usize,
    pub max_requests: u64,
    pub timeout: Duration,
    pub rate: u64,
    pub sockets: usize,
    pub startup_timeout: Duration,
    pub only: Option<Vec<String>>,
    pub markdown: Option<PathBuf>,
    pub list: bool,
    pub help: bool,
}

impl Default for Cli {
    fn default() -> Self {
        Cli {
            server_bin: None,
            repo_root: None,
            database_url: None,
            redis_url: None,
            seconds: 10,
            warmup: 2,
            concurrency: 64,
            max_requests: 5_000_000,
            timeout: Duration::from_secs(30),
            rate: 1000,
            sockets: 10_000,
            startup_timeout: Duration::from_secs(120),
            only: None,
            markdown: None,
            list: false,
            help: false,
        }
    }
}

/// Parses the arguments after the program name.
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Cli, String> {
    let mut cli = Cli::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || -> Result<String, String> {
            inline.clone().or_else(|| args.next()).ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => cli.help = true,
            "--list" => cli.list = true,
            "--server-bin" => cli.server_bin = Some(value()?.into()),
            "--repo-root" => cli.repo_root = Some(value()?.into()),
            "--database-url" => cli.database_url = Some(value()?),
            "--redis-url" => cli.redis_url = Some(value()?),
            "--seconds" => cli.seconds = positive(&flag, &value()?)?,
            "--warmup" => cli.warmup = number(&flag, &value()?)?,
            "--concurrency" => cli.concurrency = positive(&flag, &value()?)? as usize,
            "--max-requests" => cli.max_requests = positive(&flag, &value()?)?,
            "--timeout" => cli.timeout = Duration::from_secs(positive(&flag, &value()?)?),
            "--rate" => cli.rate = positive(&flag, &value()?)?,
            "--sockets" => cli.sockets = positive(&flag, &value()?)? as usize,
            "--startup-timeout" => cli.startup_timeout = Duration::from_secs(positive(&flag, &value()?)?),
            "--only" => {
                let names: Vec<String> =
                    value()?.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
                if names.is_empty() {
                    return Err("--only needs at least one scenario name".into());
                }
                cli.only = Some(names);
            }
            "--markdown" => cli.markdown = Some(value()?.into()),
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    if let Some(url) = &cli.database_url {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err("--database-url must be a postgres:// URL (SQLite is the default)".into());
        }
    }
    Ok(cli)
}

fn number(flag: &str, v: &str) -> Result<u64, String> {
    v.parse().map_err(|_| format!("{flag} expects a whole number, got `{v}`"))
}

fn positive(flag: &str, v: &str) -> Result<u64, String> {
    match number(flag, v)? {
        0 => Err(format!("{flag} must be at least 1")),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Cli, String> {
        parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_without_flags() {
        assert_eq!(p(&[]).unwrap(), Cli::default());
    }

    #[test]
    fn both_value_spellings_and_only_list() {
        let cli =
            p(&["--seconds", "3", "--concurrency=8", "--only", "ingest, batch", "--rate=500", "--sockets", "2000"])
                .unwrap();
        assert_eq!((cli.rate, cli.sockets), (500, 2000));
        assert_eq!(cli.seconds, 3);
        assert_eq!(cli.concurrency, 8);
        assert_eq!(cli.only, Some(vec!["ingest".to_string(), "batch".to_string()]));
    }

    #[test]
    fn refuses_bad_input() {
        assert!(p(&["--seconds", "0"]).is_err());
        assert!(p(&["--seconds"]).is_err());
        assert!(p(&["--rate", "0"]).is_err());
        assert!(p(&["--bogus"]).is_err());
        assert!(p(&["--database-url", "mysql://x"]).is_err());
    }
}
