//! Keyset pages: the limit a caller may ask, and the cursor of the next page.

use writ_api::{DEFAULT_LIMIT, MAX_LIMIT};

use crate::error::ApiError;

/// The page size asked, checked: 1 to [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when absent.
pub(crate) fn limit(asked: Option<u32>) -> Result<u32, ApiError> {
    match asked {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::invalid(
            "limit",
            format!("`{n}` is out of range: a page holds 1 to {MAX_LIMIT} items"),
        )),
    }
}

/// Cuts a page fetched with one extra item to `limit`, and says where the next page starts
/// (after the last item kept) when there is one.
pub(crate) fn cut<T>(
    mut items: Vec<T>,
    limit: u32,
    key: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    if items.len() > limit as usize {
        items.truncate(limit as usize);
        let next = items.last().map(key);
        (items, next)
    } else {
        (items, None)
    }
}
