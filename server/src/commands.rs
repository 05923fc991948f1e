//! The `nearmiss` commands: each opens the database, does one thing, and says what it
//! did on standard error; what a script needs (a key, a token, a secret) goes to
//! standard output.

use crate::{AlertAddArgs, EndpointArgs, SiteAddArgs, SiteSetArgs, UserAddArgs};
use anyhow::{anyhow, bail, Context, Result};
use nearmiss_core::Scale;
use nearmiss_server::hours::OpeningHours;
use nearmiss_server::people::{self, NewPerson};
use nearmiss_server::sites::{self, Site, SiteSettings};
use nearmiss_server::states::{EndpointKind, Role};
use nearmiss_server::store::{self, Store};
use nearmiss_server::words::OwnWords;
use nearmiss_server::{alerts, tokens, AppState, Assets, Clock, ServeConfig};
use std::time::Duration;

fn open_store(db: &str) -> Result<Store> {
    Store::open(db).with_context(|| format!("opening the database at {}", store::shown(db)))
}

fn now() -> i64 {
    Clock::system().now()
}

pub fn serve(db: &str, config: ServeConfig) -> Result<()> {
    let store = open_store(db)?;
    let assets = match &config.assets {
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
    nearmiss_server::http::connections::raise_file_limit();
    let state = AppState::new(store, assets, &config);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        tracing::info!(db = %store::shown(db), "nearmiss listening on http://{addr}");
        if let Some(metrics) = &config.metrics_listen {
            let scraped = tokio::net::TcpListener::bind(metrics)
                .await
                .with_context(|| format!("listening for metrics on {metrics}"))?;
            tracing::info!("metrics on http://{metrics}/metrics, without a token");
            let app = nearmiss_server::http::metrics_app(state.clone());
            tokio::spawn(async move { axum::serve(scraped, app).await });
        }
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

pub fn add_site(db: &str, args: SiteAddArgs) -> Result<()> {
    if args.name.trim().is_empty() {
        bail!("--name must not be empty");
    }
    let mut settings = SiteSettings::new(&args.name);
    settings.scale = Scale::try_from(args.scale)
        .map_err(|_| anyhow!("--scale must be 5 or 10, not {}", args.scale))?;
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
    if !nearmiss_server::time::is_zone(&args.timezone) {
        bail!(
            "--timezone {:?} is not a time zone: use a name like Europe/London or America/New_York",
            args.timezone
        );
    }
    settings.timezone = args.timezone;
    settings.hours = args.hours.as_deref().map(hours_flag).transpose()?.flatten();
    text_flags(&mut settings.words, &args.texts)?;
    settings.review_url = args.review_url;
    settings.accent = args
        .accent
        .as_deref()
        .map(accent_flag)
        .transpose()?
        .flatten();
    // Every value goes through the same checks as the desk's form: bounded deadlines,
    // an http(s) review link, no empty reason.
    let settings = sites::SiteForm::of(&settings)
        .settings()
        .map_err(flag_error)?;

    let store = open_store(db)?;
    let site = sites::add(&store, settings, now()).context("adding the site")?;
    eprintln!(
        "Added site {:?}. Embed the widget with:\n  <script src=\"https://YOUR-NEARMISS-HOST/nearmiss.js\" data-site=\"{}\" async></script>\n\
         Its secret for signing interactions (keep it on your server): {}",
        site.settings.name, site.key, site.secret
    );
    println!("{}", site.key);
    Ok(())
}

pub fn add_token(
    db: &str,
    name: String,
    sites: Vec<String>,
    expires: Option<Duration>,
) -> Result<()> {
    if name.trim().is_empty() {
        bail!("--name must not be empty");
    }
    let store = open_store(db)?;
    let label = name.clone();
    let spec = tokens::TokenSpec {
        name,
        sites,
        expires_in: expires,
    };
    let token = tokens::make(&store, spec, now()).map_err(|err| match err {
        nearmiss_server::error::Error::UnknownSite => anyhow!("a --site key names no site"),
        other => anyhow::Error::new(other).context("adding the token"),
    })?;
    eprintln!(
        "API token for {label:?}; it is shown only now. Use it as: Authorization: Bearer <token>"
    );
    println!("{token}");
    Ok(())
}

pub fn list_tokens(db: &str) -> Result<()> {
    let store = open_store(db)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let tokens = runtime
        .block_on(tokens::list(&store))
        .context("reading the tokens")?;
    let sites = store
        .read_now(|tx| tx.sites())
        .context("reading the sites")?;
    if tokens.is_empty() {
        eprintln!("No API token yet: make one with `nearmiss token add --name NAME`.");
    }
    for token in tokens {
        let scope = if token.site_ids.is_empty() {
            "every site".to_owned()
        } else {
            sites
                .iter()
                .filter(|s| token.site_ids.contains(&s.id))
                .map(|s| s.key.as_str())
                .collect::<Vec<_>>()
                .join(",")
        };
        let expires = token
            .expires_at
            .map(|at| nearmiss_server::time::Timestamp(at).rfc3339())
            .unwrap_or_else(|| "never".into());
        println!("{}\t{}\t{scope}\texpires {expires}", token.id, token.name);
    }
    Ok(())
}

pub fn revoke_token(db: &str, id: i64) -> Result<()> {
    let store = open_store(db)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    if !runtime
        .block_on(tokens::revoke(&store, id))
        .context("revoking the token")?
    {
        bail!("no token has the id {id} (see `nearmiss token list`)");
    }
    eprintln!("Token {id} is revoked: it stops working at once.");
    Ok(())
}

fn find_site(store: &Store, key: &str) -> Result<Site> {
    store
        .read_now(|tx| tx.site_by_key(key, now()))
        .context("reading the site")?
        .ok_or_else(|| anyhow!("no active site has the key {key:?}"))
}

pub fn add_alert(db: &str, args: AlertAddArgs) -> Result<()> {
    let (kind, target) = match (&args.webhook, &args.slack, &args.email) {
        (Some(url), _, _) => (EndpointKind::Webhook, url.as_str()),
        (_, Some(url), _) => (EndpointKind::Slack, url.as_str()),
        (_, _, Some(address)) => (EndpointKind::Email, address.as_str()),
        _ => bail!("give --webhook, --slack or --email"),
    };
    alerts::check_target(kind, target, args.allow_private)
        .map_err(|why| anyhow!("--{kind}: {why}"))?;
    let store = open_store(db)?;
    let site = find_site(&store, &args.site)?;
    let (id, secret) = alerts::add_endpoint(&store, site.id, kind, target, args.escalation, now())
        .context("adding the alert endpoint")?;
    eprintln!("Added {kind} alert endpoint {id} for {target}.");
    if let Some(secret) = secret {
        eprintln!("Verify deliveries with this Standard Webhooks signing secret:");
        println!("{secret}");
    }
    Ok(())
}

pub fn list_alerts(db: &str, key: &str) -> Result<()> {
    let store = open_store(db)?;
    let site = find_site(&store, key)?;
    let endpoints = store
        .read_now(|tx| tx.endpoint_states(site.id))
        .context("reading the alert endpoints")?;
    println!("{}", serde_json::to_string_pretty(&endpoints)?);
    Ok(())
}

pub fn sign(db: &str, key: &str, interaction: &str, valid_for: Duration) -> Result<()> {
    let site = find_site(&open_store(db)?, key)?;
    let expires = now() / 1000 + valid_for.as_secs() as i64;
    println!(
        "{}",
        nearmiss_server::interactions::sign(&site.secret, interaction, expires)
    );
    Ok(())
}

pub fn rotate_key(db: &str, key: &str, grace: Duration) -> Result<()> {
    let store = open_store(db)?;
    let new_key = sites::rotate_key(&store, key, grace, now()).map_err(|err| match err {
        nearmiss_server::error::Error::UnknownSite => anyhow!("no site has the key {key:?}"),
        other => anyhow::Error::new(other).context("rotating the key"),
    })?;
    eprintln!(
        "New key; the old one works for {}. Update data-site to:",
        humantime::format_duration(grace)
    );
    println!("{new_key}");
    Ok(())
}

pub fn revoke(db: &str, key: &str) -> Result<()> {
    let store = open_store(db)?;
    let site = find_site(&store, key)?;
    sites::revoke(&store, site.id, now()).context("revoking the site's keys")?;
    eprintln!(
        "Every key of {:?} is revoked; `nearmiss site rotate-key --site {key}` issues a new one.",
        site.settings.name
    );
    Ok(())
}

pub fn add_user(db: &str, args: UserAddArgs) -> Result<()> {
    let role = Role::parse(&args.role).ok_or_else(|| anyhow!("--role must be owner or agent"))?;
    if role == Role::Owner && !args.sites.is_empty() {
        bail!("an owner works every site: leave out --site, or add them as --role agent");
    }
    let store = open_store(db)?;
    let stdin = std::io::stdin();
    if std::io::IsTerminal::is_terminal(&stdin) {
        eprint!("Password for {} (shown as you type): ", args.email);
    }
    let mut password = String::new();
    stdin
        .read_line(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let person = NewPerson {
        email: args.email,
        name: args.name,
        role,
        sites: args.sites,
        password,
    };
    let user = people::add(&store, person, now()).map_err(|err| match err {
        nearmiss_server::error::Error::UnknownSite => anyhow!("a --site key names no site"),
        nearmiss_server::error::Error::Invalid {
            field: "password",
            message,
            ..
        } => {
            anyhow!("the password on standard input: {message}")
        }
        nearmiss_server::error::Error::Invalid { field, message, .. } => {
            anyhow!("--{field}: {message}")
        }
        other => anyhow::Error::new(other).context("adding the person"),
    })?;
    eprintln!(
        "Added {} <{}> as {}. They log in at /desk/login.",
        user.name, user.email, user.role
    );
    Ok(())
}

pub fn list_users(db: &str) -> Result<()> {
    let store = open_store(db)?;
    let users = people::list(&store).context("reading the people")?;
    let sites = store
        .read_now(|tx| tx.sites())
        .context("reading the sites")?;
    if users.is_empty() {
        eprintln!("Nobody can log in yet: add someone with `nearmiss user add`.");
    }
    for user in users {
        let works = if user.is_owner() {
            "every site".to_owned()
        } else {
            sites
                .iter()
                .filter(|s| user.site_ids.contains(&s.id))
                .map(|s| format!("{} ({})", s.settings.name, s.key))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!("{}\t{}\t{}\t{works}", user.email, user.name, user.role);
    }
    Ok(())
}

pub fn remove_user(db: &str, email: &str) -> Result<()> {
    let store = open_store(db)?;
    if !people::remove(&store, email).context("removing the person")? {
        bail!("nobody has the email {email:?}");
    }
    eprintln!("Removed {email}: logged out everywhere; their cases have no owner now.");
    Ok(())
}

pub fn seed_demo(db: &str, key: &str, days: i64) -> Result<()> {
    if !(1..=365).contains(&days) {
        bail!("--days must be between 1 and 365");
    }
    let store = open_store(db)?;
    let site = find_site(&store, key)?;
    let name = site.settings.name.clone();
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let seeded = runtime
        .block_on(nearmiss_server::demo::seed(
            &store,
            site,
            days,
            now(),
            |done| {
                eprint!("\rnearmiss: seeding {name}: day {done} of {days}");
            },
        ))
        .map_err(|err| match err {
            nearmiss_server::error::Error::Invalid { message, .. } => anyhow!("{message}"),
            other => anyhow::Error::new(other).context("seeding the demo"),
        })?;
    eprintln!(
        "\nSeeded {} ratings and {} cases ({} closed) over {days} days.",
        seeded.ratings, seeded.cases, seeded.closed
    );
    Ok(())
}

pub fn test_alert(db: &str, args: EndpointArgs) -> Result<()> {
    let store = open_store(db)?;
    let site = find_site(&store, &args.site)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    if !runtime
        .block_on(alerts::send_test(&store, site, args.id, now()))
        .context("queueing the test alert")?
    {
        bail!(
            "the site has no active endpoint {} (see `nearmiss alert list`)",
            args.id
        );
    }
    eprintln!(
        "Test alert NM-TEST queued for endpoint {}; a running server sends it within seconds. \
         `nearmiss alert list --site {}` shows how it went.",
        args.id, args.site
    );
    Ok(())
}

pub fn remove_alert(db: &str, args: EndpointArgs) -> Result<()> {
    let store = open_store(db)?;
    let site = find_site(&store, &args.site)?;
    if !alerts::remove_endpoint(&store, site.id, args.id, now()).context("removing the endpoint")? {
        bail!(
            "the site has no endpoint {} (see `nearmiss alert list`)",
            args.id
        );
    }
    eprintln!("Endpoint {} removed: nothing more is sent there.", args.id);
    Ok(())
}

pub fn redeliver_alerts(db: &str, args: EndpointArgs) -> Result<()> {
    let store = open_store(db)?;
    let site = find_site(&store, &args.site)?;
    let queued =
        alerts::redeliver(&store, site.id, args.id, now()).context("queueing them again")?;
    eprintln!(
        "{queued} given-up message(s) of endpoint {} queued again, with their webhook-id.",
        args.id
    );
    Ok(())
}

pub fn list_sites(db: &str) -> Result<()> {
    let store = open_store(db)?;
    let sites = store
        .read_now(|tx| tx.sites())
        .context("reading the sites")?;
    if sites.is_empty() {
        eprintln!("No site yet: add one with `nearmiss site add`.");
    }
    for site in sites {
        println!(
            "{}\t{}\t{}",
            site.key,
            site.settings.name,
            site.settings.origins.join(" ")
        );
    }
    Ok(())
}

pub fn show_site(db: &str, key: &str) -> Result<()> {
    let store = open_store(db)?;
    let site = find_site(&store, key)?;
    let s = &site.settings;
    let endpoints = store
        .read_now(|tx| tx.endpoint_states(site.id))
        .context("reading the alert endpoints")?;
    println!("key           {}", site.key);
    println!("name          {}", s.name);
    println!("origins       {}", s.origins.join(" "));
    println!("scale         {}", u8::from(s.scale));
    println!("ack within    {}", humantime::format_duration(s.ack_within));
    println!(
        "close within  {}",
        humantime::format_duration(s.close_within)
    );
    println!("time zone     {}", s.timezone);
    match &s.hours {
        Some(hours) => println!("open          {hours} ({})", s.timezone),
        None => println!("open          always"),
    }
    for line in s.words.to_string().lines() {
        println!("text          {line}");
    }
    println!("reasons       {}", s.reasons.join(" | "));
    println!("causes        {}", s.causes.join(" | "));
    println!("apology       {}", s.apology);
    if let Some(accent) = &s.accent {
        println!("accent        {accent}");
    }
    println!("owner         {}", s.owner);
    println!(
        "review link   {}",
        s.review_url.as_deref().unwrap_or("none")
    );
    println!("signed only   {}", s.require_token);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let refused = runtime
        .block_on(nearmiss_server::origins::refused(&store, &site))
        .context("reading the refused origins")?;
    for r in &refused {
        println!(
            "refused       {}: {} requests, {} to {}",
            r.origin,
            r.refusals,
            nearmiss_server::time::Timestamp(r.first_at).rfc3339(),
            nearmiss_server::time::Timestamp(r.last_at).rfc3339()
        );
    }
    if let Some(latest) = refused.first() {
        let mut flags: Vec<String> = s.origins.iter().map(|o| format!("--origin {o}")).collect();
        flags.push(format!("--origin {}", latest.origin));
        println!(
            "              pages there cannot send ratings; if they are yours:\n              \
             nearmiss site set --site {} {}",
            site.key,
            flags.join(" ")
        );
    }
    for e in endpoints {
        println!(
            "alert {}       {} {}{} ({:?}; delivered {}, waiting {}, failed {})",
            e.id,
            e.kind,
            e.target,
            if e.escalation { " (escalation)" } else { "" },
            e.state,
            e.delivered,
            e.pending,
            e.failed
        );
    }
    Ok(())
}

pub fn list_cases(db: &str, site: Option<String>, status: String) -> Result<()> {
    let store = open_store(db)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let listing = nearmiss_server::cases::Listing {
        status: Some(status),
        site,
        ..Default::default()
    };
    let list = runtime
        .block_on(nearmiss_server::cases::list(&store, listing, now()))
        .map_err(|err| match err {
            nearmiss_server::error::Error::UnknownSite => anyhow!("--site names no site"),
            nearmiss_server::error::Error::Invalid { message, .. } => {
                anyhow!("--status: {message}")
            }
            other => anyhow::Error::new(other).context("listing the cases"),
        })?;
    if list.cases.is_empty() {
        eprintln!("No case.");
    }
    for view in list.cases {
        let case = view.case;
        let state = match (case.status, case.overdue) {
            (nearmiss_server::states::Status::Closed, _) => "closed",
            (_, true) => "overdue",
            _ => "open",
        };
        println!(
            "{}\t{state}\t{}/{}\t{}\t{}\t{}",
            case.reference,
            view.rating.score,
            view.rating.scale,
            case.site_name,
            case.opened_at.rfc3339(),
            case.assignee.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

/// A refused site setting, named by its flag.
fn flag_error(err: nearmiss_server::error::Error) -> anyhow::Error {
    match err {
        nearmiss_server::error::Error::Invalid { field, message, .. } => {
            let flag = match field {
                "origins" => "origin",
                "reasons" => "reason",
                "causes" => "cause",
                other => other,
            };
            anyhow!("--{}: {message}", flag.replace('_', "-"))
        }
        other => anyhow::Error::new(other),
    }
}

pub fn set_site(db: &str, args: SiteSetArgs) -> Result<()> {
    let store = open_store(db)?;
    let site = find_site(&store, &args.site)?;
    let mut form = sites::SiteForm::of(&site.settings);
    let lines = |values: Vec<String>| values.join("\n");
    if let Some(name) = args.name {
        form.name = name;
    }
    if !args.origins.is_empty() {
        form.origins = lines(args.origins);
    }
    if let Some(scale) = args.scale {
        form.scale = scale;
    }
    if let Some(ack) = args.ack_within {
        form.ack_within = ack;
    }
    if let Some(close) = args.close_within {
        form.close_within = close;
    }
    if !args.reasons.is_empty() {
        form.reasons = lines(args.reasons);
    }
    if !args.causes.is_empty() {
        form.causes = lines(args.causes);
    }
    if let Some(apology) = args.apology {
        form.apology = apology;
    }
    if let Some(owner) = args.owner {
        form.owner = owner;
    }
    if let Some(review) = args.review_url {
        form.review_url = review;
    }
    if let Some(signed) = args.require_token {
        form.require_token = signed.then(|| "on".into());
    }
    if let Some(zone) = args.timezone {
        form.timezone = zone;
    }
    if !args.texts.is_empty() {
        let mut words = OwnWords::parse(&form.words)
            .map_err(|why| anyhow!("the site's stored words: {why}"))?;
        text_flags(&mut words, &args.texts)?;
        form.words = words.to_string();
    }
    if let Some(accent) = args.accent {
        form.accent = accent_flag(&accent)?.unwrap_or_default();
    }
    if let Some(hours) = args.hours {
        form.hours = hours_flag(&hours)?
            .map(|h| h.to_string())
            .unwrap_or_default();
    }
    let settings = form.settings().map_err(flag_error)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime
        .block_on(sites::update(&store, site.id, settings))
        .map_err(flag_error)?;
    eprintln!("Saved; a running server uses the new settings within 2 s.");
    Ok(())
}

pub fn rotate_secret(db: &str, args: EndpointArgs, overlap: Duration) -> Result<()> {
    let store = open_store(db)?;
    let site = find_site(&store, &args.site)?;
    let Some(secret) = alerts::rotate_secret(&store, site.id, args.id, overlap, now())
        .context("rotating the secret")?
    else {
        bail!(
            "the site has no active webhook {} (see `nearmiss alert list`)",
            args.id
        );
    };
    eprintln!(
        "New signing secret for webhook {}; both sign every delivery for {}, then only this one:",
        args.id,
        humantime::format_duration(overlap)
    );
    println!("{secret}");
    Ok(())
}

/// `--hours`: opening hours, or `None` for "" (always open); an error says what is wrong.
/// `--accent`: `#0a7d5a` or `#0a7`; empty: the widget's own.
fn accent_flag(text: &str) -> Result<Option<String>> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    sites::accent(text).map(Some).ok_or_else(|| {
        anyhow!("--accent {text:?}: give a colour like #0a7d5a (or \"\" for the widget's own)")
    })
}

fn hours_flag(text: &str) -> Result<Option<OpeningHours>> {
    match text.trim() {
        "" => Ok(None),
        text => OpeningHours::parse(text)
            .map(Some)
            .map_err(|why| anyhow!("--hours {text:?}: {why}")),
    }
}

/// `--text LANG.WORD=TEXT` flags put over `words`; an error names the flag.
fn text_flags(words: &mut OwnWords, flags: &[String]) -> Result<()> {
    for flag in flags {
        let (name, text) = flag.split_once('=').ok_or_else(|| {
            anyhow!(
                "--text {flag:?}: write LANG.WORD=TEXT, like en.question=\"How was your order?\""
            )
        })?;
        words
            .set(name.trim(), text.trim())
            .map_err(|why| anyhow!("--text {why}"))?;
    }
    Ok(())
}
