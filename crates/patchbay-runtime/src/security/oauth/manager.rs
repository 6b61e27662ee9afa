//! The shared OAuth token cache, with single-flight refresh.
//!
//! Each connection id has a slot guarded by an async mutex. A caller takes the slot, and when the
//! token is about to expire it refreshes while holding it; callers queued behind it see that a
//! refresh happened while they waited (a per-slot generation counter) and take its result —
//! token or error — instead of refreshing again. So a burst of calls on an expired token makes
//! exactly one token request.
//!
//! A token is renewed when less than `refresh_margin` (default 5 minutes) is left — or less than
//! half its lifetime, for tokens obtained here whose whole lifetime is shorter than twice the
//! margin (otherwise every call would refresh). Tokens without an expiry are used until a 401.
//!
//! The stored tokens a caller passes in ([`ConnectionValues::token`]) seed the cache; newer
//! stored tokens (a new sign-in) replace the cached ones. Refreshed tokens are reported to the
//! refresh listener (and returned by [`TokenManager::on_unauthorized`]) so the caller can
//! persist them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use patchbay_spec::model::OAuthSettings;
use tokio::sync::Mutex as AsyncMutex;

use super::grant::{GrantType, grant_type};
use super::request::{Grant, supports_refresh, token_request};
use super::response::parse_token_response;
use crate::security::error::scrub;
use crate::security::{ConnectionValues, HttpSend, SecurityError, TokenSet};

/// How many recent access tokens a slot remembers.
const HISTORY: usize = 16;

/// Settings of a [`TokenManager`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenManagerOptions {
    /// Renew a token when less than this is left before it expires (default 5 minutes).
    pub refresh_margin: Duration,
}

impl Default for TokenManagerOptions {
    fn default() -> Self {
        TokenManagerOptions { refresh_margin: Duration::from_secs(300) }
    }
}

/// New tokens for a connection, to be persisted by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshOutcome {
    /// The connection id.
    pub connection_id: String,
    /// The tokens now in use.
    pub tokens: TokenSet,
    /// Whether this call obtained them (false: another call's refresh, or the token was already replaced).
    pub refreshed: bool,
}

/// Called once for every successful refresh (or client-credentials fetch), with the new tokens.
pub type RefreshListener = Arc<dyn Fn(&RefreshOutcome) + Send + Sync>;

/// The per-connection token cache; cheap to clone (shared).
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

struct Inner {
    http: Arc<dyn HttpSend>,
    options: TokenManagerOptions,
    slots: StdMutex<HashMap<String, Arc<Slot>>>,
    listener: RwLock<Option<RefreshListener>>,
}

/// One connection's cache entry.
#[derive(Default)]
struct Slot {
    state: AsyncMutex<SlotState>,
    /// Incremented by every token request made for the slot.
    generation: AtomicU64,
}

#[derive(Default)]
struct SlotState {
    tokens: Option<TokenSet>,
    /// Recent access tokens (cached or adopted), newest last: stored tokens among them are old.
    history: Vec<String>,
    /// Lifetime of tokens obtained here.
    lifetime: Option<Duration>,
    /// What a refresh needs: the settings and the connection's values (tokens removed).
    context: Option<(OAuthSettings, ConnectionValues)>,
    last_error: Option<SecurityError>,
    /// The provider rejected the refresh token: fail fast until new tokens arrive.
    rejected: bool,
}

impl SlotState {
    fn remember(&mut self, settings: &OAuthSettings, connection: &ConnectionValues) {
        let mut values = connection.clone();
        values.token = None;
        self.context = Some((settings.clone(), values));
    }

    /// Takes the stored tokens when they are new to the cache (first use, or a new sign-in).
    fn adopt(&mut self, stored: Option<&TokenSet>) {
        let Some(stored) = stored else { return };
        if !self.history.contains(&stored.access_token) {
            self.set(stored.clone(), None);
        }
    }

    fn set(&mut self, tokens: TokenSet, lifetime: Option<Duration>) {
        if self.history.len() >= HISTORY {
            self.history.remove(0);
        }
        self.history.push(tokens.access_token.clone());
        self.tokens = Some(tokens);
        self.lifetime = lifetime;
        self.last_error = None;
        self.rejected = false;
    }

