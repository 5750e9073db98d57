//! National RBAC activity codes (B codes). Some activities include others (B0825 Amend Patient
//! Demographics includes B0820 View Patient Demographics); a check must see the included ones.
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Activity(String);

impl Activity {
    /// B0820 View Patient Demographics.
    pub const VIEW_DEMOGRAPHICS: &'static str = "B0820";
    /// B0825 Amend Patient Demographics (includes B0820).
    pub const AMEND_DEMOGRAPHICS: &'static str = "B0825";
    /// B0083 Gain temporary access to patient sealed data without patient permission.
    pub const SEALED_OVERRIDE: &'static str = "B0083";

    /// `B` and four digits.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        (s.len() == 5 && s.starts_with('B') && s[1..].chars().all(|c| c.is_ascii_digit()))
            .then(|| Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Activity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Activity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which activities include which. Only inclusions found in the national RBAC material are
/// listed (see docs/adr/0004-activities.md); add rows as they are verified.
const INCLUDES: &[(&str, &[&str])] = &[("B0825", &["B0820"])];

/// The activities a role has, with every included activity added (transitively).
pub fn expand_activities<I: IntoIterator<Item = Activity>>(granted: I) -> BTreeSet<Activity> {
    let mut out: BTreeSet<Activity> = granted.into_iter().collect();
    loop {
        let mut added = false;
        for (parent, children) in INCLUDES {
            if out.iter().any(|a| a.as_str() == *parent) {
                for c in *children {
                    added |= out.insert(Activity(c.to_string()));
                }
            }
        }
        if !added {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amend_includes_view() {
        let set = expand_activities([Activity::parse("B0825").unwrap()]);
        assert!(set.contains(&Activity::parse("B0820").unwrap()));
        let set = expand_activities([Activity::parse("B0820").unwrap()]);
        assert!(!set.contains(&Activity::parse("B0825").unwrap()));
    }

    #[test]
    fn only_b_codes_parse() {
        assert!(Activity::parse("B0820").is_some());
        assert!(Activity::parse("R8000").is_none());
        assert!(Activity::parse("B08").is_none());
        assert!(Activity::parse("Bé820").is_none());
    }
}
