//! A loopback TCP proxy between test devices and the relay that injects network
//! faults on a seeded plan: connections cut after some bytes or some time, stalled
//! for a while (then resumed or cut), or slowed by a delay on every chunk.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::synthetic::Seeded;

/// What faults the proxy may inject, and how many: each new connection draws one
/// fault (or none) until the budget is spent.
#[derive(Clone, Debug)]
pub struct Plan {
    pub seed: u64,
    /// At most this many connections get a fault, over the proxy's life.
    pub max_faults: usize,
    /// Chance, in percent, that a new connection gets a fault.
    pub fault_percent: usize,
    /// A cut comes after at most this many bytes (both directions counted).
    pub max_cut_bytes: usize,
    /// ... or after at most this long.
    pub max_cut_after: Duration,
    /// A stall lasts at most this long.
    pub max_stall: Duration,
    /// A slowed connection holds each chunk back at most this long.
    pub max_delay: Duration,
}

impl Plan {
    /// Faults small enough that a debug-built test with 20 devices ends in seconds.
    pub fn bounded(seed: u64) -> Self {
        Self {
            seed,
            max_faults: 60,
            fault_percent: 60,
            max_cut_bytes: 12_000,
            max_cut_after: Duration::from_millis(800),
            max_stall: Duration::from_secs(2),
            max_delay: Duration::from_millis(10),
        }
    }
}

/// Faults that actually happened, per kind (a cut planned after more bytes than the
/// connection carried never happens and is not counted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Injected {
    pub connections: usize,
    /// Connections that drew a fault.
    pub planned: usize,
    pub cut_after_bytes: usize,
    pub cut_after_time: usize,
    pub stall_then_resume: usize,
    pub stall_then_cut: usize,
    /// Connections slowed by a delay on every chunk (counted once, at the first chunk).
    pub delayed: usize,
}

impl Injected {
    pub fn total(&self) -> usize {
        self.cut_after_bytes
            + self.cut_after_time
            + self.stall_then_resume
            + self.stall_then_cut
            + self.delayed
    }
}

impl std::fmt::Display for Injected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} connections, {} drew a fault, {} injected: cut after bytes {}, cut after time {}, \
             stall then resume {}, stall then cut {}, delayed {}",
            self.connections,
            self.planned,
            self.total(),
            self.cut_after_bytes,
            self.cut_after_time,
            self.stall_then_resume,
            self.stall_then_cut,
            self.delayed
        )
    }
}

/// The fault one connection drew.
#[derive(Clone, Copy, Debug)]
enum Fault {
    None,
    CutAfterBytes(usize),
    CutAfterTime(Duration),
    Stall {
        after_bytes: usize,
        stall: Duration,
        then_cut: bool,
    },
    Delay(Duration),
}

#[derive(Debug)]
struct Control {
    plan: Plan,
    rng: Mutex<Seeded>,
    /// Cleared by [`Proxy::calm`]: no fault fires any more, on old or new connections.
    enabled: AtomicBool,
    faults_left: AtomicUsize,
    injected: Mutex<Injected>,
}

impl Control {
    fn draw(&self) -> Fault {
        let mut injected = self.injected.lock().unwrap_or_else(PoisonError::into_inner);
        injected.connections += 1;
        if !self.enabled.load(Ordering::SeqCst) {
            return Fault::None;
        }
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        if rng.below(100) >= self.plan.fault_percent {
            return Fault::None;
        }
        let spent = self
            .faults_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if spent.is_err() {
            return Fault::None;
        }
        injected.planned += 1;
        let p = &self.plan;
        let millis = |rng: &mut Seeded, max: Duration| {
            Duration::from_millis(1 + rng.below(max.as_millis().max(1) as usize) as u64)
        };
        match rng.below(4) {
            0 => Fault::CutAfterBytes(rng.below(p.max_cut_bytes.max(1))),
            1 => Fault::CutAfterTime(millis(&mut rng, p.max_cut_after)),
            2 => Fault::Stall {
                after_bytes: rng.below(p.max_cut_bytes.max(1)),
                stall: millis(&mut rng, p.max_stall),
                then_cut: rng.below(2) == 0,
            },
            _ => Fault::Delay(millis(&mut rng, p.max_delay)),
        }
    }

