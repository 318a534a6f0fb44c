//! Reading topology files: size cap, YAML budgets, parse errors as diagnostics, merging.
//!
//! The only I/O of the language is here ([`read_paths`]): everything after the bytes are read
//! is pure. A regular file over the size cap is refused from its metadata, before it is read;
//! a file is parsed with tight serde-saphyr budgets so an alias bomb or a deeply nested
//! document is refused, not expanded. A key a mapping does not take, or takes twice, does not
//! stop the file (`spanned::Found`): every one is reported and the rest is still checked.

use std::path::{Path, PathBuf};

use crate::diagnostics::{Code, Diagnostic, Diagnostics};

use super::map::Map;
use super::spanned::{
    BaseGuard, EXPLAINED_MARK, Filtered, Found, MAX_FOUND, Sp, TOO_MANY_MARK, span_of, take_found,
};
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
    let too_large = |size: u64| {
        Diagnostic::error(
            Code::IoTooLarge,
            format!(
                "`{name}` is {} MiB, over the {} MiB a topology file may have",
                size.div_ceil(1024 * 1024),
                MAX_FILE_BYTES / 1024 / 1024
            ),
        )
        .help("split the topology into several files in one directory")
    };
    // A regular file is refused from its size before a byte is read: a file over the cap
    // costs neither the time to read it nor the memory to hold it.
    let known = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    if let Some(size) = known.filter(|s| *s > MAX_FILE_BYTES) {
        return diags.push(too_large(size));
    }
    // Others (a pipe, /dev/stdin) are read to at most one byte past the cap.
    let mut bytes = Vec::with_capacity(known.unwrap_or(0) as usize);
    if let Err(e) = file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes) {
        return diags.push(io_error(path, &e.to_string()));
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return diags.push(too_large(bytes.len() as u64));
    }
    match String::from_utf8(bytes) {
        Ok(text) => files.push((name, text)),
        Err(_) => diags.push(io_error(path, "not UTF-8 text")),
    }
}

/// The root of a file: the topology, its keys filtered like every nested struct's.
struct Root(Topology);

impl<'de> serde::Deserialize<'de> for Root {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Root, D::Error> {
        Filtered::<Topology>::deserialize(d).map(|f| Root(f.0))
    }
}

/// Parses one file whose text was added to `sources` at `base`: the topology when the file
/// parsed (possibly with unknown or repeated keys, which are skipped and reported), and
/// every diagnostic found.
pub(crate) fn parse(text: &str, base: usize) -> (Option<Topology>, Vec<Diagnostic>) {
    // A file holding only comments is an empty topology, not an error.
    let blank = text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    if blank {
        return (Some(Topology::default()), Vec::new());
    }
    let _guard = BaseGuard::set(base);
    take_found();
    let result = serde_saphyr::from_str_with_options::<Root>(text, options(text.len()));
    let found = take_found();
    let unknown_keys: Vec<(Span, String, String)> = found
        .iter()
        .filter_map(|f| match f {
            Found::Unknown { key, object, .. } => {
                Some((key.span, object.clone(), key.value.clone()))
            }
            _ => None,
        })
        .collect();
    let mut diags: Vec<Diagnostic> = found.into_iter().map(found_diagnostic).collect();
    match result {
        Ok(mut root) => {
            root.0.unknown_keys = unknown_keys;
            (Some(root.0), diags)
        }
        Err(e) => {
            diags.extend(yaml_diagnostic(&e, text, base));
            (None, diags)
        }
    }
}

