//! Keyset pagination: every list takes `after` (the `next` of the previous page) and `limit`.

/// The page size when the caller gives none.
pub const DEFAULT_LIMIT: u32 = 100;
/// The largest page a caller may ask for.
pub const MAX_LIMIT: u32 = 500;

/// Declares a page of `$item`: the items and the cursor of the next page.
macro_rules! page {
    ($(#[$doc:meta])* $name:ident of $item:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// The items, in the list's order.
            pub items: Vec<$item>,
            /// Pass as `after` for the next page; absent on the last page.
            pub next: Option<String>,
        }
    };
}
pub(crate) use page;
