//! Rate limits on the public API, per client address and per site: token buckets that
//! refill continuously. In memory, per process: each `nearmiss serve` limits on its own.
//!
//! Fail-open: a limiter that cannot decide (its lock poisoned by a panic) lets the
//! request through. A burst is cheaper than a lost rating.

use super::error::ApiError;
use super::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

/// Buckets of request tokens by key: a client address, or a site's id.
pub struct RateLimiter<K = IpAddr> {
    per_minute: u32,
    buckets: Mutex<HashMap<K, Bucket>>,
}

struct Bucket {
    tokens: f64,
    updated_ms: i64,
}

/// Buckets are forgotten when full and idle, so memory stays bounded by active clients.
const SWEEP_AT: usize = 10_000;

impl<K: Hash + Eq> RateLimiter<K> {
    /// Allows `per_minute` requests a minute per key, in bursts of up to that many.
    /// `0` turns limiting off.
    pub fn new(per_minute: u32) -> RateLimiter<K> {
        RateLimiter {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` has no token left at `now_ms` (takes none): `Some(seconds)` to wait.
    pub fn exhausted(&self, key: &K, now_ms: i64) -> Option<u64> {
        if self.per_minute == 0 {
            return None;
        }
        let per_ms = f64::from(self.per_minute) / 60_000.0;
        let buckets = self.buckets.lock().ok()?;
        let bucket = buckets.get(key)?;
        let elapsed = (now_ms - bucket.updated_ms).max(0) as f64;
        let tokens = (bucket.tokens + elapsed * per_ms).min(f64::from(self.per_minute));
        (tokens < 1.0).then(|| ((1.0 - tokens) / per_ms / 1000.0).ceil() as u64)
    }

    /// Takes one token for `key` at `now_ms`; `Err(seconds)` to wait when there is none.
    pub fn check(&self, key: K, now_ms: i64) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_ms = capacity / 60_000.0;
        let Ok(mut buckets) = self.buckets.lock() else {
            tracing::error!("rate limiter unavailable; failing open");
            return Ok(());
        };
        if buckets.len() >= SWEEP_AT {
            buckets.retain(|_, b| b.tokens + (now_ms - b.updated_ms) as f64 * per_ms < capacity);
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            updated_ms: now_ms,
        });
        let elapsed = (now_ms - bucket.updated_ms).max(0) as f64;
        bucket.tokens = (bucket.tokens + elapsed * per_ms).min(capacity);
        bucket.updated_ms = now_ms;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / per_ms / 1000.0).ceil() as u64)
        }
    }
}

/// The key a client address is limited by: the address itself for IPv4, its /64 for
/// IPv6 (one household or phone has a whole /64 to hop around in).
pub fn client_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        IpAddr::V6(v6) => IpAddr::V4(
            v6.to_ipv4_mapped()
                .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED),
        ),
        v4 => v4,
    }
}

/// Middleware: 429 with `Retry-After` once a client address is out of tokens.
pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let addr = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| client_key(info.0.ip()));
    if let Some(addr) = addr {
        if let Err(retry_after) = state.limiter.check(addr, state.clock.now()) {
            tracing::warn!(client = %addr, "rate limited");
            return ApiError::RateLimited { retry_after }.into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_refused_then_refilled() {
        let limiter = RateLimiter::<IpAddr>::new(3);
        let addr: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(limiter.check(addr, 0), Ok(()));
        }
        assert_eq!(limiter.check(addr, 0), Err(20));
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(limiter.check(other, 0), Ok(()));
        assert_eq!(limiter.check(addr, 20_000), Ok(()));
        assert!(limiter.check(addr, 20_000).is_err());
    }

    #[test]
    fn a_broken_limiter_fails_open() {
        let limiter = std::sync::Arc::new(RateLimiter::<i64>::new(1));
        assert_eq!(limiter.check(7, 0), Ok(()));
        assert!(limiter.check(7, 0).is_err());
        let poisoner = limiter.clone();
        let _ = std::thread::spawn(move || {
            let _guard = poisoner.buckets.lock().unwrap();
            panic!("poison the limiter's lock");
        })
        .join();
        assert_eq!(
            limiter.check(7, 0),
            Ok(()),
            "fail-open: the request goes through"
        );
    }

    #[test]
    fn an_ipv6_client_is_limited_by_its_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn zero_means_unlimited() {
        let limiter = RateLimiter::<IpAddr>::new(0);
        let addr: IpAddr = "192.0.2.1".parse().unwrap();
        assert!((0..1000).all(|_| limiter.check(addr, 0).is_ok()));
    }
}
