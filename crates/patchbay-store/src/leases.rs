//! The terms shared by every time-bound lease (the triggers' polling schedule, the run queue).

use crate::error::{Result, StoreError};
use crate::ids::check_name;

/// The node name, checked, and the end of a lease of `lease_ms` from `now_ms`.
pub(crate) fn lease_terms(node: &str, now_ms: i64, lease_ms: i64) -> Result<(&str, i64)> {
    let node = check_name("node", node, 200)?;
    if lease_ms <= 0 {
        return Err(StoreError::invalid("lease", "must last at least 1 ms"));
    }
    Ok((node, now_ms.saturating_add(lease_ms)))
}
