//! A webhook receiver on loopback (a small axum server in its own thread) that records
//! every delivery and answers as the test tells it: fail the first N, answer 410, …

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use std::sync::{Arc, Mutex};

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Delivery {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct Shared {
    deliveries: Vec<Delivery>,
    /// Statuses to answer, in order; 200 once they run out.
    script: Vec<u16>,
}

pub struct Receiver {
    pub url: String,
    shared: Arc<Mutex<Shared>>,
    _thread: std::thread::JoinHandle<()>,
}

impl Receiver {
    /// A receiver answering `script` in order, then 200.
    pub fn start(script: &[u16]) -> Receiver {
        Receiver::start_on(std::net::TcpListener::bind("127.0.0.1:0").unwrap(), script)
    }

    /// Like `start`, on a listener the test already bound (to know the URL first).
    pub fn start_on(listener: std::net::TcpListener, script: &[u16]) -> Receiver {
        let shared = Arc::new(Mutex::new(Shared {
            deliveries: Vec::new(),
            script: script.iter().rev().copied().collect(),
        }));
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let state = shared.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let app = Router::new().route(
                    "/hook",
                    post(move |headers: HeaderMap, body: Bytes| {
                        let state = state.clone();
                        async move {
                            let mut shared = state.lock().unwrap();
                            shared.deliveries.push(Delivery {
                                headers: headers
                                    .iter()
                                    .map(|(k, v)| {
                                        (k.to_string(), v.to_str().unwrap_or("").to_owned())
                                    })
                                    .collect(),
                                body: String::from_utf8_lossy(&body).into_owned(),
                            });
                            let status = shared.script.pop().unwrap_or(200);
                            let mut response =
                                axum::response::Response::new(axum::body::Body::empty());
                            *response.status_mut() = StatusCode::from_u16(status).unwrap();
                            if (300..400).contains(&status) {
                                response.headers_mut().insert(
                                    "location",
                                    "http://127.0.0.1:9/elsewhere".parse().unwrap(),
                                );
                            }
                            response
                        }
                    }),
                );
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        Receiver {
            url,
            shared,
            _thread: thread,
        }
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.lock().unwrap().deliveries.clone()
    }

    /// Deliveries whose body has this `type`.
    pub fn of_type(&self, event: &str) -> Vec<Delivery> {
        self.deliveries()
            .into_iter()
            .filter(|d| {
                serde_json::from_str::<serde_json::Value>(&d.body).is_ok_and(|b| b["type"] == event)
            })
            .collect()
    }
}
