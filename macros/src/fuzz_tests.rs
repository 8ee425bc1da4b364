//! Robustness of the attribute-argument parser: thousands of generated and
//! mutated argument lists (fixed seed, bounded count) go through
//! [`args::parse`]; it must never panic and must return either arguments or
//! an error with a message. The accepted ones are expanded onto small
//! functions, which must not panic either and must produce a function.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::str::FromStr as _;

use proc_macro2::{Delimiter, Group, Punct, Spacing, TokenStream, TokenTree};

use crate::{args, expand};

/// How many argument lists each test feeds the parser.
const CASES: usize = 4_000;

/// xorshift64*: tiny, deterministic, good enough to pick tokens.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Argument lists as users write them, right and wrong: the seeds mutated.
const SEEDS: &[&str] = &[
    "",
    r#"name = "a.b""#,
    r#"name = "acme.resource.create", kind = client, metric = "acme.resource.create.duration""#,
    "ok_if = is_already_exists, error_type = |e: &StoreError| e.code()",
    "error_if = |r: &Reply| (r.code >= 500).then(|| r.code.to_string())",
    r#"attributes("acme.resource.id" = id, "n" = 1 + 2), description = false"#,
    "log_level = warn, log = true,",
    "kind = server, log = false, description = true",
    r#"attributes("k" = self.id.clone(), "v" = &x[..]), ok_if = Self::handled"#,
    "error_type = crate::errors::classify::<E>, error_if = |_| None::<&'static str>",
    r#"name = "", metric = 3, kind = sideways, nope"#,
    r#"attributes(id = id), attributes = 3, name"#,
    "kind = server, error_if = instrument_errors::http::server_error, result_attributes = instrument_errors::http::response_attributes",
];

const IDENTS: &[&str] = &[
    "name",
    "kind",
    "metric",
    "ok_if",
    "error_if",
    "error_type",
    "description",
    "attributes",
    "result_attributes",
    "log_level",
    "log",
    "client",
    "server",
    "internal",
    "warn",
    "error",
    "true",
    "false",
    "self",
    "Self",
    "crate",
    "async",
    "move",
    "fn",
    "impl",
    "r#type",
    "r#name",
    "_",
    "x",
    "is_x",
    "Some",
];

const LITERALS: &[&str] = &[
    r#""a.b""#,
    r#""""#,
    r#""\u{0}\n""#,
    r#""x"suffix"#,
    r#"r"raw""#,
    r#"b"bytes""#,
    "'c'",
    "b'c'",
    "0",
    "3u8",
    "1.5",
    "1e9",
    "0xff",
    "18446744073709551616",
];

const PUNCTS: &[&str] = &[
    "=", ",", "|", "&", ".", ":", "::", "?", "#", "!", "<", ">", "->", "=>", "..", "..=", "*", "+",
    "-", ";", "@", "'a", "$", "~", "^", "==", "||", "&&",
];

fn token(rng: &mut Rng, depth: usize) -> TokenStream {
    match rng.below(if depth < 3 { 4 } else { 3 }) {
        0 => TokenStream::from_str(rng.pick(IDENTS)).unwrap(),
        1 => TokenStream::from_str(rng.pick(LITERALS)).unwrap(),
        2 => TokenStream::from_str(rng.pick(PUNCTS)).unwrap(),
        _ => {
            let delimiter = rng.pick(&[
                Delimiter::Parenthesis,
                Delimiter::Bracket,
                Delimiter::Brace,
                Delimiter::None,
            ]);
            let inner = random_stream(rng, depth + 1, 4);
            TokenTree::Group(Group::new(delimiter, inner)).into()
        }
    }
}

fn random_stream(rng: &mut Rng, depth: usize, max: usize) -> TokenStream {
    let n = rng.below(max + 1);
    (0..n).flat_map(|_| token(rng, depth)).collect()
}

/// A list of `key = value` / `key(...)` pairs with random keys and values.
fn structured(rng: &mut Rng) -> TokenStream {
    let mut out = TokenStream::new();
    for i in 0..rng.below(5) {
        if i > 0 || rng.chance(5) {
            out.extend(TokenStream::from_str(",").unwrap());
        }
        out.extend(TokenStream::from_str(rng.pick(IDENTS)).unwrap());
        match rng.below(4) {
            0 => {}
            1 => {
                let inner = if rng.chance(50) {
                    TokenStream::from_str(r#""k" = v, "l" = 1"#).unwrap()
                } else {
                    random_stream(rng, 1, 5)
                };
                out.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, inner))]);
            }
            _ => {
                out.extend([TokenTree::Punct(Punct::new('=', Spacing::Alone))]);
                out.extend(random_stream(rng, 1, 4));
            }
        }
    }
    if rng.chance(20) {
        out.extend(TokenStream::from_str(",").unwrap());
    }
    out
}

