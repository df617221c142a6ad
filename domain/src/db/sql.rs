//! Building the statements that take many rows or ids at once, so a batch costs one round trip
//! instead of one per row. They are written with numbered placeholders (`$n`) like every other
//! statement, then passed through [`positional`] for the backend.
//!
//! Why [`positional`]: SQLite keeps named and numbered parameters (`$1`, `?1`) in a list it
//! searches linearly, both when it parses a statement and when the driver asks each parameter's
//! name to bind it, so a statement with n of them costs O(n²): with a few thousand values a
//! multi-row INSERT spent most of its time there (the profile in docs/BENCHMARKS.md). Plain `?`
//! parameters are numbered by position and never enter that list.

use super::Backend;

/// `($o+1, …, $o+cols), ($o+cols+1, …), …` for `rows` rows of `cols` values, numbering after
/// `offset` placeholders that come before them in the statement.
pub fn row_placeholders(rows: usize, cols: usize, offset: usize) -> String {
    (0..rows).map(|r| format!("({})", list_placeholders(cols, offset + r * cols))).collect::<Vec<_>>().join(", ")
}

/// `$o+1, $o+2, …, $o+n`: for `IN (…)` lists and single rows.
pub fn list_placeholders(n: usize, offset: usize) -> String {
    (1..=n).map(|k| format!("${}", offset + k)).collect::<Vec<_>>().join(", ")
}

/// The statement for `backend`. On SQLite, `$1, $2, …` become `?` when they appear exactly in
/// that order, each once (so binding in order stays right); a statement that repeats or
/// reorders its parameters is left as written (correct, only slower). PostgreSQL keeps `$n`.
pub fn positional(backend: Backend, sql: &str) -> String {
    if backend == Backend::Postgres {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len());
    let mut expected = 1usize;
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let digits = rest[at + 1..].bytes().take_while(u8::is_ascii_digit).count();
        let number: Option<usize> = rest[at + 1..at + 1 + digits].parse().ok();
        if number != Some(expected) {
            return sql.to_string();
        }
        out.push('?');
        expected += 1;
        rest = &rest[at + 1 + digits..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_offset() {
        assert_eq!(list_placeholders(3, 2), "$3, $4, $5");
        assert_eq!(row_placeholders(2, 2, 1), "($2, $3), ($4, $5)");
        assert_eq!(row_placeholders(0, 3, 0), "");
    }

    #[test]
    fn sqlite_gets_plain_positional_parameters() {
        let sql = format!("UPDATE t SET a = $1 WHERE b = $2 AND id IN ({})", list_placeholders(11, 2));
        assert_eq!(
            positional(Backend::Sqlite, &sql),
            "UPDATE t SET a = ? WHERE b = ? AND id IN (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        assert_eq!(positional(Backend::Postgres, &sql), sql);
    }

    #[test]
    fn out_of_order_parameters_are_left_alone() {
        for sql in ["SELECT $2, $1", "SELECT $1, $1"] {
            assert_eq!(positional(Backend::Sqlite, sql), sql);
        }
    }
}
