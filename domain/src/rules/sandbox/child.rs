//! The sandbox process's side: `server rule-sandbox` reads requests from stdin and answers on
//! stdout until stdin closes. It holds nothing but compiled conditions; the parent kills it when
//! an answer is late, and it ends itself when it would hold more memory than allowed
//! ([`super::alloc`]) or when its parent dies.

use std::collections::HashMap;
use std::io;

use super::alloc;
use super::protocol::{read_frame, write_frame, Answer, EventIn, EventOut, MatchOut, Request, RuleText};
use crate::rules::compile::{self, EventVars, MAX_MESSAGE_CHARS, MAX_TITLE_CHARS};

/// The environment variable through which the parent passes the memory limit, in bytes.
pub const MEMORY_ENV: &str = "RULE_SANDBOX_MEMORY_BYTES";

/// Compiled conditions kept between requests; cleared when it reaches this many.
const PROGRAM_CACHE: usize = 2_000;

/// Serves requests until stdin closes; answers the process exit status.
pub fn serve() -> i32 {
    // Die with the server: a sandbox never outlives the process that feeds it.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::getppid() == 1 {
            return 0;
        }
    }
    if let Some(limit) = std::env::var(MEMORY_ENV).ok().and_then(|v| v.parse::<usize>().ok()) {
        alloc::limit_to(limit);
    }
    let mut input = io::stdin().lock();
    let mut output = io::stdout().lock();
    let mut programs: HashMap<String, Option<cel::Program>> = HashMap::new();
    loop {
        let frame = match read_frame(&mut input) {
            Ok(Some(frame)) => frame,
            Ok(None) => return 0,
            Err(_) => return 65,
        };
        let answer = match serde_json::from_slice::<Request>(&frame) {
            Ok(Request::Evaluate { sets, events }) => Answer::Evaluated(
                events.iter().map(|e| evaluate(&mut programs, &sets[e.set.min(sets.len() - 1)], e)).collect(),
            ),
            Ok(Request::Check { rule }) => Answer::Checked(check(&rule)),
            Err(_) => return 65,
        };
        let Ok(body) = serde_json::to_vec(&answer) else { return 65 };
        if write_frame(&mut output, &body).is_err() {
            return 0;
        }
    }
}

fn evaluate(programs: &mut HashMap<String, Option<cel::Program>>, rules: &[RuleText], e: &EventIn) -> EventOut {
    let vars = EventVars { event_type: &e.event_type, payload: &e.payload, source: e.source.as_deref() };
    let cel_ctx = vars.cel_context();
    let mut template_ctx = None;
    let mut out = EventOut::default();
    for (i, rule) in rules.iter().enumerate() {
        if programs.len() >= PROGRAM_CACHE && !programs.contains_key(&rule.condition) {
            programs.clear();
        }
        let program =
            programs.entry(rule.condition.clone()).or_insert_with(|| compile::condition(&rule.condition).ok());
        // A stored condition that no longer compiles never matches (it compiled when saved).
        let Some(program) = program else { continue };
        if !compile::holds(program, &cel_ctx) {
            continue;
        }
        let ctx = template_ctx.get_or_insert_with(|| vars.template_context());
        let rendered = compile::render(&rule.title, ctx, MAX_TITLE_CHARS)
            .and_then(|title| compile::render(&rule.message, ctx, MAX_MESSAGE_CHARS).map(|message| (title, message)));
        match rendered {
            Ok((title, message)) => out.matches.push(MatchOut { rule: i, title, message }),
            Err(reason) => {
                out.error.get_or_insert((i, format!("template failed: {reason}")));
            }
        }
    }
    out
}

fn check(rule: &RuleText) -> Result<(), (String, String)> {
    let field_error = |e: crate::error::Error, field: &str| match e {
        crate::error::Error::Validation(fields) => {
            fields.into_iter().next().unwrap_or_else(|| (field.to_string(), "is invalid".to_string()))
        }
        other => (field.to_string(), other.to_string()),
    };
    compile::condition(&rule.condition).map_err(|e| field_error(e, "condition"))?;
    compile::template("title", &rule.title).map_err(|e| field_error(e, "title"))?;
    compile::template("message", &rule.message).map_err(|e| field_error(e, "message"))?;
    Ok(())
}
