//! The frames around the pages: the client panel's (brand, navigation, sign-out) and the platform
//! panel's. A frame loads who is signed in; without a session it sends the browser to sign-in and
//! back to the page afterwards (docs/PANELS.md "Sessions").

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

use crate::server_fns::session::{load_panel_context, Brand, PanelContext, SignOut};

/// The client panel's pages, in navigation order: (path, label).
pub const CLIENT_NAV: [(&str, &str); 12] = [
    ("/", "Dashboard"),
    ("/activity", "Activity"),
    ("/rules", "Rules"),
    ("/users", "Users"),
    ("/roles", "Roles"),
    ("/keys", "API keys"),
    ("/webhook", "Webhook"),
    ("/sounds", "Sounds"),
    ("/analytics", "Analytics"),
    ("/audit", "Audit log"),
    ("/billing", "Billing"),
    ("/settings", "Settings"),
];

/// The `style` that applies a brand: its colour pair as the custom properties every accent reads.
pub fn brand_style(brand: Option<&Brand>) -> Option<String> {
    let b = brand?;
    Some(format!("--brand:{};--brand-contrast:{}", b.color.as_ref()?, b.contrast.as_deref().unwrap_or("#ffffff")))
}

/// The client panel's frame. `children` is drawn once a project admin is signed in.
#[component]
pub fn ClientShell(children: ChildrenFn) -> impl IntoView {
    let ctx = Resource::new(|| (), |_| load_panel_context());
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| view! { <p class="p-8 text-slate-600">"Loading…"</p> }>
            {move || ctx.get().map(|r| match r {
                Ok(PanelContext { session: Some(session), host_brand }) => {
                    let brand = host_brand.unwrap_or(session.brand.clone());
                    view! { <ClientFrame brand session_email=session.email plan=session.plan>{children.read_value()()}</ClientFrame> }.into_any()
                }
                Ok(_) => view! { <ToSignIn login="/login"/> }.into_any(),
                Err(e) => view! { <p role="alert" class="p-8 text-red-800">{crate::server_fns::message(&e)}</p> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn ClientFrame(brand: Brand, session_email: String, plan: String, children: Children) -> impl IntoView {
    let style = brand_style(Some(&brand));
    let path = use_location().pathname;
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <div style=style class="min-h-screen md:flex">
            <aside class="border-b border-slate-200 bg-white md:min-h-screen md:w-60 md:border-b-0 md:border-r">
                <div class="flex items-center gap-3 px-5 py-4">
                    {brand.logo_url.clone().map(|src| view! {
                        <img src=src alt=format!("{} logo", brand.display_name) class="h-8 w-8 rounded object-contain"/>
                    })}
                    <span class="text-base font-semibold text-slate-900">{brand.display_name.clone()}</span>
                </div>
                <nav aria-label="Main" class="px-3 pb-4">
                    <ul class="flex flex-wrap gap-1 md:flex-col">
                        {CLIENT_NAV.iter().map(|(href, label)| {
                            let href = *href;
                            let current = move || {
                                let p = path.get();
                                if href == "/" { p == "/" } else { p == href || p.starts_with(&format!("{href}/")) }
                            };
                            view! {
                                <li>
                                    <a
                                        href=href
                                        aria-current=move || current().then_some("page")
                                        class=move || format!(
                                            "block rounded-md px-3 py-2 text-sm font-medium no-underline {}",
                                            if current() { "bg-brand text-brand-contrast" } else { "text-slate-800 hover:bg-slate-100" }
                                        )
                                    >{*label}</a>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </nav>
                <div class="border-t border-slate-200 px-5 py-4 text-xs text-slate-600">
                    <p class="truncate">{session_email}</p>
                    <p class="mt-1">"Plan: " <span class="font-medium text-slate-800">{plan}</span></p>
                    <ActionForm action=sign_out attr:class="mt-3">
                        <button type="submit" class=super::ui::SECONDARY>"Sign out"</button>
                    </ActionForm>
                </div>
            </aside>
            <main class="flex-1 px-6 py-8 md:px-10">
                <div class="mx-auto max-w-5xl">{children()}</div>
            </main>
        </div>
    }
}

/// Sends the browser to `login`, with the current page to come back to.
#[component]
pub fn ToSignIn(login: &'static str) -> impl IntoView {
    let location = use_location();
    let next = location.pathname.get_untracked() + &location.search.get_untracked();
    let next = if next.is_empty() || next == "/" { String::new() } else { format!("?next={}", encode(&next)) };
    // The router's redirect names the place; the status that makes a browser go there is ours.
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::FOUND);
    }
    view! { <Redirect path=format!("{login}{next}")/> }
}

/// Percent-encodes a path for a query string value.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Copies `text` to the clipboard (in the browser; nothing on the server).
pub fn copy_to_clipboard(text: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().navigator().clipboard().write_text(text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}

/// The platform panel's frame. `children` is drawn once a platform admin is signed in.
#[component]
pub fn PlatformShell(children: ChildrenFn) -> impl IntoView {
    use crate::server_fns::platform::{platform_session, PlatformSignOut};
    let who = Resource::new(|| (), |_| platform_session());
    let children = StoredValue::new(children);
    let sign_out = ServerAction::<PlatformSignOut>::new();
    view! {
        <Suspense fallback=|| view! { <p class="p-8 text-slate-600">"Loading…"</p> }>
            {move || who.get().map(|r| match r {
                Ok(Some(admin)) => view! {
                    <div class="min-h-screen">
                        <header class="border-b border-slate-200 bg-white">
                            <div class="mx-auto flex max-w-6xl items-center justify-between px-6 py-3">
                                <span class="font-semibold text-slate-900">"Platform admin"</span>
                                <nav aria-label="Platform" class="flex items-center gap-4 text-sm">
                                    <a href="/platform" class=super::ui::LINK>"Dashboard"</a>
                                    <a href="/platform/projects" class=super::ui::LINK>"Projects"</a>
                                    <span class="text-slate-600">{admin.email.clone()} " (" {admin.role.clone()} ")"</span>
                                    <ActionForm action=sign_out>
                                        <button type="submit" class=super::ui::SECONDARY>"Sign out"</button>
                                    </ActionForm>
                                </nav>
                            </div>
                        </header>
                        <main class="mx-auto max-w-6xl px-6 py-8">{children.read_value()()}</main>
                    </div>
                }.into_any(),
                Ok(None) => view! { <ToSignIn login="/platform/login"/> }.into_any(),
                Err(e) => view! { <p role="alert" class="p-8 text-red-800">{crate::server_fns::message(&e)}</p> }.into_any(),
            })}
        </Suspense>
    }
}
