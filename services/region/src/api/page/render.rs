//! The summary's page: the header, the withheld-records banner, and one section per kind of
//! item — each line with its trust, sealed and withheld items as rows marked withheld.
use super::{document, esc};
use crate::domain::{Summary, Withheld};
use std::fmt::Write as _;

fn opt(v: &Option<impl ToString>) -> String {
    v.as_ref().map(|x| esc(&x.to_string())).unwrap_or_default()
}

fn when(t: &Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%d %b %Y %H:%M").to_string())
        .unwrap_or_default()
}

fn fresh(t: &chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "<span class=\"fresh\">as of {}</span>",
        t.format("%d %b %Y %H:%M:%S UTC")
    )
}

fn trust_cell(t: &str) -> String {
    format!("<td class=\"trust\">{}</td>", esc(t))
}

/// A withheld row in a table of `cols` columns.
fn withheld_row(w: &Withheld, cols: usize) -> String {
    format!(
        "<tr class=\"withheld\" data-trust=\"{t}\" data-kind=\"{k}\" data-withheld=\"true\">{cell}<td colspan=\"{n}\">Withheld: {why}</td></tr>",
        t = esc(&w.trust),
        k = esc(&w.kind),
        cell = trust_cell(&w.trust),
        n = cols.saturating_sub(1),
        why = esc(reason_text(&w.reason)),
    )
}

fn reason_text(code: &str) -> &'static str {
    match code {
        "access.consent" => {
            "the patient has not consented to share this trust's records with your trust"
        }
        "access.sealed" => {
            "sealed at the patient's request (break-glass can open it, and is audited)"
        }
        "access.locked" => "sealed and locked at the patient's request",
        "access.relationship" | "access.relationship-expired" => {
            "you have no legitimate relationship with this patient"
        }
        "region.trust-unavailable" => {
            "this trust's record could not be read just now; try again shortly"
        }
        _ => "not permitted",
    }
}

fn table(out: &mut String, id: &str, title: &str, head: &[&str], rows: &str) {
    let _ = write!(
        out,
        "<section aria-labelledby=\"{id}\"><h2 id=\"{id}\">{title}</h2>"
    );
    if rows.is_empty() {
        out.push_str("<p>None recorded.</p></section>");
        return;
    }
    out.push_str("<table><thead><tr>");
    for h in head {
        let _ = write!(out, "<th scope=\"col\">{h}</th>");
    }
    let _ = write!(out, "</tr></thead><tbody>{rows}</tbody></table></section>");
}

/// The patient's name as the first trust's record has it.
fn name_of(s: &Summary) -> String {
    s.demographics
        .first()
        .map(|d| {
            format!(
                "{} {}",
                d.given.clone().unwrap_or_default(),
                d.family.clone().unwrap_or_default()
            )
        })
        .unwrap_or_default()
}

/// The withheld items of `kind` as rows of a table of `cols` columns.
fn withheld_rows(s: &Summary, kind: &str, cols: usize) -> String {
    s.withheld
        .iter()
        .filter(|w| w.kind == kind)
        .map(|w| withheld_row(w, cols))
        .collect()
}

/// The page of a summary.
pub fn render(s: &Summary, viewer: &str) -> String {
    let mut out = String::new();
    let name = name_of(s);
    let _ = write!(
        out,
        "<p>Viewing as <strong>{}</strong>. Generated {}. Every line names the trust (ODS code) that holds it.</p>",
        esc(viewer),
        s.generated_at.format("%d %b %Y %H:%M:%S UTC")
    );
    let record_withheld: Vec<&Withheld> =
        s.withheld.iter().filter(|w| w.kind == "record").collect();
    if !record_withheld.is_empty() {
        out.push_str("<div class=\"banner\" role=\"note\"><p><strong>Some records are withheld.</strong></p><ul>");
        for w in &record_withheld {
            let _ = write!(
                out,
                "<li data-trust=\"{t}\" data-withheld=\"true\">Records held by <span class=\"trust\">{t}</span>: {why}</li>",
                t = esc(&w.trust),
                why = esc(reason_text(&w.reason))
            );
        }
        out.push_str("</ul></div>");
    }
    patient(&mut out, s);
    trusts(&mut out, s);
    referrals(&mut out, s);
    appointments(&mut out, s);
    admissions(&mut out, s);
    documents(&mut out, s);
    out.push_str("<p><a href=\"/page\">Another patient</a></p>");
    document(&format!("{} — regional care record", name.trim()), &out)
}

