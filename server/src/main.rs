//! `nearmiss`: runs the collector (`serve`) and manages sites, tokens, alert endpoints
//! and the desk's people. This file only parses the command line; the commands are in `commands`.

mod commands;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use nearmiss_server::ServeConfig;
use std::time::Duration;

/// nearmiss: every score below perfect is flagged for immediate follow-up.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The database: an SQLite file path or sqlite://PATH (created if missing), or
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DB for several servers sharing one.
    #[arg(
        long,
        env = "NEARMISS_DB",
        default_value = "nearmiss.db",
        global = true
    )]
    db: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server: collector API, widget files, demo page.
    Serve(ServeConfig),
    /// Manage the sites that embed the widget.
    #[command(subcommand)]
    Site(SiteCommand),
    /// Manage API tokens for the private API.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage where a site's alerts go.
    #[command(subcommand)]
    Alert(AlertCommand),
    /// Manage the people who work the desk.
    #[command(subcommand)]
    User(UserCommand),
    /// List cases, newest first: reference, status, score, site, opened, owner.
    Cases {
        /// Only this site's (by key).
        #[arg(long)]
        site: Option<String>,
        /// open, overdue, closed or all.
        #[arg(long, default_value = "open")]
        status: String,
    },
    /// Fill an empty site with weeks of made-up ratings and cases, to try the desk.
    Demo {
        /// The site's key (use a demo site: this is not real feedback).
        #[arg(long)]
        site: String,
        /// How many days of history.
        #[arg(long, default_value_t = 28)]
        days: i64,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a person; their password is read from standard input.
    Add(UserAddArgs),
    /// Show everybody who can log in to the desk.
    List,
    /// Remove a person: they are logged out and can no longer log in.
    Remove {
        /// Their email.
        #[arg(long)]
        email: String,
    },
}

#[derive(Args)]
pub(crate) struct UserAddArgs {
    /// Their login.
    #[arg(long)]
    pub(crate) email: String,
    /// What colleagues call them; shown on the steps they record.
    #[arg(long)]
    pub(crate) name: String,
    /// owner: manages sites, alerts, people and tokens; agent: works their sites' cases.
    #[arg(long, value_parser = ["owner", "agent"])]
    pub(crate) role: String,
    /// A site an agent works, by key (repeatable).
    #[arg(long = "site")]
    pub(crate) sites: Vec<String>,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Make an API token and print it (it is stored only as a hash).
    Add {
        /// Who or what uses it; recorded as the actor of the steps it records.
        #[arg(long)]
        name: String,
        /// Limit it to this site, by key (repeatable); without: every site.
        #[arg(long = "site")]
        sites: Vec<String>,
        /// It stops working after this long (e.g. 90d); without: until revoked.
        #[arg(long, value_parser = humantime::parse_duration)]
        expires: Option<Duration>,
    },
    /// Show every token: its id, name, sites and expiry (never the token).
    List,
    /// Stop a token at once.
    Revoke {
        /// The token's id, from `token list`.
        id: i64,
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
    /// Send a made-up near miss (NM-TEST, marked "test": true) to one endpoint.
    Test(EndpointArgs),
    /// Stop sending to an endpoint; what it had waiting is given up.
    Remove(EndpointArgs),
    /// Send an endpoint's given-up messages again, once it works.
    Redeliver(EndpointArgs),
    /// Give a webhook a new signing secret (printed); the old one also signs for a while.
    RotateSecret {
        #[command(flatten)]
        endpoint: EndpointArgs,
        /// How long both secrets sign, so the receiver can switch without a gap.
        #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
        overlap: Duration,
    },
}

#[derive(Args)]
pub(crate) struct EndpointArgs {
    /// The site's key.
    #[arg(long)]
    pub(crate) site: String,
    /// The endpoint's id, from `alert list`.
    #[arg(long)]
    pub(crate) id: i64,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("to").required(true).args(["webhook", "slack", "email"])))]
