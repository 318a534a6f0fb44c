//! Loading a topology into its desired rows for the commands that talk to OVN (plan, apply,
//! drift, verify, lab): diagnostics are reported exactly as `topo validate` reports them.

use std::path::PathBuf;

use super::validate::ValidateFormat;
use super::validate::{load_and_check, report};
use crate::rows::State;

/// A checked topology's desired rows.
pub struct Desired {
    pub stack: String,
    pub rows: State,
    /// Gateways on chassis whose mappings the topology does not declare, for the
    /// Southbound check of plan, drift and apply (`cli::gateways`).
    pub gateway_needs: Vec<crate::compiler::model::GatewayNeed>,
}

impl Desired {
    /// The stack's end, for `topo destroy` and `plan --destroy`: no Northbound rows (so every
    /// row the stack owns is deleted, and nobody else's), and on each chassis nothing of its
    /// own (so its `ovn-bridge-mappings` entries are removed, others' kept; the encap settings
    /// and provider bridges stay: the chassis still runs ovn-controller).
    pub fn destroying(mut self) -> Desired {
        self.rows.tables.clear();
        for declared in self.rows.chassis.values_mut() {
            declared.wanted = crate::rows::chassis::Wanted::default();
        }
        self
    }
}

/// The checked topology, or `None` after the diagnostics were printed.
pub fn load(paths: &[PathBuf]) -> Option<Desired> {
    let (desired, rest) = load_keeping(paths);
    drop(rest);
    desired
}

/// What [`load`] built on the way: the files, their parse and the model (a few hundred MB at
/// 10,000 tenants, and freeing it takes a while).
type Leftovers = Box<dyn Send>;

/// [`load`], and what it built on the way, for the caller to free when it suits it.
fn load_keeping(paths: &[PathBuf]) -> (Option<Desired>, Leftovers) {
    let (loaded, model, diags) = load_and_check(paths);
    crate::timings::phase("load and check the topology");
    if !diags.items.is_empty() {
        report(&loaded, &diags, ValidateFormat::Text);
    }
    let Some(mut model) = model else {
        return (None, Box::new((loaded, diags)));
    };
    let rows = crate::compiler::lower(&model);
    crate::timings::phase("lower to rows");
    let desired = Desired {
        stack: model.stack.clone(),
        rows,
        gateway_needs: std::mem::take(&mut model.gateway_needs),
    };
    (Some(desired), Box::new((loaded, diags, model)))
}

/// A topology loading on its own thread.
pub(crate) struct Loading {
    rx: tokio::sync::oneshot::Receiver<Option<Desired>>,
    thread: std::thread::JoinHandle<()>,
}

/// Starts [`load`] on its own thread, so that a command can read the databases meanwhile:
/// the read is the server's work, the compile this process's, and with both at once a plan
/// takes the longer of the two instead of their sum.
pub(crate) fn load_in_background(paths: Vec<PathBuf>) -> Loading {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let thread = std::thread::spawn(move || {
        let (desired, rest) = load_keeping(&paths);
        let _ = tx.send(desired);
        // Freed while the command goes on.
        drop(rest);
    });
    Loading { rx, thread }
}

impl Loading {
    /// The checked topology, or `None` after the diagnostics were printed.
    pub(crate) async fn wait(self) -> Option<Desired> {
        match self.rx.await {
            Ok(desired) => desired,
            // The thread ended without sending: it panicked; panic here with its payload.
            Err(_) => match self.thread.join() {
                Err(payload) => std::panic::resume_unwind(payload),
                Ok(()) => None,
            },
        }
    }
}

/// Whether to colour output: a terminal, and `NO_COLOR` unset.
pub(crate) fn color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}
