use proc_macro::TokenStream;
#[proc_macro_attribute]
pub fn hosted_service(_a: TokenStream, i: TokenStream) -> TokenStream {
    i
}
#[proc_macro_attribute]
pub fn periodic(_a: TokenStream, i: TokenStream) -> TokenStream {
    i
}
