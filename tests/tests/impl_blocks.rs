//! `#[instrument_errors(...)]` on `impl` blocks (issue 18): inherent, trait,
//! `#[async_trait]` (above and below the attribute), generic impls, every
//! kind of `self` receiver; the block's arguments as defaults, a method's own
//! arguments over them, `skip` and `const fn` left alone; names that tell
//! methods of different types apart (`Type::method`, and
//! `code.function.name` with the type); attribute expressions that do not
//! move parameters.

#![deny(warnings)]

use std::fmt;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use instrument_errors::{instrument_errors, ErrorType};
use instrument_errors_tests::{attr, error_description, telemetry};
use opentelemetry::trace::{SpanKind, Status};

#[derive(Debug, ErrorType)]
pub enum RepoError {
    Conflict,
    #[error_type("timeout")]
    TimedOut,
}

impl fmt::Display for RepoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "repo said {self:?}")
    }
}

fn is_conflict(e: &RepoError) -> bool {
    matches!(e, RepoError::Conflict)
}

fn string_attr(span: &opentelemetry_sdk::trace::SpanData, key: &str) -> Option<String> {
    attr(span, key).map(|v| v.as_str().into_owned())
}

pub mod collide {
    use super::{instrument_errors, RepoError};

    pub struct UserRepo {
        pub name: String,
    }
    pub struct OrderRepo;

    #[instrument_errors(kind = client, attributes("db.system.name" = "postgresql"))]
    impl UserRepo {
        pub fn insert(&self, id: u32) -> Result<u32, RepoError> {
            if id == 0 {
                return Err(RepoError::TimedOut);
            }
            Ok(id)
        }

        // The method's own arguments over the block's, argument by argument:
        // `kind` stays `client`, `attributes` are the method's.
        #[instrument_errors(name = "users.rename", attributes("user.name" = name))]
        pub fn rename(&mut self, name: String) -> Result<String, RepoError> {
            // `name` is still usable: the attribute borrowed it.
            self.name.clone_from(&name);
            Ok(name)
        }

        #[instrument_errors(ok_if = super::is_conflict)]
        pub fn upsert(&self, conflict: bool) -> Result<(), RepoError> {
            if conflict {
                Err(RepoError::Conflict)
            } else {
                Ok(())
            }
        }

        #[instrument_errors(skip)]
        pub fn skipped(&self) -> usize {
            self.name.len()
        }

        pub const fn constant() -> u8 {
            7
        }

        // Every receiver.
        pub fn by_value(self) -> String {
            self.name
        }
        pub fn boxed(self: Box<Self>) -> usize {
            self.name.len()
        }
        pub fn shared(self: std::sync::Arc<Self>) -> usize {
            self.name.len()
        }
        pub fn counted(self: std::rc::Rc<Self>) -> usize {
            self.name.len()
        }
        pub fn pinned(self: std::pin::Pin<&mut Self>) -> usize {
            self.name.len()
        }
        pub fn associated() -> u8 {
            1
        }
    }

    #[instrument_errors(kind = client)]
    impl OrderRepo {
        #[allow(clippy::unused_self)]
        pub fn insert(&self, id: u32) -> Result<u32, RepoError> {
            Ok(id + 1)
        }
    }
}

pub trait Store {
    fn get(&self, id: u32) -> Result<u32, RepoError>;
    fn describe(&self) -> String {
        "store".to_owned()
    }
}

pub struct Memory;

#[instrument_errors(log_level = error)]
impl Store for Memory {
    fn get(&self, id: u32) -> Result<u32, RepoError> {
        if id == 0 {
            Err(RepoError::TimedOut)
        } else {
            Ok(id)
        }
    }
}

pub struct Wrapper<T>(pub T);

#[instrument_errors]
impl<T: Clone + fmt::Debug> Wrapper<T> {
    pub fn get(&self) -> T {
        self.0.clone()
    }
    pub async fn get_async(&self) -> &T {
        &self.0
    }
}

/// A blanket impl: the trait names the methods.
pub trait Describe {
    fn describe_it(&self) -> String;
}

#[instrument_errors]
impl<T: fmt::Debug> Describe for T {
    fn describe_it(&self) -> String {
        format!("{self:?}")
    }
}

#[async_trait::async_trait]
pub trait AsyncStore {
    async fn load(&self, id: u32) -> Result<u32, RepoError>;
}

pub struct Above;
pub struct Below;

#[async_trait::async_trait]
#[instrument_errors(kind = server)]
impl AsyncStore for Above {
    async fn load(&self, id: u32) -> Result<u32, RepoError> {
        tokio::task::yield_now().await;
        if id == 0 {
            Err(RepoError::TimedOut)
        } else {
            Ok(id)
        }
    }
}

