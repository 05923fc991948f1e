//! `nearmiss`: runs the collector (`serve`) and manages sites (`site add`).

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use nearmiss_core::Scale;
use nearmiss_server::sites::{self, SiteSettings};
use nearmiss_server::{store, AppState, Assets, Clock, Store};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// nearmiss: every score below perfect is flagged for immediate follow-up.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The SQLite database file (created if missing).
    #[arg(
        long,
        env = "NEARMISS_DB",
        default_value = "nearmiss.db",
        global = true
    )]
    db: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server: collector API, widget files, demo page.
    Serve(ServeArgs),
    /// Manage the sites that embed the widget.
    #[command(subcommand)]
    Site(SiteCommand),
    /// Manage API tokens for the private API.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage where a site's alerts go.
    #[command(subcommand)]
    Alert(AlertCommand),
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Make an API token and print it (it is stored only as a hash).
    Add {
        /// Who or what uses it; recorded as the actor of the steps it records.
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum AlertCommand {
    /// Send a site's alerts to a webhook, a Slack channel or an email address.
    Add(AlertAddArgs),
    /// Show a site's alert endpoints and their delivery state.
    List {
        /// The site's key.
        #[arg(long)]
        site: String,
    },
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("to").required(true).args(["webhook", "slack", "email"])))]
struct AlertAddArgs {
    /// The site's key.
    #[arg(long)]
    site: String,
    /// A Standard Webhooks endpoint URL; prints the signing secret.
    #[arg(long)]
    webhook: Option<String>,
    /// A Slack-compatible incoming-webhook URL.
    #[arg(long)]
    slack: Option<String>,
    /// An email address (needs `serve --smtp-url`).
    #[arg(long)]
    email: Option<String>,
    /// Escalation contact: receives only overdue alerts.
    #[arg(long)]
    escalation: bool,
    /// Allow a loopback or private address (development only).
    #[arg(long)]
    allow_private: bool,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "NEARMISS_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Folder with the built widget (`target/widget`); default: the files embedded by
    /// `cargo xtask dist`.
    #[arg(long, env = "NEARMISS_ASSETS")]
    assets: Option<PathBuf>,
    /// Requests per minute allowed from one client address on the public API (0: no limit).
    #[arg(long, env = "NEARMISS_RATE_LIMIT", default_value_t = 120)]
    rate_limit: u32,
    /// Ratings and details per minute allowed for one site, from all clients (0: no limit).
    #[arg(long, env = "NEARMISS_SITE_RATE_LIMIT", default_value_t = 6000)]
    site_rate_limit: u32,
    /// This server's public base URL, for links in alerts and emails (default: http://LISTEN).
    #[arg(long, env = "NEARMISS_PUBLIC_URL")]
    public_url: Option<String>,
    /// SMTP server for email alerts: smtp://host:port, smtps://user:pass@host, or
    /// smtp://host?tls=required.
    #[arg(long, env = "NEARMISS_SMTP_URL")]
    smtp_url: Option<String>,
    /// The From: address of emails.
    #[arg(
        long,
        env = "NEARMISS_MAIL_FROM",
        default_value = "nearmiss <nearmiss@localhost>"
    )]
    mail_from: String,
    /// Deliver alerts to loopback and private addresses (development only).
    #[arg(long, env = "NEARMISS_ALLOW_PRIVATE_TARGETS")]
    allow_private_targets: bool,
}

#[derive(Subcommand)]
enum SiteCommand {
    /// Add a site and print its public key.
    Add(SiteAddArgs),
    /// Sign an interaction, as the business's server would; prints the token.
    Sign {
        /// The site's key.
        #[arg(long)]
        site: String,
        /// The interaction (order, visit, ticket) to sign.
        #[arg(long)]
        interaction: String,
        /// How long the token is valid.
        #[arg(long, default_value = "7d", value_parser = humantime::parse_duration)]
        valid_for: Duration,
    },
    /// Give a site a new public key; the old one keeps working during the grace period.
    RotateKey {
        /// The site's current key.
        #[arg(long)]
        site: String,
        /// How long the old key keeps working (pages and caches still carry it).
        #[arg(long, default_value = "7d", value_parser = humantime::parse_duration)]
        grace: Duration,
    },
    /// Stop every key of a site at once (its data stays; rotate-key revives it).
    Revoke {
        /// The site's key.
        #[arg(long)]
        site: String,
    },
}

