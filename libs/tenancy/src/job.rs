//! Why a service's background job (a heartbeat, a retention sweep, a publisher of chain
//! heads, a listener, the tenant registry feed, the outbox relay) or a broker administration
//! step (creating topics, publishing a tenant, the broker probe) failed. The supervisor logs it and stops the service, so the
//! orchestrator restarts it; a job that merely skips one tenant's round logs and goes on.
use crate::DbError;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("tenant database: {0}")]
    Tenant(#[from] DbError),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("broker: {0}")]
    Broker(#[from] rdkafka::error::KafkaError),
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
    /// The job's blocking work (on a thread of its own) did not finish.
    #[error("blocking work: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// The broker refused to create a topic.
    #[error("creating topic {topic}: {code}")]
    Topic { topic: String, code: String },
    /// A tenant's schema could not be migrated.
    #[error("migrating {tenant}: {detail}")]
    Migration { tenant: String, detail: String },
    /// The service's own store refused (its error, in words).
    #[error("store: {0}")]
    Store(String),
    /// Something the job waited for did not come in time.
    #[error("timed out: {0}")]
    Timeout(&'static str),
}

impl JobError {
    /// A stable code for logs and alerts.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Tenant(_) | Self::Db(_) => "job.database",
            Self::Broker(_) | Self::Topic { .. } => "job.broker",
            Self::Migration { .. } => "job.migration",
            Self::Io(_) | Self::Join(_) => "job.io",
            Self::Store(_) => "job.store",
            Self::Timeout(_) => "job.timeout",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        assert_eq!(JobError::Timeout("heads").code(), "job.timeout");
        assert_eq!(
            JobError::from(sea_orm::DbErr::Custom("x".into())).code(),
            "job.database"
        );
        assert_eq!(
            JobError::from(std::io::Error::other("x")).to_string(),
            "listener: x"
        );
    }
}
