//! The API's security layers: the auth token and its cookie file, the
//! Host/Origin allow-list, the per-client rate limiter, and the middleware
//! that applies them (order in the [module documentation](super)).

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::AppState;
use super::error::ApiError;

/// The node's API auth token: 32 random bytes as 64 lower-case hex
/// characters, new at every start.
pub(crate) struct AuthToken(Zeroizing<String>);

impl AuthToken {
    /// A fresh token from the operating system's generator.
    pub(crate) fn generate() -> io::Result<AuthToken> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut bytes[..]).map_err(|e| io::Error::other(e.to_string()))?;
        Ok(AuthToken(Zeroizing::new(hex::encode(&bytes[..]))))
    }

    /// The token text.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `presented` is the token, compared in constant time (only
    /// the length, which is public, can end the comparison early).
    pub(crate) fn matches(&self, presented: &str) -> bool {
        bool::from(self.0.as_bytes().ct_eq(presented.as_bytes()))
    }

    /// Writes the token to `path` with mode 0600: into a new file beside it
    /// (created exclusively, so never through a planted symlink), then
    /// renamed over `path`. The file holds exactly the 64 hex characters.
    pub(crate) fn write_cookie(&self, path: &Path) -> io::Result<()> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            fs::create_dir_all(dir)?;
        }
        let mut tmp = OsString::from(path.as_os_str());
        tmp.push(".tmp");
        let tmp = Path::new(&tmp);
        match fs::remove_file(tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(tmp)?;
        file.write_all(self.as_str().as_bytes())?;
        file.sync_all()?;
        drop(file);
        fs::rename(tmp, path)
    }
}

/// Host names (and `name:port` authorities) the API answers to.
#[derive(Clone, Debug)]
pub(crate) struct AllowedHosts {
    /// Names allowed with the API's port or none.
    names: Vec<String>,
    /// Whole `name:port` authorities allowed as they are.
    exact: Vec<String>,
    /// The API's port.
    port: u16,
}

/// `host[:port]` split; IPv6 literals keep their brackets. `None` if
/// malformed.
fn split_authority(authority: &str) -> Option<(&str, Option<&str>)> {
    if authority.starts_with('[') {
        let end = authority.find(']')?;
        let (name, rest) = authority.split_at(end + 1);
        match rest {
            "" => Some((name, None)),
            _ => rest.strip_prefix(':').map(|port| (name, Some(port))),
        }
    } else {
        match authority.split_once(':') {
            None => Some((authority, None)),
            Some((_, port)) if port.contains(':') => None,
            Some((name, port)) => Some((name, Some(port))),
        }
    }
}

/// Whether `name` is a loopback IP literal (`127.x.y.z`, `[::1]`).
fn is_loopback_literal(name: &str) -> bool {
    if let Some(inner) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
    }
    name.parse::<std::net::Ipv4Addr>()
        .is_ok_and(|ip| ip.is_loopback())
}

impl AllowedHosts {
    /// `localhost`, loopback literals, the bound IP, and `configured`
    /// (bare names, allowed with the API's port or none; or exact
    /// `name:port` authorities).
    pub(crate) fn new(bound: SocketAddr, configured: &[String]) -> AllowedHosts {
        let mut hosts = AllowedHosts {
            names: vec!["localhost".to_owned()],
            exact: Vec::new(),
            port: bound.port(),
        };
        if !bound.ip().is_unspecified() {
            hosts.names.push(match bound.ip() {
                IpAddr::V4(ip) => ip.to_string(),
                IpAddr::V6(ip) => format!("[{ip}]"),
            });
        }
        for entry in configured {
            let entry = entry.trim().to_ascii_lowercase();
            match split_authority(&entry) {
                Some((_, Some(_))) => hosts.exact.push(entry),
                Some((name, None)) if !name.is_empty() => hosts.names.push(entry),
                _ => {}
            }
        }
        hosts
    }

