//! The webhook endpoint: its URL and state, the signing secret (shown once when made or rotated),
//! a test send, and the delivery log with redelivery.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::layout::ClientShell;
use crate::components::ui::{
    field_error, problem_of, Badge, Card, Confirm, DataTable, EmptyState, Field, PageHeader, ProblemNote, SecretBox,
    Submit, Success, BUTTON, SECONDARY,
};
use crate::pages::keys::short_time;
use crate::server_fns::webhook::{
    get_webhook, webhook_logs, Redeliver, RotateWebhookSecret, SaveWebhook, SendTestWebhook,
};

#[component]
pub fn WebhookPage() -> impl IntoView {
    let save = ServerAction::<SaveWebhook>::new();
    let rotate = ServerAction::<RotateWebhookSecret>::new();
    let test = ServerAction::<SendTestWebhook>::new();
    let redeliver = ServerAction::<Redeliver>::new();
    let endpoint = Resource::new(move || (save.version().get(), rotate.version().get()), |_| get_webhook());
    let logs = Resource::new(move || (test.version().get(), redeliver.version().get()), |_| webhook_logs());
    let problem = problem_of(save.value());
    let test_problem = problem_of(test.value());
    let secret = Signal::derive(move || {
        let made = save.value().get().and_then(|r| r.ok()).flatten();
        made.or_else(|| rotate.value().get().and_then(|r| r.ok()).flatten())
    });
    let sent = Signal::derive(move || {
        test.value()
            .get()
            .and_then(|r| r.ok())
            .map(|id| format!("Test message {id} queued; it appears in the log once sent."))
    });
    view! {
        <Title text="Webhook"/>
        <ClientShell>
            {
                view! {
                    <PageHeader title="Webhook" subtitle="Signed (Standard Webhooks) messages to your server when things happen."/>
                    <div class="space-y-6">
                        <Card title="Endpoint">
                            <Suspense fallback=|| ()>
                                {move || endpoint.get().map(|r| {
                                    let ep = r.ok().flatten();
                                    let url = ep.as_ref().map(|e| e.url.clone()).unwrap_or_default();
                                    let enabled = ep.as_ref().is_none_or(|e| e.enabled);
                                    view! {
                                        {ep.as_ref().map(|e| view! {
                                            <p class="mb-3 text-sm text-slate-700">"State: " <Badge text=if e.enabled { "active" } else { "disabled" }/>
                                                {e.disabled_reason.clone().map(|r| view! { " " <span>{r}</span> })}</p>
                                        })}
                                        {ep.as_ref().filter(|e| !e.source_ips.is_empty()).map(|e| view! {
                                            <p class="mb-3 text-sm text-slate-700">
                                                "Our servers send from " <code>{e.source_ips.join(", ")}</code>
                                                ": allow these addresses if your firewall filters."
                                            </p>
                                        })}
                                        <ActionForm action=save attr:class="space-y-4">
                                            <Field label="Endpoint URL" name="url" kind="url" value=url required=true
                                                placeholder="https://api.example.com/webhooks/notify" error=field_error(problem, "url")/>
                                            <label class="flex items-center gap-2 text-sm text-slate-800">
                                                <input type="checkbox" name="enabled" value="on" checked=enabled class="h-4 w-4"/>"Enabled"
                                            </label>
                                            <ProblemNote problem/>
                                            <Submit label="Save endpoint" pending=save.pending()/>
                                        </ActionForm>
                                        {ep.is_some().then(|| view! {
                                            <div class="mt-4 flex flex-wrap gap-2">
                                                <ActionForm action=test><button type="submit" class=BUTTON>"Send test"</button></ActionForm>
                                                <Confirm label="Rotate secret" question="Make a new signing secret? The old one keeps signing for 24 hours.">
                                                    <ActionForm action=rotate><button type="submit" class=SECONDARY>"Confirm rotate"</button></ActionForm>
                                                </Confirm>
                                            </div>
                                        })}
                                    }
                                })}
                            </Suspense>
                            <div class="mt-4 space-y-3">
                                {move || secret.get().map(|s| view! { <SecretBox label="Signing secret" value=s/> })}
                                <Success text=sent/>
                                <ProblemNote problem=test_problem/>
                            </div>
                        </Card>
                        <Card title="Delivery log">
                            <Suspense fallback=|| ()>
                                {move || logs.get().map(|r| match r {
                                    Ok(list) if list.is_empty() => view! { <EmptyState text="Nothing sent yet."/> }.into_any(),
                                    Ok(list) => view! {
                                        <DataTable headers=&["Event", "Attempt", "Result", "Took", "At", ""]>
                                                {list.into_iter().map(|l| view! {
                                                    <tr>
                                                        <td class="px-4 py-2"><code>{l.event_type}</code></td>
                                                        <td class="px-4 py-2 text-slate-700">{l.attempt_number}</td>
                                                        <td class="px-4 py-2">
                                                            <Badge text=if l.success { "success".to_string() } else { "failed".to_string() }/>
                                                            " " <span class="text-slate-700">{l.response_status.map(|s| s.to_string()).or(l.error).unwrap_or_default()}</span>
                                                        </td>
                                                        <td class="px-4 py-2 text-slate-700">{format!("{} ms", l.duration_ms)}</td>
                                                        <td class="px-4 py-2 text-slate-700">{short_time(&l.created_at)}</td>
                                                        <td class="px-4 py-2 text-right">
                                                            <ActionForm action=redeliver>
                                                                <input type="hidden" name="id" value=l.id/>
                                                                <button type="submit" class=SECONDARY>"Redeliver"</button>
                                                            </ActionForm>
                                                        </td>
                                                    </tr>
                                                }).collect_view()}
                                            </DataTable>
                                    }.into_any(),
                                    Err(e) => view! { <p role="alert" class="text-red-800">{crate::server_fns::message(&e)}</p> }.into_any(),
                                })}
                            </Suspense>
                        </Card>
                    </div>
                }
            }
        </ClientShell>
    }
}
