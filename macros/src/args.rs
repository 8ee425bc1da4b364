//! Parsing and validating the arguments of `#[instrument_errors(...)]`.

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt as _;
use syn::parse::{ParseStream, Parser as _};
use syn::{Expr, ExprLit, Ident, Lit, LitBool, LitStr, Token};

/// The arguments every `#[instrument_errors]` accepts, in the order they are
/// listed in error messages.
pub const ACCEPTED: &str = "`name`, `kind`, `metric`, `ok_if`, `error_if`, `error_type`, \
                            `description`, `attributes`, `metric_attributes`, `result_attributes`, \
                            `log_level`, `log`, `handled_attribute`, `parent`, `links`, `span`, and \
                            the protocol flags `http`, `grpc` and `db`";

const KINDS: &[&str] = &["internal", "client", "server", "producer", "consumer"];
const LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error"];
/// The protocol flags (`kind = server, http`).
const PROTOCOLS: &[&str] = &["http", "grpc", "db"];

/// Validated arguments.
#[derive(Default, Clone)]
pub struct Args {
    pub name: Option<LitStr>,
    pub kind: Option<Ident>,
    pub metric: Option<LitStr>,
    pub ok_if: Option<Expr>,
    pub error_if: Option<Expr>,
    pub error_type: Option<Expr>,
    pub description: Option<LitBool>,
    pub attributes: Vec<(LitStr, Expr)>,
    pub metric_attributes: Vec<(LitStr, Expr)>,
    pub result_attributes: Option<Expr>,
    pub log_level: Option<Ident>,
    pub log: Option<LitBool>,
    pub handled_attribute: Option<LitStr>,
    /// Where `handled_attribute` was written, for errors.
    handled_attribute_key: Option<Ident>,
    /// `parent = expr`: the span's parent context.
    pub parent: Option<Expr>,
    /// `links = expr`: the span's links.
    pub links: Option<Expr>,
    /// A protocol flag: `http` or `grpc`.
    pub protocol: Option<Ident>,
    /// Where `error_if` was written, for errors.
    error_if_key: Option<Ident>,
    /// `skip`: on a method of an annotated impl block, leave it alone.
    pub skip: Option<Ident>,
    /// `span = current`: the `span` key, where it was written.
    pub span_current: Option<Ident>,
    /// Where each argument was written, in order, for errors.
    pub keys: Vec<Ident>,
}

impl Args {
    /// These arguments, with `over`'s given ones replacing them argument by
    /// argument (a method's own arguments over its impl block's).
    pub fn merged(&self, over: Args) -> Args {
        let given = |key: &str| over.keys.iter().any(|k| k == key);
        let base = self.clone();
        Args {
            name: over.name.or(base.name),
            kind: over.kind.or(base.kind),
            metric: over.metric.or(base.metric),
            ok_if: over.ok_if.or(base.ok_if),
            error_if: over.error_if.or(base.error_if),
            error_type: over.error_type.or(base.error_type),
            description: over.description.or(base.description),
            attributes: if given("attributes") {
                over.attributes
            } else {
                base.attributes
            },
            metric_attributes: if given("metric_attributes") {
                over.metric_attributes
            } else {
                base.metric_attributes
            },
            result_attributes: over.result_attributes.or(base.result_attributes),
            log_level: over.log_level.or(base.log_level),
            log: over.log.or(base.log),
            handled_attribute: over.handled_attribute.or(base.handled_attribute),
            handled_attribute_key: over.handled_attribute_key.or(base.handled_attribute_key),
            parent: over.parent.or(base.parent),
            links: over.links.or(base.links),
            protocol: over.protocol.or(base.protocol),
            error_if_key: over.error_if_key.or(base.error_if_key),
            skip: over.skip,
            span_current: over.span_current.or(base.span_current),
            keys: base.keys.into_iter().chain(over.keys).collect(),
        }
    }
}

/// Collects every error so that the user sees all mistakes at once.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }
    fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// One `key = value` or `key(...)` as written.
enum RawValue {
    Missing,
    Assign(Expr),
    List(TokenStream, Span),
}

