//! Reading a project's audit log: filtered pages (`GET /audit`) and the whole filtered log as CSV
//! or NDJSON (`GET /audit/export`), streamed in keyset chunks so that memory stays flat however
//! many rows there are and no transaction is held open while the client reads.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use serde::{Deserialize, Serialize};

use crate::auth::Tenant;
use crate::error::{Error, Result};
use crate::page::{Cursor, Page, PageRequest};
use crate::services::Services;
use crate::time::{self, Timestamp};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditLog {
    pub id: String,
    pub project_id: Option<String>,
    pub actor_type: String,
    pub user_id: Option<String>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub metadata: serde_json::Value,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub timestamp: Timestamp,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: String,
    project_id: Option<String>,
    actor_type: String,
    actor_id: Option<String>,
    action: String,
    resource_type: String,
    resource_id: Option<String>,
    metadata: String,
    ip_address: Option<String>,
    user_agent: Option<String>,
    timestamp: String,
}

impl From<AuditRow> for AuditLog {
    fn from(r: AuditRow) -> Self {
        AuditLog {
            id: r.id,
            project_id: r.project_id,
            actor_type: r.actor_type,
            user_id: r.actor_id,
            action: r.action,
            resource_type: r.resource_type,
            resource_id: r.resource_id,
            metadata: serde_json::from_str(&r.metadata).unwrap_or_default(),
            ip_address: r.ip_address,
            user_agent: r.user_agent,
            timestamp: time::from_db(&r.timestamp),
        }
    }
}

/// `?action=&resourceType=&userId=&from=&to=`: each given one narrows the log. `action` is an
/// exact action (`rule.update`) or a family ending in `.*` (`rule.*`); `from` and `to` are
/// RFC 3339 times or dates (`to=2026-12-01` takes in that whole day).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditQuery {
    pub action: Option<String>,
    pub resource_type: Option<String>,
    pub user_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The `WHERE` of a query: its clauses, `$1` always the project, and their values in order.
#[derive(Clone)]
struct Filter {
    sql: String,
    binds: Vec<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A bound of `from`/`to` in the stored form, and whether it is excluded ([`time::parse_bound`]).
fn bound(field: &str, v: &str, end: bool) -> Result<(String, bool)> {
    time::parse_bound(field, v, end).map(|(t, excluded)| (time::to_db(t), excluded))
}

impl AuditQuery {
    fn filter(&self, project_id: &str) -> Result<Filter> {
        let mut f = Filter { sql: "project_id = $1".into(), binds: vec![project_id.to_string()] };
        let add = |f: &mut Filter, clause: &str, value: String| {
            f.binds.push(value);
            f.sql.push_str(&format!(" AND {clause} ${}", f.binds.len()));
        };
        if let Some(action) = given(&self.action) {
            if action.len() > 100 {
                return Err(Error::field("action", "must be at most 100 characters"));
            }
            match action.strip_suffix(".*") {
                // A family: `rule.` up to, not including, the next character after `.` (`rule/`).
                Some(family) => {
                    add(&mut f, "action >=", format!("{family}."));
                    add(&mut f, "action <", format!("{family}/"));
                }
                None => add(&mut f, "action =", action.to_string()),
            }
        }
        if let Some(rt) = given(&self.resource_type) {
            add(&mut f, "resource_type =", rt.chars().take(100).collect());
        }
        if let Some(user) = given(&self.user_id) {
            add(&mut f, "actor_id =", user.chars().take(100).collect());
        }
        let from = given(&self.from).map(|v| bound("from", v, false)).transpose()?;
        let to = given(&self.to).map(|v| bound("to", v, true)).transpose()?;
        if let (Some((a, _)), Some((b, end_excluded))) = (&from, &to) {
            if a > b || (a == b && *end_excluded) {
                return Err(Error::field("from", "must not be after to"));
            }
        }
        if let Some((at, _)) = from {
            add(&mut f, "timestamp >=", at);
        }
        match to {
            Some((at, true)) => add(&mut f, "timestamp <", at),
            Some((at, false)) => add(&mut f, "timestamp <=", at),
            None => {}
        }
        Ok(f)
    }
}

const COLUMNS: &str =
    "id, project_id, actor_type, actor_id, action, resource_type, resource_id, metadata, ip_address, user_agent, timestamp";

/// Up to `limit` rows of the filter older than `before` (an id; ids are UUIDv7, time-ordered),
/// newest first.
async fn chunk(svc: &Services, f: &Filter, before: &str, limit: i64) -> Result<Vec<AuditLog>> {
    let n = f.binds.len();
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_logs WHERE {} AND id < ${} ORDER BY id DESC LIMIT ${}",
        f.sql,
        n + 1,
        n + 2
    );
    let mut q = sqlx::query_as::<_, AuditRow>(&sql);
    for b in &f.binds {
        q = q.bind(b);
    }
    let rows = q.bind(before).bind(limit).fetch_all(svc.db.pool()).await?;
    Ok(rows.into_iter().map(AuditLog::from).collect())
}

