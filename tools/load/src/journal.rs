//! What the load did, for the invariant checker ([`crate::check`]): every write it sent — its
//! idempotency key (the same on every retry), the final answer, the id the answer gave — and
//! how many answered requests it sent to each service of each trust (each leaves exactly one
//! audit record). Saved as JSON with `--journal`.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One write and how it ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Write {
    /// `register`, `referral` or `break-glass`.
    pub kind: String,
    pub trust: String,
    pub key: String,
    /// The final answer's status; `None` when no answer came (a connection error).
    pub status: Option<u16>,
    /// The record the answer names.
    pub id: Option<String>,
}

impl Write {
    /// Answered as done: the record must exist, once.
    pub fn acknowledged(&self) -> bool {
        matches!(self.status, Some(200 | 201)) && self.id.is_some()
    }

    /// No answer, or a server error: the write may or may not have happened (once at most).
    pub fn ambiguous(&self) -> bool {
        self.status.is_none_or(|s| s >= 500)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journal {
    /// Before the first request (seeding included).
    pub started_at: DateTime<Utc>,
    /// After the last answer of the load (before settling and verification).
    pub ended_at: DateTime<Utc>,
    pub writes: Vec<Write>,
    /// `<trust>/<service>` → answered requests that leave an audit record (every answer but
    /// a 429: the rate limit refuses before the gate audits).
    pub audited: BTreeMap<String, u64>,
    /// `<trust>/<service>` → requests that got no answer, or a 503 (each may have left a
    /// record, or not).
    #[serde(default)]
    pub unanswered: BTreeMap<String, u64>,
}

impl Default for Journal {
    fn default() -> Self {
        Self {
            started_at: Utc::now(),
            ended_at: Utc::now(),
            writes: Vec::new(),
            audited: BTreeMap::new(),
            unanswered: BTreeMap::new(),
        }
    }
}

impl Journal {
    /// Counts an answered request to `service` of `trust`.
    pub fn answered(&mut self, trust: &str, service: &str, status: Option<u16>) {
        let key = format!("{trust}/{service}");
        match status {
            Some(429) => {}
            // A 503 may be a refusal because the database itself was away, which cannot be
            // recorded in it: audited or not, as an unanswered request may be.
            Some(503) | None => *self.unanswered.entry(key).or_default() += 1,
            Some(_) => *self.audited.entry(key).or_default() += 1,
        }
    }

    pub fn load(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn save(&self, path: &std::path::Path) -> Result<(), String> {
        let text = serde_json::to_string(self).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(status: Option<u16>, id: Option<&str>) -> Write {
        Write {
            kind: "register".into(),
            trust: "RXR".into(),
            key: "k".into(),
            status,
            id: id.map(str::to_string),
        }
    }

    #[test]
    fn an_answer_says_whether_the_write_happened() {
        assert!(write(Some(201), Some("p")).acknowledged());
        assert!(!write(Some(201), None).acknowledged());
        assert!(!write(Some(422), None).acknowledged() && !write(Some(422), None).ambiguous());
        assert!(write(None, None).ambiguous() && write(Some(503), None).ambiguous());
    }

    #[test]
    fn a_rate_limited_answer_leaves_no_audit_record() {
        let mut j = Journal::default();
        j.answered("RXR", "mpi", Some(200));
        j.answered("RXR", "mpi", Some(429));
        j.answered("RXR", "mpi", None);
        j.answered("RXR", "mpi", Some(503));
        assert_eq!(j.audited.get("RXR/mpi"), Some(&1));
        assert_eq!(j.unanswered.get("RXR/mpi"), Some(&2));
    }
}
