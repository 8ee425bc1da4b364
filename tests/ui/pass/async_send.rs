//! An instrumented future that was `Send` stays `Send`: it can be spawned on a
//! multi-thread tokio runtime (`tokio::spawn` requires `Send + 'static`), as
//! can the boxed future of an `#[async_trait]` method (which async_trait
//! requires to be `Send`).

use std::future::Future;
use std::time::Duration;

use instrument_errors::instrument_errors;

#[derive(Debug)]
struct Failed;

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("failed")
    }
}

#[instrument_errors]
async fn fetch(id: u32) -> Result<u32, Failed> {
    tokio::time::sleep(Duration::from_millis(1)).await;
    tokio::task::yield_now().await;
    if id == 0 {
        Err(Failed)
    } else {
        Ok(id)
    }
}

#[instrument_errors(attributes("id" = i64::from(id)))]
fn fetch_later(id: u32) -> impl Future<Output = Result<u32, Failed>> + Send {
    async move { fetch(id).await }
}

#[async_trait::async_trait]
trait Repo: Send + Sync {
    async fn get(&self, id: u32) -> Result<u32, Failed>;
}

struct Memory(std::sync::Mutex<u32>);

#[async_trait::async_trait]
impl Repo for Memory {
    #[instrument_errors(kind = client)]
    async fn get(&self, id: u32) -> Result<u32, Failed> {
        let base = *self.0.lock().unwrap();
        tokio::task::yield_now().await;
        fetch(id + base).await
    }
}

fn assert_send<T: Send>(value: T) -> T {
    value
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let repo: std::sync::Arc<dyn Repo> = std::sync::Arc::new(Memory(std::sync::Mutex::new(1)));
        let a = tokio::spawn(fetch(1));
        let b = tokio::spawn(fetch_later(2));
        let c = tokio::spawn(async move { repo.get(2).await });
        let d = tokio::spawn(assert_send(fetch(0)));
        assert_eq!(a.await.unwrap().unwrap(), 1);
        assert_eq!(b.await.unwrap().unwrap(), 2);
        assert_eq!(c.await.unwrap().unwrap(), 3);
        assert!(d.await.unwrap().is_err());
    });
}
