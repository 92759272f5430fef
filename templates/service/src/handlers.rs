//! What each endpoint does. Handlers validate, do the work and reply;
//! every failure is an [`ApiError`] that the top-level recover turns into
//! the shared JSON error body.

use serde::{Deserialize, Serialize};
use shared_lib::error::ApiError;
use shared_lib::validate::bounded_text;
use warp::{Rejection, Reply};

use crate::AppState;
use crate::error::codes;

/// Longest accepted name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// Query of `GET /api/hello`: `?name=Ada`.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HelloQuery {
    /// Who to greet, 1 to 100 characters.
    #[param(min_length = 1, max_length = 100)]
    pub name: String,
}

/// The answer of `GET /api/hello`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Greeting {
    /// The greeting.
    pub greeting: String,
}

/// `GET /api/hello?name=`: an example endpoint; replace it with the real API.
pub async fn hello(query: HelloQuery, _state: AppState) -> Result<impl Reply, Rejection> {
    let name = greeting_for(&query.name).map_err(warp::reject::custom)?;
    Ok(warp::reply::json(&name))
}

/// The greeting for a trimmed name of 1 to [`MAX_NAME_CHARS`] characters
/// without control characters; 422 `invalid_name` otherwise.
pub fn greeting_for(raw: &str) -> Result<Greeting, ApiError> {
    let name = bounded_text("name", codes::INVALID_NAME, raw, MAX_NAME_CHARS)?;
    Ok(Greeting {
        greeting: format!("hello, {name}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(greeting_for(" Ada ").unwrap().greeting, "hello, Ada");
        for bad in ["", "  ", "a\nb"] {
            assert_eq!(
                greeting_for(bad).unwrap_err().code(),
                "invalid_name",
                "{bad:?}"
            );
        }
        assert!(greeting_for(&"x".repeat(MAX_NAME_CHARS + 1)).is_err());
    }
}
