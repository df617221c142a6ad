//! The platform dashboard: projects by status, events (all time, last 24 hours, by status), users
//! and staff, the same figures `GET /api/v1/platform/metrics` answers.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::layout::PlatformShell;
use crate::components::ui::{Card, PageHeader};
use crate::server_fns::platform::platform_metrics;

#[component]
pub fn PlatformDashboardPage() -> impl IntoView {
    let metrics = Resource::new(|| (), |_| platform_metrics());
    view! {
        <Title text="Platform"/>
        <PlatformShell>
            {
                view! {
                    <PageHeader title="Platform" subtitle="Every project on this platform at a glance."/>
                    <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
                        {move || metrics.get().map(|r| match r {
                            Ok(m) => view! {
                                <div class="grid gap-4 md:grid-cols-3">
                                    <Card title="Projects">
                                        <Figures rows=vec![("Total", m.projects.total), ("Active", m.projects.active), ("Trial", m.projects.trial),
                                            ("Suspended", m.projects.suspended), ("Cancelled", m.projects.cancelled)]/>
                                    </Card>
                                    <Card title="Events">
                                        <Figures rows=vec![("Total", m.events.total), ("Last 24 hours", m.events.last_24h), ("Processed", m.events.processed),
                                            ("Waiting", m.events.accepted), ("Failed", m.events.failed)]/>
                                    </Card>
                                    <Card title="People">
                                        <Figures rows=vec![("End users", m.users), ("Platform admins", m.platform_admins)]/>
                                    </Card>
                                </div>
                            }.into_any(),
                            Err(e) => view! { <p role="alert" class="text-red-800">{crate::server_fns::message(&e)}</p> }.into_any(),
                        })}
                    </Suspense>
                }
            }
        </PlatformShell>
    }
}

#[component]
fn Figures(rows: Vec<(&'static str, i64)>) -> impl IntoView {
    view! {
        <dl class="space-y-2 text-sm">
            {rows.into_iter().map(|(label, n)| view! {
                <div class="flex justify-between"><dt class="text-slate-700">{label}</dt><dd class="font-semibold text-slate-900">{n}</dd></div>
            }).collect_view()}
        </dl>
    }
}
