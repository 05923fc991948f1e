//! Data rights: a customer's contact data (name, email, phone) erased on request from
//! everything stored, details and alert messages alike, and after a retention period;
//! delivered alert messages pruned after 30 days. Scores and comments stay, anonymous.
//! Each erasure is recorded, without the address.

use crate::error::Error;
use crate::store::{MessageRewrite, Store, StoreError, StoredContact, Tx};
use crate::time::{millis, Clock};
use std::time::Duration;

/// Delivered alert messages are kept this long (their delivery log), then pruned.
const KEEP_DELIVERED: Duration = Duration::from_secs(30 * 24 * 3600);
/// How often retention runs.
const RETAIN_EVERY: Duration = Duration::from_secs(3600);

/// Whose contact data to erase.
#[derive(Clone, Debug)]
pub enum Person {
    /// Everything stored with this email address (any letter case).
    Email(String),
    /// Everything stored with this phone number (compared by its digits).
    Phone(String),
}

fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

/// Erases `person`'s contact data everywhere; returns how many ratings held it. `by` is
/// recorded (a token's name), the address never.
pub async fn erase(store: &Store, person: Person, by: &str, now: i64) -> Result<usize, Error> {
    let reason = match &person {
        Person::Email(email) if email.contains('@') && email.trim().len() > 2 => "request (email)",
        Person::Phone(phone) if digits(phone).len() >= 5 => "request (phone)",
        Person::Email(_) => {
            return Err(Error::invalid(
                "invalid_email",
                "email",
                "Give the email address to erase.",
            ))
        }
        Person::Phone(_) => {
            return Err(Error::invalid(
                "invalid_phone",
                "phone",
                "Give the phone number to erase.",
            ))
        }
    };
    let by = by.to_owned();
    let erased = store
        .write(move |tx| {
            let contacts: Vec<StoredContact> = match &person {
                Person::Email(email) => tx.contacts_matching(Some(email.trim()), None)?,
                Person::Phone(phone) => {
                    let wanted = digits(phone);
                    tx.contacts_matching(None, None)?
                        .into_iter()
                        .filter(|c| c.phone.as_deref().is_some_and(|p| digits(p) == wanted))
                        .collect()
                }
            };
            forget(tx, &contacts, now)?;
            // What the details no longer hold may still be in older messages.
            scrub_messages(tx, &person, now)?;
            tx.record_erasure(reason, contacts.len() as i64, &by, now)?;
            Ok::<_, StoreError>(contacts.len())
        })
        .await?;
    forget_old_pages(store).await;
    Ok(erased)
}

/// Empties the write-ahead log, where the erased bytes would otherwise linger until it
/// is reused. Retried briefly while reads are open; a failure is logged, not fatal (the
/// next checkpoints overwrite them).
async fn forget_old_pages(store: &Store) {
    for _ in 0..20 {
        let engine = store.clone();
        match tokio::task::spawn_blocking(move || engine.checkpoint_fully()).await {
            Ok(Ok(true)) => return,
            Ok(Ok(false)) => tokio::time::sleep(Duration::from_millis(50)).await,
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "checkpoint after an erasure failed");
                return;
            }
            Err(err) => {
                tracing::warn!(error = %err, "checkpoint after an erasure failed");
                return;
            }
        }
    }
    tracing::warn!("checkpoint after an erasure kept waiting on readers");
}

/// Erases contact data last updated before `now - keep` and prunes messages delivered
/// or given up more than 30 days ago; returns (ratings erased, messages pruned).
pub async fn retain(
    store: &Store,
    keep: Option<Duration>,
    now: i64,
) -> Result<(usize, usize), StoreError> {
    let cutoff = keep.map(|keep| now.saturating_sub(millis(keep)));
    let pruned_before = now.saturating_sub(millis(KEEP_DELIVERED));
    let done = store
        .write(move |tx| {
            let mut erased = 0;
            if let Some(cutoff) = cutoff {
                let contacts = tx.contacts_matching(None, Some(cutoff))?;
                forget(tx, &contacts, now)?;
                erased = contacts.len();
                if erased > 0 {
                    tx.record_erasure("retention", erased as i64, "retention", now)?;
                }
            }
            Ok::<_, StoreError>((erased, tx.prune_messages(pruned_before)?))
        })
        .await?;
    if done.0 > 0 {
        forget_old_pages(store).await;
    }
    Ok(done)
}

/// Forgets `contacts` from their details and every trace of them in alert messages.
fn forget(tx: &mut dyn Tx, contacts: &[StoredContact], now: i64) -> Result<(), StoreError> {
    for contact in contacts {
        tx.clear_contact(&contact.rating_id)?;
    }
    for contact in contacts {
        if let Some(email) = &contact.email {
            scrub_messages(tx, &Person::Email(email.clone()), now)?;
        }
        if let Some(phone) = &contact.phone {
            scrub_messages(tx, &Person::Phone(phone.clone()), now)?;
        }
    }
    Ok(())
}

/// Whether a message's `contact` object is `person`'s.
fn is_theirs(contact: &serde_json::Value, person: &Person) -> bool {
    let field = |name: &str| contact.get(name).and_then(|v| v.as_str());
    match person {
        Person::Email(email) => {
            field("email").is_some_and(|e| e.eq_ignore_ascii_case(email.trim()))
        }
        Person::Phone(phone) => field("phone").is_some_and(|p| digits(p) == digits(phone)),
    }
}

/// Takes `person` out of every alert message that mentions them, whatever the details
/// say now (they may have changed since the message was queued): the payload's contact,
/// a customer email's address (a pending one is given up), and error texts.
fn scrub_messages(tx: &mut dyn Tx, person: &Person, now: i64) -> Result<(), StoreError> {
    let needle = match person {
        Person::Email(email) => email.trim().to_owned(),
        // Phones are typed in many ways: every message with one is looked at.
        Person::Phone(_) => "\"phone\":\"".to_owned(),
    };
    for message in tx.messages_mentioning(&needle)? {
        let mut payload = message.payload.clone();
        if let Ok(mut body) = serde_json::from_str::<serde_json::Value>(&message.payload) {
            if let Some(contact) = body.pointer_mut("/data/rating/details/contact") {
                if is_theirs(contact, person) {
                    *contact = serde_json::Value::Null;
                    payload = body.to_string();
                }
            }
        }
        let theirs = message.kind == "customer_email"
            && matches!(person, Person::Email(e) if message.target.eq_ignore_ascii_case(e.trim()));
        let unchanged = payload == message.payload && !theirs;
        let error_only = !message
            .payload
            .to_lowercase()
            .contains(&needle.to_lowercase());
        if unchanged && !error_only {
            continue;
        }
        tx.rewrite_message(&MessageRewrite {
            id: message.id,
            payload: &payload,
            target: if theirs { "(erased)" } else { &message.target },
            cancel: (theirs && message.pending).then_some(now),
            forget: &needle,
        })?;
    }
    Ok(())
}

/// Runs retention now and then every hour, until the process ends.
pub async fn run(store: Store, clock: Clock, keep: Option<Duration>) {
    loop {
        match retain(&store, keep, clock.now()).await {
            Ok((0, 0)) => {}
            Ok((erased, pruned)) => {
                tracing::info!(
                    erased,
                    pruned,
                    "retention: old contact data erased, delivered messages pruned"
                )
            }
            Err(err) => tracing::error!(error = %err, "retention failed"),
        }
        tokio::time::sleep(RETAIN_EVERY).await;
    }
}
