//! The invariant checker: what must hold after any run of the platform, whatever happened
//! during it (a load, an upgrade, a fault), read from every service's database, the audit
//! store and the journal the load kept ([`crate::journal`]):
//! - no slot over capacity, a slot's count of places its booked appointments, no patient in
//!   two booked appointments at overlapping times;
//! - every acknowledged write exists (none lost), and no write took effect twice: the rows
//!   created in the run are at least the acknowledged writes and at most those plus the ones
//!   whose answer never came (a registration's idempotency key is also unique in the MPI);
//! - no patient lost: every patient a referral, relationship or break-glass grant names is a
//!   patient of the same trust's MPI, live or merged into one that is;
//! - every outbox row published, no message dead-lettered, the audit store holding every
//!   record the services wrote;
//! - one audit record per answered request, per service and trust;
//! - every trust's audit chain verifies.
mod writes;

use crate::journal::{Journal, Write};
use crate::platform::Platform;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, Value};
use std::collections::HashMap;
use std::time::Duration;
use tessera_tenancy::TenantId;
use writes::{check_writes, patients, resolves};

/// What the checker found; a clean run has no findings.
#[derive(Debug, Default)]
pub struct CheckReport {
    pub findings: Vec<String>,
    /// Each check and what it counted.
    pub checked: Vec<String>,
}

impl CheckReport {
    pub fn render(&self) -> String {
        let mut s = String::from("invariant checker\n");
        for c in &self.checked {
            s.push_str(&format!("  ok    {c}\n"));
        }
        for f in &self.findings {
            s.push_str(&format!("  FAIL  {f}\n"));
        }
        s.push_str(&format!("{} findings\n", self.findings.len()));
        s
    }

    fn verdict(&mut self, ok: bool, what: String) {
        if ok {
            self.checked.push(what);
        } else {
            self.findings.push(what);
        }
    }
}

/// Rows a service wrote for each kind of write the load sends: the table, the column saying
/// when, and which of its rows come from requests (documents are also drafted from
/// discharges and outcomes, by the service itself).
const WRITES: [(&str, &str, &str, &str, &str); 6] = [
    ("register", "mpi", "patient", "created_at", "true"),
    ("referral", "referrals", "referral", "created_at", "true"),
    ("break-glass", "access", "break_glass", "granted_at", "true"),
    ("booking", "scheduling", "appointment", "booked_at", "true"),
    ("admission", "pas", "spell", "admitted_at", "true"),
    (
        "document",
        "clinical-docs",
        "document",
        "created_at",
        "source LIKE 'request:%'",
    ),
];

/// Where other services name the MPI's patients.
const REFERENCES: [(&str, &str); 7] = [
    ("referrals", "referral"),
    ("access", "relationship"),
    ("access", "break_glass"),
    ("scheduling", "appointment"),
    ("pas", "spell"),
    ("pas", "activity"),
    ("clinical-docs", "document"),
];

