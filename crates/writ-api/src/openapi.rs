//! The base of the OpenAPI document: title, version, security scheme and tags. The server
//! adds every path from its handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The name of the bearer-token security scheme.
pub const BEARER: &str = "bearer";

/// The document's base.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "writ",
        description = "Access governance for non-human identities. Every call needs \
            `Authorization: Bearer <token>` (`writ token create`). Errors are \
            `{\"error\": {\"code\", \"message\", \"details\"}}`. Lists are keyset-paginated: pass \
            a page's `next` as `after`; `limit` is at most 500.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    modifiers(&Bearer),
    components(schemas(crate::ErrorBody, crate::ErrorDetail)),
    tags(
        (name = "catalog", description = "Systems and their entitlements"),
        (name = "identities", description = "Non-human identities, their owners and accounts"),
        (name = "requests", description = "Requests: submit, decide, cancel, explain"),
        (name = "grants", description = "Governed access held by identities"),
        (name = "findings", description = "Gaps between governed and live state, found by reconciliation"),
        (name = "credentials", description = "The one-time reveal of rotated secrets"),
        (name = "audit", description = "The hash-chained audit log"),
        (name = "evidence", description = "Evidence bundles and signed checkpoints, verifiable offline"),
        (name = "notifications", description = "What writ told the caller they must know"),
        (name = "campaigns", description = "Recertification campaigns: reviewers keep or revoke access"),
        (name = "tickets", description = "Service-desk tickets writ received, refused ones included"),
    )
)]
pub struct ApiDoc;

/// Adds the bearer-token scheme every path requires.
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            BEARER,
            Vec::<String>::new(),
        )]);
    }
}
