use serde::{Deserialize, Serialize};
use std::fmt;

/// A value that is patient data: it serialises as itself (it has to reach the patient's record)
/// but never shows in `Debug` or `Display`, so it cannot slip into a log line or a span.
#[derive(Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Masked<T>(T);

impl<T> Masked<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }
    /// Reading the value is explicit, so a reviewer sees every place patient data is used.
    pub fn expose(&self) -> &T {
        &self.0
    }
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Masked<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Masked<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let m = Masked::new("Jane Testpatient".to_string());
        assert_eq!(format!("{m:?}"), "***");
        assert_eq!(m.expose(), "Jane Testpatient");
    }
}