/// What must hold of a trust's appointments, beds, spells and activity, as SQL (run in the
/// service's database) counting the rows that break it.
const RULES: [(&str, &str, &str); 9] = [
    (
        "scheduling",
        "slots over capacity",
        "SELECT count(*) AS n FROM {s}.slot WHERE booked > capacity + overbook",
    ),
    (
        "scheduling",
        "slots whose booked count is not their booked appointments",
        "SELECT count(*) AS n FROM {s}.slot s
          WHERE s.booked <> (SELECT count(*) FROM {s}.appointment a WHERE a.slot_id = s.id AND a.status = 'booked')",
    ),
    (
        "scheduling",
        "patients booked into two overlapping appointments",
        "SELECT count(*) AS n FROM {s}.appointment a JOIN {s}.appointment b
            ON a.patient_id = b.patient_id AND a.id < b.id
         WHERE a.status = 'booked' AND b.status = 'booked'
           AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at",
    ),
    (
        "pas",
        "beds given to two patients for overlapping times",
        "SELECT count(*) AS n FROM {s}.bed_stay a JOIN {s}.bed_stay b
            ON a.bed_id = b.bed_id AND a.id < b.id
         WHERE a.cancelled_at IS NULL AND b.cancelled_at IS NULL
           AND a.from_at < coalesce(b.to_at, 'infinity') AND b.from_at < coalesce(a.to_at, 'infinity')",
    ),
    (
        "pas",
        "spells whose consultant episodes overlap",
        "SELECT count(*) AS n FROM {s}.episode a JOIN {s}.episode b
            ON a.spell_id = b.spell_id AND a.id < b.id
         WHERE a.cancelled_at IS NULL AND b.cancelled_at IS NULL
           AND a.started_at < coalesce(b.ended_at, 'infinity') AND b.started_at < coalesce(a.ended_at, 'infinity')",
    ),
    (
        "pas",
        "finished consultant episodes without exactly one live activity record",
        "SELECT count(*) AS n FROM {s}.episode e
          WHERE e.ended_at IS NOT NULL AND e.cancelled_at IS NULL
            AND (SELECT count(*) FROM {s}.activity x WHERE x.kind = 'apc-episode' AND x.source_id = e.id
                    AND x.withdrawn_at IS NULL) <> 1",
    ),
    (
        "pas",
        "attended appointments without exactly one live activity record",
        "SELECT count(*) AS n FROM {s}.attendance a
          WHERE a.attendance_code IN ('5', '6')
            AND (SELECT count(*) FROM {s}.activity x WHERE x.kind = 'outpatient' AND x.source_id = a.appointment_id
                    AND x.withdrawn_at IS NULL) <> 1",
    ),
    (
        "clinical-docs",
        "documents whose versions are not exactly 1 to their version (one lost or overwritten)",
        "SELECT count(*) AS n FROM {s}.document d
          WHERE (SELECT count(*) FROM {s}.document_version v WHERE v.document_id = d.id) <> d.version
             OR NOT EXISTS (SELECT 1 FROM {s}.document_version v WHERE v.document_id = d.id AND v.version = d.version)",
    ),
    (
        "clinical-docs",
        "final or amended documents nobody signed",
        "SELECT count(*) AS n FROM {s}.document
          WHERE status IN ('final', 'amended') AND signed_by IS NULL",
    ),
];

///
/// `resent` counts, per service, the requests a load balancer in front of it sent to a second
/// instance after the first failed before answering (`tessera-proxy` during a rolling
/// upgrade): each may have been served — and audited — by both, so each widens that
/// service's audit allowance by one. Writes are not widened: a resent write carries its
/// idempotency key and must not take effect twice.
pub async fn run(
    platform: &std::path::Path,
    journal: &std::path::Path,
    resent: &HashMap<String, u64>,
) -> Result<CheckReport, String> {
    let p = Platform::load(platform)?;
    let j = Journal::load(journal)?;
    let mut dbs = HashMap::new();
    for service in p.services.keys() {
        let url = format!(
            "{}/tessera_{}?sslmode=disable",
            p.postgres,
            service.replace('-', "_")
        );
        dbs.insert(
            service.clone(),
            Database::connect(url).await.map_err(|e| e.to_string())?,
        );
    }
    let db = |s: &str| {
        dbs.get(s)
            .ok_or_else(|| format!("platform.json names no service {s}"))
    };
    let mut r = CheckReport::default();
    let until = j.ended_at + chrono::Duration::seconds(60);
    for trust in p.trusts.keys() {
        let schema = TenantId::parse(trust).map_err(|e| e.to_string())?.schema();
        for (kind, service, table, at, only) in WRITES {
            let writes: Vec<&Write> = j
                .writes
                .iter()
                .filter(|w| w.kind == kind && &w.trust == trust)
                .collect();
            check_writes(
                &mut r,
                db(service)?,
                &schema,
                (table, at, only),
                &writes,
                (j.started_at, until),
                trust,
                kind,
            )
            .await?;
        }
        for (service, what, sql) in RULES {
            if let Ok(conn) = db(service) {
                let n = count(conn, &sql.replace("{s}", &format!("\"{schema}\"")), vec![]).await?;
                r.verdict(n == 0, format!("{trust}: {n} {what}"));
            }
        }
        let (live, merged) = patients(db("mpi")?, &schema).await?;
        for (service, table) in REFERENCES {
            let named = column(
                db(service)?,
                &format!("SELECT DISTINCT patient_id AS v FROM \"{schema}\".{table}"),
            )
            .await?;
            let lost: Vec<&String> = named
                .iter()
                .filter(|id| !resolves(id, &live, &merged))
                .collect();
            r.verdict(
                lost.is_empty(),
                format!("{trust}: {} patients named in {service}.{table} resolve to a live MPI patient ({} do not{})", named.len(), lost.len(),
                    lost.first().map_or(String::new(), |l| format!(", e.g. {l}"))),
            );
        }
        for service in p.services.keys() {
            let key = format!("{trust}/{service}");
            let answered = j.audited.get(&key).copied().unwrap_or(0);
            let unanswered = j.unanswered.get(&key).copied().unwrap_or(0);
            // A refusal before the trust is known to the service (a service just restarted,
            // the tenants topic not read yet) is recorded in the platform schema, under the
            // caller's organisation.
            let written = count(
                db(service)?,
                &format!(
                    "SELECT (SELECT count(*) FROM \"{schema}\".audit_log
                              WHERE occurred_at BETWEEN $1 AND $2 AND action <> 'audit.verify')
                          + (SELECT count(*) FROM platform.audit_log
                              WHERE occurred_at BETWEEN $1 AND $2 AND organisation = $3) AS n"
                ),
                vec![j.started_at.into(), until.into(), trust.clone().into()],
            )
            .await?;
            let resent = resent.get(service).copied().unwrap_or(0);
            let ok =
                written >= answered as i64 && written <= (answered + unanswered + resent) as i64;
            r.verdict(ok, format!("{key}: {written} audit records for {answered} answered requests ({unanswered} unanswered, {resent} resent by the proxy to {service})"));
        }
    }
    backlogs(&mut r, &dbs, &p).await?;
    chains(&mut r, &p).await;
    Ok(r)
}

