//! The page in a real browser: Debian's Chromium, headless, driven over the W3C WebDriver
//! protocol by ChromeDriver. Signs in with the keyboard, renders the summary, and fails if
//! any item of a trust without the patient's consent appears; withheld items must show as
//! withheld. Screenshots are kept in `target/test-artefacts/region/`.
use crate::helpers::*;
use base64::Engine as _;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tessera_testkit as kit;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const ENTER: &str = "\u{E007}";
const TAB: &str = "\u{E004}";

struct Driver {
    child: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    profile: std::path::PathBuf,
}

impl Driver {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let child = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ChromeDriver runs (cargo xtask test installs Debian's chromium-driver)");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        assert!(
            kit::wait_until(Duration::from_secs(20), || async {
                http.get(format!("{base}/status")).send().await.is_ok()
            })
            .await,
            "ChromeDriver never answered"
        );
        let profile =
            std::env::temp_dir().join(format!("tessera-chromium-{}", uuid::Uuid::new_v4()));
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         "--window-size=1280,1600",
                         format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_string();
        Self {
            child,
            base,
            session,
            http,
            profile,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut r = self.http.request(method, url);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let v: Value = r.send().await.unwrap().json().await.unwrap();
        v["value"].clone()
    }

    async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_string()
    }

    async fn type_into(&self, element: &str, text: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    async fn keys(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|k| {
                [
                    json!({ "type": "keyDown", "value": k.to_string() }),
                    json!({ "type": "keyUp", "value": k.to_string() }),
                ]
            })
            .collect();
        self.call(
            reqwest::Method::POST,
            "/actions",
            Some(json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] })),
        )
        .await;
    }

    async fn script(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    async fn screenshot(&self, name: &str) {
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/test-artefacts/region");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Every element naming a trust: (trust, kind, withheld).
    async fn lines(&self) -> Vec<(String, String, bool)> {
        let v = self
            .script("return Array.from(document.querySelectorAll('[data-trust]')).map(e => [e.dataset.trust, e.dataset.kind || '', e.dataset.withheld === 'true'])")
            .await;
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x[0].as_str().unwrap().to_string(),
                    x[1].as_str().unwrap().to_string(),
                    x[2].as_bool().unwrap(),
                )
            })
            .collect()
    }

    /// Signs in through the form with the keyboard only, and waits for the patient's page.
    async fn sign_in(&self, app: &TestApp, token: &str, patient: &str) {
        self.go(&format!("{}/page", app.base)).await;
        // The first Tab lands on the skip link.
        self.keys(TAB).await;
        let focused = self
            .script("return document.activeElement.textContent")
            .await;
        assert_eq!(focused, "Skip to content");
        let t = self.find("#token").await;
        self.type_into(&t, token).await;
        let p = self.find("#patient").await;
        self.type_into(&p, patient).await;
        self.type_into(&p, ENTER).await;
        let want = format!("/page/patients/{patient}");
        assert!(
            kit::wait_until(Duration::from_secs(20), || async {
                self.script("return location.pathname").await == want.as_str()
                    && self.script("return document.readyState").await == "complete"
            })
            .await,
            "the form never reached the patient's page"
        );
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // ChromeDriver's browser outlives it: its processes carry this test's profile path.
        let _ = Command::new("pkill")
            .arg("-f")
            .arg(self.profile.display().to_string())
            .status();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

#[tokio::test]
async fn the_page_in_a_browser_shows_withheld_items_as_withheld_and_nothing_of_a_trust_without_consent(
) {
    let app = TestApp::spawn(2).await;
    let nhs = kit::unique_nhs_number();
    let nhs = nhs.as_str();
    let here = app
        .register(0, "Franklin", "Rosalind", "1960-07-25", Some(nhs))
        .await;
    let there = app
        .register(1, "Franklin", "Rosalind", "1960-07-25", Some(nhs))
        .await;
    let (_, _, _, sealed) = crate::summary::care(&app, 1, &there).await;
    app.seal(1, &there, &format!("document:{sealed}"), &["someone-else"])
        .await;
    app.relate(0, &here).await;
    let (t0, t1) = (app.tenants[0].clone(), app.tenants[1].clone());
    let driver = Driver::start().await;
    let token = app.clinician(0, "dr-page");

    // No consent in trust 1: its record is withheld as a whole, and no item of it appears.
    driver.sign_in(&app, &token, &here).await;
    let title = driver.script("return document.title").await;
    assert!(
        title.as_str().unwrap().contains("Rosalind Franklin"),
        "{title}"
    );
    driver.screenshot("summary-without-consent").await;
    let lines = driver.lines().await;
    let leaked: Vec<_> = lines
        .iter()
        .filter(|(t, k, w)| t == &t1 && !w && k != "trust")
        .collect();
    assert!(
        leaked.is_empty(),
        "items of a trust without consent appeared: {leaked:?}"
    );
    assert!(
        lines.iter().any(|(t, _, w)| t == &t1 && *w),
        "the withheld trust is not shown as withheld"
    );
    assert!(lines.iter().any(|(t, k, _)| t == &t0 && k == "patient"));

    // Consent for trust 0: trust 1's referral, appointment and letter; the sealed note a
    // withheld row.
    app.consent(1, &there, true, &[t0.as_str()]).await;
    driver
        .go(&format!("{}/page/patients/{here}", app.base))
        .await;
    driver.screenshot("summary-with-consent").await;
    let lines = driver.lines().await;
    for kind in ["referral", "appointment", "document", "patient"] {
        assert!(
            lines.iter().any(|(t, k, w)| t == &t1 && k == kind && !w),
            "no {kind} of the consenting trust: {lines:?}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|(t, k, w)| t == &t1 && k == "document" && *w),
        "the sealed document is not shown as withheld"
    );
    let text = driver.script("return document.body.innerText").await;
    assert!(
        !text.as_str().unwrap().contains("Sexual health"),
        "the sealed title leaked"
    );
    // The letter's content, on request: its Read link.
    let read = driver
        .script("return Array.from(document.querySelectorAll('a')).filter(a => a.href.includes('/documents/')).map(a => a.href)")
        .await;
    let links: Vec<String> = read
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        links.len(),
        1,
        "one readable document (the sealed one is withheld): {links:?}"
    );
    driver.go(&links[0]).await;
    let letter = driver.script("return document.body.innerText").await;
    assert_eq!(letter, "Cardiology clinic letter: seen in clinic.");
    driver.screenshot("letter-content").await;

    // Signed in as another trust's clinician, the same id is nobody's: refused, nothing shown.
    let other = app.clinician(1, "dr-other");
    driver.sign_in_refused(&app, &other, &here).await;
    driver.screenshot("refused").await;
    app.shutdown.trigger();
}

impl Driver {
    async fn sign_in_refused(&self, app: &TestApp, token: &str, patient: &str) {
        self.go(&format!("{}/page", app.base)).await;
        let t = self.find("#token").await;
        self.type_into(&t, token).await;
        let p = self.find("#patient").await;
        self.type_into(&p, patient).await;
        self.type_into(&p, ENTER).await;
        assert!(
            kit::wait_until(Duration::from_secs(20), || async {
                self.script("return document.title")
                    .await
                    .as_str()
                    .is_some_and(|t| t.starts_with("Not shown"))
            })
            .await,
            "no refusal page"
        );
        assert!(self.lines().await.is_empty());
    }
}
