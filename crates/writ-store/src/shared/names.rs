//! The names of ids a page shows, compiled once per backend (see the crate docs): read for
//! those ids only, so a page costs the same however large the catalog is.

use std::collections::HashMap;
use std::hash::Hash;

use writ_domain::{EntitlementId, IdentityId, PrincipalId};

use crate::DisplayNames;
use crate::error::StoreError;
use crate::rows::{Arg, bind_args};

use super::{Pool, sql};

/// Ids per query, well under either backend's limit on placeholders.
const CHUNK: usize = 500;

pub(super) async fn display_names(
    pool: &Pool,
    principals: &[PrincipalId],
    identities: &[IdentityId],
    entitlements: &[EntitlementId],
) -> Result<DisplayNames, StoreError> {
    Ok(DisplayNames {
        principals: named(
            pool,
            "SELECT id, name FROM principals WHERE id",
            principals,
            PrincipalId::as_uuid,
            PrincipalId::from_uuid,
        )
        .await?,
        identities: named(
            pool,
            "SELECT id, name FROM identities WHERE id",
            identities,
            IdentityId::as_uuid,
            IdentityId::from_uuid,
        )
        .await?,
        entitlements: named(
            pool,
            "SELECT e.id, s.name || '/' || e.key FROM entitlements e \
             JOIN systems s ON s.id = e.system_id WHERE e.id",
            entitlements,
            EntitlementId::as_uuid,
            EntitlementId::from_uuid,
        )
        .await?,
    })
}

/// `{select} IN (…)` over `ids`, a chunk at a time, as a map from id to name.
async fn named<Id: Copy + Eq + Hash>(
    pool: &Pool,
    select: &str,
    ids: &[Id],
    to_uuid: fn(&Id) -> uuid::Uuid,
    from_uuid: fn(uuid::Uuid) -> Id,
) -> Result<HashMap<Id, String>, StoreError> {
    let mut names = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        // Placeholders only: the text depends on nothing but the number of ids.
        let placeholders: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
        let sql = format!("{select} IN ({})", placeholders.join(", "));
        let args = chunk.iter().map(|id| Arg::Uuid(to_uuid(id)));
        let rows: Vec<(uuid::Uuid, String)> =
            bind_args!(sql::query_as(sqlx::AssertSqlSafe(sql)), args)
                .fetch_all(pool)
                .await?;
        names.extend(rows.into_iter().map(|(id, name)| (from_uuid(id), name)));
    }
    Ok(names)
}
