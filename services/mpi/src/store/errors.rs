//! What the MPI's store answers when it cannot do what was asked.
use crate::domain::PatientId;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// Only the category and position: serde's own message can quote the stored value,
    /// which is patient data, and this error is logged.
    #[error("stored demographics are unreadable: {0}")]
    Corrupt(String),
    #[error("the NHS number is already registered to patient {0}")]
    DuplicateNhsNumber(PatientId),
    #[error("local number {0} is already in use")]
    DuplicateLocalNumber(String),
    #[error("the patient was changed by someone else (now version {0})")]
    VersionConflict(i64),
    #[error("a concurrent registration conflicted; retry")]
    RegistrationRace,
    #[error("no such patient")]
    NotFound,
    #[error("the patient was merged into {0}")]
    MergedInto(PatientId),
    #[error("{1}")]
    Merge(tessera_edge::codes::ErrorCode, String),
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        Self::Corrupt(format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Demographics;

    #[test]
    fn a_corrupt_row_error_never_quotes_the_stored_value() {
        let e = serde_json::from_str::<Demographics>(r#"{"birth_date": "Testpatient 9434765919"}"#)
            .unwrap_err();
        let msg = StoreError::from(e).to_string();
        assert!(
            !msg.contains("Testpatient") && !msg.contains("9434765919"),
            "{msg}"
        );
    }
}
