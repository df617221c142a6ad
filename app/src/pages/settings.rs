//! Project settings: name, the white-label branding (display name, logo, colour) and the custom
//! domain with the DNS record to create and whether it serves yet.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::layout::ClientShell;
use crate::components::ui::{field_error, problem_of, Badge, Card, Field, PageHeader, ProblemNote, Submit, Success};
use crate::server_fns::settings::{get_settings, SaveSettings, SettingsView};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let save = ServerAction::<SaveSettings>::new();
    let settings = Resource::new(move || save.version().get(), |_| get_settings());
    view! {
        <Title text="Settings"/>
        <ClientShell>
            {
                view! {
                    <PageHeader title="Settings" subtitle="Your project's name, brand and domain."/>
                    <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
                        {move || settings.get().map(|r| match r {
                            Ok(s) => view! { <SettingsForm s save/> }.into_any(),
                            Err(e) => view! { <p role="alert" class="text-red-800">{crate::server_fns::message(&e)}</p> }.into_any(),
                        })}
                    </Suspense>
                }
            }
        </ClientShell>
    }
}

#[component]
fn SettingsForm(s: SettingsView, save: ServerAction<SaveSettings>) -> impl IntoView {
    let problem = problem_of(save.value());
    let saved = Signal::derive(move || save.value().get().and_then(|r| r.ok()).map(|_| "Settings saved.".to_string()));
    let domain = s.custom_domain.clone();
    view! {
        <div class="space-y-6">
            <Card title="Project and branding">
                <ActionForm action=save attr:class="grid gap-4 md:grid-cols-2">
                    <Field label="Project name" name="name" value=s.name.clone() required=true error=field_error(problem, "name")/>
                    <Field label="Display name" name="display_name" value=s.display_name.clone().unwrap_or_default()
                        hint="Shown in your branded panel; empty uses the project name." error=field_error(problem, "displayName")/>
                    <Field label="Logo URL" name="logo_url" kind="url" value=s.logo_url.clone().unwrap_or_default()
                        placeholder="https://cdn.example.com/logo.png" error=field_error(problem, "logoUrl")/>
                    <Field label="Brand colour" name="brand_color" value=s.brand_color.clone().unwrap_or_default()
                        placeholder="#0f766e" hint="A #rrggbb colour; buttons and highlights use it."
                        error=field_error(problem, "brandColor")/>
                    <Field label="Custom domain" name="custom_domain" value=s.custom_domain.clone().unwrap_or_default()
                        placeholder="alerts.example.com" hint="Your admin panel on your own domain (Professional and Enterprise plans)."
                        error=field_error(problem, "customDomain")/>
                    <div class="md:col-span-2 space-y-3">
                        <ProblemNote problem/>
                        <Success text=saved/>
                        <Submit label="Save settings" pending=save.pending()/>
                    </div>
                </ActionForm>
            </Card>
            {domain.map(|d| view! {
                <Card title="Custom domain">
                    <p class="text-sm text-slate-800">"Create this DNS record, then your panel answers at " <code>{format!("https://{d}")}</code> ":"</p>
                    <pre tabindex="0" class="mt-2 overflow-x-auto rounded-md bg-slate-900 p-3 text-xs text-slate-100"><code>{format!("{d}.  CNAME  {}.", s.cname_target)}</code></pre>
                    <p class="mt-3 text-sm text-slate-800">"Status: "
                        {if s.domain_active { view! { <Badge text="active"/> } } else { view! { <Badge text="pending"/> } }}
                    </p>
                </Card>
            })}
            <Card title="Project">
                <dl class="grid grid-cols-[8rem_1fr] gap-y-1 text-sm">
                    <dt class="text-slate-600">"Slug"</dt><dd><code>{s.slug}</code></dd>
                    <dt class="text-slate-600">"Plan"</dt><dd class="text-slate-900">{s.plan}</dd>
                </dl>
            </Card>
        </div>
    }
}
