//! Activity: every event the project received, newest first, with its status (and why it failed),
//! its payload, and what it caused: the notifications, their delivery and acknowledgements.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::layout::{encode, ClientShell};
use crate::components::ui::{Badge, EmptyState, PageHeader, INPUT, LINK, SECONDARY};
use crate::server_fns::activity::{list_activity, EventLine};

#[component]
pub fn ActivityPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.read().get(k).filter(|v| !v.is_empty());
    let page =
        Resource::new(move || (param("type"), param("status"), param("cursor")), |(t, s, c)| list_activity(t, s, c));
    view! {
        <Title text="Activity"/>
        <ClientShell>
            {
                view! {
                    <PageHeader title="Activity" subtitle="Events as they arrive, and what each one caused."/>
                    <form method="get" role="search" class="mb-4 flex flex-wrap items-end gap-3">
                        <div>
                            <label for="activity-type" class="block text-sm font-medium text-slate-800">"Event type"</label>
                            <input id="activity-type" name="type" value=move || param("type") placeholder="order.created" class=INPUT/>
                        </div>
                        <div>
                            <label for="activity-status" class="block text-sm font-medium text-slate-800">"Status"</label>
                            <select id="activity-status" name="status" class=INPUT>
                                {[("", "Any"), ("accepted", "Accepted"), ("processed", "Processed"), ("failed", "Failed")].into_iter().map(|(v, l)| {
                                    view! { <option value=v selected=move || param("status").unwrap_or_default() == v>{l}</option> }
                                }).collect_view()}
                            </select>
                        </div>
                        <button type="submit" class=SECONDARY>"Filter"</button>
                    </form>
                    <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
                        {move || page.get().map(|r| match r {
                            Ok(p) if p.events.is_empty() => view! { <EmptyState text="No events match."/> }.into_any(),
                            Ok(p) => {
                                let older = p.next_cursor.map(|c| {
                                    let mut q = vec![format!("cursor={}", encode(&c))];
                                    if let Some(t) = param("type") { q.push(format!("type={}", encode(&t))); }
                                    if let Some(s) = param("status") { q.push(format!("status={}", encode(&s))); }
                                    format!("/activity?{}", q.join("&"))
                                });
                                view! {
                                    <ol class="space-y-3">
                                        {p.events.into_iter().map(|e| view! { <li><EventCard e/></li> }).collect_view()}
                                    </ol>
                                    {older.map(|href| view! { <p class="mt-4"><a href=href class=LINK>"Older events"</a></p> })}
                                }.into_any()
                            }
                            Err(e) => view! { <p role="alert" class="text-red-800">{crate::server_fns::message(&e)}</p> }.into_any(),
                        })}
                    </Suspense>
                }
            }
        </ClientShell>
    }
}

#[component]
fn EventCard(e: EventLine) -> impl IntoView {
    let caused = match e.notifications.len() {
        0 => "no notifications".to_string(),
        1 => "1 notification".to_string(),
        n => format!("{n} notifications"),
    };
    view! {
        <article class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" aria-label=format!("Event {}", e.event_type)>
            <header class="flex flex-wrap items-center justify-between gap-2">
                <div class="flex items-center gap-3">
                    <code class="font-semibold text-slate-900">{e.event_type.clone()}</code>
                    <Badge text=e.status.clone()/>
                    <span class="text-sm text-slate-700">{caused}</span>
                </div>
                <span class="text-xs text-slate-600">{e.received_at.clone()}</span>
            </header>
            {e.error.clone().map(|err| view! { <p class="mt-2 text-sm text-red-800">"Failed: " {err}</p> })}
            <details class="mt-3">
                <summary class="cursor-pointer text-sm font-medium text-slate-800">"Details"</summary>
                <ol class="mt-3 space-y-2 border-l-2 border-slate-200 pl-4 text-sm">
                    <li><span class="font-medium text-slate-900">"Received"</span> " " <span class="text-slate-700">{e.received_at}</span></li>
                    {e.processed_at.map(|at| view! {
                        <li><span class="font-medium text-slate-900">"Rules evaluated"</span> " " <span class="text-slate-700">{at}</span></li>
                    })}
                    {e.notifications.into_iter().map(|n| view! {
                        <li>
                            <span class="font-medium text-slate-900">"Notification: "</span>{n.title}
                            " " <span class="text-slate-700">{format!("{} recipient(s), {} acknowledged", n.recipients, n.acknowledged)}</span>
                            " " {if n.delivered { view! { <Badge text="delivered"/> } } else if n.error.is_some() { view! { <Badge text="failed"/> } } else { view! { <Badge text="sent"/> } }}
                        </li>
                    }).collect_view()}
                </ol>
                <h3 class="mt-3 text-xs font-semibold uppercase tracking-wide text-slate-600">"Payload"</h3>
                <pre tabindex="0" class="mt-1 overflow-x-auto rounded-md bg-slate-900 p-3 text-xs text-slate-100"><code>{e.payload}</code></pre>
            </details>
        </article>
    }
}
