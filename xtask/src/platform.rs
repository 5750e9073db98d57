//! `up` and `down`: the whole platform on this machine, with two demo trusts.
use crate::infra::{self, BROKER_PORT};
use crate::{output, port_open, root, run, state_dir};
use std::time::Duration;

pub const DEMO_TRUSTS: &[(&str, &str)] = &[
    ("RXR", "East Lancashire Hospitals NHS Trust"),
    ("RBT", "Mid Cheshire Hospitals NHS Foundation Trust"),
];

pub struct Service {
    pub name: &'static str,
    pub binary: &'static str,
    pub port: u16,
    /// `/metrics` and the detailed `/readyz` (config/<name>.toml).
    pub management_port: u16,
}

pub const SERVICES: &[Service] = &[
    Service {
        name: "mpi",
        binary: "tessera-mpi",
        port: 8081,
        management_port: 9081,
    },
    Service {
        name: "access",
        binary: "tessera-access",
        port: 8082,
        management_port: 9082,
    },
    Service {
        name: "referrals",
        binary: "tessera-referrals",
        port: 8083,
        management_port: 9083,
    },
    Service {
        name: "scheduling",
        binary: "tessera-scheduling",
        port: 8084,
        management_port: 9084,
    },
    Service {
        name: "pas",
        binary: "tessera-pas",
        port: 8085,
        management_port: 9085,
    },
    Service {
        name: "clinical-docs",
        binary: "tessera-clinical-docs",
        port: 8086,
        management_port: 9086,
    },
    Service {
        name: "region",
        binary: "tessera-region",
        port: 8087,
        management_port: 9087,
    },
];

pub fn admin(args: &[&str]) -> Result<String, String> {
    let bin = root()
        .join("target/debug/tessera-admin")
        .display()
        .to_string();
    output(&bin, args).ok_or_else(|| format!("tessera-admin {} failed", args.join(" ")))
}

/// Which build `up` runs: `debug` (the default) or `release` (`cargo xtask up --release`,
/// which the soak uses).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Debug,
    Release,
}

impl Profile {
    pub fn from_args(args: &[String]) -> Self {
        if args.iter().any(|a| a == "--release") {
            Self::Release
        } else {
            Self::Debug
        }
    }

    pub fn dir(self) -> &'static str {
        match self {
            Self::Debug => "target/debug",
            Self::Release => "target/release",
        }
    }
}

/// The services' packages: what `up` builds and runs.
pub const SERVICE_PACKAGES: [&str; 7] = [
    "tessera-mpi",
    "tessera-access-service",
    "tessera-referrals",
    "tessera-scheduling",
    "tessera-pas",
    "tessera-clinical-docs",
    "tessera-region",
];

/// `cargo build --quiet -p <package>… [--release]`, in one invocation (features resolve once).
pub fn cargo_build(packages: &[&str], profile: Profile) -> Result<(), String> {
    let mut args = vec!["build", "--quiet"];
    for p in packages {
        args.extend(["-p", p]);
    }
    if profile == Profile::Release {
        args.push("--release");
    }
    if run("cargo", &args) {
        Ok(())
    } else {
        Err(format!("cargo {} failed", args.join(" ")))
    }
}

/// Publishes the demo trusts' tenant records (again: a record is idempotent).
fn onboard_demo_trusts() -> Result<(), String> {
    for (ods, name) in DEMO_TRUSTS {
        admin(&["onboard", ods, "--name", name])?;
    }
    Ok(())
}

pub fn up(profile: Profile) -> Result<(), String> {
    up_from(profile, &root().join(profile.dir()))
}

