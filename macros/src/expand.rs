//! Expanding an annotated function into calls of the runtime's `__private` API.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{
    AttrStyle, Block, Expr, ExprAsync, ExprCall, GenericArgument, ItemFn, PathArguments,
    ReturnType, Stmt, Type, TypeParamBound,
};

use crate::args::Args;

/// How the call is reached, decided from the signature alone.
enum Form<'a> {
    /// `async fn`: the body is the future.
    AsyncFn,
    /// `-> impl Future<Output = T>` or `-> impl IntoFuture<Output = T>`
    /// (`T`, when given): the body builds the future, which is instrumented.
    ImplFuture {
        output: Option<&'a Type>,
        into_future: bool,
    },
    /// A return type that can be named (`Result<T, E>`, `()`, a boxed
    /// `dyn Future`, an alias): the runtime's `Select` decides, through the
    /// type system, whether it is a future to instrument or a plain value.
    Named(&'a Type),
    /// A return type with `impl Trait` parts that is not a future (`Result<impl
    /// Iterator, E>`), `!`, or a type that is never a future (`Result<T, E>`,
    /// `Option<T>`, `()`, a primitive, a shared reference, ...): a synchronous
    /// call, with the `impl` parts left to inference. The type system is not
    /// asked (it would give the same answer, at a cost in compile time).
    Opaque,
}

