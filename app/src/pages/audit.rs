//! Audit: every change made in the project, newest first, with who made it and from where.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::layout::{encode, ClientShell};
use crate::components::ui::{DataTable, EmptyState, PageHeader, LINK};
use crate::pages::keys::short_time;
use crate::server_fns::audit::list_audit;

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let rows = Resource::new(move || query.read().get("cursor"), list_audit);
    view! {
        <Title text="Audit log"/>
        <ClientShell>
            {
                view! {
                    <PageHeader title="Audit log" subtitle="Every change, by whom and from where."/>
                    <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
                        {move || rows.get().map(|r| match r {
                            Ok(p) if p.rows.is_empty() => view! { <EmptyState text="Nothing changed yet."/> }.into_any(),
                            Ok(p) => view! {
                                <DataTable headers=&["When", "Action", "By", "Resource", "From"]>
                                            {p.rows.into_iter().map(|a| view! {
                                                <tr>
                                                    <td class="whitespace-nowrap px-4 py-2 text-slate-700">{short_time(&a.timestamp)}</td>
                                                    <td class="px-4 py-2"><code>{a.action}</code></td>
                                                    <td class="px-4 py-2 text-slate-700">{a.actor_type}</td>
                                                    <td class="px-4 py-2 text-slate-700">{a.resource_type}</td>
                                                    <td class="px-4 py-2 text-slate-700">{a.ip_address.unwrap_or_default()}</td>
                                                </tr>
                                            }).collect_view()}
                                        </DataTable>
                                {p.next_cursor.map(|c| view! { <p class="mt-4"><a href=format!("/audit?cursor={}", encode(&c)) class=LINK>"Older entries"</a></p> })}
                            }.into_any(),
                            Err(e) => view! { <p role="alert" class="text-red-800">{crate::server_fns::message(&e)}</p> }.into_any(),
                        })}
                    </Suspense>
                }
            }
        </ClientShell>
    }
}