    /// The cached tokens when they need no renewal yet.
    fn fresh(&self, margin: Duration) -> Option<&TokenSet> {
        let threshold = self.lifetime.map_or(margin, |l| margin.min(l / 2));
        self.tokens.as_ref().filter(|t| match t.remaining(SystemTime::now()) {
            None => true,
            Some(left) => left > Duration::ZERO && left >= threshold,
        })
    }

    /// The result of the last token request.
    fn last_result(&self, id: &str) -> Result<RefreshOutcome, SecurityError> {
        if let Some(e) = &self.last_error {
            return Err(e.clone());
        }
        let tokens = self.tokens.clone().ok_or_else(|| needs_sign_in(id))?;
        Ok(RefreshOutcome { connection_id: id.to_string(), tokens, refreshed: false })
    }
}

impl TokenManager {
    /// A manager sending token requests through `http` (normally the shared `Transport`).
    pub fn new(http: Arc<dyn HttpSend>) -> Self {
        TokenManager::with_options(http, TokenManagerOptions::default())
    }

    /// A manager with explicit options.
    pub fn with_options(http: Arc<dyn HttpSend>, options: TokenManagerOptions) -> Self {
        let inner = Inner { http, options, slots: StdMutex::default(), listener: RwLock::default() };
        TokenManager { inner: Arc::new(inner) }
    }

