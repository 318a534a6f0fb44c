//! `topo status`: which databases topo talks to, their cluster role, and the chassis.
//!
//! The first thing to run on a new machine or in a new pipeline: it proves the remotes, TLS
//! files and leader discovery work before anything is planned.

use std::collections::BTreeMap;

use clap::Args;
use serde::Serialize;

use super::Format;
use super::connect::{DbArgs, runtime};
use super::exit::Outcome;
use super::lab_target::LabArg;
use crate::ovsdb::{Client, ColumnsExt};

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub lab: LabArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Serialize)]
struct Status {
    northbound: DbStatus,
    southbound: DbStatus,
    chassis: Vec<ChassisStatus>,
}

#[derive(Debug, Serialize)]
struct DbStatus {
    database: String,
    remote: String,
    /// `standalone`, or `leader` / `follower` of a cluster.
    role: String,
    cluster_id: Option<String>,
    server_id: Option<String>,
    schema_version: String,
    /// NB_Global counters (Northbound only).
    #[serde(skip_serializing_if = "Option::is_none")]
    nb_cfg: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sb_cfg: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hv_cfg: Option<i64>,
}

#[derive(Debug, Serialize)]
struct ChassisStatus {
    name: String,
    hostname: String,
    encaps: Vec<Encap>,
    bridge_mappings: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
struct Encap {
    #[serde(rename = "type")]
    kind: String,
    ip: String,
}

pub(crate) fn run(mut args: StatusArgs) -> Outcome {
    if let Err(report) = args.lab.resolve(&mut args.db) {
        return Outcome::Error(report);
    }
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(outcome) => return outcome,
    };
    match rt.block_on(collect(&args.db)) {
        Ok(status) => {
            match args.format {
                Format::Json => match serde_json::to_string_pretty(&status) {
                    Ok(s) => println!("{s}"),
                    Err(e) => return Outcome::Error(miette::Report::from_err(e)),
                },
                Format::Text => print!("{}", render(&status)),
            }
            Outcome::Success
        }
        Err(report) => Outcome::Error(report),
    }
}

async fn collect(db: &DbArgs) -> Result<Status, miette::Report> {
    let nb = db.connect("Northbound").await?;
    let sb = db.connect("Southbound").await?;
    let mut northbound = db_status(&nb, "OVN_Northbound").await?;
    let southbound = db_status(&sb, "OVN_Southbound").await?;
    let global = nb
        .select(
            "OVN_Northbound",
            "NB_Global",
            vec![],
            &["nb_cfg", "sb_cfg", "hv_cfg"],
        )
        .await
        .map_err(miette::Report::new)?;
    if let Some(g) = global.first() {
        northbound.nb_cfg = g.integer("nb_cfg");
        northbound.sb_cfg = g.integer("sb_cfg");
        northbound.hv_cfg = g.integer("hv_cfg");
    }
    let chassis = chassis(&sb).await?;
    Ok(Status {
        northbound,
        southbound,
        chassis,
    })
}

async fn db_status(client: &Client, database: &str) -> Result<DbStatus, miette::Report> {
    let info = client.server().await.map_err(miette::Report::new)?;
    let schema = client.schema(database).await.map_err(miette::Report::new)?;
    let (role, cid, sid) = match &info.database {
        Some(s) if s.is_clustered() => (
            if s.leader { "leader" } else { "follower" }.to_owned(),
            s.cid.map(|u| u.to_string()),
            s.sid.map(|u| u.to_string()),
        ),
        Some(s) if !s.model.is_empty() => (s.model.clone(), None, None),
        _ => ("standalone".to_owned(), None, None),
    };
    Ok(DbStatus {
        database: database.to_owned(),
        remote: info.remote.to_string(),
        role,
        cluster_id: cid,
        server_id: sid,
        schema_version: schema.version.clone(),
        nb_cfg: None,
        sb_cfg: None,
        hv_cfg: None,
    })
}

/// The registered chassis, as the shared Southbound reader shows them; only the mappings
/// ovn-controller would use (malformed entries are not mappings).
async fn chassis(sb: &Client) -> Result<Vec<ChassisStatus>, miette::Report> {
    let all = crate::live::southbound::all(sb)
        .await
        .map_err(miette::Report::new)?;
    Ok(all
        .into_iter()
        .map(|c| ChassisStatus {
            bridge_mappings: c.bridge_mappings().entries().clone(),
            encaps: c
                .encaps
                .into_iter()
                .map(|e| Encap {
                    kind: e.kind,
                    ip: e.ip,
                })
                .collect(),
            name: c.name,
            hostname: c.hostname,
        })
        .collect())
}

fn render(s: &Status) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for db in [&s.northbound, &s.southbound] {
        let _ = writeln!(out, "{}", db.database);
        let _ = writeln!(out, "  remote:  {}", db.remote);
        let role = match (&db.cluster_id, &db.server_id) {
            (Some(cid), Some(sid)) => format!("cluster {} (cid {cid}, sid {sid})", db.role),
            _ => db.role.clone(),
        };
        let _ = writeln!(out, "  role:    {role}");
        let _ = writeln!(out, "  schema:  {}", db.schema_version);
        if let (Some(nb), Some(sb), Some(hv)) = (db.nb_cfg, db.sb_cfg, db.hv_cfg) {
            let _ = writeln!(out, "  nb_cfg:  {nb} (sb_cfg {sb}, hv_cfg {hv})");
        }
    }
    let _ = writeln!(out, "Chassis ({})", s.chassis.len());
    if s.chassis.is_empty() {
        let _ = writeln!(out, "  none registered");
    }
    for c in &s.chassis {
        let host = if c.hostname.is_empty() {
            String::new()
        } else {
            format!(" ({})", c.hostname)
        };
        let _ = writeln!(out, "  {}{host}", c.name);
        for e in &c.encaps {
            let _ = writeln!(out, "    encap {} {}", e.kind, e.ip);
        }
        if c.bridge_mappings.is_empty() {
            let _ = writeln!(out, "    bridge mappings: none");
        }
        for (net, br) in &c.bridge_mappings {
            let _ = writeln!(out, "    bridge mapping {net} -> {br}");
        }
    }
    out
}
