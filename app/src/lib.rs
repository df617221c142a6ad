//! The admin panels: one Leptos application, server-rendered and hydrated (docs/PANELS.md). The
//! client panel serves each project's admins, white-labelled on the project's custom domain; the
//! platform panel under `/platform` serves the platform's staff. Pages live in [`pages`], the
//! pieces they share in [`components`], and the server functions they call in [`server_fns`]
//! (thin adapters over `domain`, like the REST handlers).

pub mod components;
pub mod pages;
pub mod server_fns;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// The HTML document around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    use pages::*;
    provide_meta_context();
    // Every page waits for its data before the first byte (SsrMode::Async): the HTML is complete
    // before hydration, and a missing session can still answer with a redirect.
    let ssr = SsrMode::Async;
    view! {
        <Stylesheet id="leptos" href="/pkg/notify.css"/>
        <Title formatter=|page: String| if page.is_empty() { "Admin".to_string() } else { format!("{page} · Admin") }/>
        <Router>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/login") view=login::LoginPage ssr=ssr.clone()/>
                <Route path=path!("/signup") view=signup::SignupPage ssr=ssr.clone()/>
                <Route path=path!("/") view=dashboard::DashboardPage ssr=ssr.clone()/>
                <Route path=path!("/activity") view=activity::ActivityPage ssr=ssr.clone()/>
                <Route path=path!("/rules") view=rules::RulesPage ssr=ssr.clone()/>
                <Route path=path!("/rules/new") view=rules::RuleEditorPage ssr=ssr.clone()/>
                <Route path=path!("/rules/:id") view=rules::RuleEditorPage ssr=ssr.clone()/>
                <Route path=path!("/users") view=users::UsersPage ssr=ssr.clone()/>
                <Route path=path!("/roles") view=roles::RolesPage ssr=ssr.clone()/>
                <Route path=path!("/audit") view=audit::AuditPage ssr=ssr.clone()/>
                <Route path=path!("/billing") view=billing::BillingPage ssr=ssr.clone()/>
                <Route path=path!("/keys") view=keys::KeysPage ssr=ssr.clone()/>
                <Route path=path!("/webhook") view=webhook::WebhookPage ssr=ssr.clone()/>
                <Route path=path!("/sounds") view=sounds::SoundsPage ssr=ssr.clone()/>
                <Route path=path!("/analytics") view=analytics::AnalyticsPage ssr=ssr.clone()/>
                <Route path=path!("/settings") view=settings::SettingsPage ssr=ssr.clone()/>
                <Route path=path!("/platform/login") view=platform::login::PlatformLoginPage ssr=ssr.clone()/>
                <Route path=path!("/platform") view=platform::dashboard::PlatformDashboardPage ssr=ssr.clone()/>
                <Route path=path!("/platform/projects") view=platform::projects::ProjectsPage ssr=ssr.clone()/>
            </Routes>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <main class="mx-auto max-w-md px-6 py-24 text-center">
            <h1 class="text-2xl font-semibold">"Not found"</h1>
            <p class="mt-2 text-slate-700">"There is no such page, or it belongs to someone else."</p>
            <p class="mt-6"><a href="/" class=components::ui::LINK>"Back to the dashboard"</a></p>
        </main>
    }
}
