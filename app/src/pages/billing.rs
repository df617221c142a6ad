//! Billing: the plan and its state, usage against the plan's quotas, upgrade through Stripe
//! Checkout and manage payment in Stripe's Customer Portal.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::layout::ClientShell;
use crate::components::ui::{problem_of, Badge, Card, PageHeader, ProblemNote, BUTTON, SECONDARY};
use crate::pages::dashboard::MeterCard;
use crate::pages::keys::short_time;
use crate::server_fns::billing::{get_billing, ManageBilling, Upgrade};

#[component]
pub fn BillingPage() -> impl IntoView {
    let billing = Resource::new(|| (), |_| get_billing());
    let upgrade = ServerAction::<Upgrade>::new();
    let manage = ServerAction::<ManageBilling>::new();
    let upgrade_problem = problem_of(upgrade.value());
    let manage_problem = problem_of(manage.value());
    view! {
        <Title text="Billing"/>
        <ClientShell>
            {
                view! {
                    <PageHeader title="Billing" subtitle="Your plan, what you have used, and payment."/>
                    <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
                        {move || billing.get().map(|r| match r {
                            Ok(b) => {
                                let plan = b.plan.clone();
                                view! {
                                <div class="space-y-6">
                                    <Card title="Plan">
                                        <dl class="grid grid-cols-[10rem_1fr] gap-y-2 text-sm">
                                            <dt class="text-slate-600">"Plan"</dt><dd class="font-semibold text-slate-900">{b.plan.clone()}</dd>
                                            <dt class="text-slate-600">"Status"</dt><dd><Badge text=b.status.clone()/></dd>
                                            <dt class="text-slate-600">"Subscription"</dt><dd class="text-slate-900">{b.subscription_status.clone().unwrap_or_else(|| "none".into())}</dd>
                                            <dt class="text-slate-600">"Period ends"</dt><dd class="text-slate-900">{b.current_period_end.as_deref().map(short_time).unwrap_or_else(|| "–".into())}</dd>
                                            <dt class="text-slate-600">"Past the quota"</dt><dd class="text-slate-900">{if b.overage == "bill" { "billed as overage" } else { "refused" }}</dd>
                                            {b.grace_until.as_deref().map(|g| view! { <dt class="text-slate-600">"Grace until"</dt><dd class="text-red-800">{short_time(g)}</dd> })}
                                        </dl>
                                    </Card>
                                    <div class="grid gap-4 sm:grid-cols-2">
                                        {b.meters.into_iter().map(|m| view! { <MeterCard m/> }).collect_view()}
                                    </div>
                                    <Card title="Change plan">
                                        {(!b.available).then(|| view! {
                                            <p class="mb-3 text-sm text-slate-800">"Billing is not set up on this platform: ask its operator to change your plan."</p>
                                        })}
                                        <div class="flex flex-wrap gap-3">
                                            {["starter", "professional"].into_iter().filter(move |p| b.available && *p != plan).map(|p| view! {
                                                <ActionForm action=upgrade>
                                                    <input type="hidden" name="plan" value=p/>
                                                    <button type="submit" class=BUTTON>{format!("Upgrade to {p}")}</button>
                                                </ActionForm>
                                            }).collect_view()}
                                            {b.available.then(|| view! {
                                                <ActionForm action=manage>
                                                    <button type="submit" class=SECONDARY>"Manage payment"</button>
                                                </ActionForm>
                                            })}
                                        </div>
                                        <div class="mt-3 space-y-2">
                                            <ProblemNote problem=upgrade_problem/>
                                            <ProblemNote problem=manage_problem/>
                                        </div>
                                    </Card>
                                </div>
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
