//! Roles: the project's roles with how many users hold each; create; delete (forced when held).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::layout::ClientShell;
use crate::components::ui::{
    field_error, problem_of, Card, Confirm, DataTable, EmptyState, Field, PageHeader, ProblemNote, Submit, DANGER,
};
use crate::server_fns::roles::{list_roles, CreateRole, DeleteRole};

#[component]
pub fn RolesPage() -> impl IntoView {
    let create = ServerAction::<CreateRole>::new();
    let delete = ServerAction::<DeleteRole>::new();
    let roles = Resource::new(move || (create.version().get(), delete.version().get()), |_| list_roles());
    let problem = problem_of(create.value());
    let delete_problem = problem_of(delete.value());
    view! {
        <Title text="Roles"/>
        <ClientShell>
            {
                view! {
                    <PageHeader title="Roles" subtitle="Rules notify the users who hold a role."/>
                    <div class="space-y-6">
                        <Card title="Create a role">
                            <ActionForm action=create attr:class="grid gap-4 md:grid-cols-2">
                                <Field label="Role name" name="name" required=true placeholder="support" error=field_error(problem, "name")/>
                                <Field label="Description" name="description" error=field_error(problem, "description")/>
                                <div class="md:col-span-2 space-y-3">
                                    <ProblemNote problem/>
                                    <Submit label="Create role" pending=create.pending()/>
                                </div>
                            </ActionForm>
                        </Card>
                        <ProblemNote problem=delete_problem/>
                        <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
                            {move || roles.get().map(|r| match r {
                                Ok(list) if list.is_empty() => view! { <EmptyState text="No roles yet."/> }.into_any(),
                                Ok(list) => view! {
                                    <DataTable headers=&["Role", "Description", "Users", ""]>
                                                {list.into_iter().map(|role| {
                                                    let id = StoredValue::new(role.id.clone());
                                                    let held = role.user_count > 0;
                                                    view! {
                                                        <tr>
                                                            <td class="px-4 py-2 font-medium text-slate-900"><code>{role.name.clone()}</code></td>
                                                            <td class="px-4 py-2 text-slate-700">{role.description.clone().unwrap_or_default()}</td>
                                                            <td class="px-4 py-2 text-slate-700">{role.user_count}</td>
                                                            <td class="px-4 py-2 text-right">
                                                                <Confirm label="Delete" question=if held {
                                                                    format!("{} user(s) hold {}. Delete it from them too?", role.user_count, role.name)
                                                                } else { format!("Delete {}?", role.name) }>
                                                                    <ActionForm action=delete>
                                                                        <input type="hidden" name="id" value=id.get_value()/>
                                                                        {held.then(|| view! { <input type="hidden" name="force" value="on"/> })}
                                                                        <button type="submit" class=DANGER>"Confirm delete"</button>
                                                                    </ActionForm>
                                                                </Confirm>
                                                            </td>
                                                        </tr>
                                                    }
                                                }).collect_view()}
                                            </DataTable>
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
