//! `#[host::queue_worker]`: an `async fn` that processes one item becomes a work queue's handler,
//! registered like the other services. Parse (options, then the function) → validate → expand,
//! as the other attributes; independent problems are reported together, each on its token.

use std::time::Duration;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, FnArg, Ident, Lit, LitStr, Meta, ReturnType, Token, Type};

use crate::diag::{Errors, did_you_mean, list};
use crate::duration;

const WHAT: &str = "#[queue_worker]";
const KEYS: &[&str] = &[
    "name",
    "order",
    "capacity",
    "concurrency",
    "attempts",
    "backoff",
    "max_backoff",
    "drain_timeout",
    "dead_letter",
    "on_shutdown_leftovers",
    "crate",
];
const SHAPE: &str = "async fn send(item: Email, ctx: host::Context) -> anyhow::Result<()>";

/// The options, each with the span of its value.
#[derive(Default)]
struct Args {
    name: Option<LitStr>,
    order: Option<(i32, Span)>,
    capacity: Option<(usize, Span)>,
    concurrency: Option<(usize, Span)>,
    attempts: Option<(u32, Span)>,
    backoff: Option<(Duration, Span)>,
    max_backoff: Option<(Duration, Span)>,
    drain_timeout: Option<(Duration, Span)>,
    dead_letter: Option<syn::Path>,
    leftovers: Option<syn::Path>,
    krate: Option<syn::Path>,
}

/// The handler function.
struct Worker {
    ident: Ident,
    item: Type,
    /// Parameters after the item, supplied through `FromContext`.
    injected: Vec<Type>,
    output: Option<Box<Type>>,
}

/// Entry point: the user's item always comes back, followed by the registration or the errors.
pub(crate) fn queue_worker(args: TokenStream, item: TokenStream) -> TokenStream {
    let parsed = crate::diag::both(parse_args(args), parse_fn(item.clone()));
    let generated = parsed
        .and_then(|(args, worker)| validate(&args).map(|()| expand(&args, &worker)))
        .unwrap_or_else(syn::Error::into_compile_error);
    quote!(#item #generated)
}

fn parse_args(tokens: TokenStream) -> syn::Result<Args> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens)?;
    let mut args = Args::default();
    let mut errors = Errors::default();
    let mut seen: Vec<String> = Vec::new();
    for meta in metas {
        let Meta::NameValue(nv) = meta else {
            errors.push(syn::Error::new_spanned(
                &meta,
                format!(
                    "`{WHAT}` options are `key = value`, e.g. `capacity = 1000`; valid keys: {}",
                    list(KEYS.iter().copied())
                ),
            ));
            continue;
        };
        let key = nv.path.get_ident().map(|i| i.unraw().to_string()).unwrap_or_default();
        if seen.contains(&key) {
            errors.push(syn::Error::new_spanned(
                &nv.path,
                format!("`{key}` is set twice; remove one"),
            ));
            continue;
        }
        seen.push(key.clone());
        let value = &nv.value;
        let result = match key.as_str() {
            "name" => string(value, &key).and_then(|s| {
                if s.value().trim().is_empty() {
                    Err(syn::Error::new_spanned(
                        &s,
                        "`name` cannot be empty; leave it out to use the function's path",
                    ))
                } else {
                    args.name = Some(s);
                    Ok(())
                }
            }),
            "order" => int::<i32>(value, &key, i32::MIN).map(|v| args.order = Some(v)),
            "capacity" => int::<usize>(value, &key, 1).map(|v| args.capacity = Some(v)),
            "concurrency" => int::<usize>(value, &key, 1).map(|v| args.concurrency = Some(v)),
            "attempts" => int::<u32>(value, &key, 1).map(|v| args.attempts = Some(v)),
            "backoff" => dur(value, &key).map(|v| args.backoff = Some(v)),
            "max_backoff" => dur(value, &key).map(|v| args.max_backoff = Some(v)),
            "drain_timeout" => dur(value, &key).map(|v| args.drain_timeout = Some(v)),
            "dead_letter" => path(value, &key).map(|p| args.dead_letter = Some(p)),
            "on_shutdown_leftovers" => path(value, &key).map(|p| args.leftovers = Some(p)),
            "crate" => string(value, &key)
                .and_then(|s| s.parse::<syn::Path>())
                .map(|p| args.krate = Some(p)),
            _ => Err(syn::Error::new_spanned(
                &nv.path,
                match did_you_mean(&key, KEYS.iter().copied()) {
                    Some(close) => format!("unknown option `{key}` for `{WHAT}`; did you mean `{close}`?"),
                    None => format!(
                        "unknown option `{key}` for `{WHAT}`; valid options: {}",
                        list(KEYS.iter().copied())
                    ),
                },
            )),
        };
        errors.take(result);
    }
    errors.finish(args)
}

