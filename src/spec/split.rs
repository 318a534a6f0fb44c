//! One large file parsed on several threads.
//!
//! A topology of thousands of tenants is a few long block mappings (`switches:`, `routers:`, …)
//! whose entries stand on their own. Parsing is a third of `topo apply`'s own time on an empty
//! database, and it is on the critical path: nothing can be sent before it. So a large file is
//! cut between those entries into parts of about equal size. Each part is the whole text with
//! the lines of the other parts blanked (every byte but `\n` made a space): every byte keeps
//! its offset, so every span points where it did. The parts parse on their own threads and are
//! merged in file order, as the files of a directory are.
//!
//! A file is cut only where the cut cannot change what it means:
//! - no anchor or alias (they join entries), no block scalar (blank lines of spaces would be
//!   its content), no tab in an indentation, no directive or document marker, no complex key;
//! - each top-level key once, a plain `key:` line; only the named maps [`merge`] joins are cut;
//! - and afterwards every part clean: no error, no unknown or repeated key, no key in two
//!   parts.
//!
//! Anything else — and every small file — is parsed whole, so what a user is told never
//! depends on the cut: [`parse`] returns `None` and the caller parses the file as one.
//!
//! [`merge`]: super::load::merge

use std::ops::Range;

use super::load;
use super::types::Topology;
use crate::diagnostics::Diagnostics;

/// Files smaller than this are parsed whole: a thread costs more than it saves.
pub(crate) const MIN_SPLIT_BYTES: usize = 256 * 1024;

/// The top-level keys whose entries are cut apart: the named maps [`load::merge`] joins.
const SPLIT_KEYS: &[&str] = &[
    "chassis",
    "ha-chassis-groups",
    "vteps",
    "switches",
    "routers",
    "address-sets",
    "port-groups",
    "load-balancers",
];

/// Parses `text` (added to the sources at `base`) as `parts` parts on their own threads: the
/// merged topology, or `None` when the file cannot be cut safely or a part is not clean (the
/// caller then parses it whole).
pub(crate) fn parse(text: &str, base: usize, parts: usize) -> Option<Topology> {
    let texts = cut(text, parts)?;
    let parsed = crate::parallel::on_threads(texts.len(), texts.len(), |i| clean(&texts[i], base));
    let parsed: Option<Vec<Topology>> = parsed.into_iter().collect();
    let mut diags = Diagnostics::new();
    let merged = load::merge(parsed?, &mut diags);
    // A key in two parts: the whole parse reports it its own way.
    diags.items.is_empty().then_some(merged)
}

/// A part's topology when it parsed without a single finding.
fn clean(text: &str, base: usize) -> Option<Topology> {
    match load::parse(text, base) {
        (Some(topology), found) if found.is_empty() && topology.unknown_keys.is_empty() => {
            Some(topology)
        }
        _ => None,
    }
}

/// A line of the file: its bytes (without the `\n`) and what it starts.
struct Line {
    range: Range<usize>,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Blank, or only a comment.
    Blank,
    /// Content at this indentation.
    Content(usize),
}

/// The texts of `parts` parts of `text`, each as long as `text`; `None` when it cannot be cut.
pub(crate) fn cut(text: &str, parts: usize) -> Option<Vec<String>> {
    if parts < 2 {
        return None;
    }
    let lines = lines(text)?;
    let plan = units(text, &lines)?;
    if plan.units.len() < 2 {
        return None;
    }
    // Units to parts in file order, each part about an equal share of the units' bytes.
    let bytes = |u: &Unit| lines[u.lines.end - 1].range.end - lines[u.lines.start].range.start;
    let total: usize = plan.units.iter().map(bytes).sum();
    let parts = parts.min(plan.units.len());
    let mut part_of = Vec::with_capacity(plan.units.len());
    let mut done = 0;
    for unit in &plan.units {
        part_of.push((done * parts / total.max(1)).min(parts - 1));
        done += bytes(unit);
    }
    // Which part keeps each line: the rest go to the first part, a header to every part that
    // has one of its entries.
    let mut keep: Vec<Vec<bool>> = vec![vec![false; lines.len()]; parts];
    for &i in &plan.rest {
        keep[0][i] = true;
    }
    for (unit, &part) in plan.units.iter().zip(&part_of) {
        keep[part][unit.header] = true;
        for i in unit.lines.clone() {
            keep[part][i] = true;
        }
    }
    keep.iter()
        .map(|kept| {
            let mut bytes = text.as_bytes().to_vec();
            for (line, kept) in lines.iter().zip(kept) {
                if !kept {
                    bytes[line.range.clone()].fill(b' ');
                }
            }
            // Whole lines were blanked: the text is still UTF-8.
            String::from_utf8(bytes).ok()
        })
        .collect()
}

