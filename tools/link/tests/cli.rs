//! `tessera-link` as a user runs it: generate labelled data, dedupe and link it, evaluate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tessera-link"))
}

fn workdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "tessera-link-{}",
        std::process::id() as u64 * 1000 + rand_suffix()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        % 1000
}

fn mapping() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/mapping.toml")
        .display()
        .to_string()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn f1(report: &str) -> f64 {
    report.split_whitespace().last().unwrap().parse().unwrap()
}

#[test]
fn deduplicating_a_generated_extract_finds_its_duplicates() {
    let d = workdir();
    let data = d.join("people.csv");
    ok(bin()
        .args(["generate", "--records", "3000", "--seed", "5", "--out"])
        .arg(&data)
        .output()
        .unwrap());
    let pairs = d.join("pairs.csv");
    ok(bin()
        .args(["--config", &mapping(), "--dedupe"])
        .arg(&data)
        .arg("--out")
        .arg(&pairs)
        .output()
        .unwrap());
    let header = std::fs::read_to_string(&pairs)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(header, "left_id,right_id,score,decision");
    let clusters = std::fs::read_to_string(d.join("pairs.csv.clusters.csv")).unwrap();
    let records = std::fs::read_to_string(&data).unwrap().lines().count();
    assert_eq!(clusters.lines().count(), records);
    let report = ok(bin()
        .args(["evaluate", "--truth"])
        .arg(&data)
        .arg("--pairs")
        .arg(&pairs)
        .output()
        .unwrap());
    assert!(f1(&report) >= 0.99, "{report}");
}

#[test]
fn linking_two_extracts_without_national_ids_still_finds_the_same_people() {
    let d = workdir();
    let (l, r) = (d.join("l.csv"), d.join("r.csv"));
    ok(bin()
        .args([
            "generate",
            "--records",
            "3000",
            "--seed",
            "9",
            "--no-national-id",
            "--left",
        ])
        .arg(&l)
        .arg("--right")
        .arg(&r)
        .output()
        .unwrap());
    let pairs = d.join("pairs.csv");
    ok(bin()
        .args(["--config", &mapping(), "--left"])
        .arg(&l)
        .arg("--right")
        .arg(&r)
        .arg("--out")
        .arg(&pairs)
        .output()
        .unwrap());
    let report = ok(bin()
        .args(["evaluate", "--truth"])
        .arg(&l)
        .arg("--right-truth")
        .arg(&r)
        .arg("--pairs")
        .arg(&pairs)
        .output()
        .unwrap());
    assert!(f1(&report) >= 0.98, "{report}");
}

#[test]
fn any_mapped_field_may_be_absent_and_dates_may_be_in_another_format() {
    let d = workdir();
    let data = d.join("us.csv");
    std::fs::write(
        &data,
        "rid,first,last,born\n1,José,García,07/04/1976\n2,Jose,Garcia,07/04/1976\n3,Ana,Silva,\n4,,Silva,12/31/1980\n",
    )
    .unwrap();
    let cfg = d.join("m.toml");
    std::fs::write(&cfg, "[columns]\nid = \"rid\"\ngiven = \"first\"\nfamily = \"last\"\nbirth_date = \"born\"\nbirth_date_format = \"%m/%d/%Y\"\n[model]\ntrain = false\n").unwrap();
    let pairs = d.join("p.csv");
    ok(bin()
        .arg("--config")
        .arg(&cfg)
        .arg("--dedupe")
        .arg(&data)
        .arg("--out")
        .arg(&pairs)
        .output()
        .unwrap());
    let text = std::fs::read_to_string(&pairs).unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("1,2,") && l.ends_with(",match")),
        "{text}"
    );
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("3,4,") && l.ends_with(",match")),
        "{text}"
    );
}

#[test]
fn a_mapping_naming_a_missing_column_is_a_clear_error() {
    let d = workdir();
    let data = d.join("x.csv");
    std::fs::write(&data, "id,name\n1,A\n").unwrap();
    let out = bin()
        .args(["--config", &mapping(), "--dedupe"])
        .arg(&data)
        .arg("--out")
        .arg(d.join("p.csv"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no column \"given_name\""), "{err}");
    let bad = d.join("bad.toml");
    std::fs::write(&bad, "[columns]\nid = \"id\"\ncolour = \"x\"\n").unwrap();
    let out = bin()
        .arg("--config")
        .arg(&bad)
        .arg("--dedupe")
        .arg(&data)
        .arg("--out")
        .arg(d.join("p.csv"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("colour"));
}
