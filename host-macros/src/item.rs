//! The annotated item: an `async fn`, or (for `#[hosted_service]`) a struct or enum. Everything
//! about its shape that makes it unusable is reported here, each on the offending token.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{FnArg, Ident, Item, ReturnType, Signature, Type};

use crate::args::Attr;
use crate::diag::Errors;

/// What the attribute is on.
pub(crate) enum Target {
    Fn(ServiceFn),
    /// A struct or enum, without generics.
    Type(Ident),
}

/// An `async fn` the generated service calls.
pub(crate) struct ServiceFn {
    pub(crate) ident: Ident,
    /// The parameters' types, in order.
    pub(crate) params: Vec<Type>,
    /// The parameters' names as written (`pool`, or the pattern), for the error when an injected
    /// value is missing.
    pub(crate) param_names: Vec<String>,
    /// The declared return type; `None` for `()`.
    pub(crate) output: Option<Box<Type>>,
}

pub(crate) fn parse(attr: Attr, tokens: TokenStream) -> syn::Result<Target> {
    let item: Item = syn::parse2(tokens)?;
    match item {
        Item::Fn(f) => {
            let placed = crate::diag::both(stacked(attr, &f.attrs), associated(attr, &f));
            crate::diag::both(placed, function(attr, &f.sig)).map(|(_, func)| Target::Fn(func))
        }
        Item::Verbatim(tokens) if syn::parse2::<syn::TraitItemFn>(tokens.clone()).is_ok() => {
            let method = syn::parse2::<syn::TraitItemFn>(tokens)?;
            Err(placement(attr, &method.sig.ident, "a trait method"))
        }
        Item::Struct(s) if attr == Attr::HostedService => {
            type_item(&s.ident, &s.generics).map(|()| Target::Type(s.ident))
        }
        Item::Enum(e) if attr == Attr::HostedService => {
            type_item(&e.ident, &e.generics).map(|()| Target::Type(e.ident))
        }
        Item::Struct(syn::ItemStruct {
            struct_token, ident, ..
        }) => Err(periodic_on_type(quote!(#struct_token #ident))),
        Item::Enum(syn::ItemEnum { enum_token, ident, .. }) => Err(periodic_on_type(quote!(#enum_token #ident))),
        other => Err(unsupported(attr, &other)),
    }
}

/// `#[hosted_service]` and `#[periodic]` on one function: the other attribute is still on the item
/// when the first one expands.
fn stacked(attr: Attr, attrs: &[syn::Attribute]) -> syn::Result<()> {
    let other = match attr {
        Attr::HostedService => "periodic",
        Attr::Periodic => "hosted_service",
    };
    let Some(found) = attrs
        .iter()
        .find(|a| a.path().segments.last().is_some_and(|s| s.ident == other))
    else {
        return Ok(());
    };
    Err(syn::Error::new_spanned(
        found.path(),
        "`#[hosted_service]` and `#[periodic]` on one function would run it twice, in two ways; pick one: \
         `#[periodic(…)]` runs it on a schedule, each run to completion; `#[hosted_service]` runs it once, for \
         the life of the host, until its token is cancelled",
    ))
}

/// A function that names `Self` is an associated function of an `impl` or trait; the generated
/// registration cannot live there (and a free function never names `Self`).
fn associated(attr: Attr, f: &syn::ItemFn) -> syn::Result<()> {
    fn names_self(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i == "Self",
            proc_macro2::TokenTree::Group(g) => names_self(g.stream()),
            _ => false,
        })
    }
    let mut tokens = f.sig.to_token_stream();
    // Items nested in the body (an `impl` block of a local type) may name their own `Self`.
    for stmt in &f.block.stmts {
        if !matches!(stmt, syn::Stmt::Item(_)) {
            stmt.to_tokens(&mut tokens);
        }
    }
    if names_self(tokens) {
        return Err(placement(
            attr,
            &f.sig.ident,
            "an associated function of an `impl` block or trait",
        ));
    }
    Ok(())
}

/// Where the attribute belongs, for one that sits on a method or associated function.
fn placement(attr: Attr, ident: &Ident, what: &str) -> syn::Error {
    let (example, by_hand) = match attr {
        Attr::Periodic => (
            format!("#[host::periodic(every = \"30s\")] async fn {ident}() {{ MyType::{ident}().await }}"),
            "host::Service::periodic(name, schedule, job)",
        ),
        Attr::HostedService => (
            format!("#[host::hosted_service] async fn {ident}(ctx: host::Context) {{ MyType::{ident}(ctx).await }}"),
            "host::Service::hosted(name, service)",
        ),
    };
    syn::Error::new(
        ident.span(),
        format!(
            "`{}` goes on a free `async fn` at module level, not on {what}: the host calls a plain function, \
             with no type to call it on; put a free function next to the `impl` that calls this one \
             (`{example}`), or register the service by hand with `{by_hand}`",
            attr.display()
        ),
    )
}

fn function(attr: Attr, sig: &Signature) -> syn::Result<ServiceFn> {
    let mut errors = Errors::default();
    let what = attr.display();
    if let Some(constness) = &sig.constness {
        errors.push(syn::Error::new(
            constness.span,
            format!("`{what}` cannot be on a `const fn`; remove `const`"),
        ));
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.push(syn::Error::new(
            unsafety.span,
            format!(
                "`{what}` cannot be on an `unsafe fn`: the host calls it and cannot uphold its safety contract; \
                 remove `unsafe` and use `unsafe` blocks inside"
            ),
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new_spanned(
            abi,
            format!("`{what}` cannot be on an `extern` fn; remove the ABI"),
        ));
    }
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new(
            sig.fn_token.span,
            format!("`{what}` goes on an `async fn`: add `async` before `fn`"),
        ));
    }
    for param in &sig.generics.params {
        let message = match param {
            syn::GenericParam::Lifetime(l) => format!(
                "`{what}` cannot be on a function with a lifetime parameter: the host supplies the arguments and \
                 their lifetimes, it cannot be given `{0}`; remove `<{0}>` and elide the lifetime \
                 (`ctx: &host::Context`)",
                l.lifetime
            ),
            syn::GenericParam::Type(t) => format!(
                "`{what}` cannot be on a generic function: the host calls it with no type arguments, so it cannot \
                 choose `{}`; remove the type parameter and name a concrete type",
                t.ident
            ),
            syn::GenericParam::Const(c) => format!(
                "`{what}` cannot be on a function with a const parameter: the host calls it with no generic \
                 arguments, so it cannot choose `{}`; remove the const parameter",
                c.ident
            ),
        };
        errors.push(syn::Error::new_spanned(param, message));
    }
    if let Some(where_clause) = &sig.generics.where_clause {
        errors.push(syn::Error::new_spanned(
            where_clause,
            format!("`{what}` cannot be on a function with a `where` clause; remove it"),
        ));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new_spanned(
            variadic,
            format!("`{what}` cannot be on a variadic function"),
        ));
    }
    let mut params = Vec::new();
    let mut param_names = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => errors.push(syn::Error::new_spanned(
                receiver,
                format!(
                    "`{what}` goes on a free `async fn`, not a method: the host has no `self` to call it on; \
                     move the function out of the `impl` block"
                ),
            )),
            FnArg::Typed(pat) if contains_impl_trait(&pat.ty) => errors.push(syn::Error::new_spanned(
                &pat.ty,
                format!(
                    "`{what}` cannot supply an `impl Trait` parameter; name a concrete type such as `host::Context`"
                ),
            )),
            FnArg::Typed(pat) => {
                params.push((*pat.ty).clone());
                param_names.push(match &*pat.pat {
                    syn::Pat::Ident(ident) => ident.ident.to_string(),
                    other => other.to_token_stream().to_string(),
                });
            }
        }
    }
    let output = match &sig.output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) if contains_impl_trait(ty) => {
            errors.push(syn::Error::new_spanned(
                ty,
                "a service function returns `()` or `Result<(), E>`, not `impl Trait`; name the type",
            ));
            None
        }
        ReturnType::Type(_, ty) => Some(ty.clone()),
    };
    errors.finish(ServiceFn {
        ident: sig.ident.clone(),
        params,
        param_names,
        output,
    })
}