/// A page of the project's audit log, newest first; the id is the cursor.
pub async fn list(svc: &Services, t: &Tenant, q: &AuditQuery, page: PageRequest) -> Result<Page<AuditLog>> {
    t.require_admin()?;
    let f = q.filter(t.project_id())?;
    let before = page.cursor.as_ref().map(|c| c.0.clone()).unwrap_or_else(|| "~".into());
    let rows = chunk(svc, &f, &before, page.fetch_limit()).await?;
    Ok(Page::from_rows(rows, page.limit, |a| Cursor(a.id.clone())))
}

/// What an export is written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Ndjson,
}

impl ExportFormat {
    /// `csv` (the default) or `ndjson`.
    pub fn parse(v: Option<&str>) -> Result<ExportFormat> {
        match v.map(str::trim).filter(|v| !v.is_empty()) {
            None | Some("csv") => Ok(ExportFormat::Csv),
            Some("ndjson") => Ok(ExportFormat::Ndjson),
            Some(_) => Err(Error::field("format", "must be csv or ndjson")),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Ndjson => "application/x-ndjson",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Ndjson => "ndjson",
        }
    }
}

/// An export ready to stream: its file name and the body's chunks.
pub struct Export {
    pub format: ExportFormat,
    pub file_name: String,
    pub body: BoxStream<'static, Result<Bytes>>,
}

/// Rows read per query while exporting.
const EXPORT_CHUNK: i64 = 1000;

/// The CSV columns, in order.
const CSV_HEADER: [&str; 10] = [
    "timestamp",
    "id",
    "actorType",
    "userId",
    "action",
    "resourceType",
    "resourceId",
    "ipAddress",
    "userAgent",
    "metadata",
];

/// The whole filtered log, newest first. The filter is checked before anything is sent, so a bad
/// one is a 400, not a broken download; a database error mid-stream ends the body early (the
/// client sees a truncated transfer, never a silently short file with a success trailer).
pub async fn export(svc: Arc<Services>, t: &Tenant, q: &AuditQuery, format: ExportFormat) -> Result<Export> {
    t.require_admin()?;
    let f = q.filter(t.project_id())?;
    let file_name = format!("audit-{}-{}.{}", t.project_id(), time::now().format("%Y%m%dT%H%M%SZ"), format.extension());
    struct State {
        svc: Arc<Services>,
        f: Filter,
        before: String,
        header: bool,
        done: bool,
    }
    let state = State { svc, f, before: "~".into(), header: format == ExportFormat::Csv, done: false };
    let body = stream::unfold(state, move |mut st| async move {
        if st.done {
            return None;
        }
        let mut out = Vec::with_capacity(64 * 1024);
        if std::mem::take(&mut st.header) {
            if let Err(e) = csv_rows(&mut out, std::iter::once(CSV_HEADER.map(String::from))) {
                return Some((Err(e), st));
            }
        }
        let rows = match chunk(&st.svc, &st.f, &st.before, EXPORT_CHUNK).await {
            Ok(rows) => rows,
            Err(e) => {
                st.done = true;
                return Some((Err(e), st));
            }
        };
        st.done = (rows.len() as i64) < EXPORT_CHUNK;
        if let Some(last) = rows.last() {
            st.before = last.id.clone();
        }
        let written = match format {
            ExportFormat::Csv => csv_rows(&mut out, rows.iter().map(csv_record)),
            ExportFormat::Ndjson => ndjson_rows(&mut out, &rows),
        };
        Some((written.map(|_| Bytes::from(out)), st))
    })
    .boxed();
    Ok(Export { format, file_name, body })
}

