//! The platform admin's list of projects.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::layout::PlatformShell;
use crate::components::ui::{Badge, DataTable, EmptyState, PageHeader};
use crate::pages::keys::short_time;
use crate::server_fns::platform::{list_projects, ProjectSummary};

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let projects = Resource::new(|| (), |_| list_projects());
    view! {
        <Title text="Projects"/>
        <PlatformShell>
            {
                view! {
                    <PageHeader title="Projects"/>
                    <Suspense fallback=|| view! { <p class="text-slate-600">"Loading…"</p> }>
                        {move || projects.get().map(|r| match r {
                            Ok(list) => view! { <ProjectTable projects=list/> }.into_any(),
                            Err(e) => view! { <p role="alert" class="text-red-800">{crate::server_fns::message(&e)}</p> }.into_any(),
                        })}
                    </Suspense>
                }
            }
        </PlatformShell>
    }
}

#[component]
fn ProjectTable(projects: Vec<ProjectSummary>) -> impl IntoView {
    if projects.is_empty() {
        return view! { <EmptyState text="No projects yet."/> }.into_any();
    }
    view! {
        <DataTable headers=&["Name", "Slug", "Status", "Plan", "Created"]>
                    {projects.into_iter().map(|p| view! {
                        <tr>
                            <td class="px-4 py-2 font-medium text-slate-900">{p.name}</td>
                            <td class="px-4 py-2"><code>{p.slug}</code></td>
                            <td class="px-4 py-2"><Badge text=p.status/></td>
                            <td class="px-4 py-2 text-slate-700">{p.plan}</td>
                            <td class="px-4 py-2 text-slate-700">{short_time(&p.created_at)}</td>
                        </tr>
                    }).collect_view()}
                </DataTable>
    }
    .into_any()
}
