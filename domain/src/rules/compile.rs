//! Turning a rule's text into something the worker can run: CEL conditions compiled once, and
//! minijinja templates checked at save time and rendered with bounded fuel and output. All of it
//! runs inside a rule sandbox process ([`super::sandbox`]); [`within_size`] is the one check
//! made in the server itself, before a rule's text goes anywhere.

use std::sync::{Arc, OnceLock};

use crate::error::{Error, FieldErrors, Result};

/// Longest condition accepted: CEL has no loops of its own, so a short expression over a bounded
/// payload (256 KiB) is bounded work.
pub const MAX_CONDITION_CHARS: usize = 4_000;
pub const MAX_TEMPLATE_CHARS: usize = 4_000;
pub const MAX_TITLE_CHARS: usize = 255;
pub const MAX_MESSAGE_CHARS: usize = 10_000;
/// minijinja instructions a render may spend before it is stopped.
const TEMPLATE_FUEL: u64 = 50_000;

/// Compiles a condition, or names the parse error and its position.
pub fn condition(src: &str) -> Result<cel::Program> {
    if src.trim().is_empty() || src.chars().count() > MAX_CONDITION_CHARS {
        return Err(Error::field(
            "condition",
            format!("must be a CEL expression of 1 to {MAX_CONDITION_CHARS} characters"),
        ));
    }
    cel::Program::compile(src).map_err(|e| {
        let mut fields = FieldErrors::new();
        fields.insert("condition".into(), format!("invalid CEL: {}", e.to_string().trim()));
        Error::Validation(fields)
    })
}

fn env() -> &'static minijinja::Environment<'static> {
    static ENV: OnceLock<minijinja::Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        env.set_fuel(Some(TEMPLATE_FUEL));
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env
    })
}

/// Checks that a template parses; the error names the field.
pub fn template(field: &str, src: &str) -> Result<()> {
    if src.chars().count() > MAX_TEMPLATE_CHARS {
        return Err(Error::field(field, format!("must be at most {MAX_TEMPLATE_CHARS} characters")));
    }
    env().template_from_str(src).map(|_| ()).map_err(|e| Error::field(field, format!("invalid template: {e}")))
}

/// Deepest nesting of brackets, parentheses and template blocks a rule's text may have: parsers
/// recurse once per level.
pub const MAX_NESTING: usize = 32;

/// The checks made before a rule's text is compiled anywhere: lengths, and nesting depth.
pub fn within_size(condition: &str, title: &str, message: &str) -> Result<()> {
    if condition.trim().is_empty() || condition.chars().count() > MAX_CONDITION_CHARS {
        return Err(Error::field(
            "condition",
            format!("must be a CEL expression of 1 to {MAX_CONDITION_CHARS} characters"),
        ));
    }
    for (field, src) in [("title", title), ("message", message)] {
        if src.chars().count() > MAX_TEMPLATE_CHARS {
            return Err(Error::field(field, format!("must be at most {MAX_TEMPLATE_CHARS} characters")));
        }
    }
    for (field, src) in [("condition", condition), ("title", title), ("message", message)] {
        if nesting(src) > MAX_NESTING {
            return Err(Error::field(field, format!("nests deeper than {MAX_NESTING} levels")));
        }
    }
    Ok(())
}

/// The deepest nesting of `(`, `[`, `{` and of `{% … %}` blocks in `src` (quotes are not told
/// apart: an over-estimate is safe).
fn nesting(src: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for c in src.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let (mut blocks, mut deepest_block) = (0usize, 0usize);
    for tag in src.split("{%").skip(1) {
        let word = tag.trim_start_matches(['-', '+']).trim_start();
        if word.starts_with("end") {
            blocks = blocks.saturating_sub(1);
        } else if ["for", "if", "macro", "call", "filter", "with", "block", "autoescape"]
            .iter()
            .any(|w| word.starts_with(w))
        {
            blocks += 1;
            deepest_block = deepest_block.max(blocks);
        }
    }
    deepest.max(deepest_block)
}

