//! The server side of on-premises gateways: the agents connected to this node ([`hub`]), the
//! socket each one holds ([`socket`]), and the [`relay`] that carries a bound connection's calls
//! through one of them, or (with several nodes, [`cluster`]) forwards it to the node holding one;
//! dev [`tunnels`] ride the same sockets. [`runtime_for`] is the one place where a connection's binding chooses
//! how its calls travel.

pub mod cluster;
pub mod hub;
pub mod relay;
pub mod socket;
pub mod tunnels;

use patchbay_runtime::Runtime;
use patchbay_store::Connection;
use std::sync::Arc;

use crate::state::SharedState;

/// The runtime to call `connection`'s backend with: the shared one, or, for a connection bound
/// to a gateway, the same runtime with every exchange carried by one of the gateway's agents.
pub(crate) fn runtime_for(state: &SharedState, connection: &Connection) -> Runtime {
    match relay_for(state, connection) {
        Some(relay) => state.runtime.through(relay),
        None => state.runtime.clone(),
    }
}

/// The relay of `connection`'s gateway, when it is bound to one.
pub(crate) fn relay_for(
    state: &SharedState,
    connection: &Connection,
) -> Option<Arc<dyn patchbay_runtime::transport::Relay>> {
    let gateway = connection.gateway_id.clone()?;
    let max_response_bytes = state.runtime.transport.options().max_response_bytes;
    let relay = relay::GatewayRelay::new(state.gateways.clone(), gateway, max_response_bytes);
    Some(Arc::new(relay.with_cluster(state.cluster.clone())))
}
