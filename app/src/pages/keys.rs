//! API keys: the list with status and last use, a form to create one (its secret shown once with
//! a copy button), and revoke with a confirmation.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::layout::ClientShell;
use crate::components::ui::{
    field_error, problem_of, Badge, Card, Confirm, DataTable, EmptyState, Field, PageHeader, ProblemNote, SecretBox,
    Submit, DANGER,
};
use crate::server_fns::keys::{list_keys, CreateKey, KeyView, RevokeKey, PERMISSIONS};

#[component]
pub fn KeysPage() -> impl IntoView {
    let create = ServerAction::<CreateKey>::new();
    let revoke = ServerAction::<RevokeKey>::new();
    let keys = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_keys());
    let problem = problem_of(create.value());
    view! {
        <Title text="API keys"/>
        <ClientShell>
            {
                view! {
                    <PageHeader title="API keys" subtitle="Your backend sends events with a key and its secret."/>
                    <div class="space-y-6">
                        <Card title="Create a key">
                            <ActionForm action=create attr:class="grid gap-4 md:grid-cols-2">
                                <Field label="Name" name="name" required=true placeholder="Production backend" error=field_error(problem, "name")/>
                                <Field label="Expires on" name="expires_at" kind="date" hint="Leave empty for a key that does not expire."
                                    error=field_error(problem, "expiresAt")/>
                                <Field label="Revoke after wrong secrets" name="auto_revoke_after_failures" kind="number"
                                    hint="Empty: never. Anyone who knows the public key can send wrong secrets, so this can also be used to switch your key off."
                                    error=field_error(problem, "autoRevokeAfterFailures")/>
                                <div class="md:col-span-2">
                                    <Field label="Allowed addresses" name="allowed_ips" placeholder="203.0.113.0/24, 2001:db8::/32"
                                        hint="Addresses or CIDR ranges your servers call from, separated by commas. Empty: anywhere."
                                        error=field_error(problem, "allowedIps")/>
                                </div>
                                <fieldset class="md:col-span-2">
                                    <legend class="text-sm font-medium text-slate-800">"Permissions (none ticked: all)"</legend>
                                    <div class="mt-2 flex flex-wrap gap-4">
                                        {PERMISSIONS.iter().map(|(field, api, label)| view! {
                                            <label class="flex items-center gap-2 text-sm text-slate-800">
                                                <input type="checkbox" name=*field value="on" class="h-4 w-4"/>
                                                {*label} <code class="text-slate-600">{*api}</code>
                                            </label>
                                        }).collect_view()}
                                    </div>
                                </fieldset>
                                <div class="md:col-span-2 space-y-3">
                                    <ProblemNote problem/>
                                    <Submit label="Create key" pending=create.pending()/>
                                </div>
                            </ActionForm>
                            {move || create.value().get().and_then(|r| r.ok()).map(|k| view! {
                                <div class="mt-4 space-y-2">
                                    <p class="text-sm text-slate-800">"Key " <code>{k.key.clone()}</code> " created."</p>
                                    <SecretBox label="Secret key" value=k.secret/>
                                </div>
                            })}
                        </Card>
                        <Card title="Keys">
                            <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
                                {move || keys.get().map(|r| match r {
                                    Ok(list) => view! { <KeyTable keys=list revoke/> }.into_any(),
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

#[component]
fn KeyTable(keys: Vec<KeyView>, revoke: ServerAction<RevokeKey>) -> impl IntoView {
    if keys.is_empty() {
        return view! { <EmptyState text="No keys yet."/> }.into_any();
    }
    view! {
        <DataTable headers=&["Name", "Key", "Permissions", "From", "Status", "Last used", ""]>
                    {keys.into_iter().map(|k| {
                        let active = k.status == "active";
                        let name = k.name.clone();
                        view! {
                            <tr>
                                <td class="px-4 py-2 font-medium text-slate-900">{k.name.clone()}</td>
                                <td class="px-4 py-2"><code>{k.key.clone()}</code></td>
                                <td class="px-4 py-2 text-slate-700">{k.permissions.join(", ")}</td>
                                <td class="px-4 py-2 text-slate-700">{if k.allowed_ips.is_empty() { "anywhere".to_string() } else { k.allowed_ips.join(", ") }}</td>
                                <td class="px-4 py-2"><Badge text=k.status.clone()/></td>
                                <td class="px-4 py-2 text-slate-700">{k.last_used_at.as_deref().map(short_time).unwrap_or_else(|| "never".into())}</td>
                                <td class="px-4 py-2 text-right">
                                    {active.then(|| {
                                        let id = StoredValue::new(k.id.clone());
                                        view! {
                                            <Confirm label="Revoke" question=format!("Revoke {name}? Requests made with it will fail.")>
                                                <ActionForm action=revoke>
                                                    <input type="hidden" name="id" value=id.get_value()/>
                                                    <button type="submit" class=DANGER>"Confirm revoke"</button>
                                                </ActionForm>
                                            </Confirm>
                                        }
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </DataTable>
    }
    .into_any()
}

/// `2026-12-03T10:15:00Z` as `2026-12-03 10:15`.
pub fn short_time(t: &str) -> String {
    t.get(..16).unwrap_or(t).replace('T', " ")
}