    /// Whether a `Host` header value (or an Origin's authority) names this
    /// API.
    pub(crate) fn allows(&self, authority: &str) -> bool {
        let authority = authority.to_ascii_lowercase();
        if self.exact.contains(&authority) {
            return true;
        }
        let Some((name, port)) = split_authority(&authority) else {
            return false;
        };
        if let Some(port) = port
            && port.parse::<u16>() != Ok(self.port)
        {
            return false;
        }
        self.names.iter().any(|n| n == name) || is_loopback_literal(name)
    }

    /// Whether an `Origin` header value is a page served by this API's
    /// own host: `http(s)://<allowed authority>`. `null` is refused.
    pub(crate) fn allows_origin(&self, origin: &str) -> bool {
        let Some((scheme, authority)) = origin.split_once("://") else {
            return false;
        };
        matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https")
            && !authority.contains('/')
            && self.allows(authority)
    }
}

/// Token-bucket state of one client.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Whose bucket a request takes from: a client address (an IPv4 address,
/// or an IPv6 /64), and whether the request carried the node's auth token.
///
/// Every local process reaches the API from `127.0.0.1`, so by address
/// alone a runaway or hostile local program would exhaust the bucket of
/// the owner's CLI and TUI too. Requests that prove they are the owner's
/// (the token from the cookie file) take from a bucket of their own; an
/// owner's program that floods is still limited, by that bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct ClientKey {
    ip: IpAddr,
    owner: bool,
}

/// A per-client token-bucket rate limiter: each client ([`ClientKey`]) has
/// `burst` tokens, refilled at `per_second`; a request takes one. At most
/// `max_clients` buckets are kept; full (idle) buckets are forgotten first.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    per_second: f64,
    burst: f64,
    max_clients: usize,
    buckets: Mutex<HashMap<ClientKey, Bucket>>,
}

impl RateLimiter {
    /// A limiter; `per_second == 0` disables it.
    pub(crate) fn new(per_second: u32, burst: u32, max_clients: usize) -> RateLimiter {
        RateLimiter {
            per_second: f64::from(per_second),
            burst: f64::from(burst.max(1)),
            max_clients: max_clients.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The bucket key of a client address.
    fn key(ip: IpAddr) -> IpAddr {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
            v4 => v4,
        }
    }

    /// Takes a token for `ip` at `now` (from the owner's bucket of that
    /// address if `owner`: the request carried the auth token), or says how
    /// many whole seconds to wait.
    pub(crate) fn check(&self, ip: IpAddr, owner: bool, now: Instant) -> Result<(), u64> {
        if self.per_second <= 0.0 {
            return Ok(());
        }
        let key = ClientKey {
            ip: RateLimiter::key(ip),
            owner,
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let refill = |bucket: &Bucket| {
            let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
            (bucket.tokens + elapsed * self.per_second).min(self.burst)
        };
        if !buckets.contains_key(&key) && buckets.len() >= self.max_clients {
            buckets.retain(|_, bucket| refill(bucket) < self.burst);
            if buckets.len() >= self.max_clients {
                return Err(1);
            }
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        bucket.tokens = refill(bucket);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.per_second;
            Err((wait.ceil() as u64).max(1))
        }
    }

    /// Takes `tokens` more from the bucket of a request already admitted
    /// by [`RateLimiter::check`] (the rest of a batch's cost: one token per
    /// transaction). The bucket may go below zero: the client's next
    /// requests then wait until it refills past one, so batching does not
    /// raise the sustained rate. The debt is at most one batch, since a
    /// request is admitted only with a whole token.
    pub(crate) fn charge(&self, ip: IpAddr, owner: bool, now: Instant, tokens: u32) {
        if self.per_second <= 0.0 || tokens == 0 {
            return;
        }
        let key = ClientKey {
            ip: RateLimiter::key(ip),
            owner,
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        // The bucket exists unless it was forgotten since admission; then
        // the debt starts from a full one.
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.burst);
        bucket.last = now;
        bucket.tokens -= f64::from(tokens);
    }
}

/// The peer's IP, if the server recorded it.
pub(crate) fn client_ip(request: &Request) -> IpAddr {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED))
}

