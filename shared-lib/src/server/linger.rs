//! The lingering close every connection of [`super::serve`] ends with, as
//! nginx does: after the server's last answer (a 413 sent without reading
//! the body, say) it sends FIN, then reads and discards what the client is
//! still sending, for at most [`LINGER_TIME`] and [`LINGER_BYTES`], before
//! it closes. Closing with unread data would make the kernel send a reset,
//! and a client that writes its whole body before reading (Python's
//! urllib, many HTTP libraries) would get `Broken pipe` or `Connection
//! reset` instead of the 413.

use std::time::Duration;

/// The longest a closing connection keeps reading what the client still
/// sends after the server's last answer.
pub const LINGER_TIME: Duration = Duration::from_secs(5);

/// The most a closing connection reads and discards after the server's
/// last answer (a body a few times over the 64 KiB limit, comfortably).
pub const LINGER_BYTES: usize = 32 * 1024 * 1024;

/// A connection's socket that closes with a lingering close when hyper is
/// done with it (see the module docs).
pub(crate) struct Lingering(Option<tokio::net::TcpStream>);

impl Lingering {
    pub(crate) fn new(stream: tokio::net::TcpStream) -> Self {
        Lingering(Some(stream))
    }

    fn stream(
        self: std::pin::Pin<&mut Self>,
    ) -> std::io::Result<std::pin::Pin<&mut tokio::net::TcpStream>> {
        match self.get_mut().0.as_mut() {
            Some(stream) => Ok(std::pin::Pin::new(stream)),
            None => Err(std::io::Error::from(std::io::ErrorKind::NotConnected)),
        }
    }
}

macro_rules! delegate {
    ($self:ident, $cx:ident, $call:ident $(, $arg:expr)*) => {
        match $self.stream() {
            Ok(stream) => stream.$call($cx $(, $arg)*),
            Err(err) => std::task::Poll::Ready(Err(err)),
        }
    };
}

impl tokio::io::AsyncRead for Lingering {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        delegate!(self, cx, poll_read, buf)
    }
}

impl tokio::io::AsyncWrite for Lingering {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        delegate!(self, cx, poll_write, buf)
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        delegate!(self, cx, poll_write_vectored, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        delegate!(self, cx, poll_flush)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        delegate!(self, cx, poll_shutdown)
    }
}

impl Drop for Lingering {
    fn drop(&mut self) {
        if let Some(stream) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(linger(stream));
        }
    }
}

/// Sends FIN, then reads and discards until the client closes, for at most
/// [`LINGER_TIME`] and [`LINGER_BYTES`]; the socket closes when it returns.
async fn linger(mut stream: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = stream.shutdown().await;
    let deadline = tokio::time::Instant::now() + LINGER_TIME;
    let mut buf = vec![0u8; 16 * 1024];
    let mut left = LINGER_BYTES;
    while left > 0 {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => left = left.saturating_sub(n),
            _ => break,
        }
    }
}
