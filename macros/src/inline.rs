//! The body of a `#[track_caller]` function, written inline: `#[track_caller]`
//! does not reach into closures, so the body cannot run in one. Its `return`s
//! and `?`s become `break`s out of a labeled block, so that the outcome is
//! still recorded.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::visit_mut::VisitMut;
use syn::{Block, Expr, Macro};

/// Macros of `std`, `core`, `tracing`, `log`, `anyhow` and `eyre` that never
/// return from the function they are written in (when their arguments hold no
/// `return` or `?`).
const PLAIN_MACROS: &[&str] = &[
    "anyhow",
    "assert",
    "assert_eq",
    "assert_ne",
    "cfg",
    "column",
    "concat",
    "dbg",
    "debug",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "debug_span",
    "env",
    "eprint",
    "eprintln",
    "error",
    "error_span",
    "event",
    "eyre",
    "file",
    "format",
    "format_args",
    "format_err",
    "include_bytes",
    "include_str",
    "info",
    "info_span",
    "line",
    "log",
    "matches",
    "module_path",
    "option_env",
    "panic",
    "print",
    "println",
    "span",
    "stringify",
    "todo",
    "trace",
    "trace_span",
    "unimplemented",
    "unreachable",
    "vec",
    "warn",
    "warn_span",
    "write",
    "writeln",
];

/// The block with its `return`s and `?`s turned into `break label`, or an
/// error at a macro call that might return unseen.
pub fn rewrite(block: &Block, label: &syn::Lifetime) -> syn::Result<TokenStream> {
    let mut block = block.clone();
    let mut rewriter = Rewriter { label, error: None };
    rewriter.visit_block_mut(&mut block);
    match rewriter.error {
        Some(error) => Err(error),
        None => Ok(quote!(#block)),
    }
}

struct Rewriter<'a> {
    label: &'a syn::Lifetime,
    error: Option<syn::Error>,
}

impl Rewriter<'_> {
    fn check_macro(&mut self, mac: &Macro) {
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let known = PLAIN_MACROS.contains(&name.as_str());
        if known && !crate::expand::has_return(mac.tokens.clone()) {
            return;
        }
        let message = if known {
            format!(
                "`#[instrument_errors]` on a `#[track_caller]` function cannot see a `return` or \
                 `?` inside `{name}!(..)`: compute the value before the macro call"
            )
        } else {
            format!(
                "`#[instrument_errors]` on a `#[track_caller]` function cannot see whether \
                 `{name}!` returns from the function (as `bail!` or `ensure!` do), so it could \
                 not record that outcome: call it in a helper function, write the `return` out, \
                 or remove `#[track_caller]`"
            )
        };
        let error = syn::Error::new_spanned(&mac.path, message);
        match &mut self.error {
            Some(all) => all.combine(error),
            None => self.error = Some(error),
        }
    }
}

/// `break label value`, built directly (`syn` does not parse a labeled
/// `break` with a value from tokens).
fn breaking(label: &syn::Lifetime, span: proc_macro2::Span, value: Expr) -> Expr {
    Expr::Break(syn::ExprBreak {
        attrs: Vec::new(),
        break_token: syn::Token![break](span),
        label: Some(label.clone()),
        expr: Some(Box::new(value)),
    })
}

impl VisitMut for Rewriter<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            // Their `return`s and `?`s leave them, not the function.
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
            Expr::Return(ret) => {
                if let Some(value) = &mut ret.expr {
                    self.visit_expr_mut(value);
                }
                let span = ret.return_token.span;
                let value = ret
                    .expr
                    .take()
                    .unwrap_or_else(|| syn::parse_quote_spanned!(span=> ()));
                *expr = breaking(self.label, span, *value);
            }
            Expr::Try(try_expr) => {
                self.visit_expr_mut(&mut try_expr.expr);
                let label = self.label;
                let inner = &try_expr.expr;
                let span = try_expr.question_token.span();
                let p = quote_spanned!(span=> ::instrument_errors::__private);
                let residual: Expr =
                    syn::parse_quote_spanned!(span=> #p::FromResidual::ie_from_residual(r));
                let mut branch: syn::ExprMatch = syn::parse_quote_spanned! {span=>
                    match #p::Branch::ie_branch(#inner) {
                        ::core::ops::ControlFlow::Continue(v) => v,
                        ::core::ops::ControlFlow::Break(r) => (),
                    }
                };
                *branch.arms[1].body = breaking(label, span, residual);
                *expr = Expr::Match(branch);
            }
            Expr::Macro(mac) => self.check_macro(&mac.mac),
            _ => syn::visit_mut::visit_expr_mut(self, expr),
        }
    }

    fn visit_stmt_mut(&mut self, stmt: &mut syn::Stmt) {
        match stmt {
            syn::Stmt::Item(_) => {}
            syn::Stmt::Macro(mac) => self.check_macro(&mac.mac),
            _ => syn::visit_mut::visit_stmt_mut(self, stmt),
        }
    }
}