/// The lines of `text`, or `None` when a line holds what a cut could change the meaning of.
fn lines(text: &str) -> Option<Vec<Line>> {
    let mut out = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let end = start + line.len() - usize::from(line.ends_with('\n'));
        let body = &text[start..end];
        let content = body.trim_start_matches(' ');
        let indent = body.len() - content.len();
        let kind = if content.trim().is_empty() || content.starts_with('#') {
            Kind::Blank
        } else {
            Kind::Content(indent)
        };
        if content.starts_with('\t') || (kind != Kind::Blank && !safe(content, indent)) {
            return None;
        }
        out.push(Line {
            range: start..end,
            kind,
        });
        start += line.len();
    }
    Some(out)
}

/// Whether a line's content (at `indent`) holds nothing a cut could change: outside quotes and
/// comments, no anchor or alias, no block scalar, no directive, marker or complex key.
fn safe(content: &str, indent: usize) -> bool {
    if indent == 0 && (content.starts_with("---") || content.starts_with("...")) {
        return false;
    }
    if content.starts_with('%') || content.starts_with('?') {
        return false;
    }
    let bytes = content.as_bytes();
    let mut i = 0;
    // Whether the byte before `i` separates tokens (the line's start counts).
    let mut after_space = true;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' | b'\'' => {
                // A quote that does not close on this line may span lines: not cut.
                let Some(close) = closing_quote(&bytes[i + 1..], b) else {
                    return false;
                };
                i += close + 2;
                after_space = false;
                continue;
            }
            b'#' if after_space => return true,
            b'&' | b'*' | b'|' | b'>' if after_space => return false,
            _ => {}
        }
        after_space = matches!(b, b' ' | b'[' | b'{' | b',' | b'-' | b':');
        i += 1;
    }
    true
}