#[instrument_errors(kind = server)]
#[async_trait::async_trait]
impl AsyncStore for Below {
    async fn load(&self, id: u32) -> Result<u32, RepoError> {
        tokio::task::yield_now().await;
        if id == 0 {
            Err(RepoError::TimedOut)
        } else {
            Ok(id)
        }
    }
}

#[test]
fn methods_of_different_types_get_their_own_names() {
    use collide::{OrderRepo, UserRepo};
    let t = telemetry();
    let users = UserRepo { name: "a".into() };
    assert_eq!(users.insert(1).ok(), Some(1));
    assert!(users.insert(0).is_err());
    assert_eq!(OrderRepo.insert(1).ok(), Some(2));

    // (`alone::UserRepo::insert` has the same span name, in another module.)
    let spans: Vec<_> = t
        .spans_named("UserRepo::insert")
        .into_iter()
        .filter(|s| {
            string_attr(s, "code.function.name").as_deref()
                == Some("impl_blocks::collide::UserRepo::insert")
        })
        .collect();
    assert_eq!(spans.len(), 2);
    for span in &spans {
        assert_eq!(span.span_kind, SpanKind::Client);
        assert_eq!(
            string_attr(span, "db.system.name").as_deref(),
            Some("postgresql")
        );
    }
    assert_eq!(spans[0].status, Status::Unset);
    assert_eq!(
        string_attr(&spans[1], "error.type").as_deref(),
        Some("timeout")
    );
    assert_eq!(
        error_description(&spans[1]).as_deref(),
        Some("repo said TimedOut")
    );
    let orders: Vec<_> = t
        .spans_named("OrderRepo::insert")
        .into_iter()
        .filter(|s| {
            string_attr(s, "code.function.name").as_deref()
                == Some("impl_blocks::collide::OrderRepo::insert")
        })
        .collect();
    assert_eq!(orders.len(), 1);
    // Two duration series, not one.
    let users_points = t.points(
        "function.duration",
        &[(
            "code.function.name",
            "impl_blocks::collide::UserRepo::insert",
        )],
    );
    assert_eq!(users_points.iter().map(|p| p.count).sum::<u64>(), 2);
    let order_points = t.points(
        "function.duration",
        &[(
            "code.function.name",
            "impl_blocks::collide::OrderRepo::insert",
        )],
    );
    assert_eq!(order_points.iter().map(|p| p.count).sum::<u64>(), 1);
    // The exception record is named after the span.
    let logs = t.logs_named("UserRepo::insert.exception");
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].get("exception.type"), Some("timeout"));
    assert_eq!(
        logs[0].get("code.function.name"),
        Some("impl_blocks::collide::UserRepo::insert")
    );
}

#[test]
fn method_arguments_override_the_block_one_by_one() {
    let t = telemetry();
    let mut users = collide::UserRepo { name: "a".into() };
    let name = String::from("bob");
    assert_eq!(users.rename(name).ok().as_deref(), Some("bob"));
    assert_eq!(users.name, "bob");
    let span = t.span("users.rename");
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(string_attr(&span, "user.name").as_deref(), Some("bob"));
    assert_eq!(string_attr(&span, "db.system.name"), None);
    assert_eq!(
        string_attr(&span, "code.function.name").as_deref(),
        Some("impl_blocks::collide::UserRepo::rename")
    );

    assert!(users.upsert(true).is_err());
    let span = t.span("UserRepo::upsert");
    assert_eq!(span.status, Status::Unset);
    assert_eq!(string_attr(&span, "error.type"), None);
    assert_eq!(t.logs_named("UserRepo::upsert.exception").len(), 1);
}

#[test]
fn skip_and_const_fn_are_left_alone_and_every_receiver_works() {
    use collide::UserRepo;
    let t = telemetry();
    let repo = || UserRepo { name: "abc".into() };
    assert_eq!(repo().skipped(), 3);
    assert_eq!(t.spans_named("UserRepo::skipped").len(), 0);
    const SEVEN: u8 = UserRepo::constant();
    assert_eq!(SEVEN, 7);
    assert_eq!(t.spans_named("UserRepo::constant").len(), 0);

    assert_eq!(repo().by_value(), "abc");
    assert_eq!(Box::new(repo()).boxed(), 3);
    assert_eq!(Arc::new(repo()).shared(), 3);
    assert_eq!(Rc::new(repo()).counted(), 3);
    let mut pinned = repo();
    assert_eq!(Pin::new(&mut pinned).pinned(), 3);
    assert_eq!(UserRepo::associated(), 1);
    for method in [
        "by_value",
        "boxed",
        "shared",
        "counted",
        "pinned",
        "associated",
    ] {
        let span = t.span(&format!("UserRepo::{method}"));
        assert_eq!(
            string_attr(&span, "code.function.name"),
            Some(format!("impl_blocks::collide::UserRepo::{method}"))
        );
    }
}