/// Who the patient is, as each trust has them; sealed contact details marked.
fn patient(out: &mut String, s: &Summary) {
    let name = name_of(s);
    let mut rows = String::new();
    for d in &s.demographics {
        let _ = write!(
            rows,
            "<tr data-trust=\"{t}\" data-kind=\"patient\">{cell}<td>{nhs}{v}</td><td>{name}</td><td>{born}</td><td>{sex}</td><td>{gp}</td><td>{addr}</td><td>{f}</td></tr>",
            t = esc(&d.trust),
            cell = trust_cell(&d.trust),
            nhs = opt(&d.nhs_number),
            v = if d.nhs_number_verified { " (verified)" } else { "" },
            name = esc(&format!("{} {}", d.given.clone().unwrap_or_default(), d.family.clone().unwrap_or_default())),
            born = opt(&d.birth_date),
            sex = opt(&d.sex),
            gp = opt(&d.gp_practice),
            addr = opt(&d.address),
            f = fresh(&d.as_of),
        );
    }
    rows.push_str(&withheld_rows(s, "contact", 8));
    table(
        out,
        "patient",
        &format!("Patient {}", esc(name.trim())),
        &[
            "Trust",
            "NHS number",
            "Name",
            "Born",
            "Sex",
            "GP practice",
            "Address",
            "Freshness",
        ],
        &rows,
    );
}

/// Each trust holding a record: shown or withheld, how linked, how fresh.
fn trusts(out: &mut String, s: &Summary) {
    let mut rows = String::new();
    for t in &s.trusts {
        let feeds: Vec<String> = t
            .feeds
            .iter()
            .map(|f| {
                format!(
                    "{} {}",
                    esc(&f.stream),
                    f.last_event_at.format("%d %b %H:%M:%S")
                )
            })
            .collect();
        let _ = write!(
            rows,
            "<tr data-trust=\"{tt}\" data-kind=\"trust\"{w}>{cell}<td>{shown}</td><td>{by}</td><td class=\"fresh\">{feeds}</td></tr>",
            tt = esc(&t.trust),
            w = if t.shown { "" } else { " class=\"withheld\" data-withheld=\"true\"" },
            cell = trust_cell(&t.trust),
            shown = if t.shown { "Shown".to_string() } else { format!("Withheld: {}", esc(reason_text(&t.reason))) },
            by = esc(&t.linked_by),
            feeds = feeds.join("; "),
        );
    }
    table(
        out,
        "trusts",
        "Trusts holding a record",
        &["Trust", "Shown", "Linked by", "Last heard from"],
        &rows,
    );
}

/// Referrals with their RTT clocks.
fn referrals(out: &mut String, s: &Summary) {
    let mut rows = String::new();
    for r in &s.referrals {
        let (clock, weeks) = r
            .rtt
            .as_ref()
            .map(|t| {
                (
                    match t.clock_start {
                        Some(d) => format!("{} since {d}", esc(&t.clock)),
                        None => esc(&t.clock),
                    },
                    t.weeks_waited
                        .map(|w| format!("{w}{}", if t.breach { " (over 18 weeks)" } else { "" }))
                        .unwrap_or_default(),
                )
            })
            .unwrap_or_default();
        let _ = write!(
            rows,
            "<tr data-trust=\"{t}\" data-kind=\"referral\">{cell}<td>{rec}</td><td>{spec}</td><td>{pri}</td><td>{state}</td><td>{clock}</td><td>{weeks}</td><td>{f}</td></tr>",
            t = esc(&r.trust),
            cell = trust_cell(&r.trust),
            rec = opt(&r.received_on),
            spec = opt(&r.specialty.clone().or_else(|| r.treatment_function.clone())),
            pri = opt(&r.priority),
            state = esc(&r.state),
            f = fresh(&r.as_of),
        );
    }
    table(
        out,
        "referrals",
        "Referrals and waiting times",
        &[
            "Trust",
            "Received",
            "Specialty",
            "Priority",
            "State",
            "RTT clock",
            "Weeks waited",
            "Freshness",
        ],
        &rows,
    );
}

