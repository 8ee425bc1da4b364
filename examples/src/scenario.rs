//! The calls the example makes, in order, with the result each one returns:
//! the same with or without `#[instrument_errors]`, whatever happens to the
//! telemetry (the end-to-end tests check it while the collector is down,
//! slow, or restarted).

use crate::async_service::{self, Inventory};
use crate::store::Store;

/// The services one run of the scenario calls.
#[derive(Debug)]
pub struct Services {
    /// The store service.
    pub store: Store,
    /// The order service's stock.
    pub inventory: Inventory,
    runtime: tokio::runtime::Handle,
}

impl Services {
    /// Fresh services; the async calls run on `runtime` (with
    /// `Handle::block_on`, so call [`Step::run`] outside of async code).
    pub fn new(runtime: tokio::runtime::Handle) -> Services {
        Services {
            store: Store::new(),
            inventory: Inventory::new(),
            runtime,
        }
    }
}

/// One top-level call of the scenario.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// The call, as written in Rust.
    pub call: &'static str,
    /// Its result, formatted with `{:?}`.
    pub expected: &'static str,
    /// `true` for the order service's `async` calls.
    pub is_async: bool,
    run: fn(&Services) -> String,
}

impl Step {
    /// Makes the call on `services`; returns its result formatted with `{:?}`.
    pub fn run(&self, services: &Services) -> String {
        (self.run)(services)
    }
}

/// The scenario: every step must run in this order on the same [`Services`]
/// (the store is stateful).
pub const STEPS: [Step; 10] = [
    Step {
        call: r#"store.create("r-1", "first")"#,
        expected: "Ok(())",
        is_async: false,
        run: |s| format!("{:?}", s.store.create("r-1", "first")),
    },
    Step {
        call: r#"store.create("r-1", "again")"#,
        expected: "Err(AlreadyExists)",
        is_async: false,
        run: |s| format!("{:?}", s.store.create("r-1", "again")),
    },
    Step {
        call: r#"store.handle_get("r-1")"#,
        expected: r#"Ok("FIRST")"#,
        is_async: false,
        run: |s| format!("{:?}", s.store.handle_get("r-1")),
    },
    Step {
        call: r#"store.handle_get("r-2")"#,
        expected: "Err(NotFound)",
        is_async: false,
        run: |s| format!("{:?}", s.store.handle_get("r-2")),
    },
    Step {
        call: "store.health(200)",
        expected: "Ok(Health { status: 200 })",
        is_async: false,
        run: |s| format!("{:?}", s.store.health(200)),
    },
    Step {
        call: "store.health(503)",
        expected: "Ok(Health { status: 503 })",
        is_async: false,
        run: |s| format!("{:?}", s.store.health(503)),
    },
    Step {
        call: "store.health(0)",
        expected: "Err(TimedOut)",
        is_async: false,
        run: |s| format!("{:?}", s.store.health(0)),
    },
    Step {
        call: r#"place_order("book", 1).await"#,
        expected: "Ok(12)",
        is_async: true,
        run: |s| {
            let result = s
                .runtime
                .block_on(async_service::place_order(&s.inventory, "book", 1));
            format!("{result:?}")
        },
    },
    Step {
        call: r#"place_order("unicorn", 1).await"#,
        expected: "Err(NotFound)",
        is_async: true,
        run: |s| {
            let result = s
                .runtime
                .block_on(async_service::place_order(&s.inventory, "unicorn", 1));
            format!("{result:?}")
        },
    },
    Step {
        call: r#"place_order("piano", 1).await"#,
        expected: "Err(TimedOut)",
        is_async: true,
        run: |s| {
            let result = s
                .runtime
                .block_on(async_service::place_order(&s.inventory, "piano", 1));
            format!("{result:?}")
        },
    },
];