/// Renders a template over the event; output is cut to `max` characters. The output is written
/// through a writer that refuses more than `max` characters' worth of bytes, so a template
/// cannot build a huge answer before the cut; NUL characters are dropped (PostgreSQL refuses
/// them in text).
pub fn render(src: &str, ctx: &minijinja::Value, max: usize) -> std::result::Result<String, String> {
    let tmpl = env().template_from_str(src).map_err(|e| e.to_string())?;
    let mut out = Capped { buf: Vec::new(), room: max.saturating_mul(4), full: false };
    match tmpl.render_captured_to(ctx, &mut out) {
        Ok(_) => {}
        Err(_) if out.full => {}
        Err(e) => return Err(e.to_string()),
    }
    let text = String::from_utf8_lossy(&out.buf);
    Ok(text.chars().filter(|&c| c != '\0').take(max).collect())
}

/// A writer that takes `room` bytes, then fails.
struct Capped {
    buf: Vec<u8>,
    room: usize,
    full: bool,
}

impl std::io::Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let left = self.room - self.buf.len();
        if data.len() > left {
            self.buf.extend_from_slice(&data[..left]);
            self.full = true;
            return Err(std::io::Error::other("template output is longer than allowed"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The variables rules see: `type`, `payload`, `source`.
pub struct EventVars<'a> {
    pub event_type: &'a str,
    pub payload: &'a serde_json::Value,
    pub source: Option<&'a str>,
}

impl EventVars<'_> {
    pub fn cel_context(&self) -> cel::Context<'static, 'static> {
        // Building CEL's standard library is dozens of allocations; an event needs only its
        // variables on top of one shared copy.
        static STDLIB: OnceLock<Arc<cel::Env>> = OnceLock::new();
        let mut ctx = cel::Context::with_env(STDLIB.get_or_init(|| Arc::new(cel::Env::stdlib())).clone());
        let _ = ctx.add_variable("type", self.event_type);
        let _ = ctx.add_variable("payload", self.payload);
        let _ = ctx.add_variable("source", self.source);
        ctx
    }

    pub fn template_context(&self) -> minijinja::Value {
        minijinja::context! { type => self.event_type, payload => minijinja::Value::from_serialize(self.payload), source => self.source }
    }
}

/// Whether a compiled condition holds. An evaluation error (a missing field, a type mismatch)
/// means the rule does not match.
pub fn holds(program: &cel::Program, ctx: &cel::Context) -> bool {
    matches!(program.execute(ctx), Ok(cel::Value::Bool(true)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_match_over_type_payload_and_source() {
        let p = condition(r#"type == "pending_transaction" && payload.amount > 1000"#).unwrap();
        let payload = json!({"amount": 5000, "userId": "u1"});
        let vars = EventVars { event_type: "pending_transaction", payload: &payload, source: Some("core") };
        assert!(holds(&p, &vars.cel_context()));
        let small = json!({"amount": 10});
        assert!(!holds(&p, &EventVars { payload: &small, ..vars }.cel_context()));
        let missing = json!({});
        assert!(!holds(
            &p,
            &EventVars { event_type: "pending_transaction", payload: &missing, source: None }.cel_context()
        ));
    }

    #[test]
    fn a_parse_error_names_the_condition() {
        let Err(Error::Validation(f)) = condition("payload.amount >") else { panic!("expected an error") };
        assert!(f["condition"].contains("invalid CEL"), "{}", f["condition"]);
    }

    #[test]
    fn templates_render_and_bad_ones_are_refused() {
        let payload = json!({"amount": 5000});
        let vars = EventVars { event_type: "t", payload: &payload, source: None };
        assert_eq!(render("Amount {{ payload.amount }}", &vars.template_context(), 100).unwrap(), "Amount 5000");
        assert!(template("title", "{{ unclosed").is_err());
        assert_eq!(render("{{ 'x' * 50 }}", &vars.template_context(), 10).unwrap().len(), 10);
        assert!(
            render(
                "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                &vars.template_context(),
                10
            )
            .is_err(),
            "fuel stops runaway loops"
        );
        assert_eq!(
            render("{% for i in range(100000) %}xxxxxxxxxx{% endfor %}", &vars.template_context(), 10).unwrap().len(),
            10,
            "output stops at its cap"
        );
    }
}
