//! Server bytes, in pieces of the sizes the input's first byte picks, into a logged-in POP3
//! client with a pipeline of commands waiting: no panic, every message piece bounded, every
//! event belongs to a command that was sent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pop3::{Client, Command, Event, MESSAGE_PIECE};

fuzz_target!(|input: &[u8]| {
    let Some((&split, wire)) = input.split_first() else {
        return;
    };
    let mut client = Client::new();
    client.feed(b"+OK ready\r\n");
    let _ = client.next_event();
    for command in [
        Command::User("u".into()),
        Command::Pass("p".into()),
        Command::Capa,
        Command::Uidl(None),
        Command::List(None),
        Command::Retr(1),
        Command::Top { message: 2, lines: 0 },
        Command::Dele(1),
        Command::Quit,
    ] {
        let _ = client.send(command);
    }
    let piece = usize::from(split).max(1);
    let mut replies = 0;
    for chunk in wire.chunks(piece) {
        client.feed(chunk);
        loop {
            match client.next_event() {
                Ok(Some(Event::MessageData { data, command })) => {
                    assert!(data.len() <= MESSAGE_PIECE + 2, "{}", data.len());
                    assert!(command.carries_message());
                }
                Ok(Some(Event::Reply { .. })) => replies += 1,
                Ok(Some(Event::Greeting { .. })) => panic!("a second greeting"),
                Ok(None) | Err(_) => break,
            }
        }
    }
    assert!(replies <= 9);
});
