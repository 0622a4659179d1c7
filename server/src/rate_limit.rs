//! Rate limits in fixed one-minute windows, counted in the [`Cache`] (Redis
//! across replicas when configured): per client IP on `/api/v1/auth/*`
//! (password guessing), per user on every authenticated request (see
//! `auth::routes::AuthUser`). The client IP is the TCP peer, or, when the
//! peer is a trusted reverse proxy, the right-most untrusted address of
//! `X-Forwarded-For`. When the cache fails, requests are let through and
//! the failure logged: a cache outage must not take the API down.

use std::future::{ready, Future, Ready};
use std::net::IpAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::EitherBody;
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::{Error, HttpRequest, ResponseError};
use ipnet::IpNet;

use crate::cache::Cache;
use crate::error::ApiError;

pub const WINDOW: Duration = Duration::from_secs(60);
/// Routes counted by [`PerIpLimit`].
pub const LIMITED_PREFIX: &str = "/api/v1/auth/";

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Default)]
pub struct TrustedProxies(pub Arc<Vec<IpNet>>);

impl TrustedProxies {
    fn trusts(&self, ip: &IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The address of the client behind any trusted proxies.
    pub fn client_ip(&self, peer: Option<IpAddr>, forwarded_for: &[&str]) -> Option<IpAddr> {
        let mut client = peer?;
        if !self.trusts(&client) {
            return Some(client);
        }
        // Right to left: each trusted hop vouches for the one before it.
        for hop in forwarded_for.iter().flat_map(|h| h.split(',')).rev() {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip;
                    if !self.trusts(&ip) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        Some(client)
    }

    pub fn of_request(&self, req: &HttpRequest) -> String {
        let forwarded: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .collect();
        self.client_ip(req.peer_addr().map(|a| a.ip()), &forwarded)
            .map_or_else(|| "unknown".to_string(), |ip| ip.to_string())
    }
}

/// Counts one request of `key`: `Err(429)` when over `per_minute`.
pub async fn check(cache: &Cache, key: &str, per_minute: u32) -> Result<(), ApiError> {
    match cache.hit(key, per_minute, WINDOW).await {
        Ok(None) => Ok(()),
        Ok(Some(retry_after)) => Err(ApiError::TooManyRequests {
            detail: format!(
                "too many requests; retry in {} s",
                retry_after.as_secs().max(1)
            ),
            retry_after_secs: retry_after.as_secs().max(1),
        }),
        // Failing open; the breaker logged the outage once.
        Err(crate::cache::CacheError::Down) => Ok(()),
        Err(e) => {
            tracing::warn!(error = %e, "rate limit not checked: cache unavailable");
            Ok(())
        }
    }
}

/// Middleware limiting requests per client IP to `per_minute` on
/// [`LIMITED_PREFIX`].
#[derive(Clone)]
pub struct PerIpLimit {
    pub per_minute: u32,
    pub cache: Cache,
    pub proxies: TrustedProxies,
}

impl<S, B> Transform<S, ServiceRequest> for PerIpLimit
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = PerIpLimitService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(PerIpLimitService {
            service: Rc::new(service),
            limit: self.clone(),
        }))
    }
}

pub struct PerIpLimitService<S> {
    service: Rc<S>,
    limit: PerIpLimit,
}

impl<S, B> Service<ServiceRequest> for PerIpLimitService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        if !req.path().starts_with(LIMITED_PREFIX) {
            return Box::pin(async move { Ok(service.call(req).await?.map_into_left_body()) });
        }
        let limit = self.limit.clone();
        let key = format!("ip:auth:{}", limit.proxies.of_request(req.request()));
        Box::pin(async move {
            match check(&limit.cache, &key, limit.per_minute).await {
                Ok(()) => Ok(service.call(req).await?.map_into_left_body()),
                Err(e) => Ok(req.into_response(e.error_response()).map_into_right_body()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_from_trusted_proxies_only() {
        let proxies = TrustedProxies(Arc::new(vec![
            "10.0.0.0/8".parse().unwrap(),
            "192.168.1.7/32".parse().unwrap(),
        ]));
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let client = |peer: &str, xff: &[&str]| proxies.client_ip(Some(ip(peer)), xff).unwrap();
        // Untrusted peer: its own address, whatever it claims.
        assert_eq!(client("203.0.113.9", &["1.2.3.4"]), ip("203.0.113.9"));
        // Trusted peer: the right-most untrusted hop.
        assert_eq!(
            client("10.0.0.2", &["1.2.3.4, 198.51.100.1"]),
            ip("198.51.100.1")
        );
        assert_eq!(
            client("10.0.0.2", &["1.2.3.4, 198.51.100.1, 192.168.1.7"]),
            ip("198.51.100.1")
        );
        // Several headers count as one list.
        assert_eq!(
            client("10.0.0.2", &["1.2.3.4", "198.51.100.2"]),
            ip("198.51.100.2")
        );
        // No header, or garbage: the last good address.
        assert_eq!(client("10.0.0.2", &[]), ip("10.0.0.2"));
        assert_eq!(client("10.0.0.2", &["junk"]), ip("10.0.0.2"));
        assert_eq!(client("10.0.0.2", &["junk, 10.1.1.1"]), ip("10.1.1.1"));
    }
}
