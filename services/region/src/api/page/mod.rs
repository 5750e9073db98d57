//! The summary as a page for clinicians on a ward computer: server-rendered HTML (no script),
//! large type and strong contrast, headings and tables a screen reader can walk, a skip link,
//! every control reachable with the keyboard. Each line names its trust; sealed and withheld
//! items are rows marked withheld, never silently absent. Signing in stands in for the
//! smartcard: the token goes in a form and comes back as an HttpOnly, SameSite=Strict cookie
//! scoped to `/page`, which the gate reads on GET only (ADR 35).
use super::{patient_id, Caller};
use crate::app::{refuse, summary as app};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use tessera_edge::problem::{ApiError, Flavour};
use utoipa::ToSchema;

mod render;
pub use render::render;

/// The cookie the page's session rides on (the gate reads it on GET when no bearer is sent).
pub const SESSION_COOKIE: &str = "tessera_session";

/// Text made safe for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:18px/1.5 system-ui,sans-serif;margin:0;color:#0b0c0c;background:#fff}\
header{background:#005eb8;color:#fff;padding:12px 24px}header h1{margin:0;font-size:28px}\
main{padding:12px 24px}h2{font-size:24px;margin:28px 0 8px;border-bottom:3px solid #005eb8}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #b1b4b6;vertical-align:top}\
th{background:#f0f4f5}.trust{font-weight:700;font-family:monospace;font-size:20px}\
.withheld{background:#fff7bf;font-style:italic}.fresh{color:#4c6272;font-size:15px}\
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#ffeb3b;color:#000;padding:8px;z-index:9}\
a:focus,button:focus,input:focus,textarea:focus{outline:4px solid #ffeb3b;outline-offset:0;box-shadow:0 0 0 6px #0b0c0c}\
label{display:block;font-weight:700;margin-top:12px}input,textarea{font:inherit;width:100%;max-width:40em;border:2px solid #0b0c0c;padding:6px}\
button{font:inherit;font-weight:700;background:#007f3b;color:#fff;border:0;padding:10px 18px;margin-top:16px;cursor:pointer}\
.banner{border-left:8px solid #d5281b;padding:8px 16px;background:#fde8e6}";

pub(super) fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>\
         <a class=\"skip\" href=\"#main\">Skip to content</a>\
         <header><h1>Regional care record</h1></header><main id=\"main\" tabindex=\"-1\">{body}</main></body></html>",
        esc(title)
    )
}

fn html(status: StatusCode, page: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ))
        .body(page)
}

fn login_page(note: Option<&str>) -> String {
    let note = note
        .map(|n| format!("<p class=\"banner\" role=\"alert\">{}</p>", esc(n)))
        .unwrap_or_default();
    document(
        "Sign in — regional care record",
        &format!(
            "<h2>Sign in</h2>{note}<form method=\"post\" action=\"/page/session\">\
             <label for=\"token\">Your session token (from your smartcard sign-in)</label>\
             <textarea id=\"token\" name=\"token\" rows=\"4\" required autocomplete=\"off\"></textarea>\
             <label for=\"patient\">Patient id (your trust's)</label>\
             <input id=\"patient\" name=\"patient\" required autocomplete=\"off\">\
             <button type=\"submit\">Show the regional record</button></form>"
        ),
    )
}

#[utoipa::path(tag = "page",
    responses((status = 200, description = "The sign-in form (HTML)", content_type = "text/html")))]
#[get("/page")]
pub async fn login() -> HttpResponse {
    html(StatusCode::OK, login_page(None))
}

/// The sign-in form's fields (`application/x-www-form-urlencoded`).
#[derive(ToSchema)]
pub struct SessionForm {
    token: String,
    patient: String,
}

#[utoipa::path(tag = "page",
    request_body(content = SessionForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in: the session cookie set, on to the patient's page"),
        (status = 400, description = "The form again, saying what was wrong (HTML)", content_type = "text/html")
    ))]