/// A key skipped while deserializing, as a diagnostic.
fn found_diagnostic(f: Found) -> Diagnostic {
    match f {
        Found::Unknown {
            key,
            object,
            expected,
            instead_of,
        } => {
            let name = &key.value;
            let known = || format!("{object} takes `{}`", expected.join("`, `"));
            if let Some(missing) = instead_of {
                return Diagnostic::error(
                    Code::YamlUnknownKey,
                    format!("unknown key `{name}` in {object}: did you mean `{missing}`?"),
                )
                .at(key.span, format!("`{missing}` is required here"))
                .help(format!("rename `{name}` to `{missing}`"));
            }
            match crate::diagnostics::did_you_mean(name, expected.iter().copied()) {
                Some(s) => Diagnostic::error(
                    Code::YamlUnknownKey,
                    format!("unknown key `{name}` in {object}: did you mean `{s}`?"),
                )
                .at(key.span, "not a key here")
                .help(known()),
                None => Diagnostic::error(
                    Code::YamlUnknownKey,
                    format!("unknown key `{name}` in {object}"),
                )
                .at(key.span, "not a key here")
                .help(if expected.is_empty() {
                    format!("{object} takes no keys")
                } else {
                    known()
                }),
            }
        }
        Found::Missing { object, key, at } => {
            Diagnostic::error(Code::YamlMissingKey, format!("{object} lacks `{key}`"))
                .at(at, format!("this {object} has no `{key}`"))
                .help(format!(
                    "add `{key}: ...`; `topo schema` lists every key and what it takes"
                ))
        }
        Found::Repeated { key, first, again } => Diagnostic::error(
            Code::YamlDuplicateKey,
            format!("key `{key}` appears twice in one mapping"),
        )
        .at(again, "written again here")
        .related(first, "first written here")
        .help("a YAML mapping holds each key once: merge the two entries or rename one"),
    }
}

