//! Runs a service's long-running tasks side by side. When any one ends — cleanly or not — the
//! shared shutdown is triggered, the others drain, and how each ended is logged.
use crate::Shutdown;
use futures::future::BoxFuture;
use std::time::Duration;

type Task = BoxFuture<'static, Result<(), String>>;

/// How a service stopped when it did not stop cleanly: the tasks that failed (by name), a task
/// that panicked, or tasks that outlived the grace period.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stopped with errors: {}", .failed.join(", "))]
pub struct Stopped {
    pub failed: Vec<String>,
}

pub struct Supervisor {
    shutdown: Shutdown,
    tasks: Vec<(&'static str, Task)>,
    grace: Duration,
}

impl Supervisor {
    pub fn new(shutdown: Shutdown) -> Self {
        Self {
            shutdown,
            tasks: Vec::new(),
            grace: Duration::from_secs(30),
        }
    }

    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    pub fn spawn<F, E>(&mut self, name: &'static str, fut: F)
    where
        F: std::future::Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display,
    {
        self.tasks.push((
            name,
            Box::pin(async move { fut.await.map_err(|e| e.to_string()) }),
        ));
    }

    /// Runs every task until all have ended; returns an error naming the tasks that failed.
    pub async fn run(self) -> Result<(), Stopped> {
        let mut set = tokio::task::JoinSet::new();
        for (name, task) in self.tasks {
            let shutdown = self.shutdown.clone();
            set.spawn(async move {
                let result = task.await;
                match &result {
                    Ok(()) if shutdown.is_triggered() => {
                        tracing::info!(task = name, "task stopped")
                    }
                    Ok(()) => tracing::warn!(task = name, "task ended on its own; shutting down"),
                    Err(e) => {
                        tracing::error!(task = name, error = %e, "task failed; shutting down")
                    }
                }
                shutdown.trigger();
                (name, result)
            });
        }
        let mut failed = Vec::new();
        self.shutdown.wait().await;
        let deadline = tokio::time::sleep(self.grace);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                next = set.join_next() => match next {
                    None => break,
                    Some(Ok((name, Err(_)))) => failed.push(name.to_string()),
                    Some(Ok((_, Ok(())))) => {}
                    Some(Err(e)) => failed.push(format!("panicked task: {e}")),
                },
                _ = &mut deadline => {
                    tracing::error!("tasks still running after the grace period; aborting them");
                    set.abort_all();
                    failed.push("grace period exceeded".into());
                    break;
                }
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(Stopped { failed })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_task_ending_stops_the_others_and_failures_are_reported() {
        let shutdown = Shutdown::new();
        let mut sup = Supervisor::new(shutdown.clone());
        let s2 = shutdown.clone();
        sup.spawn("waits", async move {
            s2.wait().await;
            Ok::<(), String>(())
        });
        sup.spawn("fails", async { Err::<(), String>("boom".into()) });
        let result = sup.run().await;
        assert_eq!(
            result,
            Err(Stopped {
                failed: vec!["fails".to_string()]
            })
        );
        assert!(shutdown.is_triggered());
    }

    #[tokio::test]
    async fn a_task_that_ignores_shutdown_is_aborted_after_the_grace_period() {
        let shutdown = Shutdown::new();
        let mut sup = Supervisor::new(shutdown.clone()).grace(Duration::from_millis(50));
        sup.spawn("stubborn", async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok::<(), String>(())
        });
        shutdown.trigger();
        assert!(sup.run().await.is_err());
    }
}
