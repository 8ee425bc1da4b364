//! The async part of the example: a small order service on tokio whose
//! instrumented `async fn`s call each other.
//!
//! * `place_order("book")` succeeds: three spans (order > reserve, charge),
//!   status Unset, three duration points without `error.type`.
//! * `place_order("unicorn")` fails in `reserve` with `NotFound`, which
//!   propagates with `?`: both spans have `error.type = "not_found"`; one
//!   exception log record, from `reserve`.
//! * `place_order("piano")`: `charge` is slow and `tokio::time::timeout`
//!   drops it after 50ms. The cancelled `charge` span ends with status Unset
//!   and no `error.type`, and records no duration (it never finished); the
//!   order fails with `error.type = "timeout"`.
//!
//! Spans and clocks start when a future is first polled, and every span is
//! the current OpenTelemetry context while its future is polled, so the
//! nesting holds whichever worker thread polls it.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use instrument_errors::{instrument_errors, ErrorType};
use tokio::sync::Mutex;

/// Errors of the order service.
#[derive(Debug, Clone, PartialEq, Eq, ErrorType)]
pub enum OrderError {
    /// The payment provider did not answer in time: `error.type = "timeout"`.
    #[error_type("timeout")]
    TimedOut,
    /// No such item: `error.type = "not_found"`.
    NotFound,
    /// Not enough items: `error.type = "out_of_stock"`.
    OutOfStock,
}

impl fmt::Display for OrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OrderError::TimedOut => "the payment provider did not answer within 50ms",
            OrderError::NotFound => "no such item",
            OrderError::OutOfStock => "not enough items in stock",
        })
    }
}

impl std::error::Error for OrderError {}

/// Items in stock, behind an async lock: 3 books and 1 piano.
#[derive(Debug)]
pub struct Inventory {
    stock: Mutex<HashMap<&'static str, u32>>,
}

impl Default for Inventory {
    fn default() -> Self {
        Inventory::new()
    }
}

// On the `impl` block: every method is instrumented with these arguments
// (`kind = client`), named `Inventory::<method>` with
// `code.function.name` = `instrument_errors_examples::async_service::Inventory::<method>`,
// unless it says otherwise.
#[instrument_errors(kind = client)]
impl Inventory {
    /// A fresh inventory: 3 books and 1 piano.
    #[instrument_errors(skip)]
    pub fn new() -> Self {
        let stock = HashMap::from([("book", 3), ("piano", 1)]);
        Inventory {
            stock: Mutex::new(stock),
        }
    }

    /// Takes `count` items out of the stock; returns their unit price.
    #[instrument_errors(
        name = "shop.inventory.reserve",
        attributes("shop.item" = item, "shop.count" = i64::from(count)),
    )]
    pub async fn reserve(&self, item: &str, count: u32) -> Result<u32, OrderError> {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let mut stock = self.stock.lock().await;
        let left = stock.get_mut(item).ok_or(OrderError::NotFound)?;
        *left = left.checked_sub(count).ok_or(OrderError::OutOfStock)?;
        Ok(if item == "piano" { 5_000 } else { 12 })
    }
}

/// Charges the customer. Large amounts take the payment provider a long time.
#[instrument_errors(name = "shop.payment.charge", kind = client)]
pub async fn charge(amount: u32) -> Result<(), OrderError> {
    let delay = if amount > 1_000 { 2_000 } else { 10 };
    tokio::time::sleep(Duration::from_millis(delay)).await;
    Ok(())
}

/// Places an order: reserves the items, then charges within 50ms.
#[instrument_errors(
    name = "shop.order.place",
    kind = server,
    metric = "shop.order.place.duration",
    attributes("shop.item" = item.to_owned()),
)]
pub async fn place_order(inventory: &Inventory, item: &str, count: u32) -> Result<u32, OrderError> {
    let price = inventory.reserve(item, count).await?;
    let total = price * count;
    tokio::time::timeout(Duration::from_millis(50), charge(total))
        .await
        .map_err(|_elapsed| OrderError::TimedOut)??;
    Ok(total)
}