/// One mutation of `tokens`, at the top level or inside one of its groups.
fn mutate(rng: &mut Rng, tokens: TokenStream) -> TokenStream {
    let mut tts: Vec<TokenTree> = tokens.into_iter().collect();
    let len = tts.len();
    match rng.below(7) {
        0 if len > 0 => {
            tts.remove(rng.below(len));
        }
        1 if len > 0 => {
            let tt = tts[rng.below(len)].clone();
            tts.insert(rng.below(len + 1), tt);
        }
        2 if len > 1 => {
            let (a, b) = (rng.below(len), rng.below(len));
            tts.swap(a, b);
        }
        3 if len > 0 => {
            // mutate inside a group, keeping its delimiter and span
            let i = rng.below(len);
            if let TokenTree::Group(g) = &tts[i] {
                let mut inner = Group::new(g.delimiter(), mutate(rng, g.stream()));
                inner.set_span(g.span());
                tts[i] = TokenTree::Group(inner);
            }
        }
        4 if len > 1 => {
            // wrap a run of tokens in a group
            let a = rng.below(len);
            let b = a + 1 + rng.below(len - a);
            let inner: TokenStream = tts.drain(a..b).collect();
            let delimiter = rng.pick(&[Delimiter::Parenthesis, Delimiter::None]);
            tts.insert(a, TokenTree::Group(Group::new(delimiter, inner)));
        }
        5 if len > 0 => {
            tts.truncate(rng.below(len));
        }
        _ => {
            let at = rng.below(len + 1);
            let new: Vec<TokenTree> = token(rng, 1).into_iter().collect();
            for (k, tt) in new.into_iter().enumerate() {
                tts.insert(at + k, tt);
            }
        }
    }
    tts.into_iter().collect()
}

/// Parses `tokens`; panics (with the input) when the parser panics or returns
/// an error without a message. Returns the arguments it accepted.
fn check_parse(tokens: &TokenStream) -> Option<args::Args> {
    let outcome = catch_unwind(AssertUnwindSafe(|| args::parse(tokens.clone())));
    match outcome {
        Err(_) => panic!("args::parse panicked on `{tokens}`"),
        Ok(Ok(parsed)) => Some(parsed),
        Ok(Err(error)) => {
            let messages: Vec<String> = error.clone().into_iter().map(|e| e.to_string()).collect();
            assert!(!messages.is_empty(), "no error for `{tokens}`");
            for m in &messages {
                assert!(!m.trim().is_empty(), "empty error message for `{tokens}`");
            }
            assert!(
                !error.to_compile_error().is_empty(),
                "no compile_error! for `{tokens}`"
            );
            None
        }
    }
}

fn functions() -> Vec<syn::ItemFn> {
    vec![
        syn::parse_quote!(
            fn f(x: u32) -> Result<u32, E> {
                Ok(x)
            }
        ),
        syn::parse_quote!(
            pub async fn g(&self) -> Option<u8> {
                None
            }
        ),
        syn::parse_quote!(
            fn h() -> impl std::future::Future<Output = ()> {
                async {}
            }
        ),
    ]
}

fn check_expand(args: &args::Args, tokens: &TokenStream, items: &[syn::ItemFn]) {
    for item in items {
        let outcome = catch_unwind(AssertUnwindSafe(|| expand::expand(args, item, None, &[])));
        match outcome {
            Err(_) => panic!("expand panicked on `{tokens}`"),
            Ok(Err(e)) => panic!("expand refused `{tokens}` on a plain function: {e}"),
            Ok(Ok(out)) => {
                if let Err(e) = syn::parse2::<syn::ItemFn>(out.clone()) {
                    panic!("expansion of `{tokens}` is not a function: {e}\n{out}");
                }
            }
        }
    }
}

fn run(seed: u64, next: impl Fn(&mut Rng) -> TokenStream) -> (usize, usize) {
    let mut rng = Rng(seed);
    let items = functions();
    let (mut ok, mut err) = (0, 0);
    for _ in 0..CASES {
        let tokens = next(&mut rng);
        match check_parse(&tokens) {
            Some(parsed) => {
                ok += 1;
                check_expand(&parsed, &tokens, &items);
            }
            None => err += 1,
        }
    }
    (ok, err)
}

#[test]
fn mutated_seeds_never_panic() {
    let (ok, err) = run(0x9e37_79b9_7f4a_7c15, |rng| {
        let mut tokens = TokenStream::from_str(rng.pick(SEEDS)).unwrap();
        for _ in 0..=rng.below(4) {
            tokens = mutate(rng, tokens);
        }
        tokens
    });
    // The corpus exercises both outcomes, so the checks above are not vacuous.
    assert!(ok > 100 && err > 1_000, "ok {ok}, err {err}");
}

#[test]
fn generated_lists_never_panic() {
    let (ok, err) = run(0x0123_4567_89ab_cdef, |rng| {
        let mut tokens = if rng.chance(50) {
            structured(rng)
        } else {
            random_stream(rng, 0, 12)
        };
        if rng.chance(50) {
            tokens = mutate(rng, tokens);
        }
        tokens
    });
    assert!(ok > 50 && err > 1_000, "ok {ok}, err {err}");
}
