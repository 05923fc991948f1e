//! `GET /metrics`: the Prometheus text a scraper reads, parsed by a Prometheus text
//! parser; behind an API token, or apart on its own address without one.

mod support;

use prometheus_parse::{Scrape, Value};
use support::{id, rating, Server};

fn scrape(text: &str) -> Scrape {
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text")
}

/// The value of the sample `name` whose labels include all of `labels`.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .find(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .and_then(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => Some(*v),
            _ => None,
        })
}

#[test]
fn metrics_count_ratings_cases_alerts_and_requests() {
    let server = Server::start();
    let token = server.token("Prometheus");
    for (n, score) in [(1, 5), (2, 5), (3, 2)] {
        let reply = server.post_json(
            "/v1/ratings",
            &rating(&server.site, score).id(&id(n)).json(),
        );
        assert_eq!(reply.status, 201);
    }
    assert_eq!(server.get("/v1/cases/NM-NONE").status, 401);
    assert_eq!(server.get("/metrics").status, 401, "behind a token");
    let reply = server.authed("GET", "/metrics", &token, None);
    assert_eq!(reply.status, 200);
    let metrics = scrape(&reply.body);
    let site = server.site.as_str();
    assert_eq!(
        value(
            &metrics,
            "nearmiss_ratings_total",
            &[("site", site), ("perfect", "true")]
        ),
        Some(2.0)
    );
    assert_eq!(
        value(
            &metrics,
            "nearmiss_ratings_total",
            &[("site", site), ("perfect", "false")]
        ),
        Some(1.0)
    );
    assert_eq!(value(&metrics, "nearmiss_cases_open", &[]), Some(1.0));
    assert_eq!(value(&metrics, "nearmiss_cases_overdue", &[]), Some(0.0));
    assert_eq!(
        value(&metrics, "nearmiss_alerts_pending", &[]),
        Some(0.0),
        "no endpoint, no message"
    );
    assert_eq!(value(&metrics, "nearmiss_alerts_failed", &[]), Some(0.0));
    assert_eq!(
        value(
            &metrics,
            "nearmiss_http_requests_total",
            &[
                ("route", "/v1/ratings"),
                ("method", "POST"),
                ("status", "201")
            ]
        ),
        Some(3.0)
    );
    assert_eq!(
        value(
            &metrics,
            "nearmiss_http_requests_total",
            &[("route", "/v1/cases/:reference"), ("status", "401")]
        ),
        Some(1.0),
        "routes are labelled by their pattern, never by the path"
    );
    let histogram = metrics
        .samples
        .iter()
        .find(|s| {
            s.metric == "nearmiss_http_request_duration_seconds"
                && s.labels.get("route") == Some("/v1/ratings")
        })
        .expect("a duration histogram for the ratings route");
    match &histogram.value {
        Value::Histogram(buckets) => assert_eq!(buckets.last().unwrap().count, 3.0),
        other => panic!("not a histogram: {other:?}"),
    }
}

#[test]
fn serve_metrics_listen_serves_metrics_apart_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    };
    let (main, apart) = (free(), free());
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_nearmiss"))
        .arg("--db")
        .arg(dir.path().join("m.db"))
        .args(["serve", "--listen", &main.to_string()])
        .args(["--metrics-listen", &apart.to_string()])
        .env("NEARMISS_LOG", "warn")
        .spawn()
        .expect("starting nearmiss");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let get = |url: String| {
        agent.get(&url).call().map(|mut r| {
            (
                r.status().as_u16(),
                r.body_mut().read_to_string().unwrap_or_default(),
            )
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let scraped = loop {
        match get(format!("http://{apart}/metrics")) {
            Ok(reply) => break reply,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(50))
            }
            Err(err) => panic!("metrics never answered on {apart}: {err}"),
        }
    };
    let apart_cases = get(format!("http://{apart}/v1/cases")).unwrap();
    let main_metrics = get(format!("http://{main}/metrics")).unwrap();
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(scraped.0, 200);
    assert!(
        value(&scrape(&scraped.1), "nearmiss_cases_open", &[]).is_some(),
        "{}",
        scraped.1
    );
    assert_eq!(apart_cases.0, 404, "only /metrics is served there");
    assert_eq!(main_metrics.0, 401, "on the main address it needs a token");
}
