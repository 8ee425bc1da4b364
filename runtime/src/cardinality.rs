//! Bounding the number of distinct `error.type` values per operation.

use std::borrow::Cow;
use std::sync::{Mutex, OnceLock};

#[cfg(test)]
use opentelemetry::Value;

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
///
/// Admitted values live in [`ERROR_TYPE_LIMIT`] write-once slots, allocated
/// at the first computed value. Recording a value already admitted (or one
/// refused because the slots are full) only reads them: no lock is taken and
/// no shared memory is written, so failures on many threads do not contend.
/// Only admitting a new value, at most [`ERROR_TYPE_LIMIT`] times in the life
/// of a call site, takes a lock.
#[derive(Debug, Default)]
pub(crate) struct ErrorTypes {
    slots: OnceLock<Box<[OnceLock<Box<str>>]>>,
    admitting: Mutex<()>,
}

impl ErrorTypes {
    pub(crate) fn new() -> Self {
        ErrorTypes::default()
    }

    /// The value to record for `error_type`: itself while the limit allows,
    /// else `_OTHER`. The set lives as long as its call site (`'static`), so
    /// an admitted value is recorded as a `&'static str` from its slot: no
    /// allocation and no reference count.
    #[cfg(test)]
    pub(crate) fn admit(&'static self, error_type: Cow<'static, str>) -> Value {
        Value::from(self.admit_str(error_type))
    }

    /// [`ErrorTypes::admit`], as the `&'static str` it records.
    pub(crate) fn admit_str(&'static self, error_type: Cow<'static, str>) -> &'static str {
        match error_type {
            Cow::Borrowed(s) => s,
            Cow::Owned(s) => self.admit_owned(&s),
        }
    }

    fn admit_owned(&'static self, s: &str) -> &'static str {
        if s.len() > ERROR_TYPE_MAX_LEN {
            return OTHER;
        }
        let slots = self
            .slots
            .get_or_init(|| (0..ERROR_TYPE_LIMIT).map(|_| OnceLock::new()).collect());
        match find(slots, s) {
            Found::Admitted(known) => return known,
            Found::Full => return OTHER,
            Found::Room => {}
        }
        // A new value: admit it under the lock, unless another thread took
        // the last slot (or admitted the same value) first.
        let _admitting = self
            .admitting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match find(slots, s) {
            Found::Admitted(known) => known,
            Found::Full => OTHER,
            Found::Room => slots
                .iter()
                .find(|slot| slot.get().is_none())
                .map_or(OTHER, |slot| slot.get_or_init(|| Box::from(s))),
        }
    }
}

enum Found {
    Admitted(&'static str),
    Full,
    Room,
}

/// Looks `s` up in the slots, which fill from the front.
fn find(slots: &'static [OnceLock<Box<str>>], s: &str) -> Found {
    for slot in slots {
        match slot.get() {
            Some(known) if **known == *s => return Found::Admitted(known),
            Some(_) => {}
            None => return Found::Room,
        }
    }
    Found::Full
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_values_pass_unchecked() {
        let types: &'static ErrorTypes = Box::leak(Box::new(ErrorTypes::new()));
        for _ in 0..(ERROR_TYPE_LIMIT * 2) {
            assert_eq!(types.admit(Cow::Borrowed("timeout")).as_str(), "timeout");
        }
        assert!(types.slots.get().is_none());
    }

    #[test]
    fn computed_values_are_bounded() {
        let types: &'static ErrorTypes = Box::leak(Box::new(ErrorTypes::new()));
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

    #[test]
    fn concurrent_admission_is_consistent_and_bounded() {
        let types: &'static ErrorTypes = Box::leak(Box::new(ErrorTypes::new()));
        let values: Vec<String> = (0..ERROR_TYPE_LIMIT * 2).map(|i| format!("v{i}")).collect();
        let seen: Vec<Vec<String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|t| {
                    let values = &values;
                    scope.spawn(move || {
                        // Each thread admits the values in its own order.
                        let mut order: Vec<usize> = (0..values.len()).collect();
                        order.rotate_left(t * 37 % values.len());
                        if t % 2 == 1 {
                            order.reverse();
                        }
                        let mut out = vec![String::new(); values.len()];
                        for i in order {
                            out[i] = types.admit(Cow::Owned(values[i].clone())).to_string();
                        }
                        out
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        // Every thread got the same answer for every value ...
        for other in &seen[1..] {
            assert_eq!(other, &seen[0]);
        }
        // ... each value either itself or `_OTHER`, exactly the limit admitted,
        // and no value admitted twice.
        let admitted: Vec<&String> = seen[0].iter().filter(|v| *v != OTHER).collect();
        assert_eq!(admitted.len(), ERROR_TYPE_LIMIT);
        for (i, v) in seen[0].iter().enumerate() {
            assert!(*v == values[i] || v == OTHER);
        }
        let slots: Vec<&str> = types
            .slots
            .get()
            .unwrap()
            .iter()
            .map(|s| &**s.get().unwrap())
            .collect();
        let mut unique = slots.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), slots.len());
    }
}