/// The offset of the quote that closes a scalar opened by `quote`, in the bytes after it.
fn closing_quote(bytes: &[u8], quote: u8) -> Option<usize> {
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// An entry of a cut map: the line of its map's key, and its own lines.
struct Unit {
    header: usize,
    lines: Range<usize>,
}

/// The entries a file can be cut between, and the lines that are no entry's.
struct Units {
    units: Vec<Unit>,
    rest: Vec<usize>,
}

/// Finds the entries of the maps in [`SPLIT_KEYS`]; `None` for a layout the cut does not know
/// (a top-level line that is not a plain key, a key given twice, an entry less indented than
/// the first).
fn units(text: &str, lines: &[Line]) -> Option<Units> {
    let mut units: Vec<Unit> = Vec::new();
    let mut rest = Vec::new();
    let mut seen = std::collections::HashSet::new();
    // The map being cut: its header line, and its entries' indentation once known.
    let mut map: Option<(usize, Option<usize>)> = None;
    for (i, line) in lines.iter().enumerate() {
        let Kind::Content(indent) = line.kind else {
            // Blank lines and comments go with what they are in.
            match (&map, units.last_mut()) {
                (Some((header, Some(_))), Some(unit)) if unit.header == *header => {
                    unit.lines.end = i + 1
                }
                _ => rest.push(i),
            }
            continue;
        };
        if indent == 0 {
            let body = &text[line.range.clone()];
            let (key, value) = body.split_once(':')?;
            let plain = !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !plain || !seen.insert(key) {
                return None;
            }
            let value = value.trim();
            let opens_map = value.is_empty() || value.starts_with('#');
            // The previous map's header, if it had no entry, is the rest's.
            if let Some((header, None)) = map {
                rest.push(header);
            }
            map = None;
            if opens_map && SPLIT_KEYS.contains(&key) {
                map = Some((i, None));
            } else {
                rest.push(i);
            }
            continue;
        }
        match &mut map {
            None => rest.push(i),
            Some((header, entries)) => {
                let starts_entry = match entries {
                    Some(at) if indent == *at => true,
                    Some(at) if indent > *at => false,
                    Some(_) => return None,
                    None => {
                        *entries = Some(indent);
                        true
                    }
                };
                let content = &text[line.range.start + indent..line.range.end];
                if starts_entry {
                    // A sequence is not a map of entries.
                    if content.starts_with('-') {
                        return None;
                    }
                    units.push(Unit {
                        header: *header,
                        lines: i..i + 1,
                    });
                } else if let Some(unit) = units.last_mut() {
                    unit.lines.end = i + 1;
                }
            }
        }
    }
    if let Some((header, None)) = map {
        rest.push(header);
    }
    Some(Units { units, rest })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole parse and the cut one, as text to compare.
    fn both(text: &str, parts: usize) -> (String, Option<String>) {
        let (whole, found) = load::parse(text, 0);
        assert!(found.is_empty(), "{found:?}");
        let cut = parse(text, 0, parts).map(|t| format!("{t:?}"));
        (format!("{:?}", whole.expect("parses")), cut)
    }

    const TWO_MAPS: &str = "\
name: s
# a comment
switches:
  a:
    subnet: 10.0.0.0/24
    ports:
      a1: { mac: \"0a:00:00:00:00:01\", ip: 10.0.0.10 }

  b: { subnet: 10.0.1.0/24 }
  # between entries
  c:
    subnet: 10.0.2.0/24
routers:
  r:
    ports:
      - { switch: a, ip: 10.0.0.1/24 }
      - { switch: b, ip: 10.0.1.1/24 }
  r2: {}
";

    #[test]
    fn a_cut_file_parses_as_the_whole_does_in_any_number_of_parts() {
        for parts in 2..=6 {
            let (whole, cut) = both(TWO_MAPS, parts);
            assert_eq!(Some(whole), cut, "{parts} parts");
        }
    }

    #[test]
    fn every_part_keeps_every_offset() {
        let texts = cut(TWO_MAPS, 3).expect("cut");
        assert_eq!(texts.len(), 3);
        for t in &texts {
            assert_eq!(t.len(), TWO_MAPS.len());
            let newlines = |s: &str| s.match_indices('\n').map(|(i, _)| i).collect::<Vec<_>>();
            assert_eq!(newlines(t), newlines(TWO_MAPS));
        }
        // Every entry is in exactly one part, the rest in the first.
        for entry in ["  a:", "  b:", "  c:", "  r:", "  r2:"] {
            let holding = texts.iter().filter(|t| t.contains(entry)).count();
            assert_eq!(holding, 1, "{entry}");
        }
        assert!(texts[0].contains("name: s"));
    }

    #[test]
    fn what_a_cut_could_change_is_parsed_whole() {
        let not_cut = [
            // An anchor and its alias join two entries.
            "switches:\n  a: &t { subnet: 10.0.0.0/24 }\n  b: *t\n",
            // A block scalar: blank lines of spaces would be its content.
            "switches:\n  a:\n    description: |\n      x\n  b: {}\n",
            "switches:\n  a:\n    description: >-\n      x\n  b: {}\n",
            // A quote left open may span lines.
            "switches:\n  a: { description: \"x\n  y\" }\n  b: {}\n",
            // A key given twice at the top.
            "switches:\n  a: {}\nswitches:\n  b: {}\n",
            // Tabs, directives, markers, complex keys.
            "switches:\n\ta: {}\n  b: {}\n",
            "%YAML 1.2\n---\nswitches:\n  a: {}\n  b: {}\n",
            "switches:\n  ? a\n  : {}\n  b: {}\n",
            // An entry less indented than the first.
            "switches:\n    a: {}\n  b: {}\n",
            // A quoted top-level key.
            "\"switches\":\n  a: {}\n  b: {}\n",
        ];
        for text in not_cut {
            assert!(cut(text, 2).is_none(), "cut: {text:?}");
        }
        // A sequence where a map's entries are: not cut (and not the loader's problem here).
        assert!(cut("switches:\n  - a\n  - b\n", 2).is_none());
    }

    #[test]
    fn quotes_and_comments_do_not_hide_a_cut_or_forbid_one() {
        // `&&` and `|` inside quotes or comments are text, not YAML.
        let text = "switches:\n  a: { ports: { p: { mac: \"ip4 && tcp | x\" } } } # *not an alias\n  \
                    b: { ports: { q: { mac: 'it''s > 1' } } }\n";
        let (whole, cut) = both(text, 2);
        assert_eq!(Some(whole), cut);
    }

    #[test]
    fn a_part_with_a_finding_makes_the_whole_parse_decide() {
        // An unknown key, a key repeated within a part, a key in two parts.
        for text in [
            "switches:\n  a: { subnett: 10.0.0.0/24 }\n  b: {}\n",
            "switches:\n  a: {}\n  a: {}\n  b: {}\n  c: {}\n",
            "switches:\n  a: {}\n  b: {}\n  a: {}\n",
            "switches:\n  a: { subnet: [ }\n  b: {}\n",
        ] {
            assert!(cut(text, 2).is_some(), "should cut: {text:?}");
            assert!(
                parse(text, 0, 2).is_none(),
                "should not parse cut: {text:?}"
            );
        }
    }

    #[test]
    fn spans_of_a_cut_file_point_where_the_whole_files_do() {
        // `Sp`'s Debug shows values only: compare the spans themselves.
        let base = 1000;
        let whole = load::parse(TWO_MAPS, base).0.expect("parses");
        let cut = parse(TWO_MAPS, base, 3).expect("cut");
        let spans = |t: &Topology| {
            let mut out: Vec<_> = t
                .switches
                .entries
                .iter()
                .map(|(k, v)| (k.span, v.span))
                .chain(t.routers.entries.iter().map(|(k, v)| (k.span, v.span)))
                .collect();
            for (_, switch) in &t.switches.entries {
                out.extend(
                    switch
                        .value
                        .ports
                        .entries
                        .iter()
                        .map(|(k, v)| (k.span, v.span)),
                );
            }
            out
        };
        assert_eq!(spans(&whole), spans(&cut));
        let at = |span: crate::source::Span| &TWO_MAPS[span.offset - base..][..span.len];
        let keys: Vec<&str> = cut
            .switches
            .entries
            .iter()
            .map(|(k, _)| at(k.span))
            .collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert_eq!(
            at(cut.switches.entries[0].1.value.ports.entries[0].0.span),
            "a1"
        );
    }

    /// Every topology in the repository, cut in two to four parts, parses as it does whole
    /// (or is not cut).
    #[test]
    fn the_repositorys_topologies_parse_the_same_cut() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut dirs = vec![root.join("examples"), root.join("tests")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("readable").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    files.push(path);
                }
            }
        }
        assert!(files.len() > 20, "{files:?}");
        let mut were_cut = 0;
        for path in &files {
            let text = std::fs::read_to_string(path).expect("readable");
            let (whole, found) = load::parse(&text, 7);
            let whole = whole.map(|t| format!("{t:?}"));
            for parts in 2..=4 {
                if let Some(cut) = parse(&text, 7, parts) {
                    assert!(
                        found.is_empty(),
                        "{}: cut despite {found:?}",
                        path.display()
                    );
                    assert_eq!(
                        whole.as_deref(),
                        Some(format!("{cut:?}").as_str()),
                        "{}",
                        path.display()
                    );
                    were_cut += 1;
                }
            }
        }
        assert!(were_cut > 10, "only {were_cut} cuts");
    }

    /// A generated topology of many tenants (the kind the cut is for) is cut, and parses the
    /// same.
    #[test]
    fn a_large_topology_is_cut_and_parses_the_same() {
        let mut text = String::from("name: big\nswitches:\n");
        for t in 0..300 {
            text.push_str(&format!(
                "  t{t}:\n    subnet: 10.0.{}.0/24\n    ports:\n",
                t % 250
            ));
            for p in 0..5 {
                text.push_str(&format!(
                    "      t{t}-vm{p}: {{ mac: \"0a:00:00:00:{:02x}:{p:02x}\", ip: 10.0.{}.{} }}\n",
                    t % 250,
                    t % 250,
                    p + 10
                ));
            }
        }
        text.push_str("routers:\n  r:\n    ports:\n      - { switch: t0, ip: 10.0.0.1/24 }\n");
        for parts in [2, 3, 8] {
            let (whole, cut) = both(&text, parts);
            assert_eq!(Some(whole), cut, "{parts} parts");
        }
    }
}