async fn backlogs(
    r: &mut CheckReport,
    dbs: &HashMap<String, DatabaseConnection>,
    p: &Platform,
) -> Result<(), String> {
    // What is still on its way (the load's last audit records) gets a minute to arrive.
    let observer = crate::observe::Observer::connect(p).await?;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let s = loop {
        let s = observer.sample().await?;
        if (s.outbox_backlog == 0 && s.audit_lag() == 0) || std::time::Instant::now() > deadline {
            break s;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    r.verdict(
        s.outbox_backlog == 0,
        format!("{} outbox rows unpublished", s.outbox_backlog),
    );
    r.verdict(
        s.audit_lag() == 0,
        format!(
            "the audit store holds {} of the {} audit records the services wrote",
            s.audit_stored, s.audit_written
        ),
    );
    for (service, db) in dbs {
        let schemas = column(db, "SELECT table_schema AS v FROM information_schema.tables WHERE table_name = 'inbox_dead_letter'").await?;
        let mut dead = 0;
        for schema in schemas {
            dead += count(
                db,
                &format!("SELECT count(*) AS n FROM \"{schema}\".inbox_dead_letter"),
                vec![],
            )
            .await?;
        }
        r.verdict(
            dead == 0,
            format!("{service}: {dead} dead-lettered messages"),
        );
    }
    Ok(())
}

async fn chains(r: &mut CheckReport, p: &Platform) {
    for (trust, intact) in verify_chains(&reqwest::Client::new(), p).await {
        r.verdict(intact, format!("{trust}: the audit chain verifies"));
    }
}

/// Each trust's `GET /audit/verify` `intact` (as its privacy officer).
pub async fn verify_chains(client: &reqwest::Client, p: &Platform) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for (trust, t) in &p.trusts {
        let intact = match p.url("access") {
            Ok(base) => match client
                .get(format!("{base}/audit/verify"))
                .bearer_auth(&t.tokens.privacy_officer)
                .timeout(Duration::from_secs(300))
                .send()
                .await
            {
                Ok(resp) => resp
                    .json::<serde_json::Value>()
                    .await
                    .is_ok_and(|v| v["intact"] == true),
                Err(_) => false,
            },
            Err(_) => false,
        };
        out.push((trust.clone(), intact));
    }
    out
}

pub(super) async fn count(
    db: &DatabaseConnection,
    sql: &str,
    values: Vec<Value>,
) -> Result<i64, String> {
    let row = db
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .await
        .map_err(|e| format!("{sql}: {e}"))?;
    Ok(row.and_then(|r| r.try_get("", "n").ok()).unwrap_or(0))
}

pub(super) async fn column(db: &DatabaseConnection, sql: &str) -> Result<Vec<String>, String> {
    let rows = db
        .query_all(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .map_err(|e| format!("{sql}: {e}"))?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.try_get::<String>("", "v").ok())
        .collect())
}
