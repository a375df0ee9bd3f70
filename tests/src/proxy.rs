//! A TCP proxy in front of a real server that can cut every connection through it, stall them
//! (hold them open, passing nothing), or slip bytes into what the server sends: to test what the
//! relay does when its mail-server connection drops or turns to garbage, and what the app does
//! when its link to the relay hangs. Otherwise it forwards bytes unchanged.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::mpsc,
    task::JoinHandle,
};

struct Connection {
    pipe: JoinHandle<()>,
    inject: mpsc::UnboundedSender<Vec<u8>>,
    stalled: Arc<AtomicBool>,
}

pub struct FaultProxy {
    pub port: u16,
    accept: JoinHandle<()>,
    connections: Arc<Mutex<Vec<Connection>>>,
    /// For connections opened from now on: cut after the server has sent this many bytes.
    cut_after: Arc<Mutex<Option<usize>>>,
    /// Bytes passed either way, over all connections.
    passed: Arc<AtomicU64>,
    /// For connections opened from now on: once the server has sent the first of these bytes,
    /// the second follow in the same write (a man in the middle before STARTTLS).
    append: Arc<Mutex<Option<Append>>>,
    /// What every connection, open or new, meets from the moment it is set.
    link: Arc<Link>,
}

#[derive(Default)]
struct Link {
    /// See [`FaultProxy::hang`].
    hanging: AtomicBool,
    /// See [`FaultProxy::hold_asking`].
    hold: Mutex<Option<Vec<u8>>>,
    /// See [`FaultProxy::answer_asking`]: the start of a request, and what is answered instead.
    answer: Mutex<Option<(Vec<u8>, Vec<u8>)>>,
}

impl Link {
    fn holds(&self, request: &[u8]) -> bool {
        let hold = self.hold.lock().expect("not poisoned");
        hold.as_ref()
            .is_some_and(|asking| request.starts_with(asking))
    }

    fn answer(&self, request: &[u8]) -> Option<Vec<u8>> {
        let answer = self.answer.lock().expect("not poisoned");
        answer
            .as_ref()
            .filter(|(asking, _)| request.starts_with(asking))
            .map(|(_, answer)| answer.clone())
    }
}

/// What [`FaultProxy::append_after`] slips in, and after what.
#[derive(Clone)]
struct Append {
    after: Vec<u8>,
    bytes: Vec<u8>,
}