/// Parses the attribute's argument tokens.
pub fn parse(tokens: TokenStream) -> syn::Result<Args> {
    let args = parse_list(tokens)?;
    args.validate()?;
    Ok(args)
}

/// Parses the argument tokens, without the checks between arguments (a
/// method's arguments are checked once merged with its impl block's).
pub fn parse_list(tokens: TokenStream) -> syn::Result<Args> {
    let raw = (|input: ParseStream| parse_raw(input)).parse2(tokens)?;
    let mut args = Args::default();
    let mut errors = Errors::default();
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in raw {
        let name = key.to_string();
        if seen.contains(&name) {
            errors.push(syn::Error::new(
                key.span(),
                format!("duplicate argument `{name}`: each argument may be given once"),
            ));
            continue;
        }
        seen.push(name.clone());
        args.keys.push(key.clone());
        if let Err(e) = apply(&mut args, &key, value) {
            errors.push(e);
        }
    }
    if let Some(skip) = &args.skip {
        if args.keys.len() > 1 {
            errors.push(syn::Error::new(
                skip.span(),
                "`skip` leaves the method alone: it takes no other argument",
            ));
        }
    }
    errors.finish()?;
    Ok(args)
}

impl Args {
    /// The checks between arguments, once all are known.
    pub fn validate(&self) -> syn::Result<()> {
        let args = self;
        let mut errors = Errors::default();
        if args.span_current.is_some() {
            for key in args
                .keys
                .iter()
                .filter(|k| ["name", "kind", "parent", "links"].iter().any(|n| *k == n))
            {
                errors.push(syn::Error::new(
                    key.span(),
                    format!(
                        "`{key}` cannot be given with `span = current`: the span is the current \
                         `tracing` span, not one this attribute starts; give its name, kind and \
                         parent in `#[tracing::instrument(..)]`"
                    ),
                ));
            }
        }
        self.validate_more(errors)
    }

    fn validate_more(&self, mut errors: Errors) -> syn::Result<()> {
        let args = self;
        for (key, _) in &args.metric_attributes {
            if args
                .attributes
                .iter()
                .any(|(k, _)| k.value() == key.value())
            {
                errors.push(syn::Error::new(
                    key.span(),
                    format!(
                    "\"{}\" is in both `attributes` and `metric_attributes`: `metric_attributes` \
                     are set on the span too, so give it once, in `metric_attributes`",
                    key.value()
                ),
                ));
            }
        }
        if let Some(flag) = args.protocol.as_ref().filter(|f| *f == "db") {
            let kind = args.kind.as_ref().map(ToString::to_string);
            if kind.as_deref() != Some("client") {
                let span = args.kind.as_ref().map_or(flag.span(), Ident::span);
                errors.push(syn::Error::new(
                    span,
                    "the `db` flag sets the database's response code on a database client call: \
                     it needs `kind = client`, like `kind = client, db`",
                ));
            }
        } else if let Some(flag) = &args.protocol {
            let kind = args.kind.as_ref().map(ToString::to_string);
            if !matches!(kind.as_deref(), Some("server" | "client")) {
                let span = args.kind.as_ref().map_or(flag.span(), Ident::span);
                errors.push(syn::Error::new(
                span,
                format!(
                    "the `{flag}` flag classifies the result of a server or a client call: it needs \
                     `kind = server` or `kind = client`, like `kind = server, {flag}`"
                ),
            ));
            }
            if let Some(key) = &args.error_if_key {
                errors.push(syn::Error::new(
                    key.span(),
                    format!(
                    "`error_if` cannot be combined with the `{flag}` flag, which already decides \
                     which returned statuses are failures; remove one of them (`ok_if`, \
                     `error_type` and `handled_attribute` combine with the flag)"
                ),
                ));
            }
        }
        if let (Some(key), None) = (&args.handled_attribute_key, &args.ok_if) {
            if args.protocol.is_none() {
                errors.push(syn::Error::new(
                key.span(),
                "`handled_attribute` needs `ok_if` (or a protocol flag, `kind = server, http`): it \
                 names the attribute set on a handled error, and only those say which errors are \
                 handled, like \
                 `ok_if = is_already_exists, handled_attribute = \"acme.resource.create.status\"`",
            ));
            }
        }
        errors.finish()
    }
}

