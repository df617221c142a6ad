//! The client dashboard: usage against the plan's quotas, events and notifications over 14 days,
//! the delivery rate, and the latest notifications.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::chart::BarChart;
use crate::components::layout::ClientShell;
use crate::components::ui::{Badge, Card, EmptyState, PageHeader, LINK};
use crate::server_fns::dashboard::{load_dashboard, Dashboard, Meter};

#[component]
pub fn DashboardPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_dashboard());
    view! {
        <Title text="Dashboard"/>
        <ClientShell>
            {
                view! {
                    <PageHeader title="Dashboard" subtitle="This month's usage and the last 14 days."/>
                    <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
                        {move || data.get().map(|r| match r {
                            Ok(d) => view! { <DashboardBody d/> }.into_any(),
                            Err(e) => view! { <p role="alert" class="text-red-800">{crate::server_fns::message(&e)}</p> }.into_any(),
                        })}
                    </Suspense>
                }
            }
        </ClientShell>
    }
}

#[component]
fn DashboardBody(d: Dashboard) -> impl IntoView {
    let rate = d.delivery_rate.map(|r| format!("{r:.1}%")).unwrap_or_else(|| "–".into());
    view! {
        <div class="space-y-6">
            <div class="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
                {d.meters.into_iter().map(|m| view! { <MeterCard m/> }).collect_view()}
            </div>
            <div class="grid gap-4 lg:grid-cols-3">
                <div class="lg:col-span-2">
                    <Card title="Events and notifications">
                        <BarChart title="Last 14 days" first="Events" second="Notifications" points=d.days/>
                    </Card>
                </div>
                <Card title="Delivery">
                    <dl class="space-y-3 text-sm">
                        <div><dt class="text-slate-600">"Delivery rate (14 days)"</dt><dd class="text-2xl font-semibold text-slate-900">{rate}</dd></div>
                        <div><dt class="text-slate-600">"Failed deliveries"</dt><dd class="text-lg font-semibold text-slate-900">{d.failed}</dd></div>
                    </dl>
                </Card>
            </div>
            <Card title="Latest notifications">
                {if d.recent.is_empty() {
                    view! {
                        <EmptyState text="No notifications yet. Send an event that one of your rules matches.">
                            <a href="/rules" class=LINK>"Set up a rule"</a>
                        </EmptyState>
                    }.into_any()
                } else {
                    view! {
                        <ul class="divide-y divide-slate-100">
                            {d.recent.into_iter().map(|n| view! {
                                <li class="flex items-center justify-between py-2 text-sm">
                                    <span class="text-slate-900">{n.title}</span>
                                    <span class="flex items-center gap-3 text-slate-600">
                                        {n.created_at}
                                        {if n.delivered { view! { <Badge text="delivered"/> } } else if n.error.is_some() { view! { <Badge text="failed"/> } } else { view! { <Badge text="sent"/> } }}
                                    </span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Card>
        </div>
    }
}

/// One monthly figure against its quota, with a bar that turns amber at 80% and red at 100%.
#[component]
pub fn MeterCard(m: Meter) -> impl IntoView {
    let share = m.limit.filter(|l| *l > 0).map(|l| (m.used as f64 / l as f64 * 100.0).min(100.0));
    let limit = m.limit.map(|l| format!("of {l}")).unwrap_or_else(|| "unlimited".into());
    let bar = share.map(|s| {
        let colour = if s >= 100.0 {
            "bg-red-600"
        } else if s >= 80.0 {
            "bg-amber-500"
        } else {
            "bg-brand"
        };
        view! {
            <div class="mt-3 h-2 rounded-full bg-slate-100" role="progressbar" aria-label=m.label.clone()
                aria-valuenow=format!("{s:.0}") aria-valuemin="0" aria-valuemax="100">
                <div class=format!("h-2 rounded-full {colour}") style=format!("width:{s:.1}%")></div>
            </div>
        }
    });
    view! {
        <section class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
            <h2 class="text-sm font-medium text-slate-700">{m.label.clone()}</h2>
            <p class="mt-1 text-2xl font-semibold text-slate-900">{format!("{} ", m.used)}<span class="text-sm font-normal text-slate-600">{limit}</span></p>
            {bar}
        </section>
    }
}