fn string(value: &Expr, key: &str) -> syn::Result<LitStr> {
    match value {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Ok(s.clone()),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{key}` takes a string: `{key} = \"…\"`"),
        )),
    }
}

fn int<N>(value: &Expr, key: &str, min: N) -> syn::Result<(N, Span)>
where
    N: std::str::FromStr<Err: std::fmt::Display> + PartialOrd + std::fmt::Display + Copy,
{
    let (negative, lit) = match value {
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => (false, i),
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) if matches!(&**expr, Expr::Lit(ExprLit { lit: Lit::Int(_), .. })) => match &**expr {
            Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => (true, i),
            _ => return Err(syn::Error::new_spanned(value, format!("`{key}` takes an integer"))),
        },
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => {
            return Err(syn::Error::new_spanned(
                s,
                format!("`{key}` takes an integer, not a string: `{key} = {}`", s.value().trim()),
            ));
        }
        other => {
            return Err(syn::Error::new_spanned(
                other,
                format!("`{key}` takes an integer, e.g. `{key} = 4`"),
            ));
        }
    };
    let digits = lit.base10_digits();
    let text = if negative {
        format!("-{digits}")
    } else {
        digits.to_owned()
    };
    let n: N = text
        .parse()
        .map_err(|e| syn::Error::new_spanned(value, format!("`{key}` = {text}: {e}")))?;
    if n < min {
        return Err(syn::Error::new_spanned(
            value,
            format!("`{key}` must be at least {min}"),
        ));
    }
    Ok((n, value.span()))
}

fn dur(value: &Expr, key: &str) -> syn::Result<(Duration, Span)> {
    match value {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => duration::parse(s, key).map(|d| (d, s.span())),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{key}` takes a duration string, e.g. `{key} = \"1s\"`"),
        )),
    }
}

