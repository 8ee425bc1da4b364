//! Expanding an annotated function into calls of the runtime's `__private` API.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{
    Block, Expr, ExprAsync, ExprCall, GenericArgument, ItemFn, PathArguments, ReturnType, Stmt,
    Type, TypeParamBound,
};

use crate::args::Args;

/// The shape of the function body, which decides how the outcome is reached.
enum Form<'a> {
    /// A plain function: the body runs inside a closure.
    Sync,
    /// `async fn`.
    AsyncFn,
    /// A function whose last expression is an `async` block, possibly inside
    /// `Box::pin(...)` (the expansion of `#[async_trait]`, or hand-written):
    /// the future is instrumented, not its construction.
    ReturnsAsyncBlock(&'a ExprAsync),
}

/// Validates the item and expands it.
pub fn expand(args: &Args, item: &ItemFn) -> syn::Result<TokenStream> {
    let sig = &item.sig;
    if let Some(constness) = &sig.constness {
        return Err(syn::Error::new(
            constness.span(),
            "`#[instrument_errors]` cannot be applied to a `const fn`: recording telemetry is not \
             possible in const evaluation; remove `const` or the attribute",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new(
            variadic.span(),
            "`#[instrument_errors]` cannot be applied to a variadic function",
        ));
    }
    let form = if sig.asyncness.is_some() {
        Form::AsyncFn
    } else if let Some(block) = tail_async_block(&item.block) {
        Form::ReturnsAsyncBlock(block)
    } else if returns_future(&sig.output) {
        return Err(no_async_tail(item));
    } else {
        Form::Sync
    };
    let site = format_ident!("__IE_SITE", span = Span::mixed_site());
    let site_static = call_site(args, item, &site);
    let classify = classify(args);
    let attributes = attributes(args);
    let attrs = &item.attrs;
    let vis = &item.vis;
    let block = &item.block;
    let body = match form {
        Form::Sync => {
            let ret = match &sig.output {
                ReturnType::Type(_, ty) if !contains_impl(&quote!(#ty)) => quote!(-> #ty),
                ReturnType::Type(..) => quote!(),
                ReturnType::Default => quote!(-> ()),
            };
            quote! {
                #site_static
                #site.start(|| #attributes).run(move || #ret #block, #classify)
            }
        }
        Form::AsyncFn => {
            let pin_output = match &sig.output {
                ReturnType::Type(_, ty) if !contains_impl(&quote!(#ty)) => fake_return(quote!(#ty)),
                ReturnType::Type(..) => quote!(),
                ReturnType::Default => fake_return(quote!(())),
            };
            let stmts = &block.stmts;
            quote! {
                #site_static
                #site.instrument(#attributes, async move { #pin_output #(#stmts)* }, #classify).await
            }
        }
        Form::ReturnsAsyncBlock(found) => {
            // The block's output type, when the return type names it, is
            // pinned as for `async fn`: the outcome is classified where the
            // block is built, before inference would reach the return type.
            let pin_output = future_output(&sig.output)
                .filter(|ty| !contains_impl(&quote!(#ty)))
                .map(|ty| fake_return(quote!(#ty)));
            let fut = match pin_output {
                Some(pin_output) => {
                    let (attrs, capture, stmts) =
                        (&found.attrs, &found.capture, &found.block.stmts);
                    let async_token = &found.async_token;
                    quote!(#(#attrs)* #async_token #capture { #pin_output #(#stmts)* })
                }
                None => quote!(#found),
            };
            let replaced = replace_tail_async(
                block,
                quote!(#site.instrument(#attributes, #fut, #classify)),
            );
            quote! {
                #site_static
                #replaced
            }
        }
    };
    Ok(quote! {
        #(#attrs)*
        #vis #sig {
            #body
        }
    })
}

/// The `static` describing the call site.
fn call_site(args: &Args, item: &ItemFn, site: &syn::Ident) -> TokenStream {
    let ident = item.sig.ident.to_string();
    let ident = ident.trim_start_matches("r#");
    let name = args
        .name
        .as_ref()
        .map_or_else(|| ident.to_owned(), syn::LitStr::value);
    let kind = args
        .kind
        .as_ref()
        .map_or_else(|| "internal".to_owned(), ToString::to_string);
    let kind_variant = format_ident!("{}", capitalize(&kind));
    let metric = match &args.metric {
        Some(m) => quote!(::core::option::Option::Some(#m)),
        None => quote!(::core::option::Option::None),
    };
    let description = args.description.as_ref().map_or(true, |b| b.value);
    let exception = if args.log.as_ref().is_some_and(|b| !b.value) {
        quote!(::core::option::Option::None)
    } else {
        let level = match &args.log_level {
            Some(level) => level.to_string().to_uppercase(),
            None if kind == "server" || kind == "consumer" => "ERROR".to_owned(),
            None => "WARN".to_owned(),
        };
        let level = format_ident!("{level}");
        let event = format!("{name}.exception");
        let handled = args.handled_attribute.iter();
        quote!(::core::option::Option::Some(
            ::instrument_errors::__exception_sink!(#event, #level #(, #handled)*)
        ))
    };
    let handled_attribute = match &args.handled_attribute {
        Some(a) => quote!(::core::option::Option::Some(#a)),
        None => quote!(::core::option::Option::None),
    };
    quote! {
        static #site: ::instrument_errors::__private::CallSite =
            ::instrument_errors::__private::CallSite::new(::instrument_errors::__private::Info {
                name: #name,
                function: ::core::concat!(::core::module_path!(), "::", #ident),
                kind: ::instrument_errors::__private::Kind::#kind_variant,
                metric: #metric,
                scope_name: ::core::env!("CARGO_PKG_NAME"),
                scope_version: ::core::env!("CARGO_PKG_VERSION"),
                description: #description,
                exception: #exception,
                handled_attribute: #handled_attribute,
            });
    }
}

/// `[attribute("key", value), ...]`, evaluated where it stands.
fn attributes(args: &Args) -> TokenStream {
    let pairs = args.attributes.iter().map(|(key, value)| {
        quote_spanned!(value.span()=> ::instrument_errors::__private::attribute(#key, #value))
    });
    if args.attributes.is_empty() {
        quote!([] as [::instrument_errors::__private::KeyValue; 0])
    } else {
        quote!([#(#pairs),*])
    }
}

/// The closure that turns `&ReturnType` into a `Verdict`, written where the
/// type is concrete so that the runtime's autoref probes resolve.
fn classify(args: &Args) -> TokenStream {
    let p = quote!(::instrument_errors::__private);
    let out = format_ident!("__ie_out", span = Span::mixed_site());
    let ok = format_ident!("__ie_ok", span = Span::mixed_site());
    let err = format_ident!("__ie_err", span = Span::mixed_site());
    // The calls of the user's functions are written out in full, not with
    // `#p`, so that every token of the call carries the function's span: a
    // wrong signature is then reported at the function, not at the attribute.
    let on_ok = match &args.error_if {
        Some(f) => quote_spanned! {f.span()=>
            match ::instrument_errors::__private::error_if(#f, #ok) {
                ::core::option::Option::Some(t) => #p::Verdict::failure(t),
                ::core::option::Option::None => #p::Verdict::Success,
            }
        },
        None => quote!({
            let _ = #ok;
            #p::Verdict::Success
        }),
    };
    let error_type = match &args.error_type {
        Some(f) => quote_spanned!(f.span()=> ::instrument_errors::__private::error_type(#f, #err)),
        None => quote!((&#p::Probe(#err)).ie_error_type()),
    };
    let message = if args.description.as_ref().map_or(true, |b| b.value) {
        quote!((&#p::Probe(#err)).ie_message())
    } else {
        quote!(::core::option::Option::None)
    };
    let failure = quote!(#p::Verdict::Failure(#p::Failure {
        error_type: #error_type,
        message: #message,
        error: (&#p::Probe(#err)).ie_error(),
    }));
    // An error `ok_if` accepts is handled (`Verdict::Handled`).
    let on_err = match &args.ok_if {
        Some(f) => {
            let ok_if = quote_spanned!(f.span()=> ::instrument_errors::__private::ok_if(#f, #err));
            quote!(#p::Verdict::handled_if(#failure, #ok_if))
        }
        None => failure,
    };
    quote! {
        |#out| {
            #[allow(unused_imports)]
            use #p::{NotAResult as _, ViaDisplay as _, ViaError as _, ViaErrorType as _,
                     ViaNoDisplay as _, ViaNoError as _, ViaTypeName as _};
            match #p::Outcome(#out).ie_split() {
                #p::Split::Ok(#ok) => #on_ok,
                #p::Split::Err(#err) => #on_err,
            }
        }
    }
}

/// Pins the output type of an `async` block to the function's return type,
/// so that `?` and `return` inside it infer as they do in the function.
fn fake_return(ty: TokenStream) -> TokenStream {
    let var = format_ident!("__ie_ret", span = Span::mixed_site());
    quote! {
        #[allow(
            unknown_lints, unreachable_code, clippy::diverging_sub_expression,
            clippy::empty_loop, clippy::let_unit_value, clippy::let_with_type_underscore,
            clippy::needless_return, clippy::unreachable
        )]
        if false {
            let #var: #ty = loop {};
            return #var;
        }
    }
}

/// The `async` block that is the function's last expression, bare or as the
/// argument of `Box::pin(...)`.
fn tail_async_block(block: &Block) -> Option<&ExprAsync> {
    let Some(Stmt::Expr(expr, None)) = block.stmts.last() else {
        return None;
    };
    match expr {
        Expr::Async(found) => Some(found),
        Expr::Call(ExprCall { func, args, .. }) if args.len() == 1 && is_box_pin(func) => {
            match args.first() {
                Some(Expr::Async(found)) => Some(found),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `T` in a return type `impl Future<Output = T>`, `Pin<Box<dyn Future<Output
/// = T> + Send>>` (also what `#[async_trait]` writes) or `impl IntoFuture<..>`.
fn future_output(output: &ReturnType) -> Option<&Type> {
    fn in_bounds<'a>(bounds: impl IntoIterator<Item = &'a TypeParamBound>) -> Option<&'a Type> {
        bounds.into_iter().find_map(|bound| {
            let TypeParamBound::Trait(bound) = bound else {
                return None;
            };
            let last = bound.path.segments.last()?;
            if last.ident != "Future" && last.ident != "IntoFuture" {
                return None;
            }
            let PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            args.args.iter().find_map(|arg| match arg {
                GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(&assoc.ty),
                _ => None,
            })
        })
    }
    fn in_type(ty: &Type) -> Option<&Type> {
        match ty {
            Type::ImplTrait(t) => in_bounds(&t.bounds),
            Type::TraitObject(t) => in_bounds(&t.bounds),
            Type::Paren(t) => in_type(&t.elem),
            Type::Group(t) => in_type(&t.elem),
            // `Pin<Box<dyn Future<..>>>`
            Type::Path(p) => p.path.segments.last().and_then(|s| match &s.arguments {
                PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
                    GenericArgument::Type(t) => in_type(t),
                    _ => None,
                }),
                _ => None,
            }),
            _ => None,
        }
    }
    match output {
        ReturnType::Type(_, ty) => in_type(ty),
        ReturnType::Default => None,
    }
}

/// Whether the return type is visibly a future: `impl Future<..>`,
/// `Pin<Box<dyn Future<..>>>`, `impl IntoFuture`. A future behind a named
/// type (`JoinHandle<T>`, a `BoxFuture` alias) cannot be seen here.
fn returns_future(output: &ReturnType) -> bool {
    fn walk(tokens: TokenStream, in_bound: bool) -> bool {
        let mut in_bound = in_bound;
        tokens.into_iter().any(|tt| match tt {
            TokenTree::Ident(i) if i == "impl" || i == "dyn" => {
                in_bound = true;
                false
            }
            TokenTree::Ident(i) => in_bound && (i == "Future" || i == "IntoFuture"),
            TokenTree::Group(g) => walk(g.stream(), in_bound),
            _ => false,
        })
    }
    match output {
        ReturnType::Type(_, ty) => walk(quote!(#ty), false),
        ReturnType::Default => false,
    }
}

/// The error for a function that returns a future built some other way than
/// by a tail `async` block: instrumenting it would time the construction of
/// the future, not the operation.
fn no_async_tail(item: &ItemFn) -> syn::Error {
    let has_async_block = item.block.stmts.iter().any(|stmt| {
        quote!(#stmt)
            .into_iter()
            .any(|tt| matches!(tt, TokenTree::Ident(i) if i == "async"))
    });
    let message = if has_async_block {
        "`#[instrument_errors]` on a function that returns a future needs the `async` block to \
         be the function's last expression, written in place (`async move { .. }` or \
         `Box::pin(async move { .. })`), so that it can instrument the future and not its \
         construction; return the `async` block itself, not a variable or a call that holds it, \
         or make the function an `async fn`"
    } else {
        "`#[instrument_errors]` on a function that returns a future needs an `async` block as \
         the function's last expression (`async move { .. }` or `Box::pin(async move { .. })`), \
         so that it can instrument the future and not its construction; end the body with \
         `async move { <the future>.await }`, or make the function an `async fn`"
    };
    match item.block.stmts.last() {
        Some(last) => syn::Error::new_spanned(last, message),
        None => syn::Error::new_spanned(&item.sig.output, message),
    }
}

fn is_box_pin(func: &Expr) -> bool {
    let Expr::Path(path) = func else { return false };
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    segments.ends_with(&["Box".to_owned(), "pin".to_owned()])
}

/// The block with its tail `async` block replaced by `wrapped`.
fn replace_tail_async(block: &Block, wrapped: TokenStream) -> TokenStream {
    let (last, rest) = block
        .stmts
        .split_last()
        .expect("tail_async_block found a tail");
    let last = match last {
        Stmt::Expr(Expr::Call(call), None) => {
            let func = &call.func;
            quote!(#func(#wrapped))
        }
        _ => wrapped,
    };
    quote!(#(#rest)* #last)
}

fn contains_impl(tokens: &TokenStream) -> bool {
    tokens.clone().into_iter().any(|tt| match tt {
        TokenTree::Ident(i) => i == "impl",
        TokenTree::Group(g) => contains_impl(&g.stream()),
        _ => false,
    })
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