#[post("/page/session")]
pub async fn session(req: HttpRequest, body: web::Bytes) -> HttpResponse {
    // Read whatever was sent as a form: a missing or mistyped body is the form again with
    // what was wrong, never a bare error.
    let field = |name: &str| {
        form_urlencoded::parse(&body)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let form = SessionForm {
        token: field("token"),
        patient: field("patient"),
    };
    let token = form.token.trim();
    let Some(id) = tessera_patients::PatientId::parse(&form.patient) else {
        return html(
            StatusCode::BAD_REQUEST,
            login_page(Some("The patient id is a UUID.")),
        );
    };
    let printable = !token.is_empty()
        && token.len() <= 8192
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !printable {
        return html(
            StatusCode::BAD_REQUEST,
            login_page(Some("That is not a session token.")),
        );
    }
    let secure = if req.connection_info().scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    HttpResponse::SeeOther()
        .insert_header((
            "Set-Cookie",
            format!("{SESSION_COOKIE}={token}; Path=/page; HttpOnly; SameSite=Strict; Max-Age=43200{secure}"),
        ))
        .insert_header(("Location", format!("/page/patients/{id}")))
        .insert_header(("Cache-Control", "no-store"))
        .finish()
}

#[utoipa::path(tag = "page",
    params(("id" = uuid::Uuid, Path, description = "The patient, by the viewer's own trust's id")),
    responses(
        (status = 200, description = "The regional summary as a page (HTML)", content_type = "text/html"),
        (status = 403, description = "Refused, as a page saying why (HTML)", content_type = "text/html")
    ))]
#[get("/page/patients/{id}")]
pub async fn patient_page(caller: Caller, path: web::Path<String>) -> HttpResponse {
    let answer = async {
        let auth = caller.permit(Flavour::Json).await?;
        let patient = match patient_id(&path) {
            Ok(p) => p,
            Err(e) => return refuse(&auth, None, e).await,
        };
        let viewer = format!(
            "{} ({})",
            auth.identity.user_id, auth.identity.role.organisation
        );
        app::summary(&auth, patient).await.map(|s| (s, viewer))
    }
    .await;
    match answer {
        Ok((s, viewer)) => html(StatusCode::OK, render(&s, &viewer)),
        Err(e) => refused(&e),
    }
}

#[utoipa::path(tag = "page",
    params(
        ("id" = uuid::Uuid, Path, description = "The patient, by the viewer's own trust's id"),
        ("document" = uuid::Uuid, Path, description = "A document the page lists as readable")
    ),
    responses(
        (status = 200, description = "The signed version's content, as its trust shared it", content_type = "application/octet-stream"),
        (status = 403, description = "Refused, as a page saying why (HTML)", content_type = "text/html")
    ))]
#[get("/page/patients/{id}/documents/{document}")]
pub async fn document_page(caller: Caller, path: web::Path<(String, String)>) -> HttpResponse {
    let answer = async {
        let auth = caller.permit(Flavour::Json).await?;
        let (patient, document) = match super::summary::read_ids(&path) {
            Ok(ids) => ids,
            Err(e) => return refuse(&auth, None, e).await,
        };
        match crate::app::content::content(&auth, patient, document).await? {
            crate::app::content::Answer::Shown(c) => Ok(c),
            crate::app::content::Answer::Refused(e) => Err(e),
        }
    }
    .await;
    match answer {
        Ok(c) => super::summary::shown(c),
        Err(e) => refused(&e),
    }
}

fn refused(e: &ApiError) -> HttpResponse {
    let body = format!(
        "<h2>Not shown</h2><p class=\"banner\" role=\"alert\">{}</p><p>Code: <code>{}</code></p>\
         <p><a href=\"/page\">Sign in again, or choose another patient</a></p>",
        esc(&e.detail),
        esc(e.code)
    );
    let mut r = html(
        e.status,
        document("Not shown — regional care record", &body),
    );
    if let Some(s) = e.retry_after {
        r.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from(s),
        );
    }
    r
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn text_is_escaped_for_content_and_attributes() {
        assert_eq!(
            esc("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}
