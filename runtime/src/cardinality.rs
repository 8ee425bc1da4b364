//! Bounding the number of distinct `error.type` values per operation.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use opentelemetry::{StringValue, Value};

/// How many distinct computed (`String`) `error.type` values one operation
/// records; past it, new values are recorded as [`OTHER`].
///
/// Values that are `&'static str` (from `#[derive(ErrorType)]`, type names,
/// string literals) are a bounded set by construction and are not counted.
pub const ERROR_TYPE_LIMIT: usize = 64;

/// The semantic conventions' fallback `error.type` value.
pub const OTHER: &str = "_OTHER";

/// The longest `error.type` value kept; longer computed values count as [`OTHER`].
pub const ERROR_TYPE_MAX_LEN: usize = 256;

/// The set of computed `error.type` values one call site has admitted.
#[derive(Debug, Default)]
pub(crate) struct ErrorTypes {
    seen: Mutex<HashSet<Arc<str>>>,
}

impl ErrorTypes {
    pub(crate) fn new() -> Self {
        ErrorTypes::default()
    }

    /// The value to record for `error_type`: itself while the limit allows,
    /// else `_OTHER`. Only computed values take the lock, and only on failure.
    pub(crate) fn admit(&self, error_type: Cow<'static, str>) -> Value {
        match error_type {
            Cow::Borrowed(s) => Value::from(s),
            Cow::Owned(s) => Value::String(self.admit_owned(s)),
        }
    }

    fn admit_owned(&self, s: String) -> StringValue {
        if s.len() > ERROR_TYPE_MAX_LEN {
            return StringValue::from(OTHER);
        }
        let Ok(mut seen) = self.seen.lock() else {
            return StringValue::from(OTHER);
        };
        if let Some(known) = seen.get(s.as_str()) {
            return StringValue::from(Arc::clone(known));
        }
        if seen.len() >= ERROR_TYPE_LIMIT {
            return StringValue::from(OTHER);
        }
        let value: Arc<str> = Arc::from(s);
        seen.insert(Arc::clone(&value));
        StringValue::from(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_values_pass_unchecked() {
        let types = ErrorTypes::new();
        for _ in 0..(ERROR_TYPE_LIMIT * 2) {
            assert_eq!(types.admit(Cow::Borrowed("timeout")).as_str(), "timeout");
        }
        assert!(types.seen.lock().unwrap().is_empty());
    }

    #[test]
    fn computed_values_are_bounded() {
        let types = ErrorTypes::new();
        for i in 0..ERROR_TYPE_LIMIT {
            assert_eq!(
                types.admit(Cow::Owned(format!("e{i}"))).as_str(),
                format!("e{i}")
            );
        }
        assert_eq!(types.admit(Cow::Owned("new".into())).as_str(), OTHER);
        // values admitted before the limit keep being recorded as themselves
        assert_eq!(types.admit(Cow::Owned("e3".into())).as_str(), "e3");
        assert_eq!(
            types
                .admit(Cow::Owned("x".repeat(ERROR_TYPE_MAX_LEN + 1)))
                .as_str(),
            OTHER
        );
    }
}
