//! A TCP proxy in front of a real server that can cut every connection through it, to test what
//! the relay does when its mail-server connection drops. It forwards bytes unchanged.

use std::sync::{Arc, Mutex};

use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

pub struct CuttingProxy {
    pub port: u16,
    accept: JoinHandle<()>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl CuttingProxy {
    pub async fn start(target_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("bound").port();
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let tracked = Arc::clone(&connections);
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let Ok(mut server) = TcpStream::connect(("127.0.0.1", target_port)).await else {
                    continue;
                };
                let pipe = tokio::spawn(async move {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
                tracked.lock().expect("not poisoned").push(pipe);
            }
        });
        Self {
            port,
            accept,
            connections,
        }
    }

    /// Drops every open connection through the proxy, as a network failure or a server restart
    /// would. New connections are accepted as before.
    pub fn cut_all(&self) -> usize {
        let mut connections = self.connections.lock().expect("not poisoned");
        let live = connections.iter().filter(|c| !c.is_finished()).count();
        for connection in connections.drain(..) {
            connection.abort();
        }
        live
    }
}

impl Drop for CuttingProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut_all();
    }
}