#[derive(Args)]
struct SiteAddArgs {
    /// The business's name, as staff and customers know it.
    #[arg(long)]
    name: String,
    /// An origin allowed to send ratings, like https://shop.example (repeatable).
    #[arg(long = "origin", required = true)]
    origins: Vec<String>,
    /// The rating scale: 5 (1 to 5 stars) or 10 (0 to 10).
    #[arg(long, default_value_t = 5)]
    scale: u8,
    /// A near miss must be acknowledged within this (e.g. 15m, 1h).
    #[arg(long, default_value = "15m", value_parser = humantime::parse_duration)]
    ack_within: Duration,
    /// A case must be closed within this (e.g. 2d).
    #[arg(long, default_value = "2d", value_parser = humantime::parse_duration)]
    close_within: Duration,
    /// A reason chip offered after a near miss (repeatable; default: a general set).
    #[arg(long = "reason")]
    reasons: Vec<String>,
    /// The apology shown at once after a near miss.
    #[arg(long)]
    apology: Option<String>,
    /// Who will get back to the customer (default: "The NAME team").
    #[arg(long)]
    owner: Option<String>,
    /// A public review link, offered to every rater.
    #[arg(long)]
    review_url: Option<String>,
    /// A root-cause category staff choose from (repeatable; default: a general set).
    #[arg(long = "cause")]
    causes: Vec<String>,
    /// Accept only ratings of interactions the business's server signed.
    #[arg(long)]
    require_token: bool,
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("NEARMISS_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(&cli.db, args),
        Command::Site(SiteCommand::Add(args)) => add_site(&cli.db, args),
        Command::Site(SiteCommand::Sign {
            site,
            interaction,
            valid_for,
        }) => sign(&cli.db, &site, &interaction, valid_for),
        Command::Site(SiteCommand::RotateKey { site, grace }) => rotate_key(&cli.db, &site, grace),
        Command::Site(SiteCommand::Revoke { site }) => revoke(&cli.db, &site),
        Command::Token(TokenCommand::Add { name }) => add_token(&cli.db, &name),
        Command::Alert(AlertCommand::Add(args)) => add_alert(&cli.db, args),
        Command::Alert(AlertCommand::List { site }) => list_alerts(&cli.db, &site),
    }
}

fn open_store(db: &Path) -> Result<Store> {
    Store::open(db).with_context(|| format!("opening the database at {}", db.display()))
}

fn serve(db: &Path, args: ServeArgs) -> Result<()> {
    let store = open_store(db)?;
    let assets = match &args.assets {
        Some(dir) => Assets::from_dir(dir)
            .with_context(|| format!("reading the widget assets in {}", dir.display()))?,
        None => Assets::embedded().unwrap_or_else(|| {
            tracing::warn!(
                "no widget assets: pass --assets target/widget (after `cargo xtask build`) \
                 or use a binary from `cargo xtask dist`; the API works without them"
            );
            Assets::default()
        }),
    };
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.listen));
    let alerts = nearmiss_server::Alerts::new(
        &public_url,
        args.smtp_url.clone(),
        &args.mail_from,
        args.allow_private_targets,
    );
    let state = AppState::new(store, assets, args.rate_limit)
        .with_alerts(alerts)
        .with_site_limit(args.site_rate_limit);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        tracing::info!(db = %db.display(), "nearmiss listening on http://{addr}");
        nearmiss_server::serve(listener, state, shutdown_signal())
            .await
            .context("serving HTTP")
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

fn add_site(db: &Path, args: SiteAddArgs) -> Result<()> {
    let mut settings = SiteSettings::new(&args.name);
    if args.name.trim().is_empty() {
        bail!("--name must not be empty");
    }
    settings.scale = Scale::try_from(args.scale)
        .map_err(|_| anyhow::anyhow!("--scale must be 5 or 10, not {}", args.scale))?;
    for origin in &args.origins {
        match sites::normalize_origin(origin) {
            Some(normalized) => settings.origins.push(normalized),
            None => bail!("--origin {origin:?} is not an origin like https://shop.example"),
        }
    }
    settings.ack_within = args.ack_within;
    settings.close_within = args.close_within;
    if !args.reasons.is_empty() {
        settings.reasons = args.reasons;
    }
    if let Some(apology) = args.apology {
        settings.apology = apology;
    }
    if let Some(owner) = args.owner {
        settings.owner = owner;
    }
    if !args.causes.is_empty() {
        settings.causes = args.causes;
    }
    settings.require_token = args.require_token;
    settings.review_url = args.review_url;

    let store = open_store(db)?;
    let key = format!("s_{}", sites::random_token(20));
    let secret = sites::random_token(40);
    let now = Clock::system().now();
    let site = store
        .run_now(|conn| store::add_site(conn, &settings, &key, &secret, now))
        .context("adding the site")?;
    eprintln!(
        "Added site {:?}. Embed the widget with:\n  <script src=\"https://YOUR-NEARMISS-HOST/nearmiss.js\" data-site=\"{}\" async></script>\n\
         Its secret for signing interactions (keep it on your server): {}",
        site.settings.name, site.key, site.secret
    );
    println!("{}", site.key);
    Ok(())
}

