//! What each endpoint does. Handlers validate, call the store and reply;
//! every failure is an [`ApiError`] that the top-level recover turns into
//! the shared JSON error body.

use shared_lib::error::ApiError;
use shared_lib::validate::bounded_text;
use shared_lib::wire::{CreateUser, PageQuery};
use warp::http::StatusCode;
use warp::{Rejection, Reply};

use crate::AppState;
use crate::error::{UserError, codes};
use crate::store::AddError;

/// Longest accepted name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest accepted email, in bytes (RFC 5321's limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// `POST /api/users`: 201 with the new user.
pub async fn create_user(body: CreateUser, state: AppState) -> Result<impl Reply, Rejection> {
    let name = validate_name(&body.name)?;
    let email = validate_email(&body.email)?;
    if state.fault.as_ref().is_some_and(|f| f.strikes()) {
        return Err(
            ApiError::internal("FAULT_SIGNUP_500_EVERY: this sign-up fails on purpose").into(),
        );
    }
    match state.store.add(name, email).await {
        Ok(user) => Ok(warp::reply::with_status(
            warp::reply::json(&user),
            StatusCode::CREATED,
        )),
        Err(AddError::EmailTaken) => Err(UserError::EmailTaken.into()),
        Err(AddError::Db(err)) => Err(err.into()),
    }
}

/// `GET /api/users/{id}`: 200 with the user, 404 `user_not_found`.
pub async fn get_user(id: u64, state: AppState) -> Result<impl Reply, Rejection> {
    match state.store.get(id).await? {
        Some(user) => Ok(warp::reply::json(&user)),
        None => Err(UserError::NotFound(id).into()),
    }
}

/// `GET /api/users?offset=&limit=`: a page of users in id order.
pub async fn list_users(query: PageQuery, state: AppState) -> Result<impl Reply, Rejection> {
    let (offset, limit) = query.bounds()?;
    Ok(warp::reply::json(&state.store.page(offset, limit).await?))
}

/// A trimmed name of 1 to [`MAX_NAME_CHARS`] characters without control characters.
pub fn validate_name(raw: &str) -> Result<String, ApiError> {
    bounded_text("name", codes::INVALID_NAME, raw, MAX_NAME_CHARS)
}

/// A trimmed `local@domain.tld` address: one `@`, a non-empty local part of
/// at most 64 bytes, a domain of dot-separated non-empty labels with at
/// least one dot, no whitespace or control characters, at most
/// [`MAX_EMAIL_LEN`] bytes. Deliverability is not checked.
pub fn validate_email(raw: &str) -> Result<String, ApiError> {
    let email = raw.trim();
    let invalid = || ApiError::from(UserError::InvalidEmail(email.to_string()));
    if email.len() > MAX_EMAIL_LEN || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let labels_ok = domain.contains('.') && domain.split('.').all(|l| !l.is_empty());
    if local.is_empty() || local.len() > 64 || domain.contains('@') || !labels_ok {
        return Err(invalid());
    }
    Ok(email.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_strikes_on_every_nth_call_only() {
        let fault = Fault::every(5);
        let struck = (1..=12).filter(|_| fault.strikes()).count();
        assert_eq!(struck, 2);
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(validate_name("  Ada Lovelace ").unwrap(), "Ada Lovelace");
        assert_eq!(
            validate_name(&"é".repeat(100)).unwrap().chars().count(),
            100
        );
        for bad in ["", "   ", "a\u{0}b", "line\nbreak"] {
            assert_eq!(
                validate_name(bad).unwrap_err().code(),
                "invalid_name",
                "{bad:?}"
            );
        }
        assert!(validate_name(&"x".repeat(101)).is_err());
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert_eq!(
            validate_email(" ada@example.com ").unwrap(),
            "ada@example.com"
        );
        assert!(validate_email("a.b+tag@sub.example.org").is_ok());
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "a@b@example.com",
            "ada@example..com",
            "ada@.com",
            "a da@example.com",
        ] {
            assert_eq!(
                validate_email(bad).unwrap_err().code(),
                "invalid_email",
                "{bad:?}"
            );
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(validate_email(&long_local).is_err());
        let long = format!("a@{}.com", "b".repeat(260));
        assert!(validate_email(&long).is_err());
    }
}

/// A fault injected for tests (`FAULT_SIGNUP_500_EVERY`): every n-th call
/// strikes. Never on unless that variable is set.
#[derive(Debug)]
pub struct Fault {
    every: u64,
    calls: std::sync::atomic::AtomicU64,
}

impl Fault {
    /// Strikes on every `every`-th call.
    pub fn every(every: u64) -> Fault {
        Fault {
            every,
            calls: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Whether this call is one that fails.
    pub fn strikes(&self) -> bool {
        let n = self
            .calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        n.is_multiple_of(self.every)
    }
}
