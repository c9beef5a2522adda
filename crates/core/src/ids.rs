//! Identifier newtypes.
//!
//! Every id is a distinct type so that an agent id can never be passed where a
//! contact id is expected. They wrap `u64` because the stores hand out dense
//! integer keys and the engine indexes by them on hot paths.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id_type!(
    /// A tenant: everything else belongs to exactly one workspace.
    WorkspaceId, "ws"
);
id_type!(
    /// A person who logs in: administrator, supervisor or agent.
    UserId, "u"
);
id_type!(
    /// A user who handles contacts; an agent's id is its user's number.
    AgentId, "ag"
);
id_type!(
    /// A place where contacts wait.
    QueueId, "q"
);
id_type!(
    /// One interaction between a customer and the center on one channel.
    ContactId, "ct"
);
id_type!(
    /// A person with one or more identities.
    CustomerId, "cu"
);
id_type!(
    /// An ordered list of routing steps.
    PolicyId, "rp"
);
id_type!(
    /// A way in to a workspace: a chat widget, a phone number, a mailbox,
    /// a messaging account.
    EndpointId, "ep"
);

/// A skill, interned by the [`crate::skills::SkillRegistry`] so that agent
/// skill tables can be plain arrays indexed by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SkillId(pub u16);
