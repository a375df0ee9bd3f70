//! WebSocket frames as the relay reads them (and the app reads the relay's): what parses must
//! survive a round trip unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::{ClientFrame, ServerFrame};

fuzz_target!(|input: &[u8]| {
    if let Ok(frame) = serde_json::from_slice::<ClientFrame>(input) {
        let again: ClientFrame =
            serde_json::from_str(&serde_json::to_string(&frame).unwrap()).unwrap();
        assert_eq!(frame, again);
    }
    if let Ok(frame) = serde_json::from_slice::<ServerFrame>(input) {
        let again: ServerFrame =
            serde_json::from_str(&serde_json::to_string(&frame).unwrap()).unwrap();
        assert_eq!(frame, again);
    }
});