/// Appointments, upcoming then past.
fn appointments(out: &mut String, s: &Summary) {
    let now = s.generated_at;
    for (id, title, upcoming) in [
        ("upcoming", "Upcoming appointments", true),
        ("past", "Past appointments", false),
    ] {
        let mut rows = String::new();
        for a in s
            .appointments
            .iter()
            .filter(|a| a.starts_at.is_some_and(|t| t >= now) == upcoming)
        {
            let _ = write!(
                rows,
                "<tr data-trust=\"{t}\" data-kind=\"appointment\">{cell}<td>{when}</td><td>{tf}</td><td>{team}</td><td>{st}</td><td>{f}</td></tr>",
                t = esc(&a.trust),
                cell = trust_cell(&a.trust),
                when = when(&a.starts_at),
                tf = opt(&a.treatment_function),
                team = opt(&a.team),
                st = esc(&a.status),
                f = fresh(&a.as_of),
            );
        }
        table(
            out,
            id,
            title,
            &["Trust", "When", "Clinic", "Team", "Status", "Freshness"],
            &rows,
        );
    }
}

/// Hospital spells; sealed ones as withheld rows.
fn admissions(out: &mut String, s: &Summary) {
    let mut rows = String::new();
    for a in &s.admissions {
        let _ = write!(
            rows,
            "<tr data-trust=\"{t}\" data-kind=\"admission\">{cell}<td>{adm}</td><td>{ward}</td><td>{st}</td><td>{dis}</td><td>{f}</td></tr>",
            t = esc(&a.trust),
            cell = trust_cell(&a.trust),
            adm = when(&a.admitted_at),
            ward = opt(&a.ward.clone().or_else(|| a.ward_team.clone())),
            st = esc(&a.status),
            dis = when(&a.discharged_at),
            f = fresh(&a.as_of),
        );
    }
    rows.push_str(&withheld_rows(s, "admission", 6));
    table(
        out,
        "admissions",
        "Admissions and discharges",
        &[
            "Trust",
            "Admitted",
            "Ward",
            "Status",
            "Discharged",
            "Freshness",
        ],
        &rows,
    );
}

/// Documents, each with its Read link once signed; sealed ones as withheld rows.
fn documents(out: &mut String, s: &Summary) {
    let mut rows = String::new();
    for d in &s.documents {
        let _ = write!(
            rows,
            "<tr data-trust=\"{t}\" data-kind=\"document\">{cell}<td>{date}</td><td>{title}</td><td>{ty}</td><td>{author}</td><td>{st}</td><td>{f}</td><td>{read}</td></tr>",
            t = esc(&d.trust),
            cell = trust_cell(&d.trust),
            date = d.created_at.format("%d %b %Y"),
            title = esc(&d.title),
            ty = esc(&d.type_code),
            author = esc(&d.author),
            st = esc(&d.status),
            f = fresh(&d.as_of),
            read = if d.readable {
                format!(
                    "<a href=\"/page/patients/{}/documents/{}\">Read<span class=\"skip\"> {}</span></a>",
                    esc(&s.patient_id),
                    d.id,
                    esc(&d.title)
                )
            } else {
                "Not signed yet".to_string()
            },
        );
    }
    rows.push_str(&withheld_rows(s, "document", 8));
    table(
        out,
        "documents",
        "Documents",
        &[
            "Trust",
            "Date",
            "Title",
            "Type (SNOMED CT)",
            "Author",
            "Status",
            "Freshness",
            "Content",
        ],
        &rows,
    );
}
