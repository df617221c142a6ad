//! Sign-in for platform staff.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::ui::{field_error, problem_of, Field, ProblemNote, Submit};
use crate::server_fns::platform::PlatformSignIn;

#[component]
pub fn PlatformLoginPage() -> impl IntoView {
    let sign_in = ServerAction::<PlatformSignIn>::new();
    let problem = problem_of(sign_in.value());
    let next = move || use_query_map().read().get("next").unwrap_or_default();
    view! {
        <Title text="Platform sign-in"/>
        <main class="flex min-h-screen items-center justify-center px-4">
            <div class="w-full max-w-sm rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
                <h1 class="text-xl font-semibold text-slate-900">"Platform admin"</h1>
                <p class="mt-1 text-sm text-slate-700">"Sign in to manage projects."</p>
                <ActionForm action=sign_in attr:class="mt-6 space-y-4">
                    <input type="hidden" name="next" value=next/>
                    <Field label="Email" name="email" kind="email" required=true autocomplete="username" error=field_error(problem, "email")/>
                    <Field label="Password" name="password" kind="password" required=true autocomplete="current-password"
                        error=field_error(problem, "password")/>
                    <ProblemNote problem/>
                    <Submit label="Sign in" pending=sign_in.pending()/>
                </ActionForm>
            </div>
        </main>
    }
}
