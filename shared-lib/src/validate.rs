//! Checks of request fields that every service makes the same way.

use crate::error::ApiError;

/// `raw` trimmed, when it has 1 to `max_chars` characters and no control
/// characters; else a 422 with `code` saying what `field` must be, e.g.
/// `name must be 1 to 100 characters without control characters`.
pub fn bounded_text(
    field: &str,
    code: &'static str,
    raw: &str,
    max_chars: usize,
) -> Result<String, ApiError> {
    let text = raw.trim();
    let chars = text.chars().count();
    if chars == 0 || chars > max_chars || text.chars().any(char::is_control) {
        return Err(ApiError::unprocessable(
            code,
            format!("{field} must be 1 to {max_chars} characters without control characters"),
        ));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_bounded_in_characters_and_free_of_control_characters() {
        assert_eq!(
            bounded_text("name", "invalid_name", "  Ada ", 3).unwrap(),
            "Ada"
        );
        assert_eq!(
            bounded_text("name", "invalid_name", &"é".repeat(3), 3).unwrap(),
            "ééé"
        );
        for bad in ["", "   ", "a\u{0}b", "line\nbreak", "four"] {
            let err = bounded_text("items[2].sku", "invalid_sku", bad, 3).unwrap_err();
            assert_eq!(err.code(), "invalid_sku", "{bad:?}");
            assert_eq!(err.status(), warp::http::StatusCode::UNPROCESSABLE_ENTITY);
            assert!(
                err.message()
                    .starts_with("items[2].sku must be 1 to 3 characters"),
                "{}",
                err.message()
            );
        }
    }
}
