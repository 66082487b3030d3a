//! Opening a listening socket with a backlog sized for bursts: connections
//! the accept loop has not taken yet wait in the kernel's queue, whose
//! length std and tokio leave at 128. Past it, new clients' SYNs are
//! dropped and they retry after a second or more; a burst of a thousand
//! connections (a large provider's retry queue, or a flood) should queue,
//! not stall. The kernel caps it further at `net.core.somaxconn`.

use tokio::net::{TcpListener, TcpSocket};

/// The accept queue asked for.
pub const BACKLOG: u32 = 1024;

/// Listens on `address` (`host:port`; the first address it resolves to).
pub async fn bind(address: &str) -> std::io::Result<TcpListener> {
    let mut last = None;
    for at in tokio::net::lookup_host(address).await? {
        let socket = match at {
            std::net::SocketAddr::V4(_) => TcpSocket::new_v4()?,
            std::net::SocketAddr::V6(_) => TcpSocket::new_v6()?,
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(at).and_then(|()| socket.listen(BACKLOG)) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            format!("{address} resolves to no address"),
        )
    }))
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn listens_where_asked() {
        let listener = super::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let at = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        assert!(at.ip().is_loopback() && at.port() != 0);
        assert!(super::bind("no-such-host.invalid:25").await.is_err());
    }
}