    fn enabled(&self) -> bool {
        self.enabled.load(Ordering::SeqCst)
    }

    fn count(&self, what: impl FnOnce(&mut Injected)) {
        what(&mut self.injected.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

/// The proxy: listens on `127.0.0.1:0`, forwards every connection to `upstream`.
#[derive(Debug)]
pub struct Proxy {
    pub addr: SocketAddr,
    control: Arc<Control>,
    task: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr, plan: Plan) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the proxy")?;
        let addr = listener.local_addr()?;
        let control = Arc::new(Control {
            rng: Mutex::new(Seeded::new(plan.seed)),
            faults_left: AtomicUsize::new(plan.max_faults),
            plan,
            enabled: AtomicBool::new(true),
            injected: Mutex::new(Injected::default()),
        });
        let accepting = control.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let fault = accepting.draw();
                tokio::spawn(forward(client, upstream, fault, accepting.clone()));
            }
        });
        Ok(Self {
            addr,
            control,
            task,
        })
    }

    /// The relay's sync URL, reached through the proxy.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/sync", self.addr)
    }

    /// Switches faults off: from now on every connection, old or new, just forwards.
    pub fn calm(&self) {
        self.control.enabled.store(false, Ordering::SeqCst);
    }

    pub fn injected(&self) -> Injected {
        *self
            .control
            .injected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// State both directions of one connection share.
#[derive(Debug)]
struct Link {
    fault: Fault,
    control: Arc<Control>,
    /// Bytes forwarded so far, both directions.
    bytes: AtomicUsize,
    /// Forwarding waits until then (a stall); set once.
    stalled_until: Mutex<Option<Instant>>,
    delay_counted: AtomicBool,
}

async fn forward(client: TcpStream, upstream: SocketAddr, fault: Fault, control: Arc<Control>) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let link = Link {
        fault,
        control,
        bytes: AtomicUsize::new(0),
        stalled_until: Mutex::new(None),
        delay_counted: AtomicBool::new(false),
    };
    let cut_timer = async {
        match fault {
            Fault::CutAfterTime(after) => {
                tokio::time::sleep(after).await;
                if link.control.enabled() {
                    link.control.count(|i| i.cut_after_time += 1);
                    return;
                }
                std::future::pending::<()>().await
            }
            _ => std::future::pending::<()>().await,
        }
    };
    // Whichever ends first ends the connection: both sockets are dropped together, so
    // a cut closes both sides at once (a plain close just closes the other way too).
    tokio::select! {
        _ = pump(client_read, server_write, &link) => {}
        _ = pump(server_read, client_write, &link) => {}
        () = cut_timer => {}
    }
}

/// Forwards one direction until it closes or its fault cuts it.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, link: &Link) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let total = link.bytes.fetch_add(n, Ordering::SeqCst) + n;
        let mut chunk = &buf[..n];
        if link.control.enabled() {
            match link.fault {
                Fault::CutAfterBytes(limit) if total >= limit => {
                    // Forward up to the limit, then cut mid-message.
                    let keep = n.saturating_sub(total - limit);
                    let _ = to.write_all(&chunk[..keep]).await;
                    link.control.count(|i| i.cut_after_bytes += 1);
                    return;
                }
                Fault::Stall {
                    after_bytes,
                    stall,
                    then_cut,
                } if total >= after_bytes => {
                    let until = {
                        let mut at = link
                            .stalled_until
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner);
                        match *at {
                            Some(until) => until,
                            None => {
                                let until = Instant::now() + stall;
                                *at = Some(until);
                                link.control.count(|i| {
                                    if then_cut {
                                        i.stall_then_cut += 1;
                                    } else {
                                        i.stall_then_resume += 1;
                                    }
                                });
                                until
                            }
                        }
                    };
                    tokio::time::sleep_until(until).await;
                    if then_cut && link.control.enabled() {
                        return;
                    }
                }
                Fault::Delay(delay) => {
                    if !link.delay_counted.swap(true, Ordering::SeqCst) {
                        link.control.count(|i| i.delayed += 1);
                    }
                    tokio::time::sleep(delay).await;
                }
                _ => {}
            }
        }
        while !chunk.is_empty() {
            match to.write(chunk).await {
                Ok(0) | Err(_) => return,
                Ok(k) => chunk = &chunk[k..],
            }
        }
    }
}
