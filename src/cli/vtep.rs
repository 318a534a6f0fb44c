//! Which hardware VTEPs plan, drift and apply reach: each VTEP of the topology with a
//! management remote for its `hardware_vtep` database — the lab's (`--lab`), else the
//! target's (topo.toml `[targets.<name>.vteps.<vtep>]`), else the topology's own `remote` —
//! with what the compiled topology wants there (`rows::vtep`).

use crate::lab::targets::Targets;
use crate::rows::State;
use crate::rows::vtep::Target;

/// The VTEPs of `desired` with a remote, in name order.
pub(crate) fn reachable(
    desired: &State,
    lab: Option<&Targets>,
    configured: &std::collections::BTreeMap<String, String>,
) -> Vec<Target> {
    desired
        .vteps
        .iter()
        .filter_map(|(name, declared)| {
            let remote = lab
                .and_then(|t| t.vteps.get(name))
                .map(|v| v.remote.clone())
                .or_else(|| configured.get(name).cloned())
                .or_else(|| declared.remote.clone())?;
            Some(Target {
                name: name.clone(),
                remote,
                stack: declared.stack.clone(),
                wanted: declared.wanted.clone(),
            })
        })
        .collect()
}