fn path(value: &Expr, key: &str) -> syn::Result<syn::Path> {
    match value {
        Expr::Path(p) if p.qself.is_none() => Ok(p.path.clone()),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{key}` takes the path of a function, e.g. `{key} = my_hook` (an `async fn`)"),
        )),
    }
}

fn parse_fn(tokens: TokenStream) -> syn::Result<Worker> {
    let item: syn::Item = syn::parse2(tokens)?;
    let syn::Item::Fn(f) = item else {
        return Err(syn::Error::new(
            first_span(&item),
            format!("`{WHAT}` goes on an `async fn` that processes one item: `{SHAPE}`"),
        ));
    };
    let sig = &f.sig;
    let mut errors = Errors::default();
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new(
            sig.fn_token.span,
            format!("`{WHAT}` goes on an `async fn`: add `async` before `fn`"),
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            format!(
                "`{WHAT}` cannot be on a generic function: the queue's item type must be known; name a concrete type"
            ),
        ));
    }
    let mut types = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(r) => errors.push(syn::Error::new_spanned(
                r,
                format!("`{WHAT}` goes on a free `async fn`, not a method; move it out of the `impl` block"),
            )),
            FnArg::Typed(p) => types.push((*p.ty).clone()),
        }
    }
    let mut types = types.into_iter();
    let item = types.next();
    if item.is_none() && sig.inputs.is_empty() {
        errors.push(syn::Error::new(
            sig.paren_token.span.join(),
            format!("a queue worker takes the item as its first parameter: `{SHAPE}`"),
        ));
    }
    let output = match &sig.output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => Some(ty.clone()),
    };
    errors.finish(())?;
    let item = item.ok_or_else(|| syn::Error::new(sig.paren_token.span.join(), "missing item parameter"))?;
    Ok(Worker {
        ident: sig.ident.clone(),
        item,
        injected: types.collect(),
        output,
    })
}

fn first_span(item: &syn::Item) -> Span {
    item.to_token_stream()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}

/// Checks between options.
fn validate(args: &Args) -> syn::Result<()> {
    if let (Some((initial, span)), Some((max, _))) = (args.backoff, args.max_backoff)
        && initial > max
    {
        return Err(syn::Error::new(
            span,
            "`backoff` (the first retry's delay) is longer than `max_backoff`; lower it or raise `max_backoff`",
        ));
    }
    if let (Some((1, span)), true) = (args.attempts, args.backoff.is_some() || args.max_backoff.is_some()) {
        return Err(syn::Error::new(
            span,
            "`attempts = 1` never retries, so `backoff`/`max_backoff` have no effect; remove them or allow more attempts",
        ));
    }
    Ok(())
}

fn nanos(krate: &syn::Path, d: Duration) -> TokenStream {
    let n = duration::nanos(d);
    quote!(#krate::__private::Duration::from_nanos(#n))
}

fn expand(args: &Args, w: &Worker) -> TokenStream {
    let krate = args.krate.clone().unwrap_or_else(|| syn::parse_quote!(::host));
    let Worker {
        ident,
        item,
        injected,
        output,
    } = w;
    let injected = injected
        .iter()
        .map(|ty| quote_spanned!(ty.span()=> <#ty as #krate::__private::FromContext<'_>>::from_context(__host_ctx)));
    let convert = match output {
        Some(ty) => quote_spanned!(ty.span()=> <#ty as #krate::__private::IntoResult>::into_result(__host_output)),
        None => quote!(#krate::__private::IntoResult::into_result(__host_output)),
    };
    let mut options = TokenStream::new();
    if let Some((n, _)) = args.capacity {
        options.extend(quote!(.capacity(#n)));
    }
    if let Some((n, _)) = args.concurrency {
        options.extend(quote!(.concurrency(#n)));
    }
    if args.attempts.is_some() || args.backoff.is_some() || args.max_backoff.is_some() {
        let mut retry = quote!(#krate::queue::Retry::new());
        if let Some((n, _)) = args.attempts {
            retry.extend(quote!(.attempts(#n)));
        }
        if let Some((d, _)) = args.backoff {
            let d = nanos(&krate, d);
            retry.extend(quote!(.initial(#d)));
        }
        if let Some((d, _)) = args.max_backoff {
            let d = nanos(&krate, d);
            retry.extend(quote!(.max(#d)));
        }
        options.extend(quote!(.retry(#retry)));
    }
    if let Some((d, _)) = args.drain_timeout {
        let d = nanos(&krate, d);
        options.extend(quote!(.drain_timeout(#d)));
    }
    if let Some(p) = &args.dead_letter {
        options.extend(quote_spanned!(p.span()=> .dead_letter(#p)));
    }
    if let Some(p) = &args.leftovers {
        options.extend(quote_spanned!(p.span()=> .on_shutdown_leftovers(#p)));
    }
    let order = args.order.map(|(n, _)| quote!(.order(#n)));
    let name = match &args.name {
        Some(name) => quote!(#name),
        None => {
            let ident = ident.unraw().to_string();
            quote!(::core::concat!(::core::module_path!(), "::", #ident))
        }
    };
    let location = quote_spanned!(ident.span()=> ::core::file!(), ::core::line!(), ::core::column!());
    // Spanned on the item's type: a type that cannot be an item is reported there, once.
    let queue_worker = quote_spanned!(item.span()=> #krate::__private::queue_worker::<#item, _>);
    quote! {
        const _: () = {
            fn __host_factory(__host_name: &'static ::core::primitive::str) -> #krate::Service {
                let __host_service = #queue_worker(
                    __host_name,
                    |__host_item: #item, __host_ctx: #krate::Context| async move {
                        let __host_ctx = &__host_ctx;
                        let __host_output = #ident(__host_item, #(#injected),*).await;
                        #convert
                    },
                    |__host_queue| __host_queue #options,
                );
                __host_service #order
            }

            #krate::__private::inventory::submit! {
                #krate::Registration::new(#name, #location, __host_factory)
            }
        };
    }
}
