//! Arbitrary bytes through the whole language front end: load (YAML with budgets, spans,
//! merging), check, lower and render the diagnostics. None of it may panic, and every
//! diagnostic's place must lie inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let loaded = topo::spec::load_str("fuzz.yaml", &text);
    let (state, diags) = topo::compiler::compile(&loaded.topology);
    for d in loaded.diagnostics.items.iter().chain(diags.items.iter()) {
        if let Some(l) = &d.primary {
            assert!(l.span.offset + l.span.len <= text.len() + 1, "span out of the file");
        }
    }
    let mut all = loaded.diagnostics.clone();
    all.extend(diags);
    let _ = topo::diagnostics::render_plain(&all, &loaded.sources, 100);
    if let Some(state) = state {
        let _ = topo::compiler::output::to_json(&state);
    }
});