pub(crate) struct AlertAddArgs {
    /// The site's key.
    #[arg(long)]
    pub(crate) site: String,
    /// A Standard Webhooks endpoint URL; prints the signing secret.
    #[arg(long)]
    pub(crate) webhook: Option<String>,
    /// A Slack-compatible incoming-webhook URL.
    #[arg(long)]
    pub(crate) slack: Option<String>,
    /// An email address (needs `serve --smtp-url`).
    #[arg(long)]
    pub(crate) email: Option<String>,
    /// Escalation contact: receives only overdue alerts.
    #[arg(long)]
    pub(crate) escalation: bool,
    /// Allow a loopback or private address (development only).
    #[arg(long)]
    pub(crate) allow_private: bool,
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
    /// Change a site's settings; what is not given stays (a repeated flag replaces the list).
    Set(SiteSetArgs),
    /// Show every site: key, name and origins.
    List,
    /// Show one site's settings and alert endpoints.
    Show {
        /// The site's key.
        #[arg(long)]
        site: String,
    },
}

#[derive(Args)]
pub(crate) struct SiteSetArgs {
    /// The site's key.
    #[arg(long)]
    pub(crate) site: String,
    /// The business's name.
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// The origins allowed to send ratings (repeatable; replaces them all).
    #[arg(long = "origin")]
    pub(crate) origins: Vec<String>,
    /// 5 or 10 (only while the site has no ratings).
    #[arg(long)]
    pub(crate) scale: Option<String>,
    /// Like 15m.
    #[arg(long)]
    pub(crate) ack_within: Option<String>,
    /// Like 2d.
    #[arg(long)]
    pub(crate) close_within: Option<String>,
    /// The reason chips (repeatable; replaces them all).
    #[arg(long = "reason")]
    pub(crate) reasons: Vec<String>,
    /// The root-cause categories (repeatable; replaces them all).
    #[arg(long = "cause")]
    pub(crate) causes: Vec<String>,
    /// The apology after a near miss.
    #[arg(long)]
    pub(crate) apology: Option<String>,
    /// Who will get back to the customer.
    #[arg(long)]
    pub(crate) owner: Option<String>,
    /// The public review link ("" removes it).
    #[arg(long)]
    pub(crate) review_url: Option<String>,
    /// Accept only signed interactions: true or false.
    #[arg(long)]
    pub(crate) require_token: Option<bool>,
    /// The time zone staff read times in, and opening hours are read in.
    #[arg(long)]
    pub(crate) timezone: Option<String>,
    /// Opening hours, like "Mo-Fr 09:00-17:30; Sa 10:00-14:00" ("" for always open):
    /// deadlines then count open time only.
    #[arg(long)]
    pub(crate) hours: Option<String>,
    /// The widget in the site's words: LANG.WORD=TEXT, like en.question="How was your
    /// order?" or de.question="Wie war Ihre Bestellung?" (LANG: en es fr de pt it nl ar;
    /// repeatable; an empty TEXT brings back the product's words).
    #[arg(long = "text")]
    pub(crate) texts: Vec<String>,
    /// The widget's accent colour, like "#0a7d5a" ("" for the widget's own blue): its
    /// buttons and the checked score; text on it is black or white, whichever reads
    /// better. A page's --nearmiss-accent wins.
    #[arg(long)]
    pub(crate) accent: Option<String>,
}

