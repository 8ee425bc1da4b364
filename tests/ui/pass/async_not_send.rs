//! A `!Send` future (an `Rc` held across an `.await`) still compiles under
//! `#[instrument_errors]` where it compiled without it, and runs where `!Send`
//! futures run: a `LocalSet` and `block_on` on a current-thread runtime.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use instrument_errors::instrument_errors;

#[instrument_errors]
async fn count(counter: Rc<RefCell<u32>>) -> Result<u32, std::io::Error> {
    let held = Rc::clone(&counter);
    tokio::task::yield_now().await;
    *held.borrow_mut() += 1;
    let value = *held.borrow();
    Ok(value)
}

#[instrument_errors]
fn count_later(counter: Rc<RefCell<u32>>) -> impl Future<Output = Result<u32, std::io::Error>> {
    async move {
        tokio::task::yield_now().await;
        count(counter).await
    }
}

#[async_trait::async_trait(?Send)]
trait LocalRepo {
    async fn bump(&self) -> Result<u32, std::io::Error>;
}

struct Local(Rc<RefCell<u32>>);

#[async_trait::async_trait(?Send)]
impl LocalRepo for Local {
    #[instrument_errors]
    async fn bump(&self) -> Result<u32, std::io::Error> {
        let held = Rc::clone(&self.0);
        tokio::task::yield_now().await;
        count(held).await
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let counter = Rc::new(RefCell::new(0));
    assert_eq!(runtime.block_on(count(Rc::clone(&counter))).unwrap(), 1);
    let local = tokio::task::LocalSet::new();
    let spawned = local.spawn_local(count_later(Rc::clone(&counter)));
    local.block_on(&runtime, async {
        assert_eq!(spawned.await.unwrap().unwrap(), 2);
        assert_eq!(Local(Rc::clone(&counter)).bump().await.unwrap(), 3);
    });
    assert_eq!(*counter.borrow(), 3);
}