fn csv_rows<I: IntoIterator<Item = [String; 10]>>(out: &mut Vec<u8>, rows: I) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    for r in rows {
        w.write_record(&r).map_err(Error::internal)?;
    }
    w.flush().map_err(Error::internal)
}

fn ndjson_rows(out: &mut Vec<u8>, rows: &[AuditLog]) -> Result<()> {
    for r in rows {
        serde_json::to_writer(&mut *out, r).map_err(Error::internal)?;
        out.push(b'\n');
    }
    Ok(())
}

/// One row as CSV cells. A cell a spreadsheet would run as a formula (starting with `=`, `+`,
/// `-`, `@`, tab or carriage return) gets a leading `'`, as OWASP advises for CSV exports; the
/// NDJSON export keeps every value exactly.
fn csv_record(r: &AuditLog) -> [String; 10] {
    let cell = |v: Option<&str>| {
        let v = v.unwrap_or_default();
        if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{v}")
        } else {
            v.to_string()
        }
    };
    [
        time::to_db(r.timestamp),
        r.id.clone(),
        cell(Some(&r.actor_type)),
        cell(r.user_id.as_deref()),
        cell(Some(&r.action)),
        cell(Some(&r.resource_type)),
        cell(r.resource_id.as_deref()),
        cell(r.ip_address.as_deref()),
        cell(r.user_agent.as_deref()),
        cell(Some(&r.metadata.to_string())),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_bound_values_in_order() {
        let q = AuditQuery {
            action: Some("rule.*".into()),
            user_id: Some("u1".into()),
            from: Some("2026-12-01".into()),
            to: Some("2026-12-01".into()),
            ..Default::default()
        };
        let f = q.filter("p").unwrap();
        assert_eq!(
            f.sql,
            "project_id = $1 AND action >= $2 AND action < $3 AND actor_id = $4 AND timestamp >= $5 AND timestamp < $6"
        );
        assert_eq!(f.binds[1..3], ["rule.".to_string(), "rule/".to_string()]);
        assert_eq!(f.binds[4], "2026-12-01T00:00:00.000000Z");
        assert_eq!(f.binds[5], "2026-12-02T00:00:00.000000Z");
        let bad = AuditQuery { from: Some("yesterday".into()), ..Default::default() };
        assert_eq!(bad.filter("p").err().map(|e| e.status()), Some(400));
        let reversed =
            AuditQuery { from: Some("2026-12-02".into()), to: Some("2026-12-01".into()), ..Default::default() };
        assert!(reversed.filter("p").is_err());
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        let r = AuditLog {
            id: "i".into(),
            project_id: None,
            actor_type: "user".into(),
            user_id: None,
            action: "x".into(),
            resource_type: "y".into(),
            resource_id: Some("=HYPERLINK(\"http://evil\")".into()),
            metadata: serde_json::json!({"a": "b,c"}),
            ip_address: None,
            user_agent: Some("-cmd".into()),
            timestamp: time::now(),
        };
        let cells = csv_record(&r);
        assert_eq!(cells[6], "'=HYPERLINK(\"http://evil\")");
        assert_eq!(cells[8], "'-cmd");
        let mut out = vec![];
        csv_rows(&mut out, [cells]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("\"{\"\"a\"\":\"\"b,c\"\"}\""), "quoted: {text}");
    }
}
