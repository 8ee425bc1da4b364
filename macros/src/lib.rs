//! Procedural macros of `instrument-errors`. Depend on the `instrument-errors`
//! crate, which re-exports them and holds the runtime they expand into.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod args;
mod derive;
mod expand;
#[cfg(test)]
mod fuzz_tests;
mod impls;
mod inline;

use proc_macro::TokenStream;
use quote::ToTokens as _;

/// See `instrument_errors::instrument_errors`.
#[proc_macro_attribute]
pub fn instrument_errors(args: TokenStream, item: TokenStream) -> TokenStream {
    let item2 = proc_macro2::TokenStream::from(item.clone());
    let parsed = args::parse(args.into());
    let function = match syn::parse2::<syn::ItemFn>(item2.clone()) {
        Ok(function) => function,
        Err(_) if syn::parse2::<syn::ItemImpl>(item2.clone()).is_ok() => {
            let block = syn::parse2::<syn::ItemImpl>(item2).expect("parsed above");
            return impls::expand(parsed, block).into();
        }
        Err(_) => {
            let error = not_a_function(&item2);
            // The item unchanged, so the only error is the one at the attribute.
            let mut out = error.to_compile_error();
            if let Err(args_error) = parsed {
                out.extend(args_error.to_compile_error());
            }
            out.extend(item2);
            return out.into();
        }
    };
    let expanded = parsed.and_then(|args| expand::expand(&args, &function, None, &[]));
    match expanded {
        Ok(tokens) => tokens.into(),
        Err(error) => {
            let mut out = error.to_compile_error();
            out.extend(function.into_token_stream());
            out.into()
        }
    }
}

fn not_a_function(item: &proc_macro2::TokenStream) -> syn::Error {
    if let Ok(trait_fn) = syn::parse2::<syn::TraitItemFn>(item.clone()) {
        return syn::Error::new_spanned(
            trait_fn.sig,
            "`#[instrument_errors]` needs a function body: put it on the implementation of this \
             method, or on a default method with a body",
        );
    }
    let message =
        "`#[instrument_errors]` can only be applied to functions, methods and `impl` blocks";
    match syn::parse2::<syn::Item>(item.clone()) {
        Ok(other) => syn::Error::new_spanned(item_head(&other), message),
        Err(_) => syn::Error::new(proc_macro2::Span::call_site(), message),
    }
}

/// The tokens that name an item (`pub struct Foo`, `impl Foo`, `mod foo`), for
/// the span: its outer attributes are skipped, and it ends at the first
/// identifier that is not a keyword.
fn item_head(item: &syn::Item) -> proc_macro2::TokenStream {
    use proc_macro2::TokenTree;
    // Strict keywords (`pub`, `struct`, `impl`, ...) are what syn refuses
    // as an identifier; these three are only keywords in an item's head.
    const CONTEXTUAL: &[&str] = &["union", "auto", "macro_rules"];
    let is_keyword = |i: &proc_macro2::Ident| {
        CONTEXTUAL.contains(&i.to_string().as_str())
            || syn::parse2::<syn::Ident>(TokenTree::Ident(i.clone()).into()).is_err()
    };
    let mut tokens = item.to_token_stream().into_iter().peekable();
    let mut head = proc_macro2::TokenStream::new();
    let mut len = 0;
    while let Some(tt) = tokens.next() {
        match &tt {
            // `#[...]`
            TokenTree::Punct(p) if p.as_char() == '#' && head.is_empty() => {
                tokens.next_if(|tt| matches!(tt, TokenTree::Group(_)));
                continue;
            }
            TokenTree::Ident(i) if !is_keyword(i) => {
                head.extend([tt]);
                break;
            }
            _ => head.extend([tt]),
        }
        len += 1;
        if len == 4 {
            break;
        }
    }
    head
}

/// See `instrument_errors::ErrorType`.
#[proc_macro_derive(ErrorType, attributes(error_type))]
pub fn derive_error_type(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    derive::derive(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
