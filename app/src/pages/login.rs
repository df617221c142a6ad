//! Sign-in to the client panel. On a project's custom domain it shows the project's brand and asks
//! only for email and password; on the platform's own host it asks for the project too.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::layout::brand_style;
use crate::components::ui::{field_error, problem_of, Field, ProblemNote, Submit, LINK};
use crate::server_fns::session::{load_panel_context, ClientSignIn};

#[component]
pub fn LoginPage() -> impl IntoView {
    let ctx = Resource::new(|| (), |_| load_panel_context());
    let next = move || use_query_map().read().get("next").unwrap_or_default();
    let sign_in = ServerAction::<ClientSignIn>::new();
    let problem = problem_of(sign_in.value());
    view! {
        <Suspense fallback=|| ()>
            {move || ctx.get().map(|r| {
                let ctx = r.unwrap_or_default();
                let brand = ctx.host_brand.clone();
                let name = brand.as_ref().map(|b| b.display_name.clone());
                let on_platform_host = brand.is_none();
                view! {
                    <Title text="Sign in"/>
                    <main style=brand_style(brand.as_ref()) class="flex min-h-screen items-center justify-center px-4">
                        <div class="w-full max-w-sm rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
                            {brand.as_ref().and_then(|b| b.logo_url.clone()).map(|src| view! {
                                <img src=src alt=format!("{} logo", name.clone().unwrap_or_default()) class="mb-4 h-10"/>
                            })}
                            <h1 class="text-xl font-semibold text-slate-900">
                                {match &name { Some(n) => format!("Sign in to {n}"), None => "Sign in to your project".into() }}
                            </h1>
                            <ActionForm action=sign_in attr:class="mt-6 space-y-4">
                                <input type="hidden" name="next" value=next/>
                                {on_platform_host.then(|| view! {
                                    <Field label="Project" name="project" hint="The project's slug, as in your welcome mail."
                                        required=true autocomplete="organization" error=field_error(problem, "project")/>
                                })}
                                <Field label="Email" name="email" kind="email" required=true autocomplete="username"
                                    error=field_error(problem, "email")/>
                                <Field label="Password" name="password" kind="password" required=true
                                    autocomplete="current-password" error=field_error(problem, "password")/>
                                <ProblemNote problem/>
                                <Submit label="Sign in" pending=sign_in.pending()/>
                            </ActionForm>
                            {on_platform_host.then(|| view! {
                                <p class="mt-6 text-sm text-slate-700">"New here? " <a href="/signup" class=LINK>"Create a project"</a></p>
                            })}
                        </div>
                    </main>
                }
            })}
        </Suspense>
    }
}
