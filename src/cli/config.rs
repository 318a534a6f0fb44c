//! `topo config show`: the connection settings a command would use, and where each came from
//! (a flag, `OVN_NB_DB` / `OVN_SB_DB`, a target of a `topo.toml`, or the defaults). Reads no
//! database: it shows what [`DbArgs`] resolved before the command ran. See `docs/config.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde::Serialize;

use super::Format;
use super::connect::{DbArgs, Origin, Origins};
use super::exit::Outcome;

#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Show the resolved connection settings and where each came from.
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// One setting: its value and its origin (`source`, with `flag`, `variable` or `file` and
/// `target`).
#[derive(Debug, Serialize)]
struct Setting<T> {
    value: Option<T>,
    #[serde(flatten)]
    origin: Origin,
}

#[derive(Debug, Serialize)]
struct Shown {
    /// The topo.toml read (`--config`, else the nearest one from the current directory up).
    file: Option<PathBuf>,
    /// The target used (`--target`, else the file's default).
    target: Option<String>,
    nb: Setting<String>,
    sb: Setting<String>,
    private_key: Setting<PathBuf>,
    certificate: Setting<PathBuf>,
    ca_cert: Setting<PathBuf>,
    /// Seconds.
    timeout: Setting<u64>,
    chassis: BTreeMap<String, Setting<String>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    vteps: BTreeMap<String, Setting<String>>,
    /// The lab plan, apply, drift and verify fall back to when nothing names a Northbound.
    default_lab: Option<PathBuf>,
}

pub(crate) fn run(args: ConfigArgs) -> Outcome {
    match args.command {
        ConfigCommand::Show(show) => run_show(show),
    }
}

fn run_show(mut args: ShowArgs) -> Outcome {
    // Resolved before the command runs (cli::main); again here is a no-op.
    if let Err(e) = args.db.resolve() {
        return Outcome::Error(miette::Report::new(e));
    }
    let shown = shown(&args.db);
    let text = match args.format {
        Format::Json => match serde_json::to_string_pretty(&shown) {
            Ok(s) => s,
            Err(e) => return Outcome::Error(miette::miette!("cannot render the settings: {e}")),
        },
        Format::Text => render_text(&shown),
    };
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{}", text.trim_end());
    Outcome::Success
}

fn shown(db: &DbArgs) -> Shown {
    let o = db.origins.clone().unwrap_or_default();
    let Origins {
        file,
        target,
        nb,
        sb,
        private_key,
        certificate,
        ca_cert,
        timeout,
        chassis,
        vteps,
    } = o;
    let default_lab = Path::new(crate::lab::DEFAULT_DIR);
    let lab_fallback = nb == Origin::Default
        && default_lab
            .join(crate::lab::targets::TARGETS_FILE)
            .is_file();
    Shown {
        file,
        target,
        nb: Setting {
            value: Some(db.nb.clone()),
            origin: nb,
        },
        sb: Setting {
            value: Some(db.sb.clone()),
            origin: sb,
        },
        private_key: Setting {
            value: db.private_key.clone(),
            origin: private_key,
        },
        certificate: Setting {
            value: db.certificate.clone(),
            origin: certificate,
        },
        ca_cert: Setting {
            value: db.ca_cert.clone(),
            origin: ca_cert,
        },
        timeout: Setting {
            value: db.timeout,
            origin: timeout,
        },
        chassis: chassis
            .into_iter()
            .map(|(name, origin)| {
                let value = db.chassis.get(&name).cloned();
                (name, Setting { value, origin })
            })
            .collect(),
        vteps: vteps
            .into_iter()
            .map(|(name, origin)| {
                let value = db.vteps.get(&name).cloned();
                (name, Setting { value, origin })
            })
            .collect(),
        default_lab: lab_fallback.then(|| default_lab.to_path_buf()),
    }
}

fn origin_text(origin: &Origin) -> String {
    match origin {
        Origin::Flag { flag } => format!("flag {flag}"),
        Origin::Environment { variable } => format!("environment {variable}"),
        Origin::Target { file, target } => format!("target `{target}` of {}", file.display()),
        Origin::Default => "default".to_owned(),
        Origin::Unset => "not set".to_owned(),
    }
}

fn render_text(s: &Shown) -> String {
    let mut out = String::new();
    match (&s.file, &s.target) {
        (Some(f), Some(t)) => {
            let _ = writeln!(out, "Configuration: {} (target `{t}`)", f.display());
        }
        (Some(f), None) => {
            let _ = writeln!(
                out,
                "Configuration: {} (no target chosen: give --target or mark one default)",
                f.display()
            );
        }
        (None, _) => {
            let _ = writeln!(
                out,
                "Configuration: no topo.toml in this directory or a parent (see --config)"
            );
        }
    }
    let mut rows: Vec<(String, String, &Origin)> = vec![
        ("nb".into(), value_text(&s.nb.value), &s.nb.origin),
        ("sb".into(), value_text(&s.sb.value), &s.sb.origin),
        (
            "private-key".into(),
            path_text(&s.private_key.value),
            &s.private_key.origin,
        ),
        (
            "certificate".into(),
            path_text(&s.certificate.value),
            &s.certificate.origin,
        ),
        (
            "ca-cert".into(),
            path_text(&s.ca_cert.value),
            &s.ca_cert.origin,
        ),
        (
            "timeout".into(),
            s.timeout
                .value
                .map_or_else(|| "-".to_owned(), |t| format!("{t} s")),
            &s.timeout.origin,
        ),
    ];
    for (name, c) in &s.chassis {
        rows.push((format!("chassis {name}"), value_text(&c.value), &c.origin));
    }
    for (name, v) in &s.vteps {
        rows.push((format!("vtep {name}"), value_text(&v.value), &v.origin));
    }
    let key_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let value_width = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    for (key, value, origin) in &rows {
        let _ = writeln!(
            out,
            "  {key:key_width$}  {value:value_width$}  {}",
            origin_text(origin)
        );
    }
    if let Some(lab) = &s.default_lab {
        let _ = writeln!(
            out,
            "plan, apply, drift and verify use the lab in {} instead (nothing names a \
             Northbound).",
            lab.display()
        );
    }
    out
}

fn value_text(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "-".to_owned())
}

fn path_text(v: &Option<PathBuf>) -> String {
    v.as_ref()
        .map_or_else(|| "-".to_owned(), |p| p.display().to_string())
}
