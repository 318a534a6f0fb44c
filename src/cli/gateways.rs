//! The gateways whose chassis's bridge mappings the topology does not declare, checked in the
//! Southbound for plan, drift and apply (`diff::gateways`); and apply's refusal when one of
//! them blocks.

use super::connect::DbArgs;
use crate::compiler::model::GatewayNeed;
use crate::diff::gateways::{self, GatewayFinding};

use crate::apply::GATEWAY_UNMAPPED;

/// The findings for the topology's gateways on chassis it does not map, from the Southbound
/// (read only when there are such gateways). Without the Southbound, a note says they were
/// not checked and there is no finding.
pub(crate) async fn check(db: &DbArgs, needs: &[GatewayNeed]) -> Vec<GatewayFinding> {
    if needs.is_empty() {
        return Vec::new();
    }
    let read = async {
        let sb = db.connect("Southbound").await.map_err(|e| e.to_string())?;
        crate::live::southbound::all(&sb)
            .await
            .map_err(|e| e.to_string())
    };
    match read.await {
        Ok(registered) => gateways::check(needs, &registered),
        Err(e) => {
            eprintln!("note: the gateways' chassis were not checked in the Southbound: {e}");
            Vec::new()
        }
    }
}

/// apply's refusal when a finding blocks: every blocking finding, and that nothing was
/// written.
pub(crate) fn refusal(findings: &[GatewayFinding]) -> Option<miette::Report> {
    if !gateways::blocking(findings) {
        return None;
    }
    let lines: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == gateways::Severity::Error)
        .map(|f| format!("  {}", f.message))
        .collect();
    let first = findings
        .iter()
        .find(|f| f.severity == gateways::Severity::Error)?;
    let network = first.networks.first().map_or("", String::as_str);
    Some(miette::miette!(
        code = GATEWAY_UNMAPPED,
        help = format!(
            "map the network on the chassis (ovn-bridge-mappings), give the gateway a chassis \
             that maps it a higher priority, or acknowledge it with `unmapped-ok: [{network}]` \
             on chassis `{}` to apply anyway",
            first.chassis
        ),
        "refusing to apply: a gateway's active chassis does not map its physical network; \
         nothing was written\n{}",
        lines.join("\n")
    ))
}

/// Prints the findings that do not block, as warnings on stderr.
pub(crate) fn warn(findings: &[GatewayFinding]) {
    for f in findings
        .iter()
        .filter(|f| f.severity == gateways::Severity::Warning)
    {
        eprintln!("warning: {}", f.message);
    }
}
