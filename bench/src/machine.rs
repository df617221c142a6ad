//! What the numbers were measured on and how they were asked for: cores, CPU model, command line;
//! and the process limits and memory figures the socket scenario needs.

/// Logical cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// The CPU model from `/proc/cpuinfo`, or `"unknown"` where there is none (non-Linux).
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| parse_cpu_model(&text))
        .unwrap_or_else(|| "unknown".to_string())
}

/// The first `model name` line (x86), else the first `Hardware`/`Processor` line (some ARM).
pub fn parse_cpu_model(cpuinfo: &str) -> Option<String> {
    let field = |name: &str| {
        cpuinfo.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == name && !value.trim().is_empty()).then(|| value.trim().to_string())
        })
    };
    field("model name").or_else(|| field("Hardware")).or_else(|| field("Processor"))
}

/// Raises this process's soft open-file limit to its hard limit (the server, started later,
/// inherits it). Answers the soft limit in force afterwards.
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)] // `rlim_t` is u64 on 64-bit Linux, not everywhere
pub fn raise_open_file_limit() -> u64 {
    // SAFETY: plain libc calls on a stack value we own.
    unsafe {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let wanted = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
        lim.rlim_cur as u64
    }
}

#[cfg(not(unix))]
pub fn raise_open_file_limit() -> u64 {
    1024
}

/// `VmRSS` of a process in KiB, from `/proc/<pid>/status` (Linux only).
pub fn vm_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_rss(&status)
}

pub fn parse_vm_rss(status: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix("VmRSS:")?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// The command line as typed, each argument quoted when the shell would need it and any URL
/// password (`--database-url postgres://u:pw@…`) masked, since this text is written to a report.
pub fn command_line() -> String {
    std::env::args().map(|a| shell_quote(&mask_password(&a))).collect::<Vec<_>>().join(" ")
}

/// `scheme://user:secret@host` becomes `scheme://user:***@host`; anything else is unchanged.
pub fn mask_password(arg: &str) -> String {
    let Some(scheme_end) = arg.find("://") else {
        return arg.to_string();
    };
    let rest = &arg[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return arg.to_string();
    };
    let Some(colon) = rest[..at].find(':') else {
        return arg.to_string();
    };
    format!("{}{}:***{}", &arg[..scheme_end + 3], &rest[..colon], &rest[at..])
}

fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+%".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_model_name() {
        let text = "processor\t: 0\nvendor_id\t: GenuineIntel\n\
                    model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n";
        assert_eq!(parse_cpu_model(text).as_deref(), Some("Intel(R) Xeon(R) CPU @ 2.20GHz"));
        assert_eq!(parse_cpu_model("processor : 0\n"), None);
    }

    #[test]
    fn reads_vm_rss() {
        let status = "Name:\tserver\nVmPeak:\t  999 kB\nVmRSS:\t   51234 kB\nThreads:\t4\n";
        assert_eq!(parse_vm_rss(status), Some(51234));
        assert_eq!(parse_vm_rss("Name: x\n"), None);
    }

    #[test]
    fn masks_url_passwords() {
        assert_eq!(
            mask_password("--database-url=postgres://bench:s3cret@127.0.0.1/db"),
            "--database-url=postgres://bench:***@127.0.0.1/db"
        );
        assert_eq!(mask_password("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        assert_eq!(mask_password("--seconds"), "--seconds");
    }

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(shell_quote("--seconds=5"), "--seconds=5");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
