//! The framer never panics, and splitting the input anywhere yields the same messages.
#![no_main]

use libfuzzer_sys::fuzz_target;
use topo::ovsdb::framing::Framer;

fn frame(chunks: &[&[u8]]) -> (Vec<Vec<u8>>, bool) {
    let mut f = Framer::new(1 << 20);
    let mut out = Vec::new();
    for c in chunks {
        f.push(c);
        loop {
            match f.next_message() {
                Ok(Some(m)) => out.push(m),
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    (out, false)
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let cut = data[0] as usize % data.len();
    let body = &data[1..];
    let cut = cut.min(body.len());
    let whole = frame(&[body]);
    let split = frame(&[&body[..cut], &body[cut..]]);
    if !whole.1 && !split.1 {
        assert_eq!(whole.0, split.0);
    }
    for m in whole.0 {
        // Every message the framer yields is balanced; parsing may still fail on bad JSON.
        let _ = serde_json::from_slice::<serde_json::Value>(&m);
    }
});
