//! Runs a project's compiled rules over one event: which match, and their rendered title and
//! message. Pure CPU; the caller runs it off the async workers with a time limit.

use std::sync::Arc;

use crate::rules::cache::CompiledRule;
use crate::rules::compile::{self, EventVars, MAX_MESSAGE_CHARS, MAX_TITLE_CHARS};

/// A rule that matched, with its rendered texts.
pub struct Match {
    pub rule_index: usize,
    pub title: String,
    pub message: String,
}

pub struct Evaluation {
    pub matches: Vec<Match>,
    /// A template that could not render (fuel spent, bad filter): the event is marked failed with
    /// it; the other rules' notifications are still made.
    pub error: Option<String>,
}

pub fn evaluate(rules: &Arc<Vec<CompiledRule>>, vars: &EventVars) -> Evaluation {
    let cel_ctx = vars.cel_context();
    let mut tmpl_ctx = None;
    let mut out = Evaluation { matches: vec![], error: None };
    for (i, r) in rules.iter().enumerate() {
        if !compile::holds(&r.program, &cel_ctx) {
            continue;
        }
        let ctx = tmpl_ctx.get_or_insert_with(|| vars.template_context());
        let rendered = compile::render(&r.rule.title, ctx, MAX_TITLE_CHARS)
            .and_then(|title| compile::render(&r.rule.message, ctx, MAX_MESSAGE_CHARS).map(|m| (title, m)));
        match rendered {
            Ok((title, message)) => out.matches.push(Match { rule_index: i, title, message }),
            Err(e) => {
                out.error.get_or_insert_with(|| format!("rule {}: template failed: {e}", r.rule.id));
            }
        }
    }
    out
}
