//! `#[derive(ErrorType)]`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{Attribute, Data, DeriveInput, Fields, Generics, LitStr, Type};

/// What `#[error_type(...)]` says.
enum Given {
    /// `#[error_type("...")]`.
    Literal(LitStr),
    /// `#[error_type(transparent)]`, with the attribute for error spans.
    Transparent(Box<Attribute>),
    /// `#[error_type(with = f)]`: `f(&field)` gives the value.
    With(Box<Attribute>, Box<syn::Expr>),
}

/// Expands the derive.
pub fn derive(input: &DeriveInput) -> syn::Result<TokenStream> {
    let ident = &input.ident;
    let mut generics = input.generics.clone();
    let mut transparent_types = Vec::new();
    // The catalog's values (feature `testing`): literals, and the field types
    // of transparent variants, whose values are probed.
    let mut values: Vec<TokenStream> = Vec::new();
    let body = match &input.data {
        Data::Enum(data) => {
            if let Some(attr) = input.attrs.iter().find(|a| a.path().is_ident("error_type")) {
                return Err(syn::Error::new_spanned(
                    attr,
                    "on an enum, put `#[error_type(\"...\")]`, `#[error_type(transparent)]` or \
                     `#[error_type(with = f)]` on the variants, not on the enum",
                ));
            }
            let mut arms = Vec::new();
            let mut errors: Option<syn::Error> = None;
            for variant in &data.variants {
                let v = &variant.ident;
                let given = match given(&variant.attrs) {
                    Ok(given) => given,
                    Err(e) => {
                        combine(&mut errors, e);
                        continue;
                    }
                };
                match given {
                    Some(given @ (Given::Transparent(_) | Given::With(..))) => {
                        match only_field(&variant.fields, &given) {
                            Ok(ty) => {
                                let call = field_call(&given, ty, &mut transparent_types);
                                values.push(probe_values(&given, ty));
                                let pattern = match &variant.fields {
                                    Fields::Named(named) => {
                                        let name = named.named[0].ident.as_ref();
                                        quote!(Self::#v { #name: __ie_field })
                                    }
                                    _ => quote!(Self::#v(__ie_field)),
                                };
                                arms.push(quote!(#pattern => #call,));
                            }
                            Err(e) => combine(&mut errors, e),
                        }
                    }
                    literal => {
                        let name = match literal {
                            Some(Given::Literal(lit)) => lit,
                            _ => LitStr::new(&snake_case(&v.to_string()), v.span()),
                        };
                        values.push(quote!(__ie_out.push(#name);));
                        let pattern = match &variant.fields {
                            Fields::Named(_) => quote!(Self::#v { .. }),
                            Fields::Unnamed(_) => quote!(Self::#v(..)),
                            Fields::Unit => quote!(Self::#v),
                        };
                        arms.push(quote!(#pattern => ::std::borrow::Cow::Borrowed(#name),));
                    }
                }
            }
            if let Some(errors) = errors {
                return Err(errors);
            }
            if arms.is_empty() {
                quote!(match *self {})
            } else {
                quote!(match self { #(#arms)* })
            }
        }
        Data::Struct(data) => match given(&input.attrs)? {
            Some(Given::Literal(lit)) => {
                values.push(quote!(__ie_out.push(#lit);));
                quote!(::std::borrow::Cow::Borrowed(#lit))
            }
            Some(given @ (Given::Transparent(_) | Given::With(..))) => {
                let ty = only_field(&data.fields, &given)?;
                let call = field_call(&given, ty, &mut transparent_types);
                values.push(probe_values(&given, ty));
                let field = match &data.fields {
                    Fields::Named(named) => {
                        let name = named.named[0].ident.as_ref();
                        quote!(#name)
                    }
                    _ => quote!(0),
                };
                quote!({
                    let __ie_field = &self.#field;
                    #call
                })
            }
            None => {
                values.push(quote!(__ie_out.push(::std::any::type_name::<Self>());));
                quote!(::std::borrow::Cow::Borrowed(::std::any::type_name::<Self>()))
            }
        },
        Data::Union(u) => {
            return Err(syn::Error::new_spanned(
                u.union_token,
                "`#[derive(ErrorType)]` supports enums and structs, not unions",
            ))
        }
    };
    // A generic field type needs the bound; a concrete one is checked where
    // it is used (a bound on it could name a private type in a public impl).
    for ty in transparent_types {
        if mentions_type_param(&input.generics, &ty) {
            generics
                .make_where_clause()
                .predicates
                .push(syn::parse_quote_spanned!(ty.span()=> #ty: ::instrument_errors::ErrorType));
        }
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let register = register(input);
    // The values listed by `instrument_errors::catalog` (the runtime's
    // feature `testing` enables this crate's); without it, nothing.
    let catalog_values = if cfg!(feature = "testing") {
        quote! {
            ::instrument_errors::__catalog_values! {
                #[automatically_derived]
                impl #impl_generics ::instrument_errors::catalog::ErrorTypeValues
                    for #ident #ty_generics #where_clause
                {
                    fn ie_values(__ie_out: &mut ::instrument_errors::catalog::Values) {
                        if __ie_out.enter(::std::any::type_name::<Self>()) {
                            #(#values)*
                            __ie_out.leave();
                        }
                    }
                }
            }
        }
    } else {
        TokenStream::new()
    };
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics ::instrument_errors::ErrorType for #ident #ty_generics #where_clause {
            fn error_type(&self) -> ::std::borrow::Cow<'static, str> {
                #body
            }
        }
        #register
        #catalog_values
    })
}

/// Submits the type's downcaster to the runtime's link-time list, so that the
/// type is found inside type-erased errors (`Box<dyn Error>`, `anyhow`,
/// `eyre`). Only a non-generic type has one `TypeId` to look for.
fn register(input: &DeriveInput) -> TokenStream {
    if !input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let ident = &input.ident;
    let p = quote!(::instrument_errors::__private);
    quote! {
        #p::inventory::submit! {
            #p::Downcaster::new({
                fn __ie_downcast(
                    error: &(dyn ::std::error::Error + 'static),
                ) -> ::core::option::Option<::std::borrow::Cow<'static, str>> {
                    #[allow(unused_imports)]
                    use #p::{ViaDowncast as _, ViaNoDowncast as _};
                    (&#p::Downcast::<#ident>::NEW).ie_downcast(error)
                }
                __ie_downcast
            })
        }
    }
}

/// Adds the values of a transparent field's type to the catalog's values;
/// `with = f` computes them: open.
fn probe_values(given: &Given, ty: &Type) -> TokenStream {
    match given {
        Given::With(..) => quote!(__ie_out.open();),
        _ => quote! {
            (&&&&::instrument_errors::catalog::Probe::<#ty>::NEW).ie_values(__ie_out);
        },
    }
}

/// The expression that gives the `error.type` of the field `__ie_field` (a
/// reference to it).
///
/// `transparent`: the field's `ErrorType` when it has one, else the
/// type-erased rule for a `std::error::Error`, else its type's name (a probe
/// picks one where the type is concrete; a generic field type gets an
/// `ErrorType` bound instead, pushed to `generic_types`). `with = f`: `f`'s
/// result, spanned at `f` so that a wrong signature is reported there.
fn field_call(given: &Given, ty: &Type, generic_types: &mut Vec<Type>) -> TokenStream {
    let p = quote!(::instrument_errors::__private);
    match given {
        Given::With(_, f) => {
            // The path is written here, not interpolated, so that it takes
            // `f`'s span too: a wrong signature is reported at `f`.
            quote_spanned!(f.span()=> ::instrument_errors::__private::error_type(#f, __ie_field))
        }
        _ => {
            generic_types.push(ty.clone());
            quote!({
                #[allow(unused_imports)]
                use #p::{ViaFieldError as _, ViaFieldErrorType as _, ViaFieldTypeName as _};
                (&&&#p::TransparentField(__ie_field)).ie_field_error_type()
            })
        }
    }
}

/// The type of the one field of a `#[error_type(transparent)]` or
/// `#[error_type(with = f)]` variant or struct; an error at the attribute
/// otherwise.
fn only_field<'a>(fields: &'a Fields, given: &Given) -> syn::Result<&'a Type> {
    let count = fields.len();
    let (attr, what) = match given {
        Given::With(attr, _) => (
            attr,
            "`#[error_type(with = f)]` needs exactly one field, to call `f` with",
        ),
        Given::Transparent(attr) => (
            attr,
            "`#[error_type(transparent)]` needs exactly one field, whose `error.type` is used",
        ),
        Given::Literal(_) => unreachable!("a literal needs no field"),
    };
    match fields.iter().next() {
        Some(field) if count == 1 => Ok(&field.ty),
        _ => Err(syn::Error::new_spanned(
            attr,
            format!(
                "{what}; this has {count}: give it one field, or a literal \
                 `#[error_type(\"...\")]`"
            ),
        )),
    }
}

fn combine(errors: &mut Option<syn::Error>, e: syn::Error) {
    match errors {
        Some(errors) => errors.combine(e),
        None => *errors = Some(e),
    }
}

/// Whether `ty` names one of the type's generic type parameters.
fn mentions_type_param(generics: &Generics, ty: &Type) -> bool {
    fn walk(tokens: TokenStream, params: &[String]) -> bool {
        tokens.into_iter().any(|tt| match tt {
            proc_macro2::TokenTree::Ident(i) => params.contains(&i.to_string()),
            proc_macro2::TokenTree::Group(g) => walk(g.stream(), params),
            _ => false,
        })
    }
    let params: Vec<String> = generics
        .type_params()
        .map(|p| p.ident.to_string())
        .collect();
    !params.is_empty() && walk(quote!(#ty), &params)
}

/// What `#[error_type(...)]` gives, if present.
fn given(attrs: &[Attribute]) -> syn::Result<Option<Given>> {
    let mut found: Option<Given> = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("error_type")) {
        let this = if let Ok(lit) = attr.parse_args::<LitStr>() {
            if lit.value().is_empty() {
                return Err(syn::Error::new_spanned(lit, "`error_type` cannot be empty"));
            }
            Given::Literal(lit)
        } else if attr
            .parse_args::<syn::Ident>()
            .is_ok_and(|i| i == "transparent")
        {
            Given::Transparent(Box::new(attr.clone()))
        } else if starts_with_with(attr) {
            let f = attr.parse_args_with(parse_with).map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "`with` takes the function that gives the field's `error.type`: \
                     `#[error_type(with = f)]`, `f: Fn(&Field) -> S`",
                )
            })?;
            Given::With(Box::new(attr.clone()), Box::new(f))
        } else {
            return Err(syn::Error::new_spanned(
                attr,
                "expected a string literal, `transparent` or `with = f`: \
                 `#[error_type(\"timeout\")]`, `#[error_type(transparent)]` to use the one \
                 field's `error.type`, or `#[error_type(with = f)]` to call `f(&field)`",
            ));
        };
        if found.is_some() {
            return Err(syn::Error::new_spanned(
                attr,
                "duplicate `#[error_type(...)]`",
            ));
        }
        found = Some(this);
    }
    Ok(found)
}
/// Whether the attribute's arguments start with `with`.
fn starts_with_with(attr: &Attribute) -> bool {
    attr.parse_args_with(|input: syn::parse::ParseStream<'_>| {
        let key: syn::Ident = input.parse()?;
        let _: TokenStream = input.parse()?;
        Ok(key == "with")
    })
    .unwrap_or(false)
}

/// `with = f`.
fn parse_with(input: syn::parse::ParseStream<'_>) -> syn::Result<syn::Expr> {
    let key: syn::Ident = input.parse()?;
    if key != "with" {
        return Err(syn::Error::new_spanned(key, "expected `with`"));
    }
    input.parse::<syn::Token![=]>()?;
    input.parse()
}

/// `TimedOut` -> `timed_out`, `HTTPError` -> `http_error`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.trim_start_matches("r#").chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn snake() {
        assert_eq!(snake_case("NotFound"), "not_found");
        assert_eq!(snake_case("TimedOut"), "timed_out");
        assert_eq!(snake_case("HTTPError"), "http_error");
        assert_eq!(snake_case("Io"), "io");
        assert_eq!(snake_case("Status500Error"), "status500_error");
        assert_eq!(snake_case("already_snake"), "already_snake");
    }
}
