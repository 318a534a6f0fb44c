//! JSON → Datum never panics, and Datum → JSON → Datum is the identity.
#![no_main]

use libfuzzer_sys::fuzz_target;
use topo::ovsdb::Datum;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(datum) = Datum::from_json(&value) {
        let again = Datum::from_json(&datum.to_json()).expect("re-parse of our own notation");
        // Reals that are whole numbers come back as integers without a schema; compare
        // the notation instead.
        assert_eq!(again.to_json(), datum.to_json());
    }
});
