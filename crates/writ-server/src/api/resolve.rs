//! Things callers name by id or by a human key (identity name, `SYSTEM/KEY`, e-mail,
//! `REQ-…`), looked up in the store.

use writ_domain::{
    Entitlement, EntitlementId, Identity, IdentityId, Principal, PrincipalId, Request,
    RequestNumber, System, SystemId,
};
use writ_store::{RequestDecision, Store};

use crate::error::ApiError;

/// A request by its number, or 404; a malformed number is a 400 naming `field`.
pub(crate) async fn request(
    store: &dyn Store,
    field: &str,
    number: &str,
) -> Result<(Request, RequestDecision), ApiError> {
    let parsed: RequestNumber = number.parse().map_err(|e| ApiError::invalid(field, e))?;
    store
        .request_by_number(parsed)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("request `{parsed}`")))
}

/// An identity by id or name.
pub(crate) async fn identity(store: &dyn Store, key: &str) -> Result<Option<Identity>, ApiError> {
    Ok(match key.parse::<IdentityId>() {
        Ok(id) => store.identity(id).await?,
        Err(_) => store.identity_named(key).await?,
    })
}

/// A system by id or name.
pub(crate) async fn system(store: &dyn Store, key: &str) -> Result<Option<System>, ApiError> {
    Ok(match key.parse::<SystemId>() {
        Ok(id) => store.system(id).await?,
        Err(_) => store.system_named(key).await?,
    })
}

/// An entitlement by id or `SYSTEM/KEY`.
pub(crate) async fn entitlement(
    store: &dyn Store,
    field: &str,
    key: &str,
) -> Result<Option<Entitlement>, ApiError> {
    if let Ok(id) = key.parse::<EntitlementId>() {
        return Ok(store.entitlement(id).await?);
    }
    let (system_name, entitlement_key) = key.split_once('/').ok_or_else(|| {
        ApiError::invalid(
            field,
            format!("`{key}` is neither an entitlement id nor `SYSTEM/KEY`"),
        )
    })?;
    let Some(system) = store.system_named(system_name).await? else {
        return Ok(None);
    };
    Ok(store.entitlement_keyed(system.id, entitlement_key).await?)
}

/// A principal by id or e-mail.
pub(crate) async fn principal(store: &dyn Store, key: &str) -> Result<Option<Principal>, ApiError> {
    Ok(match key.parse::<PrincipalId>() {
        Ok(id) => store.principal(id).await?,
        Err(_) => store.principal_by_email(key).await?,
    })
}

/// Resolves an optional filter value with `find`; a value that names nothing is a 400
/// naming `field` (a filter on something that does not exist is a mistake, not an empty list).
pub(crate) async fn filter<T, F, Fut>(
    field: &str,
    value: Option<&str>,
    find: F,
) -> Result<Option<T>, ApiError>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, ApiError>>,
{
    let Some(value) = value else {
        return Ok(None);
    };
    match find(value.to_string()).await? {
        Some(found) => Ok(Some(found)),
        None => Err(ApiError::invalid(field, format!("`{value}` names nothing"))),
    }
}

/// An optional parameter or field parsed as `T`; a value that does not parse is a 400 naming
/// `field`.
pub(crate) fn optional<T>(field: &str, value: Option<&str>) -> Result<Option<T>, ApiError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    value
        .map(str::parse::<T>)
        .transpose()
        .map_err(|e| ApiError::invalid(field, e))
}
