//! The patchbay on-premises gateway: the [`protocol`] spoken over one outbound WebSocket between an
//! agent inside a private network and the server, and the [`agent`] itself, which carries the
//! platform's calls to the private APIs on its allow list.
#![deny(missing_docs)]

pub mod agent;
pub mod protocol;