/// Layer 1 (outermost): records `bitcraps_api_requests_total` and the
/// duration of every answer, rejections included.
pub(crate) async fn record_metrics(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method: &'static str = match request.method().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        _ => "OTHER",
    };
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.record_api_request(
        &route,
        method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The bearer token an `Authorization` header presents, if any.
pub(crate) fn presented_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    Some(token.trim())
}

/// Layer 2: the per-client rate limit, 429 with `Retry-After`. A request
/// carrying the right auth token takes from its own bucket ([`ClientKey`]).
pub(crate) async fn rate_limit(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let owner = presented_token(request.headers()).is_some_and(|t| state.token.matches(t));
    match state
        .limiter
        .check(client_ip(&request), owner, Instant::now())
    {
        Ok(()) => next.run(request).await,
        Err(seconds) => {
            state.metrics.inc_api_rate_limited();
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests from this address; wait {seconds} s and slow down"),
            )
            .retry_after(seconds)
            .into_response()
        }
    }
}

/// Layer 3: `Host` must name this API and `Origin`, if sent, must be a
/// page of it (DNS-rebinding and cross-site defence), else 403.
pub(crate) async fn check_host_origin(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if let Err(error) = host_origin_error(&state, request.headers()) {
        return error.into_response();
    }
    next.run(request).await
}

fn host_origin_error(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !state.hosts.allows(host) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden_host",
            format!(
                "Host {host:?} is not this node's API; use http://127.0.0.1:{}/ or add the name to api.allowed_hosts",
                state.hosts.port
            ),
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        if !state.hosts.allows_origin(origin) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden_origin",
                format!(
                    "requests from pages of {origin:?} are refused; call the API from a local program or a page it serves, or add the host to api.allowed_hosts"
                ),
            ));
        }
    }
    Ok(())
}

/// Layer 4: a declared `Content-Length` over the limit is refused with 413
/// before anything is read (bodies without one are cut at the limit as
/// they are read).
pub(crate) async fn check_content_length(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let limit = if request.uri().path() == super::BATCH_SUBMIT_PATH {
        state.config.max_batch_body_bytes
    } else {
        state.config.max_body_bytes
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return ApiError::too_large(limit).into_response();
    }
    next.run(request).await
}

