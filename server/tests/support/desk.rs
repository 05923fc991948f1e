//! A member of staff in a plain HTTP client: keeps the desk's cookies, follows no
//! redirect (tests look at them), and reads the CSRF token from the page's forms.

use super::{Reply, Server};
use nearmiss_server::people::{self, NewPerson};
use nearmiss_server::states::Role;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Every test person's password.
pub const PASSWORD: &str = "correct horse battery";

impl Server {
    /// Adds a person who works the desk (owners: every site; agents: `sites` by key).
    pub fn add_person(&self, email: &str, name: &str, role: Role, sites: &[&str]) {
        let person = NewPerson {
            email: email.into(),
            name: name.into(),
            role,
            sites: sites.iter().map(|s| s.to_string()).collect(),
            password: PASSWORD.into(),
        };
        people::add(&self.store, person, 0).expect("adding the person");
    }
}

pub struct Staff<'a> {
    server: &'a Server,
    agent: ureq::Agent,
    cookies: RefCell<BTreeMap<String, String>>,
}

/// The value of the first `name="csrf"` field of a page.
pub fn csrf_of(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("a CSRF field in {page}"));
    let rest = &page[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

fn form_encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let value: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={value}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl<'a> Staff<'a> {
    /// Nobody logged in yet.
    pub fn new(server: &'a Server) -> Staff<'a> {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_idle_connections(0)
            .build()
            .into();
        Staff {
            server,
            agent,
            cookies: RefCell::new(BTreeMap::new()),
        }
    }

    /// Logged in as `email`, through the login form.
    pub fn log_in(server: &'a Server, email: &str) -> Staff<'a> {
        let staff = Staff::new(server);
        let reply = staff.try_log_in(email, PASSWORD, "/desk/");
        assert_eq!(reply.status, 303, "logging in as {email}: {}", reply.body);
        staff
    }

    /// Posts the login form; the reply as it came.
    pub fn try_log_in(&self, email: &str, password: &str, next: &str) -> Reply {
        let form = self.get(&format!("/desk/login?next={next}"));
        let csrf = csrf_of(&form.body);
        self.post(
            "/desk/login",
            &[
                ("csrf", &csrf),
                ("email", email),
                ("password", password),
                ("next", next),
            ],
        )
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.borrow().get(name).cloned()
    }

    fn send(&self, method: &str, path: &str, body: Option<String>) -> Reply {
        let cookies = self
            .cookies
            .borrow()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{}", self.server.base, path))
            .header("cookie", cookies);
        if body.is_some() {
            request = request.header("content-type", "application/x-www-form-urlencoded");
        }
        let request = request.body(body.unwrap_or_default().into_bytes()).unwrap();
        let reply = Reply::from(self.agent.run(request).expect("the server answers"));
        for (name, value) in &reply.headers {
            if !name.eq_ignore_ascii_case("set-cookie") {
                continue;
            }
            let pair = value.split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                let mut cookies = self.cookies.borrow_mut();
                if v.is_empty() {
                    cookies.remove(k);
                } else {
                    cookies.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        reply
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None)
    }

    pub fn post(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        self.send("POST", path, Some(form_encode(fields)))
    }

    /// Posts a form of the page at `page`, with that page's CSRF token.
    pub fn submit(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Reply {
        let csrf = csrf_of(&self.get(page).body);
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all)
    }

    /// Records a step on a case through its page's form.
    pub fn step(&self, reference: &str, fields: &[(&str, &str)]) -> Reply {
        let page = format!("/desk/cases/{reference}");
        self.submit(&page, &format!("{page}/steps"), fields)
    }
}
