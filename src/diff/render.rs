//! Plans for people: text in the topology's own words (`+ switch ls3`, `~ router lr2`,
//! column before → after, sets and maps element by element), and Markdown for a pull-request
//! comment. The JSON form is the [`Plan`]'s own serialization.

use std::fmt::Write;

use super::plan::{
    Action, Change, ChassisChange, ColumnChange, Conflict, Fate, ForeignAtRisk, ForeignKept,
    ForeignRow, Plan, Referrer, VtepChange,
};
use crate::ovsdb::{Atom, Datum};
use crate::rows::{Cell, Db, RowKey, Value};

/// The word users know a table by (ovn-nbctl's vocabulary).
pub(crate) fn noun(table: &str) -> &str {
    match table {
        "Logical_Switch" => "switch",
        "Logical_Switch_Port" => "switch port",
        "Logical_Router" => "router",
        "Logical_Router_Port" => "router port",
        "Logical_Router_Static_Route" => "route",
        "Logical_Router_Policy" => "policy",
        "NAT" => "nat",
        "Gateway_Chassis" => "gateway chassis",
        "HA_Chassis_Group" => "ha-chassis-group",
        "HA_Chassis" => "ha-chassis",
        "Address_Set" => "address-set",
        "Port_Group" => "port-group",
        "ACL" => "acl",
        "QoS" => "qos",
        "Load_Balancer" => "load-balancer",
        "Load_Balancer_Health_Check" => "health-check",
        "Load_Balancer_Group" => "load-balancer-group",
        "DHCP_Options" => "dhcp-options",
        "DNS" => "dns",
        "Open_vSwitch" => "chassis settings",
        "Bridge" => "bridge",
        "Port" => "ovs port",
        "Interface" => "interface",
        other => other,
    }
}

/// `switch ls1`, `nat lr2 snat 10.10.40.1 10.10.10.0/24`, `bridge br-ex on chassis node1`.
pub(crate) fn subject(db: &Db, table: &str, key: &RowKey) -> String {
    match db {
        Db::Chassis(c) => format!("{} {key} on chassis {c}", noun(table)),
        _ => format!("{} {key}", noun(table)),
    }
}

fn value(v: &Value) -> String {
    match v {
        Value::Atom(Atom::String(s)) if s.is_empty() || s.contains([' ', ',', '=', '"']) => {
            format!("{s:?}")
        }
        Value::Atom(a) => a.to_string(),
        Value::Ref(r) => format!("{} {}", noun(&r.table), r.key),
    }
}

fn cell(c: &Cell) -> String {
    match c {
        Datum::Set(s) if s.len() == 1 => s.iter().next().map(value).unwrap_or_default(),
        Datum::Set(s) => format!("[{}]", s.iter().map(value).collect::<Vec<_>>().join(", ")),
        Datum::Map(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}={}", value(k), value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Lines describing one column change, element-level for sets and maps.
fn column_lines(c: &ColumnChange) -> Vec<String> {
    match (&c.before, &c.after) {
        (Some(Datum::Set(b)), Some(Datum::Set(a))) if b.len() > 1 || a.len() > 1 => {
            let mut out = Vec::new();
            for v in a.difference(b) {
                out.push(format!("{}: + {}", c.column, value(v)));
            }
            for v in b.difference(a) {
                out.push(format!("{}: - {}", c.column, value(v)));
            }
            out
        }
        (Some(Datum::Map(b)), Some(Datum::Map(a))) => {
            let mut out = Vec::new();
            for (k, v) in a {
                match b.get(k) {
                    None => out.push(format!("{}:{} + {}", c.column, value(k), value(v))),
                    Some(old) if old != v => out.push(format!(
                        "{}:{} {} → {}",
                        c.column,
                        value(k),
                        value(old),
                        value(v)
                    )),
                    _ => {}
                }
            }
            for (k, v) in b {
                if !a.contains_key(k) {
                    out.push(format!("{}:{} - {}", c.column, value(k), value(v)));
                }
            }
            out
        }
        (Some(b), Some(a)) => vec![format!("{}: {} → {}", c.column, cell(b), cell(a))],
        (None, Some(a)) => vec![format!("{}: {}", c.column, cell(a))],
        (Some(b), None) => vec![format!("{}: {}", c.column, cell(b))],
        (None, None) => vec![],
    }
}

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, action: Action, s: &str) -> String {
        if !self.color {
            return s.to_owned();
        }
        let code = match action {
            Action::Create => "32",
            Action::Update => "33",
            Action::Delete => "31",
        };
        format!("\x1b[{code}m{s}\x1b[0m")
    }
}

