//! Values accepted in `attributes("key" = value, ...)`.

use std::borrow::Cow;
use std::sync::Arc;

use opentelemetry::{Array, KeyValue, StringValue, Value};

/// A value that `attributes(...)` can put on a span.
///
/// Implemented for strings of any lifetime (copied), `bool`, the integer types
/// (as `i64`; `u64`/`usize` values above `i64::MAX` become strings), `f32`,
/// `f64`, and `opentelemetry`'s `Value`, `StringValue` and `Array`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a span attribute value",
    label = "instrument-errors: values in `attributes(...)` must be strings, bool, integers, floats or `opentelemetry::Value`",
    note = "convert it first, for example with `.to_string()`"
)]
pub trait AttributeValue {
    /// The OpenTelemetry value.
    fn into_value(self) -> Value;
}

/// One span attribute from `attributes(...)`.
#[inline]
pub fn attribute(key: &'static str, value: impl AttributeValue) -> KeyValue {
    KeyValue::new(key, value.into_value())
}

macro_rules! via_into {
    ($($t:ty => $conv:expr),* $(,)?) => {
        $(impl AttributeValue for $t {
            #[inline]
            fn into_value(self) -> Value {
                #[allow(clippy::redundant_closure_call)]
                ($conv)(self)
            }
        }
        impl AttributeValue for &$t {
            #[inline]
            fn into_value(self) -> Value {
                #[allow(clippy::redundant_closure_call, clippy::clone_on_copy)]
                ($conv)(self.clone())
            }
        })*
    };
}

via_into!(
    bool => Value::Bool,
    i8 => |v| Value::I64(i64::from(v)),
    i16 => |v| Value::I64(i64::from(v)),
    i32 => |v| Value::I64(i64::from(v)),
    i64 => Value::I64,
    u8 => |v| Value::I64(i64::from(v)),
    u16 => |v| Value::I64(i64::from(v)),
    u32 => |v| Value::I64(i64::from(v)),
    u64 => |v: u64| i64::try_from(v).map_or_else(|_| Value::from(v.to_string()), Value::I64),
    usize => |v: usize| i64::try_from(v).map_or_else(|_| Value::from(v.to_string()), Value::I64),
    isize => |v: isize| i64::try_from(v).map_or_else(|_| Value::from(v.to_string()), Value::I64),
    f32 => |v| Value::F64(f64::from(v)),
    f64 => Value::F64,
    String => Value::from,
    Arc<str> => Value::from,
    StringValue => Value::String,
    Value => |v| v,
    Array => Value::Array,
);

impl AttributeValue for &str {
    #[inline]
    fn into_value(self) -> Value {
        Value::from(self.to_owned())
    }
}

impl AttributeValue for Cow<'_, str> {
    #[inline]
    fn into_value(self) -> Value {
        Value::from(self.into_owned())
    }
}

#[cfg(test)]
#[allow(clippy::needless_borrows_for_generic_args)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        let id = String::from("r-1");
        assert_eq!(attribute("k", id.as_str()).value, Value::from("r-1"));
        assert_eq!(attribute("k", &id).value, Value::from("r-1"));
        assert_eq!(attribute("k", 3u8).value, Value::I64(3));
        assert_eq!(
            attribute("k", u64::MAX).value,
            Value::from(u64::MAX.to_string())
        );
        assert_eq!(attribute("k", 1.5f32).value, Value::F64(1.5));
        assert_eq!(attribute("k", &true).value, Value::Bool(true));
    }
}