#[derive(Args)]
pub(crate) struct SiteAddArgs {
    /// The business's name, as staff and customers know it.
    #[arg(long)]
    pub(crate) name: String,
    /// An origin allowed to send ratings, like https://shop.example (repeatable).
    #[arg(long = "origin", required = true)]
    pub(crate) origins: Vec<String>,
    /// The rating scale: 5 (1 to 5 stars) or 10 (0 to 10).
    #[arg(long, default_value_t = 5)]
    pub(crate) scale: u8,
    /// A near miss must be acknowledged within this (e.g. 15m, 1h).
    #[arg(long, default_value = "15m", value_parser = humantime::parse_duration)]
    pub(crate) ack_within: Duration,
    /// A case must be closed within this (e.g. 2d).
    #[arg(long, default_value = "2d", value_parser = humantime::parse_duration)]
    pub(crate) close_within: Duration,
    /// A reason chip offered after a near miss (repeatable; default: a general set).
    #[arg(long = "reason")]
    pub(crate) reasons: Vec<String>,
    /// The apology shown at once after a near miss.
    #[arg(long)]
    pub(crate) apology: Option<String>,
    /// Who will get back to the customer (default: "The NAME team").
    #[arg(long)]
    pub(crate) owner: Option<String>,
    /// A public review link, offered to every rater.
    #[arg(long)]
    pub(crate) review_url: Option<String>,
    /// A root-cause category staff choose from (repeatable; default: a general set).
    #[arg(long = "cause")]
    pub(crate) causes: Vec<String>,
    /// Accept only ratings of interactions the business's server signed.
    #[arg(long)]
    pub(crate) require_token: bool,
    /// The time zone staff read times in (like Europe/London), and opening hours are
    /// read in.
    #[arg(long, default_value = "UTC")]
    pub(crate) timezone: String,
    /// Opening hours, like "Mo-Fr 09:00-17:30; Sa 10:00-14:00" (default: always open):
    /// deadlines then count open time only.
    #[arg(long)]
    pub(crate) hours: Option<String>,
    /// The widget in the site's words: LANG.WORD=TEXT, like en.question="How was your
    /// order?" or de.question="Wie war Ihre Bestellung?" (LANG: en es fr de pt it nl ar;
    /// repeatable).
    #[arg(long = "text")]
    pub(crate) texts: Vec<String>,
    /// The widget's accent colour, like "#0a7d5a" ("" for the widget's own blue): its
    /// buttons and the checked score; text on it is black or white, whichever reads
    /// better. A page's --nearmiss-accent wins.
    #[arg(long)]
    pub(crate) accent: Option<String>,
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("NEARMISS_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(&cli.db, cli.command) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the context chain on one line, never a backtrace.
            eprintln!("nearmiss: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(db: &str, command: Command) -> Result<()> {
    use commands as c;
    match command {
        Command::Serve(config) => c::serve(db, config),
        Command::Site(SiteCommand::Add(args)) => c::add_site(db, args),
        Command::Site(SiteCommand::Sign {
            site,
            interaction,
            valid_for,
        }) => c::sign(db, &site, &interaction, valid_for),
        Command::Site(SiteCommand::RotateKey { site, grace }) => c::rotate_key(db, &site, grace),
        Command::Site(SiteCommand::Revoke { site }) => c::revoke(db, &site),
        Command::Token(TokenCommand::Add {
            name,
            sites,
            expires,
        }) => c::add_token(db, name, sites, expires),
        Command::Token(TokenCommand::List) => c::list_tokens(db),
        Command::Token(TokenCommand::Revoke { id }) => c::revoke_token(db, id),
        Command::Alert(AlertCommand::Add(args)) => c::add_alert(db, args),
        Command::Alert(AlertCommand::List { site }) => c::list_alerts(db, &site),
        Command::Alert(AlertCommand::Test(args)) => c::test_alert(db, args),
        Command::Alert(AlertCommand::Remove(args)) => c::remove_alert(db, args),
        Command::Alert(AlertCommand::Redeliver(args)) => c::redeliver_alerts(db, args),
        Command::Alert(AlertCommand::RotateSecret { endpoint, overlap }) => {
            c::rotate_secret(db, endpoint, overlap)
        }
        Command::Site(SiteCommand::List) => c::list_sites(db),
        Command::Site(SiteCommand::Set(args)) => c::set_site(db, args),
        Command::Site(SiteCommand::Show { site }) => c::show_site(db, &site),
        Command::Cases { site, status } => c::list_cases(db, site, status),
        Command::User(UserCommand::Add(args)) => c::add_user(db, args),
        Command::User(UserCommand::List) => c::list_users(db),
        Command::User(UserCommand::Remove { email }) => c::remove_user(db, &email),
        Command::Demo { site, days } => c::seed_demo(db, &site, days),
    }
}