    /// Sets the function told about every refresh, so the connection store can save new tokens.
    /// It runs while the connection's cache entry is held: keep it quick (e.g. send to a channel).
    pub fn set_refresh_listener(&self, listener: impl Fn(&RefreshOutcome) + Send + Sync + 'static) {
        *self.inner.listener.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(listener));
    }

    /// A usable access token for the connection: the cached one, or a renewed one when it expires
    /// within the margin (refresh token, or client credentials). One request per burst.
    pub async fn access_token(
        &self,
        connection: &ConnectionValues,
        settings: &OAuthSettings,
    ) -> Result<TokenSet, SecurityError> {
        let slot = self.slot(&connection.id);
        let seen = slot.generation.load(Ordering::SeqCst);
        let mut state = slot.state.lock().await;
        state.remember(settings, connection);
        state.adopt(connection.token.as_ref());
        if let Some(tokens) = state.fresh(self.inner.options.refresh_margin) {
            return Ok(tokens.clone());
        }
        if slot.generation.load(Ordering::SeqCst) != seen
            && let Some(e) = &state.last_error
        {
            return Err(e.clone());
        }
        Ok(self.renew(&connection.id, &slot, &mut state).await?.tokens)
    }

    /// After a 401: renews the connection's token once (concurrent callers share one refresh)
    /// and returns the new tokens, for one retry of the call.
    pub async fn on_unauthorized(&self, connection_id: &str) -> Result<RefreshOutcome, SecurityError> {
        self.force(connection_id, None).await
    }

    /// After a 401 for a request sent with `rejected_access_token`: renews only when that is
    /// still the cached token (else returns the newer one). Safer than [`Self::on_unauthorized`]
    /// when a refresh may have finished before this call.
    pub async fn on_rejected_token(
        &self,
        connection_id: &str,
        rejected_access_token: &str,
    ) -> Result<RefreshOutcome, SecurityError> {
        self.force(connection_id, Some(rejected_access_token)).await
    }

    /// Redeems an authorization code (with the PKCE verifier, when a challenge was sent) and
    /// caches the tokens for the connection. The caller persists them; no listener is called.
    pub async fn exchange_code(
        &self,
        settings: &OAuthSettings,
        connection: &ConnectionValues,
        code: &str,
        verifier: Option<&str>,
        redirect_url: &str,
    ) -> Result<TokenSet, SecurityError> {
        let grant = Grant::AuthorizationCode { code, verifier, redirect_url };
        let tokens = self.request_tokens(settings, connection, grant, None).await?;
        let slot = self.slot(&connection.id);
        let mut state = slot.state.lock().await;
        state.remember(settings, connection);
        state.set(tokens.clone(), tokens.remaining(SystemTime::now()));
        slot.generation.fetch_add(1, Ordering::SeqCst);
        Ok(tokens)
    }

    /// The cached tokens of a connection, if any.
    pub async fn cached(&self, connection_id: &str) -> Option<TokenSet> {
        let slot = self.existing(connection_id)?;
        let state = slot.state.lock().await;
        state.tokens.clone()
    }

    /// Drops a connection's cache entry (deleted connection, sign-out).
    pub fn forget(&self, connection_id: &str) {
        self.inner.slots.lock().unwrap_or_else(PoisonError::into_inner).remove(connection_id);
    }

    /// Renews unless another caller did while this one waited, or the rejected token is gone.
    async fn force(&self, id: &str, rejected: Option<&str>) -> Result<RefreshOutcome, SecurityError> {
        let slot = self.existing(id).ok_or_else(|| needs_sign_in(id))?;
        let seen = slot.generation.load(Ordering::SeqCst);
        let mut state = slot.state.lock().await;
        let replaced = rejected.is_some_and(|r| state.tokens.as_ref().is_some_and(|t| t.access_token != r));
        if slot.generation.load(Ordering::SeqCst) != seen || replaced {
            return state.last_result(id);
        }
        self.renew(id, &slot, &mut state).await
    }

    /// Makes the token request that renews the slot's tokens (holding the slot) and records it.
    async fn renew(
        &self,
        id: &str,
        slot: &Slot,
        state: &mut SlotState,
    ) -> Result<RefreshOutcome, SecurityError> {
        let (settings, connection) = state.context.clone().ok_or_else(|| needs_sign_in(id))?;
        let refresh_token = state.tokens.as_ref().and_then(|t| t.refresh_token.clone());
        let grant = match grant_type(&settings, &connection) {
            GrantType::ClientCredentials => Grant::ClientCredentials,
            GrantType::AuthorizationCode => {
                if state.rejected
                    && let Some(e) = &state.last_error
                {
                    return Err(e.clone());
                }
                let Some(refresh_token) = refresh_token.as_deref() else {
                    return Err(match state.tokens {
                        None => needs_sign_in(id),
                        Some(_) => expired(id, "the token expired and there is no refresh token"),
                    });
                };
                if !supports_refresh(&settings) {
                    return Err(expired(id, "the identity provider does not support refreshing tokens"));
                }
                Grant::Refresh { refresh_token }
            }
        };
        let result = self.request_tokens(&settings, &connection, grant, refresh_token.as_deref()).await;
        slot.generation.fetch_add(1, Ordering::SeqCst);
        match result {
            Ok(tokens) => {
                state.set(tokens.clone(), tokens.remaining(SystemTime::now()));
                let outcome = RefreshOutcome { connection_id: id.to_string(), tokens, refreshed: true };
                self.notify(&outcome);
                Ok(outcome)
            }
            Err(e) => {
                state.rejected = e.needs_sign_in();
                state.last_error = Some(e.clone());
                Err(e)
            }
        }
    }

    /// Sends one token request and reads the answer; errors never carry a secret of the request.
    async fn request_tokens(
        &self,
        settings: &OAuthSettings,
        connection: &ConnectionValues,
        grant: Grant<'_>,
        previous_refresh: Option<&str>,
    ) -> Result<TokenSet, SecurityError> {
        let request = token_request(settings, connection, grant)?;
        let mut secrets: Vec<&str> = settings.client_secret.iter().map(String::as_str).collect();
        match grant {
            Grant::AuthorizationCode { code, verifier, .. } => {
                secrets.extend([Some(code), verifier].into_iter().flatten())
            }
            Grant::Refresh { refresh_token } => secrets.push(refresh_token),
            Grant::ClientCredentials => {}
        }
        let response = self
            .inner
            .http
            .send_http(request)
            .await
            .map_err(|e| SecurityError::Transport(scrub(&e.to_string(), &secrets)))?;
        parse_token_response(&response, previous_refresh, &secrets, SystemTime::now())
    }

    fn notify(&self, outcome: &RefreshOutcome) {
        let listener = self.inner.listener.read().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(listener) = listener {
            listener(outcome);
        }
    }

    fn slot(&self, id: &str) -> Arc<Slot> {
        let mut slots = self.inner.slots.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(slots.entry(id.to_string()).or_default())
    }

    fn existing(&self, id: &str) -> Option<Arc<Slot>> {
        self.inner.slots.lock().unwrap_or_else(PoisonError::into_inner).get(id).cloned()
    }
}

fn needs_sign_in(id: &str) -> SecurityError {
    SecurityError::NeedsSignIn { connection: id.to_string() }
}

fn expired(id: &str, reason: &str) -> SecurityError {
    SecurityError::SignInExpired { connection: id.to_string(), reason: reason.to_string() }
}
