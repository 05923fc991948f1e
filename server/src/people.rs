//! The people who work the desk (owners and agents), their passwords and their browser
//! sessions. Passwords are kept as argon2id hashes and session cookies as SHA-256
//! hashes, so a copy of the database opens no account and no session.

use crate::error::Error;
use crate::states::{Event, Role};
use crate::store::{NewSession, NewUser, Store, StoreError};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use nearmiss_core::{check_line, LIMITS};

pub use crate::store::User;

/// How long a login lasts.
pub const SESSION_MS: i64 = 7 * 24 * 3600 * 1000;
/// Password checks running at once.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

impl User {
    /// Owners work every site's cases.
    pub fn is_owner(&self) -> bool {
        self.role == Role::Owner
    }

    /// The sites whose cases this person may see: `None` for all.
    pub fn scope(&self) -> Option<Vec<i64>> {
        (!self.is_owner()).then(|| self.site_ids.clone())
    }

    /// Whether this person works the site `site_id`.
    pub fn works(&self, site_id: i64) -> bool {
        self.is_owner() || self.site_ids.contains(&site_id)
    }
}

/// A person to add, as the command line gives them.
pub struct NewPerson {
    /// Their login.
    pub email: String,
    /// Their name.
    pub name: String,
    /// Owner or agent.
    pub role: Role,
    /// The keys of the sites an agent works.
    pub sites: Vec<String>,
    /// In clear; only its hash is kept.
    pub password: String,
}

/// A logged-in browser.
#[derive(Clone, Debug)]
pub struct Session {
    /// Who.
    pub user: User,
    /// The token every form of this session must carry.
    pub csrf: String,
}

fn hash_password(password: &str) -> Result<String, Error> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| StoreError::Task(format!("random salt: {e}")))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| StoreError::Task(format!("password salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| StoreError::Task(format!("hashing the password: {e}")).into())
}

fn password_matches(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// Adds a person; they can log in at once.
pub fn add(store: &Store, person: NewPerson, now: i64) -> Result<User, Error> {
    let email = person.email.trim().to_owned();
    let valid_email = nearmiss_core::Contact {
        email: Some(email.clone()),
        consent: true,
        ..Default::default()
    }
    .validate()
    .is_ok();
    if !valid_email {
        return Err(Error::invalid(
            "invalid_email",
            "email",
            "This is not an email address.",
        ));
    }
    let name = person.name.trim().to_owned();
    if name.is_empty() {
        return Err(Error::invalid(
            "required",
            "name",
            "Give the person's name.",
        ));
    }
    check_line(&name, "name", LIMITS.actor)?;
    if person.password.chars().count() < MIN_PASSWORD {
        return Err(Error::invalid(
            "weak_password",
            "password",
            "The password must be at least 10 characters long.",
        ));
    }
    if person.role == Role::Agent && person.sites.is_empty() {
        return Err(Error::invalid(
            "required",
            "site",
            "An agent works the cases of their sites: give at least one --site.",
        ));
    }
    let hash = hash_password(&person.password)?;
    let keys = person.sites;
    store.write_now(move |tx| {
        let mut site_ids = Vec::new();
        for key in &keys {
            let id = tx.site_id_by_any_key(key)?.ok_or(Error::UnknownSite)?;
            site_ids.push(id);
        }
        let new = NewUser {
            email: &email,
            name: &name,
            role: person.role,
            password_hash: &hash,
            site_ids: &site_ids,
            now,
        };
        tx.insert_user(&new)?.ok_or(Error::invalid(
            "email_taken",
            "email",
            "Somebody already has this email.",
        ))?;
        let (user, _) = tx.user_by_email(&email)?.ok_or(Error::invalid(
            "email_taken",
            "email",
            "Somebody already has this email.",
        ))?;
        Ok(user)
    })
}

/// Everybody, by name.
pub fn list(store: &Store) -> Result<Vec<User>, StoreError> {
    store.read_now(|tx| tx.users())
}

/// Removes the person with this email; whether there was one.
pub fn remove(store: &Store, email: &str) -> Result<bool, StoreError> {
    let email = email.trim().to_owned();
    store.write_now(move |tx| tx.remove_user(&email))
}

/// Chooses which case events reach `user` by email.
pub async fn set_alert_events(
    store: &Store,
    user: i64,
    events: Vec<Event>,
) -> Result<(), StoreError> {
    store
        .write(move |tx| tx.set_alert_events(user, &events))
        .await
}

/// Checks a password and starts a session; returns the cookie's value, or `None` when
/// the email or the password is wrong (the caller cannot tell which, nor can a guesser).
pub async fn log_in(
    store: &Store,
    email: &str,
    password: &str,
    now: i64,
) -> Result<Option<String>, Error> {
    let email = email.trim().to_owned();
    let found = store.read(move |tx| tx.user_by_email(&email)).await?;
    let password = password.to_owned();
    // Each check takes 19 MiB and a core for a moment: a burst of logins waits its turn
    // rather than exhausting the machine.
    let _turn = HASHING.acquire().await;
    let (user, matches) = tokio::task::spawn_blocking(move || match found {
        Some((user, hash)) => {
            let matches = password_matches(&hash, &password);
            (Some(user), matches)
        }
        None => {
            // As slow as a real check, so timing does not tell who has an account.
            let _ = hash_password(&password);
            (None, false)
        }
    })
    .await
    .map_err(|e| StoreError::Task(format!("checking a password: {e}")))?;
    let Some(user) = user.filter(|_| matches) else {
        return Ok(None);
    };
    let cookie = crate::random::token(40);
    let csrf = crate::random::token(32);
    let hash = crate::tokens::hash(&cookie);
    store
        .write(move |tx| {
            tx.insert_session(&NewSession {
                hash: &hash,
                user_id: user.id,
                csrf: &csrf,
                now,
                expires_at: now.saturating_add(SESSION_MS),
            })
        })
        .await?;
    Ok(Some(cookie))
}

/// The session a cookie belongs to, while it is valid.
pub async fn session(store: &Store, cookie: &str, now: i64) -> Result<Option<Session>, StoreError> {
    let hash = crate::tokens::hash(cookie);
    let found = store.read(move |tx| tx.session(&hash, now)).await?;
    Ok(found.map(|(user, csrf)| Session { user, csrf }))
}

/// Ends the session a cookie belongs to.
pub async fn log_out(store: &Store, cookie: &str) -> Result<(), StoreError> {
    let hash = crate::tokens::hash(cookie);
    store.write(move |tx| tx.delete_session(&hash)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_matches_its_hash_only() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(password_matches(&hash, "correct horse battery"));
        assert!(!password_matches(&hash, "correct horse battery "));
        assert!(!password_matches("not a hash", "correct horse battery"));
    }
}