/// Validates the item and expands it. `owner` names the type of a method of
/// an annotated impl block (`UserRepo`), for its default span name and its
/// `code.function.name`.
/// `owner`: the type of an annotated `impl` block whose method this is;
/// `outer_generics`: that block's type parameters.
pub fn expand(
    args: &Args,
    item: &ItemFn,
    owner: Option<&str>,
    outer_generics: &[String],
) -> syn::Result<TokenStream> {
    let sig = &item.sig;
    if let Some(skip) = &args.skip {
        return Err(syn::Error::new(
            skip.span(),
            "`skip` leaves a method of an annotated impl block alone: here there is no \
             `#[instrument_errors]` impl block; remove the attribute instead",
        ));
    }
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
    let form = match &sig.output {
        _ if sig.asyncness.is_some() => Form::AsyncFn,
        ReturnType::Default => Form::Opaque,
        ReturnType::Type(_, ty) => match future_bound(ty) {
            Some((output, into_future)) => Form::ImplFuture {
                output,
                into_future,
            },
            None if contains_impl(ty) || matches!(**ty, Type::Never(_)) || never_a_future(ty) => {
                Form::Opaque
            }
            None => Form::Named(ty),
        },
    };
    if let Some(flag) = &args.protocol {
        check_status_readable(flag, &form, sig)?;
    }
    let p = quote!(::instrument_errors::__private);
    let site = format_ident!("__IE_SITE", span = Span::mixed_site());
    let tracing_name = match &args.span_current {
        Some(key) => Some(tracing_span_name(key, item)?),
        None => None,
    };
    let site_static = call_site(args, item, &site, owner, tracing_name.as_deref());
    // A method annotated on its own (not through its `impl` block) cannot see
    // its type: with a receiver, `Self` exists, and the runtime names the
    // call site after `type_name::<Self>()`, once per type; the default span
    // name becomes `Type::method` too.
    let per_type = (owner.is_none() && (sig.receiver().is_some() || names_self(sig)))
        .then(|| args.name.is_none() && args.span_current.is_none());
    let catalog = catalog_entry(args, item, &form, &site, outer_generics, per_type);
    let (site_ref, site_static) = if let Some(rename) = per_type {
        let typed = format_ident!("__IE_TYPED", span = Span::mixed_site());
        let local = format_ident!("__ie_site", span = Span::mixed_site());
        let static_and_local = quote! {
            #site_static
            static #typed: ::instrument_errors::__private::TypedSites =
                ::instrument_errors::__private::TypedSites::new();
            let #local: &'static ::instrument_errors::__private::CallSite =
                ::instrument_errors::__private::TypedSites::site(
                    &#typed,
                    &#site,
                    ::core::any::type_name::<Self>,
                    #rename,
                );
        };
        (quote!(#local), static_and_local)
    } else {
        (quote!(&#site), site_static)
    };
    let block = &item.block;
    // The return type with its `impl Trait` parts left to inference.
    let ret_inferred = match &sig.output {
        ReturnType::Type(_, ty) => infer_impl(ty),
        ReturnType::Default => quote!(()),
    };
    // Names of the expansion's own locals: hygienic, so the body's bindings
    // and `use` items cannot reach them.
    let entry_var = format_ident!("__ie_entry", span = Span::mixed_site());
    let body_var = format_ident!("__ie_body", span = Span::mixed_site());
    let started = format_ident!("__ie_started", span = Span::mixed_site());
    let output_var = format_ident!("__ie_output", span = Span::mixed_site());
    let selectors = quote! {
        #[allow(unused_imports)]
        use #p::{
            ViaBoxedLocalFuture as _, ViaBoxedSendFuture as _, ViaNamedFuture as _, ViaSync as _,
        };
    };
    let track_caller = item.attrs.iter().any(|a| a.path().is_ident("track_caller"));
    let after = after(args);
    let entry_lazy = entry(args, false);
    let entry_eager = entry(args, true);
    let body = match form {
        Form::Named(_) | Form::Opaque if track_caller => {
            let ret = match form {
                Form::Named(ty) => quote!(#ty),
                _ => ret_inferred.clone(),
            };
            let start = match form {
                Form::Named(ty) => quote! {{
                    #selectors
                    (&&#p::Select::<#ty>::NEW).ie_start_inline(#site_ref, #entry_lazy)
                }},
                _ => quote!(#p::CallSite::start(#site_ref, #entry_lazy)),
            };
            let frame = format_ident!("__ie_frame", span = Span::mixed_site());
            if matches!(&sig.output, ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_))) {
                // Never returns: only a panic ends it, which the frame's
                // destructor records.
                quote! {
                    let #frame = #p::InlineFrame::enter(#start);
                    #block
                }
            } else {
                let label = syn::Lifetime::new("'__ie_body", Span::mixed_site());
                let inline = crate::inline::rewrite(block, &label)?;
                let classify = classify(args, None);
                // A body that always diverges (`todo!()`) makes these
                // unreachable; the user's own code is still linted.
                quote! {
                    let #frame = #p::InlineFrame::enter(#start);
                    let #output_var: #ret = #label: #inline;
                    #[allow(unreachable_code)]
                    #p::InlineFrame::finish(#frame, &#output_var, #classify, #after);
                    #[allow(unreachable_code)]
                    #output_var
                }
            }
        }
        Form::AsyncFn => {
            let classify = classify(args, None);
            // An `async` block has no declared output type: its tail and its
            // `return`s are made coercion sites to the declared one, as in
            // the plain `async fn`.
            let body = match &sig.output {
                ReturnType::Type(_, ty) if !matches!(**ty, Type::Never(_)) => {
                    let coerced = coerce_returns(block, &ret_inferred);
                    // A body that always diverges (`todo!()`) makes the tail
                    // unreachable; the user's own code is still linted.
                    quote!({
                        let #output_var: #ret_inferred = #coerced;
                        #[allow(unreachable_code)]
                        #output_var
                    })
                }
                _ => quote!(#block),
            };
            quote! {
                #p::CallSite::instrument(
                    #site_ref,
                    #entry_eager,
                    #p::typed_future::<#ret_inferred, _>(async move #body),
                    #classify,
                    #after,
                ).await
            }
        }
        Form::ImplFuture {
            output,
            into_future,
        } => {
            let output = output.map_or_else(|| quote!(_), infer_impl);
            let classify = classify(args, None);
            let build = if into_future {
                quote!(#p::typed_into_future_from::<#output, _, _>(move || #block))
            } else {
                quote!(#p::typed_future_from::<#output, _, _>(move || #block))
            };
            quote! {
                let #entry_var = #entry_eager;
                let #body_var = #build;
                #p::CallSite::instrument(#site_ref, #entry_var, #body_var, #classify, #after)
            }
        }
        Form::Named(ty) => {
            let classify = classify(args, None);
            match tail_boxed_async(block) {
                // `Box::pin(async move { .. })` as the only way out of the
                // body (what `#[async_trait]` writes): the `async` block is
                // instrumented in place, in the same box.
                Some((rest, func, found)) => {
                    let wrapped = quote! {
                        #p::CallSite::instrument(
                            #site_ref,
                            #entry_var,
                            #p::typed_future_as(#output_var, #found),
                            #classify,
                            #after,
                        )
                    };
                    quote! {
                        let #entry_var = #entry_eager;
                        let #output_var = #p::output_of::<#ty>();
                        {
                            #(#rest)*
                            #func(#wrapped)
                        }
                    }
                }
                None => quote! {
                    let #started = {
                        #selectors
                        (&&#p::Select::<#ty>::NEW).ie_start(#site_ref, #entry_lazy)
                    };
                    let #body_var = #p::once(move || -> #ty #block);
                    {
                        #selectors
                        (&&#p::Select::<#ty>::NEW).ie_run(#started, #body_var, #classify, #after)
                    }
                },
            }
        }
        Form::Opaque => {
            // The `impl Trait` parts are left to inference: the closure's
            // argument type says the rest (the error type) up front.
            let classify = match &sig.output {
                ReturnType::Type(_, ty) if contains_impl(ty) => classify(args, Some(&ret_inferred)),
                _ => classify(args, None),
            };
            // With `impl Trait` in the return type, spanned at the body: a type
            // error in the body ("return type was inferred to be ...") points
            // there, as on the plain function. Otherwise the closure's return
            // type already points it there, and the call keeps the macro's
            // span (lints do not see it as the user's code).
            let body_span = match &sig.output {
                ReturnType::Type(_, ty) if contains_impl(ty) => block.brace_token.span.join(),
                _ => Span::call_site(),
            };
            quote_spanned! {body_span=>
                ::instrument_errors::__private::Frame::run(
                    ::instrument_errors::__private::CallSite::start(#site_ref, #entry_lazy),
                    move || -> #ret_inferred #block,
                    #classify,
                    #after,
                )
            }
        }
    };
    let (outer, inner): (Vec<_>, Vec<_>) = item
        .attrs
        .iter()
        .partition(|a| matches!(a.style, AttrStyle::Outer));
    let vis = &item.vis;
    // The generated body keeps the braces (and so the spans) of the user's.
    let mut fn_body = TokenStream::new();
    item.block.brace_token.surround(&mut fn_body, |t| {
        t.extend(quote! {
            #(#inner)*
            #site_static
            #catalog
            #body
        });
    });
    Ok(quote! {
        #(#outer)*
        #vis #sig #fn_body
    })
}

/// With a protocol flag, the status is read from the returned value's type: a
/// type with `impl Trait` parts (`impl IntoResponse`) hides it.
fn check_status_readable(
    flag: &syn::Ident,
    form: &Form<'_>,
    sig: &syn::Signature,
) -> syn::Result<()> {
    let output = match (form, &sig.output) {
        (Form::ImplFuture { output, .. }, _) => *output,
        (_, ReturnType::Type(_, ty)) => Some(&**ty),
        (_, ReturnType::Default) => None,
    };
    let Some(output) = output else {
        return Ok(());
    };
    struct Find<'a>(Option<&'a syn::TypeImplTrait>);
    impl<'ast> Visit<'ast> for Find<'ast> {
        fn visit_type_impl_trait(&mut self, t: &'ast syn::TypeImplTrait) {
            self.0.get_or_insert(t);
        }
    }
    let mut find = Find(None);
    find.visit_type(output);
    if flag == "db" {
        // The code is read from the error, which is never hidden.
        return Ok(());
    }
    let types = if flag == "grpc" {
        "`Result<tonic::Response<T>, tonic::Status>`"
    } else {
        "`Response`, `(StatusCode, String)`, `StatusCode`, `Result<Json<T>, AppError>` (with \
         `AppError: ResponseStatus`); an axum handler can return `.into_response()` as `Response`"
    };
    match find.0 {
        Some(hidden) => Err(syn::Error::new_spanned(
            hidden,
            format!(
                "the `{flag}` flag reads the status from the returned type, and `impl Trait` hides \
                 it: name the type, like {types}"
            ),
        )),
        None => Ok(()),
    }
}

/// The `static` describing the call site.
fn call_site(
    args: &Args,
    item: &ItemFn,
    site: &syn::Ident,
    owner: Option<&str>,
    tracing_name: Option<&str>,
) -> TokenStream {
    let ident = item.sig.ident.to_string();
    let ident = ident.trim_start_matches("r#");
    // A method of an annotated impl block: `Type::method`.
    let ident = match owner {
        Some(owner) => format!("{owner}::{ident}"),
        None => ident.to_owned(),
    };
    let ident = ident.as_str();
    // With `span = current`, the `tracing` span's name: its exception
    // records are `<that name>.exception`, and so is the span of its own
    // that it starts when no `tracing` span is current.
    let name = match tracing_name {
        Some(name) => name.to_owned(),
        None => args
            .name
            .as_ref()
            .map_or_else(|| ident.to_owned(), syn::LitStr::value),
    };
    let current_span = match &args.span_current {
        Some(key) => quote_spanned!(key.span()=> ::instrument_errors::__span_current!()),
        None => quote!(false),
    };
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
        // The levels a record of this function can be emitted at: its own
        // and the more severe ones (a record takes the highest severity of
        // the frames it escapes; a panic is `ERROR`), and `DEBUG` for an
        // error `ok_if` (or a protocol flag) accepts. One `tracing` callsite
        // each, and no more:
        // they are most of the expansion's compile time.
        const SEVERITY: [&str; 5] = ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"];
        let handles = args.ok_if.is_some() || args.protocol.is_some();
        let own = SEVERITY.iter().position(|l| *l == level).unwrap_or(1);
        let levels = SEVERITY
            .iter()
            .enumerate()
            .filter(|(i, l)| *i <= own || (**l == "DEBUG" && handles))
            .map(|(_, l)| format_ident!("{l}"));
        let level = format_ident!("{level}");
        let event = format!("{name}.exception");
        let handled = args.handled_attribute.iter();
        quote!(::core::option::Option::Some(
            ::instrument_errors::__exception_sink!(#event, #level, [#(#levels),*] #(, #handled)*)
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
                current_span: #current_span,
            });
    }
}

/// `span = current`: the name of the span of the `#[tracing::instrument]`
/// written below the attribute (its `name = "..."`, else the function's
/// name). Written above it, `#[tracing::instrument]` has already wrapped the
/// body, out of reach: a compile error, as is a missing one.
fn tracing_span_name(key: &syn::Ident, item: &ItemFn) -> syn::Result<String> {
    let below = item.attrs.iter().find(|a| {
        let segments: Vec<String> = a
            .path()
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        segments == ["instrument"] || segments == ["tracing", "instrument"]
    });
    let Some(attr) = below else {
        let block = &item.block;
        let wrapped = contains_ident(quote!(#block), "__tracing_attr_span");
        let message = if wrapped {
            "`span = current` cannot reach the span of a `#[tracing::instrument]` written above \
             it (that one wraps this attribute): write `#[instrument_errors(span = current)]` \
             above `#[tracing::instrument]`"
        } else {
            "`span = current` records on the span of the `#[tracing::instrument]` written below \
             it: add `#[tracing::instrument]` under this attribute"
        };
        return Err(syn::Error::new(key.span(), message));
    };
    let mut name = None;
    if let syn::Meta::List(list) = &attr.meta {
        let tokens: Vec<TokenTree> = list.tokens.clone().into_iter().collect();
        for window in tokens.windows(3) {
            if let [TokenTree::Ident(i), TokenTree::Punct(eq), TokenTree::Literal(lit)] = window {
                if i == "name" && eq.as_char() == '=' {
                    if let Ok(syn::Lit::Str(s)) = syn::parse2::<syn::Lit>(quote!(#lit)) {
                        name = Some(s.value());
                    }
                }
            }
        }
    }
    Ok(name.unwrap_or_else(|| {
        item.sig
            .ident
            .to_string()
            .trim_start_matches("r#")
            .to_owned()
    }))
}

fn contains_ident(tokens: TokenStream, name: &str) -> bool {
    tokens.into_iter().any(|tt| match tt {
        TokenTree::Ident(i) => i == name,
        TokenTree::Group(g) => contains_ident(g.stream(), name),
        _ => false,
    })
}

/// What the catalog can know about a function's `Err` type.
enum Returned {
    /// Not a `Result` by its spelling (a tuple, a reference, `()`, ...):
    /// no `Err` values.
    NotAResult,
    /// A type that can be named outside the function, its `Ok` type (first
    /// type argument) replaced by `()`: the runtime's probes decide.
    Probe(Box<Type>),
    /// A type the catalog cannot name outside the function: open.
    Unknown,
}

/// The function's registration in `instrument_errors::catalog` (the
/// runtime's feature `testing` enables this crate's): a call of the
/// runtime's `__catalog_entry!`. Without the feature, nothing.
fn catalog_entry(
    args: &Args,
    item: &ItemFn,
    form: &Form<'_>,
    site: &syn::Ident,
    outer_generics: &[String],
    per_type: Option<bool>,
) -> TokenStream {
    if !cfg!(feature = "testing") {
        // Without the runtime's feature `testing`: nothing at all.
        return TokenStream::new();
    }
    let out = format_ident!("__ie_out", span = Span::mixed_site());
    let mut values = Vec::new();
    if args.error_type.is_some() {
        // The function decides every error's value.
        values.push(quote!(#out.open();));
    } else {
        match returned(item, form, outer_generics) {
            Returned::NotAResult => {}
            Returned::Probe(ty) => values.push(quote! {
                (&&&&&::instrument_errors::catalog::Returned::<#ty>::NEW).ie_values(#out);
            }),
            Returned::Unknown => values.push(quote!(#out.open();)),
        }
    }
    if args.error_if.is_some() {
        values.push(quote!(#out.open();));
    }
    // A protocol flag (`kind = server, http` / `grpc`): the statuses that
    // are failures on this side.
    values.extend(protocol_values(args, &out));
    let line = quote_spanned!(item.sig.ident.span()=> ::core::line!());
    let per_type = per_type.map(|rename| quote!(per_type(#rename),));
    quote! {
        ::instrument_errors::__catalog_entry! {
            #site, ::core::file!(), #line, #per_type |#out| {
                #(#values)*
            }
        }
    }
}

/// The `error.type` values the protocol flag can report, if there is one.
fn protocol_values(args: &Args, out: &syn::Ident) -> Option<TokenStream> {
    let flag = args.protocol.as_ref()?;
    let protocol = protocol_type(flag);
    let side = match args.kind.as_ref().map(ToString::to_string).as_deref() {
        Some("client") => quote!(Client),
        _ => quote!(Server),
    };
    Some(quote! {
        ::instrument_errors::catalog::protocol_values::<#protocol>(
            ::instrument_errors::__private::Side::#side,
            #out,
        );
    })
}

/// The type whose `Err` values the catalog lists, when it can be named in an
/// item outside the function (no generic parameter of the function or of an
/// enclosing `impl`, `outer_generics` when the block is annotated, no
/// `Self`, no `impl Trait`).
fn returned(item: &ItemFn, form: &Form<'_>, outer_generics: &[String]) -> Returned {
    let ty = match (form, &item.sig.output) {
        (_, ReturnType::Default) => return Returned::NotAResult,
        (Form::ImplFuture { output: None, .. }, _) => return Returned::Unknown,
        (
            Form::ImplFuture {
                output: Some(ty), ..
            },
            _,
        ) => *ty,
        (_, ReturnType::Type(_, ty)) => boxed_future_output(ty).unwrap_or(ty),
    };
    let mut ty = ty.clone();
    loop {
        ty = match ty {
            Type::Paren(t) => *t.elem,
            Type::Group(t) => *t.elem,
            _ => break,
        };
    }
    let Type::Path(mut path) = ty else {
        return Returned::NotAResult;
    };
    if path.qself.is_some() {
        return Returned::Unknown;
    }
    // The `Ok` type does not matter: `Result<(), E>`, `io::Result<()>`.
    if let Some(PathArguments::AngleBracketed(args)) =
        path.path.segments.last_mut().map(|s| &mut s.arguments)
    {
        if let Some(GenericArgument::Type(first)) = args
            .args
            .iter_mut()
            .find(|a| matches!(a, GenericArgument::Type(_)))
        {
            *first = syn::parse_quote!(());
        }
    }
    let generics: Vec<String> = item
        .sig
        .generics
        .type_params()
        .map(|p| p.ident.to_string())
        .chain(
            item.sig
                .generics
                .const_params()
                .map(|p| p.ident.to_string()),
        )
        .chain(outer_generics.iter().cloned())
        .collect();
    struct Check<'a> {
        generics: &'a [String],
        nameable: bool,
        /// The path being visited is the trait of a qualified path
        /// (`<u8 as Trait>::Err`), not relative to a type.
        qualified: bool,
    }
    impl VisitMut for Check<'_> {
        fn visit_lifetime_mut(&mut self, lifetime: &mut syn::Lifetime) {
            lifetime.ident = syn::Ident::new("static", lifetime.ident.span());
        }
        fn visit_type_mut(&mut self, ty: &mut Type) {
            match ty {
                Type::ImplTrait(_) | Type::Infer(_) | Type::Macro(_) | Type::Verbatim(_) => {
                    self.nameable = false;
                }
                Type::Reference(r) if r.lifetime.is_none() => {
                    r.lifetime = Some(syn::Lifetime::new("'static", r.and_token.span));
                    syn::visit_mut::visit_type_mut(self, ty);
                }
                Type::Path(p) if p.qself.is_some() => {
                    if let Some(qself) = &mut p.qself {
                        self.visit_type_mut(&mut qself.ty);
                    }
                    self.qualified = true;
                    self.visit_path_mut(&mut p.path);
                }
                _ => syn::visit_mut::visit_type_mut(self, ty),
            }
        }
        fn visit_path_mut(&mut self, path: &mut syn::Path) {
            let qualified = std::mem::take(&mut self.qualified);
            if let Some(first) = path.segments.first() {
                let name = first.ident.to_string();
                let short_caps = name.len() <= 2
                    && name.starts_with(|c: char| c.is_ascii_uppercase())
                    && name
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
                // `Backend::Error`: a path relative to a type names an
                // associated type of a type parameter (a concrete type's
                // would need `<T as Trait>::Error`), here one of an
                // enclosing `impl` the attribute cannot see. Two segments
                // only: `Win32::Foundation::WIN32_ERROR` goes through a
                // capitalised module.
                let type_relative = !qualified
                    && path.leading_colon.is_none()
                    && path.segments.len() == 2
                    && name.starts_with(|c: char| c.is_ascii_uppercase());
                if name == "Self"
                    || self.generics.contains(&name)
                    || (path.segments.len() == 1 && short_caps)
                    || type_relative
                {
                    self.nameable = false;
                }
            }
            syn::visit_mut::visit_path_mut(self, path);
        }
    }
    let mut check = Check {
        generics: &generics,
        nameable: true,
        qualified: false,
    };
    check.visit_type_path_mut(&mut path);
    if check.nameable {
        Returned::Probe(Box::new(Type::Path(path)))
    } else {
        Returned::Unknown
    }
}

/// `X` in `Pin<Box<dyn Future<Output = X> + ..>>`.
fn boxed_future_output(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Pin" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let Some(GenericArgument::Type(Type::Path(boxed))) = args.args.first() else {
        return None;
    };
    let last = boxed.path.segments.last()?;
    if last.ident != "Box" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let Some(GenericArgument::Type(Type::TraitObject(object))) = args.args.first() else {
        return None;
    };
    object.bounds.iter().find_map(|bound| {
        let TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let last = bound.path.segments.last()?;
        if last.ident != "Future" {
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

/// `[attribute("key", value), ...]`, evaluated where it stands (see
/// [`key_value`]).
fn attribute_list(pairs: &[(syn::LitStr, Expr)]) -> TokenStream {
    let pairs = pairs.iter().map(|(key, value)| key_value(key, value));
    quote!([#(#pairs),*])
}

/// One `"key" = value` as a `KeyValue` expression that does not move the
/// function's parameters: a place (`name`, `self.id`, `args[0]`, `*r`) is
/// borrowed, and its value taken through `&V: AttributeValue` or a clone;
/// any other expression (`id.len()`, `format!(..)`, a literal) is evaluated
/// by value, as written. Spanned at the value, so that a value that is not
/// an attribute value is reported there.
pub fn key_value(key: &syn::LitStr, value: &Expr) -> TokenStream {
    if is_place(value) {
        quote_spanned! {value.span()=> {
            #[allow(unused_imports)]
            use ::instrument_errors::__private::{
                ViaCloneValue as _, ViaNoValue as _, ViaRefValue as _,
            };
            ::instrument_errors::__private::attribute(
                #key,
                (&&::instrument_errors::__private::AttributeRef(&(#value))).ie_value(),
            )
        }}
    } else {
        quote_spanned!(value.span()=> ::instrument_errors::__private::attribute(#key, #value))
    }
}

/// Whether evaluating `expr` by value would move out of a place.
fn is_place(expr: &Expr) -> bool {
    match expr {
        Expr::Path(p) => p.qself.is_none(),
        Expr::Field(_) | Expr::Index(_) => true,
        Expr::Unary(u) => matches!(u.op, syn::UnOp::Deref(_)),
        Expr::Paren(p) => is_place(&p.expr),
        Expr::Group(g) => is_place(&g.expr),
        _ => false,
    }
}

/// The [`Entry`] a call starts with: `attributes(..)` evaluated lazily (only
/// for a span that records) or now (`eager`, for futures, whose body owns the
/// arguments), and `metric_attributes(..)`, `parent` and `links` evaluated
/// now.
///
/// [`Entry`]: https://docs.rs/instrument-errors
fn entry(args: &Args, eager: bool) -> TokenStream {
    let p = quote!(::instrument_errors::__private);
    let attributes = if args.attributes.is_empty() {
        quote!([] as [#p::KeyValue; 0])
    } else {
        attribute_list(&args.attributes)
    };
    let mut entry = if eager {
        quote!(#p::Entry::eager(#attributes))
    } else {
        quote!(#p::Entry::lazy(|| #attributes))
    };
    if !args.metric_attributes.is_empty() {
        let metric = attribute_list(&args.metric_attributes);
        entry = quote!(#p::Entry::metric_attributes(#entry, #metric));
    }
    // The user's expressions carry their spans, so that a wrong type is
    // reported at them.
    if let Some(parent) = &args.parent {
        entry = quote_spanned!(parent.span()=> ::instrument_errors::__private::Entry::parent(#entry, #parent));
    }
    if let Some(links) = &args.links {
        entry = quote_spanned!(links.span()=> ::instrument_errors::__private::Entry::links(#entry, #links));
    }
    entry
}

/// The after-call closure: `result_attributes` and the protocol flag's status
/// attribute through [`After`]; empty (and zero-sized) without them.
///
/// [`After`]: https://docs.rs/instrument-errors
fn after(args: &Args) -> TokenStream {
    let p = quote!(::instrument_errors::__private);
    let out = format_ident!("__ie_out", span = Span::mixed_site());
    let hooks = format_ident!("__ie_after", span = Span::mixed_site());
    let mut body = TokenStream::new();
    if let Some(f) = &args.result_attributes {
        // The call of the user's function carries its span, so that a wrong
        // signature is reported at the function.
        body.extend(quote_spanned! {f.span()=>
            ::instrument_errors::__private::After::result_attributes(#hooks, #out, #f);
        });
    }
    if let Some(flag) = &args.protocol {
        let protocol = protocol_type(flag);
        let ok = format_ident!("__ie_ok", span = Span::mixed_site());
        let err = format_ident!("__ie_err", span = Span::mixed_site());
        let status = format_ident!("__ie_status", span = Span::mixed_site());
        body.extend(quote! {
            #[allow(unused_imports)]
            use #p::{NotAResult as _, ViaNoStatus as _, ViaStatus as _};
            let #status = match #p::Outcome(#out).ie_split() {
                #p::Split::Ok(#ok) => (&#p::StatusOf::<#protocol, _>::new(#ok)).ie_status(),
                #p::Split::Err(#err) => (&#p::StatusOf::<#protocol, _>::new(#err)).ie_status(),
            };
            #p::After::status(#hooks, #p::status_attribute::<#protocol>(#status));
        });
    }
    if body.is_empty() {
        quote!(|_, _| {})
    } else {
        quote!(|#out, #hooks| { #body })
    }
}

/// The runtime's marker type of a protocol flag, spanned at the flag so that
/// a missing feature is reported there.
fn protocol_type(flag: &syn::Ident) -> TokenStream {
    let name = match flag.to_string().as_str() {
        "grpc" => "Grpc",
        "db" => "Db",
        _ => "Http",
    };
    let ty = format_ident!("{}", name, span = flag.span());
    quote_spanned!(flag.span()=> ::instrument_errors::__private::#ty)
}

/// The closure that turns `&ReturnType` into a `Verdict`, written where the
/// type is concrete so that the runtime's autoref probes resolve.
fn classify(args: &Args, param: Option<&TokenStream>) -> TokenStream {
    let p = quote!(::instrument_errors::__private);
    let out = format_ident!("__ie_out", span = Span::mixed_site());
    let ok = format_ident!("__ie_ok", span = Span::mixed_site());
    let err = format_ident!("__ie_err", span = Span::mixed_site());
    // The calls of the user's functions are written out in full, not with
    // `#p`, so that every token of the call carries the function's span: a
    // wrong signature is then reported at the function, not at the attribute.
    let status = format_ident!("__ie_status", span = Span::mixed_site());
    let flag = args.protocol.as_ref().map(|flag| {
        let side = match args.kind.as_ref().map(ToString::to_string).as_deref() {
            Some("client") => quote!(#p::Side::Client),
            _ => quote!(#p::Side::Server),
        };
        (protocol_type(flag), side)
    });
    let on_ok = match (&args.error_if, &flag) {
        (Some(f), _) => quote_spanned! {f.span()=>
            match ::instrument_errors::__private::error_if(#f, #ok) {
                ::core::option::Option::Some(t) => #p::Verdict::failure(t),
                ::core::option::Option::None => #p::Verdict::Success,
            }
        },
        // A protocol flag: a failed status in the `Ok` value (or the whole
        // value) is a failure without an exception.
        (None, Some((protocol, side))) => quote! {
            #p::flag_ok::<#protocol>(#side, (&#p::StatusOf::<#protocol, _>::new(#ok)).ie_status())
        },
        (None, None) => quote!({
            let _ = #ok;
            #p::Verdict::Success
        }),
    };
    let error_type = match (&args.error_type, &flag) {
        (Some(f), _) => {
            quote_spanned!(f.span()=> ::instrument_errors::__private::error_type(#f, #err))
        }
        // With a flag: the error's own `ErrorType`, else its status's value.
        (None, Some((protocol, _))) => quote! {
            #p::flag_error_type::<#protocol>(
                ::core::option::Option::as_ref(&#status),
                (&#p::Probe(#err)).ie_known_error_type(),
                || (&#p::Probe(#err)).ie_error_type(),
            )
        },
        (None, None) => quote!((&#p::Probe(#err)).ie_error_type()),
    };
    let message = if args.description.as_ref().map_or(true, |b| b.value) {
        quote!((&#p::Probe(#err)).ie_message())
    } else {
        quote!(::core::option::Option::None)
    };
    let failure = quote!(#p::Failure {
        error_type: #error_type,
        message: #message,
        error: (&#p::Probe(#err)).ie_error(),
    });
    // With a flag, an `Err` whose status is not a failure is handled.
    let failure = match &flag {
        Some((protocol, side)) => quote!(#p::flag_err::<#protocol>(
            #side,
            ::core::option::Option::as_ref(&#status),
            #failure
        )),
        None => quote!(#p::Verdict::Failure(#failure)),
    };
    // An error `ok_if` accepts is handled (`Verdict::Handled`).
    let on_err = match &args.ok_if {
        Some(f) => {
            let ok_if = quote_spanned!(f.span()=> ::instrument_errors::__private::ok_if(#f, #err));
            let handled = format_ident!("__ie_handled", span = Span::mixed_site());
            // `ok_if` first: the user's `error_type` runs after it, as before.
            quote!({
                let #handled = #ok_if;
                #p::Verdict::handled_if(#failure, #handled)
            })
        }
        None => failure,
    };
    let on_err = match &flag {
        Some((protocol, _)) => quote!({
            let #status = (&#p::StatusOf::<#protocol, _>::new(#err)).ie_status();
            #on_err
        }),
        None => on_err,
    };
    let flag_imports = flag.as_ref().map(|_| {
        quote! {
            #[allow(unused_imports)]
            use #p::{ViaKnownErrorType as _, ViaNoStatus as _, ViaStatus as _,
                     ViaUnknownErrorType as _};
        }
    });
    let param = match param {
        Some(ty) => quote!(#out: &#ty),
        None => quote!(#out),
    };
    quote! {
        |#param| {
            #[allow(unused_imports)]
            use #p::{NotAResult as _, ViaDisplay as _, ViaError as _, ViaErrorType as _,
                     ViaNoDisplay as _, ViaNoError as _, ViaTypeName as _};
            #flag_imports
            match #p::Outcome(#out).ie_split() {
                #p::Split::Ok(#ok) => #on_ok,
                #p::Split::Err(#err) => #on_err,
            }
        }
    }
}

/// Whether the type is, by its spelling, never a future: a tuple, an array or
/// slice, a shared reference, a primitive, or one of the standard types that
/// functions return most (`Result`, `Option`, `String`, `Vec`, `Cow`, maps
/// and sets). Anything else is left to the runtime's `Select`.
fn never_a_future(ty: &Type) -> bool {
    const NAMES: &[&str] = &[
        "Result", "Option", "String", "Vec", "Cow", "HashMap", "BTreeMap", "HashSet", "BTreeSet",
        "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32",
        "i64", "i128", "isize", "f32", "f64",
    ];
    match ty {
        Type::Tuple(_) | Type::Array(_) | Type::Slice(_) => true,
        Type::Reference(r) => r.mutability.is_none(),
        Type::Paren(t) => never_a_future(&t.elem),
        Type::Group(t) => never_a_future(&t.elem),
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| NAMES.contains(&s.ident.to_string().as_str())),
        _ => false,
    }
}

/// Whether a type has `impl Trait` parts.
fn contains_impl(ty: &Type) -> bool {
    struct Find(bool);
    impl<'ast> Visit<'ast> for Find {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut find = Find(false);
    find.visit_type(ty);
    find.0
}

/// The type with its `impl Trait` parts replaced by `_`, for inference to
/// fill in: the signature alone then decides what the outcome's type is.
fn infer_impl(ty: &Type) -> TokenStream {
    struct Replace;
    impl VisitMut for Replace {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::ImplTrait(t) = ty {
                *ty = Type::Infer(syn::TypeInfer {
                    underscore_token: syn::Token![_](t.impl_token.span),
                });
            } else {
                syn::visit_mut::visit_type_mut(self, ty);
            }
        }
    }
    let mut ty = ty.clone();
    Replace.visit_type_mut(&mut ty);
    quote!(#ty)
}

/// `Some((Output, is IntoFuture))` when the return type is `impl Future<..>`
/// or `impl IntoFuture<..>`.
fn future_bound(ty: &Type) -> Option<(Option<&Type>, bool)> {
    let bounds = match ty {
        Type::ImplTrait(t) => &t.bounds,
        Type::Paren(t) => return future_bound(&t.elem),
        Type::Group(t) => return future_bound(&t.elem),
        _ => return None,
    };
    bounds.iter().find_map(|bound| {
        let TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let last = bound.path.segments.last()?;
        let into_future = last.ident == "IntoFuture";
        if last.ident != "Future" && !into_future {
            return None;
        }
        let output = match &last.arguments {
            PathArguments::AngleBracketed(args) => args.args.iter().find_map(|arg| match arg {
                GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(&assoc.ty),
                _ => None,
            }),
            _ => None,
        };
        Some((output, into_future))
    })
}

/// When the body's last expression is `Box::pin(async ..)` and nothing else
/// can leave the body (no `return` anywhere before it, macros included): the
/// statements before it, the `Box::pin` path and the `async` block.
fn tail_boxed_async(block: &Block) -> Option<(&[Stmt], &Expr, &ExprAsync)> {
    let (Stmt::Expr(Expr::Call(ExprCall { func, args, .. }), None), rest) =
        block.stmts.split_last()?
    else {
        return None;
    };
    let Expr::Path(path) = &**func else {
        return None;
    };
    let names: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if !names.ends_with(&["Box".to_owned(), "pin".to_owned()]) || args.len() != 1 {
        return None;
    }
    let Some(Expr::Async(found)) = args.first() else {
        return None;
    };
    let returns = rest.iter().any(|stmt| has_return(quote!(#stmt)));
    (!returns).then_some((rest, &**func, found))
}

/// The block with the value of each of its `return`s (outside closures,
/// `async` blocks and items, which they leave instead) passed through
/// `ret::<T>(..)`: a function argument is a coercion site, so each `return`
/// coerces to the declared type `T` as in a function with that return type.
/// `return`s inside macro calls are not seen; they need no coercion in
/// practice (`bail!` converts with `.into()`).
fn coerce_returns(block: &Block, ret: &TokenStream) -> Block {
    struct Coerce<'a>(&'a TokenStream);
    impl VisitMut for Coerce<'_> {
        fn visit_expr_mut(&mut self, expr: &mut Expr) {
            match expr {
                Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
                Expr::Return(r) => {
                    if let Some(value) = &mut r.expr {
                        self.visit_expr_mut(value);
                        let ret = self.0;
                        let span = value.span();
                        **value = syn::parse_quote_spanned! {span=>
                            ::instrument_errors::__private::ret::<#ret>(#value)
                        };
                    }
                }
                _ => syn::visit_mut::visit_expr_mut(self, expr),
            }
        }
        fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    }
    let mut block = block.clone();
    Coerce(ret).visit_block_mut(&mut block);
    block
}

/// Whether the signature names `Self` (`fn new() -> Self`): the function is
/// then an associated function, where `Self` exists.
fn names_self(sig: &syn::Signature) -> bool {
    fn has(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|tt| match tt {
            TokenTree::Ident(i) => i == "Self",
            TokenTree::Group(g) => has(g.stream()),
            _ => false,
        })
    }
    let inputs = &sig.inputs;
    let output = &sig.output;
    has(quote!(#inputs #output))
}

/// Whether the tokens hold a `return` (or a `?`, which returns too).
pub fn has_return(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tt| match tt {
        TokenTree::Ident(i) => i == "return",
        TokenTree::Punct(p) => p.as_char() == '?',
        TokenTree::Group(g) => has_return(g.stream()),
        TokenTree::Literal(_) => false,
    })
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
