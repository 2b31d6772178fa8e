//! The frame pump: one Tokio task per open WebSocket, on the worker that accepted it.
//!
//! It reads frames into the inbound queue and writes the outbound queue to the socket,
//! flushing once per batch. tungstenite decodes and checks the frames (masking, control-frame
//! rules, fragments joined up to the size limit, UTF-8 of text and close reasons) and queues
//! the pong for each ping and the reply to the client's close frame, which the next read
//! flushes. What tungstenite reports as an error ends the socket with the RFC 6455 close code
//! for it (1002 protocol error, 1007 invalid UTF-8, 1009 too big), sent to the client and
//! delivered to the handler. The pump also pings every `ping_interval` and closes with 1011
//! when nothing arrives for `idle_timeout`, and with 1012 (service restart, as uvicorn does)
//! when the server shuts down.
//!
//! Ending: after the handler's close frame the pump reads on (bounded by [`CLOSE_TIMEOUT`])
//! for the client's reply; after the client's, it returns once the reply is flushed. Either
//! way the connection closes when the task returns and drops the stream.

use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::sync::{mpsc, watch};
use tokio::time::{timeout, Instant, Interval};
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

use crate::ws::WsLimits;

type Stream = WebSocketStream<TokioIo<Upgraded>>;

/// Close code for a connection that ended without a close frame (never sent on the wire).
pub(crate) const ABNORMAL: u16 = 1006;

/// A message from the client, or the end of the connection, for the handler.
pub(crate) enum Inbound {
    Text(Utf8Bytes),
    Binary(Bytes),
    /// The connection ended: the client's close code and reason, or 1006 if it just went.
    Closed(u16, String),
}

/// What the handler sends.
pub(crate) enum Outbound {
    Message(Message),
    Close(u16, String),
}

/// Close code at server shutdown: 1012, service restart (uvicorn's, since 0.21).
const SERVICE_RESTART: u16 = 1012;

/// How long a closing side waits for the other's close frame (or for its own to be written).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// How the reading side ended.
enum End {
    /// The close handshake completed.
    Closed,
    /// The connection dropped without a close frame.
    Gone,
    /// A failure (or the shutdown) the client is told of with this close code and reason.
    Failed(u16, &'static str),
}

pub(crate) async fn run(
    ws: Stream,
    inbound: mpsc::Sender<Inbound>,
    mut outbound: mpsc::Receiver<Outbound>,
    limits: WsLimits,
    mut closing: watch::Receiver<bool>,
) {
    let (mut sink, mut stream) = ws.split();
    let ended = {
        let reader = read(&mut stream, &inbound, limits.idle_timeout);
        let writer = write(&mut sink, &mut outbound, limits.ping_interval);
        tokio::pin!(reader, writer);
        tokio::select! {
            end = &mut reader => Some(end),
            () = &mut writer => None,
            _ = closing.wait_for(|closing| *closing) => Some(End::Failed(SERVICE_RESTART, "")),
        }
    };
    match ended {
        // The handler's close frame is out (or the socket broke): read on for the reply.
        None => {
            let _ = timeout(CLOSE_TIMEOUT, async { while let Some(Ok(_)) = stream.next().await {} }).await;
        }
        Some(End::Closed) => {}
        Some(End::Gone) => {
            let _ = inbound.try_send(Inbound::Closed(ABNORMAL, String::new()));
        }
        Some(End::Failed(code, reason)) => {
            let _ = inbound.try_send(Inbound::Closed(code, reason.to_owned()));
            let _ = timeout(CLOSE_TIMEOUT, sink.send(close_message(code, reason))).await;
            // The server closes the TCP connection first (RFC 6455, 7.1.1): half-close it now,
            // so the client sees the end right after the close frame. tungstenite's stream is
            // over after the error, so the client's close reply cannot be awaited through it.
            // The client may still be sending what failed (the rest of a message over the size
            // limit), and closing with those bytes unread would reset the connection, which can
            // destroy the close frame before the client reads it: read them away until it closes.
            if let Ok(mut ws) = sink.reunite(stream) {
                let io = ws.get_mut();
                let _ = timeout(CLOSE_TIMEOUT, tokio::io::AsyncWriteExt::shutdown(io)).await;
                let _ = timeout(CLOSE_TIMEOUT, discard(io)).await;
            }
        }
    }
}

/// Reads and drops bytes until the client closes its side (or the socket fails).
async fn discard(io: &mut TokioIo<Upgraded>) {
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n) = tokio::io::AsyncReadExt::read(io, &mut buf).await {
        if n == 0 {
            break;
        }
    }
}

