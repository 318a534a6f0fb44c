//! Reading topology files: size cap, YAML budgets, parse errors as diagnostics, merging.
//!
//! The only I/O of the language is here ([`read_paths`]): everything after the bytes are read
//! is pure. A file is capped in size before it is read, and parsed with tight serde-saphyr
//! budgets so an alias bomb or a deeply nested document is refused, not expanded.

use std::path::{Path, PathBuf};

use crate::diagnostics::{Code, Diagnostic, Diagnostics};

use super::map::Map;
use super::spanned::{BaseGuard, Sp, span_of};
use super::types::Topology;
use crate::source::Span;

/// Largest topology file topo reads (a 10,000-tenant topology is about 15 MiB).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Deepest nesting accepted (a topology needs about 8 levels).
pub(crate) const MAX_DEPTH: usize = 32;
/// Alias limits: generous for templates (`<<: *vif`), far below any bomb.
pub(crate) const MAX_ALIASES: usize = 10_000;
pub(crate) const MAX_REPLAYED_EVENTS: usize = 200_000;
/// Events all anchors together may record (each template's size, summed).
pub(crate) const MAX_RECORDED_ANCHOR_EVENTS: usize = 20_000;

/// The serde-saphyr options topo parses with. Event and node budgets grow with the file size
/// (which is capped), so only aliases can multiply work, and they are limited separately.
pub(crate) fn options(len: usize) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.max_aliases = MAX_ALIASES;
    budget.max_anchors = MAX_ALIASES;
    budget.max_documents = 1;
    budget.max_events = len + MAX_REPLAYED_EVENTS + 1_000;
    budget.max_nodes = len + MAX_REPLAYED_EVENTS + 1_000;
    budget.max_merge_keys = MAX_ALIASES;
    // Anchors record the events they stand for; a template is small and recorded once, while
    // a bomb's anchors grow tenfold per level. Capping what anchors record stops a bomb after
    // a few levels, long before the replay budget.
    budget.max_recorded_anchor_events = MAX_RECORDED_ANCHOR_EVENTS;
    // The ratio heuristic (more than ten aliases per anchor) refuses the ordinary use of a
    // template by hundreds of ports; the limits above already bound the work.
    budget.enforce_alias_anchor_ratio = false;
    let mut alias = serde_saphyr::options::AliasLimits::default();
    alias.max_total_replayed_events = MAX_REPLAYED_EVENTS;
    alias.max_replay_stack_depth = 16;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits = alias;
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::PassThrough;
    options
}

/// Reads the files named on the command line; a directory stands for its `*.yaml` / `*.yml`
/// files (not recursive, hidden files skipped), in name order.
pub(crate) fn read_paths(paths: &[PathBuf]) -> (Vec<(String, String)>, Diagnostics) {
    let mut files = Vec::new();
    let mut diags = Diagnostics::new();
    for path in paths {
        if path.is_dir() {
            let mut found = match std::fs::read_dir(path) {
                Ok(entries) => entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| is_topology_file(p))
                    .collect::<Vec<_>>(),
                Err(e) => {
                    diags.push(io_error(path, &e.to_string()));
                    continue;
                }
            };
            found.sort();
            if found.is_empty() {
                diags.push(
                    Diagnostic::error(
                        Code::IoRead,
                        format!("directory `{}` holds no topology file", path.display()),
                    )
                    .help("topology files end in `.yaml` or `.yml`"),
                );
            }
            for f in found {
                read_one(&f, &mut files, &mut diags);
            }
        } else {
            read_one(path, &mut files, &mut diags);
        }
    }
    (files, diags)
}

fn is_topology_file(p: &Path) -> bool {
    let hidden = p
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'));
    let ext = p.extension().and_then(|e| e.to_str());
    p.is_file() && !hidden && matches!(ext, Some("yaml" | "yml"))
}

fn io_error(path: &Path, why: &str) -> Diagnostic {
    Diagnostic::error(
        Code::IoRead,
        format!("cannot read `{}`: {why}", path.display()),
    )
}

fn read_one(path: &Path, files: &mut Vec<(String, String)>, diags: &mut Diagnostics) {
    use std::io::Read;
    let name = path.display().to_string();
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return diags.push(io_error(path, &e.to_string())),
    };
    // Read at most one byte past the cap: the size is known without trusting metadata.
    let mut bytes = Vec::new();
    if let Err(e) = file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes) {
        return diags.push(io_error(path, &e.to_string()));
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return diags.push(
            Diagnostic::error(
                Code::IoTooLarge,
                format!(
                    "`{name}` is larger than {} MiB",
                    MAX_FILE_BYTES / 1024 / 1024
                ),
            )
            .help("split the topology into several files in one directory"),
        );
    }
    match String::from_utf8(bytes) {
        Ok(text) => files.push((name, text)),
        Err(_) => diags.push(io_error(path, "not UTF-8 text")),
    }
}

