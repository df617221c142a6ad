//! The platform admin's sign-in page.

use leptos::prelude::*;

use crate::server_fns::PlatformSignIn;

#[component]
pub fn SignInPage() -> impl IntoView {
    let sign_in = ServerAction::<PlatformSignIn>::new();
    let error = move || {
        sign_in
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| view! { <p class="error" role="alert">{crate::server_fns::message(&e)}</p> })
    };
    view! {
        <main class="auth">
            <h1>"Platform admin"</h1>
            <p class="muted">"Sign in to manage projects."</p>
            <ActionForm action=sign_in>
                <label>"Email" <input type="email" name="email" autocomplete="username" required/></label>
                <label>"Password" <input type="password" name="password" autocomplete="current-password" required/></label>
                <button type="submit" disabled=move || sign_in.pending().get()>"Sign in"</button>
            </ActionForm>
            {error}
        </main>
    }
}
