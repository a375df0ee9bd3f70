//! One IMAP server response into list rows, a reader's plan and conversation sizes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    webmail_server::imap::fuzz_response(input);
});
