//! What the engine and a rule sandbox process say to each other over the child's stdin and
//! stdout: frames of a little-endian `u32` length followed by that many bytes of JSON, one
//! answer per request, in order (docs/ARCHITECTURE.md, "Fault isolation").

use std::borrow::Cow;
use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Largest frame either side accepts; a longer length prefix means a broken peer.
pub const MAX_FRAME: usize = 512 << 20;

/// A rule's texts, as the sandbox compiles and runs them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RuleText {
    pub condition: String,
    pub title: String,
    pub message: String,
}

/// An event to evaluate against the rule set `set` of the request.
#[derive(Debug, Serialize, Deserialize)]
pub struct EventIn<'a> {
    pub set: usize,
    #[serde(borrow)]
    pub event_type: Cow<'a, str>,
    pub payload: Cow<'a, serde_json::Value>,
    #[serde(borrow)]
    pub source: Option<Cow<'a, str>>,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Request<'a> {
    /// Evaluate each event against its rule set; answered by [`Answer::Evaluated`].
    Evaluate {
        sets: Vec<Cow<'a, [RuleText]>>,
        #[serde(borrow)]
        events: Vec<EventIn<'a>>,
    },
    /// Check that a rule compiles (save time); answered by [`Answer::Checked`].
    Check { rule: RuleText },
}

/// A rule that matched an event, by its index in the event's rule set, with its texts rendered.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct MatchOut {
    pub rule: usize,
    pub title: String,
    pub message: String,
}

/// What one event's evaluation gave.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct EventOut {
    pub matches: Vec<MatchOut>,
    /// The first rule (by index) whose templates did not render, and why; the other rules'
    /// matches are still made.
    pub error: Option<(usize, String)>,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Answer {
    Evaluated(Vec<EventOut>),
    /// `Err((field, message))` names the field of the rule that does not compile.
    Checked(Result<(), (String, String)>),
}

pub fn write_frame(w: &mut impl Write, body: &[u8]) -> io::Result<()> {
    w.write_all(&(body.len() as u32).to_le_bytes())?;
    w.write_all(body)?;
    w.flush()
}

/// The next frame, or `None` at a clean end of input.
pub fn read_frame(r: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "frame too long"));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    Ok(Some(body))
}

pub async fn write_frame_async(w: &mut (impl tokio::io::AsyncWrite + Unpin), body: &[u8]) -> io::Result<()> {
    w.write_all(&(body.len() as u32).to_le_bytes()).await?;
    w.write_all(body).await?;
    w.flush().await
}

pub async fn read_frame_async(r: &mut (impl tokio::io::AsyncRead + Unpin)) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).await?;
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "frame too long"));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).await?;
    Ok(body)
}
