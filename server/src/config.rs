//! How `nearmiss serve` is set up: every flag also readable from the environment, and a
//! `Default` with the same values, for tests and embedders.

use clap::Args;
use std::path::PathBuf;

/// `nearmiss serve`'s settings.
#[derive(Args, Clone, Debug)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "NEARMISS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Folder with the built widget (`target/widget`); default: the files embedded by
    /// `cargo xtask dist`.
    #[arg(long, env = "NEARMISS_ASSETS")]
    pub assets: Option<PathBuf>,
    /// Requests per minute allowed from one client address on the public API (0: no limit).
    #[arg(long, env = "NEARMISS_RATE_LIMIT", default_value_t = 120)]
    pub rate_limit: u32,
    /// Ratings and details per minute allowed for one site, from all clients (0: no limit).
    #[arg(long, env = "NEARMISS_SITE_RATE_LIMIT", default_value_t = 6000)]
    pub site_rate_limit: u32,
    /// This server's public base URL, for links in alerts and emails (default: http://LISTEN).
    #[arg(long, env = "NEARMISS_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// SMTP server for email alerts: smtp://host:port, smtps://user:pass@host, or
    /// smtp://host?tls=required.
    #[arg(long, env = "NEARMISS_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// The From: address of emails.
    #[arg(
        long,
        env = "NEARMISS_MAIL_FROM",
        default_value = "nearmiss <nearmiss@localhost>"
    )]
    pub mail_from: String,
    /// Deliver alerts to loopback and private addresses (development only).
    #[arg(long, env = "NEARMISS_ALLOW_PRIVATE_TARGETS")]
    pub allow_private_targets: bool,
    /// Erase customers' contact data this long after they gave it (e.g. 180d); kept
    /// until erased on request when absent.
    #[arg(long, env = "NEARMISS_RETAIN_CONTACTS", value_parser = humantime::parse_duration)]
    pub retain_contacts: Option<std::time::Duration>,
    /// On SIGTERM, how long requests in flight get to finish before the server stops.
    #[arg(long, env = "NEARMISS_SHUTDOWN_GRACE", default_value = "10s", value_parser = humantime::parse_duration)]
    pub shutdown_grace: std::time::Duration,
    /// A client must send a request's headers within this of connecting or of the last
    /// response; idle keep-alive connections close after it too.
    #[arg(long, env = "NEARMISS_HEADER_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_timeout: std::time::Duration,
    /// A client must send a request's body within this of its headers (else 408).
    #[arg(long, env = "NEARMISS_BODY_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub body_timeout: std::time::Duration,
    /// Connections served at once; more wait to be accepted. Default: three quarters
    /// of the open-file limit (raised to its maximum at start), at most 10,000.
    #[arg(long, env = "NEARMISS_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Also serve `/metrics` here, without a token (for a scraper on a private network).
    #[arg(long, env = "NEARMISS_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// A load balancer or proxy (an address or a network like 10.0.0.0/8, repeatable or
    /// comma-separated) whose `X-Forwarded-For` names the client; from anyone else the
    /// header is ignored.
    #[arg(
        long = "trusted-proxy",
        env = "NEARMISS_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<crate::http::proxies::Network>,
}

impl Default for ServeConfig {
    fn default() -> ServeConfig {
        ServeConfig {
            listen: "127.0.0.1:8080".into(),
            assets: None,
            rate_limit: 120,
            site_rate_limit: 6000,
            public_url: None,
            smtp_url: None,
            mail_from: "nearmiss <nearmiss@localhost>".into(),
            allow_private_targets: false,
            retain_contacts: None,
            metrics_listen: None,
            shutdown_grace: std::time::Duration::from_secs(10),
            header_timeout: std::time::Duration::from_secs(10),
            body_timeout: std::time::Duration::from_secs(10),
            max_connections: None,
            trusted_proxies: Vec::new(),
        }
    }
}

impl ServeConfig {
    /// Where links in alerts point: `--public-url`, or this server's own address.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeConfig,
    }

    #[test]
    fn the_default_is_what_the_command_line_gives_without_flags() {
        let parsed = Cli::try_parse_from(["nearmiss"]).unwrap().serve;
        let default = ServeConfig::default();
        assert_eq!(parsed.listen, default.listen);
        assert_eq!(parsed.rate_limit, default.rate_limit);
        assert_eq!(parsed.site_rate_limit, default.site_rate_limit);
        assert_eq!(parsed.mail_from, default.mail_from);
        assert_eq!(parsed.public_url(), "http://127.0.0.1:8080");
    }
}
