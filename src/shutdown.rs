//! Graceful shutdown: SIGINT or SIGTERM ends the services after the work
//! under way is done (a batch written and committed, an IMAP round settled).

use std::sync::Arc;

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

/// A stop flag that turns true on SIGINT or SIGTERM, or when the holder
/// sends `true` itself (call inside the runtime).
pub fn on_signal() -> Arc<watch::Sender<bool>> {
    let stop = Arc::new(watch::channel(false).0);
    let signalled_stop = stop.clone();
    tokio::spawn(async move {
        signalled().await;
        tracing::info!("stopping: finishing the work under way");
        let _ = signalled_stop.send(true);
    });
    stop
}

/// Resolves once `stop` is true.
pub async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
