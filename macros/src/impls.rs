//! `#[instrument_errors(...)]` on an `impl` block: every method with a body
//! is expanded as if it carried the attribute itself, with the block's
//! arguments as defaults and its own `#[instrument_errors(...)]` overriding
//! them argument by argument; `#[instrument_errors(skip)]` and `const fn`s
//! are left alone.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens as _};
use syn::visit::Visit;
use syn::{Expr, FnArg, ImplItem, ItemFn, ItemImpl, Pat, Type};

use crate::args::{self, Args};

/// Expands the block, or returns it unchanged after the errors (so that the
/// only errors are the ones at the arguments).
pub fn expand(parsed: syn::Result<Args>, mut block: ItemImpl) -> TokenStream {
    let mut errors: Option<syn::Error> = None;
    let mut push = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    let defaults = match parsed.and_then(|d| shareable(&d, &block).map(|()| d)) {
        Ok(defaults) => defaults,
        Err(e) => {
            // The block unchanged but for the methods' own attributes: the
            // only errors are the ones at the block's arguments.
            for item in &mut block.items {
                if let ImplItem::Fn(method) = item {
                    method.attrs.retain(|a| !is_ours(a));
                }
            }
            let mut out = e.to_compile_error();
            out.extend(block.into_token_stream());
            return out;
        }
    };
    let owner = owner(&block);
    // The block's type parameters: a method's `Err` type naming one cannot be
    // named outside it (the catalog of feature `testing` leaves it open).
    let outer_generics: Vec<String> = block
        .generics
        .type_params()
        .map(|p| p.ident.to_string())
        .chain(block.generics.const_params().map(|p| p.ident.to_string()))
        .collect();
    let mut items = Vec::with_capacity(block.items.len());
    for item in std::mem::take(&mut block.items) {
        let ImplItem::Fn(mut method) = item else {
            items.push(item);
            continue;
        };
        // The method's own attribute(s), taken off: they are applied here.
        let mut own: Option<Args> = None;
        let mut own_error = false;
        let mut kept = Vec::with_capacity(method.attrs.len());
        for attr in std::mem::take(&mut method.attrs) {
            if !is_ours(&attr) {
                kept.push(attr);
                continue;
            }
            let tokens = match &attr.meta {
                syn::Meta::Path(_) => TokenStream::new(),
                syn::Meta::List(list) => list.tokens.clone(),
                syn::Meta::NameValue(nv) => {
                    push(syn::Error::new_spanned(
                        nv,
                        "expected `#[instrument_errors]` or `#[instrument_errors(...)]`",
                    ));
                    own_error = true;
                    continue;
                }
            };
            match (args::parse_list(tokens), &own) {
                (Ok(_), Some(_)) => {
                    push(syn::Error::new_spanned(
                        &attr,
                        "duplicate `#[instrument_errors]` on this method",
                    ));
                    own_error = true;
                }
                (Ok(args), None) => own = Some(args),
                (Err(e), _) => {
                    push(e);
                    own_error = true;
                }
            }
        }
        method.attrs = kept;
        if own_error {
            items.push(ImplItem::Fn(method));
            continue;
        }
        let skip = own.as_ref().is_some_and(|a| a.skip.is_some());
        // A `const fn` cannot be instrumented: left alone unless asked for
        // (then `expand` says why it cannot be).
        if skip || (own.is_none() && method.sig.constness.is_some()) {
            items.push(ImplItem::Fn(method));
            continue;
        }
        let args = match own {
            Some(own) => defaults.merged(own),
            None => defaults.merged(Args::default()),
        };
        if let Err(e) = args.validate() {
            push(e);
            items.push(ImplItem::Fn(method));
            continue;
        }
        let function = ItemFn {
            attrs: method.attrs.clone(),
            vis: method.vis.clone(),
            sig: method.sig.clone(),
            block: Box::new(method.block.clone()),
        };
        match crate::expand::expand(&args, &function, owner.as_deref(), &outer_generics) {
            Ok(tokens) => {
                let defaultness = method.defaultness;
                // `default fn` (specialization) keeps its keyword.
                let tokens = match defaultness {
                    Some(d) => quote!(#d #tokens),
                    None => tokens,
                };
                items.push(ImplItem::Verbatim(tokens));
            }
            Err(e) => {
                push(e);
                items.push(ImplItem::Fn(method));
            }
        }
    }
    block.items = items;
    let mut out = errors.map(|e| e.to_compile_error()).unwrap_or_default();
    out.extend(block.into_token_stream());
    out
}

/// `#[instrument_errors(..)]`, however the path to it is written.
fn is_ours(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "instrument_errors")
}

