//! The Cedar actions: one per request kind, plus `approve`. Policies are sliced by action at
//! load time, so each decision evaluates only the policies that can apply to it.

use writ_domain::RequestKind;

use crate::reason::Placeholder;

/// A Cedar action of writ's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Submit a `grant` request.
    Grant,
    /// Submit an `exception` request.
    Exception,
    /// Submit a `break_glass` request.
    BreakGlass,
    /// Submit a `revoke` request.
    Revoke,
    /// Submit a `rotate` request.
    Rotate,
    /// Submit an `offboard` request.
    Offboard,
    /// Submit a `transfer` request.
    Transfer,
    /// Decide one approval stage of a request.
    Approve,
}

/// What a request names besides its identity, which decides the Cedar resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// An entitlement: `AccessRequest`.
    Access,
    /// Nothing more: `IdentityChange`.
    Change,
    /// A new owner: `OwnershipTransfer`.
    Transfer,
}

impl Action {
    /// Every action, in slice order.
    pub const ALL: [Action; 8] = [
        Action::Grant,
        Action::Exception,
        Action::BreakGlass,
        Action::Revoke,
        Action::Rotate,
        Action::Offboard,
        Action::Transfer,
        Action::Approve,
    ];

    /// The action's id in the schema (`Action::"grant"`).
    pub const fn name(self) -> &'static str {
        match self {
            Action::Grant => "grant",
            Action::Exception => "exception",
            Action::BreakGlass => "break_glass",
            Action::Revoke => "revoke",
            Action::Rotate => "rotate",
            Action::Offboard => "offboard",
            Action::Transfer => "transfer",
            Action::Approve => "approve",
        }
    }

    /// The action that decides the submission of a request of `kind`.
    pub const fn submit(kind: RequestKind) -> Action {
        match kind {
            RequestKind::Grant => Action::Grant,
            RequestKind::Exception => Action::Exception,
            RequestKind::BreakGlass => Action::BreakGlass,
            RequestKind::Revoke => Action::Revoke,
            RequestKind::Rotate => Action::Rotate,
            RequestKind::Offboard => Action::Offboard,
            RequestKind::Transfer => Action::Transfer,
        }
    }

    /// The action named `name` in the schema.
    pub(crate) fn from_name(name: &str) -> Option<Action> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The position of the action's slice.
    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// The reason placeholders that a policy evaluated for this action may use.
    pub(crate) fn placeholders(self) -> &'static [Placeholder] {
        use Placeholder as P;
        const ACCESS: &[Placeholder] = &[
            P::Requester,
            P::Identity,
            P::IdentityKind,
            P::IdentityStatus,
            P::Owner,
            P::Team,
            P::Kind,
            P::End,
            P::Entitlement,
            P::System,
            P::Risk,
            P::Environment,
            P::Ttl,
            P::MaxTtl,
            P::BreakGlassMaxTtl,
            P::AllowedKinds,
            P::SodRules,
        ];
        const CHANGE: &[Placeholder] = &[
            P::Requester,
            P::Identity,
            P::IdentityKind,
            P::IdentityStatus,
            P::Owner,
            P::Team,
            P::Kind,
        ];
        const TRANSFER: &[Placeholder] = &[
            P::Requester,
            P::Identity,
            P::IdentityKind,
            P::IdentityStatus,
            P::Owner,
            P::Team,
            P::Kind,
            P::NewOwner,
        ];
        const APPROVE: &[Placeholder] = &[
            P::Requester,
            P::Identity,
            P::IdentityKind,
            P::IdentityStatus,
            P::Owner,
            P::Team,
            P::Kind,
            P::Entitlement,
            P::Approver,
            P::Stage,
            P::StageRule,
        ];
        match self {
            Action::Grant | Action::Exception | Action::BreakGlass | Action::Revoke => ACCESS,
            Action::Rotate | Action::Offboard => CHANGE,
            Action::Transfer => TRANSFER,
            Action::Approve => APPROVE,
        }
    }
}

impl Shape {
    /// What a request of `kind` must name.
    pub(crate) const fn of(kind: RequestKind) -> Shape {
        match kind {
            RequestKind::Grant
            | RequestKind::Exception
            | RequestKind::BreakGlass
            | RequestKind::Revoke => Shape::Access,
            RequestKind::Rotate | RequestKind::Offboard => Shape::Change,
            RequestKind::Transfer => Shape::Transfer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_kind_has_its_own_action_named_like_the_kind() {
        for kind in RequestKind::ALL {
            assert_eq!(Action::submit(*kind).name(), kind.as_str());
        }
    }

    #[test]
    fn actions_are_found_by_name_and_indexed_in_order() {
        for (i, action) in Action::ALL.iter().enumerate() {
            assert_eq!(Action::from_name(action.name()), Some(*action));
            assert_eq!(action.index(), i);
        }
        assert_eq!(Action::from_name("submit"), None);
    }
}
