//! `cargo xtask test`'s contract step: schemathesis (PyPI), a client nobody here wrote, against
//! every service's served OpenAPI document (generated from the code, ADR 26) on `up`'s
//! platform, with a valid token for a demo trust. Any finding fails the step: a server error
//! (ST101, ST102), an answer the document does not describe (undocumented status, a body that
//! violates its schema), or a document schemathesis cannot use (schema or serialisation
//! errors). Totals are printed per service.
use std::process::Command;

/// (service, API port, which demo token to use).
const SERVICES: &[(&str, u16, &str)] = &[
    ("mpi", 8081, "registration_clerk"),
    ("access", 8082, "privacy_officer"),
    ("referrals", 8083, "referrals_gsurg"),
    ("scheduling", 8084, "booking_clerk"),
    ("pas", 8085, "pas_admin"),
    ("clinical-docs", 8086, "clinician"),
    ("region", 8087, "regional"),
];

/// Runs schemathesis over each service; `Err` on any finding, or when a run produced no cases.
pub fn run(python: &str, platform: &serde_json::Value) -> Result<(), String> {
    let st = std::path::Path::new(python).with_file_name("schemathesis");
    let mut failed = Vec::new();
    for (service, port, token) in SERVICES {
        let Some(token) = platform["trusts"]["RXR"]["tokens"][token].as_str() else {
            return Err(format!("no {token} token in .tessera/platform.json"));
        };
        let out = Command::new(&st)
            .args([
                "run",
                &format!("http://127.0.0.1:{port}/openapi.json"),
                "-H",
                &format!("Authorization: Bearer {token}"),
                // Logging out revokes the token every other operation needs.
                "--exclude-path",
                "/auth/logout",
                // The regional page's sign-in form: schemathesis 4.32.5 fails inside its own
                // form-body generation on it now and then (a hypothesis "AST constructor
                // recursion depth" runtime error, reported as a failure, not a finding about the
                // API); the browser test signs in through it with the keyboard.
                "--exclude-path",
                "/page/session",
                "--checks",
                "not_a_server_error,status_code_conformance,response_schema_conformance",
                "--max-examples",
                "25",
                // Training the matcher and verifying a whole audit chain take seconds on a
                // developer's databases grown by soaks (CPU work, off the async workers).
                "--request-timeout",
                "60",
                "--workers",
                "2",
                "--seed",
                "20261126",
                "--no-color",
            ])
            .output()
            .map_err(|e| format!("schemathesis: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let summary = findings(&text);
        let cases = text
            .lines()
            .skip_while(|l| !l.starts_with("Test cases:"))
            .nth(1)
            .unwrap_or("")
            .trim()
            .to_string();
        println!("schemathesis {service}: {cases}");
        for f in &summary {
            println!("  {f}");
        }
        // schemathesis's own crashes (`Runtime Error`: e.g. CPython 3.11's `ast.parse` racing
        // between its worker threads) say nothing about the API: printed, not gating.
        let about_the_api = summary.iter().any(|f| !f.contains("Runtime Error"));
        if about_the_api || cases.is_empty() {
            // What schemathesis says of each failing case (its reproduction included), so a
            // CI log shows which operation failed and how without a rerun.
            for line in details(&text).iter().take(120) {
                println!("    {line}");
            }
            failed.push(format!("{service} ({})", summary.join("; ")));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "schemathesis findings (or no run) for {}",
            failed.join(", ")
        ))
    }
}

/// The FAILURES and ERRORS sections of schemathesis's report, up to its SUMMARY.
fn details(text: &str) -> Vec<&str> {
    text.lines()
        .skip_while(|l| !(l.contains(" FAILURES ") || l.contains(" ERRORS ")))
        .take_while(|l| !l.contains(" SUMMARY "))
        .collect()
}

/// The failure and error lines of schemathesis's summary (`❌ ST103 …: 4`, `🚫 …: 1`).
fn findings(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.starts_with("Failures:") && !l.starts_with("Errors:"))
        .take_while(|l| !l.starts_with("Test cases:"))
        .map(str::trim)
        .filter(|l| l.starts_with('❌') || l.starts_with('🚫'))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn findings_are_read_from_the_summary() {
        let text = "Failures:\n  ❌ ST101 Server error: 2\n\nErrors:\n  🚫 Schema Error: 14\n\nTest cases:\n  9 generated";
        let f = super::findings(text);
        assert_eq!(f, ["❌ ST101 Server error: 2", "🚫 Schema Error: 14"]);
    }

    #[test]
    fn details_run_from_the_failures_to_the_summary() {
        let text =
            "ok\n=== FAILURES ===\n___ GET /x ___\ncurl -X GET /x\n=== SUMMARY ===\nTest cases:";
        let d = super::details(text);
        assert_eq!(d, ["=== FAILURES ===", "___ GET /x ___", "curl -X GET /x"]);
    }
}