fn change_block(out: &mut String, ch: &Change, style: &Style, note: &str) {
    let head = format!(
        "{} {}{note}",
        ch.action.symbol(),
        subject(&ch.db, &ch.table, &ch.key)
    );
    let _ = writeln!(out, "{}", style.paint(ch.action, &head));
    if ch.action == Action::Delete {
        return;
    }
    for c in &ch.columns {
        // New rows: skip empty columns (and empty strings, OVN's "unset" for a few scalars such
        // as a VIF's `type`) and the ownership mark, which every row carries.
        let blank = |d: &Cell| {
            d.is_empty()
                || matches!(d.as_scalar(), Some(Value::Atom(Atom::String(s))) if s.is_empty())
        };
        if ch.action == Action::Create
            && (c.after.as_ref().is_some_and(blank) || c.column == "external_ids")
        {
            continue;
        }
        for line in column_lines(c) {
            let _ = writeln!(out, "    {line}");
        }
    }
}

/// One chassis's changes: `~ chassis gw1`, then its mappings before → after and what is added.
fn chassis_block(out: &mut String, ch: &ChassisChange, style: &Style) {
    let _ = writeln!(
        out,
        "{}",
        style.paint(Action::Update, &format!("~ chassis {}", ch.chassis))
    );
    // `key: before → after` when they differ; an unset `before` says so.
    let mut changed = |what: &str, before: Option<&str>, after: &str| {
        if before != Some(after) {
            let before = before.map_or("(unset)".to_owned(), |b| format!("{b:?}"));
            let _ = writeln!(out, "    {what}: {before} → {after:?}");
        }
    };
    // The entries are a set: another order alone is not shown (apply does not rewrite it).
    let parse = crate::rows::bridge_mappings::BridgeMappings::parse;
    if parse(&ch.bridge_mappings_before) != parse(&ch.bridge_mappings_after) {
        changed(
            "ovn-bridge-mappings",
            Some(&ch.bridge_mappings_before),
            &ch.bridge_mappings_after,
        );
    }
    for setting in &ch.settings_changed {
        changed(&setting.key, setting.before.as_deref(), &setting.after);
    }
    changed(
        "networks owned by the stack",
        Some(&ch.owned_before),
        &ch.owned_after,
    );
    for bridge in &ch.bridges_added {
        let _ = writeln!(out, "    + bridge {bridge}");
    }
    for (bridge, nics) in &ch.ports_added {
        let _ = writeln!(out, "    + ports of {bridge}: {}", nics.join(", "));
    }
}

/// One hardware VTEP's changes: `~ vtep vtep1`, then what apply adds or sets there.
fn vtep_block(out: &mut String, v: &VtepChange, style: &Style) {
    let _ = writeln!(
        out,
        "{}",
        style.paint(Action::Update, &format!("~ vtep {}", v.vtep))
    );
    if v.switch_created {
        let _ = writeln!(
            out,
            "    + physical switch {} (tunnel IP {})",
            v.vtep, v.tunnel_ip
        );
    } else if let Some((before, after)) = &v.tunnel_ips {
        let _ = writeln!(out, "    tunnel_ips: {before:?} → {after:?}");
    }
    for ls in &v.logical_switches_added {
        let _ = writeln!(out, "    + logical switch {ls}");
    }
    for b in &v.bindings {
        let _ = match (&b.before, &b.after) {
            (None, Some(after)) => {
                writeln!(out, "    + binding {} vlan {} → {after}", b.port, b.vlan)
            }
            (Some(before), Some(after)) => writeln!(
                out,
                "    binding {} vlan {}: {before} → {after}",
                b.port, b.vlan
            ),
            (Some(before), None) => writeln!(
                out,
                "    - binding {} vlan {} → {before} (written by this stack, gone from the topology)",
                b.port, b.vlan
            ),
            (None, None) => Ok(()),
        };
    }
    for p in &v.missing_ports {
        let _ = writeln!(
            out,
            "    ! physical port {p} is not published by the switch"
        );
    }
}