fn parse_raw(input: ParseStream) -> syn::Result<Vec<(Ident, RawValue)>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let key = if input.peek(Ident::peek_any) {
            Ident::parse_any(input)?
        } else {
            return Err(input.error(format!(
                "expected an argument name; accepted arguments: {ACCEPTED}"
            )));
        };
        let value = if input.peek(Token![=]) {
            let eq = input.parse::<Token![=]>()?;
            if input.is_empty() || input.peek(Token![,]) {
                // At the key and `=`: at the end of the input, `input.error`
                // would point at the whole attribute.
                return Err(syn::Error::new_spanned(
                    quote::quote!(#key #eq),
                    format!("expected a value after `{key} =`"),
                ));
            }
            RawValue::Assign(input.parse()?)
        } else if input.peek(syn::token::Paren) {
            let content;
            let paren = syn::parenthesized!(content in input);
            RawValue::List(content.parse()?, paren.span.join())
        } else {
            RawValue::Missing
        };
        out.push((key, value));
        if input.is_empty() {
            break;
        }
        if !input.peek(Token![,]) {
            return Err(input.error("expected `,` between arguments"));
        }
        input.parse::<Token![,]>()?;
    }
    Ok(out)
}

fn apply(args: &mut Args, key: &Ident, value: RawValue) -> syn::Result<()> {
    let name = key.to_string();
    match name.as_str() {
        "span" => {
            let expr = assigned(key, value, "span = current")?;
            match &expr {
                Expr::Path(p) if p.path.is_ident("current") => {
                    args.span_current = Some(key.clone());
                }
                _ => {
                    return Err(syn::Error::new_spanned(
                        expr,
                        "`span` accepts only `current`: `span = current` records on the current \
                         `tracing` span instead of a span of its own",
                    ))
                }
            }
        }
        "skip" => match value {
            RawValue::Missing => args.skip = Some(key.clone()),
            _ => {
                return Err(syn::Error::new(
                    key.span(),
                    "`skip` takes no value: `#[instrument_errors(skip)]`",
                ))
            }
        },
        "name" => args.name = Some(string(key, value, "name = \"acme.resource.create\"")?),
        "metric" => {
            args.metric = Some(string(
                key,
                value,
                "metric = \"acme.resource.create.duration\"",
            )?);
        }
        "kind" => args.kind = Some(choice(key, value, KINDS, "kind = client")?),
        "log_level" => args.log_level = Some(choice(key, value, LEVELS, "log_level = error")?),
        "ok_if" => args.ok_if = Some(function(key, value, "ok_if = is_already_exists")?),
        "error_if" => {
            args.error_if_key = Some(key.clone());
            args.error_if = Some(function(
                key,
                value,
                "error_if = |r: &Reply| (r.code >= 500).then(|| r.code.to_string())",
            )?);
        }
        "error_type" => {
            args.error_type = Some(function(
                key,
                value,
                "error_type = |e: &StoreError| e.code()",
            )?);
        }
        "description" => args.description = Some(boolean(key, value, "description = false")?),
        "log" => args.log = Some(boolean(key, value, "log = false")?),
        "attributes" => args.attributes = attributes(key, value)?,
        "metric_attributes" => args.metric_attributes = attributes(key, value)?,
        "parent" => {
            args.parent = Some(assigned(
                key,
                value,
                "parent = instrument_errors::http::extract_context(&headers)",
            )?);
        }
        "links" => {
            args.links = Some(assigned(
                key,
                value,
                "links = [Link::with_context(message_context)]",
            )?);
        }
        flag if PROTOCOLS.contains(&flag) => {
            let example = format!("kind = server, {flag}");
            match value {
                RawValue::Missing => {}
                RawValue::Assign(expr) => {
                    return Err(syn::Error::new_spanned(
                        expr,
                        format!("`{flag}` is a flag and takes no value, like `{example}`"),
                    ))
                }
                RawValue::List(_, span) => {
                    return Err(syn::Error::new(
                        span,
                        format!("`{flag}` is a flag and takes no value, like `{example}`"),
                    ))
                }
            }
            if let Some(other) = &args.protocol {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "only one protocol flag may be given: `{other}` is given already; the flags \
                         are {}",
                        PROTOCOLS.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            args.protocol = Some(key.clone());
        }
        "result_attributes" => {
            args.result_attributes = Some(function(
                key,
                value,
                "result_attributes = |r: &Reply| [KeyValue::new(\"acme.reply.code\", r.code as i64)]",
            )?);
        }
        "handled_attribute" => {
            args.handled_attribute = Some(string(
                key,
                value,
                "handled_attribute = \"acme.resource.create.status\"",
            )?);
            args.handled_attribute_key = Some(key.clone());
        }
        _ => {
            return Err(syn::Error::new(
                key.span(),
                format!("unknown argument `{name}`; accepted arguments: {ACCEPTED}"),
            ))
        }
    }
    Ok(())
}

fn assigned(key: &Ident, value: RawValue, example: &str) -> syn::Result<Expr> {
    match value {
        RawValue::Assign(expr) => Ok(expr),
        RawValue::Missing => Err(syn::Error::new(
            key.span(),
            format!("`{key}` needs a value, like `{example}`"),
        )),
        RawValue::List(_, span) => Err(syn::Error::new(
            span,
            format!("`{key}` takes `=` and a value, like `{example}`"),
        )),
    }
}

fn string(key: &Ident, value: RawValue, example: &str) -> syn::Result<LitStr> {
    match assigned(key, value, example)? {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) if !s.value().is_empty() => Ok(s),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{key}` must be a non-empty string literal, like `{example}`"),
        )),
    }
}

fn boolean(key: &Ident, value: RawValue, example: &str) -> syn::Result<LitBool> {
    match assigned(key, value, example)? {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => Ok(b),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{key}` must be `true` or `false`, like `{example}`"),
        )),
    }
}

