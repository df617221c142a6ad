//! Analytics: delivery rate, latency and engagement over a chosen range, as a chart and a table
//! (the figures of `GET /api/v1/analytics/...`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::chart::{BarChart, Point};
use crate::components::layout::ClientShell;
use crate::components::ui::{Card, DataTable, PageHeader, BUTTON, INPUT_INLINE};
use crate::server_fns::analytics::{load_analytics, AnalyticsView, RANGES};

#[component]
pub fn AnalyticsPage() -> impl IntoView {
    let query = use_query_map();
    let range = move || query.read().get("range").filter(|r| RANGES.iter().any(|(v, ..)| v == r));
    let data = Resource::new(range, load_analytics);
    view! {
        <Title text="Analytics"/>
        <ClientShell>
            {
                view! {
                    <PageHeader title="Analytics" subtitle="How your notifications reach people, and what they do with them."/>
                    <form method="get" action="/analytics" class="mb-6 flex items-end gap-3">
                        <div>
                            <label for="field-range" class="block text-sm font-medium text-slate-800">"Range"</label>
                            <select id="field-range" name="range" class=format!("{INPUT_INLINE} mt-1")>
                                {RANGES.iter().map(|(value, label, ..)| {
                                    let selected = range().as_deref().unwrap_or("7d") == *value;
                                    view! { <option value=*value selected=selected>{*label}</option> }
                                }).collect_view()}
                            </select>
                        </div>
                        <button type="submit" class=BUTTON>"Show"</button>
                    </form>
                    <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
                        {move || data.get().map(|r| match r {
                            Ok(v) => view! { <Figures v/> }.into_any(),
                            Err(e) => view! { <p role="alert" class="text-red-800">{crate::server_fns::message(&e)}</p> }.into_any(),
                        })}
                    </Suspense>
                }
            }
        </ClientShell>
    }
}

fn percent(r: Option<f64>) -> String {
    r.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "–".into())
}

fn ms(v: Option<i64>) -> String {
    match v {
        None => "–".into(),
        Some(ms) if ms < 1000 => format!("{ms} ms"),
        Some(ms) => format!("{:.1} s", ms as f64 / 1000.0),
    }
}

#[component]
fn Stat(#[prop(into)] label: String, #[prop(into)] value: String) -> impl IntoView {
    view! {
        <div class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
            <p class="text-sm text-slate-600">{label}</p>
            <p class="mt-1 text-2xl font-semibold text-slate-900">{value}</p>
        </div>
    }
}

#[component]
fn Figures(v: AnalyticsView) -> impl IntoView {
    let rate = (v.sent > 0).then(|| v.delivered as f64 / v.sent as f64);
    let ack = (v.received > 0).then(|| v.acknowledged as f64 / v.received as f64);
    let points: Vec<Point> =
        v.periods.iter().map(|p| Point { label: p.period.clone(), first: p.sent, second: p.delivered }).collect();
    view! {
        <div class="space-y-6">
            <div class="grid gap-4 md:grid-cols-4">
                <Stat label="Notifications sent" value=v.sent.to_string()/>
                <Stat label="Delivery rate" value=percent(rate)/>
                <Stat label="Received by users" value=v.received.to_string()/>
                <Stat label="Acknowledgement rate" value=percent(ack)/>
            </div>
            <Card title="Sent and delivered">
                <BarChart title="Notifications" first="Sent" second="Delivered" points/>
            </Card>
            <Card title="By period">
                <DataTable headers=&["Period", "Sent", "Delivered", "Rate", "Latency p50", "Latency p95", "Socket", "Pusher", "Push", "Active users", "Acknowledged", "Median to ack"]>
                    {v.periods.into_iter().rev().map(|p| {
                        let channel = |name: &str| p.channels.iter().find(|(c, _)| c == name).map_or(0, |(_, n)| *n);
                        let (socket, pusher, push) = (channel("socket"), channel("pusher"), channel("push"));
                        view! {
                            <tr>
                                <td class="whitespace-nowrap px-4 py-2 text-slate-900">{p.period.replace("T", " ").replace(":00:00Z", ":00")}</td>
                                <td class="px-4 py-2 text-slate-700">{p.sent}</td>
                                <td class="px-4 py-2 text-slate-700">{p.delivered}</td>
                                <td class="px-4 py-2 text-slate-700">{percent(p.delivery_rate)}</td>
                                <td class="px-4 py-2 text-slate-700">{ms(p.p50_ms)}</td>
                                <td class="px-4 py-2 text-slate-700">{ms(p.p95_ms)}</td>
                                <td class="px-4 py-2 text-slate-700">{socket}</td>
                                <td class="px-4 py-2 text-slate-700">{pusher}</td>
                                <td class="px-4 py-2 text-slate-700">{push}</td>
                                <td class="px-4 py-2 text-slate-700">{p.active_users}</td>
                                <td class="px-4 py-2 text-slate-700">{format!("{} of {}", p.acknowledged, p.received)}</td>
                                <td class="px-4 py-2 text-slate-700">{p.median_ack_secs.map(|s| format!("{s:.0} s")).unwrap_or_else(|| "–".into())}</td>
                            </tr>
                        }
                    }).collect_view()}
                </DataTable>
            </Card>
        </div>
    }
}
