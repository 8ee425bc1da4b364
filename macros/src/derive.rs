//! `#[derive(ErrorType)]`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Data, DeriveInput, Fields, LitStr};

/// Expands the derive.
pub fn derive(input: &DeriveInput) -> syn::Result<TokenStream> {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let body = match &input.data {
        Data::Enum(data) => {
            if let Some(attr) = input.attrs.iter().find(|a| a.path().is_ident("error_type")) {
                return Err(syn::Error::new_spanned(
                    attr,
                    "on an enum, put `#[error_type(\"...\")]` on the variants, not on the enum",
                ));
            }
            let mut arms = Vec::new();
            for variant in &data.variants {
                let name = match literal(&variant.attrs)? {
                    Some(lit) => lit,
                    None => LitStr::new(
                        &snake_case(&variant.ident.to_string()),
                        variant.ident.span(),
                    ),
                };
                let v = &variant.ident;
                let pattern = match &variant.fields {
                    Fields::Named(_) => quote!(Self::#v { .. }),
                    Fields::Unnamed(_) => quote!(Self::#v(..)),
                    Fields::Unit => quote!(Self::#v),
                };
                arms.push(quote!(#pattern => #name,));
            }
            if arms.is_empty() {
                quote!(match *self {})
            } else {
                quote!(::std::borrow::Cow::Borrowed(match self { #(#arms)* }))
            }
        }
        Data::Struct(_) => match literal(&input.attrs)? {
            Some(lit) => quote!(::std::borrow::Cow::Borrowed(#lit)),
            None => quote!(::std::borrow::Cow::Borrowed(::std::any::type_name::<Self>())),
        },
        Data::Union(u) => {
            return Err(syn::Error::new_spanned(
                u.union_token,
                "`#[derive(ErrorType)]` supports enums and structs, not unions",
            ))
        }
    };
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics ::instrument_errors::ErrorType for #ident #ty_generics #where_clause {
            fn error_type(&self) -> ::std::borrow::Cow<'static, str> {
                #body
            }
        }
    })
}

/// The literal of `#[error_type("...")]`, if present.
fn literal(attrs: &[Attribute]) -> syn::Result<Option<LitStr>> {
    let mut found: Option<LitStr> = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("error_type")) {
        let lit: LitStr = attr.parse_args().map_err(|_| {
            syn::Error::new_spanned(
                attr,
                "expected a string literal: `#[error_type(\"timeout\")]`",
            )
        })?;
        if lit.value().is_empty() {
            return Err(syn::Error::new_spanned(lit, "`error_type` cannot be empty"));
        }
        if found.is_some() {
            return Err(syn::Error::new_spanned(
                attr,
                "duplicate `#[error_type(...)]`",
            ));
        }
        found = Some(lit);
    }
    Ok(found)
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
