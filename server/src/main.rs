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
}

#[derive(Subcommand)]
enum SiteCommand {
    /// Add a site and print its public key.
    Add(SiteAddArgs),
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
    let state = AppState::new(store, assets, args.rate_limit);
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
    settings.review_url = args.review_url;

    let store = open_store(db)?;
    let key = format!("s_{}", sites::random_token(20));
    let secret = sites::random_token(40);
    let now = Clock::system().now();
    let site = store
        .run_now(|conn| store::add_site(conn, &settings, &key, &secret, now))
        .context("adding the site")?;
    eprintln!(
        "Added site {:?}. Embed the widget with:\n  <script src=\"https://YOUR-NEARMISS-HOST/nearmiss.js\" data-site=\"{}\" async></script>",
        site.settings.name, site.key
    );
    println!("{}", site.key);
    Ok(())
}