/// `up`, running the service binaries found in `bin_dir` (an earlier release's, for the
/// rolling upgrade).
pub fn up_from(profile: Profile, bin_dir: &std::path::Path) -> Result<(), String> {
    infra::ensure_tools_and_databases()?;
    cargo_build(&SERVICE_PACKAGES, profile)?;
    cargo_build(&["tessera-admin"], Profile::Debug)?;
    // The broker is checked by a real round trip, restarted if it does not answer, and
    // reported plainly if its storage cannot be recovered (ADR 19).
    infra::ensure_healthy_broker()?;
    admin(&["idp-init"])?;
    onboard_demo_trusts()?;
    std::fs::create_dir_all(state_dir().join("logs")).map_err(|e| e.to_string())?;
    for s in SERVICES {
        if port_open(s.port) {
            println!("{} already running on :{}", s.name, s.port);
            continue;
        }
        crate::instance::start(s, bin_dir, &s.usual())?;
    }
    for s in SERVICES {
        crate::instance::wait_ready(&s.usual())?;
    }
    let mut trusts = serde_json::Map::new();
    for (ods, name) in DEMO_TRUSTS {
        let clerk = admin(&[
            "token",
            "--ods",
            ods,
            "--user",
            &format!("clerk-{}", ods.to_lowercase()),
            "--activities",
            "B0825",
        ])?;
        let viewer = admin(&[
            "token",
            "--ods",
            ods,
            "--user",
            &format!("viewer-{}", ods.to_lowercase()),
            "--activities",
            "B0820",
        ])?;
        let privacy_officer = admin(&[
            "token",
            "--ods",
            ods,
            "--user",
            &format!("privacy-{}", ods.to_lowercase()),
            "--role",
            "R0001",
            "--activities",
            "B0820",
        ])?;
        let emergency = admin(&[
            "token",
            "--ods",
            ods,
            "--user",
            &format!("ed-{}", ods.to_lowercase()),
            "--activities",
            "B0820,B0083",
        ])?;
        // Referral staff of the demo general surgery team (B1110 Manage Inbound Referrals).
        let referrals_clerk = admin(&[
            "token",
            "--ods",
            ods,
            "--user",
            &format!("referrals-{}", ods.to_lowercase()),
            "--activities",
            "B1110",
            "--teams",
            "GSURG",
        ])?;
        // Booking staff (B1120 Manage Inbound Appointments): clinics, sessions, appointments.
        let booking_clerk = admin(&[
            "token",
            "--ods",
            ods,
            "--user",
            &format!("booking-{}", ods.to_lowercase()),
            "--activities",
            "B1120",
        ])?;
        // Ward staff and the admissions office (B0264 Manage Inpatient Records), a clinical
        // coder (B0370), and one holding both (the contract check reaches every route).
        let pas = |user: &str, activities: &str| {
            admin(&[
                "token",
                "--ods",
                ods,
                "--user",
                &format!("{user}-{}", ods.to_lowercase()),
                "--activities",
                activities,
            ])
        };
        let (ward_staff, coder, pas_admin) = (
            pas("ward", "B0264")?,
            pas("coder", "B0370")?,
            pas("pas-admin", "B0264,B0370")?,
        );
        // A clinician of the general surgery team, ward 7 and the load ward (B0380, the documents activity
        // this platform's configuration uses; a trust maps its own).
        let clinician = admin(&[
            "token",
            "--ods",
            ods,
            "--user",
            &format!("clinician-{}", ods.to_lowercase()),
            "--activities",
            "B0380",
            "--teams",
            "GSURG,WARD7,LOADWARD",
        ])?;
        // The regional record: a clinician of the same teams reading summaries (B0820) who also
        // decides the matcher's proposed links (B0825).
        let regional = admin(&[
            "token",
            "--ods",
            ods,
            "--user",
            &format!("regional-{}", ods.to_lowercase()),
            "--activities",
            "B0820,B0825",
            "--teams",
            "GSURG,WARD7,LOADWARD",
        ])?;
        trusts.insert(
            ods.to_string(),
            serde_json::json!({ "name": name, "tokens": { "registration_clerk": clerk, "viewer": viewer,
                    "privacy_officer": privacy_officer, "emergency_clinician": emergency,
                    "referrals_gsurg": referrals_clerk, "booking_clerk": booking_clerk,
                    "ward_staff": ward_staff, "coder": coder, "pas_admin": pas_admin,
                    "clinician": clinician, "regional": regional },
                "mllp": format!("127.0.0.1:{}", mllp_port(ods)),
                "topics": { "patient": format!("tessera.{}.mpi.patient", ods.to_lowercase()), "audit": format!("tessera.{}.audit.events", ods.to_lowercase()) } }),
        );
    }
    let services: serde_json::Map<String, serde_json::Value> = SERVICES
        .iter()
        .map(|s| {
            let base = format!("http://127.0.0.1:{}", s.port);
            let management = format!("http://127.0.0.1:{}", s.management_port);
            (s.name.to_string(), serde_json::json!({ "url": base, "openapi": format!("{base}/openapi.json"), "fhir": format!("{base}/fhir"),
                "health": { "live": format!("{base}/livez"), "ready": format!("{management}/readyz"), "metrics": format!("{management}/metrics") } }))
        })
        .collect();
    let platform = serde_json::json!({
        "services": services,
        "kafka": { "bootstrap": format!("127.0.0.1:{BROKER_PORT}") },
        "postgres": "postgres://postgres@127.0.0.1:5432",
        "redis": "redis://127.0.0.1:6379",
        "jwks": state_dir().join("idp/jwks.json").display().to_string(),
        "trusts": trusts,
    });
    let path = state_dir().join("platform.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&platform).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let tokens: String = DEMO_TRUSTS
        .iter()
        .map(|(ods, _)| {
            let t = platform["trusts"][*ods]["tokens"]["registration_clerk"]
                .as_str()
                .unwrap_or_default();
            format!("{ods} registration clerk (B0825, 12 h):\n{t}\n")
        })
        .collect();
    println!(
        r#"
Tessera is running.
  MPI           http://127.0.0.1:8081   (OpenAPI: /openapi.json, FHIR: /fhir; management :9081 /readyz /metrics)
  Access        http://127.0.0.1:8082   (relationships, break-glass, alerts, seals, consent, audit store)
  Referrals     http://127.0.0.1:8083   (referrals, RTT pathways, waiting lists; FHIR ServiceRequest)
  Scheduling    http://127.0.0.1:8084   (clinics, sessions, slots, appointments, worklists)
  PAS           http://127.0.0.1:8085   (wards, beds, admissions, discharges, activity for billing)
  Documents     http://127.0.0.1:8086   (clinical documents, letters, templates, NEWS2; FHIR DocumentReference)
  Region        http://127.0.0.1:8087   (the regional care record: summary, FHIR Patient/$everything, the page at /page)
  Kafka         127.0.0.1:{BROKER_PORT} (tansu; topics tessera.<ods>.<service>.<stream>)
  Demo trusts   RXR, RBT
  HL7 v2 MLLP   RXR 127.0.0.1:2575, RBT 127.0.0.1:2576 (ADT; MSH-4 must be the trust)
  Written to    {path}

Try:
  TOKEN=$(jq -r .trusts.RXR.tokens.registration_clerk {path})
  curl -s -X POST http://127.0.0.1:8081/patients -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -H "Idempotency-Key: $(cat /proc/sys/kernel/random/uuid)" \
    -d '{{"nhs_number":"9434765919","names":[{{"family":"Testpatient","given":["Jane"]}}],"birth_date":"1970-01-01","administrative_sex":"female"}}'
  curl -s "http://127.0.0.1:8081/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919" -H "Authorization: Bearer $TOKEN"
  # RBT cannot see it:
  curl -s "http://127.0.0.1:8081/patients?nhs_number=9434765919" -H "Authorization: Bearer $(jq -r .trusts.RBT.tokens.viewer {path})"
  # An HL7 A28 from RXR's PAS, answered with an ACK:
  printf 'MSH|^~\\&|PAS|RXR|TESSERA|RXR|20250101000000||ADT^A28^ADT_A05|DEMO1|P|2.4\nPID|1||K1^^^RXR^MR||SMOKE^TEST||19700101|U\n' \
    | target/debug/tessera-admin hl7-send --to 127.0.0.1:2575
  # A viewer sees who a patient is; their address needs a relationship (or break-glass):
  curl -s -X POST http://127.0.0.1:8082/break-glass -H "Authorization: Bearer $(jq -r .trusts.RXR.tokens.emergency_clinician {path})" \
    -H 'Content-Type: application/json' -d '{{"patient_id":"<id>","reason_code":"04","justification":"collapsed in ED"}}'
  curl -s http://127.0.0.1:8082/alerts -H "Authorization: Bearer $(jq -r .trusts.RXR.tokens.privacy_officer {path})"
  curl -s http://127.0.0.1:8082/audit/verify -H "Authorization: Bearer $(jq -r .trusts.RXR.tokens.privacy_officer {path})"
  # A GP referral to RXR general surgery, accepted by the team (the team gains a relationship):
  R=$(jq -r .trusts.RXR.tokens.referrals_gsurg {path})
  curl -s -X POST http://127.0.0.1:8083/referrals -H "Authorization: Bearer $R" -H 'Content-Type: application/json' \
    -d '{{"patient_id":"<id>","source":"gp","referrer":{{"code":"G1234567","organisation":"A81001"}},"priority":"routine","specialty":"100","treatment_function":"100","receiving_service":"General Surgery OPD","receiving_team":"GSURG"}}'
  curl -s -X POST http://127.0.0.1:8083/referrals/<referral id>/transitions -H "Authorization: Bearer $R" -H 'Content-Type: application/json' -d '{{"to":"ACCEPTED"}}'
  curl -s "http://127.0.0.1:8083/waiting-list" -H "Authorization: Bearer $R"
  # The accepted referral waits on scheduling's ready-to-book worklist; a clinic to book it into:
  B=$(jq -r .trusts.RXR.tokens.booking_clerk {path})
  curl -s http://127.0.0.1:8084/worklists/ready-to-book -H "Authorization: Bearer $B"
  curl -s -X POST http://127.0.0.1:8084/clinics -H "Authorization: Bearer $B" -H 'Content-Type: application/json' \
    -d '{{"code":"GS-MON","name":"General surgery","specialty":"100","treatment_function":"100","site":"Main","services":["new"],"team":"GSURG"}}'
  # A ward with two beds, and an admission into one (the ward's team gains a relationship):
  W=$(jq -r .trusts.RXR.tokens.ward_staff {path})
  curl -s -X POST http://127.0.0.1:8085/wards -H "Authorization: Bearer $W" -H 'Content-Type: application/json' \
    -d '{{"code":"WARD7","name":"Ward 7","site":"Main","team":"WARD7","beds":[{{"code":"B1"}},{{"code":"B2"}}]}}'
  curl -s -X POST http://127.0.0.1:8085/admissions -H "Authorization: Bearer $W" -H 'Content-Type: application/json' \
    -d '{{"patient_id":"<id>","bed_id":"<bed id from /wards/<ward id>/board>","admission_method":"21","admission_source":"19","consultant":"C1234567","treatment_function":"300"}}'
  # A clinic letter about an admitted patient (the ward team's relationship lets its clinician write it):
  D=$(jq -r .trusts.RXR.tokens.clinician {path})
  curl -s -X POST http://127.0.0.1:8086/documents -H "Authorization: Bearer $D" -H 'Content-Type: application/json' \
    -d '{{"patient_id":"<id>","type":{{"code":"371531000","display":"Report of clinical encounter"}},"title":"Ward round","text":"Comfortable overnight."}}'
  curl -s -X POST http://127.0.0.1:8086/documents/<document id>/sign -H "Authorization: Bearer $D" -H 'If-Match: W/"1"'

  # The regional care record of a patient registered in both trusts with the same verified NHS
  # number, once the patient's consent in RBT names RXR (PUT :8082/consent/<RBT id>/sharing
  # {{"sharing":"permit","trusts":["RXR"]}}) — JSON, FHIR, or the page in a browser (/page):
  G=$(jq -r .trusts.RXR.tokens.regional {path})
  curl -s http://127.0.0.1:8087/patients/<RXR id>/summary -H "Authorization: Bearer $G"
  curl -s 'http://127.0.0.1:8087/fhir/Patient/<RXR id>/$everything' -H "Authorization: Bearer $G"

Demo tokens (also in the file above, with a viewer token per trust):
{tokens}
Stop with: cargo xtask down
"#,
        path = path.display()
    );
    Ok(())
}

pub fn down() -> Result<(), String> {
    let instances = SERVICES
        .iter()
        .flat_map(|s| [s.usual().name, s.next().name]);
    for name in instances.chain(["proxy".into(), "tansu".into()]) {
        let pid = std::fs::read_to_string(state_dir().join(format!("{name}.pid")));
        match crate::instance::terminate(&name, Duration::from_secs(35)) {
            Ok(false) => {}
            Ok(true) => println!("stopped {name}"),
            Err(e) => {
                eprintln!("{e}: killing it");
                if let Ok(pid) = pid {
                    run("kill", &["-KILL", pid.trim()]);
                }
            }
        }
    }
    Ok(())
}

/// The MLLP port `config/mpi.toml` gives a demo trust.
pub fn mllp_port(ods: &str) -> u16 {
    match ods {
        "RBT" => 2576,
        _ => 2575,
    }
}
