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

/// A place named in `attributes(..)` (a parameter, a field: `name`,
/// `self.id`), borrowed so that it is not moved out of the function's
/// parameters: the expansion calls `(&&AttributeRef(&place)).ie_value()`,
/// which takes the value through `&V: AttributeValue` ([`ViaRefValue`]),
/// else through `V: AttributeValue + Clone` ([`ViaCloneValue`]); else the
/// error names `&V` ([`ViaNoValue`]). Other expressions (`id.len()`,
/// `format!(..)`) are evaluated by value, as written.
#[derive(Debug)]
pub struct AttributeRef<'a, V: ?Sized>(pub &'a V);

/// The value of a borrowed place whose reference is an [`AttributeValue`].
pub trait ViaRefValue {
    /// The attribute value.
    fn ie_value(self) -> Value;
}

impl<'a, V: ?Sized> ViaRefValue for &&AttributeRef<'a, V>
where
    &'a V: AttributeValue,
{
    #[inline]
    fn ie_value(self) -> Value {
        self.0.into_value()
    }
}

/// The value of a borrowed place of a `Clone` [`AttributeValue`] type.
pub trait ViaCloneValue {
    /// The attribute value, from a clone.
    fn ie_value(self) -> Value;
}

impl<V: AttributeValue + Clone> ViaCloneValue for &AttributeRef<'_, V> {
    #[inline]
    fn ie_value(self) -> Value {
        self.0.clone().into_value()
    }
}

/// The last resort: never callable, its bound says what is missing.
pub trait ViaNoValue<'a, V: ?Sized + 'a> {
    /// Never callable: reached only when `&V` is not an [`AttributeValue`].
    fn ie_value(self) -> Value
    where
        &'a V: AttributeValue;
}

impl<'a, V: ?Sized> ViaNoValue<'a, V> for AttributeRef<'a, V> {
    #[inline]
    fn ie_value(self) -> Value
    where
        &'a V: AttributeValue,
    {
        self.0.into_value()
    }
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

impl AttributeValue for &Cow<'_, str> {
    #[inline]
    fn into_value(self) -> Value {
        Value::from(self.clone().into_owned())
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

    #[test]
    // The borrows select the probe under test.
    #[allow(clippy::needless_borrow)]
    fn places_are_borrowed_not_moved() {
        #[allow(unused_imports)]
        use super::{ViaCloneValue as _, ViaNoValue as _, ViaRefValue as _};
        let name = String::from("job-1");
        let id: &str = "r-2";
        let cow: Cow<'_, str> = Cow::Borrowed("c");
        let n = 7u16;
        assert_eq!((&&AttributeRef(&name)).ie_value(), Value::from("job-1"));
        assert_eq!((&&AttributeRef(&id)).ie_value(), Value::from("r-2"));
        assert_eq!((&&AttributeRef(&cow)).ie_value(), Value::from("c"));
        assert_eq!((&&AttributeRef(&n)).ie_value(), Value::I64(7));
        // Still usable.
        assert_eq!(name.len() + id.len() + cow.len(), 9);
    }
}
