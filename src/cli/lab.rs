//! `topo lab up|chassis|status|down|check`: the bundled OVN lab.
//!
//! `up` reads a topology (files or directories, checked like `topo validate`; the lab is
//! built from its chassis, `lab.networks`, VIF ports with a `chassis` and `checks`), or a
//! lab description file (the [`crate::lab::LabSpec`] as JSON or YAML; interim format). On a
//! lab that is up, `up` reconciles it with the file (`lab::reconcile`) and prints what it did.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand};

use super::Format;
use super::connect::runtime;
use super::exit::Outcome;
use crate::lab::{self, LabSpec, LabState, UpOptions, checks::CheckOptions};

#[derive(Debug, Args)]
pub(crate) struct LabArgs {
    #[command(subcommand)]
    pub command: LabCommand,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct DirArg {
    /// The lab directory (state, sockets, logs); `--dir` is an older name for it.
    #[arg(long = "lab", alias = "dir", default_value = lab::DEFAULT_DIR, value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub(crate) enum LabCommand {
    /// Start the lab: OVN central daemons, one namespace per chassis with its own
    /// ovsdb-server, ovs-vswitchd and ovn-controller, physical networks, VMs.
    Up {
        /// Topology files or directories, or one lab description (JSON or YAML, interim
        /// format, see `topo::lab::spec`).
        #[arg(required = true, value_name = "FILE|DIR")]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        dir: DirArg,
    },
    /// Stop, start or restart one chassis's daemons (ovn-controller, ovs-vswitchd and its
    /// ovsdb-server), for failover drills; its namespace, links and VMs stay.
    Chassis {
        #[command(subcommand)]
        action: ChassisCommand,
    },
    /// Show the lab's processes, namespaces and remotes: `Up` when every daemon runs,
    /// `Degraded` (exit 1) naming the stopped ones otherwise.
    Status {
        #[command(flatten)]
        dir: DirArg,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Stop everything the lab started and remove its namespaces (idempotent).
    Down {
        #[command(flatten)]
        dir: DirArg,
    },
    /// Run the lab description's checks with real packets; exit 1 if any fails.
    Check {
        #[command(flatten)]
        dir: DirArg,
        /// Run only this check: its `name`, or its index (from 1). Repeatable.
        #[arg(long = "check", value_name = "NAME|INDEX")]
        checks: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ChassisCommand {
    /// Stop the chassis's daemons by their recorded PIDs.
    Stop {
        name: String,
        #[command(flatten)]
        dir: DirArg,
    },
    /// Start them again on the chassis's own database (same system-id and encap): it
    /// rejoins as itself.
    Start {
        name: String,
        #[command(flatten)]
        dir: DirArg,
    },
    /// Stop, then start.
    Restart {
        name: String,
        #[command(flatten)]
        dir: DirArg,
    },
}

pub(crate) fn run(args: LabArgs) -> Outcome {
    match args.command {
        LabCommand::Up { paths, dir } => up(&paths, &dir.dir),
        LabCommand::Chassis { action } => {
            let (name, dir, action) = match action {
                ChassisCommand::Stop { name, dir } => (name, dir, lab::ChassisAction::Stop),
                ChassisCommand::Start { name, dir } => (name, dir, lab::ChassisAction::Start),
                ChassisCommand::Restart { name, dir } => (name, dir, lab::ChassisAction::Restart),
            };
            chassis(&name, &dir.dir, action)
        }
        LabCommand::Status { dir, format } => status(&dir.dir, format),
        LabCommand::Down { dir } => down(&dir.dir),
        LabCommand::Check { dir, checks } => check(&dir.dir, &checks),
    }
}

fn err(e: impl Into<miette::Report>) -> Outcome {
    Outcome::Error(e.into())
}

/// A lab description file if `paths` is one, else the lab of the topology.
/// The lab to build, and the options that go with its source: the chassis settings of a
/// topology are the topology's, written by `topo apply --lab`; a lab description has no
/// `topo apply` of its own, so the lab writes them.
fn load_spec(paths: &[PathBuf]) -> Result<(LabSpec, UpOptions), Outcome> {
    if let [file] = paths
        && file.is_file()
        && let Ok(spec) = LabSpec::load(file)
    {
        return Ok((spec, UpOptions::default()));
    }
    let (loaded, model, diags) = super::validate::load_and_check(paths);
    if diags.has_errors() {
        super::validate::report(&loaded, &diags, super::validate::ValidateFormat::Text);
        eprintln!("invalid topology: {} error(s)", diags.errors());
        return Err(Outcome::Failed);
    }
    let model = model.ok_or(Outcome::Failed)?;
    let spec = LabSpec::from_model(&model).map_err(err)?;
    Ok((
        spec,
        UpOptions {
            chassis_settings: false,
        },
    ))
}

fn up(paths: &[PathBuf], dir: &std::path::Path) -> Outcome {
    let (spec, options) = match load_spec(paths) {
        Ok(s) => s,
        Err(outcome) => return outcome,
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(outcome) => return outcome,
    };
    let start = Instant::now();
    // A lab that is up follows the topology; one starting or failed is `down`'s to clear.
    if let Ok(Some(state)) = LabState::load(dir)
        && state.phase == lab::state::Phase::Up
    {
        return match rt.block_on(lab::reconcile(dir, spec, &options)) {
            Ok((state, done)) => {
                for line in &done.changes {
                    println!("{line}");
                }
                println!("= {}", done.unchanged);
                println!(
                    "lab {} ({}) follows its topology ({} change(s) in {:.1} s)",
                    state.id,
                    state.spec.name,
                    done.changes.len(),
                    start.elapsed().as_secs_f64()
                );
                Outcome::Success
            }
            Err(e) => err(miette::Report::new(e).wrap_err(format!(
                "lab up failed on the running lab (lab.json records what exists; `topo lab up` again carries on, `topo lab down --lab {}` removes it)",
                dir.display()
            ))),
        };
    }
    match rt.block_on(lab::up(spec, dir, &options)) {
        Ok(state) => {
            println!(
                "lab {} ({}) is up in {:.1} s",
                state.id,
                state.spec.name,
                start.elapsed().as_secs_f64()
            );
            print_remotes(&state);
            println!("\nexplore: ip netns exec <namespace> <command>   (e.g. ping, tcpdump)");
            println!("tear down: topo lab down --lab {}", state.dir.display());
            Outcome::Success
        }
        Err(e) => err(miette::Report::new(e).wrap_err(format!(
            "lab up failed (everything it started was removed; logs are in {})",
            dir.display()
        ))),
    }
}

fn print_remotes(state: &LabState) {
    println!("  northbound  {}", state.nb);
    println!("  southbound  {}", state.sb);
    for c in &state.chassis {
        println!(
            "  chassis {:<12} {}  (netns {}, encap {})",
            c.name, c.remote, c.netns, c.encap_ip
        );
    }
    for v in &state.vteps {
        println!(
            "  vtep {:<15} {}  (netns {}, tunnel {})",
            v.name, v.remote, v.netns, v.tunnel_ip
        );
    }
    for (name, ep) in &state.endpoints {
        let v6: String = ep.ipv6.iter().map(|a| format!(" {a}")).collect();
        println!("  {name:<20} {}{v6}  netns {}", ep.ip, ep.netns);
    }
    println!(
        "  targets     {}",
        state.dir.join(lab::targets::TARGETS_FILE).display()
    );
}

fn status(dir: &std::path::Path, format: Format) -> Outcome {
    let st = match lab::status(dir) {
        Ok(Some(s)) => s,
        Ok(None) => {
            println!("no lab in {}", dir.display());
            return Outcome::Failed;
        }
        Err(e) => return err(e),
    };
    match format {
        Format::Json => match serde_json::to_string_pretty(&st) {
            Ok(s) => println!("{s}"),
            Err(e) => return err(miette::Report::from_err(e)),
        },
        Format::Text => {
            let health = match st.health {
                lab::Health::Up => "Up".to_owned(),
                lab::Health::Degraded if st.stopped.is_empty() => {
                    "Degraded (a namespace is missing)".to_owned()
                }
                lab::Health::Degraded => format!("Degraded (stopped: {})", st.stopped.join(", ")),
                lab::Health::Starting => "Starting".to_owned(),
                lab::Health::Failed => "Failed".to_owned(),
            };
            println!(
                "lab {} ({}) in {}: {health}",
                st.id,
                st.name,
                st.dir.display()
            );
            println!("  northbound  {}\n  southbound  {}", st.nb, st.sb);
            for (c, r) in &st.chassis {
                println!("  chassis {c:<12} {r}");
            }
            for p in &st.processes {
                let s = if p.running { "running" } else { "STOPPED" };
                println!("  {:<28} pid {:<8} {s}", p.role, p.pid);
            }
            for (ns, exists) in &st.namespaces {
                let s = if *exists { "present" } else { "MISSING" };
                println!("  netns {ns:<30} {s}");
            }
        }
    }
    if st.healthy() {
        Outcome::Success
    } else {
        Outcome::Failed
    }
}

fn chassis(name: &str, dir: &std::path::Path, action: lab::ChassisAction) -> Outcome {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(outcome) => return outcome,
    };
    let start = Instant::now();
    match rt.block_on(lab::chassis_control(dir, name, action)) {
        Ok(done) => {
            for line in &done {
                println!("{line}");
            }
            println!(
                "chassis {name}: done in {:.1} s",
                start.elapsed().as_secs_f64()
            );
            Outcome::Success
        }
        Err(e) => err(e),
    }
}

fn down(dir: &std::path::Path) -> Outcome {
    match lab::down(dir) {
        Ok(r) if r.absent => {
            println!("no lab in {}", dir.display());
            Outcome::Success
        }
        Ok(r) => {
            println!(
                "lab removed: {} processes stopped, {} namespaces deleted (logs kept in {})",
                r.stopped.len(),
                r.namespaces_removed.len(),
                dir.display()
            );
            Outcome::Success
        }
        Err(e) => err(e),
    }
}

fn check(dir: &std::path::Path, wanted: &[String]) -> Outcome {
    let mut state = match LabState::load(dir) {
        Ok(Some(s)) => s,
        Ok(None) => return err(miette::miette!("no lab in {}", dir.display())),
        Err(e) => return err(e),
    };
    let only = match lab::checks::select_checks(&state.spec.checks, wanted) {
        Ok(only) => only,
        Err(e) => return err(miette::miette!(code = "topo::verify::unknown-check", "{e}")),
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(outcome) => return outcome,
    };
    if let Err(e) = rt.block_on(lab::dynamic::learn(&mut state)) {
        return err(e);
    }
    let results = rt.block_on(lab::run_checks(
        &state,
        &state.spec.checks,
        &CheckOptions {
            only,
            ..CheckOptions::default()
        },
    ));
    print!("{}", lab::checks::render(&results));
    if results.iter().all(|r| r.passed) {
        Outcome::Success
    } else {
        Outcome::Failed
    }
}