/// The name of the block's type for its methods' names: the last segment of
/// its path without generic arguments (`Repo<T>` gives `Repo`, `&Foo` gives
/// `Foo`); for a type that is not a named one (a type parameter of a blanket
/// impl, a tuple, a slice) the trait's name; else none.
fn owner(block: &ItemImpl) -> Option<String> {
    let mut ty = &*block.self_ty;
    loop {
        match ty {
            Type::Reference(r) => ty = &r.elem,
            Type::Paren(p) => ty = &p.elem,
            Type::Group(g) => ty = &g.elem,
            _ => break,
        }
    }
    let named = match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().and_then(|last| {
            let generic_param = p.path.segments.len() == 1
                && block.generics.type_params().any(|t| t.ident == last.ident);
            (!generic_param).then(|| last.ident.to_string())
        }),
        _ => None,
    };
    named
        .or_else(|| {
            block
                .trait_
                .as_ref()
                .and_then(|(_, path, _)| path.segments.last().map(|s| s.ident.to_string()))
        })
        .map(|name| name.trim_start_matches("r#").to_owned())
}

/// The block's arguments apply to every method: `name` and `metric` would
/// merge their operations, and `attributes(..)` naming a parameter or `self`
/// cannot be evaluated in every method.
fn shareable(args: &Args, block: &ItemImpl) -> syn::Result<()> {
    let mut errors: Option<syn::Error> = None;
    let mut push = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    for key in &args.keys {
        if key == "name" || key == "metric" {
            push(syn::Error::new(
                key.span(),
                format!(
                    "`{key}` on an impl block would give all its methods one {what}: give it on \
                     the method, `#[instrument_errors({key} = \"...\")]`",
                    what = if key == "name" {
                        "span name"
                    } else {
                        "histogram"
                    },
                ),
            ));
        }
        if key == "skip" {
            push(syn::Error::new(
                key.span(),
                "`skip` goes on a method of the impl block, `#[instrument_errors(skip)]`, to \
                 leave that method alone",
            ));
        }
    }
    let mut params: Vec<String> = vec!["self".to_owned()];
    for item in &block.items {
        if let ImplItem::Fn(method) = item {
            for input in &method.sig.inputs {
                if let FnArg::Typed(typed) = input {
                    collect_bindings(&typed.pat, &mut params);
                }
            }
        }
    }
    // The method parameters (or `self`) that `value` names.
    let named_params = |value: &syn::Expr| {
        let mut names = Names(Vec::new());
        names.visit_expr(value);
        names
            .0
            .into_iter()
            .filter(|ident| params.contains(&ident.to_string()))
    };
    let lists = [
        ("attributes", &args.attributes),
        ("metric_attributes", &args.metric_attributes),
    ];
    for (list, pairs) in lists {
        for (key, value) in pairs {
            for ident in named_params(value) {
                push(syn::Error::new(
                    ident.span(),
                    format!(
                        "`{list}(..)` on an impl block cannot name `{ident}`, a parameter of \
                         its methods: give `\"{}\"` on the method, \
                         `#[instrument_errors({list}(\"{}\" = ...))]`",
                        key.value(),
                        key.value()
                    ),
                ));
            }
        }
    }
    for (key, value) in [("parent", &args.parent), ("links", &args.links)] {
        for ident in value.iter().flat_map(|value| named_params(value)) {
            push(syn::Error::new(
                ident.span(),
                format!(
                    "`{key}` on an impl block cannot name `{ident}`, a parameter of its \
                     methods: give it on the method, `#[instrument_errors({key} = ...)]`"
                ),
            ));
        }
    }
    errors.map_or(Ok(()), Err)
}

fn collect_bindings(pat: &Pat, out: &mut Vec<String>) {
    struct Bindings<'a>(&'a mut Vec<String>);
    impl<'ast> Visit<'ast> for Bindings<'_> {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.0.push(p.ident.to_string());
            syn::visit::visit_pat_ident(self, p);
        }
    }
    Bindings(out).visit_pat(pat);
}

/// The single identifiers an expression names (`id`, `self`), not the
/// paths (`Kind::A`) nor the fields and methods.
struct Names(Vec<syn::Ident>);

impl<'ast> Visit<'ast> for Names {
    fn visit_expr(&mut self, expr: &'ast Expr) {
        if let Expr::Path(p) = expr {
            if p.qself.is_none() {
                if let Some(ident) = p.path.get_ident() {
                    self.0.push(ident.clone());
                }
            }
        }
        syn::visit::visit_expr(self, expr);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        // Arguments of macros (`format!("{}", id)`) are tokens: look at them.
        fn idents(tokens: TokenStream, out: &mut Vec<syn::Ident>) {
            for tt in tokens {
                match tt {
                    proc_macro2::TokenTree::Ident(i) => out.push(i),
                    proc_macro2::TokenTree::Group(g) => idents(g.stream(), out),
                    _ => {}
                }
            }
        }
        idents(mac.tokens.clone(), &mut self.0);
    }
}
