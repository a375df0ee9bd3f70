//! Benchmark: what the relay's access protections let through and what they cost. Logins per
//! second the relay accepts (each a real IMAP login behind it) next to logging in to Dovecot
//! directly; a password guesser at one address (how many of its guesses reach the mail
//! server); and the relay's memory while 1,000 sockets flood it with frames, next to Dovecot's
//! login processes under the same kind of flood. Run with `scripts/bench`, or
//! `cargo build --release -p webmail-tests --bins && target/release/access-load`.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use protocol::AccountKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use webmail_server::config::TlsMode;
use webmail_tests::{
    client::ws_connect,
    dovecot::{imap_processes_kib, Dovecot},
    raw_imap::RawImap,
    relay_process::{imap_section, release_relay, RelayProcess},
};

const OWNER: (&str, &str) = ("owner@example.org", "owner-pw");
const LOGINS: usize = 200;
/// As many as the relay lets talk to the mail server at once.
const AT_ONCE: usize = 16;
const GUESSES: usize = 200;
const SOCKETS: usize = 1_000;
const FLOOD: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() {
    let relay_binary = release_relay();
    // Dovecot trusts loopback, as it would a relay beside it: no auth penalty slows the figures.
    let dovecot = Dovecot::start_trusting_loopback(&[OWNER]).await;
    let dir = tempfile::tempdir().expect("temp dir");
    // Plain IMAP on loopback on both sides, so that the comparison is not about TLS.
    let sections = format!(
        "sessions_per_user = {LOGINS}\n{}",
        imap_section(&dovecot.imap_server(TlsMode::Plain))
    );
    let relay = RelayProcess::start(&relay_binary, dir.path(), &sections).await;
    let http = relay.relay();

    println!("Logins, {LOGINS} with the right password, {AT_ONCE} at a time:");
    let started = Instant::now();
    for _ in 0..LOGINS / AT_ONCE {
        let logins = (0..AT_ONCE).map(|_| http.login(OWNER.0, OWNER.1));
        for (status, _, body) in futures_util::future::join_all(logins).await {
            assert_eq!(status, 200, "{body}");
        }
    }
    let relay_rate = (LOGINS / AT_ONCE * AT_ONCE) as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    for _ in 0..LOGINS / AT_ONCE {
        let logins = (0..AT_ONCE).map(|_| async {
            let mut imap = RawImap::login(dovecot.imap_port, OWNER.0, OWNER.1).await;
            imap.command("LOGOUT").await;
        });
        futures_util::future::join_all(logins).await;
    }
    let dovecot_rate = (LOGINS / AT_ONCE * AT_ONCE) as f64 / started.elapsed().as_secs_f64();
    println!(
        "  relay (HTTP, IMAP login, session, INBOX warm-up): {relay_rate:.0}/s; \
         Dovecot directly (LOGIN, LOGOUT): {dovecot_rate:.0}/s; ratio {:.2}",
        relay_rate / dovecot_rate
    );

    println!("\nA guesser at one address, {GUESSES} wrong passwords one after another:");
    let failed_logins = || dovecot.log().matches("auth failed").count();
    let before = failed_logins();
    let started = Instant::now();
    let mut held_back = 0;
    for i in 0..GUESSES {
        let (status, _, body) = http.login(OWNER.0, &format!("guess-{i}")).await;
        assert_ne!(status, 200);
        held_back += usize::from(body["code"] == "try_later");
    }
    let took = started.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let reached = failed_logins() - before;
    let owner_started = Instant::now();
    let owner = http
        .login_from_with([127, 0, 0, 9].into(), OWNER, AccountKind::Imap, "")
        .await;
    println!(
        "  answered in {:.1} s ({:.0}/s), {held_back} held back by the relay, {reached} reached \
         Dovecot; the owner from another address then: {owner} in {} ms",
        took.as_secs_f64(),
        GUESSES as f64 / took.as_secs_f64(),
        owner_started.elapsed().as_millis()
    );

    println!(
        "\nA frame flood: {SOCKETS} sockets of one session for {} s, each sending garbage, \
         64 KiB frames and requests as fast as it can (half never read an answer):",
        FLOOD.as_secs()
    );
    let (_, cookie, _) = http.login(OWNER.0, OWNER.1).await;
    let cookie = cookie.expect("a session cookie");
    let idle_kib = relay.resident_kib();
    let (url, origin) = (format!("ws://{}/ws", http.addr), http.url());
    let mut sockets = Vec::new();
    while sockets.len() < SOCKETS {
        let batch = (0..50).map(|_| ws_connect(&url, Some(&origin), Some(&cookie)));
        for socket in futures_util::future::join_all(batch).await {
            sockets.push(socket.expect("socket opens").0);
        }
    }
    let open_kib = relay.resident_kib();
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, answered) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let big = "x".repeat(64 * 1024);
    let floods: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(n, ws)| {
            let (stop, sent, answered, big) =
                (stop.clone(), sent.clone(), answered.clone(), big.clone());
            tokio::spawn(async move {
                let (mut sink, mut stream) = ws.split();
                if n % 2 == 0 {
                    let (answered, stop) = (answered.clone(), stop.clone());
                    tokio::spawn(async move {
                        while let Some(Ok(_)) = stream.next().await {
                            answered.fetch_add(1, Ordering::Relaxed);
                            if stop.load(Ordering::Relaxed) {
                                return;
                            }
                        }
                    });
                }
                let mut id = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    id += 1;
                    let frames = [
                        "{{{ not json".to_owned(),
                        big.clone(),
                        format!(r#"{{"id":{id},"op":"list_folders"}}"#),
                    ];
                    for frame in frames {
                        let send = tokio::time::timeout(
                            Duration::from_secs(1),
                            sink.send(Message::text(frame)),
                        );
                        match send.await {
                            Ok(Ok(())) => {
                                sent.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(Err(_)) => return,
                            Err(_) => {} // the relay reads no faster: try again
                        }
                    }
                }
            })
        })
        .collect();
    let relay_peak = sample_max(FLOOD, || relay.resident_kib()).await;
    stop.store(true, Ordering::Relaxed);
    for flood in floods {
        flood.abort();
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after_kib = relay.resident_kib();
    let still_in = http.get("/api/session", Some(&cookie)).await.status;
    println!(
        "  relay resident: {:.1} MiB idle, {:.1} MiB with the sockets open, at most {:.1} MiB \
         during the flood ({:.0} KiB per socket), {:.1} MiB 3 s after; {} frames sent, {} answers \
         read; the session afterwards: {still_in}",
        idle_kib as f64 / 1024.0,
        open_kib as f64 / 1024.0,
        relay_peak as f64 / 1024.0,
        relay_peak.saturating_sub(idle_kib) as f64 / SOCKETS as f64,
        after_kib as f64 / 1024.0,
        sent.load(Ordering::Relaxed),
        answered.load(Ordering::Relaxed),
    );

    // The peer: the same number of connections flooding Dovecot with garbage before login
    // (it hangs up after a few bad commands and the flooder comes back; its login processes
    // are what a flood costs it).
    let dovecot_idle = imap_processes_kib();
    let stop = Arc::new(AtomicBool::new(false));
    let port = dovecot.imap_port;
    let connections = Arc::new(AtomicU64::new(0));
    let floods: Vec<_> = (0..SOCKETS)
        .map(|_| {
            let (stop, connections) = (stop.clone(), connections.clone());
            tokio::spawn(async move {
                let mut answer = vec![0; 4096];
                // Hung up on: in again, as a flooder would.
                while !stop.load(Ordering::Relaxed) {
                    let Ok(mut tcp) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await
                    else {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    };
                    connections.fetch_add(1, Ordering::Relaxed);
                    while !stop.load(Ordering::Relaxed) {
                        if tcp.write_all(b"a1 {{{ not imap\r\n").await.is_err()
                            || matches!(tcp.read(&mut answer).await, Ok(0) | Err(_))
                        {
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    let dovecot_peak = sample_max(FLOOD, imap_processes_kib).await;
    stop.store(true, Ordering::Relaxed);
    for flood in floods {
        flood.abort();
    }
    println!(
        "  Dovecot's imap and imap-login processes (PSS) under {SOCKETS} flooders sending garbage \
         before login: {:.1} MiB idle, at most {:.1} MiB (+{:.0} KiB per flooder); it hangs \
         up after a few bad commands, so they connected {} times",
        dovecot_idle as f64 / 1024.0,
        dovecot_peak as f64 / 1024.0,
        dovecot_peak.saturating_sub(dovecot_idle) as f64 / SOCKETS as f64,
        connections.load(Ordering::Relaxed),
    );
}

/// The largest of `measure` over `during`, sampled twice a second.
async fn sample_max(during: Duration, measure: impl Fn() -> u64) -> u64 {
    let until = Instant::now() + during;
    let mut most = 0;
    while Instant::now() < until {
        most = most.max(measure());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    most
}
