//! Audit: every change made in the project, newest first, with who made it and from where;
//! filters (a plain `GET` form, so the filtered view is a link) and CSV / NDJSON downloads of
//! what the filters select.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::layout::{encode, ClientShell};
use crate::components::ui::{Card, DataTable, EmptyState, Field, PageHeader, BUTTON, LINK, SECONDARY};
use crate::pages::keys::short_time;
use crate::server_fns::audit::{list_audit, EXPORT_PATH, FILTERS};

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let value = move |k: &str| query.read().get(k).filter(|v| !v.trim().is_empty());
    let rows = Resource::new(
        move || (value("action"), value("resourceType"), value("userId"), value("from"), value("to"), value("cursor")),
        |(action, resource_type, user_id, from, to, cursor)| {
            list_audit(action, resource_type, user_id, from, to, cursor)
        },
    );
    // The filters as a query string (without the cursor), for the downloads and the next page.
    let filters = move || {
        FILTERS.iter().filter_map(|(k, _)| value(k).map(|v| format!("&{k}={}", encode(&v)))).collect::<String>()
    };
    view! {
        <Title text="Audit log"/>
        <ClientShell>
            {
                view! {
                    <PageHeader title="Audit log" subtitle="Every change, by whom and from where."/>
                    <div class="space-y-6">
                        <Card title="Filter">
                            <form method="get" action="/audit" class="grid gap-4 md:grid-cols-5">
                                <Field label="Action" name="action" value=value("action").unwrap_or_default()
                                    placeholder="rule.* or rule.update"/>
                                <Field label="Resource type" name="resourceType" value=value("resourceType").unwrap_or_default()
                                    placeholder="rule"/>
                                <Field label="User id" name="userId" value=value("userId").unwrap_or_default()/>
                                <Field label="From" name="from" kind="date" value=value("from").unwrap_or_default()/>
                                <Field label="To" name="to" kind="date" value=value("to").unwrap_or_default()/>
                                <div class="flex flex-wrap items-center gap-3 md:col-span-5">
                                    <button type="submit" class=BUTTON>"Apply filters"</button>
                                    <a href="/audit" class=LINK>"Clear filters"</a>
                                    <span class="ml-auto flex gap-2">
                                        <a class=SECONDARY href=move || format!("{EXPORT_PATH}?format=csv{}", filters()) download="">"Download CSV"</a>
                                        <a class=SECONDARY href=move || format!("{EXPORT_PATH}?format=ndjson{}", filters()) download="">"Download NDJSON"</a>
                                    </span>
                                </div>
                            </form>
                        </Card>
                        <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
                            {move || rows.get().map(|r| match r {
                                Ok(p) if p.rows.is_empty() => view! { <EmptyState text="No changes match."/> }.into_any(),
                                Ok(p) => view! {
                                    <DataTable headers=&["When", "Action", "By", "Resource", "From"]>
                                        {p.rows.into_iter().map(|a| view! {
                                            <tr>
                                                <td class="whitespace-nowrap px-4 py-2 text-slate-700">{short_time(&a.timestamp)}</td>
                                                <td class="px-4 py-2"><code>{a.action}</code></td>
                                                <td class="px-4 py-2 text-slate-700">
                                                    {a.actor_type}
                                                    <span class="block text-xs text-slate-600">{a.user_id.unwrap_or_default()}</span>
                                                </td>
                                                <td class="px-4 py-2 text-slate-700">
                                                    {a.resource_type}
                                                    <span class="block text-xs text-slate-600">{a.resource_id.unwrap_or_default()}</span>
                                                </td>
                                                <td class="px-4 py-2 text-slate-700">
                                                    {a.ip_address.unwrap_or_default()}
                                                    <span class="block max-w-xs truncate text-xs text-slate-600">{a.user_agent.unwrap_or_default()}</span>
                                                </td>
                                            </tr>
                                        }).collect_view()}
                                    </DataTable>
                                    {p.next_cursor.map(|c| view! {
                                        <p class="mt-4"><a href=format!("/audit?cursor={}{}", encode(&c), filters()) class=LINK>"Older entries"</a></p>
                                    })}
                                }.into_any(),
                                Err(e) => view! { <p role="alert" class="text-red-800">{crate::server_fns::message(&e)}</p> }.into_any(),
                            })}
                        </Suspense>
                    </div>
                }
            }
        </ClientShell>
    }
}