/// Layer 5, wallet routes only: `Authorization: Bearer <token>` from the
/// cookie file, compared in constant time; else 401.
pub(crate) async fn require_token(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request.headers().get(header::AUTHORIZATION);
    let cookie = state.config.cookie_file.display();
    match presented {
        None => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing_token",
            format!("this route spends from the node's wallet: send Authorization: Bearer <token>, the token being the contents of {cookie}"),
        )
        .into_response(),
        Some(_) => {
            let token = presented_token(request.headers()).unwrap_or("");
            if state.token.matches(token) {
                next.run(request).await
            } else {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    format!("the bearer token is wrong; read it again from {cookie} (it changes at every node start)"),
                )
                .into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn hosts() -> AllowedHosts {
        AllowedHosts::new(
            "127.0.0.1:7380".parse().unwrap(),
            &["mynode.lan".to_owned(), "proxy.example:443".to_owned()],
        )
    }

    #[test]
    fn hosts_are_loopback_names_with_our_port_or_configured() {
        let h = hosts();
        for ok in [
            "localhost:7380",
            "LOCALHOST:7380",
            "localhost",
            "127.0.0.1:7380",
            "127.0.0.2:7380",
            "[::1]:7380",
            "[::1]",
            "mynode.lan:7380",
            "proxy.example:443",
        ] {
            assert!(h.allows(ok), "{ok}");
        }
        for bad in [
            "",
            "evil.com",
            "evil.com:7380",
            "localhost:7381",
            "localhost.evil.com:7380",
            "127.0.0.1:99999",
            "[::2]:7380",
            "mynode.lan:80",
            "proxy.example",
            "localhost:7380:1",
            "[::1",
        ] {
            assert!(!h.allows(bad), "{bad}");
        }
        assert!(h.allows_origin("http://localhost:7380"));
        assert!(h.allows_origin("https://127.0.0.1:7380"));
        for bad in [
            "null",
            "http://evil.com",
            "file://",
            "ftp://localhost:7380",
            "http://localhost:7380/x",
            "http://localhost:1",
        ] {
            assert!(!h.allows_origin(bad), "{bad}");
        }
    }

    #[test]
    fn token_is_random_hex_and_compared_exactly() {
        let a = AuthToken::generate().unwrap();
        let b = AuthToken::generate().unwrap();
        assert_eq!(a.as_str().len(), 64);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.as_str(), b.as_str());
        assert!(a.matches(a.as_str()));
        assert!(!a.matches(b.as_str()));
        assert!(!a.matches(&a.as_str()[..63]));
        assert!(!a.matches(""));
    }

    #[cfg(unix)]
    #[test]
    fn cookie_file_is_owner_only_and_replaces_an_old_one() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("api.cookie");
        let token = AuthToken::generate().unwrap();
        token.write_cookie(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(fs::read_to_string(&path).unwrap(), token.as_str());
        // An old world-readable cookie is replaced by a private one.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let second = AuthToken::generate().unwrap();
        second.write_cookie(&path).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), second.as_str());
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn token_bucket_refills_and_keeps_clients_apart() {
        let limiter = RateLimiter::new(2, 3, 2);
        let t0 = Instant::now();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.check(a, false, t0).is_ok());
        }
        assert_eq!(limiter.check(a, false, t0), Err(1));
        for _ in 0..3 {
            assert!(
                limiter.check(b, false, t0).is_ok(),
                "another client is served"
            );
        }
        assert!(
            limiter
                .check(a, false, t0 + Duration::from_millis(500))
                .is_ok()
        );
        // A third client while two buckets are busy: refused, not evicting.
        let c: IpAddr = "10.0.0.3".parse().unwrap();
        assert!(
            limiter
                .check(c, false, t0 + Duration::from_millis(500))
                .is_err()
        );
        // Once a bucket is full again it is forgotten to make room.
        assert!(
            limiter
                .check(c, false, t0 + Duration::from_secs(10))
                .is_ok()
        );
        // IPv6 clients share a bucket per /64; mapped IPv4 is IPv4.
        let v6a: IpAddr = "2001:db8::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8::2".parse().unwrap();
        assert_eq!(RateLimiter::key(v6a), RateLimiter::key(v6b));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(RateLimiter::key(mapped), a);
        // The owner's requests (with the token) from a busy address have
        // their own bucket, itself limited.
        let owner = RateLimiter::new(1, 2, 4);
        for _ in 0..2 {
            assert!(owner.check(a, false, t0).is_ok());
        }
        assert!(owner.check(a, false, t0).is_err());
        for _ in 0..2 {
            assert!(owner.check(a, true, t0).is_ok(), "the owner is served");
        }
        assert!(owner.check(a, true, t0).is_err(), "and limited too");
        // Disabled.
        let off = RateLimiter::new(0, 1, 1);
        for _ in 0..100 {
            assert!(off.check(a, false, t0).is_ok());
        }
        off.charge(a, false, t0, 1_000);
        assert!(off.check(a, false, t0).is_ok());
    }

    #[test]
    fn a_batch_costs_one_token_per_transaction() {
        // 10 per second, bursts of 10: a batch of 40 is admitted with one
        // token and leaves a debt of 30, i.e. 3.1 s before the next
        // request.
        let limiter = RateLimiter::new(10, 10, 4);
        let t0 = Instant::now();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        assert!(limiter.check(a, false, t0).is_ok());
        limiter.charge(a, false, t0, 39);
        assert_eq!(limiter.check(a, false, t0), Err(4));
        assert!(
            limiter
                .check(a, false, t0 + Duration::from_millis(3_000))
                .is_err()
        );
        assert!(
            limiter
                .check(a, false, t0 + Duration::from_millis(3_200))
                .is_ok()
        );
        // Another client is not charged.
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(limiter.check(b, false, t0).is_ok());
    }
}