fn add_token(db: &Path, name: &str) -> Result<()> {
    if name.trim().is_empty() {
        bail!("--name must not be empty");
    }
    let store = open_store(db)?;
    let now = Clock::system().now();
    let token = store
        .run_now(|conn| nearmiss_server::auth::add_token(conn, name, now))
        .context("adding the token")?;
    eprintln!(
        "API token for {name:?}; it is shown only now. Use it as: Authorization: Bearer <token>"
    );
    println!("{token}");
    Ok(())
}

fn site_id(store: &Store, key: &str) -> Result<i64> {
    store
        .run_now(|conn| store::site_by_key(conn, key))
        .context("reading the site")?
        .map(|site| site.id)
        .ok_or_else(|| anyhow::anyhow!("no site has the key {key:?}"))
}

fn add_alert(db: &Path, args: AlertAddArgs) -> Result<()> {
    use nearmiss_server::alerts::{self, NewEndpoint};
    let (kind, target) = match (&args.webhook, &args.slack, &args.email) {
        (Some(url), _, _) => ("webhook", url.as_str()),
        (_, Some(url), _) => ("slack", url.as_str()),
        (_, _, Some(address)) => ("email", address.as_str()),
        _ => bail!("give --webhook, --slack or --email"),
    };
    if kind == "email" {
        let contact = nearmiss_core::Contact {
            email: Some(target.to_owned()),
            consent: true,
            ..Default::default()
        };
        contact
            .validate()
            .map_err(|_| anyhow::anyhow!("--email {target:?} is not an email address"))?;
    } else {
        alerts::target::check_url(target, args.allow_private)
            .with_context(|| format!("--{kind} {target}"))?;
    }
    let store = open_store(db)?;
    let site_id = site_id(&store, &args.site)?;
    let endpoint = NewEndpoint {
        kind,
        target,
        escalation: args.escalation,
    };
    let now = Clock::system().now();
    let (id, secret) = store
        .run_now(|conn| alerts::add_endpoint(conn, site_id, &endpoint, now))
        .context("adding the alert endpoint")?;
    eprintln!("Added {kind} alert endpoint {id} for {target}.");
    if let Some(secret) = secret {
        eprintln!("Verify deliveries with this Standard Webhooks signing secret:");
        println!("{secret}");
    }
    Ok(())
}

fn list_alerts(db: &Path, key: &str) -> Result<()> {
    let store = open_store(db)?;
    let site_id = site_id(&store, key)?;
    let endpoints = store
        .run_now(|conn| nearmiss_server::alerts::endpoint_states(conn, site_id))
        .context("reading the alert endpoints")?;
    println!("{}", serde_json::to_string_pretty(&endpoints)?);
    Ok(())
}

fn find_site(store: &Store, key: &str) -> Result<nearmiss_server::sites::Site> {
    store
        .run_now(|conn| store::site_by_key(conn, key))
        .context("reading the site")?
        .ok_or_else(|| anyhow::anyhow!("no active site has the key {key:?}"))
}

fn sign(db: &Path, key: &str, interaction: &str, valid_for: Duration) -> Result<()> {
    let site = find_site(&open_store(db)?, key)?;
    let expires = Clock::system().now() / 1000 + valid_for.as_secs() as i64;
    println!(
        "{}",
        nearmiss_server::interactions::sign(&site.secret, interaction, expires)
    );
    Ok(())
}

fn rotate_key(db: &Path, key: &str, grace: Duration) -> Result<()> {
    let store = open_store(db)?;
    // A revoked site is found by its id through the key it had.
    let site_id: i64 = store
        .run_now(|conn| {
            Ok(conn.query_row(
                "SELECT id FROM sites WHERE key = ?1 UNION SELECT site_id FROM site_keys WHERE key = ?1",
                [key],
                |row| row.get(0),
            )?)
        })
        .with_context(|| format!("no site has the key {key:?}"))?;
    let new_key = format!("s_{}", sites::random_token(20));
    let now = Clock::system().now();
    let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX / 2);
    store
        .run_now(|conn| store::rotate_key(conn, site_id, &new_key, grace_ms, now))
        .context("rotating the key")?;
    eprintln!(
        "New key; the old one works for {}. Update data-site to:",
        humantime::format_duration(grace)
    );
    println!("{new_key}");
    Ok(())
}

fn revoke(db: &Path, key: &str) -> Result<()> {
    let store = open_store(db)?;
    let site = find_site(&store, key)?;
    store
        .run_now(|conn| store::revoke_site(conn, site.id, Clock::system().now()))
        .context("revoking the site's keys")?;
    eprintln!(
        "Every key of {:?} is revoked; `nearmiss site rotate-key --site {key}` issues a new one.",
        site.settings.name
    );
    Ok(())
}