#[test]
fn trait_impls_generic_impls_and_blanket_impls() {
    let t = telemetry();
    assert!(Memory.get(0).is_err());
    assert_eq!(Memory.describe(), "store");
    let span = t.span("Memory::get");
    assert_eq!(string_attr(&span, "error.type").as_deref(), Some("timeout"));
    assert_eq!(
        string_attr(&span, "code.function.name").as_deref(),
        Some("impl_blocks::Memory::get")
    );
    let logs = t.logs_named("Memory::get.exception");
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].severity, Some(opentelemetry::logs::Severity::Error));
    // The default method has no body in the impl: not instrumented.
    assert_eq!(t.spans_named("Memory::describe").len(), 0);

    assert_eq!(Wrapper(5u8).get(), 5);
    assert_eq!(Wrapper("x").get(), "x");
    let spans = t.spans_named("Wrapper::get");
    assert_eq!(spans.len(), 2);
    for span in spans {
        assert_eq!(
            string_attr(&span, "code.function.name").as_deref(),
            Some("impl_blocks::Wrapper::get")
        );
    }
    let value = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(async { *Wrapper(9u16).get_async().await });
    assert_eq!(value, 9);
    assert_eq!(t.spans_named("Wrapper::get_async").len(), 1);

    assert_eq!(3u8.describe_it(), "3");
    let span = t.span("Describe::describe_it");
    assert_eq!(
        string_attr(&span, "code.function.name").as_deref(),
        Some("impl_blocks::Describe::describe_it")
    );
}

#[tokio::test]
async fn async_trait_impls_in_both_orders() {
    let t = telemetry();
    assert_eq!(Above.load(1).await.ok(), Some(1));
    assert!(Above.load(0).await.is_err());
    assert_eq!(Below.load(1).await.ok(), Some(1));
    assert!(Below.load(0).await.is_err());
    for owner in ["Above", "Below"] {
        let spans = t.spans_named(&format!("{owner}::load"));
        assert_eq!(spans.len(), 2, "{owner}");
        assert_eq!(spans[0].status, Status::Unset);
        assert_eq!(spans[0].span_kind, SpanKind::Server);
        assert_eq!(
            string_attr(&spans[1], "error.type").as_deref(),
            Some("timeout")
        );
        assert_eq!(
            string_attr(&spans[1], "code.function.name"),
            Some(format!("impl_blocks::{owner}::load"))
        );
        assert_eq!(t.logs_named(&format!("{owner}::load.exception")).len(), 1);
    }
}

pub mod alone {
    use super::{instrument_errors, RepoError};

    pub struct UserRepo;
    pub struct OrderRepo;

    impl UserRepo {
        #[allow(clippy::unused_self)]
        #[instrument_errors(metric = "alone.insert.duration")]
        pub fn insert(&self, id: u32) -> Result<u32, RepoError> {
            Ok(id)
        }
    }

    impl OrderRepo {
        #[allow(clippy::unused_self)]
        #[instrument_errors]
        pub fn insert(&self, id: u32) -> Result<u32, RepoError> {
            Ok(id)
        }

        /// No receiver, but the signature names `Self`: an associated
        /// function, named after its type too.
        #[instrument_errors]
        pub fn open(id: u32) -> Result<Self, RepoError> {
            if id == 0 {
                Err(RepoError::TimedOut)
            } else {
                Ok(OrderRepo)
            }
        }
    }

    /// A default method: one function, a name per implementor.
    pub trait Audited {
        #[instrument_errors]
        fn audit(&self) -> Result<(), RepoError> {
            Ok(())
        }

        /// Fails for every implementor: one event name per implementor.
        #[instrument_errors]
        fn check(&self) -> Result<(), RepoError> {
            Err(RepoError::TimedOut)
        }
    }
    impl Audited for UserRepo {}
    impl Audited for OrderRepo {}

    #[instrument_errors(name = "alone.store")]
    fn store() -> Result<(), RepoError> {
        Err(RepoError::Conflict)
    }

    pub struct Service;

    impl Service {
        /// Accepts the store's conflict: its record is emitted at `DEBUG`
        /// as this method's event, named after the type.
        #[allow(clippy::unused_self)]
        #[instrument_errors(ok_if = super::is_conflict, handled_attribute = "service.handled")]
        pub fn put(&self) -> Result<(), RepoError> {
            store()
        }
    }
}