/// The diagnostic of an error that stopped the file, if it needs one of its own.
fn yaml_diagnostic(err: &serde_saphyr::Error, text: &str, base: usize) -> Option<Diagnostic> {
    use serde_saphyr::Error as E;
    let span = match err.location() {
        Some(l) if l.span().byte_offset().is_some() => span_of(&l),
        // Scanner errors carry only line and column.
        Some(l) => Span::new(base + offset_of(text, l.line(), l.column()), 1),
        None => Span::new(base, 0),
    };
    let msg = message(err);
    if msg.contains(EXPLAINED_MARK) {
        // Already reported as a finding (the missing key, or the typo that left it missing).
        return None;
    }
    if msg.contains(TOO_MANY_MARK) {
        return Some(
            Diagnostic::error(
                Code::YamlBudget,
                format!("document refused after {MAX_FOUND} unknown or repeated keys"),
            )
            .at(span, "stopped here")
            .help(
                "fix the keys reported above (or the aliases that repeat them) and validate again",
            ),
        );
    }
    Some(match err {
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
        E::Budget { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => budget(&format!("{err:?}"), span),
        _ => {
            let d = from_message(&msg, span);
            if d.code == Code::YamlSyntax {
                unclosed_bracket(wrong_scalar(d, text, base), text, base)
            } else {
                d
            }
        }
    })
}

/// A scanner error inside a flow collection (`{ ...` or `[ ...` never closed) is found where
/// the scanner gives up, often lines later; the cause is the bracket left open. When the
/// text before the error leaves one open, the diagnostic points at it, the place the scanner
/// stopped kept as a second label.
fn unclosed_bracket(d: Diagnostic, text: &str, base: usize) -> Diagnostic {
    let Some(at) = d.primary.as_ref().map(|l| l.span) else {
        return d;
    };
    let end = at.offset.saturating_sub(base);
    // A bracket the whole file never closes, opened before the error (a bracket open only
    // up to the error, closed later, is not the cause: `{ tag: ten }` is a type error).
    let Some(open) = unclosed_brackets(text).into_iter().rfind(|o| *o <= end) else {
        return d;
    };
    let (bracket, close) = match text.as_bytes().get(open) {
        Some(b'{') => ('{', '}'),
        _ => ('[', ']'),
    };
    let open_span = Span::new(base + open, 1);
    let line = text.get(..open).unwrap_or_default().matches('\n').count() + 1;
    let out = Diagnostic::error(
        Code::YamlSyntax,
        format!("`{bracket}` opened on line {line} is not closed"),
    )
    .at(open_span, format!("this `{bracket}` is never closed"));
    let out = if open_span == at {
        out
    } else {
        out.related(at, format!("the YAML parser gave up here: {}", d.message))
    };
    out.help(format!(
        "close it with `{close}`; inside `{bracket} ... {close}` entries are separated by `,` and \
         indentation does not end it"
    ))
}

/// A scalar of the wrong kind (`tag: ten`): the headline names what was expected and what
/// was written.
fn wrong_scalar(d: Diagnostic, text: &str, base: usize) -> Diagnostic {
    let expected = match d.message.strip_prefix("invalid ") {
        Some("i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64") => "a whole number",
        Some("f32" | "f64") => "a number",
        Some("bool") => "`true` or `false`",
        _ => return d,
    };
    let Some(at) = d.primary.as_ref().map(|l| l.span) else {
        return d;
    };
    let written = text
        .get(at.offset.saturating_sub(base)..at.offset.saturating_sub(base) + at.len)
        .unwrap_or_default();
    Diagnostic::error(
        Code::YamlSyntax,
        format!("expected {expected}, found `{written}`"),
    )
    .at(at, format!("not {expected}"))
}

/// The offsets of the flow brackets `text` leaves open, outermost first, skipping quoted
/// strings and comments.
fn unclosed_brackets(text: &str) -> Vec<usize> {
    let mut stack: Vec<usize> = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut prev = b'\n';
    while let Some(&c) = bytes.get(i) {
        match c {
            b'{' | b'[' => stack.push(i),
            b'}' | b']' => {
                stack.pop();
            }
            // Quotes start a string only where a scalar may start (not inside `it's`).
            b'"' | b'\'' if matches!(prev, b' ' | b'\t' | b'\n' | b'{' | b'[' | b',' | b':') => {
                let quote = c;
                i += 1;
                while let Some(&q) = bytes.get(i) {
                    if q == b'\\' && quote == b'"' {
                        i += 1;
                    } else if q == quote {
                        break;
                    }
                    i += 1;
                }
            }
            b'#' if matches!(prev, b' ' | b'\t' | b'\n') => {
                while bytes.get(i).is_some_and(|&b| b != b'\n') {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        prev = c;
        i += 1;
    }
    stack
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

/// A refused document, its headline naming the limit it crossed. `what` is the error's debug
/// or display text, which names the breached budget.
fn budget(what: &str, span: Span) -> Diagnostic {
    let headline = if what.contains("RecordedAnchorEvents") {
        format!(
            "document refused: its anchors hold more than {MAX_RECORDED_ANCHOR_EVENTS} YAML \
             events (an alias bomb?)"
        )
    } else if what.contains("ReplayStackDepth") {
        "document refused: aliases nest more than 16 deep (an alias bomb?)".to_owned()
    } else if what.contains("Replay") || what.contains("replay") || what.contains("Expansion") {
        format!(
            "document refused: its aliases expand to more than {MAX_REPLAYED_EVENTS} YAML \
             events (an alias bomb?)"
        )
    } else if what.contains("Depth") || what.contains("depth") || what.contains("recursion") {
        format!("document refused: nested deeper than {MAX_DEPTH} levels")
    } else if what.contains("Nodes") || what.contains("Events") {
        "document refused: more YAML nodes than its size allows".to_owned()
    } else if what.contains("MergeKeys") {
        format!("document refused: more than {MAX_ALIASES} merge keys (`<<`)")
    } else if what.contains("Aliases") || what.contains("Anchors") {
        format!("document refused: more than {MAX_ALIASES} anchors or aliases")
    } else {
        "document refused: it exceeds a resource limit".to_owned()
    };
    Diagnostic::error(Code::YamlBudget, headline)
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
        out.unknown_keys.extend(part.unknown_keys);
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
