//! Code generation only: every check happened before.
//!
//! The generated items live in a `const _: () = { … };` block next to the user's item, named with
//! a `__host` prefix, so nothing leaks into or collides with user code. Paths are absolute:
//! `::core::…` and the runtime through `#krate::…` (`::host` by default).

use std::time::Duration;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::Ident;
use syn::ext::IdentExt;

use crate::args::{CatchUp, MissedTicks, Policy, Restart};
use crate::duration::nanos;
use crate::item::ServiceFn;
use crate::validate::{Config, Kind, Schedule, Trigger};

/// The service, its factory and its registration.
pub(crate) fn service(config: &Config) -> TokenStream {
    // The runtime's path is named once, in a `use`: a wrong `crate = "…"` is one error, on the
    // literal, and rustc stays silent about the paths that go through the failed import.
    let runtime = &config.krate;
    let krate: &syn::Path = &syn::parse_quote!(__host_runtime);
    let import = quote_spanned!(config.krate_span=> use #runtime as __host_runtime;);
    let (ident, definition, service) = match &config.kind {
        Kind::HostedFn(func) => {
            let prepare = prepare(krate, func, quote!(HostedParam), quote!(__HostService));
            (
                &func.ident,
                hosted_fn(krate, func),
                quote!(#krate::__private::hosted_fn(__host_name, #prepare)),
            )
        }
        Kind::Periodic { func, schedule } => {
            let schedule = self::schedule(krate, schedule);
            let prepare = prepare(krate, func, quote!(RunParam), quote!(__HostJob));
            (
                &func.ident,
                periodic_fn(krate, func),
                quote!(#krate::__private::periodic_fn(__host_name, #schedule, #prepare)),
            )
        }
        Kind::HostedType { ident, new } => {
            // Spanned on the user's tokens: a missing `HostedService` or `Default` impl, or a
            // constructor that does not return `Self`, is reported there.
            let service = match new {
                // Which constructors are accepted (injected, fallible, async) is decided in one
                // place, the runtime's `inject::Constructor`; a constructor of the wrong shape is
                // reported on the path.
                Some(path) => quote_spanned! {span_of(path)=>
                    #krate::__private::hosted_from::<#ident, _, _, _>(__host_name, #path)
                },
                None => quote_spanned! {ident.span()=>
                    #krate::__private::hosted_with::<#ident>(
                        __host_name,
                        <#ident as ::core::default::Default>::default,
                    )
                },
            };
            (ident, TokenStream::new(), service)
        }
    };
    let order = config.order.map(|order| quote!(.order(#order)));
    let on_failure = config.on_failure.as_ref().map(|policy| {
        let policy = self::policy(krate, policy);
        quote!(.on_failure(#policy))
    });
    let disabled = (!config.enabled).then(|| quote!(.enabled(false)));
    let name = match &config.name {
        Some(name) => quote!(#name),
        None => {
            let ident = ident.unraw().to_string();
            quote!(::core::concat!(::core::module_path!(), "::", #ident))
        }
    };
    // Spanned on the item's name: `line!()` and `column!()` give the user's position.
    let location = quote_spanned!(ident.span()=> ::core::file!(), ::core::line!(), ::core::column!());
    quote! {
        const _: () = {
            #import

            #definition

            fn __host_factory(__host_name: &'static ::core::primitive::str) -> #krate::Service {
                #service #order #on_failure
            }

            #krate::__private::inventory::submit! {
                #krate::Registration::new(#name, #location, __host_factory) #disabled
            }
        };
    }
}

/// `#[hosted_service] async fn`: a unit struct whose `run` calls the function.
fn hosted_fn(krate: &syn::Path, func: &ServiceFn) -> TokenStream {
    let args = func.params.iter().zip(&func.param_names).enumerate().map(|(i, (ty, name))| {
        let field = field(i);
        let get = quote_spanned!(span_of(ty)=> <#ty as #krate::__private::HostedParam<'_>>::get(&self.#field, __host_ctx));
        unwrap_param(krate, get, name)
    });
    let call = call(krate, func, args);
    let fields = fields(krate, func);
    quote! {
        struct __HostService { #fields }

        impl #krate::HostedService for __HostService {
            // A function has no hooks: the host starts it without waiting on it.
            const HOOKS: ::core::primitive::bool = false;

            fn run(
                &mut self,
                __host_ctx: &#krate::Context,
            ) -> impl ::core::future::Future<Output = ::core::result::Result<(), #krate::BoxError>> + ::core::marker::Send {
                async move { #call }
            }
        }
    }
}

/// `#[periodic] async fn`: a unit struct whose `Job::run` calls the function.
fn periodic_fn(krate: &syn::Path, func: &ServiceFn) -> TokenStream {
    let args = func
        .params
        .iter()
        .zip(&func.param_names)
        .enumerate()
        .map(|(i, (ty, name))| {
            let field = field(i);
            let get = quote_spanned! {span_of(ty)=>
                <#ty as #krate::__private::RunParam<'_>>::get(&self.#field, __host_ctx, __host_tick)
            };
            unwrap_param(krate, get, name)
        });
    let call = call(krate, func, args);
    let fields = fields(krate, func);
    quote! {
        struct __HostJob { #fields }

        impl #krate::Job for __HostJob {
            fn run(
                &mut self,
                __host_ctx: &#krate::Context,
                __host_tick: #krate::Tick,
            ) -> impl ::core::future::Future<Output = ::core::result::Result<(), #krate::BoxError>> + ::core::marker::Send {
                async move {
                    let __host_tick = &__host_tick;
                    #call
                }
            }
        }
    }
}

/// The field that keeps parameter `i`'s resolved state.
fn field(i: usize) -> Ident {
    Ident::new(&format!("__host_p{i}"), Span::call_site())
}

/// A parameter's argument, or (not reached) the call's error.
fn unwrap_param(krate: &syn::Path, get: TokenStream, name: &str) -> TokenStream {
    quote! {
        match #get {
            ::core::option::Option::Some(__host_value) => __host_value,
            ::core::option::Option::None => {
                return ::core::result::Result::Err(#krate::__private::mismatch(#name));
            }
        }
    }
}

/// The generated struct's fields: each parameter's state, resolved at build time.
fn fields(krate: &syn::Path, func: &ServiceFn) -> TokenStream {
    let fields = (0..func.params.len()).map(|i| {
        let field = field(i);
        quote!(#field: #krate::__private::ParamState)
    });
    quote!(#(#fields,)*)
}

/// The closure the builder calls with the provided values: resolves every parameter's state.
fn prepare(krate: &syn::Path, func: &ServiceFn, param: TokenStream, ty: TokenStream) -> TokenStream {
    let fields = func
        .params
        .iter()
        .zip(&func.param_names)
        .enumerate()
        .map(|(i, (ty, name))| {
            let field = field(i);
            quote_spanned! {span_of(ty)=>
                #field: <#ty as #krate::__private::#param<'_>>::prepare(__host_provided, #name)?
            }
        });
    quote! {
        |__host_provided: &#krate::__private::Provided| {
            ::core::result::Result::Ok::<_, #krate::__private::Missing>(#ty { #(#fields,)* })
        }
    }
}

/// Awaits the user's function and converts its output. The conversion names the declared return
/// type, so an unsupported one is reported on it (with `IntoResult`'s note).
fn call(krate: &syn::Path, func: &ServiceFn, args: impl Iterator<Item = TokenStream>) -> TokenStream {
    let ident = &func.ident;
    let convert = match &func.output {
        Some(ty) => quote_spanned! {span_of(ty)=>
            <#ty as #krate::__private::IntoResult>::into_result(__host_output)
        },
        None => quote!(#krate::__private::IntoResult::into_result(__host_output)),
    };
    quote! {
        let __host_output = #ident(#(#args),*).await;
        #convert
    }
}

fn schedule(krate: &syn::Path, schedule: &Schedule) -> TokenStream {
    let Schedule {
        trigger,
        tz,
        initial_delay,
        jitter,
        missed_ticks,
        timeout,
        max_failures,
        singleton,
        catch_up,
        lease,
    } = schedule;
    let mut tokens = match trigger {
        Trigger::Every(period) => {
            let period = duration(krate, *period);
            quote!(#krate::Schedule::every(#period))
        }
        Trigger::FixedDelay(delay) => {
            let delay = duration(krate, *delay);
            quote!(#krate::Schedule::fixed_delay(#delay))
        }
        Trigger::Cron(expr) => quote!(#krate::Schedule::cron(#expr)),
    };
    if let Some(tz) = tz {
        tokens.extend(quote!(.tz(#tz)));
    }
    let durations = [
        ("initial_delay", initial_delay),
        ("jitter", jitter),
        ("timeout", timeout),
    ];
    for (method, value) in durations {
        if let Some(value) = value {
            let method = Ident::new(method, Span::call_site());
            let value = duration(krate, *value);
            tokens.extend(quote!(.#method(#value)));
        }
    }
    if let Some(missed) = missed_ticks {
        let variant = match missed {
            MissedTicks::Skip => quote!(Skip),
            MissedTicks::Burst => quote!(Burst),
            MissedTicks::Delay => quote!(Delay),
        };
        tokens.extend(quote!(.missed_ticks(#krate::MissedTicks::#variant)));
    }
    if let Some(n) = max_failures {
        tokens.extend(quote!(.max_failures(#n)));
    }

    if *singleton {
        tokens.extend(quote!(.singleton()));
    }
    if let Some(policy) = catch_up {
        let variant = match policy {
            CatchUp::Skip => quote!(Skip),
            CatchUp::Once => quote!(Once),
        };
        tokens.extend(quote!(.catch_up(#krate::CatchUp::#variant)));
    }
    if let Some(lease) = lease {
        let lease = duration(krate, *lease);
        tokens.extend(quote!(.lease(#lease)));
    }
    tokens
}

fn policy(krate: &syn::Path, policy: &Policy) -> TokenStream {
    match policy {
        Policy::StopHost => quote!(#krate::FailurePolicy::StopHost),
        Policy::Ignore => quote!(#krate::FailurePolicy::Ignore),
        Policy::Restart(restart) => {
            let restart = self::restart(krate, restart);
            quote!(#krate::FailurePolicy::Restart(#restart))
        }
    }
}

fn restart(krate: &syn::Path, restart: &Restart) -> TokenStream {
    let Restart {
        initial,
        max,
        factor,
        jitter,
        max_restarts,
        window,
    } = restart;
    let mut tokens = quote!(#krate::Restart::new());
    for (method, value) in [("initial", initial), ("max", max)] {
        if let Some(value) = value {
            let method = Ident::new(method, Span::call_site());
            let value = duration(krate, value.value);
            tokens.extend(quote!(.#method(#value)));
        }
    }
    for (method, value) in [("factor", factor), ("jitter", jitter)] {
        if let Some(value) = value {
            let method = Ident::new(method, Span::call_site());
            let value = proc_macro2::Literal::f64_suffixed(value.value);
            tokens.extend(quote!(.#method(#value)));
        }
    }
    if let Some(n) = max_restarts {
        let n = n.value;
        tokens.extend(quote!(.max_restarts(#n)));
    }
    if let Some(window) = window {
        let window = duration(krate, window.value);
        tokens.extend(quote!(.window(#window)));
    }
    tokens
}

fn duration(krate: &syn::Path, duration: Duration) -> TokenStream {
    let nanos = nanos(duration);
    quote!(#krate::__private::Duration::from_nanos(#nanos))
}

/// The span of the first token: what `quote_spanned!` attaches generated tokens to.
fn span_of(tokens: &(impl ToTokens + ?Sized)) -> Span {
    tokens
        .to_token_stream()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}
