//! Just enough of the W3C WebDriver protocol to drive headless Chromium through
//! chromedriver: open a page, find elements (inside shadow roots too), click, type.

use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const SHADOW: &str = "shadow-6066-11e4-a52e-4f735466cecf";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    _profile: tempfile::TempDir,
}

/// An element or a shadow root to search in.
#[derive(Clone, Debug)]
pub enum Node {
    Element(String),
    Shadow(String),
}

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium session.
    pub fn start() -> Browser {
        Browser::start_in("en-US,en")
    }

    /// Like [`Browser::start`], for a customer whose browser asks for `languages`
    /// (`de-DE,de`): its `navigator.languages` and `Accept-Language`.
    pub fn start_in(languages: &str) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!("starting {CHROMEDRIVER} ({err}): apt-get install chromium-driver")
            });
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while agent.get(format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().unwrap();
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
            agent,
            _profile: profile,
        };
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--window-size=1024,800",
            &format!("--user-data-dir={}", browser._profile.path().display()),
            &format!("--lang={}", languages.split(',').next().unwrap_or("en")),
        ];
        let prefs = json!({ "intl": { "accept_languages": languages } });
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args, "prefs": prefs },
        }}});
        let value = browser.call("POST", "/session", Some(caps));
        browser.session = value["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        browser
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{}", self.base, path);
        let mut response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => self
                .agent
                .post(&url)
                .send_json(body.unwrap_or_else(|| json!({}))),
        }
        .unwrap_or_else(|err| panic!("WebDriver {method} {path}: {err}"));
        let status = response.status();
        let body: Value = response.body_mut().read_json().unwrap_or(Value::Null);
        if !status.is_success() {
            return json!({ "error": body["value"].clone() });
        }
        body["value"].clone()
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{}", self.session, rest)
    }

    pub fn goto(&self, url: &str) {
        self.call(
            "POST",
            &self.session_path("/url"),
            Some(json!({ "url": url })),
        );
    }

    /// Finds `selector` in `within` (the document when `None`) once, or `None`.
    pub fn find_now(&self, within: Option<&Node>, selector: &str) -> Option<Node> {
        let path = match within {
            None => self.session_path("/element"),
            Some(Node::Element(id)) => self.session_path(&format!("/element/{id}/element")),
            Some(Node::Shadow(id)) => self.session_path(&format!("/shadow/{id}/element")),
        };
        let value = self.call(
            "POST",
            &path,
            Some(json!({ "using": "css selector", "value": selector })),
        );
        value[ELEMENT]
            .as_str()
            .map(|id| Node::Element(id.to_owned()))
    }

    /// Waits up to 15 s for `selector` to appear.
    #[track_caller]
    pub fn find(&self, within: Option<&Node>, selector: &str) -> Node {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(node) = self.find_now(within, selector) {
                return node;
            }
            if Instant::now() > deadline {
                let logs = self.script("return document.documentElement.outerHTML", json!([]));
                panic!("{selector} did not appear; page: {logs}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The open shadow root of `host`.
    pub fn shadow_root(&self, host: &Node) -> Node {
        let Node::Element(id) = host else {
            panic!("a shadow root has no shadow root")
        };
        let value = self.call(
            "GET",
            &self.session_path(&format!("/element/{id}/shadow")),
            None,
        );
        Node::Shadow(
            value[SHADOW]
                .as_str()
                .expect("an open shadow root")
                .to_owned(),
        )
    }

    fn element_id(node: &Node) -> &str {
        match node {
            Node::Element(id) => id,
            Node::Shadow(_) => panic!("expected an element"),
        }
    }

    pub fn click(&self, node: &Node) {
        let id = Self::element_id(node);
        let value = self.call(
            "POST",
            &self.session_path(&format!("/element/{id}/click")),
            None,
        );
        assert!(value.get("error").is_none(), "click failed: {value}");
    }

    pub fn type_text(&self, node: &Node, text: &str) {
        let id = Self::element_id(node);
        let value = self.call(
            "POST",
            &self.session_path(&format!("/element/{id}/value")),
            Some(json!({ "text": text })),
        );
        assert!(value.get("error").is_none(), "typing failed: {value}");
    }

    pub fn text(&self, node: &Node) -> String {
        let id = Self::element_id(node);
        self.call(
            "GET",
            &self.session_path(&format!("/element/{id}/text")),
            None,
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    pub fn attribute(&self, node: &Node, name: &str) -> Option<String> {
        let id = Self::element_id(node);
        self.call(
            "GET",
            &self.session_path(&format!("/element/{id}/attribute/{name}")),
            None,
        )
        .as_str()
        .map(str::to_owned)
    }

    /// Runs `script` in the page; it ends by calling its last argument with the value.
    pub fn script_async(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            &self.session_path("/execute/async"),
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Opens a new tab, switches to it, and returns the handle of the one left.
    pub fn new_tab(&self) -> String {
        let previous = self.call("GET", &self.session_path("/window"), None);
        let opened = self.call(
            "POST",
            &self.session_path("/window/new"),
            Some(json!({ "type": "tab" })),
        );
        self.switch_to(opened["handle"].as_str().expect("a new tab"));
        previous.as_str().expect("a window handle").to_owned()
    }

    /// Switches to the tab or window `handle`.
    pub fn switch_to(&self, handle: &str) {
        self.call(
            "POST",
            &self.session_path("/window"),
            Some(json!({ "handle": handle })),
        );
    }

    /// Lays pages out as a phone `width` CSS pixels wide would (a window cannot be
    /// made narrower than about 500 px, so this goes through the DevTools protocol).
    pub fn phone(&self, width: u32) {
        let params =
            json!({ "width": width, "height": 800, "deviceScaleFactor": 1, "mobile": true });
        let value = self.call(
            "POST",
            &self.session_path("/goog/cdp/execute"),
            Some(json!({ "cmd": "Emulation.setDeviceMetricsOverride", "params": params })),
        );
        assert!(value.get("error").is_none(), "emulating a phone: {value}");
    }

    /// Saves a PNG of the page to `path`.
    pub fn screenshot(&self, path: &std::path::Path) {
        use base64::Engine;
        let png = self.call("GET", &self.session_path("/screenshot"), None);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("a screenshot"))
            .expect("base64");
        std::fs::write(path, bytes).expect("writing the screenshot");
    }

    /// Runs `script` in the page with `args`; returns its value.
    pub fn script(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            &self.session_path("/execute/sync"),
            Some(json!({ "script": script, "args": args })),
        )
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self
                .agent
                .delete(format!("{}/session/{}", self.base, self.session))
                .call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