/// Parses one file whose text was added to `sources` at `base`.
pub(crate) fn parse(text: &str, base: usize) -> Result<Topology, Diagnostic> {
    // A file holding only comments is an empty topology, not an error.
    let blank = text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    if blank {
        return Ok(Topology::default());
    }
    let _guard = BaseGuard::set(base);
    serde_saphyr::from_str_with_options::<Topology>(text, options(text.len()))
        .map_err(|e| yaml_diagnostic(&e, text, base))
}

fn yaml_diagnostic(err: &serde_saphyr::Error, text: &str, base: usize) -> Diagnostic {
    use serde_saphyr::Error as E;
    let span = match err.location() {
        Some(l) if l.span().byte_offset().is_some() => span_of(&l),
        // Scanner errors carry only line and column.
        Some(l) => Span::new(base + offset_of(text, l.line(), l.column()), 1),
        None => Span::new(base, 0),
    };
    match err {
        E::SerdeUnknownField {
            field, expected, ..
        } => from_message(
            &format!(
                "unknown field `{field}`, expected one of {}",
                expected.join(", ")
            ),
            span,
        ),
        E::SerdeUnknownVariant {
            variant, expected, ..
        } => from_message(
            &format!(
                "unknown variant `{variant}`, expected one of {}",
                expected.join(", ")
            ),
            span,
        ),
        E::SerdeMissingField { field, .. } => {
            from_message(&format!("missing field `{field}`"), span)
        }
        E::DuplicateMappingKey { key, .. } => {
            let key = key.as_deref().unwrap_or("?");
            Diagnostic::error(Code::YamlDuplicateKey, format!("key `{key}` appears twice"))
                .at(span, "second occurrence")
                .help("a YAML mapping holds each key once; merge the two entries")
        }
        E::Budget { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => budget(&message(err), span),
        _ => from_message(&message(err), span),
    }
}

/// Byte offset of a 1-based line and column (in characters).
fn offset_of(text: &str, line: u64, column: u64) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1) as usize)
        .map(str::len)
        .sum();
    let rest = text.get(start..).unwrap_or_default();
    let col: usize = rest
        .chars()
        .take(column.saturating_sub(1) as usize)
        .map(char::len_utf8)
        .sum();
    (start + col).min(text.len())
}

fn budget(msg: &str, span: Span) -> Diagnostic {
    let what = if msg.contains("RecordedAnchorEvents") || msg.contains("replay") {
        "its anchors and aliases expand to too much (an alias bomb?)"
    } else if msg.contains("Depth") || msg.contains("depth") {
        "it is nested too deeply"
    } else if msg.contains("Nodes") || msg.contains("Events") {
        "it has too many YAML nodes"
    } else if msg.contains("Aliases") || msg.contains("Anchors") || msg.contains("MergeKeys") {
        "it uses too many anchors, aliases or merge keys"
    } else {
        "it exceeds a resource limit"
    };
    Diagnostic::error(Code::YamlBudget, format!("document refused: {what}"))
        .at(span, "budget exceeded here")
        .help(format!(
            "topo accepts at most {MAX_DEPTH} levels of nesting, {MAX_ALIASES} aliases, \
             {MAX_RECORDED_ANCHOR_EVENTS} events inside anchors and {MAX_REPLAYED_EVENTS} \
             events replayed through aliases; write the values out or split the file"
        ))
}

