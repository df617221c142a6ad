//! Self-service sign-up, then the first steps: the key pair shown once, the integration snippets
//! carrying the real key, and a test event the page follows until the engine has processed it.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::ui::{
    field_error, problem_of, Badge, Card, Field, ProblemNote, SecretBox, Submit, BUTTON, LINK,
};
use crate::server_fns::signup::{event_status, SendTestEvent, SignUp, Welcome};

#[component]
pub fn SignupPage() -> impl IntoView {
    let sign_up = ServerAction::<SignUp>::new();
    let problem = problem_of(sign_up.value());
    view! {
        <Title text="Create your project"/>
        <main class="mx-auto max-w-3xl px-4 py-12">
            {move || match sign_up.value().get() {
                Some(Ok(welcome)) => view! { <WelcomeSteps welcome/> }.into_any(),
                _ => view! {
                    <div class="mx-auto max-w-md rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
                        <h1 class="text-xl font-semibold text-slate-900">"Create your project"</h1>
                        <p class="mt-1 text-sm text-slate-700">"Starts on the free plan; no card needed."</p>
                        <ActionForm action=sign_up attr:class="mt-6 space-y-4">
                            <Field label="Your name" name="name" required=true autocomplete="name" error=field_error(problem, "name")/>
                            <Field label="Work email" name="email" kind="email" required=true autocomplete="email" error=field_error(problem, "email")/>
                            <Field label="Password" name="password" kind="password" required=true autocomplete="new-password"
                                hint="At least 8 characters." error=field_error(problem, "password")/>
                            <Field label="Project name" name="project_name" required=true autocomplete="organization"
                                error=field_error(problem, "projectName")/>
                            <ProblemNote problem/>
                            <Submit label="Create project" pending=sign_up.pending()/>
                        </ActionForm>
                        <p class="mt-6 text-sm text-slate-700">"Already have one? " <a href="/login" class=LINK>"Sign in"</a></p>
                    </div>
                }.into_any(),
            }}
        </main>
    }
}

#[component]
fn WelcomeSteps(welcome: Welcome) -> impl IntoView {
    let host = welcome.api_base.clone();
    let curl = format!(
        "curl -X POST {host}/api/v1/events \\\n  -H 'X-API-Key: {}' -H 'X-API-Secret: {}' \\\n  -H 'Content-Type: application/json' \\\n  -d '{{\"type\": \"order.created\", \"payload\": {{\"orderId\": 42}}}}'",
        welcome.key, welcome.secret
    );
    let node = format!(
        "await fetch('{host}/api/v1/events', {{\n  method: 'POST',\n  headers: {{ 'X-API-Key': '{}', 'X-API-Secret': process.env.NOTIFY_SECRET, 'Content-Type': 'application/json' }},\n  body: JSON.stringify({{ type: 'order.created', payload: {{ orderId: 42 }} }}),\n}});",
        welcome.key
    );
    let python = format!(
        "requests.post('{host}/api/v1/events',\n    headers={{'X-API-Key': '{}', 'X-API-Secret': os.environ['NOTIFY_SECRET']}},\n    json={{'type': 'order.created', 'payload': {{'orderId': 42}}}})",
        welcome.key
    );
    view! {
        <div class="space-y-6">
            <header>
                <h1 class="text-2xl font-semibold text-slate-900">"Your project is ready"</h1>
                <p class="mt-1 text-sm text-slate-700">"Project slug: " <code>{welcome.project_slug.clone()}</code></p>
            </header>
            <Card title="1. Keep your API key">
                <p class="mb-3 text-sm text-slate-700">"Public key: " <code>{welcome.key.clone()}</code></p>
                <SecretBox label="Secret key" value=welcome.secret.clone()/>
            </Card>
            <Card title="2. Send a test event">
                <TestEvent/>
            </Card>
            <Card title="3. Send events from your backend">
                <div class="space-y-4">
                    <Snippet title="cURL" code=curl/>
                    <Snippet title="Node" code=node/>
                    <Snippet title="Python" code=python/>
                </div>
            </Card>
            <p><a href="/" class=BUTTON>"Go to the dashboard"</a></p>
        </div>
    }
}

#[component]
fn Snippet(#[prop(into)] title: String, code: String) -> impl IntoView {
    view! {
        <div>
            <h3 class="text-sm font-semibold text-slate-800">{title}</h3>
            <pre tabindex="0" class="mt-1 overflow-x-auto rounded-md bg-slate-900 p-3 text-xs text-slate-100"><code>{code}</code></pre>
        </div>
    }
}

/// Sends a test event and follows it: accepted, then processed (or failed) once the worker ran it.
#[component]
fn TestEvent() -> impl IntoView {
    let send = ServerAction::<SendTestEvent>::new();
    let problem = problem_of(send.value());
    let status = RwSignal::new(None::<(String, String)>);
    Effect::new(move |_| {
        if let Some(Ok(e)) = send.value().get() {
            status.set(Some((e.id.clone(), e.status.clone())));
        }
    });
    // Asks again every half second while the event is still `accepted`.
    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(
            move || {
                if let Some((id, s)) = status.get_untracked() {
                    if s == "accepted" {
                        leptos::task::spawn_local(async move {
                            if let Ok(e) = event_status(id).await {
                                status.set(Some((e.id, e.status)));
                            }
                        });
                    }
                }
            },
            std::time::Duration::from_millis(500),
        );
        if let Ok(h) = handle {
            on_cleanup(move || h.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = event_status;
    view! {
        <p class="mb-3 text-sm text-slate-700">"Sends a " <code>"panel.test"</code> " event with your new key, as your backend would."</p>
        <ActionForm action=send>
            <Submit label="Send a test event" pending=send.pending()/>
        </ActionForm>
        <div class="mt-3"><ProblemNote problem/></div>
        <div role="status" aria-live="polite" class="mt-3 text-sm">
            {move || status.get().map(|(id, s)| view! {
                <p>"Event " <code>{id}</code> " " <Badge text=s/></p>
            })}
        </div>
    }
}