/// Whether a type mentions `impl Trait`, which the generated code cannot name.
fn contains_impl_trait(ty: &Type) -> bool {
    fn walk(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i == "impl",
            proc_macro2::TokenTree::Group(g) => walk(g.stream()),
            _ => false,
        })
    }
    walk(ty.to_token_stream())
}

fn type_item(ident: &Ident, generics: &syn::Generics) -> syn::Result<()> {
    if generics.params.is_empty() && generics.where_clause.is_none() {
        return Ok(());
    }
    let span_of = if generics.params.is_empty() {
        generics.where_clause.to_token_stream()
    } else {
        generics.to_token_stream()
    };
    Err(syn::Error::new_spanned(
        span_of,
        format!(
            "`#[hosted_service]` cannot register a generic type: the host builds one `{ident}` with no type arguments; \
             register each instantiation by hand with `host::Service::hosted(…)` instead"
        ),
    ))
}

fn periodic_on_type(head: TokenStream) -> syn::Error {
    syn::Error::new_spanned(
        head,
        "`#[periodic]` goes on an `async fn`; for a type, implement `host::Job` and register \
         `host::Service::periodic(name, schedule, job)` with `host::register!` or `Host::builder().service(…)`",
    )
}

fn unsupported(attr: Attr, item: &Item) -> syn::Error {
    fn head(keyword: impl ToTokens, ident: &Ident) -> TokenStream {
        quote!(#keyword #ident)
    }
    let (what, tokens) = match item {
        Item::Mod(m) => ("a module", head(m.mod_token, &m.ident)),
        Item::Impl(i) => ("an `impl` block", i.impl_token.to_token_stream()),
        Item::Trait(t) => ("a trait", head(t.trait_token, &t.ident)),
        Item::TraitAlias(t) => ("a trait alias", head(t.trait_token, &t.ident)),
        Item::Static(s) => ("a static", head(s.static_token, &s.ident)),
        Item::Const(c) => ("a constant", head(c.const_token, &c.ident)),
        Item::Type(t) => ("a type alias", head(t.type_token, &t.ident)),
        Item::Union(u) => ("a union", head(u.union_token, &u.ident)),
        Item::Use(u) => ("a `use` declaration", u.use_token.to_token_stream()),
        Item::ExternCrate(e) => ("an `extern crate`", head(e.extern_token, &e.ident)),
        Item::ForeignMod(f) => ("an `extern` block", f.abi.to_token_stream()),
        Item::Macro(m) => ("a macro invocation", m.mac.path.to_token_stream()),
        other => ("this item", other.to_token_stream()),
    };
    let supported = match attr {
        Attr::HostedService => "an `async fn`, or on a struct or enum that implements `host::HostedService`",
        Attr::Periodic => "an `async fn`",
    };
    let hint = match (attr, item) {
        (Attr::HostedService, Item::Impl(_)) => "; put it on the struct or enum that the `impl HostedService` is for",
        _ => "",
    };
    syn::Error::new_spanned(
        tokens,
        format!("`{}` goes on {supported}, not on {what}{hint}", attr.display()),
    )
}