/// Serde's own errors arrive as text when they pass through span wrappers; recover the
/// unknown-key / unknown-value / missing-key cases from serde's fixed wording.
fn from_message(msg: &str, span: Span) -> Diagnostic {
    let quoted = |m: &str| -> Option<String> {
        let start = m.find('`')? + 1;
        let len = m.get(start..)?.find('`')?;
        m.get(start..start + len).map(str::to_owned)
    };
    let expected = |m: &str| -> Vec<String> {
        m.split_once("expected one of ")
            .or_else(|| m.split_once("expected "))
            .map(|(_, rest)| {
                rest.split(", ")
                    .map(|w| w.trim_matches('`').to_owned())
                    .filter(|w| !w.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    if let (true, Some(field)) = (msg.starts_with("unknown field"), quoted(msg)) {
        let known = expected(msg);
        return Diagnostic::error(Code::YamlUnknownKey, format!("unknown key `{field}`"))
            .at(span, "not a key here")
            .suggest(
                &field,
                known.iter().map(String::as_str),
                if known.is_empty() {
                    "this mapping takes no keys".to_owned()
                } else {
                    format!("known keys: `{}`", known.join("`, `"))
                },
            );
    }
    if let (true, Some(variant)) = (msg.starts_with("unknown variant"), quoted(msg)) {
        let known = expected(msg);
        return Diagnostic::error(
            Code::YamlUnknownVariant,
            format!("unknown value `{variant}`"),
        )
        .at(span, "not allowed here")
        .suggest(
            &variant,
            known.iter().map(String::as_str),
            format!("expected one of `{}`", known.join("`, `")),
        );
    }
    if let (true, Some(field)) = (msg.starts_with("missing field"), quoted(msg)) {
        return Diagnostic::error(Code::YamlMissingKey, format!("missing key `{field}`"))
            .at(span, format!("this mapping lacks `{field}`"))
            .help(format!(
                "add `{field}: ...`; `topo schema` lists every key and what it takes"
            ));
    }
    if msg.contains("limit exceeded") || msg.contains("budget") {
        return budget(msg, span);
    }
    if let Some((key, first, again)) = super::map::parse_duplicate(msg) {
        return Diagnostic::error(Code::YamlDuplicateKey, format!("`{key}` is defined twice"))
            .at(again, "defined again here")
            .related(first, "first defined here")
            .help("a YAML mapping holds each key once: merge the two entries or rename one");
    }
    if let Some(field) = msg
        .strip_prefix("duplicate field `")
        .and_then(|r| r.split('`').next())
    {
        return Diagnostic::error(
            Code::YamlDuplicateKey,
            format!("key `{field}` appears twice"),
        )
        .at(span, format!("`{field}` appears twice in this mapping"))
        .help("a YAML mapping holds each key once; keep one");
    }
    if let Some(key) = msg.strip_prefix("duplicate mapping key: ") {
        let key = key.split(',').next().unwrap_or(key).trim();
        return Diagnostic::error(Code::YamlDuplicateKey, format!("key `{key}` appears twice"))
            .at(span, "second occurrence")
            .help("a YAML mapping holds each key once; merge the two entries");
    }
    Diagnostic::error(Code::YamlSyntax, msg.to_owned()).at(span, "here")
}

/// The error's own words, without the location serde-saphyr appends.
fn message(err: &serde_saphyr::Error) -> String {
    let text = err.without_snippet().to_string();
    // Our own duplicate-key marker carries its places; keep it whole.
    if let Some(i) = text.find(super::map::DUPLICATE_MARK) {
        return text[i..].lines().next().unwrap_or_default().to_owned();
    }
    let text = match text.find(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    };
    text.lines()
        .next()
        .unwrap_or("invalid YAML")
        .trim()
        .to_owned()
}

/// Merges the topologies of several files; an object defined in two files is an error
/// naming both places.
pub(crate) fn merge(parts: Vec<Topology>, diags: &mut Diagnostics) -> Topology {
    let mut out = Topology::default();
    for part in parts {
        if let Some(name) = part.name {
            match &out.name {
                Some(first) => diags.push(
                    Diagnostic::error(Code::NameDuplicate, "the stack `name` is given twice")
                        .at(name.span, "given again here")
                        .related(first.span, "first given here")
                        .help("give `name` in one file only"),
                ),
                None => out.name = Some(name),
            }
        }
        merge_map(&mut out.chassis, part.chassis, "chassis", diags);
        merge_map(
            &mut out.ha_chassis_groups,
            part.ha_chassis_groups,
            "HA chassis group",
            diags,
        );
        merge_map(&mut out.vteps, part.vteps, "VTEP", diags);
        merge_map(&mut out.switches, part.switches, "switch", diags);
        merge_map(&mut out.routers, part.routers, "router", diags);
        merge_map(
            &mut out.address_sets,
            part.address_sets,
            "address set",
            diags,
        );
        merge_map(&mut out.port_groups, part.port_groups, "port group", diags);
        merge_map(
            &mut out.load_balancers,
            part.load_balancers,
            "load balancer",
            diags,
        );
        merge_map(
            &mut out.load_balancer_groups,
            part.load_balancer_groups,
            "load balancer group",
            diags,
        );
        if let Some(external) = part.external {
            match &mut out.external {
                Some(existing) => {
                    let e = external.value;
                    existing.value.port_groups.extend(e.port_groups);
                    existing.value.address_sets.extend(e.address_sets);
                }
                None => out.external = Some(external),
            }
        }
        out.checks.extend(part.checks);
        if let Some(lab) = part.lab {
            match &mut out.lab {
                Some(existing) => {
                    let networks = lab.value.networks;
                    merge_map(&mut existing.value.networks, networks, "lab network", diags);
                }
                None => out.lab = Some(lab),
            }
        }
    }
    out
}

fn merge_map<V>(into: &mut Map<V>, from: Map<V>, what: &str, diags: &mut Diagnostics) {
    if into.entries.is_empty() {
        into.entries = from.entries;
        return;
    }
    let mut index: std::collections::HashMap<String, usize> = into
        .entries
        .iter()
        .enumerate()
        .map(|(i, (k, _))| (k.value.clone(), i))
        .collect();
    for (key, value) in from.entries {
        match index.get(&key.value) {
            Some(&i) => diags.push(duplicate(what, &key, &into.entries[i].0)),
            None => {
                index.insert(key.value.clone(), into.entries.len());
                into.entries.push((key, value));
            }
        }
    }
}

/// "`what` `name` is defined twice", labelled at both places.
pub(crate) fn duplicate(what: &str, again: &Sp<String>, first: &Sp<String>) -> Diagnostic {
    Diagnostic::error(
        Code::NameDuplicate,
        format!("{what} `{}` is defined twice", again.value),
    )
    .at(again.span, "defined again here")
    .related(first.span, "first defined here")
    .help(format!(
        "rename one of them or merge the two definitions of `{}`",
        again.value
    ))
}
