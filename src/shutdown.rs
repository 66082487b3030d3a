//! Graceful shutdown: SIGINT or SIGTERM ends the services after the work
//! under way is done (a batch written and committed, an IMAP round settled).

use tokio::sync::watch;

/// Resolves on SIGINT or SIGTERM.
pub async fn signalled() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

/// A stop flag that turns true on SIGINT or SIGTERM (call inside the runtime).
pub fn on_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        signalled().await;
        tracing::info!("stopping: finishing the work under way");
        let _ = tx.send(true);
    });
    rx
}

/// Resolves once `stop` is true.
pub async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
