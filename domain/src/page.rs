//! Cursor pagination as the contract has it: `?limit=` (default 50, max 200) and `?cursor=`,
//! answered as `{data, nextCursor}`.

use serde::Serialize;

/// An opaque position: the sort key of the last item of the previous page.
#[derive(Clone, Debug)]
pub struct Cursor(pub String);

#[derive(Clone, Debug)]
pub struct PageRequest {
    pub limit: i64,
    pub cursor: Option<Cursor>,
}

impl PageRequest {
    pub fn new(limit: Option<i64>, cursor: Option<String>) -> Self {
        PageRequest { limit: limit.unwrap_or(50).clamp(1, 200), cursor: cursor.filter(|c| !c.is_empty()).map(Cursor) }
    }

    /// The cursor as the `(created_at, id)` pair it was made of (the id is its last 36
    /// characters), for a row comparison the `(…, created_at, id)` indexes serve. Without a
    /// cursor, a pair above every row.
    pub fn keyset(&self) -> (String, String) {
        const ID_LEN: usize = 36;
        match &self.cursor {
            Some(Cursor(c)) if c.len() > ID_LEN && c.is_char_boundary(c.len() - ID_LEN) => {
                let (at, id) = c.split_at(c.len() - ID_LEN);
                (at.to_string(), id.to_string())
            }
            Some(Cursor(c)) => (c.clone(), String::new()),
            None => ("~".into(), "~".into()),
        }
    }

    /// One more than asked for, to know whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        self.limit + 1
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest::new(None, None)
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Cuts the extra row fetched by [`PageRequest::fetch_limit`] and derives the next cursor.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, cursor_of: impl Fn(&T) -> Cursor) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more { rows.last().map(|r| cursor_of(r).0) } else { None };
        Page { data: rows, next_cursor }
    }
}
