//! End users: search by email, filter by status, approve the pending, disable, enable, delete.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::layout::ClientShell;
use crate::components::ui::{
    problem_of, Badge, Confirm, DataTable, EmptyState, PageHeader, ProblemNote, DANGER, INPUT, SECONDARY,
};
use crate::pages::keys::short_time;
use crate::server_fns::users::{list_users, ChangeUser, UserView};

#[component]
pub fn UsersPage() -> impl IntoView {
    let query = use_query_map();
    let change = ServerAction::<ChangeUser>::new();
    let problem = problem_of(change.value());
    let users = Resource::new(
        move || (query.read().get("q"), query.read().get("status"), change.version().get()),
        |(q, status, _)| list_users(q, status),
    );
    let q = move || query.read().get("q").unwrap_or_default();
    let status = move || query.read().get("status").unwrap_or_default();
    view! {
        <Title text="Users"/>
        <ClientShell>
            {
                view! {
                    <PageHeader title="Users" subtitle="The people your project notifies."/>
                    <form method="get" class="mb-4 flex flex-wrap items-end gap-3" role="search">
                        <div>
                            <label for="user-q" class="block text-sm font-medium text-slate-800">"Search by email"</label>
                            <input id="user-q" name="q" type="search" value=q class=INPUT/>
                        </div>
                        <div>
                            <label for="user-status" class="block text-sm font-medium text-slate-800">"Status"</label>
                            <select id="user-status" name="status" class=INPUT>
                                {[("", "Any"), ("active", "Active"), ("pending", "Pending"), ("disabled", "Disabled")].into_iter().map(|(v, l)| {
                                    view! { <option value=v selected=move || status() == v>{l}</option> }
                                }).collect_view()}
                            </select>
                        </div>
                        <button type="submit" class=SECONDARY>"Filter"</button>
                    </form>
                    <div class="mb-3"><ProblemNote problem/></div>
                    <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
                        {move || users.get().map(|r| match r {
                            Ok(list) if list.is_empty() => view! { <EmptyState text="No users match."/> }.into_any(),
                            Ok(list) => view! { <UserTable users=list change/> }.into_any(),
                            Err(e) => view! { <p role="alert" class="text-red-800">{crate::server_fns::message(&e)}</p> }.into_any(),
                        })}
                    </Suspense>
                }
            }
        </ClientShell>
    }
}

#[component]
fn UserTable(users: Vec<UserView>, change: ServerAction<ChangeUser>) -> impl IntoView {
    view! {
        <DataTable headers=&["Email", "External id", "Roles", "Status", "Created", ""]>
                    {users.into_iter().map(|u| {
                        let who = u.email.clone().or(u.external_user_id.clone()).unwrap_or_else(|| u.id.clone());
                        let act = |action: &'static str, label: &'static str, id: String| view! {
                            <ActionForm action=change>
                                <input type="hidden" name="id" value=id/>
                                <input type="hidden" name="action" value=action/>
                                <button type="submit" class=SECONDARY>{label}</button>
                            </ActionForm>
                        };
                        let id = u.id.clone();
                        let delete_id = StoredValue::new(u.id.clone());
                        view! {
                            <tr>
                                <td class="px-4 py-2 text-slate-900">{u.email.clone().unwrap_or_default()}</td>
                                <td class="px-4 py-2"><code>{u.external_user_id.clone().unwrap_or_default()}</code></td>
                                <td class="px-4 py-2 text-slate-700">{u.roles.join(", ")}</td>
                                <td class="px-4 py-2"><Badge text=u.status.clone()/></td>
                                <td class="px-4 py-2 text-slate-700">{short_time(&u.created_at)}</td>
                                <td class="px-4 py-2">
                                    <div class="flex flex-wrap justify-end gap-2">
                                        {match u.status.as_str() {
                                            "pending" => act("approve", "Approve", id.clone()).into_any(),
                                            "active" => act("disable", "Disable", id.clone()).into_any(),
                                            _ => act("enable", "Enable", id.clone()).into_any(),
                                        }}
                                        <Confirm label="Delete" question=format!("Delete {who}? Their notifications stay in the log.")>
                                            <ActionForm action=change>
                                                <input type="hidden" name="id" value=delete_id.get_value()/>
                                                <input type="hidden" name="action" value="delete"/>
                                                <button type="submit" class=DANGER>"Confirm delete"</button>
                                            </ActionForm>
                                        </Confirm>
                                    </div>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </DataTable>
    }
}