fn choice(key: &Ident, value: RawValue, options: &[&str], example: &str) -> syn::Result<Ident> {
    let expr = assigned(key, value, example)?;
    let list = options
        .iter()
        .map(|o| format!("`{o}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if let Expr::Path(p) = &expr {
        if let Some(ident) = p.path.get_ident() {
            if options.contains(&ident.to_string().as_str()) {
                return Ok(ident.clone());
            }
        }
    }
    Err(syn::Error::new_spanned(
        expr,
        format!("`{key}` must be one of {list}, like `{example}`"),
    ))
}

fn function(key: &Ident, value: RawValue, example: &str) -> syn::Result<Expr> {
    let expr = assigned(key, value, example)?;
    match &expr {
        Expr::Lit(_) | Expr::Array(_) | Expr::Tuple(_) | Expr::Struct(_) | Expr::Range(_) => {
            Err(syn::Error::new_spanned(
                expr,
                format!("`{key}` must be a function: a closure or a path, like `{example}`"),
            ))
        }
        _ => Ok(expr),
    }
}

fn attributes(key: &Ident, value: RawValue) -> syn::Result<Vec<(LitStr, Expr)>> {
    let example = if key == "metric_attributes" {
        "metric_attributes(\"http.route\" = \"/items/{id}\")"
    } else {
        "attributes(\"acme.resource.id\" = id)"
    };
    let (tokens, span) = match value {
        RawValue::List(tokens, span) => (tokens, span),
        RawValue::Missing => {
            return Err(syn::Error::new(
                key.span(),
                format!("`{key}` needs a list, like `{example}`"),
            ))
        }
        RawValue::Assign(expr) => {
            return Err(syn::Error::new_spanned(
                expr,
                format!("`{key}` takes a parenthesized list, like `{example}`"),
            ))
        }
    };
    let pair = |input: ParseStream| {
        let key: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("attribute keys are string literals, like `{example}`"),
            )
        })?;
        if key.value().is_empty() {
            return Err(syn::Error::new(
                key.span(),
                "an attribute key cannot be empty",
            ));
        }
        input.parse::<Token![=]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("expected `=` after the key, like `{example}`"),
            )
        })?;
        Ok((key, input.parse::<Expr>()?))
    };
    let pairs = (|input: ParseStream| {
        let mut pairs = Vec::new();
        while !input.is_empty() {
            pairs.push(pair(input)?);
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(pairs)
    })
    .parse2(tokens)
    .map_err(|e| {
        if e.to_string().contains("unexpected end of input") {
            syn::Error::new(
                span,
                format!("incomplete attribute list, expected `{example}`"),
            )
        } else {
            e
        }
    })?;
    let mut out: Vec<(LitStr, Expr)> = Vec::new();
    let mut errors = Errors::default();
    for (k, v) in pairs {
        if out.iter().any(|(seen, _)| seen.value() == k.value()) {
            errors.push(syn::Error::new(
                k.span(),
                format!("duplicate attribute key \"{}\"", k.value()),
            ));
            continue;
        }
        out.push((k, v));
    }
    errors.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn accepts_everything() {
        let args = parse(quote!(
            name = "a.b",
            kind = client,
            metric = "a.b.duration",
            ok_if = is_x,
            error_if = |r: &R| (r.code >= 500).then(|| r.code.to_string()),
            error_type = |e: &E| e.code(),
            description = false,
            attributes("k" = id, "n" = 1 + 2),
            result_attributes = instrument_errors::http::response_attributes,
            log_level = error,
            log = true,
            handled_attribute = "a.b.status",
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(args.handled_attribute.unwrap().value(), "a.b.status");
        assert_eq!(args.name.unwrap().value(), "a.b");
        assert_eq!(args.kind.unwrap(), "client");
        assert_eq!(args.attributes.len(), 2);
        assert!(args.result_attributes.is_some());
        assert!(!args.description.unwrap().value);
    }

    #[test]
    fn rejects_with_messages() {
        for (tokens, needle) in [
            (quote!(nam = "x"), "unknown argument `nam`"),
            (quote!(name = "x", name = "y"), "duplicate argument `name`"),
            (quote!(kind = sideways), "`kind` must be one of"),
            (
                quote!(name = x),
                "`name` must be a non-empty string literal",
            ),
            (
                quote!(metric = 3),
                "`metric` must be a non-empty string literal",
            ),
            (
                quote!(description = "no"),
                "`description` must be `true` or `false`",
            ),
            (quote!(ok_if = 3), "`ok_if` must be a function"),
            (
                quote!(result_attributes = "http.response.status_code"),
                "`result_attributes` must be a function",
            ),
            (
                quote!(result_attributes("k" = v)),
                "`result_attributes` takes `=` and a value",
            ),
            (
                quote!(result_attributes),
                "`result_attributes` needs a value",
            ),
            (
                quote!(attributes(id = id)),
                "attribute keys are string literals",
            ),
            (quote!(attributes = 3), "parenthesized list"),
            (quote!(name), "`name` needs a value"),
            (quote!(name = ), "expected a value"),
            (quote!(name "x"), "expected `,`"),
            (quote!(, name = "x"), "expected an argument name"),
            (
                quote!(handled_attribute = "a.status"),
                "`handled_attribute` needs `ok_if`",
            ),
            (
                quote!(ok_if = f, handled_attribute = status),
                "`handled_attribute` must be a non-empty string literal",
            ),
            (
                quote!(ok_if = f, handled_attribute = ""),
                "`handled_attribute` must be a non-empty string literal",
            ),
        ] {
            let message = match parse(tokens.clone()) {
                Ok(_) => panic!("accepted {tokens}"),
                Err(e) => e.to_string(),
            };
            assert!(message.contains(needle), "{tokens}: {message}");
        }
    }

    #[test]
    fn reports_all_errors() {
        let Err(e) = parse(quote!(nam = 1, kind = up)) else {
            panic!("accepted")
        };
        assert_eq!(e.into_iter().count(), 2);
    }
}