/// Client → inbound queue, until the connection ends. Waits for room in the queue before
/// reading on, so a handler that does not receive stops the reads (and the client's sends).
async fn read(stream: &mut SplitStream<Stream>, inbound: &mpsc::Sender<Inbound>, idle: Option<Duration>) -> End {
    // One timer for the socket's life, not one per message: when it fires early (frames came
    // meanwhile) it is moved to the current wait's deadline.
    let idle_timer = tokio::time::sleep(idle.unwrap_or(Duration::MAX / 4));
    tokio::pin!(idle_timer);
    loop {
        let waiting_since = Instant::now();
        let next = loop {
            tokio::select! {
                biased;
                next = stream.next() => break next,
                () = &mut idle_timer, if idle.is_some() => {
                    let deadline = waiting_since + idle.unwrap_or_default();
                    if Instant::now() >= deadline {
                        return End::Failed(1011, "idle timeout");
                    }
                    idle_timer.as_mut().reset(deadline);
                }
            }
        };
        let item = match next {
            None => return End::Closed,
            Some(Err(err)) => return end_for(err),
            Some(Ok(Message::Text(text))) => Inbound::Text(text),
            Some(Ok(Message::Binary(data))) => Inbound::Binary(data),
            Some(Ok(Message::Close(frame))) => {
                let (code, reason) = frame.map_or((1005, String::new()), |f| (f.code.into(), f.reason.to_string()));
                Inbound::Closed(code, reason)
            }
            // Pings are answered by tungstenite; pongs only show the client is alive.
            Some(Ok(_)) => continue,
        };
        // A handler that has finished takes no more messages; read on to the close.
        let _ = inbound.send(item).await;
    }
}

/// The RFC 6455 close code for what tungstenite reported.
fn end_for(err: WsError) -> End {
    match err {
        WsError::ConnectionClosed | WsError::AlreadyClosed => End::Closed,
        WsError::Io(_) | WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => End::Gone,
        WsError::Protocol(_) => End::Failed(1002, "protocol error"),
        WsError::Capacity(_) => End::Failed(1009, "message too big"),
        WsError::Utf8(_) => End::Failed(1007, "invalid UTF-8"),
        _ => End::Failed(1011, "internal error"),
    }
}

/// Outbound queue → client, flushing once per batch of queued messages; pings in between.
/// Returns once a close frame is out or the socket fails.
async fn write(sink: &mut SplitSink<Stream, Message>, outbound: &mut mpsc::Receiver<Outbound>, ping: Option<Duration>) {
    let mut pings = ping.map(|every| tokio::time::interval_at(Instant::now() + every, every));
    loop {
        let mut item = tokio::select! {
            item = outbound.recv() => item,
            () = tick(&mut pings) => {
                if sink.send(Message::Ping(Bytes::new())).await.is_err() {
                    return;
                }
                continue;
            }
        };
        loop {
            match item {
                Some(Outbound::Message(msg)) => {
                    if sink.feed(msg).await.is_err() {
                        return;
                    }
                }
                Some(Outbound::Close(code, reason)) => {
                    let _ = sink.send(close_message(code, &reason)).await;
                    return;
                }
                // Every sender is gone without a close: a normal closure.
                None => {
                    let _ = sink.send(close_message(1000, "")).await;
                    return;
                }
            }
            match outbound.try_recv() {
                Ok(more) => item = Some(more),
                Err(_) => break,
            }
        }
        if sink.flush().await.is_err() {
            return;
        }
    }
}

async fn tick(pings: &mut Option<Interval>) {
    match pings {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// A close frame; the reason is cut to the 123 bytes a control frame leaves it.
fn close_message(code: u16, reason: &str) -> Message {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Message::Close(Some(CloseFrame { code: code.into(), reason: reason[..end].into() }))
}
