//! The `Trust`'s status from what the services reported: one condition per service, then
//! `Published`, `Ready` and `Suspended`. A condition's `lastTransitionTime` moves only when its
//! status does.
use crate::crd::{Condition, ServiceName, ServiceStatus, TrustState, TrustStatus};

/// What a reconcile learnt, to be written as the status.
pub struct Observed<'a> {
    pub generation: Option<i64>,
    pub state: TrustState,
    pub published: Result<(), String>,
    pub services: Vec<ServiceStatus>,
    pub previous: Option<&'a TrustStatus>,
    /// Set when the trust's resource is being deleted.
    pub deleting: bool,
}

impl Observed<'_> {
    /// Every service serving the trust reports it ready (Active), or every one reports it
    /// suspended (Suspended or being deleted).
    pub fn settled(&self) -> bool {
        self.published.is_ok()
            && if self.suspending() {
                self.services
                    .iter()
                    .all(|s| matches!(s.state.as_str(), "suspended" | "not-served" | "unknown"))
            } else {
                !self.services.is_empty() && self.services.iter().all(|s| s.ready)
            }
    }

    fn suspending(&self) -> bool {
        self.deleting || self.state == TrustState::Suspended
    }

    pub fn ready(&self) -> bool {
        !self.suspending() && self.settled()
    }

    pub fn status(&self, now: &str) -> TrustStatus {
        let mut conditions = Vec::new();
        let mut push = |type_: String, ok: bool, reason: &str, message: String| {
            conditions.push(self.condition(type_, ok, reason, message, now));
        };
        match &self.published {
            Ok(()) => push(
                "Published".into(),
                true,
                "RecordPublished",
                "the tenant record is on the tenants topic".into(),
            ),
            Err(e) => push("Published".into(), false, "PublishFailed", e.clone()),
        }
        for s in &self.services {
            let reason = match s.state.as_str() {
                "ready" if s.ready => "Provisioned",
                "ready" => "TopicsPending",
                "provisioning" => "Migrating",
                "failed" => "ProvisioningFailed",
                "suspended" => "Suspended",
                "unreachable" => "Unreachable",
                "not-deployed" => "NotDeployed",
                "unknown" => "NotYetKnown",
                _ => "NotServed",
            };
            let message = s.message.clone().unwrap_or_else(|| {
                format!(
                    "migrated: {}, topics created: {}",
                    s.migrated, s.topics_created
                )
            });
            push(condition_type(&s.name), s.ready, reason, message);
        }
        let (ready_reason, ready_message) = if self.deleting {
            ("Suspended", "deleted: every service stops serving the trust; its records are kept (an operator never deletes clinical data)".to_string())
        } else if self.state == TrustState::Suspended {
            (
                "Suspended",
                "suspended by its spec; its records are kept".to_string(),
            )
        } else if self.ready() {
            (
                "AllServicesReady",
                format!("{} services serve the trust", self.services.len()),
            )
        } else {
            let waiting: Vec<&str> = self
                .services
                .iter()
                .filter(|s| !s.ready)
                .map(|s| s.name.as_str())
                .collect();
            ("Waiting", format!("waiting for: {}", waiting.join(", ")))
        };
        push("Ready".into(), self.ready(), ready_reason, ready_message);
        let suspended = self.suspending();
        push(
            "Suspended".into(),
            suspended,
            if suspended { "Suspended" } else { "Active" },
            if suspended && self.settled() {
                "every service has stopped serving the trust".into()
            } else if suspended {
                "suspending: not every service has said so yet".into()
            } else {
                "served".into()
            },
        );
        TrustStatus {
            observed_generation: self.generation,
            conditions,
            services: self.services.clone(),
            last_error: self.published.clone().err(),
        }
    }

    fn condition(
        &self,
        type_: String,
        ok: bool,
        reason: &str,
        message: String,
        now: &str,
    ) -> Condition {
        let status = if ok { "True" } else { "False" }.to_string();
        let last_transition_time = self
            .previous
            .and_then(|p| p.conditions.iter().find(|c| c.type_ == type_))
            .filter(|c| c.status == status)
            .map(|c| c.last_transition_time.clone())
            .unwrap_or_else(|| now.to_string());
        Condition {
            type_,
            status,
            reason: reason.into(),
            message,
            last_transition_time,
            observed_generation: self.generation,
        }
    }
}

/// The status of a `Trust` whose spec cannot be acted on: `Ready` false, the reason in
/// `lastError`.
pub fn invalid(trust: &crate::crd::Trust, error: &str, now: &str) -> TrustStatus {
    let observed = Observed {
        generation: trust.metadata.generation,
        state: trust.spec.state,
        published: Err(error.to_string()),
        services: Vec::new(),
        previous: trust.status.as_ref(),
        deleting: false,
    };
    let ready = observed.condition("Ready".into(), false, "InvalidSpec", error.to_string(), now);
    TrustStatus {
        observed_generation: trust.metadata.generation,
        conditions: vec![ready],
        services: Vec::new(),
        last_error: Some(error.to_string()),
    }
}

/// `mpi` → `MpiReady`, `clinical-docs` → `ClinicalDocsReady`.
pub fn condition_type(service: &str) -> String {
    let name: &str = match ServiceName::parse(service) {
        Some(n) => n.as_str(),
        None => service,
    };
    let mut out = String::new();
    for part in name.split('-') {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out + "Ready"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(name: &str, state: &str, ready: bool) -> ServiceStatus {
        ServiceStatus {
            name: name.into(),
            state: state.into(),
            migrated: ready,
            topics_created: ready,
            ready,
            message: None,
        }
    }

    #[test]
    fn condition_types_are_pascal_case() {
        assert_eq!(condition_type("clinical-docs"), "ClinicalDocsReady");
        assert_eq!(condition_type("mpi"), "MpiReady");
    }

    #[test]
    fn a_transition_time_moves_only_when_the_status_does() {
        let waiting = Observed {
            generation: Some(1),
            state: TrustState::Active,
            published: Ok(()),
            services: vec![service("mpi", "provisioning", false)],
            previous: None,
            deleting: false,
        };
        let first = waiting.status("t1");
        let again = Observed {
            previous: Some(&first),
            ..waiting
        }
        .status("t2");
        let ready = |s: &TrustStatus| s.conditions.iter().find(|c| c.type_ == "Ready").cloned();
        assert_eq!(
            ready(&again).map(|c| c.last_transition_time),
            Some("t1".into())
        );
        let now_ready = Observed {
            generation: Some(1),
            state: TrustState::Active,
            published: Ok(()),
            services: vec![service("mpi", "ready", true)],
            previous: Some(&again),
            deleting: false,
        }
        .status("t3");
        let c = ready(&now_ready);
        assert_eq!(c.as_ref().map(|c| c.status.as_str()), Some("True"));
        assert_eq!(c.map(|c| c.last_transition_time), Some("t3".into()));
    }
}
