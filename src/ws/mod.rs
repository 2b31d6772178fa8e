//! WebSockets: the upgrade handshake, the Python-facing channel, and the frame pump.
//!
//! - `upgrade`: recognises an upgrade request, finds the WebSocket route, calls the Python
//!   endpoint, and answers the handshake (101, 403 before `accept`, 500 on failure) with
//!   what the handler decided;
//! - `channel`: `WebSocketChannel`, the object the Python `WebSocket` wraps: `accept`,
//!   `receive`, `send_text`/`send_bytes` and `close` return awaitables the stepper drives;
//! - `pump`: one Tokio task per open socket on the worker that accepted it: tungstenite does
//!   the framing, masking, fragmentation, UTF-8 checks and the close handshake; the pump
//!   answers pings, sends its own, enforces the idle timeout and maps protocol failures to
//!   close codes (1002, 1007, 1009);
//! - `open`: the server's open sockets, closed with 1012 at shutdown and waited for by the drain.
//!
//! The upgraded IO is hyper's `Upgraded`, which erases the stream type: plain TCP or TLS
//! serve WebSockets alike.

use std::time::Duration;

use pyo3::prelude::*;

mod channel;
mod open;
mod pump;
mod upgrade;

pub(crate) use open::OpenSockets;
pub(crate) use upgrade::{is_upgrade, serve};

/// Per-socket limits, the same for every WebSocket a server serves (`serve()`'s `ws_*`
/// options; defaults 16 MiB, 60 s, 20 s).
#[derive(Clone, Debug)]
pub(crate) struct WsLimits {
    /// Largest message (and frame) a client may send, in bytes; beyond it the socket closes
    /// with 1009.
    pub(crate) max_message: usize,
    /// Close the socket (1011) when nothing arrives from the client for this long.
    pub(crate) idle_timeout: Option<Duration>,
    /// Send a ping this often, so live clients keep the socket out of the idle timeout.
    pub(crate) ping_interval: Option<Duration>,
}

pub(crate) fn init_pymodule(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<channel::WebSocketChannel>()
}