#[test]
fn records_of_methods_annotated_alone_are_named_after_the_type() {
    use alone::{Audited as _, OrderRepo, Service, UserRepo};
    let t = telemetry();
    assert!(UserRepo.check().is_err());
    assert!(OrderRepo.check().is_err());
    assert!(OrderRepo.check().is_err());
    assert!(t.logs_named("check.exception").is_empty());
    for (owner, calls) in [("UserRepo", 1), ("OrderRepo", 2)] {
        let logs = t.logs_named(&format!("{owner}::check.exception"));
        assert_eq!(logs.len(), calls, "{owner}: {logs:?}");
        for log in logs {
            assert_eq!(log.severity, Some(opentelemetry::logs::Severity::Warn));
            assert_eq!(
                log.get("code.function.name"),
                Some(format!("impl_blocks::alone::{owner}::check").as_str())
            );
            assert_eq!(
                log.body.as_deref(),
                Some(format!("{owner}::check failed: repo said TimedOut").as_str())
            );
            // Tied to that call's span.
            let span = t
                .spans_named(&format!("{owner}::check"))
                .into_iter()
                .find(|s| Some(s.span_context.span_id()) == log.span_id);
            assert!(span.is_some(), "{log:?}");
        }
    }

    // A handled error: one record, the store's, as the accepting method's
    // `DEBUG` event, named after its type.
    assert!(matches!(Service.put(), Err(RepoError::Conflict)));
    assert!(t.logs_named("alone.store.exception").is_empty());
    assert!(t.logs_named("put.exception").is_empty());
    let logs = t.logs_named("Service::put.exception");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].severity, Some(opentelemetry::logs::Severity::Debug));
    assert_eq!(
        logs[0].get("code.function.name"),
        Some("impl_blocks::alone::store")
    );
    assert_eq!(logs[0].get("service.handled"), Some("conflict"));
    assert_eq!(
        logs[0].body.as_deref(),
        Some("alone.store failed: repo said Conflict")
    );
}

#[test]
fn methods_annotated_alone_are_named_after_self() {
    use alone::{Audited as _, OrderRepo, UserRepo};
    let t = telemetry();
    assert!(UserRepo.insert(1).is_ok());
    assert!(OrderRepo.insert(2).is_ok());
    assert!(UserRepo.audit().is_ok());
    assert!(OrderRepo.audit().is_ok());
    assert!(OrderRepo.audit().is_ok());
    // The attribute does not see the type when it expands: the span name
    // (`Type::method`) and `code.function.name` are completed at run time,
    // once per type.
    for owner in ["UserRepo", "OrderRepo"] {
        let names: Vec<String> = t
            .spans_named(&format!("{owner}::insert"))
            .iter()
            .filter_map(|s| string_attr(s, "code.function.name"))
            .filter(|n| n.starts_with("impl_blocks::alone::"))
            .collect();
        assert_eq!(names, [format!("impl_blocks::alone::{owner}::insert")]);
    }
    assert!(t
        .spans_named("insert")
        .iter()
        .filter_map(|s| string_attr(s, "code.function.name"))
        .all(|n| !n.starts_with("impl_blocks::alone::")));
    assert!(OrderRepo::open(1).is_ok());
    assert!(OrderRepo::open(0).is_err());
    let opens = t.spans_named("OrderRepo::open");
    assert_eq!(opens.len(), 2);
    for span in &opens {
        assert_eq!(
            string_attr(span, "code.function.name").as_deref(),
            Some("impl_blocks::alone::OrderRepo::open")
        );
    }
    // The exception record is named after the span name completed at run
    // time, `<span name>.exception`, like every record.
    assert!(t.logs_named("open.exception").is_empty());
    let logs = t.logs_named("OrderRepo::open.exception");
    assert_eq!(logs.len(), 1);
    assert_eq!(
        logs[0].get("code.function.name"),
        Some("impl_blocks::alone::OrderRepo::open")
    );
    assert_eq!(
        logs[0].body.as_deref(),
        Some("OrderRepo::open failed: repo said TimedOut")
    );
    for (owner, calls) in [("UserRepo", 1), ("OrderRepo", 2)] {
        let function = format!("impl_blocks::alone::{owner}::audit");
        let points = t.points("function.duration", &[("code.function.name", &function)]);
        assert_eq!(
            points.iter().map(|p| p.count).sum::<u64>(),
            calls,
            "{owner}"
        );
    }
    assert_eq!(
        t.points(
            "function.duration",
            &[(
                "code.function.name",
                "impl_blocks::alone::OrderRepo::insert"
            )]
        )
        .iter()
        .map(|p| p.count)
        .sum::<u64>(),
        1
    );
}
