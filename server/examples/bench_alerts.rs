//! `cargo xtask bench alerts`: the time from `POST /v1/ratings` to the webhook received,
//! over 1,000 flagged ratings, against a real server and a real receiver on loopback.

use nearmiss_server::sites::{self, SiteSettings};
use nearmiss_server::states::EndpointKind;
use nearmiss_server::{alerts, AppState, Assets, Clock, ServeConfig, Store};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const RATINGS: usize = 1000;

fn main() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let arrivals: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let receiver = start_receiver(arrivals.clone());

    let db = dir.path().join("bench.db");
    let store = Store::open_sqlite(&db).expect("the database");
    let mut settings = SiteSettings::new("Bench Bistro");
    settings.origins = vec!["https://bench.example".into()];
    let site = sites::add(&store, settings, Clock::system().now()).expect("the bench site");
    let key = site.key.clone();
    alerts::add_endpoint(&store, site.id, EndpointKind::Webhook, &receiver, false, 0)
        .expect("the bench endpoint");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = ServeConfig {
        rate_limit: 0,
        site_rate_limit: 0,
        public_url: Some(base.clone()),
        allow_private_targets: true,
        ..ServeConfig::default()
    };
    let state = AppState::new(store, Assets::default(), &config);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            nearmiss_server::serve(listener, state, std::future::pending())
                .await
                .unwrap();
        });
    });

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut sent = HashMap::new();
    eprintln!("bench alerts: {RATINGS} flagged ratings, each timed from POST to webhook received");
    for n in 0..RATINGS {
        let id = format!("0b8f5c1e-4a7d-4c2b-9e3f-{n:012}");
        let body = serde_json::json!({ "id": id, "site": key, "score": 1 + (n % 4) as i64 });
        let started = Instant::now();
        let status = agent
            .post(format!("{base}/v1/ratings"))
            .send_json(&body)
            .map(|r| r.status().as_u16());
        assert_eq!(status.ok(), Some(201), "rating {n} was not accepted");
        sent.insert(id, started);
        if (n + 1) % 250 == 0 {
            eprintln!("  sent {}", n + 1);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while arrivals.lock().unwrap().len() < RATINGS {
        assert!(
            Instant::now() < deadline,
            "only {} of {RATINGS} webhooks arrived",
            arrivals.lock().unwrap().len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let arrivals = arrivals.lock().unwrap();
    let mut latencies: Vec<Duration> = sent
        .iter()
        .map(|(id, started)| arrivals[id].duration_since(*started))
        .collect();
    latencies.sort();
    let at = |q: f64| {
        latencies[((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1]
    };
    println!(
        "alerts: {} flagged ratings, POST to webhook received: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        at(0.50).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
        latencies.last().unwrap().as_secs_f64() * 1000.0
    );
}

/// A webhook receiver noting when each rating's `case.opened` arrived.
fn start_receiver(arrivals: Arc<Mutex<HashMap<String, Instant>>>) -> String {
    use axum::routing::post;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let app = axum::Router::new().route(
                "/hook",
                post(move |body: axum::body::Bytes| {
                    let arrived = Instant::now();
                    let arrivals = arrivals.clone();
                    async move {
                        let body: serde_json::Value =
                            serde_json::from_slice(&body).unwrap_or_default();
                        if body["type"] == "case.opened" {
                            if let Some(id) = body["data"]["rating"]["id"].as_str() {
                                arrivals.lock().unwrap().insert(id.to_owned(), arrived);
                            }
                        }
                        "ok"
                    }
                }),
            );
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    url
}