impl FaultProxy {
    pub async fn start(target_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("bound").port();
        let connections: Arc<Mutex<Vec<Connection>>> = Arc::default();
        let cut_after: Arc<Mutex<Option<usize>>> = Arc::default();
        let tracked = Arc::clone(&connections);
        let budget = Arc::clone(&cut_after);
        let passed: Arc<AtomicU64> = Arc::default();
        let counter = Arc::clone(&passed);
        let append: Arc<Mutex<Option<Append>>> = Arc::default();
        let appending = Arc::clone(&append);
        let link: Arc<Link> = Arc::default();
        let rules = Arc::clone(&link);
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)).await else {
                    continue;
                };
                let (inject, injected) = mpsc::unbounded_channel();
                let limit = *budget.lock().expect("not poisoned");
                let stalled = Arc::new(AtomicBool::new(false));
                let pipe = tokio::spawn(forward(
                    (client, server),
                    injected,
                    limit,
                    appending.lock().expect("not poisoned").clone(),
                    (Arc::clone(&stalled), Arc::clone(&rules)),
                    Arc::clone(&counter),
                ));
                tracked.lock().expect("not poisoned").push(Connection {
                    pipe,
                    inject,
                    stalled,
                });
            }
        });
        Self {
            port,
            accept,
            connections,
            cut_after,
            passed,
            append,
            link,
        }
    }

    /// Connections opened from now on: right behind the first server bytes that contain
    /// `after`, `bytes` go to the client in the same write, as if the server had sent them.
    pub fn append_after(&self, after: &[u8], bytes: &[u8]) {
        *self.append.lock().expect("not poisoned") = Some(Append {
            after: after.to_vec(),
            bytes: bytes.to_vec(),
        });
    }

    /// Returns once no byte has passed either way for `quiet`: whatever the client and the
    /// server had to say to each other has been said.
    pub async fn until_quiet(&self, quiet: Duration) {
        loop {
            let before = self.passed.load(Ordering::SeqCst);
            tokio::time::sleep(quiet).await;
            if self.passed.load(Ordering::SeqCst) == before {
                return;
            }
        }
    }

    /// Connections opened from now on are cut once the server has sent `bytes` through them
    /// (`None`: never).
    pub fn cut_after(&self, bytes: Option<usize>) {
        *self.cut_after.lock().expect("not poisoned") = bytes;
    }

    /// Drops every open connection through the proxy, as a network failure or a server restart
    /// would; returns how many were open. New connections are accepted as before.
    pub fn cut_all(&self) -> usize {
        let mut connections = self.connections.lock().expect("not poisoned");
        let live = connections.iter().filter(|c| !c.pipe.is_finished()).count();
        for connection in connections.drain(..) {
            connection.pipe.abort();
        }
        live
    }

    /// From now on, a connection passes nothing more, either way, once the client sends a
    /// chunk that starts with `asking` (`None`: never), as through a middlebox that holds what
    /// it does not understand, such as a WebSocket's upgrade. Other requests pass as before.
    pub fn hold_asking(&self, asking: Option<&[u8]>) {
        *self.link.hold.lock().expect("not poisoned") = asking.map(<[u8]>::to_vec);
    }

    /// From now on, a client chunk that starts with `asking` is answered with `answer`, and
    /// its connection closed, without the server hearing of it (`None`: never), as by a
    /// captive portal or a gateway with its own error page.
    pub fn answer_asking(&self, rule: Option<(&[u8], &[u8])>) {
        *self.link.answer.lock().expect("not poisoned") =
            rule.map(|(asking, answer)| (asking.to_vec(), answer.to_vec()));
    }

    /// The link hangs (`true`) or passes again (`false`): every connection, open or opened
    /// meanwhile, passes nothing either way but stays open, as on a phone between cells. New
    /// connections are still accepted: only a timeout can tell.
    pub fn hang(&self, hanging: bool) {
        self.link.hanging.store(hanging, Ordering::SeqCst);
    }

    /// Every open connection stops passing bytes either way but stays open, as behind a dead
    /// router: only a timeout can tell. New connections pass bytes as before.
    pub fn stall_all(&self) {
        for connection in self.connections.lock().expect("not poisoned").iter() {
            connection.stalled.store(true, Ordering::SeqCst);
        }
    }

    /// Sends `bytes` to every connected client as if the server had sent them.
    pub fn inject_to_clients(&self, bytes: &[u8]) {
        for connection in self.connections.lock().expect("not poisoned").iter() {
            let _ = connection.inject.send(bytes.to_vec());
        }
    }
}

async fn forward(
    (mut client, mut server): (TcpStream, TcpStream),
    mut injected: mpsc::UnboundedReceiver<Vec<u8>>,
    mut budget: Option<usize>,
    mut append: Option<Append>,
    (stalled, link): (Arc<AtomicBool>, Arc<Link>),
    passed: Arc<AtomicU64>,
) {
    let (mut from_client, mut to_client) = client.split();
    let (mut from_server, mut to_server) = server.split();
    let mut up = [0u8; 16 * 1024];
    let mut down = [0u8; 16 * 1024];
    loop {
        if stalled.load(Ordering::SeqCst) || link.hanging.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(20)) => {}
            n = from_client.read(&mut up) => match n {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if link.holds(&up[..n]) {
                        stalled.store(true, Ordering::SeqCst);
                        continue;
                    }
                    if let Some(answer) = link.answer(&up[..n]) {
                        let _ = to_client.write_all(&answer).await;
                        break;
                    }
                    passed.fetch_add(n as u64, Ordering::SeqCst);
                    if to_server.write_all(&up[..n]).await.is_err() { break }
                }
            },
            n = from_server.read(&mut down) => match n {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    passed.fetch_add(n as u64, Ordering::SeqCst);
                    // Pass on what fits in the budget, then drop the connection mid-stream.
                    let pass = budget.map_or(n, |left| n.min(left));
                    let mut out = down[..pass].to_vec();
                    let due = append.as_ref().is_some_and(|a| out.windows(a.after.len()).any(|w| w == a.after));
                    if due {
                        out.extend(append.take().expect("due").bytes);
                    }
                    if to_client.write_all(&out).await.is_err() {
                        break;
                    }
                    if let Some(left) = &mut budget {
                        *left -= pass;
                        if *left == 0 {
                            break;
                        }
                    }
                }
            },
            Some(bytes) = injected.recv() => if to_client.write_all(&bytes).await.is_err() { break },
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut_all();
    }
}