fn conflict_line(c: &Conflict) -> String {
    match c {
        Conflict::Unowned {
            db,
            table,
            key,
            uuid,
            owner,
        } => {
            let whose = match owner {
                Some(o) => format!("stack {o}"),
                None => "no stack (made by another tool)".to_owned(),
            };
            format!(
                "! {} exists ({uuid}) but is owned by {whose}: adopt it with `topo import --adopt`, \
                 or rename it in the topology",
                subject(db, table, key)
            )
        }
        Conflict::Duplicate {
            db,
            table,
            key,
            uuids,
        } => format!(
            "! {} is held by {} rows ({}): remove the extra rows before applying",
            subject(db, table, key),
            uuids.len(),
            uuids
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A row the stack does not own, in the topology's words: its subject when keyed, else the
/// table's noun and its UUID.
fn foreign_row(r: &ForeignRow) -> String {
    match (&r.key, r.uuid) {
        (Some(key), _) => subject(&r.db, &r.table, key),
        (None, Some(uuid)) => format!("{} {uuid}", noun(&r.table)),
        (None, None) => noun(&r.table).to_owned(),
    }
}

/// Whose the row is: another stack's, or no stack's.
fn not_owned(r: &ForeignRow, stack: &str) -> String {
    match &r.owner {
        Some(other) => format!("owned by stack {other}, not {stack}"),
        None => format!("not owned by stack {stack}"),
    }
}

/// `switch a-web acls`: the owned row and its column.
fn referrer(r: &Referrer) -> String {
    format!(
        "{} {}",
        subject(&Db::Northbound, &r.table, &r.key),
        r.column
    )
}

/// `kept: acl a-web to-lport 1000 ip4 in switch a-web acls (not owned by stack s)`.
pub(crate) fn kept_line(k: &ForeignKept, stack: &str) -> String {
    format!(
        "kept: {} in {} ({})",
        foreign_row(&k.row),
        referrer(&k.by),
        not_owned(&k.row, stack)
    )
}

/// `acl … would be deleted: …` / `load-balancer lb1 would be detached from …`.
pub(crate) fn at_risk_line(r: &ForeignAtRisk, stack: &str) -> String {
    let by = r.by.iter().map(referrer).collect::<Vec<_>>().join(", ");
    let what = match r.fate {
        Fate::Deleted => {
            format!("would be deleted by the database: its last strong reference goes with {by}")
        }
        Fate::Detached => format!("would be detached from {by}; the row itself stays"),
    };
    format!(
        "{} {what} ({})",
        foreign_row(&r.row),
        not_owned(&r.row, stack)
    )
}

/// The flag that lets apply delete or detach rows the stack does not own.
pub(crate) const ALLOW_FOREIGN_LOSS: &str = "--allow-foreign-loss";

/// The summary line; "No changes." when there is nothing to do. With conflicts it never
/// says the databases match: they block apply, and the line says so.
pub(crate) fn summary_line(plan: &Plan) -> String {
    summary_with(plan, &plan.chassis)
}

/// [`summary_line`], then the first few changes by name (`create port ls3-vm1; update switch
/// ls1 (ports)`): what an apply that did not converge left different.
pub(crate) fn summary_naming(plan: &Plan) -> String {
    const NAMED: usize = 5;
    let mut named: Vec<String> = plan
        .changes
        .iter()
        .take(NAMED)
        .map(|c| {
            let verb = match c.action {
                Action::Create => "create",
                Action::Update => "update",
                Action::Delete => "delete",
            };
            let subject = subject(&c.db, &c.table, &c.key);
            match c.action {
                Action::Update => {
                    let columns: Vec<&str> = c.columns.iter().map(|c| c.column.as_str()).collect();
                    format!("{verb} {subject} ({})", columns.join(", "))
                }
                _ => format!("{verb} {subject}"),
            }
        })
        .collect();
    if plan.changes.len() > NAMED {
        named.push(format!("and {} more", plan.changes.len() - NAMED));
    }
    if named.is_empty() {
        return summary_line(plan);
    }
    format!("{} ({})", summary_line(plan), named.join("; "))
}

/// [`summary_line`] counting `chassis` as the plan's chassis changes.
fn summary_with(plan: &Plan, chassis: &[ChassisChange]) -> String {
    let conflicts = plan.conflicts.len();
    let gateways = plan
        .gateways
        .iter()
        .filter(|f| f.severity == super::gateways::Severity::Error)
        .count();
    if plan.changes.is_empty() && chassis.is_empty() && plan.vteps.is_empty() {
        if conflicts > 0 {
            return format!("No changes planned, but {conflicts} conflict(s) block apply.");
        }
        if gateways > 0 {
            return format!(
                "No changes planned, but {gateways} gateway chassis finding(s) block apply."
            );
        }
        if !plan.foreign_kept.is_empty() {
            return format!(
                "No changes. The stack's rows match the topology; {} reference(s) to rows it \
                 does not own are kept.",
                plan.foreign_kept.len()
            );
        }
        return "No changes. The live databases match the topology.".to_owned();
    }
    let (c, u, d) = plan.summary();
    let mut blocked = if conflicts > 0 {
        format!(" {conflicts} conflict(s) block apply.")
    } else {
        String::new()
    };
    if gateways > 0 {
        let _ = write!(
            blocked,
            " {gateways} gateway chassis finding(s) block apply."
        );
    }
    let chassis = match chassis.len() {
        0 => String::new(),
        n => format!(", {n} chassis to change"),
    };
    let at_risk = match plan.foreign_at_risk.len() {
        0 => String::new(),
        n => format!(
            " {n} row(s) the stack does not own at risk: apply refuses without \
             {ALLOW_FOREIGN_LOSS}."
        ),
    };
    let vteps = match plan.vteps.len() {
        0 => String::new(),
        n => format!(", {n} VTEP(s) to change"),
    };
    format!("Plan: {c} to create, {u} to update, {d} to delete{chassis}{vteps}.{blocked}{at_risk}")
}

/// The human plan.
pub(crate) fn text(plan: &Plan, color: bool) -> String {
    text_with(plan, &plan.chassis, color)
}

/// [`text`] with `chassis` as the plan's chassis changes (apply previews them itself, beside
/// the plan its library call made).
pub(crate) fn text_with(plan: &Plan, chassis: &[ChassisChange], color: bool) -> String {
    let style = Style { color };
    let mut out = String::new();
    for ch in &plan.changes {
        change_block(&mut out, ch, &style, "");
    }
    for ch in chassis {
        chassis_block(&mut out, ch, &style);
    }
    for v in &plan.vteps {
        vtep_block(&mut out, v, &style);
    }
    if !plan.kept.is_empty() {
        let _ = writeln!(
            out,
            "\nKept (owned by {} but no longer in the topology; --no-prune):",
            plan.stack
        );
        for ch in &plan.kept {
            let _ = writeln!(out, "  {}", subject(&ch.db, &ch.table, &ch.key));
        }
    }
    if !plan.foreign_kept.is_empty() {
        let gap = if out.is_empty() { "" } else { "\n" };
        let _ = writeln!(
            out,
            "{gap}Kept (rows stack {} does not own, referred to by its rows; apply leaves them):",
            plan.stack
        );
        for k in &plan.foreign_kept {
            let _ = writeln!(out, "  {}", kept_line(k, &plan.stack));
        }
    }
    if !plan.foreign_at_risk.is_empty() {
        let gap = if out.is_empty() { "" } else { "\n" };
        let _ = writeln!(
            out,
            "{gap}Foreign rows at risk (apply refuses without {ALLOW_FOREIGN_LOSS}):"
        );
        for r in &plan.foreign_at_risk {
            let _ = writeln!(out, "! {}", at_risk_line(r, &plan.stack));
        }
    }
    if !plan.conflicts.is_empty() {
        let _ = writeln!(out, "\nConflicts (apply refuses until they are resolved):");
        for c in &plan.conflicts {
            let _ = writeln!(out, "{}", conflict_line(c));
        }
    }
    if !plan.gateways.is_empty() {
        let gap = if out.is_empty() { "" } else { "\n" };
        let _ = writeln!(out, "{gap}Gateways (their chassis, from the Southbound):");
        for line in gateway_lines(plan) {
            let _ = writeln!(out, "  ! {line}");
        }
    }
    if !plan.chassis_unchecked.is_empty() {
        let _ = writeln!(
            out,
            "\nChassis not checked (the plan says nothing about them):"
        );
        for line in unchecked_lines(plan) {
            let _ = writeln!(out, "  ? {line}");
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "{}", summary_with(plan, chassis));
    out
}

/// One line per gateway finding: its severity (an error blocks apply), then the sentence.
pub(crate) fn gateway_lines(plan: &Plan) -> Vec<String> {
    plan.gateways
        .iter()
        .map(|f| {
            let severity = match f.severity {
                super::gateways::Severity::Error => "error (blocks apply)",
                super::gateways::Severity::Warning => "warning",
            };
            format!("{severity}: {}", f.message)
        })
        .collect()
}

/// One line per chassis the plan did not read: which, where, why.
pub(crate) fn unchecked_lines(plan: &Plan) -> Vec<String> {
    plan.chassis_unchecked
        .iter()
        .map(|u| format!("chassis {} at {}: {}", u.chassis, u.remote, u.reason))
        .collect()
}

/// What a Markdown plan may weigh, in bytes (so at most as many characters): GitHub refuses a
/// comment over 65,536 characters; the rest is headroom for what a workflow adds around it.
pub(crate) const MARKDOWN_BUDGET: usize = 60_000;

/// A pull-request comment: the summary, then the plan as a `diff` block, within
/// [`MARKDOWN_BUDGET`].
pub(crate) fn markdown(plan: &Plan) -> String {
    markdown_within(plan, MARKDOWN_BUDGET)
}

/// [`markdown`] within `budget` bytes.
pub(crate) fn markdown_within(plan: &Plan, budget: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### topo plan for stack `{}`\n", plan.stack);
    let rest = budget.saturating_sub(out.len());
    out.push_str(&markdown_sections(plan, rest));
    out
}

/// The plan's summary, conflicts and changes in Markdown, for the plan's comment and drift's.
/// When everything would not fit in `budget` bytes, the changes are also counted per object
/// family (create / update / delete per noun) and the detailed list stops at the last change
/// that fits, followed by how many were left out; the conflicts, too, stop when they would take
/// more than half of the budget.
pub(crate) fn markdown_sections(plan: &Plan, budget: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "**{}**\n", summary_line(plan));
    let conflicts: Vec<String> = plan
        .conflicts
        .iter()
        .map(|c| format!("> - {}\n", conflict_line(c).trim_start_matches("! ")))
        .collect();
    let blocks = change_blocks(plan);
    let at_risk: Vec<String> = plan
        .foreign_at_risk
        .iter()
        .map(|r| format!("> - {}\n", at_risk_line(r, &plan.stack)))
        .collect();
    let kept: Vec<String> = plan
        .foreign_kept
        .iter()
        .map(|k| format!("> - {}\n", kept_line(k, &plan.stack)))
        .collect();
    let full = out.len()
        + conflicts.iter().map(String::len).sum::<usize>()
        + blocks.iter().map(String::len).sum::<usize>()
        + at_risk.iter().map(String::len).sum::<usize>()
        + kept.iter().map(String::len).sum::<usize>()
        + 600;
    push_unchecked(&mut out, plan);
    let gateways: Vec<String> = gateway_lines(plan)
        .into_iter()
        .map(|l| format!("> - {l}\n"))
        .collect();
    push_list(
        &mut out,
        "> [!WARNING]\n> Gateways (their chassis, from the Southbound):\n",
        &gateways,
        usize::MAX,
        "gateway finding(s)",
    );
    let at_risk_head = format!(
        "> [!CAUTION]\n> Foreign rows at risk (apply refuses without `{ALLOW_FOREIGN_LOSS}`):\n"
    );
    let kept_head = format!(
        "> [!NOTE]\n> Kept (rows stack `{}` does not own, referred to by its rows; apply leaves \
         them):\n",
        plan.stack
    );
    if full <= budget {
        push_list(
            &mut out,
            &at_risk_head,
            &at_risk,
            usize::MAX,
            "row(s) at risk",
        );
        push_list(&mut out, &kept_head, &kept, usize::MAX, "kept reference(s)");
        push_list(
            &mut out,
            CONFLICTS_HEAD,
            &conflicts,
            usize::MAX,
            "conflict(s)",
        );
        push_changes(&mut out, &blocks, usize::MAX);
        return out;
    }
    out.push_str(&family_table(plan));
    // What is left is shared: at most a quarter for the rows at risk, an eighth for the kept
    // references, half of the rest for the conflicts, the rest for the changes. Each list
    // reserves room for its own closing lines.
    const CLOSING: usize = 400;
    let left = budget.saturating_sub(out.len());
    push_list(
        &mut out,
        &at_risk_head,
        &at_risk,
        (left / 4).saturating_sub(CLOSING),
        "row(s) at risk",
    );
    push_list(
        &mut out,
        &kept_head,
        &kept,
        (left / 8).saturating_sub(CLOSING),
        "kept reference(s)",
    );
    let left = budget.saturating_sub(out.len());
    push_list(
        &mut out,
        CONFLICTS_HEAD,
        &conflicts,
        (left / 2).saturating_sub(CLOSING),
        "conflict(s)",
    );
    let left = budget.saturating_sub(out.len());
    push_changes(&mut out, &blocks, left.saturating_sub(CLOSING));
    out
}

/// Each change as its `diff` lines: a row's block, then a chassis's, in plan order.
fn change_blocks(plan: &Plan) -> Vec<String> {
    let style = Style { color: false };
    let mut blocks = Vec::with_capacity(plan.changes.len() + plan.chassis.len());
    let mut push = |body: String| {
        // `diff` highlighting colours lines by their first character; `~` lines become `!`.
        blocks.push(
            body.lines()
                .map(|l| match l.strip_prefix('~') {
                    Some(rest) => format!("!{rest}\n"),
                    None => format!("{l}\n"),
                })
                .collect(),
        );
    };
    for ch in &plan.changes {
        let mut body = String::new();
        change_block(&mut body, ch, &style, "");
        push(body);
    }
    for ch in &plan.chassis {
        let mut body = String::new();
        chassis_block(&mut body, ch, &style);
        push(body);
    }
    for v in &plan.vteps {
        let mut body = String::new();
        vtep_block(&mut body, v, &style);
        push(body);
    }
    blocks
}

/// The chassis the plan did not read, as a note (one line each: few, and short).
fn push_unchecked(out: &mut String, plan: &Plan) {
    if plan.chassis_unchecked.is_empty() {
        return;
    }
    out.push_str("> [!NOTE]\n> Chassis not checked (the plan says nothing about them):\n");
    for line in unchecked_lines(plan) {
        let _ = writeln!(out, "> - {line}");
    }
    out.push('\n');
}

/// A quoted list under `head`, as many lines as fit in `room` bytes, then how many (of
/// `what`) were left out.
/// The heading of the conflicts, a warning in GitHub's Markdown.
const CONFLICTS_HEAD: &str = "> [!WARNING]\n> Conflicts block apply:\n";

fn push_list(out: &mut String, head: &str, lines: &[String], room: usize, what: &str) {
    if lines.is_empty() {
        return;
    }
    out.push_str(head);
    let shown = fitting(lines, room);
    for l in &lines[..shown] {
        out.push_str(l);
    }
    if shown < lines.len() {
        let _ = writeln!(
            out,
            "> - … and {} more {what} not shown here: `topo plan` lists them all",
            lines.len() - shown
        );
    }
    out.push('\n');
}

/// The changes in a `diff` block, as many whole ones as fit in `room` bytes, then how many were
/// left out.
fn push_changes(out: &mut String, blocks: &[String], room: usize) {
    if blocks.is_empty() {
        return;
    }
    let shown = fitting(blocks, room);
    let summary = if shown < blocks.len() {
        format!("Changes (the first {shown} of {})", blocks.len())
    } else {
        "Changes".to_owned()
    };
    let _ = writeln!(out, "<details open><summary>{summary}</summary>\n\n```diff");
    for b in &blocks[..shown] {
        out.push_str(b);
    }
    out.push_str("```\n");
    if shown < blocks.len() {
        let _ = writeln!(
            out,
            "\n**{} more change(s) not shown**: a comment is limited to 65,536 characters; \
             `topo plan` (or `--format json`) shows them all.",
            blocks.len() - shown
        );
    }
    out.push_str("</details>\n");
}

/// How many of `items`, from the first, fit in `room` bytes together.
fn fitting(items: &[String], room: usize) -> usize {
    let mut used = 0usize;
    items
        .iter()
        .take_while(|i| {
            used = used.saturating_add(i.len());
            used <= room
        })
        .count()
}

/// The changes counted per object family: one table row per noun (chassis last), create /
/// update / delete.
fn family_table(plan: &Plan) -> String {
    let mut families: std::collections::BTreeMap<&str, [usize; 3]> =
        std::collections::BTreeMap::new();
    for ch in &plan.changes {
        let counts = families.entry(noun(&ch.table)).or_default();
        counts[match ch.action {
            Action::Create => 0,
            Action::Update => 1,
            Action::Delete => 2,
        }] += 1;
    }
    let mut out =
        String::from("| object | create | update | delete |\n| --- | ---: | ---: | ---: |\n");
    for (family, [c, u, d]) in &families {
        let _ = writeln!(out, "| {family} | {c} | {u} | {d} |");
    }
    if !plan.chassis.is_empty() {
        let _ = writeln!(out, "| chassis | 0 | {} | 0 |", plan.chassis.len());
    }
    if !plan.vteps.is_empty() {
        let _ = writeln!(out, "| vtep | 0 | {} | 0 |", plan.vteps.len());
    }
    out.push('\n');
    out
}
